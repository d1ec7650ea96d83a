/**
 * Acoustic echo canceller: removes from the mic what the speakers played (the reference) after it
 * went through the device latency and the room.
 *
 * A {@link DelayEstimator} finds the bulk delay (device latency, up to `maxDelayMs`), so the
 * adaptive filter need not spend taps on it. A {@link PartitionedFilter} (two-path MDF) models
 * `filterMs` of room response from just before that delay. Its step size follows Valin's rule
 * ({@link StepSizeControl}): when the user talks, adaptation slows by itself; the two-path
 * arrangement keeps most of the disturbance left out of the output.
 *
 * Pure and allocation-free after the constructor: `process` may run inside an AudioWorklet.
 */
import { TalStreamError } from '../errors';
import { DelayEstimator } from './delay-estimator';
import { RealFft } from './fft';
import { PartitionedFilter } from './partitioned-filter';
import { FAR_SILENT, NOISE_FLOOR, StepSizeControl } from './step-control';

/** Options of an {@link EchoCanceller}; all in ms, so they mean the same at any sample rate. */
export interface EchoCancellerOptions {
  /** Room response modelled after the bulk delay, ms (the adaptive filter's length). Default 160. */
  filterMs?: number;
  /** Largest device latency (echo delay) searched, ms. Default 300. */
  maxDelayMs?: number;
  /**
   * Block length, ms, rounded down to a power of two samples: the canceller's latency and the
   * granularity of its updates. Default 8 (128 samples at 16 kHz, 256 at 44.1/48 kHz).
   */
  blockMs?: number;
  /** Known echo delay, ms: disables the estimation. Default: estimated. */
  delayMs?: number;
}

/** Filter taps kept in front of the estimated delay, ms: early reflections, estimation error. */
const HEADROOM_MS = 12;

function positiveMs(name: string, v: unknown, dflt: number, max: number): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) {
    throw new TalStreamError('bad-argument', `EchoCanceller: ${name} must be a number of ms in 0..${max}, got ${String(v)}`);
  }
  return x;
}

/**
 * Streaming echo canceller. Call {@link EchoCanceller.process} with the mic and the reference (what
 * was played, sample-aligned as both reached the audio thread) in chunks of any length; `out` gets
 * the mic without the echo, {@link EchoCanceller.latency} samples late (`out[t]` is the cleaned
 * `mic[t - latency]`; the first `latency` outputs are zeros). The output does not depend on how
 * the input is chunked.
 */
export class EchoCanceller {
  /** Sample rate, Hz. */
  readonly sampleRate: number;
  /** Fixed delay of the output behind the input, samples (one block). */
  readonly latency: number;
  /** Number of partitions of the adaptive filter (blocks of {@link latency} samples). */
  readonly partitions: number;

  private readonly B: number;
  private readonly M: number;
  private readonly bins: number;
  private readonly headroom: number;
  private readonly maxBulk: number;
  private readonly fixedBulk: number;
  private readonly fft: RealFft;
  private readonly est: DelayEstimator;
  // Streaming buffers: the block being filled and the block being played out.
  private readonly inMic: Float32Array;
  private readonly inRef: Float32Array;
  private readonly outBuf: Float32Array;
  private pos = 0;
  // Reference history (time domain) for the bulk delay, and the adaptive filter.
  private readonly ring: Float32Array;
  private readonly ringMask: number;
  private written = 0;
  private readonly filter: PartitionedFilter;
  private wasConverged = false;
  // Scratch.
  private readonly t: Float64Array;
  private readonly t2: Float64Array;
  private readonly eRe: Float64Array;
  private readonly eIm: Float64Array;
  private readonly yfRe: Float64Array;
  private readonly yfIm: Float64Array;
  private readonly mu: Float64Array;
  /** Smoothed reference power per bin (the filter's), for the step sizes. */
  private readonly px: Float64Array;
  private readonly steps: StepSizeControl;
  private blocks = 0;
  private bulk = 0;
  private seenUpdates = 0;
  private candidate = -1;
  private sdd = 0;
  private see = 0;

