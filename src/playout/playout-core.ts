/**
 * PlayoutCore: the one implementation of streamed playback, driven per 128-sample render quantum
 * by the AudioWorklet (audio clock) and by `simulatePlayout` (simulated time).
 *
 * It owns the replies' queues and the policy: when to start, when an underrun begins, when to
 * resume, how deep to buffer (DelayManager) and how fast to play (RatePolicy, through one
 * TimeScaler per output channel). It fades every edge (start, resume, the last few ms before the
 * buffer runs dry, interrupt) so no edge steps by more than a small fraction of full scale, and it
 * counts everything. `render` allocates nothing.
 *
 * Where time-scaling sits: after the resampler, at the output rate. Frames are resampled when they
 * arrive (message time, in ReplyQueue, with its stateful streaming resampler and its allocations
 * kept out of the audio callback); the quantum then pulls resampled samples through the scaler.
 * So one scaler runs at one fixed rate whatever the frames' rates (a reply may change rate between
 * frames), and positions compose exactly: output sample -> scaler `sourceIndex` -> resampled queue
 * index -> (frame `order`, offset in the frame's own rate) through the queue's frame map, the same
 * map that was exact at rate 1. Scaling before the resampler would need the resampler inside the
 * quantum, fed a variable amount per quantum, per input rate. At rate 1 the scaler is a plain copy,
 * so the baselines and the exact-sample tests play bit for bit what they did.
 */
import { Resampler } from '../dsp/resampler';
import { TimeScaler } from '../dsp/time-scaler';
import { TalStreamError } from '../errors';
import { DelayManager } from './delay-manager';
import { validateFrame } from './frame-check';
import { parseMemory, resolveStore } from './jitter-memory';
import { PlayoutEventQueue } from './playout-events';
import { RatePolicy, RATE_BANDS, rateBand } from './rate-policy';
import { ReplyQueue, type PushResult } from './reply-queue';
import { newReplyState, recordArrival, type ReplyState } from './reply-state';
import { GainEnvelope } from './gain-envelope';
import type { JitterMemory, JitterStore, PlayedPosition, PlayerStats, PlayoutCoreOptions, PlayoutEventRecord, PlayoutFrame, ResamplerFactory } from './types';

export { validateFrame };
export type { PlayoutCoreOptions };

/** What happened to a pushed frame. */
export type PlayoutPushResult = PushResult | 'closed' | 'overflow';

export class PlayoutCore {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  readonly delay: DelayManager;
  readonly rates: RatePolicy;
  /** One scaler per output channel; the second follows the first's splices. */
  private readonly ts: TimeScaler[] = [];
  private readonly scratch: Float32Array[] = [];
  /** Reply whose audio the scalers hold (0: none); they are reset when a reply starts. */
  private tsOwner = 0;
  /** Rate of the last quantum that played. */
  private rate = 1;
  /** Output samples played per rate band (RATE_BANDS), over the session. */
  readonly bandSamples = new Float64Array(RATE_BANDS.length);
  /** Where `jitter.persist` goes (a get/set pair); the worklet's Player does it on the main thread. */
  private readonly store: JitterStore | null;
  /** A reply was learned since the last `takeMemory`. */
  memoryPending = false;
  private readonly fadeLen: number;
  private readonly interruptFadeLen: number;
  private readonly createResampler: ResamplerFactory;
  private readonly maxQueued: number;
  private readonly events = new PlayoutEventQueue();
  private readonly replies: ReplyState[] = [];
  private readonly pos = { order: 0, sampleOffset: 0 };
  private maxSeenId = 0;
  /** The reply whose arrivals the delay manager is recording (0: none); overlapping replies are not recorded. */
  private recordingId = 0;
  private readonly env: GainEnvelope;
  private playedSamples = 0;
  private underrunSamples = 0;
  private underrunCount = 0;
  /** Frames refused: duplicates, late, closed reply, overflow. */
  dropped = 0;

