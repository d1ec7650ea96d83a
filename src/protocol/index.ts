// The wire codec: frames, TALAudio, AnbJson and WAV files.
export { encodeFrame, type Frame } from './frame-codec';
export { FrameDecoder, decodeFrames, DEFAULT_MAX_FRAME_BYTES } from './frame-decoder';
export type { FrameDecoderOptions, DecodeFramesOptions } from './frame-decoder';
export {
  TAL_AUDIO_DEFAULTS,
  TAL_SAMPLE_RATE_MIN,
  TAL_SAMPLE_RATE_MAX,
  TAL_MAX_CHANNELS,
  encodeTalAudio,
  readTalAudio,
  talAudioDurationMs,
} from './tal-audio';
export type { TalAudioHeader } from './tal-audio';
export { encodeJsonFrame, readJsonFrame } from './anb-json';
export { readWav, writeWav } from './wav';
export type { WavAudio, WavFormat, WriteWavOptions } from './wav';
