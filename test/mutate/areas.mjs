// The areas `npm run mutate` measures (issue 12): the pure cores, each with the unit tests that
// are about it. Per area so that a mutant runs only the tests of its area (the DSP simulations are
// slow once instrumented) and the score is printed per folder. A mutant only a test of another
// area would catch counts as survived here: the scores are, if anything, low.
export const AREAS = {
  protocol: {
    mutate: ['src/protocol/**/*.ts'],
    tests: ['protocol-*.test.ts', 'fuzz-decoder.test.ts', 'reply-response.test.ts'],
  },
  playout: {
    // The Player and the message types are main-thread wiring and declarations, tested in browsers.
    mutate: ['src/playout/**/*.ts', '!src/playout/player.ts', '!src/playout/playback-protocol.ts', '!src/playout/types.ts'],
    // Not reliability-long-reply: a soak of 30 simulated minutes (11 s plain) per mutant would take
    // the run for hours; what it checks per sample, the playout tests check on short replies.
    tests: ['playout-*.test.ts', 'reliability-stall.test.ts', 'fuzz-playout.test.ts'],
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
