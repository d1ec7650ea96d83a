// Shared by the TimeScaler tests (not a test file itself): the speech fixtures, signals, the
// oracles written from first principles (zero crossings, a sinusoid annihilator, jumps, RMS,
// correlation) and the stretch driver.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { TimeScaler, type TimeScalerOptions } from '../../src/dsp/time-scaler';
import { readWav } from '../../src/protocol/wav';
import { rng } from '../support/chunking.mjs';

/** Deterministic PRNG (mulberry32, test/support/chunking.mjs) so every run tests the same random chunkings. */
export { rng };

export const root = path.resolve(__dirname, '../..');
export const speech = (name: string): Float32Array => readWav(readFileSync(path.join(root, 'test/fixtures/speech-tsm', name))).channels[0]!;
export const db = (v: number): number => 20 * Math.log10(v);


export function tone(sr: number, hz: number, seconds: number, amp = 0.9): Float32Array {
  const x = new Float32Array(Math.round(sr * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / sr);
  return x;
}

/**
 * Largest |consumed - sum(n x rate)| while input remains, at rates within 1 +- dr: a splice is forced
 * once the drift reaches maxPeriod, and a splice holds off the next for up to 2 x maxPeriod outputs
 * (its fade, then one period of copy), during which the drift moves by dr per output.
 */
export const driftBound = (ts: TimeScaler, dr: number): number => ts.maxPeriod * (1 + 2 * dr) + 1;

interface Run {
  y: Float32Array;
  /** Sum over calls of samples rendered x rate: the input the rates asked for. */
  ideal: number;
  ts: TimeScaler;
  /** Largest |consumed - ideal| seen after a call while input remained. */
  maxDrift: number;
}

/**
 * Streams x through a TimeScaler: per call, `rate(call)` and `block(call)` output samples. Input is
 * pushed either to fill the ring ('fill', or all at once when it is big enough) or just up to
 * `needed(n, rate)` ('needed', the least the scaler says it must have).
 */
export function stretch(
  x: Float32Array,
  sr: number,
  rate: (call: number) => number,
  block: (call: number) => number = () => 128,
  mode: 'fill' | 'needed' = 'fill',
  opts?: TimeScalerOptions,
): Run {
  const ts = new TimeScaler(sr, opts);
  const y = new Float32Array(Math.ceil(x.length * 2.1) + 4096);
  let pushed = 0;
  let len = 0;
  let ideal = 0;
  let maxDrift = 0;
  for (let call = 0; ; call++) {
    const n = block(call);
    const r = rate(call);
    if (mode === 'fill') pushed += ts.push(x, pushed, x.length - pushed);
    else {
      const want = ts.needed(n, r) - ts.available;
      if (want > 0) pushed += ts.push(x, pushed, Math.min(want, x.length - pushed));
      if (pushed < x.length) expect(ts.available).toBeGreaterThanOrEqual(ts.needed(n, r));
    }
    const got = ts.render(y, len, n, r);
    len += got;
    ideal += got * r;
    if (pushed < x.length) {
      expect(got).toBe(n); // never short while input remains
      maxDrift = Math.max(maxDrift, Math.abs(ts.consumed - ideal));
    }
    if (got < n) break;
  }
  expect(pushed).toBe(x.length);
  return { y: y.slice(0, len), ideal, ts, maxDrift };
}

/** Frequency from rising zero crossings (linearly interpolated) in y[lo, hi). */
export function zeroCrossingHz(y: Float32Array, sr: number, lo: number, hi: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = lo; i + 1 < hi; i++) {
    if (y[i]! < 0 && y[i + 1]! >= 0) {
      const t = i + y[i]! / (y[i]! - y[i + 1]!);
      if (first < 0) first = t;
      last = t;
      count++;
    }
  }
  return ((count - 1) * sr) / (last - first);
}

/**
 * Largest |y[n+1] - 2cos(w) y[n] + y[n-1]|: this 3-tap filter annihilates any sinusoid at w (any
 * amplitude and phase), so what it leaves is the splicing. A step of height s between two samples
 * leaves about s (and (2cos(w) - 1) s at the next sample); a phase or amplitude drift of d per
 * sample leaves only about 2 w d. So a maximum below 0.01 means no step reaches -40 dBFS.
 */
export function annihilatorMax(y: Float32Array, sr: number, hz: number): number {
  const c = 2 * Math.cos((2 * Math.PI * hz) / sr);
  let m = 0;
  for (let i = 1; i + 1 < y.length; i++) m = Math.max(m, Math.abs(y[i + 1]! - c * y[i]! + y[i - 1]!));
  return m;
}

export function maxJump(x: Float32Array): number {
  let m = 0;
  for (let i = 1; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - x[i - 1]!));
  return m;
}

export function rms(x: Float32Array, lo: number, hi: number): number {
  let s = 0;
  for (let i = lo; i < hi; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, hi - lo));
}

export function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

export const RATES = [16000, 24000, 44100, 48000];
export type RateCase = [string, (call: number) => number];
export const varying = (seed: number): ((call: number) => number) => {
  // A new rate each quantum, uniform in 0.9..1.1 (memoised so the run is reproducible).
  const r = rng(seed);
  const rates: number[] = [];
  return (call) => (rates[call] ??= 0.9 + 0.2 * r());
};
export const CASES: RateCase[] = [
  ['0.9', () => 0.9],
  ['1.1', () => 1.1],
  ['0.9..1.1 per quantum', varying(7)],
];
