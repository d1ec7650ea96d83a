// The public options and events of the client (kept apart so client.ts holds behaviour only).
import type { ContextState } from './audio/context';
import type { EndOfTurnSource, VadOptions } from './capture/vad';
import type { JitterOptions, PlayerStats } from './playout/player';
import type { TalStreamError } from './errors';
import type { RetryOptions } from './transport/retry';
import type { Clock, HeadersOption, ReplyPlayer, UploadMode } from './types';

/** Options of {@link createClient}. Only `url` is required. */
export interface ClientOptions {
  /** The endpoint that answers a POST of TALAudio frames with a stream of frames (e.g. '/ask'). */
  url: string;
  /** Request headers, or a function (sync or async) returning them per request, e.g. a fresh auth token. */
  headers?: HeadersOption;
  /** Fetch credentials mode (default: the browser's, 'same-origin'). */
  credentials?: RequestCredentials;
  /** The fetch implementation (default: `globalThis.fetch`, read at call time). */
  fetch?: typeof fetch;
  /**
   * Use this context instead of creating one. The client never closes a context it did not create.
   * An OfflineAudioContext works (tests render replies deterministically with one).
   */
  audioContext?: BaseAudioContext;
  /** The AudioContext constructor used when the client creates its context (default: `globalThis.AudioContext`). */
  AudioContext?: new (options?: AudioContextOptions) => AudioContext;
  /** Options for a context the client creates (`latencyHint`, `sinkId`, ...). */
  audioContextOptions?: AudioContextOptions;
  /** Where replies play (default: the context's destination). Must belong to `audioContext`. */
  destination?: AudioNode;
  /** Initial playback volume, linear gain >= 0 (default 1); change it later with `client.volume`. */
  volume?: number;
  /** Jitter-buffer options of the player (target depth bounds, adaptation); see the Player docs. */
  jitter?: JitterOptions;
  /** How uploads go out: 'auto' (default: stream where possible, else buffered), 'stream' or 'buffered'. */
  upload?: UploadMode;
  /** Sample rate of the uploaded audio, Hz (default 16000, what the seed's servers expect). */
  sampleRate?: number;
  /** Sample type of the uploaded audio (default 'int16'). */
  audioType?: 'int16' | 'int32';
  /** Audio per uploaded frame, ms (default 20). */
  frameMs?: number;
  /** URL of a self-hosted `talstream.worklet.js`, for pages whose CSP forbids blob: and data: scripts. */
  workletUrl?: string;
  /** What the endpoint answers: 'audio' (TALAudio frames, played; default) or 'json' (AnbJson frames, text only). */
  responseType?: 'audio' | 'json';
  /** Largest response frame accepted, bytes (default 16 MiB); a larger declared length fails at once. */
  maxFrameBytes?: number;
  /** What a new ask does to a reply still playing: 'interrupt' it (default) or 'queue' behind it. */
  onNewAsk?: 'interrupt' | 'queue';
  /** The clock for all timings (default `performance.now()`). */
  clock?: Clock;
  /** Events each reply keeps for an iterator created late (default 1024; see Reply). */
  maxBufferedEvents?: number;
  /**
   * Send the request again when it failed before any byte of an answer came back: a network
   * failure (refused, reset) or HTTP 502/503/504. `true` for the defaults (2 retries, 250 ms then
   * 500 ms), or {@link RetryOptions}. Never retried once a response arrived: a reply that breaks
   * mid-stream ends with its error (its audio may have played; the server may have acted).
   * Default: off.
   */
  retry?: boolean | RetryOptions;
  /**
   * Where gestures are listened for to restart a suspended or interrupted AudioContext (default:
   * `document`); `null` turns that recovery off.
   */
  gestureTarget?: EventTarget | null;
  /**
   * Injected `navigator.mediaDevices`, where the client watches output devices (an output chosen
   * with `setSinkId` that disappears is replaced by the default). Default: `navigator.mediaDevices`.
   */
  mediaDevices?: MediaDevices | null;
  /**
   * Advanced: a custom audio output instead of talstream's Player (its interface is
   * {@link ReplyPlayer}), or a factory called with the client's context.
   */
  player?: ReplyPlayer | ((context: BaseAudioContext) => ReplyPlayer | Promise<ReplyPlayer>);
}

/** Options of {@link TalStreamClient.ask}. */
export interface AskOptions {
  /** Typed text sent in the frames' `question` (beside the audio, or alone with `audio = null`). */
  question?: string;
  /** Aborting ends the reply with an `aborted` error (request aborted, audio cut). */
  signal?: AbortSignal;
  /** Override the client's `url` for this ask. */
  url?: string;
  /** Override the client's `responseType` for this ask. */
  responseType?: 'audio' | 'json';
  /** Upload a file or buffer at its own sample rate instead of resampling to `sampleRate`. */
  keepRate?: boolean;
  /**
   * A MediaStream's turn ends when the built-in energy detector hears the end of speech (`true` =
   * defaults, or {@link VadOptions}: threshold, hangover, pre-roll...). Only live sources (a
   * MediaStream) use it; a Take has its own.
   */
  vad?: boolean | VadOptions;
  /** A MediaStream's turn ends when this source fires (e.g. @ricky0123/vad-web's onSpeechEnd). Live sources only. */
  endOfTurn?: EndOfTurnSource;
  /** A MediaStream's turn ends after this much audio, ms (default 300000). Live sources only. */
  maxDurationMs?: number;
}

/** Events of the client itself (each reply has its own). */
export interface ClientEvents {
  /** The AudioContext changed state; `recovering` while it waits for a gesture or visibility to restart. */
  'audio-state': { state: ContextState; previous: ContextState; recovering: boolean };
  /** The AudioContext was closed and replaced; microphones on the old one were released (create new ones). */
  'audio-replaced': { context: BaseAudioContext };
  /**
   * The output device chosen with `client.setSinkId` disappeared (unplugged); replies now play
   * to the default device.
   */
  'audio-output-lost': { lostSinkId: string };
  /** Live player figures (buffered ms, target ms, underruns, played ms), a few times a second. */
  stats: PlayerStats;
  /** A failure outside any reply (context recovery, player). */
  error: TalStreamError;
}
