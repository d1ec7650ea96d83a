// Public types of the client and its replies. Kept apart from the implementation so that the
// declarations an app reads (options, events, summary) sit in one place.
import type { TalStreamError } from './errors';
import type { PlayedPosition } from './playout/types';

/** A monotonic millisecond clock; injectable so tests control time. Default: `performance.now()`. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences are used). */
  now(): number;
}

/** Request headers, or a function (possibly async) that returns them per request (fresh auth tokens). */
export type HeadersOption =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);

// Defined once where they belong (the upload, the playout) and named here too, so the client's
// declarations and index.ts see one type each (two copies became `UploadMode$1` in the .d.ts).
export type { UploadMode } from './transport/upload';
export type { PlayedPosition } from './playout/types';

/**
 * What a Reply needs from an audio output. talstream's `Player` implements it; an app may pass
 * its own (for example to route audio elsewhere) through {@link ClientOptions.player}.
 * Ids come from `startReply()`; events name the reply they concern in `replyId`.
 */
export interface ReplyPlayer {
  /** Opens a new reply in the output queue and returns its id. */
  startReply(): number;
  /** Queues one frame's audio: one Float32Array per channel in [-1, 1). */
  enqueue(replyId: number, frame: { channels: Float32Array[]; sampleRate: number; order: number }): void;
  /** No more frames for this reply: it ends once its queue has drained. */
  endReply(replyId: number): void;
  /**
   * Resolves when the reply's last sample has played (or it was interrupted); with the slowest and
   * fastest rates it played at, if the output time-scales (the summary's `minRate`/`maxRate`).
   */
  whenEnded(replyId: number): Promise<{ playedMs: number; underruns: number; position?: PlayedPosition; minRate?: number; maxRate?: number }>;
  /** Fades out whatever plays now and resolves with how much of it was heard. */
  interrupt(): Promise<PlayedPosition>;
  /** Subscribes to an output event; returns the unsubscribe function. */
  on(event: string, listener: (payload: any) => void): () => void;
  /** Releases the output. Idempotent. */
  destroy(): void | Promise<void>;
}

/** What a finished reply measured. `null` where a figure does not apply (a text-only reply has no audio). */
export interface ReplySummary {
  /** Request start to the first byte of the response body, in ms of the client's clock. */
  firstByteMs: number | null;
  /** First response byte to the player's first audio out (its `audio-start`), in ms. */
  firstAudioMs: number | null;
  /** Milliseconds of this reply's audio that played. */
  playedMs: number;
  /** Underruns (the buffer ran dry mid-reply) during this reply. */
  underruns: number;
  /**
   * The slowest and fastest rates the reply played at (1 and 1 where it was not time-scaled,
   * within 0.9..1.1 by default where it was); `null` when it was interrupted, had no audio, or
   * its player (an app's own {@link ReplyPlayer}) did not report them.
   */
  minRate: number | null;
  maxRate: number | null;
  /** Frames received. */
  frames: number;
  /** The last `question` text the server sent (its transcript of the user), '' if none. */
  question: string;
  /** Every `answer` text received, joined in arrival order (the whole answer, heard or not). */
  answer: string;
  /** True when the reply was cut by `interrupt()` (or a newer ask in `'interrupt'` mode). */
  interrupted: boolean;
  /** Where playback was cut, when interrupted while playing; `null` otherwise. */
  position: PlayedPosition | null;
}

/** The server's transcript of the user: emitted the first time a frame's `question` appears or changes. */
export interface QuestionEvent {
  type: 'question';
  /** The question text. */
  text: string;
}
/**
 * A caption: the `answer` text of a frame, emitted when that frame's audio starts playing (for
 * text-only answers, when it arrives).
 */
export interface TextEvent {
  type: 'text';
  /** The answer text carried by that frame. */
  text: string;
  /** The frame's `order` (for JSON replies, its 1-based index). */
  order: number;
}
/** Every received frame's whole header (extra application fields included), on arrival. */
export interface FrameEvent {
  type: 'frame';
  /** The header as decoded, unknown fields untouched. */
  header: Record<string, unknown>;
  /** The header's `order` (for JSON replies and frames without one, the 1-based index). */
  order: number;
  /** Byte offset of the frame in the response body. */
  offset: number;
}
/** A frame's `url` field, handed over as data: talstream never fetches or navigates to it. */
export interface UrlEvent {
  type: 'url';
  /** The URL text exactly as the server sent it. */
  url: string;
  /** `order` of the frame that carried it. */
  order: number;
}
/** One AnbJson frame of a `responseType: 'json'` reply. */
export interface JsonEvent {
  type: 'json';
  /** The frame's header object. */
  header: Record<string, unknown>;
  /** The payload's JSON value. */
  value: unknown;
  /** Byte offset of the frame in the response body. */
  offset: number;
}
/** The first sample of this reply left the player. */
export interface AudioStartEvent {
  type: 'audio-start';
}
/** The player ran out of audio mid-reply (it fades out and rebuffers). */
export interface UnderrunEvent {
  type: 'underrun';
}
/** Playback resumed after an underrun. */
export interface ResumeEvent {
  type: 'resume';
}
/** The reply finished (played out, or interrupted). Always the last event of a successful reply. */
export interface EndEvent {
  type: 'end';
  /** The reply's figures; the same object `done` resolves with. */
  summary: ReplySummary;
}
/**
 * Something failed. When `fatal`, the reply is over: this is its last event and `done` rejects
 * with the same `error`. Non-fatal errors (a listener of yours threw: code `listener`) are
 * reported and the reply goes on.
 */
export interface ReplyErrorEvent {
  type: 'error';
  /** The error, always a TalStreamError (an HTTP failure is a TalStreamHttpError). */
  error: TalStreamError;
  /** True when the reply ended because of it. */
  fatal: boolean;
}

/** Every event a Reply emits, discriminated by `type`. */
export type ReplyEvent =
  | QuestionEvent
  | TextEvent
  | FrameEvent
  | UrlEvent
  | JsonEvent
  | AudioStartEvent
  | UnderrunEvent
  | ResumeEvent
  | EndEvent
  | ReplyErrorEvent;

/** The event type names. */
export type ReplyEventType = ReplyEvent['type'];
/** The event object of one type. */
export type ReplyEventOf<T extends ReplyEventType> = Extract<ReplyEvent, { type: T }>;
