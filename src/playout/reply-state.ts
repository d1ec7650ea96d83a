/**
 * What the PlayoutCore keeps per reply beside its queue: the playback phase, the arrival clock the
 * rate policy reads (when the first frame came, how late the latest frames were), the fades in
 * progress and what the reply reports when it ends.
 */
import type { ReplyQueue } from './reply-queue';

export type Phase = 'buffering' | 'playing' | 'underrun';

export interface ReplyState {
  q: ReplyQueue;
  phase: Phase;
  firstArrivalMs: number;
  /** Source ms pushed so far (frames counted in arrival order). */
  pushedMs: number;
  /**
   * The most a frame of this reply has arrived after its time so far: max over frames of (arrival
   * - first arrival - source ms pushed before it), the reply's D* up to now (0 for the first frame).
   */
  maxLateMs: number;
  underruns: number;
  /** Samples left of an interrupt fade; -1 when not interrupting. */
  interruptLeft: number;
  dryFade: boolean;
  learned: boolean;
  minRate: number;
  maxRate: number;
}

/** A reply that has not received a frame yet. */
export function newReplyState(q: ReplyQueue): ReplyState {
  return { q, phase: 'buffering', firstArrivalMs: NaN, pushedMs: 0, maxLateMs: 0, underruns: 0, interruptLeft: -1, dryFade: false, learned: false, minRate: 1, maxRate: 1 };
}

/** Records the arrival, at `nowMs`, of a frame of `ms` source ms. */
export function recordArrival(r: ReplyState, nowMs: number, ms: number): void {
  if (Number.isNaN(r.firstArrivalMs)) r.firstArrivalMs = nowMs;
  r.maxLateMs = Math.max(r.maxLateMs, nowMs - r.firstArrivalMs - r.pushedMs);
  r.pushedMs += ms;
}
