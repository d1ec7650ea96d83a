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
    tests: ['playout-*.test.ts', 'reliability-stall.test.ts', 'reliability-long-reply.test.ts', 'fuzz-playout.test.ts'],
  },
  conversation: {
    mutate: ['src/capture/vad.ts', 'src/conversation/turn-machine.ts', 'src/conversation/turn-taking.ts'],
    tests: ['capture-vad.test.ts', 'capture-take.test.ts', 'conversation-*.test.ts', 'dsp-near-end-detector.test.ts'],
  },
  dsp: {
    mutate: ['src/dsp/**/*.ts'],
    tests: ['dsp-*.test.ts', 'resampler-*.test.ts', 'capture-processor.test.ts'],
  },
};
