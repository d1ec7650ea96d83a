// TimeScaler (src/dsp/time-scaler.ts) lag search, on signals built so that the lag it must choose
// is known by hand: the coarse grid (every D-th lag from minPeriod, D = sampleRate / 8000), the
// fine search within D - 1 of the coarse best, ties (the shortest lag), the normalisation (by the
// energy of the candidate window), and the put-off of a poor match (normalised correlation < 0.5
// while |drift| < maxPeriod / 2).
// Each scaler starts from a reset at rate 1.5, so output o plays input o until the first splice,
// which falls due when the drift (+0.5 per output) reaches minPeriod: at output 2 x minPeriod.
import { describe, expect, it } from 'vitest';
import { TimeScaler } from '../../src/dsp/time-scaler';
import { bestCosine, firstAccelerate, firstDifference, noise, periodic, runAll } from './dsp-time-scaler-signals';

/**
 * 16 kHz (D = 2), lags 40..96, a window of 2 samples: the coarse search sees only the first sample
 * of each window, on even lags; the fine one both. The first splice is due at output 80 with a
 * drift of 40 < 96 / 2, so a poor match there is put off. `marks` sets input 80 + q (q: lag).
 */
function tinyWindow(marks: Record<number, number>): { o: number; lag: number } | null {
  const x = new Float32Array(400);
  x[80] = 1; // the window at the read position: (1, 0)
  for (const [q, v] of Object.entries(marks)) x[80 + Number(q)] = v;
  const ts = new TimeScaler(16000, { minPeriodMs: 2.5, maxPeriodMs: 6, windowMs: 0.125, capacityMs: 100 });
  expect([ts.minPeriod, ts.maxPeriod]).toEqual([40, 96]);
  runAll(ts, x, 200, 1.5);
  return firstAccelerate(ts);
}

describe('TimeScaler lag search', () => {
  // With the window (1, 0), a candidate (a, b) scores a / sqrt(a^2 + b^2) on the fine search, and
  // sign(a) on the coarse one (which sees a only).
  it('the fine search looks within D - 1 = 1 of the coarse best, no further (decoys at -3 and +3)', () => {
    // Coarse: 58 -> 0, 60 -> 1 (the first 1 on the grid; 62 also 1 but later). Fine: 59 (0, 1) -> 0,
    // 60 (1, 1) and 61 (1, 1) -> 0.71: a tie, so 60. The perfect (1, 0) candidates at 57, 63 and 65
    // are off the grid and outside 59..61.
    expect(tinyWindow({ 57: 1, 60: 1, 61: 1, 62: 1, 63: 1, 65: 1 })).toEqual({ o: 80, lag: 60 });
  });

  it('the fine search reaches D - 1 beyond the coarse best', () => {
    // Coarse best 60 (1, 1): 0.71; fine 61 (1, 0): 1.
    expect(tinyWindow({ 60: 1, 61: 1 })).toEqual({ o: 80, lag: 61 });
  });

  it('the coarse grid includes maxPeriod', () => {
    // 40 + 28 x 2 = 96: the only match is at the last lag of the grid.
    expect(tinyWindow({ 96: 1 })).toEqual({ o: 80, lag: 96 });
  });

  it('equal matches: the shortest lag wins, on the coarse grid and on the fine one', () => {
    // A constant: every lag matches exactly (the same products summed in the same order), so the
    // coarse search keeps 40 and the fine one, over 40..41, keeps 40 too.
    const ts = new TimeScaler(16000);
    runAll(ts, new Float32Array(1500).fill(0.5), 200, 1.5);
    expect(ts.minPeriod).toBe(40);
    expect(firstAccelerate(ts)).toEqual({ o: 80, lag: 40 });
  });

  it('candidates are normalised by their own energy: a copy at twice the amplitude ties with the copy itself', () => {
    // 8 kHz, window 40. periodic(50), doubled from input 130 on: at output 40 the window 40..79
    // recurs exactly at lag 50 (90..129) and twice as loud at lag 100 (140..179). Normalised by the
    // candidate's energy both score the same, so the shorter lag wins; unnormalised, 100 would.
    const x = periodic(50, 2000, 21);
    for (let i = 130; i < x.length; i++) x[i]! *= 2;
    const ts = new TimeScaler(8000, { windowMs: 5, capacityMs: 1000 });
    runAll(ts, x, 200, 1.5);
    expect(firstAccelerate(ts)).toEqual({ o: 40, lag: 50 });
  });
});

describe('TimeScaler poor-match put-off', () => {
  /**
   * 8 kHz, lags 20..48, window 3: the window at output 40 is (1, 1, 0); around lag 30 the input is
   * -1, 1, 0, v, -2 (inputs 69..73), zero elsewhere. Candidate windows: 28 (0, -1, 1), 29 (-1, 1, 0),
   * 30 (1, 0, v), 31 (0, v, -2), 32 (v, -2, 0), 33 (-2, 0, 0): only 30 correlates well, with
   * cosine 1 / sqrt(2 (1 + v^2)). At v = 1 that is 1/2 exactly (in floating point too: 1 / sqrt(2)
   * against 0.5 x 2 / sqrt(2)); at v = 1.01 just below.
   */
  function halfMatch(v: number): { o: number; lag: number } | null {
    const x = new Float32Array(300);
    x[40] = x[41] = 1;
    x.set([-1, 1, 0, v, -2], 69);
    const ts = new TimeScaler(8000, { minPeriodMs: 2.5, maxPeriodMs: 6, windowMs: 0.375, capacityMs: 100 });
    expect([ts.minPeriod, ts.maxPeriod]).toEqual([20, 48]);
    runAll(ts, x, 150, 1.5);
    return firstAccelerate(ts);
  }

  it('a correlation of exactly 0.5 is good enough; just below it is put off for minPeriod', () => {
    expect(halfMatch(1)).toEqual({ o: 40, lag: 30 });
    // Put off at output 40 (drift 20 < 24); at 60 the drift is 30 >= 24: spliced however poor. The
    // window there is all zeros: every lag scores 0, the shortest (20) wins.
    expect(halfMatch(1.01)).toEqual({ o: 60, lag: 20 });
  });

  for (const [rate, s] of [
    [1.125, 1],
    [0.875, -1],
  ] as const) {
    it(`noise at ${rate}: retried every minPeriod while |drift| < maxPeriod / 2, then spliced at the match it has`, () => {
      // 8 kHz defaults: a splice falls due at output 160 (drift 0.125 x 160 = 20; an expand also
      // has its 120 samples behind by then). Each retry comes 20 outputs later with the drift 2.5
      // further: 20 + 2.5 k reaches 60 (= 120 / 2) at k = 16, output 480.
      const x = noise(3000, 31);
      for (let r = 160; r < 480; r += 20) expect(bestCosine(x, r, s, 20, 120, 80)).toBeLessThan(0.5); // the premise: no match
      const ts = new TimeScaler(8000, { capacityMs: 1000 });
      const y = runAll(ts, x, 700, rate);
      // The first output that is not a copy of its own input index: the first splice's fade.
      expect(firstDifference(x, y)).toBe(480);
    });
  }
});
