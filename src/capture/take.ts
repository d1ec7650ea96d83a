/**
 * A Take is one utterance: audio written into it comes out as TALAudio frames, `order` from 1,
 * `sign` 1 on the first frame, 2 on the middle ones and 3 on the last (which may carry no audio).
 *
 * A microphone writes into it from the capture worklet; a file, an AudioBuffer or a Float32Array
 * are written in one go (see sources.ts). Either way the frames are the same.
 */
import { Emitter } from '../emitter';
import { TalStreamError } from '../errors';
import { encodeTalAudio } from '../protocol/tal-audio';
import { VoiceGate, type EndOfTurnSource, type VadOptions } from './vad';

const EMPTY = new Uint8Array(0);

/** Options of a {@link Take}. */
export interface TakeOptions {
  /** Sample rate of the audio written and of the frames, Hz. Default 16000. */
  sampleRate?: number;
  /** Sample type of the frames' payload. Default 'int16' (what the seed's server expects). */
  audioType?: 'int16' | 'int32';
  /** Audio per frame, ms. Default 20. */
  frameMs?: number;
  /** The user's query text, written in every frame's `question` (as the seed's server does). */
  question?: string;
  /** Extra header fields written in every frame (application fields). */
  fields?: Record<string, unknown>;
  /**
   * Extra header fields of the first frame only, over `fields` (a conversation's `interrupted`:
   * where the answer this turn cut was stopped).
   */
  firstFrameFields?: Record<string, unknown>;
  /** End of turn by the built-in energy detector (true = defaults), or a plugged classifier. */
  vad?: boolean | VadOptions;
  /** End of turn from outside (e.g. @ricky0123/vad-web's onSpeechEnd). */
  endOfTurn?: EndOfTurnSource;
  /** The take stops itself after this much audio, ms. Default 300000 (5 minutes). */
  maxDurationMs?: number;
  /** Aborting ends the take at once: the iteration throws `aborted`. */
  signal?: AbortSignal;
}

/** Why a take ended. */
export type TakeEndReason = 'stop' | 'speech-end' | 'no-speech' | 'end-of-turn' | 'max-duration' | 'source-ended';

/** What {@link Take.done} resolves with. */
export interface TakeResult {
  /** Audio in the frames, ms. */
  durationMs: number;
  /** Number of frames (the sign-3 frame included). */
  frames: number;
  /** Why it ended. */
  reason: TakeEndReason;
}

/** Events of a {@link Take}. */
export interface TakeEvents {
  /** A frame was produced (`bytes` is the whole TALAudio frame). */
  frame: { order: number; sign: number; samples: number; bytes: Uint8Array };
  /** The VAD confirmed speech. */
  speechstart: void;
  /** The VAD heard the end of speech (the take stops). */
  speechend: void;
  /** The take ended (same value as `done`). */
  end: TakeResult;
  /** The take failed (aborted); `done` rejects with the same error. */
  error: TalStreamError;
}

/** Hooks a producer (the microphone) gives its take. */
export interface TakeHooks {
  /** Called once when the take stops: write the last audio, then resolve. */
  stop?: () => Promise<unknown>;
  /** Called once when the take ends or is aborted (release the producer). */
  release?: () => void;
}

/**
 * One utterance as an async iterable of TALAudio frames (Uint8Array, whole frames). Usable once.
 * Frames produced before iteration starts are kept (bounded by `maxDurationMs`).
 */
export class Take extends Emitter<TakeEvents> implements AsyncIterable<Uint8Array> {
  /** Frames' sample rate, Hz. */
  readonly sampleRate: number;
  /** Frames' sample type. */
  readonly audioType: 'int16' | 'int32';
  /** Samples per frame. */
  readonly frameSamples: number;
  /** The question sent in every frame ('' when none). */
  readonly question: string;
  /** Resolves when the last frame has been produced; rejects with `aborted` on abort. */
  readonly done: Promise<TakeResult>;

