/**
 * The adaptive filter of the echo canceller: a partitioned-block frequency-domain filter (MDF,
 * Soo & Pang 1990) in two copies, Valin's "two-path" arrangement.
 *
 * The filter's impulse response is cut into `M` partitions of `B` taps; each is applied in the
 * frequency domain (overlap-save, FFTs of 2B) to the reference spectrum of the matching block of
 * history, so a long response costs one FFT per block plus `M` spectral products. The background
 * copy adapts; the foreground copy makes the output and only takes the background's weights when
 * they have cancelled clearly better for a while. A background thrown off by double talk is thus
 * never heard, and is put back when it strays. Allocation-free after the constructor.
 */
import type { RealFft } from './fft';

/** Two-path partitioned frequency-domain filter with its reference history. */
export class PartitionedFilter {
  /** Partitions. */
  readonly M: number;
  /** Taps per partition (the block size). */
  readonly B: number;
  /** Bins per spectrum: B + 1. */
  readonly bins: number;
  /** Reference spectra per partition; partition j of the current block is at slot (head + j) % M. */
  readonly xRe: Float32Array[] = [];
  readonly xIm: Float32Array[] = [];
  private head = 0;
  // Background (adapting) and foreground (output) weights per partition.
  private readonly wRe: Float64Array[] = [];
  private readonly wIm: Float64Array[] = [];
  private readonly fRe: Float64Array[] = [];
  private readonly fIm: Float64Array[] = [];
  /** Proportionate step share of each partition (sums to 0.99). */
  private readonly prop: Float64Array;
  /** Largest |tap| and its index in each background partition, noted when it is constrained. */
  private readonly peakAbs: Float64Array;
  private readonly peakPos: Int32Array;
  private readonly yRe: Float64Array;
  private readonly yIm: Float64Array;
  private dAvg = 0;
  private lAvg = 0;

  constructor(
    private readonly fft: RealFft,
    M: number,
  ) {
    this.M = M;
    this.B = fft.size / 2;
    this.bins = this.B + 1;
    for (let j = 0; j < M; j++) {
      this.xRe.push(new Float32Array(this.bins));
      this.xIm.push(new Float32Array(this.bins));
      this.wRe.push(new Float64Array(this.bins));
      this.wIm.push(new Float64Array(this.bins));
      this.fRe.push(new Float64Array(this.bins));
      this.fIm.push(new Float64Array(this.bins));
    }
    this.prop = new Float64Array(M);
    this.peakAbs = new Float64Array(M);
    this.peakPos = new Int32Array(M);
    this.yRe = new Float64Array(this.bins);
    this.yIm = new Float64Array(this.bins);
    this.reset();
  }

  /** Zero weights and history. */
  reset(): void {
    for (let j = 0; j < this.M; j++) {
      this.xRe[j]!.fill(0);
      this.xIm[j]!.fill(0);
      this.wRe[j]!.fill(0);
      this.wIm[j]!.fill(0);
      this.fRe[j]!.fill(0);
      this.fIm[j]!.fill(0);
    }
    this.head = 0;
    this.prop.fill(0.99 / this.M);
    this.peakAbs.fill(0);
    this.peakPos.fill(0);
    this.dAvg = 0;
    this.lAvg = 0;
  }

  /** Starts a block: the 2B reference samples in `t` become partition 0's spectrum. */
  pushReference(t: Float64Array): void {
    this.head = (this.head + this.M - 1) % this.M;
    this.fft.forward(t, this.xRe[this.head]!, this.xIm[this.head]!);
  }

  /** Replaces partition j's reference spectrum with that of `t` (after a change of bulk delay). */
  reloadReference(j: number, t: Float64Array): void {
    const s = (this.head + j) % this.M;
    this.fft.forward(t, this.xRe[s]!, this.xIm[s]!);
  }

  /**
   * Reference power per bin, weighted as the update weights the partitions, into `px`. Normalizing
   * the step by exactly this keeps each bin's update stable (step x power <= 1) even at a speech
   * onset after silence, where a slowly smoothed power would still be near zero.
   */
  weightedPower(px: Float64Array): void {
    px.fill(0);
    for (let j = 0; j < this.M; j++) {
      const s = (this.head + j) % this.M;
      const xr = this.xRe[s]!;
      const xi = this.xIm[s]!;
      const p = this.prop[j]!;
      for (let k = 0; k < this.bins; k++) px[k] += p * (xr[k]! * xr[k]! + xi[k]! * xi[k]!);
    }
  }

  /** Echo estimate of the foreground (or background) filter into out[B..2B) (overlap-save). */
  estimate(foreground: boolean, out: Float64Array): void {
    const wRe = foreground ? this.fRe : this.wRe;
    const wIm = foreground ? this.fIm : this.wIm;
    this.yRe.fill(0);
    this.yIm.fill(0);
    for (let j = 0; j < this.M; j++) {
      const s = (this.head + j) % this.M;
      const xr = this.xRe[s]!;
      const xi = this.xIm[s]!;
      const wr = wRe[j]!;
      const wi = wIm[j]!;
      for (let k = 0; k < this.bins; k++) {
        this.yRe[k] += xr[k]! * wr[k]! - xi[k]! * wi[k]!;
        this.yIm[k] += xr[k]! * wi[k]! + xi[k]! * wr[k]!;
      }
    }
    this.fft.inverse(this.yRe, this.yIm, out);
  }

