// talstream public API. Exports only: importing this module has no side effects.
export { TalStreamError, TalStreamHttpError, isTalStreamError } from './errors';
export type { TalStreamErrorCode } from './errors';
export { Resampler } from './dsp/resampler';
export type { ResamplerOptions } from './dsp/resampler';
export * from './protocol/index';
