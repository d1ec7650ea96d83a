// talstream's browser API: what a page needs (the script-tag build, dist/talstream.iife.js, is
// built from this file). Exports only: importing this module has no side effects.
export { TalStreamError, TalStreamHttpError, isTalStreamError } from './errors';
export type { TalStreamErrorCode } from './errors';
export { Resampler } from './dsp/resampler';
export type { ResamplerOptions } from './dsp/resampler';
export { Microphone } from './capture/microphone';
export type { MicrophoneEvents, MicrophoneOptions } from './capture/microphone';
export { Take } from './capture/take';
export type { TakeEndReason, TakeEvents, TakeOptions, TakeResult } from './capture/take';
export { VoiceGate, EndOfTurnSignal, energyClassifier } from './capture/vad';
export type { EndOfTurnSource, GateStep, VadClassifier, VadDecision, VadOptions } from './capture/vad';
export { toFrameStream, recordMediaStream, recordAudioNode, takeFromSamples } from './capture/sources';
export type { AudioSource, FrameStreamOptions } from './capture/sources';
export { postFrames, supportsRequestStreams } from './transport/upload';
export type { PostFramesOptions, UploadMode } from './transport/upload';
export { DEFAULT_RETRY } from './transport/retry';
export type { RetryOptions } from './transport/retry';
export * from './protocol/index';
export { Player } from './playout/player';
export type { PlayerEvents, PlayerOptions, ReplyEnd } from './playout/player';
export type { JitterMemory, JitterOptions, JitterStore, PlayedPosition, PlayerStats, PlayoutPolicy, PlayoutState, PlayoutFrame } from './playout/types';
export { createClient, TalStreamClient } from './client';
export { Conversation } from './conversation/conversation';
export type { ConversationEvents, ConversationState, SpeechVerdict } from './conversation/conversation';
export type { BargeInOptions, ConverseOptions } from './conversation/converse';
export type { AskOptions, ClientEvents, ClientOptions } from './client';
export { Reply } from './reply';
export { AudioContextHost } from './audio/context';
export type { AudioContextHostEvents, AudioContextHostOptions, ContextState } from './audio/context';
export type {
  AudioStartEvent,
  Clock,
  EndEvent,
  FrameEvent,
  HeadersOption,
  JsonEvent,
  QuestionEvent,
  ReplyErrorEvent,
  ReplyEvent,
  ReplyEventOf,
  ReplyEventType,
  ReplyPlayer,
  ReplySummary,
  ResumeEvent,
  TextEvent,
  UnderrunEvent,
  UrlEvent,
} from './types';
