import { describe, expect, it } from 'vitest';
import { Resampler } from '../../src/dsp/resampler';

/** A sine of amplitude `amp` at `freq` Hz, `seconds` long at `rate`. */
function sine(rate: number, freq: number, seconds: number, amp = 1): Float32Array {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

function resampleAll(from: number, to: number, input: Float32Array): Float32Array {
  const r = new Resampler(from, to);
  const a = r.process(input);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Least-squares fit of a sine+cosine at `freq` to `x[lo..hi)` (rate `rate`). Returns the fitted
 * amplitude and the RMS of what is left (images, aliases, noise).
 */
function fit(x: Float32Array, rate: number, freq: number, lo: number, hi: number): { amp: number; residualRms: number } {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  const w = (2 * Math.PI * freq) / rate;
  for (let i = lo; i < hi; i++) {
    const s = Math.sin(w * i), c = Math.cos(w * i);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i]! * s; xc += x[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  let res = 0;
  for (let i = lo; i < hi; i++) {
    const e = x[i]! - (a * Math.sin(w * i) + b * Math.cos(w * i));
    res += e * e;
  }
  return { amp: Math.hypot(a, b), residualRms: Math.sqrt(res / (hi - lo)) };
}

function rms(x: Float32Array, lo: number, hi: number): number {
  let s = 0;
  for (let i = lo; i < hi; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (hi - lo));
}

const db = (v: number) => 20 * Math.log10(v);
const SINE_RMS = Math.SQRT1_2;

/** Worst alias (dB re. the input sine) of a sine swept over [f0, f1] at `from`, converted to `to`. */
function worstAlias(from: number, to: number, f0: number, f1: number, step: number): { db: number; at: number } {
  let worst = -Infinity, at = 0;
  for (let f = f0; f <= f1 + 1e-9; f += step) {
    const fr = Math.min(f, from / 2 - 1); // a sine exactly at Nyquist is all zeros: stay below
    const out = resampleAll(from, to, sine(from, fr, 0.25));
    const edge = 200;
    const d = db(rms(out, edge, out.length - edge) / SINE_RMS);
    if (d > worst) { worst = d; at = fr; }
  }
  return { db: worst, at };
}

/** Largest deviation from 0 dB of a sine from 50 Hz to `fmax`, and the worst residual (dB). */
function passband(from: number, to: number, fmax: number, step: number): { ripple: number; residual: number } {
  let ripple = 0, residual = -Infinity;
  for (let f = 50; f <= fmax + 1e-9; f += step) {
    const out = resampleAll(from, to, sine(from, f, 0.25));
    const edge = 200;
    const r = fit(out, to, f, edge, out.length - edge);
    ripple = Math.max(ripple, Math.abs(db(r.amp)));
    residual = Math.max(residual, db(r.residualRms / SINE_RMS));
  }
  return { ripple, residual };
}

describe('Resampler quality (goal: alias <= -60 dB, passband within 0.5 dB to 7 kHz)', () => {
  for (const from of [48000, 44100]) {
    it(`${from} -> 16000: every 8.5 kHz..Nyquist sine is at least 75 dB down`, () => {
      const w = worstAlias(from, 16000, 8500, from / 2, 125);
      expect(w.db).toBeLessThan(-75);
    });
    it(`${from} -> 16000: passband flat within 0.05 dB up to 7 kHz, residual below -75 dB`, () => {
      const p = passband(from, 16000, 7000, 250);
      expect(p.ripple).toBeLessThan(0.05);
      expect(p.residual).toBeLessThan(-75);
    });
  }
  it('22050 -> 16000 and 24000 -> 16000 reject 8.5 kHz..Nyquist by 75 dB', () => {
    expect(worstAlias(22050, 16000, 8500, 11025, 250).db).toBeLessThan(-75);
    expect(worstAlias(24000, 16000, 8500, 12000, 250).db).toBeLessThan(-75);
  });
  for (const [from, to] of [[16000, 48000], [16000, 44100], [24000, 48000], [24000, 44100], [22050, 48000], [8000, 44100]] as const) {
    it(`${from} -> ${to}: images at least 75 dB down, passband within 0.05 dB`, () => {
      // Up to 7/8 of the input's Nyquist: the image of f lands at from - f, in the stopband.
      const fmax = (from / 2) * 0.875;
      const p = passband(from, to, fmax, from / 64);
      expect(p.ripple).toBeLessThan(0.05);
      expect(p.residual).toBeLessThan(-75);
    });
  }
});