  private readonly fields: Record<string, unknown>;
  private readonly firstFields: Record<string, unknown>;
  private readonly gate: VoiceGate | null;
  private readonly maxSamples: number;
  private readonly hooks: TakeHooks;
  private readonly partial: Float32Array;
  private partialLen = 0;
  private order = 0;
  private samplesOut = 0;
  private samplesIn = 0;
  private state: 'recording' | 'stopping' | 'ended' = 'recording';
  private queue: Uint8Array[] = [];
  private head = 0;
  private wake: (() => void) | null = null;
  private failure: TalStreamError | null = null;
  private iterated = false;
  private stopPromise: Promise<TakeResult> | null = null;
  private resolveDone!: (r: TakeResult) => void;
  private rejectDone!: (e: TalStreamError) => void;
  private cleanups: Array<() => void> = [];

  constructor(options: TakeOptions = {}, hooks: TakeHooks = {}) {
    super();
    const rate = options.sampleRate ?? 16000;
    if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) {
      throw new TalStreamError('bad-argument', `Take: sampleRate must be an integer 1000..384000 Hz, got ${rate}`);
    }
    const type = options.audioType ?? 'int16';
    if (type !== 'int16' && type !== 'int32') throw new TalStreamError('bad-argument', `Take: audioType must be 'int16' or 'int32', got ${String(type)}`);
    const frameMs = options.frameMs ?? 20;
    const frameSamples = Math.round((rate * frameMs) / 1000);
    if (!(frameMs > 0 && frameMs <= 1000) || frameSamples < 1) {
      throw new TalStreamError('bad-argument', `Take: frameMs must be in (0, 1000], got ${frameMs}`);
    }
    const maxMs = options.maxDurationMs ?? 300_000;
    if (!(maxMs > 0)) throw new TalStreamError('bad-argument', `Take: maxDurationMs must be > 0, got ${maxMs}`);
    this.sampleRate = rate;
    this.audioType = type;
    this.frameSamples = frameSamples;
    this.question = options.question ?? '';
    this.fields = options.fields ?? {};
    this.firstFields = options.firstFrameFields ?? {};
    this.maxSamples = Math.round((maxMs * rate) / 1000);
    this.partial = new Float32Array(frameSamples);
    this.hooks = hooks;
    this.gate = options.vad ? new VoiceGate(rate, options.vad === true ? {} : options.vad) : null;
    this.done = new Promise<TakeResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // `done` may be ignored by a caller that only iterates; the iterator reports the error too.
    this.done.catch(() => {});
    const { signal, endOfTurn } = options;
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.abort(signal.reason));
      else {
        const onAbort = () => this.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
    if (endOfTurn) {
      const off = endOfTurn.onSpeechEnd(() => void this.end('end-of-turn'));
      if (typeof off === 'function') this.cleanups.push(off);
    }
  }

  /** 'recording', 'stopping' (waiting for the producer's last audio) or 'ended'. */
  get status(): 'recording' | 'stopping' | 'ended' {
    return this.state;
  }

  /** Audio in the frames produced so far, ms. */
  get durationMs(): number {
    return (this.samplesOut / this.sampleRate) * 1000;
  }

  /**
   * Appends audio (mono, at `sampleRate`, floats in [-1, 1]). The samples are copied. Ignored once
   * the take has ended.
   */
  write(samples: Float32Array): void {
    if (this.state === 'ended') return;
    let i = 0;
    while (i < samples.length && this.status !== 'ended') {
      const room = Math.min(this.frameSamples - this.partialLen, this.maxSamples - this.samplesIn);
      if (room <= 0) {
        void this.end('max-duration');
        return;
      }
      const k = Math.min(room, samples.length - i);
      this.partial.set(samples.subarray(i, i + k), this.partialLen);
      this.partialLen += k;
      this.samplesIn += k;
      i += k;
      if (this.partialLen === this.frameSamples) {
        const chunk = this.partial.slice();
        this.partialLen = 0;
        this.chunk(chunk);
      }
    }
    if (this.samplesIn >= this.maxSamples && this.state === 'recording') void this.end('max-duration');
  }

  /** Ends the take: the last frame carries sign 3. Resolves like `done`. */
  stop(): Promise<TakeResult> {
    return this.end('stop');
  }

  /** Ends the take without a last frame; the iteration and `done` fail with `aborted`. Idempotent. */
  abort(reason?: unknown): void {
    if (this.state === 'ended') return;
    const err = reason instanceof TalStreamError && reason.code === 'aborted' ? reason : new TalStreamError('aborted', 'the take was aborted', { cause: reason });
    this.failure = err;
    this.state = 'ended';
    this.finishCleanup();
    this.rejectDone(err);
    this.emit('error', err);
    this.wakeReader();
  }

  /**
   * Ends the take for `reason` (producers use 'source-ended'); idempotent: later calls return the
   * first call's promise.
   */
  end(reason: TakeEndReason): Promise<TakeResult> {
    if (this.stopPromise) return this.stopPromise;
    if (this.state === 'ended') return this.done;
    this.state = 'stopping';
    this.stopPromise = (async () => {
      try {
        await this.hooks.stop?.();
      } catch {
        // The producer could not deliver its tail (e.g. a closed context): end with what we have.
      }
      if (this.state !== 'ended') this.finish(reason);
      return this.done;
    })();
    return this.stopPromise;
  }

  /** One full frame's worth of audio: through the VAD gate (if any) to frames. */
  private chunk(chunk: Float32Array): void {
    if (!this.gate) {
      this.frame(chunk, false);
      return;
    }
    const step = this.gate.push(chunk);
    if (step.event === 'speechstart') this.emit('speechstart', undefined);
    for (const c of step.emit) this.frame(c, false);
    if (step.event === 'speechend') this.emit('speechend', undefined);
    if (step.end) void this.end(step.end);
  }

  private finish(reason: TakeEndReason): void {
    // The remainder (less than one frame) goes in the last frame, unless a VAD holds it back:
    // audio from before speech, or after the end of speech, is not sent.
    const tail = this.partial.slice(0, this.partialLen);
    this.partialLen = 0;
    const sendTail = !this.gate || this.gate.speaking;
    this.frame(sendTail ? tail : new Float32Array(0), true);
    this.state = 'ended';
    this.finishCleanup();
    const result: TakeResult = { durationMs: this.durationMs, frames: this.order, reason };
    this.resolveDone(result);
    this.emit('end', result);
    this.wakeReader();
  }

  private frame(samples: Float32Array, last: boolean): void {
    this.order++;
    const sign = last ? 3 : this.order === 1 ? 1 : 2;
    const extra = this.order === 1 ? { ...this.fields, ...this.firstFields } : this.fields;
    const header: Record<string, unknown> = { ...extra, audioType: this.audioType, sampleRate: this.sampleRate, channels: 1, sign, order: this.order };
    if (this.question) header.question = this.question;
    const bytes = encodeTalAudio(header, samples);
    this.samplesOut += samples.length;
    this.queue.push(bytes);
    this.emit('frame', { order: this.order, sign, samples: samples.length, bytes });
    this.wakeReader();
  }

  private finishCleanup(): void {
    for (const c of this.cleanups.splice(0)) c();
    const release = this.hooks.release;
    this.hooks.release = undefined;
    release?.();
  }

  private wakeReader(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * The frames, in order. A take can be iterated once. Leaving the loop early (or `return()` on
   * the iterator, even while a `next()` is pending) aborts the take at once.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array, void, undefined> {
    if (this.iterated) {
      const err = new TalStreamError('bad-argument', 'a take can be read only once');
      return { next: () => Promise.reject(err) };
    }
    this.iterated = true;
    let closed = false;
    const done = (): IteratorResult<Uint8Array, void> => ({ done: true, value: undefined });
    const next = async (): Promise<IteratorResult<Uint8Array, void>> => {
      for (;;) {
        if (closed) return done();
        if (this.head < this.queue.length) {
          const value = this.queue[this.head]!;
          this.queue[this.head++] = EMPTY;
          // Compact now and then: O(1) amortised per frame, memory released as frames are read.
          if (this.head > 64 && this.head * 2 > this.queue.length) {
            this.queue = this.queue.slice(this.head);
            this.head = 0;
          }
          return { done: false, value };
        }
        if (this.failure) {
          closed = true;
          throw this.failure;
        }
        if (this.state === 'ended') {
          closed = true;
          return done();
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    };
    const stop = async (): Promise<IteratorResult<Uint8Array, void>> => {
      if (!closed) {
        closed = true;
        if (this.state !== 'ended') this.abort(new TalStreamError('aborted', "the take's reader stopped reading"));
        this.wakeReader();
      }
      return done();
    };
    return { next, return: stop };
  }
}