  constructor(sampleRate: number, options: EchoCancellerOptions = {}) {
    if (typeof sampleRate !== 'number' || !Number.isFinite(sampleRate) || sampleRate < 4000 || sampleRate > 192000) {
      throw new TalStreamError('bad-argument', `EchoCanceller: sampleRate must be 4000..192000 Hz, got ${String(sampleRate)}`);
    }
    const filterMs = positiveMs('filterMs', options.filterMs, 160, 1000);
    const maxDelayMs = positiveMs('maxDelayMs', options.maxDelayMs, 300, 2000);
    const blockMs = positiveMs('blockMs', options.blockMs, 8, 64);
    const delayMs = options.delayMs === undefined ? -1 : positiveMs('delayMs', options.delayMs, 0, 2000);
    this.sampleRate = sampleRate;
    let B = 16;
    while (B * 2 <= (sampleRate * blockMs) / 1000) B *= 2;
    this.B = B;
    this.latency = B;
    this.M = Math.max(1, Math.ceil((sampleRate * filterMs) / 1000 / B));
    this.partitions = this.M;
    this.bins = B + 1;
    this.headroom = Math.ceil((HEADROOM_MS * sampleRate) / 1000 / B) * B;
    this.maxBulk = Math.floor((maxDelayMs * sampleRate) / 1000 / B) * B;
    this.fixedBulk = delayMs < 0 ? -1 : this.bulkFor((delayMs * sampleRate) / 1000, Math.max(this.maxBulk, Math.floor((delayMs * sampleRate) / 1000 / B) * B));
    this.fft = new RealFft(2 * B);
    this.est = new DelayEstimator(sampleRate, maxDelayMs);
    this.inMic = new Float32Array(B);
    this.inRef = new Float32Array(B);
    this.outBuf = new Float32Array(B);
    let r = 1;
    while (r < Math.max(this.maxBulk, this.fixedBulk) + (this.M + 2) * B) r *= 2;
    this.ring = new Float32Array(r);
    this.ringMask = r - 1;
    this.filter = new PartitionedFilter(this.fft, this.M);
    this.t = new Float64Array(2 * B);
    this.t2 = new Float64Array(2 * B);
    this.eRe = new Float64Array(this.bins);
    this.eIm = new Float64Array(this.bins);
    this.yfRe = new Float64Array(this.bins);
    this.yfIm = new Float64Array(this.bins);
    this.mu = new Float64Array(this.bins);
    this.px = new Float64Array(this.bins);
    this.steps = new StepSizeControl(sampleRate, B, this.M, { eRe: this.eRe, eIm: this.eIm, yRe: this.yfRe, yIm: this.yfIm, px: this.px, mu: this.mu });
    this.reset();
  }

  /**
   * The echo delay (device latency plus the room's strongest path), in samples: from the converged
   * filter's largest tap when {@link converged}, else from the delay estimator; -1 before any
   * estimate (or the fixed `delayMs` when given).
   */
  get delay(): number {
    if (this.converged) return this.bulk + this.filter.peakTap();
    return this.fixedBulk >= 0 ? this.bulk + this.headroom : this.est.delay;
  }

  /** Where the adaptive filter starts, samples behind the reference (the bulk delay skipped). */
  get bulkDelay(): number {
    return this.bulk;
  }

  /**
   * Echo return loss enhancement, dB: mic power over output power while the reference plays,
   * smoothed over ~0.5 s. Near-end speech and noise lower it (they are in both); 0 before any.
   */
  get erleDb(): number {
    return this.see > 0 && this.sdd > 0 ? 10 * Math.log10(this.sdd / this.see) : 0;
  }

  /**
   * True once the filter has adapted and removed at least 10 dB of the signal while the reference
   * played; it stays true (double talk lowers the measured ERLE, not the filter) until `reset`.
   */
  get converged(): boolean {
    return this.wasConverged;
  }

  /** Back to the state after construction: filter, delay estimate and buffers cleared. */
  reset(): void {
    this.est.reset();
    this.inMic.fill(0);
    this.inRef.fill(0);
    this.outBuf.fill(0);
    this.pos = 0;
    this.ring.fill(0);
    this.written = 0;
    this.filter.reset();
    this.wasConverged = false;
    this.px.fill(0);
    this.steps.reset();
    this.blocks = 0;
    this.bulk = this.fixedBulk >= 0 ? this.fixedBulk : 0;
    this.seenUpdates = 0;
    this.candidate = -1;
    this.sdd = 0;
    this.see = 0;
  }

  /**
   * Cancels the echo of `ref` in `mic` for `n` samples (any n >= 0; each array at least n long),
   * writing `n` samples to `out` ({@link latency} samples late). `out` may be `mic` itself.
   */
  process(mic: Float32Array, ref: Float32Array, out: Float32Array, n: number): void {
    const B = this.B;
    for (let i = 0; i < n; i++) {
      const m = mic[i]!; // read before out[i] is written: out may be mic
      out[i] = this.outBuf[this.pos]!;
      this.inMic[this.pos] = m;
      this.inRef[this.pos] = ref[i]!;
      this.ring[this.written & this.ringMask] = ref[i]!;
      this.written++;
      if (++this.pos === B) {
        this.pos = 0;
        this.block();
      }
    }
  }

