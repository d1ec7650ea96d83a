/**
 * PlayoutCore: the one implementation of streamed playback, driven per 128-sample render quantum
 * by the AudioWorklet (audio clock) and by `simulatePlayout` (simulated time).
 *
 * It owns the replies' queues and the policy: when to start, when an underrun begins, when to
 * resume, how deep to buffer (see DelayManager). It fades every edge (start, resume, the last few
 * ms before the buffer runs dry, interrupt) so no edge steps by more than a small fraction of full
 * scale, and it counts everything. `render` allocates nothing.
 */
import { Resampler } from '../dsp/resampler';
import { TalStreamError } from '../errors';
import { DelayManager } from './delay-manager';
import { PlayoutEventQueue } from './playout-events';
import { ReplyQueue, type PushResult } from './reply-queue';
import type { JitterOptions, PlayedPosition, PlayerStats, PlayoutEventRecord, PlayoutFrame, ResamplerFactory } from './types';

/** Options of a {@link PlayoutCore}. */
export interface PlayoutCoreOptions {
  /** Output sample rate in Hz (the AudioContext's rate). */
  sampleRate: number;
  /** Output channels, 1 or 2. Default 1. */
  channels?: 1 | 2;
  /** Jitter buffer policy and tuning. */
  jitter?: JitterOptions;
  /** Length of start/resume/underrun fades in ms. Default 5. */
  fadeMs?: number;
  /** Length of the interrupt fade-out in ms (at most 10). Default 8. */
  interruptFadeMs?: number;
  /** Makes a one-channel resampler; default talstream's `Resampler` (windowed sinc). */
  createResampler?: ResamplerFactory;
  /** Most audio queued over all replies, in ms; frames beyond it are refused. Default 600000 (10 min). */
  maxQueuedMs?: number;
  /** Initial volume (linear gain). Default 1. */
  volume?: number;
}

/** What happened to a pushed frame. */
export type PlayoutPushResult = PushResult | 'closed' | 'overflow';

type Phase = 'buffering' | 'playing' | 'underrun';

interface ReplyState {
  q: ReplyQueue;
  phase: Phase;
  firstArrivalMs: number;
  underruns: number;
  /** Samples left of an interrupt fade; -1 when not interrupting. */
  interruptLeft: number;
  dryFade: boolean;
  learned: boolean;
}

