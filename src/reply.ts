// A Reply: one ask's answer, from the response bytes to the last sample played, as typed events.
import { CaptionTimeline, type Timers } from './captions';
import { TalStreamError, isTalStreamError } from './errors';
import type { Frame } from './protocol/frame-codec';
import { readJsonFrame } from './protocol/anb-json';
import { readTalAudio } from './protocol/tal-audio';
import { DEFAULT_MAX_BUFFERED_EVENTS, ReplyEventChannel } from './reply-events';
import { responseFrames } from './transport/response';
import type { Clock, PlayedPosition, ReplyEvent, ReplyEventOf, ReplyEventType, ReplyPlayer, ReplySummary } from './types';

/** What a Reply is built from; the client fills it in (tests may too). */
export interface ReplyInit {
  /** Sends the request; resolves with the Response (headers in). Must honour `signal`. */
  request: (signal: AbortSignal) => Promise<Response>;
  /** 'audio' (TALAudio frames, played) or 'json' (AnbJson frames, nothing plays). */
  responseType: 'audio' | 'json';
  /** The clock all figures use. */
  clock: Clock;
  /** The audio output; asked for only when the first audio frame arrives. */
  acquirePlayer?: () => Promise<ReplyPlayer>;
  /** Resolves (or rejects, ignored) when the previous reply is out of the way: playback waits for it. */
  gate?: Promise<unknown>;
  /** The app's AbortSignal: aborting ends the reply with an `aborted` error. */
  signal?: AbortSignal;
  /** Largest frame accepted (bytes). */
  maxFrameBytes?: number;
  /** Events kept for an iterator created late (default 1024). */
  maxBufferedEvents?: number;
  /** Timers for caption scheduling (tests). */
  timers?: Timers;
  /**
   * The output's clock in ms (the AudioContext's `currentTime` x 1000). Captions are timed on it,
   * so they pause with a suspended context and follow an OfflineAudioContext's rendering, and
   * player events that carry the audio-thread time `timeMs` anchor them exactly. Default: `clock`.
   */
  audioClock?: Clock;
  /**
   * When the complete request went out (the later of the fetch call and the end of the upload
   * body), for `firstByteMs`; default: when the request was started.
   */
  requestSentAt?: () => number | undefined;
  /** Ends the take being sent (see {@link Reply.endTurn}). */
  endTurn?: () => void;
}

const NOTHING_PLAYED: PlayedPosition = Object.freeze({ order: 0, sampleOffset: 0, playedMs: 0 });

function asError(e: unknown, fallback: string): TalStreamError {
  if (isTalStreamError(e)) return e;
  return new TalStreamError('network', `${fallback}: ${(e as Error)?.message ?? e}`, { cause: e });
}

/**
 * The answer to one `ask`: an async iterable of {@link ReplyEvent}s, `on()` listeners, `done`,
 * and `interrupt()`.
 *
 * Endings. A reply ends exactly once, with `end` (played out, or cut by `interrupt()`: `done`
 * resolves with the summary) or a fatal `error` (`done` rejects with that same TalStreamError;
 * an app AbortSignal gives code `aborted`). No event follows either. When the stream breaks
 * mid-reply (network, malformed frame), the audio already received still plays out first.
 *
 * `done` never causes an unhandled rejection: the Reply observes it itself, so an app that only
 * iterates or only listens is not punished; `await reply.done` still throws.
 */