  /** The bulk delay (a multiple of the block) that puts `delay` `headroom` into the filter. */
  private bulkFor(delay: number, max: number): number {
    const b = Math.floor((delay - this.headroom) / this.B) * this.B;
    return Math.min(max, Math.max(0, b));
  }

  /** Loads the 2B reference samples ending `lag` samples before the newest into `t`. */
  private loadRef(lag: number): void {
    const start = this.written - lag - 2 * this.B;
    for (let i = 0; i < 2 * this.B; i++) this.t[i] = this.ring[(start + i) & this.ringMask]!;
  }

  private block(): void {
    const B = this.B;
    this.blocks++;
    if (this.fixedBulk < 0) {
      this.est.push(this.inMic, this.inRef, B);
      this.followDelay();
    }
    // New reference spectrum: the last two blocks before the bulk delay (overlap-save).
    this.loadRef(this.bulk);
    let sxx = 0;
    for (let i = B; i < 2 * B; i++) sxx += this.t[i]! * this.t[i]!;
    this.filter.pushReference(this.t);
    this.filter.weightedPower(this.px);
    // The foreground filter makes the output; the background one's error drives the adaptation.
    this.filter.estimate(true, this.t2);
    this.filter.estimate(false, this.t);
    let sdd = 0, see = 0, sff = 0, syy = 0, sey = 0; // prettier-ignore
    for (let i = 0; i < B; i++) {
      const d = this.inMic[i]!;
      const y = this.t[B + i]!;
      const e = d - y;
      const f = d - this.t2[B + i]!;
      this.outBuf[i] = f;
      this.t2[B + i] = e;
      sdd += d * d;
      see += e * e;
      sff += f * f;
      syy += y * y;
      sey += e * y;
      this.t[i] = 0;
      this.t2[i] = 0;
    }
    // Spectra of the background's estimate alone ([0, y]) and error ([0, e]), for its update.
    this.fft.forward(this.t, this.yfRe, this.yfIm);
    this.fft.forward(this.t2, this.eRe, this.eIm);
    if (sxx > FAR_SILENT * B) {
      // ERLE statistic (~0.5 s), over blocks where something is played.
      this.sdd = 0.984 * this.sdd + 0.016 * sdd;
      this.see = 0.984 * this.see + 0.016 * sff;
      this.filter.choose(see, sff);
      if (this.steps.adapted && this.erleDb >= 10) this.wasConverged = true;
    }
    if (this.steps.compute(sxx, see + NOISE_FLOOR * B, syy, sey)) this.filter.adapt(this.eRe, this.eIm, this.mu, this.blocks, this.t);
  }

  /**
   * Moves the filter when the delay estimator finds the echo outside the filter's sweet spot.
   * Two estimates in a row must agree (within half a block) before the filter moves, so one bad
   * window (double talk, a pause) cannot throw a converged filter away.
   */
  private followDelay(): void {
    const est = this.est;
    if (est.updates === this.seenUpdates) return;
    this.seenUpdates = est.updates;
    const d = est.delay;
    const target = this.bulkFor(d, this.maxBulk);
    if (target === this.bulk || (d >= this.bulk + this.headroom / 2 && d <= this.bulk + this.headroom + 3 * this.B)) {
      this.candidate = -1;
      return;
    }
    if (this.candidate >= 0 && Math.abs(d - this.candidate) <= this.B / 2) {
      this.shiftTo(target);
      this.candidate = -1;
    } else {
      this.candidate = d;
    }
  }

  /** Re-aims the filter at a new bulk delay, keeping the taps that still fall inside it. */
  private shiftTo(bulk: number): void {
    const B = this.B;
    const k = (bulk - this.bulk) / B;
    this.filter.shift(k);
    this.bulk = bulk;
    if (Math.abs(k) >= this.M) {
      // No tap kept: the filter is all zero, as a new one. Its step must start over too: the
      // leakage-driven step is proportional to the echo estimate, zero for a zero filter, so it
      // would never learn again.
      this.steps.restart();
    }
    // The reference spectra of every partition, re-read at the new delay. Called in the middle of
    // block(), before the new block's spectrum: partition j's slot still holds the previous
    // block's, which ended B earlier.
    for (let j = 0; j < this.M; j++) {
      this.loadRef(bulk + (j + 1) * B);
      this.filter.reloadReference(j, this.t);
    }
  }
}
