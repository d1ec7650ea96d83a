// talstream public API. Exports only: importing this module has no side effects.
export { TalStreamError, TalStreamHttpError, isTalStreamError } from './errors';
export type { TalStreamErrorCode } from './errors';
export { Resampler } from './dsp/resampler';
export type { ResamplerOptions } from './dsp/resampler';
export * from './protocol/index';
export { PlayoutCore } from './playout/playout-core';
export type { PlayoutCoreOptions, PlayoutPushResult } from './playout/playout-core';
export { simulatePlayout, oracleDelayMs } from './playout/simulate-playout';
export type { PlayoutTrace, SimulatePlayoutOptions, SimulatedReply } from './playout/simulate-playout';
export { Player } from './playout/player';
export type { PlayerEvents, PlayerOptions, ReplyEnd } from './playout/player';
export type { JitterOptions, PlayedPosition, PlayerStats, PlayoutPolicy, PlayoutState, PlayoutFrame } from './playout/types';
