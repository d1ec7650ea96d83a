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
    mutate: ['src/playout/playout-core.ts', 'src/playout/reply-queue.ts', 'src/playout/reply-state.ts', 'src/playout/simulate-playout.ts'],
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
  // src/dsp in parts, each with the tests about its file. The echo canceller's tests simulate
  // seconds of room echo and double talk per mutant (hours on 2 cores, instrumented).
  'dsp-fft': { mutate: ['src/dsp/fft.ts'], tests: ['dsp-fft*.test.ts'] },
  // Only the short exact tests (a direct windowed-sinc convolution in the test, small rate ratios).
  // Not resampler-quality, resampler-stream or capture-processor: they build the tables of real
  // rate pairs (44100 -> 16000: 160 rows of 252 taps, one Bessel series per tap) again and again
  // and resample seconds of audio; instrumented, their first run took 10 minutes (2.5 s plain;
  // resampler-stream 280 s of it, its fast-check property over random chunkings 100 s), so every
  // mutant would cost minutes. A mutant only they would catch counts as survived
  // here: the score is a lower bound. They still run in `npm test`.
  'dsp-resampler': {
    mutate: ['src/dsp/filter-design.ts', 'src/dsp/resampler.ts'],
    tests: ['resampler-exact.test.ts', 'resampler-filter-design.test.ts'],
  },
  // All of the time-scaler's tests: 15 s per run instrumented (1.4 s plain), spread over 27 tests,
  // none dominant (the ramp and sourceIndex tests 2-2.6 s each, the speech and tone files 5 s in
  // all), but every splice mutant runs most of them and a mutant that loops runs to its timeout.
  // Plus 27 exact tests (dsp-time-scaler-exact, -search, -leader: 0.1 s plain in all). Measured:
  // 359 mutants in 14 minutes on a loaded machine (20 time out); 58 minutes before the exact
  // tests, when 126 mutants survived or went uncovered.
  'dsp-time-scaler': { mutate: ['src/dsp/time-scaler.ts'], tests: ['dsp-time-scaler*.test.ts'] },
  // The echo canceller and near-end detector in three parts (the single `echo` area was hours
  // on 2 cores), each with fast exact tests only (0.3-2 s plain per part). Not
  // dsp-echo-canceller or dsp-near-end-detector: they simulate 3-66 s of room echo and double
  // talk per test (12 s plain for both files, minutes per mutant instrumented). A mutant only
  // they would catch counts as survived here: the scores are lower bounds. They still run in
  // `npm test`.
  // The filter parts against oracles written in the tests: the partitioned filter against a
  // direct convolution and a naive DFT of its documented update; the delay estimator on white
  // and coloured noise through known delays.
  'echo-filter': {
    mutate: ['src/dsp/partitioned-filter.ts', 'src/dsp/delay-estimator.ts'],
    tests: ['dsp-partitioned-filter.test.ts', 'dsp-delay-estimator.test.ts'],
  },
  // The canceller on short synthetic echo paths at 8 kHz (a pure delay and gain, two taps; the
  // delay known or estimated), its sizes and option checks, and the room-free 'other rates' test
  // (white noise through a pure delay at 8/44.1/48 kHz, 0.4 s plain, moved from
  // dsp-echo-canceller: it pins how well the step control converges). Most survivors are in Valin's
  // step-size control (stepSizes), whose mutants change how fast and how well it converges, not
  // whether: only the room simulations (left out, above) measure that.
  'echo-canceller': {
    mutate: ['src/dsp/echo-canceller.ts'],
    tests: ['dsp-echo-canceller-exact.test.ts'],
  },
  // The detector's residue model and decision and the barge-in rule on hand-made frame sequences;
  // the speech band against the analytic Butterworth response.
  'echo-detector': {
    mutate: ['src/dsp/near-end-detector.ts', 'src/dsp/barge-in-detector.ts', 'src/dsp/echo-residue.ts', 'src/dsp/speech-band.ts', 'src/dsp/butterworth.ts'],
    tests: ['dsp-near-end-exact.test.ts', 'dsp-echo-residue.test.ts', 'dsp-speech-band.test.ts'],
  },
};