export class PlayoutCore {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  readonly delay: DelayManager;
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
  private gain = 0;
  private gainTarget = 0;
  private gainStep = 0;
  private vol: number;
  private volTarget: number;
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
    this.fadeLen = Math.max(1, Math.round(((options.fadeMs ?? 5) * rate) / 1000));
    this.interruptFadeLen = Math.max(1, Math.round((Math.min(10, options.interruptFadeMs ?? 8) * rate) / 1000));
    this.createResampler = options.createResampler ?? ((from, to) => new Resampler(from, to));
    this.maxQueued = ((options.maxQueuedMs ?? 600000) * rate) / 1000;
    this.vol = this.volTarget = options.volume ?? 1;
  }

  /** Linear output gain; changes glide over the fade length (no click). */
  get volume(): number {
    return this.volTarget;
  }
  set volume(v: number) {
    if (!(v >= 0 && Number.isFinite(v))) throw new TalStreamError('bad-argument', `volume must be a finite number >= 0, got ${v}`);
    this.volTarget = v;
  }

  /** Opens reply `replyId` (ids increase over a session). Returns false for an id already used. */
  begin(replyId: number): boolean {
    if (replyId <= this.maxSeenId) return this.find(replyId) !== undefined;
    this.maxSeenId = replyId;
    this.replies.push({
      q: new ReplyQueue(replyId, this.sampleRate, this.channels, this.createResampler),
      phase: 'buffering',
      firstArrivalMs: NaN,
      underruns: 0,
      interruptLeft: -1,
      dryFade: false,
      learned: false,
    });
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
    if (Number.isNaN(r.firstArrivalMs)) r.firstArrivalMs = nowMs;
    if (replyId === this.recordingId) this.delay.arrival(nowMs, (frame.channels[0]!.length * 1000) / frame.sampleRate);
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
      const fading = k === 0 && r.phase === 'playing' && this.gain > 0 ? Math.min(this.interruptFadeLen, r.q.queued) : 0;
      if (k === 0) {
        r.q.positionAt(r.q.played + fading, this.pos);
        result.order = this.pos.order;
        result.sampleOffset = this.pos.sampleOffset;
        result.playedMs = ((r.q.played + fading) * 1000) / this.sampleRate;
      }
      if (fading > 0) {
        r.interruptLeft = fading;
        r.dryFade = false;
        this.gainTarget = 0;
        this.gainStep = this.gain / fading;
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
    this.delay.step();
    let i = 0;
    while (i < n) {
      const r = this.replies[0];
      if (!r) break;
      if (r.phase !== 'playing') {
        const bufferedMs = (r.q.queued * 1000) / this.sampleRate;
        const go =
          r.phase === 'buffering'
            ? r.q.queued > 0 || r.q.ended
              ? this.delay.shouldStart(bufferedMs, nowMs + (i * 1000) / this.sampleRate - r.firstArrivalMs, r.q.ended)
              : false
            : this.delay.shouldResume(bufferedMs, r.q.ended);
        if (!go) {
          if (r.phase === 'underrun') this.underrunSamples += n - i;
          break;
        }
        if (r.q.queued === 0) {
          this.finish(0, i, false);
          continue;
        }
        this.events.push(r.phase === 'buffering' ? 'audio-start' : 'resume', r.q.id, i);
        r.phase = 'playing';
        r.dryFade = false;
        this.gain = 0;
        this.gainTarget = 1;
        this.gainStep = 1 / this.fadeLen;
      }
      // More audio came while fading out towards a dry buffer: fade back in.
      if (r.dryFade && r.q.queued > this.fadeLen) {
        r.dryFade = false;
        this.gainTarget = 1;
        this.gainStep = 1 / this.fadeLen;
      }
      i = this.play(r, outputs, i, n);
      if (r.interruptLeft === 0) {
        r.q.clear();
        this.finish(0, i, true);
        continue;
      }
      if (r.q.queued === 0) {
        if (r.q.ended) {
          this.finish(0, i, false);
          continue;
        }
        r.phase = 'underrun';
        r.dryFade = false;
        r.underruns++;
        this.underrunCount++;
        this.gain = 0;
        this.delay.underrun();
        this.events.push('underrun', r.q.id, i);
      }
    }
  }

  /** Plays samples of `r` from output index `i`; returns the index reached. */
  private play(r: ReplyState, outputs: Float32Array[], i: number, n: number): number {
    const q = r.q;
    const nOut = outputs.length;
    const volStep = 1 / this.fadeLen;
    while (i < n && q.queued > 0 && r.interruptLeft !== 0) {
      if (!r.dryFade && r.interruptLeft < 0 && q.queued <= this.fadeLen) {
        // About to run dry (or the reply's last ms): fade out over what is left, reaching 0 at its
        // last sample. Audio arriving meanwhile cancels the fade (see render).
        r.dryFade = true;
        this.gainTarget = 0;
        this.gainStep = this.gain / q.queued;
      }
      const g = this.gain;
      if (g < this.gainTarget) this.gain = Math.min(this.gainTarget, g + this.gainStep);
      else if (g > this.gainTarget) {
        // Snap the rounding residue so a fade really ends at 0.
        const next = g - this.gainStep;
        this.gain = next - this.gainTarget < 1e-9 ? this.gainTarget : next;
      }
      const v = this.vol;
      if (v !== this.volTarget) this.vol = v < this.volTarget ? Math.min(this.volTarget, v + volStep) : Math.max(this.volTarget, v - volStep);
      const k = this.gain * this.vol;
      for (let c = 0; c < nOut; c++) outputs[c]![i] = q.sample(c < this.channels ? c : this.channels - 1) * k;
      q.advance();
      this.playedSamples++;
      if (r.interruptLeft > 0) r.interruptLeft--;
      i++;
    }
    q.syncCursor();
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
    r.q.positionAt(r.q.played, this.pos);
    this.events.push('ended', r.q.id, atSample, this.pos.order, this.pos.sampleOffset, (r.q.played * 1000) / this.sampleRate, r.underruns, interrupted);
    if (index === 0) {
      this.gain = 0;
      this.gainTarget = 0;
    }
  }

  private learnFrom(r: ReplyState): void {
    if (r.learned) return;
    r.learned = true;
    if (r.q.id !== this.recordingId) return;
    this.recordingId = 0;
    this.delay.endReply();
  }

  private find(replyId: number): ReplyState | undefined {
    for (const r of this.replies) if (r.q.id === replyId) return r;
    return undefined;
  }

  private totalQueued(): number {
    let n = 0;
    for (let i = 0; i < this.replies.length; i++) n += this.replies[i]!.q.queued;
    return n;
  }

  private refuse(result: PlayoutPushResult): PlayoutPushResult {
    this.dropped++;
    return result;
  }
}

/** Throws `bad-argument` unless `frame` is playable (channels, one length, rate, integer order). */
export function validateFrame(frame: PlayoutFrame): void {
  const chs = frame?.channels;
  if (!Array.isArray(chs) || chs.length < 1 || chs.length > 32) throw new TalStreamError('bad-argument', 'frame.channels must be 1..32 Float32Arrays');
  const len = chs[0]?.length;
  for (const c of chs) {
    if (!(c instanceof Float32Array) || c.length !== len) throw new TalStreamError('bad-argument', 'frame.channels must be Float32Arrays of one length');
  }
  // Frames may be as slow as the codec accepts (TALAudio sampleRate >= 1000 Hz); only the output
  // (an AudioContext) needs >= 3000.
  if (!(frame.sampleRate >= 1000 && frame.sampleRate <= 768000)) throw new TalStreamError('bad-argument', `frame.sampleRate ${frame.sampleRate} out of range`);
  if (!Number.isInteger(frame.order)) throw new TalStreamError('bad-argument', `frame.order must be an integer, got ${frame.order}`);
}
