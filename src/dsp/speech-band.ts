/**
 * The speech band of the near-end detector: a 100-2000 Hz band-pass made of two second-order
 * Butterworth sections. Allocation-free per sample.
 */

/**
 * A second-order Butterworth section (RBJ cookbook, Q = 1/sqrt 2), transposed direct form II.
 * Coefficients for a cutoff at or above 0.45 x the rate: a pass-through.
 */
export class Biquad {
  private b0 = 1;
  private b1 = 0;
  private b2 = 0;
  private a1 = 0;
  private a2 = 0;
  private z1 = 0;
  private z2 = 0;

  constructor(sampleRate: number, cutoff: number, highPass: boolean) {
    if (cutoff >= 0.45 * sampleRate) return;
    const w = (2 * Math.PI * cutoff) / sampleRate;
    const alpha = Math.sin(w) * Math.SQRT1_2; // sin w / (2 Q)
    const c = Math.cos(w);
    const a0 = 1 + alpha;
    const k = (highPass ? 1 + c : 1 - c) / 2;
    this.b0 = this.b2 = k / a0;
    this.b1 = ((highPass ? -2 : 2) * k) / a0;
    this.a1 = (-2 * c) / a0;
    this.a2 = (1 - alpha) / a0;
  }

  reset(): void {
    this.z1 = this.z2 = 0;
  }

  step(x: number): number {
    const y = this.b0 * x + this.z1;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
    this.z2 = this.b2 * x - this.a2 * y;
    return y;
  }
}

/** The speech band, Hz: where a voice's energy is (its fundamental and first formants) and a
 * microphone's flat noise only a fraction of its power. */
const BAND_LOW = 100;
const BAND_HIGH = 2000;

/** A band-pass of the speech band: a high-pass then a low-pass section. */
export class SpeechBand {
  private readonly hp: Biquad;
  private readonly lp: Biquad;
  constructor(sampleRate: number) {
    this.hp = new Biquad(sampleRate, BAND_LOW, true);
    this.lp = new Biquad(sampleRate, BAND_HIGH, false);
  }
  reset(): void {
    this.hp.reset();
    this.lp.reset();
  }
  step(x: number): number {
    return this.lp.step(this.hp.step(x));
  }
}
