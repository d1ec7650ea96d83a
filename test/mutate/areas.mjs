// The areas `npm run mutate` measures (issue 12): the pure cores, each with the unit tests that
// are about it. Per area so that a mutant runs only the tests of its area (the DSP simulations are
// slow once instrumented) and the score is printed per folder. A mutant only a test of another
// area would catch counts as survived here: the scores are, if anything, low.
// Not reliability-long-reply: a soak of 30 simulated minutes (11 s plain) per mutant would take the
// run for hours; what it checks per sample, the playout tests check on short replies.
const PLAYOUT_TESTS = ['playout-*.test.ts', 'reliability-stall.test.ts', 'fuzz-playout.test.ts'];

export const AREAS = {
  protocol: {
    mutate: ['src/protocol/**/*.ts'],
    tests: ['protocol-*.test.ts', 'fuzz-decoder.test.ts', 'reply-response.test.ts'],
  },
  // src/playout in three (about 1,650 mutants at some 6 s each per worker: its tests replay network
  // traces), so that each fits a sitting; the scores add up per folder.
  'playout-core': {
    mutate: ['src/playout/playout-core.ts', 'src/playout/reply-queue.ts', 'src/playout/simulate-playout.ts'],
    tests: PLAYOUT_TESTS,
  },
  'playout-policy': {
    mutate: ['src/playout/delay-manager.ts', 'src/playout/delay-history.ts', 'src/playout/rate-policy.ts'],
    tests: PLAYOUT_TESTS,
  },
  'playout-io': {
    // The Player and the message types are main-thread wiring and declarations, tested in browsers.
    mutate: ['src/playout/frame-ring.ts', 'src/playout/frame-check.ts', 'src/playout/playout-events.ts', 'src/playout/jitter-memory.ts', 'src/playout/gain-envelope.ts'],
    tests: PLAYOUT_TESTS,
  },
  conversation: {
    mutate: ['src/capture/vad.ts', 'src/conversation/turn-machine.ts', 'src/conversation/turn-taking.ts'],
    tests: ['capture-vad.test.ts', 'capture-take.test.ts', 'conversation-*.test.ts', 'dsp-near-end-detector.test.ts'],
  },
  // src/dsp in two: the echo canceller's tests simulate seconds of room echo and double talk per
  // mutant (hours on 2 cores, instrumented); the rest of the folder is measured in minutes.
  dsp: {
    mutate: ['src/dsp/fft.ts', 'src/dsp/filter-design.ts', 'src/dsp/resampler.ts', 'src/dsp/time-scaler.ts'],
    tests: ['dsp-fft.test.ts', 'dsp-time-scaler*.test.ts', 'resampler-*.test.ts', 'capture-processor.test.ts'],
  },
  echo: {
    mutate: ['src/dsp/echo-canceller.ts', 'src/dsp/partitioned-filter.ts', 'src/dsp/delay-estimator.ts', 'src/dsp/near-end-detector.ts'],
    tests: ['dsp-echo-canceller.test.ts', 'dsp-near-end-detector.test.ts'],
  },
};
