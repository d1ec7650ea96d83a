// Shared by the exact TimeScaler tests (not a test file itself): signals whose best splice lag is
// known by construction, a run helper, and the normalised correlation written from its definition.
import { expect } from 'vitest';
import { TimeScaler } from '../../src/dsp/time-scaler';
import { rng } from './dsp-time-scaler-helpers';

/**
 * x[i] = g[i mod T], g uniform in [-1, 1) from a seeded PRNG: it repeats bit for bit every T
 * samples, so a window matches exactly (normalised correlation 1) at lags T, 2T, ... and, the
 * values being random, nowhere else. A cross-fade between two copies a period apart is the signal
 * itself: a + w (b - a) with b = a is a, bit for bit.
 */
export function periodic(T: number, len: number, seed: number): Float32Array {
  const r = rng(seed);
  const g = Array.from({ length: T }, () => 2 * r() - 1);
  const x = new Float32Array(len);
  for (let i = 0; i < len; i++) x[i] = g[i % T]!;
  return x;
}

/** White noise, uniform in [-1, 1), seeded. */
export function noise(len: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(len);
  for (let i = 0; i < len; i++) x[i] = 2 * r() - 1;
  return x;
}

/** Pushes all of x (the scaler's ring must hold it), renders n outputs in one call; all n expected. */
export function runAll(ts: TimeScaler, x: Float32Array, n: number, rate: number): Float32Array {
  expect(ts.push(x)).toBe(x.length);
  const y = new Float32Array(n);
  expect(ts.render(y, 0, n, rate)).toBe(n);
  return y;
}

/** sourceIndex(j) for j in [0, n). */
export const sources = (ts: TimeScaler, n: number): number[] => Array.from({ length: n }, (_, j) => ts.sourceIndex(j));

/**
 * The first accelerate of a scaler that only copied before it (so output o played input o): the
 * splice's new side, P ahead, weighs >= 1/2 from its (P >> 1)-th sample on, so the first output
 * whose source index is not its own index is o + (P >> 1), and its source is o + P + (P >> 1).
 */
export function firstAccelerate(ts: TimeScaler): { o: number; lag: number } | null {
  for (let j = 0; j < ts.produced; j++) {
    const s = ts.sourceIndex(j);
    if (s !== j) {
      const lag = s - j;
      return { o: j - (lag >> 1), lag };
    }
  }
  return null;
}

/** First output that is not the input sample of the same index (the first splice's first sample). */
export function firstDifference(x: Float32Array, y: Float32Array): number {
  for (let j = 0; j < y.length; j++) if (y[j] !== x[j]) return j;
  return -1;
}

/**
 * Largest normalised correlation, from its definition (cosine of the angle between the window at r
 * and the window at r + s q), over the lags lo..hi: the match quality the splicer judges.
 */
export function bestCosine(x: Float32Array, r: number, s: number, lo: number, hi: number, win: number): number {
  let best = -Infinity;
  for (let q = lo; q <= hi; q++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < win; i++) {
      const a = x[r + i]!;
      const b = x[r + s * q + i]!;
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
    best = Math.max(best, ab / Math.sqrt(aa * bb));
  }
  return best;
}