export class Reply implements AsyncIterable<ReplyEvent> {
  /** Resolves with the summary after the last sample played; rejects with the fatal error. */
  readonly done: Promise<ReplySummary>;
  private resolveDone!: (s: ReplySummary) => void;
  private rejectDone!: (e: TalStreamError) => void;
  private readonly channel: ReplyEventChannel;
  private readonly abort = new AbortController();
  private readonly captions: CaptionTimeline;
  private readonly clock: Clock;
  /** Set once the ending is decided (interrupt, abort, failure): the run loop stands down. */
  private stopping = false;
  private interruptP: Promise<PlayedPosition | null> | null = null;
  private summary: ReplySummary | null = null;
  private player: ReplyPlayer | null = null;
  private replyId: number | undefined;
  private playerStart: Promise<void> | null = null;
  private pending: { channels: Float32Array[]; sampleRate: number; order: number }[] = [];
  private playbackEnded = false;
  private unsubscribePlayer: (() => void)[] = [];
  private seenOrders = new Set<number>();
  private startedAt = 0;
  private firstByteAt: number | null = null;
  private audioStartAt: number | null = null;
  private frames = 0;
  private underruns = 0;
  private playedMs = 0;
  /** The rates the player reported at the reply's end (played out, not interrupted). */
  private minRate: number | null = null;
  private maxRate: number | null = null;
  /** The last frame handed to the player: where a fully played reply stands. */
  private lastQueued: { order: number; samples: number } = { order: 0, samples: 0 };
  private question = '';
  private lastUrl = '';
  private answers: string[] = [];
  private detachSignal: (() => void) | null = null;

