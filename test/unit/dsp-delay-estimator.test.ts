import { describe, expect, it } from 'vitest';
import { DelayEstimator } from '../../src/dsp/delay-estimator';
import { noise } from './dsp-echo-sim';

// Exact tests of the bulk delay estimator on white noise through a known pure delay, mostly at
// 4 kHz, the estimator's own decimated rate (no decimation: one input sample per lag). There, with
// maxDelayMs = 50: window 0.256 x 4000 = 1024 samples, lags searched 0.05 x 4000 + 2 = 202, a hop
// of 512; a correlation is computed once 1024 + 202 = 1226 samples are in and then every 512.
// A white reference through a pure delay has, after the SCOT weighting (each bin divided by the
// geometric mean of both auto-spectra), a correlation that is an impulse at the delay: its
// neighbours are ~0, so the parabola moves the peak by a tiny fraction of a sample.

const RATE4 = 4000;

/** `g` x `ref` delayed by `d` samples (zeros before), plus `g2` x `ref` delayed by `d2`. */
function delayed(ref: Float32Array, d: number, g = 0.5, d2 = -1, g2 = 0): Float32Array {
  const m = new Float32Array(ref.length);
  for (let i = d; i < m.length; i++) m[i] = g * ref[i - d]!;
  if (d2 >= 0) for (let i = d2; i < m.length; i++) m[i] = m[i]! + g2 * ref[i - d2]!;
  return m;
}

function estimate(rate: number, mic: Float32Array, ref: Float32Array, maxMs = 50): DelayEstimator {
  const e = new DelayEstimator(rate, maxMs);
  e.push(mic, ref, mic.length);
  return e;
}

