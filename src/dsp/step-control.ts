/**
 * The step size of the echo canceller's adaptive filter, per bin, by Valin's rule ("On adjusting
 * the learning rate in frequency domain echo cancellation with double-talk", 2007): the step is the
 * share of the output that is residual echo, estimated from how the output's power tracks the echo
 * estimate's (the "leakage"). When the user talks, the output grows but the estimate does not, the
 * share drops and adaptation slows by itself.
 *
 * Pure and allocation-free after the constructor (it runs per block inside an AudioWorklet).
 */

/** Mean-square per sample below which the reference counts as silent (-70 dBFS). */
export const FAR_SILENT = 1e-7;
/** Floor of the error power per sample (-90 dBFS): the regularization of Valin's ratios. */
export const NOISE_FLOOR = 1e-9;
/** Lower bound of the leakage estimate: no better than ~23 dB is hoped from the linear filter. */
const MIN_LEAK = 0.005;
/** How fast the leakage estimate follows, relative to Valin's rate (1 = ~2 s at full speed). */
const LEAK_RATE = 4;

/** The per-bin arrays the control reads each block and the one it writes (`mu`), owned by the canceller. */
export interface StepSpectra {
  /** Spectrum of the background filter's error (its real and imaginary parts). */
  eRe: Float64Array;
  eIm: Float64Array;
  /** Spectrum of the background filter's echo estimate. */
  yRe: Float64Array;
  yIm: Float64Array;
  /** Smoothed reference power per bin. */
  px: Float64Array;
  /** Out: the step size per bin. */
  mu: Float64Array;
}

export class StepSizeControl {
  private readonly bins: number;
  // Smoothed spectra of error and estimate, and the leakage regression's two sums.
  private readonly eh: Float64Array;
  private readonly yh: Float64Array;
  private pey = 1;
  private pyy = 1;
  private sumAdapt = 0;
  private adaptedYet = false;

  /** `B`: block length (the spectra have B + 1 bins); `M`: the filter's partitions. */
  constructor(
    private readonly sampleRate: number,
    private readonly B: number,
    private readonly M: number,
    private readonly io: StepSpectra,
  ) {
    this.bins = B + 1;
    this.eh = new Float64Array(this.bins);
    this.yh = new Float64Array(this.bins);
  }

  /** False during the start-up rate, true once the leakage estimate means something. */
  get adapted(): boolean {
    return this.adaptedYet;
  }

  /** As constructed: smoothed spectra cleared and the start-up rate. */
  reset(): void {
    this.eh.fill(0);
    this.yh.fill(0);
    this.restart();
  }

  /**
   * The start-up rate and the leakage estimate at 1, as for a new filter (the smoothed spectra
   * kept): for a filter that was zeroed.
   */
  restart(): void {
    this.pey = 1;
    this.pyy = 1;
    this.sumAdapt = 0;
    this.adaptedYet = false;
  }

  /**
   * Valin's learning rate, per bin, into `mu`, from this block's powers (reference `sxx`, error
   * `see`, estimate `syy`, their cross term `sey`); false when nothing should be learned this
   * block. The leakage (how much of the echo estimate's power shows up in the error's, by linear
   * regression of their fluctuations) times the estimate's power is the residual echo; the step is
   * that residual's share of the error. Near-end speech raises the error, not the leakage, so the
   * step drops while the user talks.
   */
  compute(sxx: number, see: number, syy: number, sey: number): boolean {
    const { eRe, eIm, yRe, yIm, px, mu } = this.io;
    const bins = this.bins;
    const B = this.B;
    const avg = B / this.sampleRate;
    let pey = 0;
    let pyy = 0;
    for (let k = 0; k < bins; k++) {
      const ef = eRe[k]! * eRe[k]! + eIm[k]! * eIm[k]!;
      const yf = yRe[k]! * yRe[k]! + yIm[k]! * yIm[k]!;
      const de = ef - this.eh[k]!;
      const dy = yf - this.yh[k]!;
      pey += de * dy;
      pyy += dy * dy;
      this.eh[k] = (1 - avg) * this.eh[k]! + avg * ef;
      this.yh[k] = (1 - avg) * this.yh[k]! + avg * yf;
      mu[k] = ef; // kept for the per-bin step below
    }
    pyy = Math.sqrt(pyy);
    pey = pyy > 0 ? pey / pyy : 0;
    // Faster tracking when the echo estimate is large relative to the error (little near-end).
    const alpha = Math.min((LEAK_RATE * 4 * avg * syy) / see, LEAK_RATE * avg);
    this.pey = (1 - alpha) * this.pey + alpha * pey;
    this.pyy = Math.max(1e-30, (1 - alpha) * this.pyy + alpha * pyy);
    if (this.pey < MIN_LEAK * this.pyy) this.pey = MIN_LEAK * this.pyy;
    if (this.pey > this.pyy) this.pey = this.pyy;
    const leak = this.pey / this.pyy;
    if (sxx <= FAR_SILENT * B) return false;
    // Residual echo ratio: the leakage's share of the estimate. Speex's MDF adds 1e-4 x the
    // reference's power here, a floor that assumes the echo path loses no more than ~40 dB; a laptop
    // loses 20-30 dB, so that floor was about the echo itself and kept the step large where the
    // error is mostly noise: at a -30 dB path over -60 dBFS noise the filter's own misadjustment
    // capped ERLE at 14-16 dB (18-20 without it; tracking a changed room is as fast). The leakage's
    // floor (MIN_LEAK) still keeps a minimum step.
    let rer = (3 * leak * syy) / see;
    const bound = (sey * sey) / (see * syy + 1e-30);
    if (rer < bound) rer = bound;
    if (rer > 0.5) rer = 0.5;
    // Leave the start-up rate once it has done about one full step per partition and the leakage
    // says the estimate already explains some of the echo.
    if (!this.adaptedYet && this.sumAdapt > this.M && leak > 0.03) this.adaptedYet = true;
    const reg = 2 * B * NOISE_FLOOR;
    if (this.adaptedYet) {
      for (let k = 0; k < bins; k++) {
        const e = mu[k]! + reg;
        const yf = yRe[k]! * yRe[k]! + yIm[k]! * yIm[k]!;
        let r = leak * yf;
        if (r > 0.5 * e) r = 0.5 * e;
        r = 0.7 * r + 0.3 * rer * e;
        mu[k] = r / (e * (px[k]! + reg));
      }
    } else {
      // Before the leakage means anything: a rate from how loud the error is against the reference.
      const rate = Math.min(0.25 * sxx, 0.25 * see) / see;
      for (let k = 0; k < bins; k++) mu[k] = (2 * rate) / (px[k]! + reg);
      this.sumAdapt += rate;
    }
    return true;
  }
}
