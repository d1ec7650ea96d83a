/**
 * Bulk echo-delay estimation: how long after the reference was played its echo reaches the mic.
 *
 * The echo canceller's adaptive filter spans only ~150 ms of room response; the device latency in
 * front of it (20-250 ms and more) is found here and skipped with a plain delay line. Method:
 * generalized cross-correlation with SCOT weighting (each bin's cross-spectrum divided by the
 * geometric mean of both auto-spectra, all three smoothed over ~0.6 s), on both signals low-passed
 * and decimated to ~4 kHz. The weighting whitens speech, so the correlation peak is narrow (a few
 * decimated samples) even though speech is strongly coloured; smoothing across windows keeps the
 * peak where it is through double talk and pauses. The peak is refined by a parabola, so the
 * estimate is finer than the decimated grid.
 */
import { Butterworth2 } from './butterworth';
import { RealFft } from './fft';

/** Decimated rate aimed at: enough bandwidth (2 kHz) for speech's formants, cheap correlations. */
const TARGET_RATE = 4000;
/** Analysis window of the mic, s; the windows overlap by half. */
const WINDOW_S = 0.256;
/** Smoothing of the spectra per window: ~5 windows, ~0.6 s of memory. */
const LAMBDA = 0.8;
/** A peak this many times the RMS of the correlation (over all lags) is trusted. */
const MIN_CONFIDENCE = 6;
/** Mean-square below which a window holds no usable signal (-80 dBFS). */
const SILENT = 1e-8;

/**
 * Streaming delay estimator. Feed it mic and reference blocks of any length with
 * {@link DelayEstimator.push}; {@link DelayEstimator.delay} is the latest trusted estimate in samples
 * at the input rate (-1 until one exists), and {@link DelayEstimator.updates} counts estimates, so
 * the caller can tell a new one from the old. Allocation-free after the constructor.
 */
export class DelayEstimator {
  /** Latest trusted delay of the mic behind the reference, in input samples (fractional); -1 if none. */
  delay = -1;
  /** Peak-to-RMS ratio of the correlation behind {@link delay}. */
  confidence = 0;
  /** Number of trusted estimates made since the last reset. */
  updates = 0;

  private readonly factor: number;
  private readonly win: number;
  private readonly lags: number;
  private readonly hop: number;
  private readonly fft: RealFft;
  private readonly mask: number;
  private readonly micRing: Float32Array;
  private readonly refRing: Float32Array;
  private written = 0;
  private phase = 0;
  private sinceHop = 0;
  // Low-pass sections (one per signal) in front of the decimation.
  private readonly lpMic: Butterworth2;
  private readonly lpRef: Butterworth2;
  private readonly seg: Float64Array;
  private readonly mRe: Float64Array;
  private readonly mIm: Float64Array;
  private readonly rRe: Float64Array;
  private readonly rIm: Float64Array;
  private readonly sRe: Float64Array;
  private readonly sIm: Float64Array;
  private readonly pm: Float64Array;
  private readonly pr: Float64Array;
  private readonly corr: Float64Array;

  /**
   * @param sampleRate input rate, Hz.
   * @param maxDelayMs largest delay searched, ms.
   */
  constructor(sampleRate: number, maxDelayMs: number) {
    this.factor = Math.max(1, Math.round(sampleRate / TARGET_RATE));
    const rate = sampleRate / this.factor;
    this.win = Math.round(WINDOW_S * rate);
    this.lags = Math.ceil((maxDelayMs / 1000) * rate) + 2;
    this.hop = this.win >> 1;
    let n = 2;
    while (n < this.win + this.lags) n <<= 1;
    this.fft = new RealFft(n);
    this.mask = n - 1;
    this.micRing = new Float32Array(n);
    this.refRing = new Float32Array(n);
    // Butterworth low-pass at 0.4 x the decimated rate: what folds back lands above 0.6 x, weak.
    const cutoff = Math.min(0.4 * rate, 0.45 * sampleRate);
    this.lpMic = new Butterworth2(sampleRate, cutoff);
    this.lpRef = new Butterworth2(sampleRate, cutoff);
    const bins = this.fft.bins;
    this.seg = new Float64Array(n);
    this.mRe = new Float64Array(bins);
    this.mIm = new Float64Array(bins);
    this.rRe = new Float64Array(bins);
    this.rIm = new Float64Array(bins);
    this.sRe = new Float64Array(bins);
    this.sIm = new Float64Array(bins);
    this.pm = new Float64Array(bins);
    this.pr = new Float64Array(bins);
    this.corr = new Float64Array(n);
  }