  /**
   * Foreground/background decision on the smoothed difference of their error energies this block
   * (`see` background, `sff` foreground): copy the background forward when it has been clearly
   * better over ~10 blocks; restore it from the foreground when it has been clearly worse.
   */
  choose(see: number, sff: number): void {
    this.dAvg = 0.9 * this.dAvg + 0.1 * (sff - see);
    this.lAvg = 0.9 * this.lAvg + 0.1 * (sff + see);
    if (this.dAvg > 0.1 * this.lAvg) {
      copy(this.wRe, this.wIm, this.fRe, this.fIm);
      this.dAvg = 0;
    } else if (this.dAvg < -0.5 * this.lAvg) {
      copy(this.fRe, this.fIm, this.wRe, this.wIm);
      this.dAvg = 0;
    }
  }

  /**
   * Background gradient step `W_j += prop_j mu(k) conj(X_j) E` on every partition; the gradient
   * constraint (no circular wrap) on partition 0 and on one other in turn (the "alternately
   * updated" MDF: M times cheaper, converges nearly as fast); then the proportionate shares.
   * `t` is 2B of scratch.
   */
  adapt(eRe: Float64Array, eIm: Float64Array, mu: Float64Array, block: number, t: Float64Array): void {
    const M = this.M;
    const bins = this.bins;
    for (let j = 0; j < M; j++) {
      const s = (this.head + j) % M;
      const xr = this.xRe[s]!;
      const xi = this.xIm[s]!;
      const wr = this.wRe[j]!;
      const wi = this.wIm[j]!;
      const p = this.prop[j]!;
      for (let k = 0; k < bins; k++) {
        const g = p * mu[k]!;
        wr[k] += g * (xr[k]! * eRe[k]! + xi[k]! * eIm[k]!);
        wi[k] += g * (xr[k]! * eIm[k]! - xi[k]! * eRe[k]!);
      }
    }
    this.constrain(0, t);
    if (M > 1) this.constrain(1 + (block % (M - 1)), t);
    // Each partition's share of the filter's energy, plus a floor so an empty one can still learn.
    let max = 0;
    for (let j = 0; j < M; j++) {
      let sum = 0;
      const wr = this.wRe[j]!;
      const wi = this.wIm[j]!;
      for (let k = 0; k < bins; k++) sum += wr[k]! * wr[k]! + wi[k]! * wi[k]!;
      this.prop[j] = Math.sqrt(sum);
      if (this.prop[j]! > max) max = this.prop[j]!;
    }
    let total = 0;
    for (let j = 0; j < M; j++) {
      this.prop[j] = this.prop[j]! + 0.1 * max + 1e-12;
      total += this.prop[j]!;
    }
    for (let j = 0; j < M; j++) this.prop[j] = (0.99 * this.prop[j]!) / total;
  }

  /** Zeroes the second half of partition j's impulse response, noting its largest tap. */
  private constrain(j: number, t: Float64Array): void {
    const B = this.B;
    this.fft.inverse(this.wRe[j]!, this.wIm[j]!, t);
    let peak = 0;
    let at = 0;
    for (let i = 0; i < B; i++) {
      const a = Math.abs(t[i]!);
      if (a > peak) {
        peak = a;
        at = i;
      }
      t[B + i] = 0;
    }
    this.peakAbs[j] = peak;
    this.peakPos[j] = at;
    this.fft.forward(t, this.wRe[j]!, this.wIm[j]!);
  }

  /** Index of the background filter's largest tap (as last noted), in samples from its start. */
  peakTap(): number {
    let j = 0;
    for (let i = 1; i < this.M; i++) if (this.peakAbs[i]! > this.peakAbs[j]!) j = i;
    return j * this.B + this.peakPos[j]!;
  }

  /**
   * Moves both filters `k` partitions earlier (k > 0: the bulk delay grew by k blocks, so what
   * partition j + k modelled is now partition j); partitions with no source are zeroed. The
   * caller then reloads every partition's reference spectrum.
   */
  shift(k: number): void {
    const M = this.M;
    const step = k > 0 ? 1 : -1;
    for (let j = k > 0 ? 0 : M - 1; j >= 0 && j < M; j += step) {
      const src = j + k;
      const ok = src >= 0 && src < M;
      move(this.wRe, j, src, ok);
      move(this.wIm, j, src, ok);
      move(this.fRe, j, src, ok);
      move(this.fIm, j, src, ok);
      this.peakAbs[j] = ok ? this.peakAbs[src]! : 0;
      this.peakPos[j] = ok ? this.peakPos[src]! : 0;
    }
  }
}

function copy(aRe: Float64Array[], aIm: Float64Array[], bRe: Float64Array[], bIm: Float64Array[]): void {
  for (let j = 0; j < aRe.length; j++) {
    bRe[j]!.set(aRe[j]!);
    bIm[j]!.set(aIm[j]!);
  }
}

function move(w: Float64Array[], j: number, src: number, ok: boolean): void {
  if (ok) w[j]!.set(w[src]!);
  else w[j]!.fill(0);
}
