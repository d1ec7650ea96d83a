// createClient: what a web developer holds. It owns the AudioContext, the one Player, the
// microphones and the replies, and ties capture -> upload -> response -> playback together.
import { AudioContextHost, type ContextState } from './audio/context';
import { Microphone, type MicrophoneOptions } from './capture/microphone';
import { toFrameStream, type AudioSource } from './capture/sources';
import type { Take } from './capture/take';
import type { Conversation } from './conversation/conversation';
import { converse, type ConverseOptions } from './conversation/converse';
import type { AskOptions, ClientEvents, ClientOptions } from './client-options';
import { Emitter } from './emitter';
import { TalStreamError } from './errors';
import { Player, type PlayerStats } from './playout/player';
import { isRiffWave } from './protocol/wav';
import { Reply } from './reply';
import { requestWithRetry } from './transport/retry';
import { postFrames } from './transport/upload';
import { onEnd, withQuestion } from './transport/frame-stream';
import type { Clock, PlayedPosition, ReplyPlayer } from './types';

export type { AskOptions, ClientEvents, ClientOptions } from './client-options';

const defaultClock: Clock = { now: () => performance.now() };

/**
 * A talstream client: one AudioContext, one Player, any number of microphones and asks.
 * Create it with {@link createClient}. Nothing touches Web Audio until `unlock()`, `microphone()`
 * or the first spoken reply needs it.
 */
export class TalStreamClient extends Emitter<ClientEvents> {
  private readonly host: AudioContextHost;
  private readonly clock: Clock;
  private playerP: Promise<ReplyPlayer> | null = null;
  private playerCtx: BaseAudioContext | null = null;
  private playerOff: (() => void) | null = null;
  private mics = new Set<Microphone>();
  private conversations = new Set<Conversation>();
  private replies = new Set<Reply>();
  private latest: Reply | null = null;
  private destroyP: Promise<void> | null = null;
  private vol: number;

  constructor(readonly options: ClientOptions) {
    super();
    if (!options || typeof options.url !== 'string' || options.url === '') {
      throw new TalStreamError('bad-argument', 'createClient needs a `url` (the endpoint to POST frames to)');
    }
    this.clock = options.clock ?? defaultClock;
    this.vol = options.volume ?? 1;
    this.host = new AudioContextHost({
      audioContext: options.audioContext,
      AudioContext: options.AudioContext,
      contextOptions: options.audioContextOptions,
      gestureTarget: options.gestureTarget,
      mediaDevices: options.mediaDevices,
    });
    this.host.on('state', (s) => this.emit('audio-state', s));
    this.host.on('error', (e) => this.emit('error', e));
    this.host.on('output-lost', (e) => this.emit('audio-output-lost', e));
    this.host.on('replaced', ({ context }) => {
      // Everything built on the closed context is dead: drop it; the next reply rebuilds.
      this.dropPlayer();
      for (const mic of this.mics) mic.destroy();
      this.mics.clear();
      this.emit('audio-replaced', { context });
    });
  }

  /** The client's AudioContext, or null before anything needed one. */
  get audioContext(): BaseAudioContext | null {
    return this.host.context;
  }