  constructor(options: PlayoutCoreOptions) {
    const rate = options.sampleRate;
    if (!(rate >= 3000 && rate <= 768000)) throw new TalStreamError('bad-argument', `PlayoutCore: sampleRate ${rate} out of range`);
    const ch = options.channels ?? 1;
    if (ch !== 1 && ch !== 2) throw new TalStreamError('bad-argument', `PlayoutCore: channels must be 1 or 2, got ${String(ch)}`);
    this.sampleRate = rate;
    this.channels = ch;
    this.delay = new DelayManager(options.jitter);
    this.rates = new RatePolicy(options.jitter);
    this.delay.startFraction = this.rates.startFraction;
    this.delay.startCap = this.rates.startCap;
    this.delay.startDeadline = this.rates.startDeadline;
    this.delay.minRate = this.rates.enabled ? this.rates.minRate : 1;
    for (let c = 0; c < ch; c++) {
      this.ts.push(new TimeScaler(rate));
      this.scratch.push(new Float32Array(128));
    }
    if (ch === 2) this.ts[1]!.follow(this.ts[0]!);
    this.store = resolveStore(options.jitter?.persist);
    this.delay.importMemory(options.memory ?? (this.store ? parseMemory(this.store.get()) : null));
    this.fadeLen = Math.max(1, Math.round(((options.fadeMs ?? 5) * rate) / 1000));
    this.interruptFadeLen = Math.max(1, Math.round((Math.min(10, options.interruptFadeMs ?? 8) * rate) / 1000));
    this.createResampler = options.createResampler ?? ((from, to) => new Resampler(from, to));
    this.maxQueued = ((options.maxQueuedMs ?? 600000) * rate) / 1000;
    this.env = new GainEnvelope(this.fadeLen, options.volume ?? 1);
  }

  /** Linear output gain; changes glide over the fade length (no click). */
  get volume(): number {
    return this.env.volume;
  }
  set volume(v: number) {
    this.env.volume = v;
  }

  /** Opens reply `replyId` (ids increase over a session). Returns false for an id already used. */
  begin(replyId: number): boolean {
    if (replyId <= this.maxSeenId) return this.find(replyId) !== undefined;
    this.maxSeenId = replyId;
    this.replies.push(newReplyState(new ReplyQueue(replyId, this.sampleRate, this.channels, this.createResampler)));
    if (this.recordingId === 0) {
      this.recordingId = replyId;
      this.delay.beginReply();
    }
    return true;
  }

  /**
   * Queues one frame of reply `replyId` that arrived at `nowMs`. Frames of a finished or
   * interrupted reply are refused (`closed`), as are duplicates of an `order` and frames older
   * than one already played past (`late`).
   */
  push(frame: PlayoutFrame, replyId: number, nowMs: number): PlayoutPushResult {
    validateFrame(frame);
    if (!this.begin(replyId)) return this.refuse('closed');
    const r = this.find(replyId)!;
    if (r.q.ended || r.interruptLeft >= 0) return this.refuse('closed');
    if (this.totalQueued() + (frame.channels[0]!.length * this.sampleRate) / frame.sampleRate > this.maxQueued) return this.refuse('overflow');
    const result = r.q.push(frame);
    if (result === 'duplicate' || result === 'late') return this.refuse(result);
    const ms = (frame.channels[0]!.length * 1000) / frame.sampleRate;
    recordArrival(r, nowMs, ms);
    if (replyId === this.recordingId) this.delay.arrival(nowMs, ms);
    return result;
  }

  /** No more frames for `replyId` (sign 3 or end of body): it ends once its queue has played. */
  end(replyId: number): void {
    const r = this.find(replyId);
    if (!r || r.q.ended) return;
    r.q.end();
    this.learnFrom(r);
  }

  /**
   * Fades out within `interruptFadeMs` (<= 10 ms), drops everything queued (every reply) and
   * returns the exact position the fade will end at: which frame, how many of its samples (in its
   * own rate) and how much of the reply was heard. `order` is 0 when nothing was played.
   */
  interrupt(): PlayedPosition {
    const result: PlayedPosition = { order: 0, sampleOffset: 0, playedMs: 0 };
    for (let k = this.replies.length - 1; k >= 0; k--) {
      const r = this.replies[k]!;
      if (r.interruptLeft >= 0) continue;
      this.learnFrom(r);
      const fading = k === 0 && r.phase === 'playing' && this.env.audible ? Math.min(this.interruptFadeLen, this.runway(r)) : 0;
      if (k === 0) {
        // The fade plays at rate 1 (see play), so the scaler knows now which source sample its
        // last output sample will be.
        const ts = this.ts[0]!;
        const heard = fading > 0 ? ts.sourceIndex(ts.produced + fading - 1) + 1 : this.heard(r);
        r.q.positionAt(heard, this.pos);
        result.order = this.pos.order;
        result.sampleOffset = this.pos.sampleOffset;
        result.playedMs = (heard * 1000) / this.sampleRate;
      }
      if (fading > 0) {
        r.interruptLeft = fading;
        r.dryFade = false;
        this.env.fadeOut(fading);
      } else {
        r.q.clear();
        this.finish(k, 0, true);
      }
    }
    return result;
  }