  /** Forgets everything (history, smoothed spectra, estimate). */
  reset(): void {
    this.delay = -1;
    this.confidence = 0;
    this.updates = 0;
    this.written = 0;
    this.phase = 0;
    this.sinceHop = 0;
    this.lpMic.reset();
    this.lpRef.reset();
    this.micRing.fill(0);
    this.refRing.fill(0);
    this.sRe.fill(0);
    this.sIm.fill(0);
    this.pm.fill(0);
    this.pr.fill(0);
  }

  /** Feeds `n` time-aligned samples of mic and reference. */
  push(mic: Float32Array, ref: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const m = this.lpMic.step(mic[i]!);
      const r = this.lpRef.step(ref[i]!);
      if (++this.phase < this.factor) continue;
      this.phase = 0;
      this.micRing[this.written & this.mask] = m;
      this.refRing[this.written & this.mask] = r;
      this.written++;
      if (++this.sinceHop >= this.hop && this.written >= this.win + this.lags) {
        this.sinceHop = 0;
        this.analyse();
      }
    }
  }

  /** One window: update the smoothed spectra, correlate, and keep the peak if it stands out. */
  private analyse(): void {
    const seg = this.seg;
    const end = this.written;
    // Mic: the last `win` samples at the start of the segment.
    let em = 0;
    seg.fill(0);
    for (let i = 0; i < this.win; i++) {
      const v = this.micRing[(end - this.win + i) & this.mask]!;
      seg[i] = v;
      em += v * v;
    }
    this.fft.forward(seg, this.mRe, this.mIm);
    // Reference: `lags` more samples back, so every searched lag is inside the segment.
    const span = this.win + this.lags;
    let er = 0;
    seg.fill(0);
    for (let i = 0; i < span; i++) {
      const v = this.refRing[(end - span + i) & this.mask]!;
      seg[i] = v;
      er += v * v;
    }
    // Nothing played or nothing heard: this window says nothing about the delay.
    if (em / this.win < SILENT || er / span < SILENT) return;
    this.fft.forward(seg, this.rRe, this.rIm);
    const bins = this.fft.bins;
    for (let k = 0; k < bins; k++) {
      // conj(M) * R: its inverse is sum_i m[i] r[i + s].
      const mr = this.mRe[k]!;
      const mi = this.mIm[k]!;
      const rr = this.rRe[k]!;
      const ri = this.rIm[k]!;
      this.sRe[k] = LAMBDA * this.sRe[k]! + (mr * rr + mi * ri);
      this.sIm[k] = LAMBDA * this.sIm[k]! + (mr * ri - mi * rr);
      this.pm[k] = LAMBDA * this.pm[k]! + (mr * mr + mi * mi);
      this.pr[k] = LAMBDA * this.pr[k]! + (rr * rr + ri * ri);
    }
    let floor = 0;
    for (let k = 0; k < bins; k++) floor += this.pm[k]! + this.pr[k]!;
    floor = (floor / bins) * 1e-6; // keeps empty bins (outside the low-pass) from dividing by ~0
    for (let k = 0; k < bins; k++) {
      const g = 1 / Math.sqrt(this.pm[k]! * this.pr[k]! + floor * floor);
      this.mRe[k] = this.sRe[k]! * g;
      this.mIm[k] = this.sIm[k]! * g;
    }
    this.fft.inverse(this.mRe, this.mIm, this.corr);
    // corr[s] pairs mic time t with ref time t - (lags - s): lag = lags - s.
    // |peak|: a loudspeaker wired the other way round echoes with the opposite sign.
    let best = 0;
    let bestS = 0;
    let sum = 0;
    for (let s = 0; s <= this.lags; s++) {
      const c = this.corr[s]!;
      sum += c * c;
      if (Math.abs(c) > best) {
        best = Math.abs(c);
        bestS = s;
      }
    }
    const rms = Math.sqrt(sum / (this.lags + 1));
    const confidence = rms > 0 ? best / rms : 0;
    if (confidence < MIN_CONFIDENCE || bestS === 0 || bestS === this.lags) return;
    const sign = this.corr[bestS]! < 0 ? -1 : 1;
    const a = sign * this.corr[bestS - 1]!;
    const c = sign * this.corr[bestS + 1]!;
    const den = a - 2 * best + c;
    const frac = den < 0 ? (0.5 * (a - c)) / den : 0;
    this.delay = Math.max(0, (this.lags - bestS - frac) * this.factor);
    this.confidence = confidence;
    this.updates++;
  }
}
