/**
 * The speech band of the near-end detector: a 100-2000 Hz band-pass made of two second-order
 * Butterworth sections. Allocation-free per sample.
 */
import { Butterworth2 } from './butterworth';

/** The speech band, Hz: where a voice's energy is (its fundamental and first formants) and a
 * microphone's flat noise only a fraction of its power. */
const BAND_LOW = 100;
const BAND_HIGH = 2000;

/** A band-pass of the speech band: a high-pass then a low-pass section. The low-pass is left out
 * where 2000 Hz is at or above 0.45 x the rate (it would cut nothing there). */
export class SpeechBand {
  private readonly hp: Butterworth2;
  private readonly lp: Butterworth2 | null;
  constructor(sampleRate: number) {
    this.hp = new Butterworth2(sampleRate, BAND_LOW, true);
    this.lp = BAND_HIGH < 0.45 * sampleRate ? new Butterworth2(sampleRate, BAND_HIGH) : null;
  }
  reset(): void {
    this.hp.reset();
    this.lp?.reset();
  }
  step(x: number): number {
    const y = this.hp.step(x);
    return this.lp ? this.lp.step(y) : y;
  }
}
