import { describe, expect, it } from 'vitest';
import { RealFft } from '../../src/dsp/fft';
import { TalStreamError } from '../../src/errors';

/** The oracle: the O(n^2) DFT straight from its definition, in float64. */
function dft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = new Float64Array(n / 2 + 1);
  const im = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      sr += x[t]! * Math.cos(a);
      si += x[t]! * Math.sin(a);
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}

/** Deterministic pseudo-random samples in [-1, 1). */
function noise(n: number, seed: number): Float64Array {
  const x = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 31 - 1;
  }
  return x;
}

describe('RealFft', () => {
  for (const n of [2, 4, 8, 16, 64, 256, 1024]) {
    it(`forward matches the direct DFT, n = ${n}`, () => {
      const x = noise(n, n);
      const want = dft(x);
      const f = new RealFft(n);
      const re = new Float64Array(f.bins);
      const im = new Float64Array(f.bins);
      f.forward(x, re, im);
      // Float64 throughout: the error of a radix-2 FFT grows like log2(n) * eps * sqrt(n) * |x|.
      for (let k = 0; k < f.bins; k++) {
        expect(Math.abs(re[k]! - want.re[k]!)).toBeLessThan(1e-11);
        expect(Math.abs(im[k]! - want.im[k]!)).toBeLessThan(1e-11);
      }
    });

    it(`inverse undoes forward, n = ${n}`, () => {
      const x = noise(n, 7 * n + 1);
      const f = new RealFft(n);
      const re = new Float64Array(f.bins);
      const im = new Float64Array(f.bins);
      const y = new Float64Array(n);
      f.forward(x, re, im);
      f.inverse(re, im, y);
      for (let i = 0; i < n; i++) expect(Math.abs(y[i]! - x[i]!)).toBeLessThan(1e-13);
    });
  }

  it('inverse matches the direct inverse DFT of an arbitrary Hermitian spectrum', () => {
    const n = 32;
    const f = new RealFft(n);
    const re = noise(f.bins, 3);
    const im = noise(f.bins, 4);
    im[0] = 0;
    im[n / 2] = 0;
    const y = new Float64Array(n);
    f.inverse(re, im, y);
    for (let t = 0; t < n; t++) {
      // x[t] = (1/n) sum over all n bins; bins above n/2 are the conjugates of those below.
      let s = re[0]! + re[n / 2]! * Math.cos(Math.PI * t);
      for (let k = 1; k < n / 2; k++) {
        const a = (2 * Math.PI * k * t) / n;
        s += 2 * (re[k]! * Math.cos(a) - im[k]! * Math.sin(a));
      }
      expect(Math.abs(y[t]! - s / n)).toBeLessThan(1e-13);
    }
  });

  it('works on Float32Array with offsets', () => {
    const n = 128;
    const x = noise(n + 10, 9);
    const x32 = Float32Array.from(x);
    const want = dft(Float64Array.from(x32.subarray(10)));
    const f = new RealFft(n);
    const re = new Float32Array(f.bins);
    const im = new Float32Array(f.bins);
    f.forward(x32, re, im, 10);
    // Float32 storage of the result: relative rounding 6e-8 of values up to ~|X| = 20.
    for (let k = 0; k < f.bins; k++) {
      expect(Math.abs(re[k]! - want.re[k]!)).toBeLessThan(1e-5);
      expect(Math.abs(im[k]! - want.im[k]!)).toBeLessThan(1e-5);
    }
    const y = new Float32Array(n + 5);
    f.inverse(re, im, y, 5);
    for (let i = 0; i < n; i++) expect(Math.abs(y[5 + i]! - x32[10 + i]!)).toBeLessThan(1e-6);
  });

  it('rejects sizes that are not powers of two', () => {
    for (const n of [0, 1, 3, 12, 1.5, -4, 2 ** 21]) {
      expect(() => new RealFft(n)).toThrow(TalStreamError);
    }
  });
});
