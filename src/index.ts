// talstream public API (the ESM build, dist/talstream.mjs): the browser API, and the pure playout
// core with its simulator, for Node and offline analysis (benchmarks, tuning on recorded arrivals).
// The script-tag build leaves these out: a page plays through the Player, whose worklet carries its
// own copy of the core (7.8 KB gzip less). Exports only: importing this module has no side effects.
export * from './browser';
export { PlayoutCore } from './playout/playout-core';
export type { PlayoutCoreOptions, PlayoutPushResult } from './playout/playout-core';
export { simulatePlayout, oracleDelayMs } from './playout/simulate-playout';
export type { PlayoutTrace, SimulatePlayoutOptions, SimulatedReply } from './playout/simulate-playout';
