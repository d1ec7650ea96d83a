/**
 * The rate half of the adaptive policy: how fast to play the queued audio (0.9..1.1, through the
 * pitch-preserving TimeScaler), so the buffer moves toward the target depth while the audio keeps
 * playing, like NetEq's accelerate / preemptive expand instead of a stop-and-wait jitter buffer.
 *
 * Why a rate and not only a depth: a stop-and-wait buffer pays for its cushion up front (the reply
 * waits until `target` ms are queued) and pays for every stall twice (silence, then a deeper
 * resume). With time-scaling the reply starts once a fraction of the target is queued and grows
 * the rest of its cushion by playing slower; when a stall drains the buffer it slows further, so
 * the queue lasts longer (1/0.9: 11% more wall time); and delay beyond what is needed is given back
 * by playing faster.
 *
 * Two quantities, because depth and delay differ: the depth (audio queued) protects against the
 * next stall; the lag (wall time since the reply's first frame minus audio heard: how late the
 * playout runs) is what the listener waits. On a paced (real-time) server they move together; a
 * burst server queues far more than it delays, and playing its early audio fast would change the
 * speech for no gain in delay. So:
 * - deficit = (target - buffered) / target > band: slow down, rate 1 - slope x (deficit - band)
 *   (down to minRate): preemptive expand, also how the cushion grows after an early start;
 * - excess = (min(buffered, lag) - keep) / target > band, keep = max(target, lateHold x the most a
 *   frame of this reply has arrived late so far): speed up, 1 + slope x (excess - band) (up to
 *   maxRate): accelerate only what is both queued and late, e.g. the catch-up burst after a stall
 *   on a paced link, and not below the lateness the link has already shown in this reply. Why
 *   `keep`: after a stall of G ms the backlog arrives at once and the cushion is G; shedding it back
 *   to the target leaves the rest of the reply as exposed as before, while the listener has already
 *   waited those G ms (the reply's D* counts them) and the stall is the best evidence of the next
 *   one's size, which is what a fixed buffer gets for free (it never gives a cushion back). Like
 *   NetEq's peak detector raising the target after delay peaks. Measured (bench:playout): 4g-paced
 *   1.234 -> 1.097 underruns a minute (ratio to the best fixed buffer 0.82 -> 0.73),
 *   congested-paced 4.748 -> 4.584; lateHold 0.9 chosen on the tuning split (1 lets syn-congested-
 *   paced-202's median delay rise past a fixed buffer's: ratio 0.27 -> 1.00);
 * - after the reply's last frame nothing can be late any more: play at maxRate while the lag is
 *   above `endLagMs`, so the reply does not end later than it must;
 * - otherwise 1 (a dead band: a buffer near its target plays untouched).
 * The target itself is learned across replies by the DelayManager (counterfactual replay of the
 * recorded arrivals) and grows within a reply at every underrun.
 */
import type { JitterOptions } from './types';

/** Output-time bands `simulatePlayout` reports: < 0.95, [0.95, 1), 1, (1, 1.05], > 1.05. */
export const RATE_BANDS = ['<0.95', '0.95-1', '1', '1-1.05', '>1.05'] as const;

/** Index into {@link RATE_BANDS} of a rate. */
export function rateBand(rate: number): number {
  return rate === 1 ? 2 : rate < 0.95 ? 0 : rate < 1 ? 1 : rate <= 1.05 ? 3 : 4;
}

/** Whether `options` time-scale: the adaptive policy does unless `timeScale: false`; the baselines never. */
export function timeScaling(options: JitterOptions): boolean {
  return (options.policy ?? 'adaptive') === 'adaptive' && options.timeScale !== false;
}

export class RatePolicy {
  /** True for the adaptive policy unless `timeScale: false`; false for the baselines: always rate 1. */
  readonly enabled: boolean;
  readonly minRate: number;
  readonly maxRate: number;
  /** Fraction of the target queued at which a reply starts (and resumes) when time-scaling. */
  readonly startFraction: number;
  /** An early start waits for at most this fraction of the stop-and-wait depth (Infinity: no cap). */
  readonly startCap: number;
  /** Fraction of stop-and-wait's fill time after which a paced reply held back by the gap floor starts (0: never). */
  readonly startDeadline: number;
  private readonly slope: number;
  private readonly band: number;
  private readonly endLag: number;
  private readonly lateHold: number;

  constructor(options: JitterOptions = {}) {
    this.enabled = timeScaling(options);
    // The splicer follows 0.5..1.5; speech stays natural within about +-10%.
    this.minRate = Math.min(1, Math.max(0.5, options.minRate ?? 0.9));
    this.maxRate = Math.max(1, Math.min(1.5, options.maxRate ?? 1.1));
    this.startFraction = this.enabled ? Math.min(1, Math.max(0, options.startFraction ?? 0.4)) : 1;
    const cap = options.startCap ?? 0.5;
    this.startCap = this.enabled && cap >= 0 ? cap : Infinity; // NaN or negative: no cap
    const deadline = options.startDeadline ?? 0.4;
    this.startDeadline = this.enabled && deadline > 0 ? deadline : 0; // NaN too
    this.slope = Math.max(0, options.rateSlope ?? 0.5);
    this.band = Math.max(0, options.rateBand ?? 0.05);
    this.endLag = Math.max(0, options.endLagMs ?? 20);
    const hold = options.lateHold ?? 0.9;
    this.lateHold = hold > 0 ? hold : 0; // NaN too
  }

  /**
   * The rate for the next block: `bufferedMs` of the reply queued (source ms), `lagMs` how late the
   * playout runs (wall ms since the reply's first frame minus source ms heard), the policy's
   * `targetMs`, whether the reply has ended (all its audio is here), and `lateMs`: the most a frame
   * of the reply has arrived after its time so far (0 if none).
   */
  rate(bufferedMs: number, lagMs: number, targetMs: number, ended: boolean, lateMs = 0): number {
    if (!this.enabled) return 1;
    if (ended) return lagMs > this.endLag ? this.maxRate : 1;
    const t = Math.max(targetMs, 1);
    const deficit = (t - bufferedMs) / t;
    if (deficit > this.band) return Math.max(this.minRate, 1 - this.slope * (deficit - this.band));
    const keep = Math.max(t, this.lateHold * lateMs);
    const excess = (Math.min(bufferedMs, lagMs) - keep) / t;
    if (excess > this.band) return Math.min(this.maxRate, 1 + this.slope * (excess - this.band));
    return 1;
  }
}
