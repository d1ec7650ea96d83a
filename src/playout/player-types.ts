// The Player's public types: its options, its events and how a reply ends.
import type { TalStreamError } from '../errors';
import type { JitterOptions, PlayedPosition, PlayerStats } from './types';

/** How a reply finished. */
export interface ReplyEnd {
  /** Where playback stopped (the last frame heard and how far into it). */
  position: PlayedPosition;
  /** Underruns during this reply. */
  underruns: number;
  /** Milliseconds of the reply's audio played. */
  playedMs: number;
  /** True when the reply was cut by `interrupt()` (or `destroy()`). */
  interrupted: boolean;
  /**
   * The slowest and fastest rates the reply played at: 1 and 1 where it was not time-scaled,
   * within `jitter.minRate`..`jitter.maxRate` (0.9..1.1) where it was. The reply took about
   * `playedMs / rate` of the context's time, for a rate between the two.
   */
  minRate: number;
  maxRate: number;
}

/** Events of a {@link Player}. */
export interface PlayerEvents {
  /**
   * The first sample of a reply is playing. `timeMs`: when, on the context's clock
   * (`context.currentTime * 1000` scale), exact to the sample.
   */
  'audio-start': { replyId: number; timeMs: number };
  /** The buffer ran dry in the middle of a reply (it resumes when enough audio is queued). */
  underrun: { replyId: number; timeMs: number };
  /** Playback resumed after an underrun. */
  resume: { replyId: number; timeMs: number };
  /** A reply finished: played out after `endReply`, or interrupted. */
  ended: { replyId: number; timeMs: number; position: PlayedPosition; underruns: number; playedMs: number; interrupted: boolean };
  /** Live figures, at most about 10 per second while something plays. */
  stats: PlayerStats;
  /** A failure (e.g. a frame the processor refused as malformed). */
  error: TalStreamError;
}

/** Options of {@link Player.create}. */
export interface PlayerOptions {
  /** Where the audio goes; default `context.destination`. Must belong to the same context. */
  destination?: AudioNode;
  /** Initial volume (linear gain, >= 0). Default 1. */
  volume?: number;
  /** Jitter buffer policy and tuning (defaults need no tuning). */
  jitter?: JitterOptions;
  /** Self-hosted worklet file, for pages whose CSP forbids blob: and data: module URLs. */
  workletUrl?: string;
  /** Output channels (1 or 2). Default 1: mono replies go to every speaker either way. */
  channels?: 1 | 2;
  /** Fade length at start/resume/underrun edges, ms. Default 5. */
  fadeMs?: number;
  /**
   * Stream frames to the audio thread through a SharedArrayBuffer ring instead of messages.
   * Default: where the page is cross-origin isolated (`crossOriginIsolated`: COOP `same-origin`
   * and COEP `require-corp`), where a SharedArrayBuffer can reach a worklet. `false`: messages
   * always. `true`: the ring or an `unsupported` error.
   */
  sharedMemory?: boolean;
}
