/**
 * Player: the main-thread side of streamed playback. It owns one AudioWorkletNode running the
 * 'talstream-playback' processor (the PlayoutCore on the audio clock) and streams frames to it
 * through a SharedArrayBuffer ring where the page is cross-origin isolated, else by messages with
 * transferred buffers; either way a streamed reply costs no message back per frame. Positions,
 * underruns and ends are measured on the audio thread and arrive as events, which is why
 * `interrupt()` and `whenEnded()` return promises.
 */
import { loadWorklet } from '../audio/worklet-loader';
import { Emitter } from '../emitter';
import { TalStreamError } from '../errors';
import { FrameRing, RING_BEGIN, RING_END, RING_FRAME } from './frame-ring';
import { validateFrame } from './playout-core';
import {
  PLAYBACK_PROCESSOR,
  type PlaybackCommand,
  type PlaybackMessage,
  type PlaybackProcessorOptions,
} from './playback-protocol';
import { parseMemory, resolveStore } from './jitter-memory';
import type { PlayerEvents, PlayerOptions, ReplyEnd } from './player-types';
import type { JitterStore, PlayedPosition, PlayerStats } from './types';

export type { JitterOptions, PlayedPosition, PlayerStats } from './types';
export type { PlayerEvents, PlayerOptions, ReplyEnd } from './player-types';

type Pending = { resolve: (m: Extract<PlaybackMessage, { type: 'ack' }>) => void; reject: (e: unknown) => void };

export class Player extends Emitter<PlayerEvents> {
  /** The AudioWorkletNode that plays (connect it elsewhere if you like; it starts connected to `destination`). */
  readonly node: AudioWorkletNode;
  readonly context: BaseAudioContext;
  private seq = 0;
  private replyCounter = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly enders = new Map<number, { resolve: (e: ReplyEnd) => void; reject: (e: unknown) => void; promise: Promise<ReplyEnd> }>();
  private readonly endedResults = new Map<number, ReplyEnd>();
  private lastStats: PlayerStats = { bufferedMs: 0, targetMs: 0, rate: 1, underruns: 0, underrunMs: 0, playedMs: 0, state: 'idle' };
  private vol: number;
  private destroyed = false;
  private tapNode: MediaStreamAudioDestinationNode | null = null;
  private readonly pcmListeners = new Set<(samples: Float32Array, timeMs: number) => void>();
  private readonly ring: FrameRing | null;
  /** `jitter.persist`, resolved (null: none). */
  private readonly store: JitterStore | null;
  /** How frames reach the audio thread: `'shared-memory'` (the ring) or `'messages'`. */
  readonly transport: 'shared-memory' | 'messages';

  /** Loads the worklet module (once per context) and creates a Player on `context`. */
  static async create(context: BaseAudioContext, options: PlayerOptions = {}): Promise<Player> {
    await loadWorklet(context, { workletUrl: options.workletUrl });
    return new Player(context, options);
  }