  /** Renders one quantum into `outputs` (one array per output channel) at time `nowMs`. */
  render(outputs: Float32Array[], nowMs: number): void {
    const n = outputs[0]!.length;
    for (let c = 0; c < outputs.length; c++) outputs[c]!.fill(0);
    if (this.scratch[0]!.length < n) for (let c = 0; c < this.channels; c++) this.scratch[c] = new Float32Array(n); // once, if a driver renders longer quanta
    this.delay.step();
    let i = 0;
    while (i < n) {
      const r = this.replies[0];
      if (!r) break;
      if (r.phase !== 'playing') {
        const bufferedMs = (this.remaining(r) * 1000) / this.sampleRate;
        const go =
          r.phase === 'buffering'
            ? bufferedMs > 0 || r.q.ended
              ? this.delay.shouldStart(bufferedMs, nowMs + (i * 1000) / this.sampleRate - r.firstArrivalMs, r.q.ended)
              : false
            : this.delay.shouldResume(bufferedMs, r.q.ended);
        if (!go) {
          if (r.phase === 'underrun') this.underrunSamples += n - i;
          break;
        }
        if (this.runway(r) === 0) {
          this.finish(0, i, false);
          continue;
        }
        if (this.tsOwner !== r.q.id) {
          for (const t of this.ts) t.reset();
          this.tsOwner = r.q.id;
        } else for (const t of this.ts) t.settle(); // a resume: what is behind was faded out
        this.events.push(r.phase === 'buffering' ? 'audio-start' : 'resume', r.q.id, i);
        r.phase = 'playing';
        r.dryFade = false;
        this.env.start();
      }
      // More audio came while fading out towards a dry buffer: fade back in.
      if (r.dryFade && this.runway(r) > this.fadeLen) {
        r.dryFade = false;
        this.env.fadeIn();
      }
      i = this.play(r, outputs, i, n, nowMs + (i * 1000) / this.sampleRate);
      if (r.interruptLeft === 0) {
        r.q.clear();
        this.finish(0, i, true);
        continue;
      }
      if (this.runway(r) === 0) {
        if (r.q.ended) {
          this.finish(0, i, false);
          continue;
        }
        r.phase = 'underrun';
        r.dryFade = false;
        r.underruns++;
        this.underrunCount++;
        this.env.mute();
        this.delay.underrun();
        this.events.push('underrun', r.q.id, i);
      }
    }
  }

  /** Plays samples of `r` from output index `i` through the scalers; returns the index reached. */
  private play(r: ReplyState, outputs: Float32Array[], i: number, n: number, nowMs: number): number {
    const q = r.q;
    const ts0 = this.ts[0]!;
    q.feed(this.ts, ts0.space);
    let m = r.interruptLeft > 0 ? Math.min(n - i, r.interruptLeft) : n - i;
    // Output samples left at rate 1. The dry fade must start exactly `fadeLen` samples before the
    // end, which is known only at rate 1: so the interrupt fade, the dry fade and the block before
    // either play at rate 1. An accelerate splice brings the end closer by up to a period (and needs
    // a period of lookahead past it), so it keeps two longest periods more than that in hand; an
    // expand only moves the end later (the fade cannot fall due in this block), so slowing down
    // goes on until the last block before the fade: when a stall drains the queue, it slows down
    // to its last few ms (at 24 kHz the old margin for both stopped it below 40 ms queued).
    let left = q.queued + ts0.runway;
    let rate = 1;
    if (r.interruptLeft < 0 && !r.dryFade && left - this.fadeLen > m) {
      const ms = 1000 / this.sampleRate;
      rate = this.rates.rate(this.remaining(r) * ms, nowMs - r.firstArrivalMs - ts0.consumed * ms, this.delay.targetMs, q.ended, r.maxLateMs);
      if (rate > 1 && left - this.fadeLen <= m + 2 * ts0.maxPeriod) rate = 1;
    }
    const before = ts0.consumed;
    m = ts0.render(this.scratch[0]!, 0, m, rate);
    for (let c = 1; c < this.channels; c++) this.ts[c]!.render(this.scratch[c]!, 0, m, rate);
    const nOut = outputs.length;
    for (let j = 0; j < m; j++) {
      if (!r.dryFade && r.interruptLeft < 0 && left <= this.fadeLen) {
        // About to run dry (or the reply's last ms): fade out over what is left, reaching 0 at its
        // last sample. Audio arriving meanwhile cancels the fade (see render).
        r.dryFade = true;
        this.env.fadeOut(left);
      }
      const k = this.env.next();
      for (let c = 0; c < nOut; c++) outputs[c]![i] = this.scratch[c < this.channels ? c : this.channels - 1]![j]! * k;
      left--;
      if (r.interruptLeft > 0) r.interruptLeft--;
      i++;
    }
    if (m > 0) {
      this.rate = rate;
      if (rate < r.minRate) r.minRate = rate;
      if (rate > r.maxRate) r.maxRate = rate;
      this.bandSamples[rateBand(rate)]! += m;
    }
    this.playedSamples += ts0.consumed - before;
    q.syncCursor(ts0.consumed);
    return i;
  }