  constructor(private readonly init: ReplyInit) {
    this.clock = init.clock;
    this.done = new Promise<ReplySummary>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    this.channel = new ReplyEventChannel(init.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS, (err, ev) =>
      this.channel.emit({
        type: 'error',
        error: new TalStreamError('listener', `a '${ev.type}' listener threw: ${(err as Error)?.message ?? err}`, { cause: err }),
        fatal: false,
      }),
    );
    this.captions = new CaptionTimeline(
      init.audioClock ?? this.clock,
      (text, order) => this.channel.emit({ type: 'text', text, order }),
      init.timers,
    );
    const signal = init.signal;
    if (signal) {
      const onAbort = () => this.stop(new TalStreamError('aborted', 'the reply was aborted by its AbortSignal', { cause: signal.reason }));
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    // Start on a microtask so the caller can subscribe before anything can happen.
    queueMicrotask(() => void this.run());
  }

  /** Iterates the events; see {@link ReplyEventChannel} for what a late iterator replays (up to 1024). */
  [Symbol.asyncIterator](): AsyncIterator<ReplyEvent> {
    return this.channel.iterate();
  }

  /** Subscribes to one event type; returns the unsubscribe function. A throwing listener becomes a non-fatal `error` event. */
  on<T extends ReplyEventType>(type: T, listener: (event: ReplyEventOf<T>) => void): () => void {
    return this.channel.on(type, listener);
  }

  /** True once `end` or a fatal `error` went out. */
  get ended(): boolean {
    return this.channel.isClosed;
  }

  /** Events dropped before the first iterator was created (the replay buffer was full). */
  get droppedEvents(): number {
    return this.channel.dropped;
  }

  /** Listener count (leak tests). */
  listenerCount(): number {
    return this.channel.listenerCount();
  }

  /**
   * Barge-in: aborts the request, fades the audio out, and resolves with how much of this reply
   * was heard (`{order: 0, sampleOffset: 0, playedMs: 0}` if none). The reply then ends with
   * `end` (summary `interrupted: true`). After the reply ended on its own it changes nothing and
   * resolves with `null`. Calling it again returns the same promise.
   */
  interrupt(): Promise<PlayedPosition | null> {
    if (this.interruptP) return this.interruptP;
    if (this.stopping || this.channel.isClosed) return Promise.resolve(this.summary?.position ?? null);
    this.stopping = true;
    this.abort.abort(new TalStreamError('aborted', 'the reply was interrupted'));
    this.interruptP = (async () => {
      const position = await this.stopAudio();
      this.finish(true, position);
      return position;
    })();
    return this.interruptP;
  }

  /** Ends the user's turn, not the reply: the take being sent (e.g. a MediaStream's, whose track may never end) stops, its last frame goes out, the answer follows. */
  endTurn(): void {
    this.init.endTurn?.();
  }

  /**
   * Ends the reply with `error` (used for AbortSignal, client destroy and fatal player errors):
   * aborts the request and, with `cutAudio`, fades the audio out first (the client skips that
   * when it destroys the player anyway). No-op once the ending is decided.
   */
  stop(error: TalStreamError, cutAudio = true): void {
    if (this.stopping || this.channel.isClosed) return;
    this.stopping = true;
    this.abort.abort(error);
    if (!cutAudio) {
      this.fail(error);
      return;
    }
    void this.stopAudio().then(() => this.fail(error));
  }

  private async run(): Promise<void> {
    let streamError: TalStreamError | null = null;
    try {
      if (this.stopping) return;
      this.startedAt = this.clock.now();
      const response = await this.init.request(this.abort.signal);
      if (this.stopping) {
        response.body?.cancel().catch(() => {});
        return;
      }
      const frames = responseFrames(response, {
        maxFrameBytes: this.init.maxFrameBytes,
        signal: this.abort.signal,
        onFirstByte: () => (this.firstByteAt = this.clock.now()),
      });
      for await (const frame of frames) {
        if (this.stopping) break;
        if (this.onFrame(frame)) break;
      }
    } catch (e) {
      streamError = asError(e, 'the request failed');
    }
    if (this.stopping) return;
    try {
      await this.drain();
    } catch (e) {
      streamError ??= asError(e, 'playback failed');
    }
    if (this.stopping) return;
    if (streamError) {
      this.stopping = true;
      this.fail(streamError);
    } else this.finish(false, null);
  }

  /** Handles one frame; returns true when it ends the reply (`sign: 3`). */
  private onFrame(frame: Frame): boolean {
    this.frames++;
    const header = frame.header;
    const order = typeof header.order === 'number' ? header.order : this.frames;
    this.channel.emit({ type: 'frame', header, order, offset: frame.offset });
    const q = header.question;
    if (typeof q === 'string' && q !== '' && q !== this.question) {
      this.question = q;
      this.channel.emit({ type: 'question', text: q });
    }
    const url = header.url;
    if (typeof url === 'string' && url !== '' && url !== this.lastUrl) {
      this.lastUrl = url;
      this.channel.emit({ type: 'url', url, order });
    }
    if (this.init.responseType === 'json') {
      const { value } = readJsonFrame(frame);
      this.channel.emit({ type: 'json', header, value, offset: frame.offset });
      // The seed's AnbJson answers carry their text in `answer`: surface it as a caption too.
      const answer = (value as { answer?: unknown } | null)?.answer;
      if (typeof answer === 'string' && answer !== '') {
        this.answers.push(answer);
        this.channel.emit({ type: 'text', text: answer, order: this.frames });
      }
      return false;
    }
    const { header: tal, channels } = readTalAudio(frame);
    const text = typeof tal.answer === 'string' ? tal.answer : '';
    if (text) this.answers.push(text);
    // A duplicate order is dropped by the player; its caption must not show twice either.
    if (this.seenOrders.has(order)) return tal.sign === 3;
    this.seenOrders.add(order);
    const samples = channels[0]?.length ?? 0;
    if (samples > 0) {
      this.lastQueued = { order, samples };
      this.queueAudio({ channels, sampleRate: tal.sampleRate, order });
    }
    this.captions.add(order, (samples / tal.sampleRate) * 1000, text);
    return tal.sign === 3;
  }

  private queueAudio(frame: { channels: Float32Array[]; sampleRate: number; order: number }): void {
    this.pending.push(frame);
    if (!this.playerStart) {
      this.playerStart = this.startPlayer();
      // A player that cannot start (worklet blocked, context closed) ends the reply now, not at the end of the body.
      this.playerStart.catch((e) => this.stop(asError(e, 'the audio output failed')));
    } else this.pump();
  }

  private async startPlayer(): Promise<void> {
    if (this.init.gate) await this.init.gate.catch(() => {});
    if (this.stopping) return;
    if (!this.init.acquirePlayer) throw new TalStreamError('unsupported', 'this reply has audio but no audio output was configured');
    const player = await this.init.acquirePlayer();
    if (this.stopping) return;
    this.player = player;
    const id = (this.replyId = player.startReply());
    const mine = (p: unknown) => (p as { replyId?: number } | undefined)?.replyId === undefined || (p as { replyId: number }).replyId === id;
    // When the output reports the audio-thread time of an event, captions anchor on it exactly.
    const at = (p: unknown) => (this.init.audioClock ? (p as { timeMs?: number } | undefined)?.timeMs : undefined);
    this.unsubscribePlayer.push(
      player.on('audio-start', (p) => {
        if (!mine(p) || this.audioStartAt !== null) return;
        this.audioStartAt = this.clock.now();
        this.channel.emit({ type: 'audio-start' });
        this.captions.audioStarted(at(p));
      }),
      player.on('underrun', (p) => {
        if (!mine(p)) return;
        this.underruns++;
        this.channel.emit({ type: 'underrun' });
        this.captions.underrun();
      }),
      player.on('resume', (p) => {
        if (!mine(p)) return;
        this.channel.emit({ type: 'resume' });
        this.captions.resumed(at(p));
      }),
      player.on('error', (e) => {
        const err = (e as { error?: unknown })?.error ?? e;
        if (!mine(e) && (e as { replyId?: number })?.replyId !== undefined) return;
        this.stop(asError(err, 'the audio output failed'));
      }),
    );
    this.pump();
  }

  private pump(): void {
    if (!this.player || this.replyId === undefined || this.stopping) return;
    const frames = this.pending;
    this.pending = [];
    for (const f of frames) this.player.enqueue(this.replyId, f);
  }

  /** After the body: let what was received play out. */
  private async drain(): Promise<void> {
    if (!this.playerStart) {
      this.captions.flush();
      return;
    }
    await this.playerStart;
    if (this.stopping || !this.player || this.replyId === undefined) return;
    this.pump();
    this.player.endReply(this.replyId);
    const ended = await this.player.whenEnded(this.replyId);
    this.playbackEnded = true;
    if (this.stopping) return;
    this.playedMs = ended.playedMs;
    this.underruns = Math.max(this.underruns, ended.underruns);
    this.minRate = ended.minRate ?? null;
    this.maxRate = ended.maxRate ?? null;
    this.captions.flush();
  }

  private async stopAudio(): Promise<PlayedPosition> {
    this.captions.close();
    if (!this.player || this.replyId === undefined || this.playbackEnded) {
      return this.playbackEnded
        ? { order: this.lastQueued.order, sampleOffset: this.lastQueued.samples, playedMs: this.playedMs }
        : { ...NOTHING_PLAYED };
    }
    try {
      const pos = await this.player.interrupt();
      this.playbackEnded = true;
      this.playedMs = pos.playedMs;
      return pos;
    } catch {
      return { ...NOTHING_PLAYED };
    }
  }

  private summarize(interrupted: boolean, position: PlayedPosition | null): ReplySummary {
    return {
      firstByteMs: this.firstByteAt === null ? null : this.firstByteAt - (this.init.requestSentAt?.() ?? this.startedAt),
      firstAudioMs: this.audioStartAt === null || this.firstByteAt === null ? null : this.audioStartAt - this.firstByteAt,
      playedMs: this.playedMs,
      underruns: this.underruns,
      minRate: interrupted ? null : this.minRate,
      maxRate: interrupted ? null : this.maxRate,
      frames: this.frames,
      question: this.question,
      answer: this.answers.join(''),
      interrupted,
      position,
    };
  }

  private cleanup(): void {
    this.captions.close();
    for (const off of this.unsubscribePlayer) off();
    this.unsubscribePlayer = [];
    this.pending = [];
    this.detachSignal?.();
    this.detachSignal = null;
  }

  private finish(interrupted: boolean, position: PlayedPosition | null): void {
    if (this.channel.isClosed) return;
    this.cleanup();
    const summary = (this.summary = this.summarize(interrupted, position));
    this.channel.emit({ type: 'end', summary }, true);
    this.resolveDone(summary);
  }

  private fail(error: TalStreamError): void {
    if (this.channel.isClosed) return;
    this.cleanup();
    this.channel.emit({ type: 'error', error, fatal: true }, true);
    this.rejectDone(error);
  }
}
