import { TalStreamError } from '../errors';

/**
 * The PlayoutCore's output gain, per sample: the fades at every edge (start, resume, before the
 * buffer runs dry, interrupt) and the volume, which glides to a new value over one fade length so
 * a change makes no click. Linear ramps; allocation-free.
 */
export class GainEnvelope {
  private gain = 0;
  private target = 0;
  private step = 0;
  private vol: number;
  private volTarget: number;
  private readonly volStep: number;

  /** @param fadeLen samples of a fade in (start, resume) and of a volume glide from 0 to 1 */
  constructor(private readonly fadeLen: number, volume = 1) {
    this.volStep = 1 / fadeLen;
    this.vol = this.volTarget = volume;
  }

  /** The volume the output is at or gliding to (linear gain). */
  get volume(): number {
    return this.volTarget;
  }
  set volume(v: number) {
    if (!(v >= 0 && Number.isFinite(v))) throw new TalStreamError('bad-argument', `volume must be a finite number >= 0, got ${v}`);
    this.volTarget = v;
  }

  /** True while anything can be heard (the fade's gain is above 0). */
  get audible(): boolean {
    return this.gain > 0;
  }

  /** Silence at once; the next `fadeIn` starts from 0. */
  mute(): void {
    this.gain = 0;
    this.target = 0;
  }

  /** From silence: rise to full over the fade length (a start or a resume). */
  start(): void {
    this.gain = 0;
    this.fadeIn();
  }

  /** From where the gain is: rise to full over the fade length (audio came during a fade-out). */
  fadeIn(): void {
    this.target = 1;
    this.step = 1 / this.fadeLen;
  }

  /** Fall from where the gain is to 0 at the `samples`-th next sample exactly. */
  fadeOut(samples: number): void {
    this.target = 0;
    this.step = this.gain / samples;
  }

  /** The gain of the next output sample (fade x volume), advancing both by one sample. */
  next(): number {
    const g = this.gain;
    if (g < this.target) this.gain = Math.min(this.target, g + this.step);
    else if (g > this.target) {
      // Snap the rounding residue so a fade really ends at 0.
      const next = g - this.step;
      this.gain = next - this.target < 1e-9 ? this.target : next;
    }
    const v = this.vol;
    if (v !== this.volTarget) this.vol = v < this.volTarget ? Math.min(this.volTarget, v + this.volStep) : Math.max(this.volTarget, v - this.volStep);
    return this.gain * this.vol;
  }
}
