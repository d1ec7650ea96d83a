/**
 * A second-order Butterworth low- or high-pass section: the bilinear transform of
 * 1 / (s^2 + sqrt2 s + 1) (or s^2 over it) with the cutoff prewarped, so the digital response at
 * f is the analog one at tan(pi f / fs) / tan(pi fc / fs); -3 dB at the cutoff. Direct form I,
 * its state in four numbers. Allocation-free per sample. Used by the delay estimator (low-pass
 * before decimation) and the near-end detector's speech band.
 */
export class Butterworth2 {
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly a1: number;
  private readonly a2: number;
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;

  constructor(sampleRate: number, cutoff: number, highPass = false) {
    const w = Math.tan((Math.PI * cutoff) / sampleRate);
    const k = 1 / (1 + Math.SQRT2 * w + w * w);
    this.b0 = highPass ? k : w * w * k;
    this.b1 = (highPass ? -2 : 2) * this.b0;
    this.b2 = this.b0;
    this.a1 = 2 * (w * w - 1) * k;
    this.a2 = (1 - Math.SQRT2 * w + w * w) * k;
  }

  reset(): void {
    this.x1 = this.x2 = this.y1 = this.y2 = 0;
  }

  step(x: number): number {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}
