// TimeScaler (src/dsp/time-scaler.ts) follow(): the second channel of a stereo output splices where
// the first did, by the same lag, instead of searching its own signal (PlayoutCore's stereo path:
// both get the same pushes and render calls, the leader's first). The follower is given a signal
// whose own best lag differs, so following is visible in its positions.
// 8 kHz defaults: minPeriod 20, maxPeriod 120, window 80.
import { describe, expect, it } from 'vitest';
import { TimeScaler } from '../../src/dsp/time-scaler';
import { firstAccelerate, noise, periodic, runAll, sources } from './dsp-time-scaler-signals';

const SR = 8000;
const BIG = { capacityMs: 1000 };

/** Leader and follower through the same calls; per call, the source index of each output of it. */
function pair(xl: Float32Array, xf: Float32Array, calls: [number, number][]): { l: TimeScaler; f: TimeScaler; sl: number[]; sf: number[]; yf: Float32Array } {
  const l = new TimeScaler(SR, BIG);
  const f = new TimeScaler(SR, BIG);
  f.follow(l);
  expect(l.push(xl)).toBe(xl.length);
  expect(f.push(xf)).toBe(xf.length);
  const total = calls.reduce((s, [n]) => s + n, 0);
  const yl = new Float32Array(total);
  const yf = new Float32Array(total);
  const sl: number[] = [];
  const sf: number[] = [];
  let len = 0;
  for (const [n, rate] of calls) {
    expect(l.render(yl, len, n, rate)).toBe(n);
    expect(f.render(yf, len, n, rate)).toBe(n);
    for (let j = len; j < len + n; j++) {
      sl.push(l.sourceIndex(j));
      sf.push(f.sourceIndex(j));
    }
    len += n;
  }
  return { l, f, sl, sf, yf };
}

describe('TimeScaler follow()', () => {
  it('the follower splices at the leader\'s outputs by the leader\'s lag, not at its own best lag', () => {
    const xl = periodic(50, 4000, 41);
    const xf = periodic(60, 4000, 42);
    // Alone, the follower's signal would be spliced at lag 60 (its period).
    const alone = new TimeScaler(SR, BIG);
    runAll(alone, xf, 300, 1.5);
    expect(firstAccelerate(alone)).toEqual({ o: 40, lag: 60 });
    // 1.5 for 8 quanta, then 0.5 for 8 (expands): the same source index for every output.
    const calls: [number, number][] = [...Array<[number, number]>(8).fill([128, 1.5]), ...Array<[number, number]>(8).fill([128, 0.5])];
    const { sl, sf, f, yf } = pair(xl, xf, calls);
    expect(sf).toEqual(sl);
    expect(sl.every((s) => Number.isInteger(s))).toBe(true);
    // The leader's first splice: output 40, lag 50 (see dsp-time-scaler-exact.test.ts), so the
    // follower's source index jumps by 50 at output 40 + 25 and it copies its input 140.. after the
    // fade (not 40 + 60 + 30 and 160.., as it would on its own).
    expect([sf[64], sf[65]]).toEqual([64, 115]);
    for (let j = 90; j < 140; j++) expect(yf[j]).toBe(xf[j + 50]);
    expect(f.consumed).toBe(sl[sl.length - 1]! + 1);
  });

  it('a leader that spliced 16 times within one call is still followed splice by splice', () => {
    // One call of 1600 outputs at 1.5: splices at 40, 140, .., 1540 (16, all remembered).
    const xl = periodic(50, 4000, 43);
    const xf = periodic(60, 4000, 44);
    const { l, f } = pair(xl, xf, [[1600, 1.5]]);
    const sl = Array.from({ length: 1560 }, (_, j) => l.sourceIndex(j + 40));
    expect(Array.from({ length: 1560 }, (_, j) => f.sourceIndex(j + 40))).toEqual(sl);
    expect(sl.every((s) => Number.isInteger(s))).toBe(true);
    expect(f.consumed).toBe(l.consumed);
    expect(l.consumed).toBe(2400);
  });

  it('a splice the leader puts off (a poor match) is put off by the follower too, which keeps its positions', () => {
    // The leader's noise has no match, so at 1.125 it puts its splice off from output 160 to 480
    // (see dsp-time-scaler-search.test.ts); the follower's periodic signal would match at 160.
    const xl = noise(4000, 31);
    const xf = periodic(50, 4000, 45);
    const { l, f, sl, sf } = pair(xl, xf, Array<[number, number]>(6).fill([128, 1.125]));
    expect(sf).toEqual(sl);
    for (let j = 0; j < 480; j++) expect(sf[j]).toBe(j);
    // Then it splices (an accelerate puts every later output ahead of its own index by >= 20).
    expect(sf[599]).toBeGreaterThanOrEqual(619);
    // Every output's source still known afterwards, and the same.
    expect(sources(f, 768)).toEqual(sources(l, 768));
    expect(f.sourceIndex(0)).toBe(0);
  });
});