describe('DelayEstimator (exact, white noise through a known delay)', () => {
  it('finds an integer delay to a hundredth of a sample, whatever the echo\'s sign', () => {
    const ref = noise(RATE4, -20, 3);
    for (const d of [1, 2, 37, 100, 201]) {
      for (const g of [0.5, -0.5]) {
        const e = estimate(RATE4, delayed(ref, d, g), ref);
        expect(Math.abs(e.delay - d)).toBeLessThan(0.01);
        // A pure delay of a white signal: the whitened peak stands far over the RMS of the 203
        // lags (an impulse among zeros would give sqrt(203) = 14.2); the trust bound is 6.
        expect(e.confidence).toBeGreaterThan(6);
      }
    }
  });

  it('never reports the edges of the searched range (0 and maxDelay + 2 lags): no estimate there', () => {
    const ref = noise(RATE4, -20, 3);
    // A delay of 0 puts the peak at the last searched lag index, 202 at the first: the parabola
    // needs a neighbour on both sides, so neither is trusted; 203 is outside the range.
    for (const d of [0, 202, 203]) {
      const e = estimate(RATE4, delayed(ref, d), ref);
      expect(e.delay).toBe(-1);
      expect(e.updates).toBe(0);
      expect(e.confidence).toBe(0);
    }
  });

  it('whitens: a coloured reference through a pure delay gives the same impulse of a correlation', () => {
    // SCOT divides each bin by the geometric mean of both auto-spectra, so the colour of the
    // reference (white noise through a one-pole low-pass at 0.9: 20 dB of tilt) is gone and the
    // peak stands out as for white noise. An impulse among zeros over L + 1 lags has a peak of
    // sqrt(L + 1) times their RMS (14.2 for 203 lags, 15.9 for 253 at 5 kHz); the finite windows
    // leave a little spread: within 5% of it.
    const white = noise(RATE4, -20, 3);
    let y = 0;
    const coloured = white.map((v) => (y = 0.9 * y + v) * 0.3);
    for (const ref of [white, coloured]) {
      const e = estimate(RATE4, delayed(ref, 37), ref);
      expect(Math.abs(e.delay - 37)).toBeLessThan(0.01);
      expect(e.confidence).toBeGreaterThan(0.95 * Math.sqrt(203));
    }
    // 5 kHz: no decimation (5000 / 4000 rounds to 1), a 1280-sample window, 0.05 x 5000 + 2 = 252
    // lags, an FFT of 2048 (the window is not half of it, as it is at 4 kHz).
    const r5 = noise(5000, -20, 3);
    const e5 = estimate(5000, delayed(r5, 37), r5);
    expect(Math.abs(e5.delay - 37)).toBeLessThan(0.01);
    expect(e5.confidence).toBeGreaterThan(0.95 * Math.sqrt(253));
  });

  it('refines between lags: two equal paths a sample apart are a delay of d + 0.5', () => {
    // ref/2 at 37 and ref/2 at 38: the correlation has two equal peaks; the parabola through the
    // larger and its neighbours (a = the other peak, c ~ 0) lands halfway: frac = -0.5 x b / -b.
    const ref = noise(RATE4, -20, 3);
    const e = estimate(RATE4, delayed(ref, 37, 0.5, 38, 0.5), ref);
    expect(Math.abs(e.delay - 37.5)).toBeLessThan(0.02);
    // The same with the loudspeaker wired the other way round (both taps -1/2): the parabola is
    // fitted to the peak's magnitude, so it lands halfway too.
    const inv = estimate(RATE4, delayed(ref, 37, -0.5, 38, -0.5), ref);
    expect(Math.abs(inv.delay - 37.5)).toBeLessThan(0.02);
  });

  it('works on the decimated grid at 16 kHz (factor 4): a delay of 150 = 37.5 decimated lags', () => {
    // At 16 kHz one lag is 4 input samples; 148 is lag 37 exactly, 150 halfway between 37 and 38
    // (the low-pass before the decimation is the same on both signals: it does not move the lag).
    const ref = noise(16000, -20, 3);
    expect(Math.abs(estimate(16000, delayed(ref, 148), ref).delay - 148)).toBeLessThan(0.04);
    expect(Math.abs(estimate(16000, delayed(ref, 150), ref).delay - 150)).toBeLessThan(0.5);
    // 8 kHz: factor 2, 75 samples = 37.5 lags.
    const r8 = noise(8000, -20, 3);
    expect(Math.abs(estimate(8000, delayed(r8, 75), r8).delay - 75)).toBeLessThan(0.25);
  });

  it('correlates once 1226 samples are in, then every 512 (4 kHz, 50 ms)', () => {
    const ref = noise(RATE4, -20, 3);
    const mic = delayed(ref, 37);
    const e = new DelayEstimator(RATE4, 50);
    const counts: number[] = [];
    for (let i = 0; i < RATE4; i++) {
      e.push(mic.subarray(i, i + 1), ref.subarray(i, i + 1), 1);
      counts.push(e.updates);
    }
    // counts[i] is after i + 1 samples.
    expect(counts[1224]).toBe(0);
    expect(counts[1225]).toBe(1);
    expect(counts[1225 + 511]).toBe(1);
    expect(counts[1225 + 512]).toBe(2);
    // 1226 + 5 x 512 = 3786 <= 4000 < 4298: six in one second.
    expect(counts[RATE4 - 1]).toBe(6);
    // At 16 kHz the same count comes from 4 x as many samples (one in four is kept).
    const r16 = noise(16000, -20, 3);
    const e16 = new DelayEstimator(16000, 50);
    const m16 = delayed(r16, 148);
    e16.push(m16, r16, 4 * 1226 - 1);
    expect(e16.updates).toBe(0);
    e16.push(m16.subarray(4 * 1226 - 1), r16.subarray(4 * 1226 - 1), 1);
    expect(e16.updates).toBe(1);
  });

  it('the search range follows maxDelayMs: 100 ms at 4 kHz searches up to lag 401', () => {
    const ref = noise(2 * RATE4, -20, 3);
    // 0.1 x 4000 + 2 = 402 lags: 300 is inside (with 50 ms it is not, see above), 402 is the edge.
    expect(Math.abs(estimate(RATE4, delayed(ref, 300), ref, 100).delay - 300)).toBeLessThan(0.01);
    expect(estimate(RATE4, delayed(ref, 300), ref, 50).delay).toBe(-1);
    expect(estimate(RATE4, delayed(ref, 402), ref, 100).delay).toBe(-1);
    // 200 ms: 802 lags, the window and the lags need an FFT of 2048 (1826 samples, not a power
    // of two away from the window's 1024 as at 50 and 100 ms).
    expect(Math.abs(estimate(RATE4, delayed(ref, 700), ref, 200).delay - 700)).toBeLessThan(0.01);
  });

  it('trusts nothing from unrelated signals or silence (-80 dBFS per window)', () => {
    const ref = noise(RATE4, -20, 3);
    // Independent noises: the largest of 203 correlation values of no peak is ~3 x their RMS.
    expect(estimate(RATE4, noise(RATE4, -20, 9), ref).updates).toBe(0);
    expect(estimate(RATE4, new Float32Array(RATE4), ref).updates).toBe(0);
    expect(estimate(RATE4, delayed(ref, 37), new Float32Array(RATE4)).updates).toBe(0);
    // The silence bound is -80 dBFS of the low-passed signal (white noise at 4 kHz keeps ~80% of
    // its power through the 1.6 kHz low-pass, -1 dB): an echo at -76 dBFS counts, at -84 not;
    // the same for a reference at those levels (with a mic well over the bound).
    const at = (db: number): number => Math.pow(10, (db + 20) / 20);
    expect(estimate(RATE4, delayed(ref, 37, at(-76)), ref).updates).toBe(6);
    expect(estimate(RATE4, delayed(ref, 37, at(-84)), ref).updates).toBe(0);
    for (const [db, n] of [
      [-76, 6],
      [-84, 0],
    ] as const) {
      const quiet = noise(RATE4, db, 3);
      const mic = delayed(quiet, 37, 1).map((v, i) => v + 0.01 * Math.sin(i));
      expect(estimate(RATE4, mic, quiet).updates).toBe(n);
    }
  });

  it('smooths over windows: a window of unrelated mic after good ones keeps the delay', () => {
    // Two seconds of a true echo at 37, then a second where the mic is other noise (double talk
    // with no echo): the smoothed cross-spectrum (x 0.8 per window) still peaks at 37.
    const ref = noise(3 * RATE4, -20, 3);
    const mic = delayed(ref, 37);
    mic.set(noise(RATE4, -20, 21), 2 * RATE4);
    const e = new DelayEstimator(RATE4, 50);
    e.push(mic, ref, 2 * RATE4);
    const before = e.updates;
    e.push(mic.subarray(2 * RATE4), ref.subarray(2 * RATE4), RATE4);
    // The first windows of the other noise still see the old peak (trusted, at 37); none moves it.
    expect(e.updates).toBeGreaterThan(before);
    expect(Math.abs(e.delay - 37)).toBeLessThan(0.5);
  });

  it('reset() forgets everything: the same input gives the same estimates as a new estimator', () => {
    const ref = noise(RATE4, -20, 3);
    const mic = delayed(ref, 60);
    const e = estimate(RATE4, delayed(ref, 37), ref);
    e.reset();
    expect([e.delay, e.confidence, e.updates]).toEqual([-1, 0, 0]);
    e.push(mic, ref, mic.length);
    const fresh = estimate(RATE4, mic, ref);
    expect([e.delay, e.confidence, e.updates]).toEqual([fresh.delay, fresh.confidence, fresh.updates]);
    // Chunking does not matter either (the state is per sample).
    const c = new DelayEstimator(RATE4, 50);
    for (let s = 0; s < mic.length; s += 333) c.push(mic.subarray(s), ref.subarray(s), Math.min(333, mic.length - s));
    expect([c.delay, c.confidence, c.updates]).toEqual([fresh.delay, fresh.confidence, fresh.updates]);
  });
});
