// RealFft at the edges of its contract (src/dsp/fft.ts): the largest size, the refusal message,
// what `inverse` ignores and what it leaves alone. dsp-fft.test.ts checks the transforms
// themselves against the direct DFT.
import { describe, expect, it } from 'vitest';
import { RealFft } from '../../src/dsp/fft';

describe('RealFft edges', () => {
  it('accepts 2^20 (the documented largest size) and says what it refuses', () => {
    expect(new RealFft(2 ** 20).bins).toBe(2 ** 19 + 1);
    for (const n of [3, 2 ** 21]) {
      expect(() => new RealFft(n)).toThrow(
        expect.objectContaining({ code: 'bad-argument', message: `RealFft: size must be a power of two 2..2^20, got ${n}` }),
      );
    }
  });

  it('inverse ignores the imaginary parts of DC and Nyquist (a real signal has none)', () => {
    const n = 16;
    const f = new RealFft(n);
    // A spectrum of DC 1 and Nyquist 1: x[t] = (1 + (-1)^t) / n, whatever im[0] and im[n/2] say.
    const re = new Float64Array(f.bins);
    const im = new Float64Array(f.bins);
    re[0] = 1;
    re[n / 2] = 1;
    im[0] = 5;
    im[n / 2] = -3;
    const y = new Float64Array(n);
    f.inverse(re, im, y);
    expect(Array.from(y)).toEqual(Array.from({ length: n }, (_, t) => (t % 2 === 0 ? 2 / n : 0)));
  });

  it('inverse writes output[offset .. offset + size) and nothing past it', () => {
    const n = 8;
    const f = new RealFft(n);
    const re = new Float64Array(f.bins);
    const im = new Float64Array(f.bins);
    re[0] = n; // DC n: every sample 1
    const y = new Float64Array(3 + n + 4).fill(-7);
    f.inverse(re, im, y, 3);
    expect(Array.from(y)).toEqual([-7, -7, -7, 1, 1, 1, 1, 1, 1, 1, 1, -7, -7, -7, -7]);
  });
});