  /** Use {@link Player.create} unless the worklet module is already loaded on `context`. */
  constructor(context: BaseAudioContext, options: PlayerOptions = {}) {
    super();
    const channels = options.channels ?? 1;
    if (channels !== 1 && channels !== 2) throw new TalStreamError('bad-argument', `channels must be 1 or 2, got ${String(channels)}`);
    this.vol = checkVolume(options.volume ?? 1);
    this.context = context;
    const canShare = typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    if (options.sharedMemory === true && !canShare) {
      throw new TalStreamError('unsupported', 'sharedMemory: true needs a cross-origin isolated page (COOP same-origin, COEP require-corp) with SharedArrayBuffer');
    }
    this.ring = (options.sharedMemory ?? canShare) && canShare ? FrameRing.create() : null;
    this.transport = this.ring ? 'shared-memory' : 'messages';
    // persist may hold functions (not cloneable) and storage exists only here: resolve it on this thread.
    const { persist, ...jitter } = options.jitter ?? {};
    this.store = resolveStore(persist);
    const processorOptions: PlaybackProcessorOptions = {
      channels,
      jitter: options.jitter ? jitter : undefined,
      volume: this.vol,
      fadeMs: options.fadeMs,
      ring: this.ring?.buffer,
      memory: this.store ? parseMemory(this.store.get()) : undefined,
      persist: this.store !== null,
    };
    this.node = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [channels],
      processorOptions,
    });
    this.node.port.onmessage = (e: MessageEvent<PlaybackMessage>) => this.message(e.data);
    this.node.connect(options.destination ?? context.destination);
  }

  /** Opens a new reply and returns its id; its frames follow with {@link Player.enqueue}. */
  startReply(): number {
    this.alive();
    const replyId = ++this.replyCounter;
    if (!this.ring?.write(RING_BEGIN, replyId, 0, 0, null, this.seq)) this.post({ type: 'begin', seq: 0, replyId, quiet: true });
    return replyId;
  }

  /**
   * Queues one frame of reply `replyId`: copied into the shared ring, or else its channel buffers
   * are transferred to the audio thread (the arrays are detached afterwards; views into a larger
   * buffer are copied first). Frames play in `order`; duplicates and frames of a finished or
   * interrupted reply are dropped. Nothing comes back per frame: a full queue or a frame the
   * processor refuses is reported as an `error` event, and so is a malformed frame (`bad-argument`).
   */
  enqueue(replyId: number, audio: { channels: Float32Array[]; sampleRate: number; order: number }): void {
    this.alive();
    try {
      validateFrame(audio);
    } catch (err) {
      this.emit('error', err as TalStreamError);
      return;
    }
    if (this.ring?.write(RING_FRAME, replyId, audio.order, audio.sampleRate, audio.channels, this.seq)) return;
    const channels = transferable(audio.channels);
    this.post({ type: 'frame', seq: 0, replyId, order: audio.order, sampleRate: audio.sampleRate, channels, quiet: true }, [...new Set(channels.map((c) => c.buffer as ArrayBuffer))]);
  }

  /** {@link Player.enqueue} that resolves once the processor has queued the frame, with its verdict. */
  enqueueAcked(replyId: number, audio: { channels: Float32Array[]; sampleRate: number; order: number }): Promise<string> {
    this.alive();
    if (!audio || !Array.isArray(audio.channels) || audio.channels.length === 0) {
      return Promise.reject(new TalStreamError('bad-argument', 'enqueue: audio.channels must be a non-empty array of Float32Array'));
    }
    const channels = transferable(audio.channels);
    // The same buffer twice (mono duplicated) can be transferred only once.
    const transfer = [...new Set(channels.map((c) => c.buffer as ArrayBuffer))];
    return this.send({ type: 'frame', seq: 0, replyId, order: audio.order, sampleRate: audio.sampleRate, channels }, transfer).then((a) => a.result ?? 'queued');
  }

  /** No more frames for `replyId`: it plays out, then `ended` fires and `whenEnded` resolves. */
  endReply(replyId: number): void {
    this.alive();
    if (!this.ring?.write(RING_END, replyId, 0, 0, null, this.seq)) this.post({ type: 'end', seq: 0, replyId, quiet: true });
  }

  /** {@link Player.endReply} that resolves once the processor has applied it. */
  endReplyAcked(replyId: number): Promise<void> {
    this.alive();
    return this.send({ type: 'end', seq: 0, replyId }).then(() => undefined);
  }

  /** Resolves when reply `replyId` has finished (played out or interrupted). */
  whenEnded(replyId: number): Promise<ReplyEnd> {
    const done = this.endedResults.get(replyId);
    if (done) return Promise.resolve(done);
    if (this.destroyed) return Promise.reject(new TalStreamError('destroyed', 'Player was destroyed'));
    let e = this.enders.get(replyId);
    if (!e) {
      let resolve!: (v: ReplyEnd) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<ReplyEnd>((res, rej) => ((resolve = res), (reject = rej)));
      e = { resolve, reject, promise };
      this.enders.set(replyId, e);
    }
    return e.promise;
  }

  /**
   * Fades out what plays now (<= 10 ms), drops every queued frame and resolves with the exact
   * position the fade ends at, measured on the audio thread: the frame `order`, the samples of it
   * heard (in its own rate) and the ms played. A promise because that position lives on the audio
   * thread. `order` is 0 when nothing was playing.
   */
  async interrupt(): Promise<PlayedPosition> {
    this.alive();
    const ack = await this.send({ type: 'interrupt', seq: 0 });
    return ack.position ?? { order: 0, sampleOffset: 0, playedMs: 0 };
  }

  /** Output volume (linear gain >= 0); changes glide over a few ms. */
  get volume(): number {
    return this.vol;
  }
  set volume(v: number) {
    this.vol = checkVolume(v);
    if (!this.destroyed) this.ackOf(this.send({ type: 'volume', seq: 0, value: this.vol }));
  }

  /** The latest stats the processor sent (updated at most ~10 times a second). */
  get stats(): PlayerStats {
    return { ...this.lastStats };
  }

  /** Asks the processor for fresh stats now. */
  async fetchStats(): Promise<PlayerStats> {
    this.alive();
    const ack = await this.send({ type: 'stats', seq: 0 });
    if (ack.stats) this.lastStats = ack.stats;
    return { ...this.lastStats };
  }

  /**
   * A MediaStream of what the player outputs (for recording or lip-sync), on an AudioContext.
   * The same stream is returned on every call.
   */
  tap(): MediaStream {
    this.alive();
    const ctx = this.context as AudioContext;
    if (typeof ctx.createMediaStreamDestination !== 'function') {
      throw new TalStreamError('unsupported', 'tap() needs a real-time AudioContext (an OfflineAudioContext has no MediaStream output)');
    }
    if (!this.tapNode) {
      this.tapNode = ctx.createMediaStreamDestination();
      this.node.connect(this.tapNode);
    }
    return this.tapNode.stream;
  }

  /**
   * Calls `listener` with every block of the output (first channel, about 46 ms at 44.1 kHz) and
   * the context time of its first sample, for recording or lip-sync; returns the unsubscribe
   * function. Works on any context (offline too). `samples` is only valid during the call (the
   * buffer goes back to the audio thread's pool): copy what you keep. Blocks the main thread does
   * not return in time are counted as dropped, never allocated on the audio thread.
   */
  onPcm(listener: (samples: Float32Array, timeMs: number) => void, blockSize = 2048): () => void {
    this.alive();
    if (!(Number.isInteger(blockSize) && blockSize >= 128 && blockSize <= 65536)) {
      throw new TalStreamError('bad-argument', `onPcm blockSize must be an integer 128..65536, got ${blockSize}`);
    }
    if (this.pcmListeners.size === 0) {
      const pool = Array.from({ length: 8 }, () => new Float32Array(blockSize));
      this.ackOf(this.send({ type: 'pcm', seq: 0, on: true, blockSize, pool }, pool.map((b) => b.buffer)));
    }
    this.pcmListeners.add(listener);
    return () => {
      if (!this.pcmListeners.delete(listener) || this.pcmListeners.size > 0 || this.destroyed) return;
      this.ackOf(this.send({ type: 'pcm', seq: 0, on: false, blockSize, pool: [] }));
    };
  }

  /**
   * Routes the context's output to another device where the browser supports
   * `AudioContext.setSinkId` (it moves the whole context, every sound on it).
   */
  async setSinkId(id: string): Promise<void> {
    this.alive();
    const ctx = this.context as AudioContext & { setSinkId?: (id: string) => Promise<void> };
    if (typeof ctx.setSinkId !== 'function') throw new TalStreamError('unsupported', 'This browser cannot choose the audio output device (AudioContext.setSinkId)');
    await ctx.setSinkId(id);
  }

  /** Stops the processor, disconnects, rejects pending promises with `destroyed`. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.node.port.postMessage({ type: 'destroy', seq: ++this.seq } satisfies PlaybackCommand);
    } catch {
      // The port may already be closed with its context.
    }
    this.node.port.onmessage = null;
    try {
      this.node.disconnect();
    } catch {
      // Already disconnected.
    }
    this.tapNode = null;
    this.pcmListeners.clear();
    const err = new TalStreamError('destroyed', 'Player was destroyed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const e of this.enders.values()) e.reject(err);
    this.enders.clear();
    this.removeAllListeners();
  }

  private send(cmd: PlaybackCommand, transfer: Transferable[] = []): Promise<Extract<PlaybackMessage, { type: 'ack' }>> {
    const seq = ++this.seq;
    cmd.seq = seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      try {
        this.node.port.postMessage(cmd, transfer);
      } catch (err) {
        this.pending.delete(seq);
        reject(new TalStreamError('bad-argument', `Could not send to the playback processor: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
      }
    });
  }

  /** Posts a quiet command (no ack; the processor answers `refused` only if it fails). */
  private post(cmd: PlaybackCommand, transfer: Transferable[] = []): void {
    cmd.seq = ++this.seq;
    try {
      this.node.port.postMessage(cmd, transfer);
    } catch (err) {
      this.emit('error', new TalStreamError('bad-argument', `Could not send to the playback processor: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    }
  }

  /** Fire-and-forget commands still report failures, as `error` events. */
  private ackOf(p: Promise<unknown>): void {
    p.catch((err) => {
      if (!this.destroyed) this.emit('error', err instanceof TalStreamError ? err : new TalStreamError('bad-argument', String(err), { cause: err }));
    });
  }

  private message(m: PlaybackMessage): void {
    if (m.type === 'ack') {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (m.error) p.reject(new TalStreamError('bad-argument', `Playback processor refused a command: ${m.error}`));
      else p.resolve(m);
    } else if (m.type === 'pcm') {
      for (const l of this.pcmListeners) {
        try {
          l(m.buffer, m.timeMs);
        } catch (err) {
          this.emit('error', err instanceof TalStreamError ? err : new TalStreamError('listener', `onPcm listener threw: ${String(err)}`, { cause: err }));
        }
      }
      if (!this.destroyed) this.node.port.postMessage({ type: 'recycle', seq: 0, buffer: m.buffer } satisfies PlaybackCommand, [m.buffer.buffer]);
    } else if (m.type === 'refused') {
      // Dropped duplicates and frames of closed replies are by design; a full queue is a problem.
      this.emit(
        'error',
        m.result === 'overflow'
          ? new TalStreamError('bad-argument', `playback queue full (maxQueuedMs): frame ${m.order} of reply ${m.replyId} dropped`)
          : new TalStreamError('bad-argument', `Playback processor refused a command: ${m.error ?? 'unknown'}`),
      );
    } else if (m.type === 'memory') {
      this.store?.set(m.memory);
    } else if (m.type === 'stats') {
      this.lastStats = m.stats;
      this.emit('stats', { ...m.stats });
    } else if (m.type === 'event') {
      if (m.event === 'ended') {
        const end: ReplyEnd = {
          position: m.position ?? { order: 0, sampleOffset: 0, playedMs: 0 },
          underruns: m.underruns ?? 0,
          playedMs: m.position?.playedMs ?? 0,
          interrupted: m.interrupted ?? false,
          minRate: m.minRate ?? 1,
          maxRate: m.maxRate ?? 1,
        };
        // Keep a few results for late whenEnded() calls; bounded.
        this.endedResults.set(m.replyId, end);
        if (this.endedResults.size > 32) this.endedResults.delete(this.endedResults.keys().next().value!);
        const e = this.enders.get(m.replyId);
        this.enders.delete(m.replyId);
        this.emit('ended', { replyId: m.replyId, timeMs: m.timeMs, ...end });
        e?.resolve(end);
      } else {
        this.emit(m.event, { replyId: m.replyId, timeMs: m.timeMs });
      }
    }
  }

  private alive(): void {
    if (this.destroyed) throw new TalStreamError('destroyed', 'Player was destroyed');
  }
}

function checkVolume(v: number): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new TalStreamError('bad-argument', `volume must be a finite number >= 0, got ${String(v)}`);
  return v;
}

/** SharedArrayBuffer cannot be transferred; its constructor may not exist (no cross-origin isolation). */
function SharedArrayBufferCtor(): new (n: number) => unknown {
  return (typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : class Never {}) as new (n: number) => unknown;
}

/** The arrays as they can be transferred: a view into a larger (or shared) buffer is copied. */
function transferable(channels: Float32Array[]): Float32Array[] {
  return channels.map((c) => (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && !(c.buffer instanceof SharedArrayBufferCtor()) ? c : c.slice()));
}