  /**
   * Playback volume (linear gain >= 0; 1 = as sent). Applies now to the player (changes glide over
   * a few ms) and to any player created later. A custom `player` without `volume` ignores it.
   */
  get volume(): number {
    return this.vol;
  }
  set volume(v: number) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new TalStreamError('bad-argument', `volume must be a finite number >= 0, got ${String(v)}`);
    }
    this.vol = v;
    const custom = this.options.player;
    const player = custom && typeof custom !== 'function' ? Promise.resolve(custom) : this.playerP;
    player?.then(
      (p) => {
        if ('volume' in p) (p as { volume: number }).volume = v;
      },
      () => {},
    );
  }

  /** The reply asked last, until it ended. */
  get current(): Reply | null {
    return this.latest && !this.latest.ended ? this.latest : null;
  }

  /**
   * Creates (if needed) and starts the AudioContext. Call it from a click, tap or key handler:
   * browsers only start audio in a user gesture. Resolves with 'running'. It also starts loading
   * the player so the first answer starts sooner.
   * @throws TalStreamError `audio-context` when the browser keeps the context suspended
   */
  async unlock(): Promise<ContextState> {
    const state = await this.host.unlock();
    if ((this.options.responseType ?? 'audio') === 'audio') this.acquirePlayer().catch(() => {});
    return state;
  }

  /**
   * Plays replies to the output device `sinkId` (from `enumerateDevices()`, kind 'audiooutput';
   * '' = the system default) where the browser has `AudioContext.setSinkId`. When that device
   * disappears, playback moves back to the default and `audio-output-lost` is emitted.
   * @throws TalStreamError `unsupported`, `audio-context` (unknown id or not allowed)
   */
  setSinkId(sinkId: string): Promise<void> {
    return this.host.setSinkId(sinkId);
  }

  /**
   * A microphone on the client's context (getUserMedia; see the Microphone docs for options).
   * The client destroys it on `destroy()` (tracks stopped).
   */
  async microphone(options: MicrophoneOptions = {}): Promise<Microphone> {
    const ctx = this.host.ensure() as AudioContext;
    const mic = await Microphone.create(ctx, {
      workletUrl: this.options.workletUrl,
      sampleRate: this.options.sampleRate,
      audioType: this.options.audioType,
      frameMs: this.options.frameMs,
      ...options,
    });
    if (this.destroyP) {
      mic.destroy();
      throw new TalStreamError('destroyed', 'the client was destroyed');
    }
    this.mics.add(mic);
    return mic;
  }

  /**
   * Sends `audio` (a take, a WAV Blob/File/ArrayBuffer/Uint8Array, an AudioBuffer,
   * `{samples, sampleRate}`, a MediaStream, or `null` with `options.question`) and returns the
   * {@link Reply} at once. A MediaStream's turn ends when its tracks end, by `options.vad`,
   * `endOfTurn` or `maxDurationMs`, or with `reply.endTurn()`. A reply still playing is
   * interrupted (or queued behind, with `onNewAsk: 'queue'`). Failures (bad arguments, a destroyed client) arrive as the reply's
   * `error` event and rejected `done`, never as a throw.
   */
  ask(audio: AudioSource | null, options: AskOptions = {}): Reply {
    const responseType = options.responseType ?? this.options.responseType ?? 'audio';
    const problem = this.destroyP
      ? new TalStreamError('destroyed', 'the client was destroyed')
      : audio == null && !options.question
        ? new TalStreamError('bad-argument', 'ask() needs audio, or `null` with a `question`')
        : null;
    const previous = this.current;
    let gate: Promise<unknown> | undefined;
    if (previous && !problem) gate = (this.options.onNewAsk ?? 'interrupt') === 'queue' ? previous.done : previous.interrupt();
    let fetchAt: number | undefined;
    let bodyEndAt: number | undefined;
    // reply.endTurn() may come before the take exists (worklet loading, a queued ask): remember it.
    let take: Take | null = null;
    let turnEnded = false;
    const endTake = (t: Take) => void t.stop().catch(() => {});
    const reply = new Reply({
      responseType,
      clock: this.clock,
      gate,
      signal: options.signal,
      maxFrameBytes: this.options.maxFrameBytes,
      maxBufferedEvents: this.options.maxBufferedEvents,
      acquirePlayer: responseType === 'audio' ? () => this.acquirePlayer() : undefined,
      // Captions run on the context's clock (they pause with it); a ready-made custom output,
      // which may not play on our context, keeps the client clock.
      audioClock:
        this.options.player && typeof this.options.player !== 'function' ? undefined : { now: () => (this.playerCtx?.currentTime ?? 0) * 1000 },
      requestSentAt: () => (fetchAt === undefined ? undefined : Math.max(fetchAt, bodyEndAt ?? fetchAt)),
      endTurn: () => {
        turnEnded = true;
        if (take) endTake(take);
      },
      request: async (signal) => {
        if (problem) throw problem;
        const frames = this.requestFrames(audio, options, responseType, signal, (t) => {
          take = t;
          if (turnEnded) endTake(t);
        });
        const fetchImpl = this.options.fetch ?? globalThis.fetch.bind(globalThis);
        const post = (body: AsyncIterable<Uint8Array>) =>
          postFrames({
            url: options.url ?? this.options.url,
            frames: body,
            upload: this.options.upload ?? 'auto',
            headers: this.options.headers,
            credentials: this.options.credentials,
            signal,
            fetch: ((input: RequestInfo | URL, init?: RequestInit) => {
              // The last call counts: 'auto' may retry a failed streaming upload as buffered.
              fetchAt = this.clock.now();
              return fetchImpl(input, init);
            }) as typeof fetch,
          });
        const body = onEnd(frames, () => (bodyEndAt = this.clock.now()));
        const retry = this.options.retry === true ? {} : this.options.retry || null;
        // Only before any byte of an answer came back (see transport/retry.ts).
        return retry ? requestWithRetry(post, { ...retry, frames: body, signal }) : post(body);
      },
    });
    if (!problem) {
      this.latest = reply;
      this.replies.add(reply);
      const forget = () => this.replies.delete(reply);
      reply.done.then(forget, forget);
    }
    return reply;
  }

  /**
   * Starts a hands-free conversation: the microphone stays open, each turn the user speaks is
   * asked as it ends, and the user may cut the answer (barge-in); talstream removes the answer's
   * echo from what the microphone hears using the player's exact output. Returns at once; see
   * `ready`, the `state`, `turn`, `barge-in` and `error` events, and `stop()`.
   * @throws TalStreamError `bad-argument` for bad options, `destroyed` after destroy()
   */
  converse(options: ConverseOptions = {}): Conversation {
    if (this.destroyP) throw new TalStreamError('destroyed', 'the client was destroyed');
    const convo = converse(
      {
        sampleRate: this.options.sampleRate ?? 16000,
        frameMs: this.options.frameMs ?? 20,
        audioType: this.options.audioType ?? 'int16',
        workletUrl: this.options.workletUrl,
        context: () => this.host.ensure() as AudioContext,
        microphone: (o) => this.microphone(o),
        player: () => this.acquirePlayer(),
        ask: (take, url) => this.ask(take, { url }),
      },
      options,
    );
    this.conversations.add(convo);
    void convo.ready.catch(() => {});
    convo.on('state', ({ state }) => {
      if (state === 'stopped') this.conversations.delete(convo);
    });
    return convo;
  }

  /** Interrupts the reply playing now (see {@link Reply.interrupt}); null when none plays. */
  interrupt(): Promise<PlayedPosition | null> {
    return this.current ? this.current.interrupt() : Promise.resolve(null);
  }

  /**
   * Aborts every reply (`aborted`), stops every microphone's tracks, destroys the player and
   * closes the AudioContext if the client created it. Idempotent; later asks fail `destroyed`.
   */
  destroy(): Promise<void> {
    if (this.destroyP) return this.destroyP;
    this.destroyP = (async () => {
      const err = new TalStreamError('aborted', 'the client was destroyed');
      for (const convo of this.conversations) await convo.stop();
      this.conversations.clear();
      for (const reply of this.replies) reply.stop(err, false);
      this.replies.clear();
      this.latest = null;
      for (const mic of this.mics) mic.destroy();
      this.mics.clear();
      await this.dropPlayer();
      await this.host.destroy();
      this.removeAllListeners();
    })();
    return this.destroyP;
  }

  private requestFrames(
    audio: AudioSource | null,
    options: AskOptions,
    responseType: string,
    signal: AbortSignal,
    onTake: (take: Take) => void,
  ): AsyncIterable<Uint8Array> {
    const frames = toFrameStream(audio, {
      sampleRate: this.options.sampleRate ?? 16000,
      audioType: this.options.audioType ?? 'int16',
      frameMs: this.options.frameMs ?? 20,
      question: options.question,
      keepRate: options.keepRate,
      context: this.sourceContext(audio, responseType),
      workletUrl: this.options.workletUrl,
      signal,
      vad: options.vad,
      endOfTurn: options.endOfTurn,
      maxDurationMs: options.maxDurationMs,
      onTake,
    });
    // A take recorded before the ask carries its own (often empty) question: add the typed one.
    return options.question ? withQuestion(frames, options.question) : frames;
  }

  /**
   * The context a source needs: a MediaStream is captured in one, a compressed file is decoded
   * with one. A spoken reply creates it anyway; a text-only reply of a WAV needs none.
   */
  private sourceContext(audio: AudioSource | null, responseType: string): BaseAudioContext | undefined {
    if (this.host.context && this.host.context.state !== 'closed') return this.host.context;
    const custom = this.options.player && typeof this.options.player !== 'function';
    if (responseType === 'audio' && !custom) return this.host.ensure();
    if (audio === null) return undefined;
    const isStream = typeof (audio as MediaStream).getAudioTracks === 'function';
    const bytes = audio instanceof ArrayBuffer ? new Uint8Array(audio) : audio instanceof Uint8Array ? audio : null;
    const compressed =
      (bytes !== null && !isRiffWave(bytes)) || (typeof Blob !== 'undefined' && audio instanceof Blob && !/wav/i.test(audio.type));
    if (isStream) return this.host.ensure();
    if (!compressed) return undefined;
    try {
      return this.host.ensure();
    } catch {
      // No Web Audio here: a WAV still works without it; anything else fails in the decoder, with its reason.
      return undefined;
    }
  }

  private acquirePlayer(): Promise<ReplyPlayer> {
    const custom = this.options.player;
    // A ready-made output needs no context of ours.
    if (custom && typeof custom !== 'function') return Promise.resolve(custom);
    const ctx = this.host.ensure();
    if (this.playerP && this.playerCtx === ctx) return this.playerP;
    void this.dropPlayer();
    this.playerCtx = ctx;
    const dest = this.options.destination && this.options.destination.context === ctx ? this.options.destination : undefined;
    const p: Promise<ReplyPlayer> = custom
      ? Promise.resolve(typeof custom === 'function' ? custom(ctx) : custom)
      : Player.create(ctx, {
          destination: dest,
          volume: this.vol,
          jitter: this.options.jitter,
          workletUrl: this.options.workletUrl,
        });
    this.playerP = p;
    p.then(
      (player) => {
        if (this.playerP !== p) return;
        const offs = [player.on('stats', (s: PlayerStats) => this.emit('stats', s))];
        this.playerOff = () => offs.forEach((off) => off());
      },
      () => {
        // Retry on the next reply (a workletUrl may be fixed, the context replaced).
        if (this.playerP === p) this.playerP = null;
      },
    );
    return p;
  }

  private async dropPlayer(): Promise<void> {
    const p = this.playerP;
    this.playerP = null;
    this.playerCtx = null;
    this.playerOff?.();
    this.playerOff = null;
    if (!p) return;
    try {
      const player = await p;
      // A custom player is the app's: it decides its lifetime.
      if (!this.options.player) await player.destroy();
    } catch {
      // It never started: nothing to release.
    }
  }
}

/**
 * Creates a client for the endpoint at `options.url`.
 *
 * ```js
 * const client = TalStream.createClient({ url: '/ask' });
 * await client.unlock();            // in a click handler
 * const reply = client.ask(take);   // events, captions, done
 * ```
 */
export function createClient(options: ClientOptions): TalStreamClient {
  return new TalStreamClient(options);
}