  /** Fills `out` with the oldest pending event; false when none. Allocation-free. */
  nextEvent(out: PlayoutEventRecord): boolean {
    return this.events.next(out);
  }

  /** Live statistics (a new object: call it a few times a second, not per quantum). */
  stats(): PlayerStats {
    const r = this.replies[0];
    const state = !r ? 'idle' : r.phase === 'playing' ? (r.q.ended ? 'draining' : 'playing') : r.phase;
    return {
      bufferedMs: (this.totalQueued() * 1000) / this.sampleRate,
      targetMs: this.delay.targetMs,
      rate: this.rate,
      underruns: this.underrunCount,
      underrunMs: (this.underrunSamples * 1000) / this.sampleRate,
      playedMs: (this.playedSamples * 1000) / this.sampleRate,
      state,
    };
  }

  /** Replies open (queued, buffering or playing). */
  get openReplies(): number {
    return this.replies.length;
  }

  private finish(index: number, atSample: number, interrupted: boolean): void {
    const r = this.replies[index]!;
    // Remove in place (splice would allocate the array of removed items inside render).
    for (let i = index; i + 1 < this.replies.length; i++) this.replies[i] = this.replies[i + 1]!;
    this.replies.length--;
    this.learnFrom(r);
    const heard = this.heard(r);
    r.q.positionAt(heard, this.pos);
    this.events.push('ended', r.q.id, atSample, this.pos.order, this.pos.sampleOffset, (heard * 1000) / this.sampleRate, r.underruns, interrupted, r.minRate, r.maxRate);
    if (index === 0) this.env.mute();
    // What the scalers still hold of it is dropped with it (they are reset when a reply starts).
    if (this.tsOwner === r.q.id) this.tsOwner = 0;
  }

  private learnFrom(r: ReplyState): void {
    if (r.learned) return;
    r.learned = true;
    if (r.q.id !== this.recordingId) return;
    this.recordingId = 0;
    this.delay.endReply();
    this.memoryPending = true;
    if (this.store) this.store.set(this.takeMemory()!);
  }

  /**
   * What the policy learned, for `jitter.persist`, once per learned reply (null otherwise). The
   * worklet polls it after each quantum and posts it to the Player, which stores it.
   */
  takeMemory(): JitterMemory | null {
    if (!this.memoryPending) return null;
    this.memoryPending = false;
    return this.delay.exportMemory();
  }

  /** Source samples of `r` heard so far (the scalers count from the reply's start). */
  private heard(r: ReplyState): number {
    return this.tsOwner === r.q.id ? this.ts[0]!.consumed : 0;
  }

  /** Source samples of `r` not yet heard: queued, and in the scalers. */
  private remaining(r: ReplyState): number {
    return r.q.queued + (this.tsOwner === r.q.id ? this.ts[0]!.available : 0);
  }

  /** Output samples `r` has left at rate 1 (what the dry fade and the interrupt fade count on). */
  private runway(r: ReplyState): number {
    return r.q.queued + (this.tsOwner === r.q.id ? this.ts[0]!.runway : 0);
  }

  private find(replyId: number): ReplyState | undefined {
    for (const r of this.replies) if (r.q.id === replyId) return r;
    return undefined;
  }

  private totalQueued(): number {
    let n = 0;
    for (let i = 0; i < this.replies.length; i++) n += this.remaining(this.replies[i]!);
    return n;
  }

  private refuse(result: PlayoutPushResult): PlayoutPushResult {
    this.dropped++;
    return result;
  }
}
