// TimeScaler (src/dsp/time-scaler.ts) positions worked out by hand: where each splice starts, its
// lag, the source index of every output, the input needed, the ring's size, the rate clamps.
// At 8 kHz the defaults are minPeriod 20 samples (2.5 ms), maxPeriod 120 (15 ms), window 80 (10 ms),
// and the coarse lag search is not decimated (8 kHz / 8 kHz), so the lag search is exhaustive.
// The drift grows by rate - 1 per output; a splice falls due once it reaches +-minPeriod. The
// signals are built so that the right lag is known without running the code (periodic(): exact
// matches at multiples of the period only, ties going to the shortest lag as the header says).
import { describe, expect, it } from 'vitest';
import { TimeScaler } from '../../src/dsp/time-scaler';
import { periodic, runAll, sources, firstAccelerate } from './dsp-time-scaler-signals';

const SR = 8000;
/** A ring big enough to push every test signal at once (8000 samples ahead). */
const BIG = { capacityMs: 1000 };
const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i);

/**
 * Rate 1.5 on periodic(50) from a reset: the drift (+0.5 per output) reaches 20 at output 40, so
 * splice k starts at output 40 + 100k. Each one skips a period (50: the shortest exact match), fades
 * over 50 outputs and then copies 50 (the hold) while the drift climbs back from 20 - 50 + 25 to
 * 20; 100 outputs consume 150 inputs, so splice k reads from input 40 + 150k. Within a splice, output
 * t plays the old side r + t while its weight (50 - t) / 51 is above 1/2 (t < 25), then r + 50 + t.
 */
const accel15 = (j: number): number => {
  if (j < 40) return j;
  const k = Math.floor((j - 40) / 100);
  const t = j - 40 - 100 * k;
  const r = 40 + 150 * k;
  return t < 25 ? r + t : r + 50 + t;
};
/**
 * Rate 0.5 on periodic(50): the drift reaches -20 at output 40, but an expand replays maxPeriod
 * (120) samples behind the read position, which exist only from input 120 on: the first expand is
 * at output 120 (drift -60). It replays a period: after 50 fade outputs the read index is back
 * where it started, then 50 copies; 100 outputs consume 50 inputs, so expand k starts at output
 * 120 + 100k reading input 120 + 50k. Output t plays r + t for t < 25; from then on the new side
 * (r - 50 + t) is behind what was heard, so the source index stays at r + 24 until the new side
 * passes it (t = 75).
 */
const expand05 = (j: number): number => {
  if (j < 120) return j;
  const k = Math.floor((j - 120) / 100);
  const t = j - 120 - 100 * k;
  const r = 120 + 50 * k;
  return t < 25 ? r + t : Math.max(r + 24, r - 50 + t);
};

describe('TimeScaler sizes', () => {
  it('option ms are rounded to samples; the ring is the smallest power of two holding the asked capacity (and the lookahead) plus maxPeriod behind', () => {
    const ts = new TimeScaler(SR);
    expect([ts.minPeriod, ts.maxPeriod]).toEqual([20, 120]);
    // 80 ms = 640 ahead + 120 behind = 760 -> a ring of 1024: 904 ahead.
    expect(ts.capacity).toBe(904);
    expect(ts.space).toBe(904);
    // At 1 kHz ms are samples. 113 + 15 = 128 exactly: a ring of 128, not 256.
    const o = { minPeriodMs: 3, maxPeriodMs: 15, windowMs: 10 };
    expect(new TimeScaler(1000, { ...o, capacityMs: 113 }).capacity).toBe(113);
    // 120 + 15 = 135 -> 256: 241 ahead, which holds the 120 asked for.
    expect(new TimeScaler(1000, { ...o, capacityMs: 120 }).capacity).toBe(241);
    // A capacity below the lookahead is raised to it: an accelerate needs maxPeriod + max(window,
    // maxPeriod) = 15 + 35 = 50 ahead (a window of 35 here), so the ring must hold at least 50 + 15;
    // 65 -> 128: 113 ahead (a ring of 64 would leave 49, and no accelerate could ever start).
    const tiny = new TimeScaler(1000, { ...o, windowMs: 35, capacityMs: 1 });
    expect(tiny.capacity).toBe(113);
    // A maxPeriod below minPeriod is raised to it.
    expect(new TimeScaler(1000, { minPeriodMs: 20, maxPeriodMs: 10 }).maxPeriod).toBe(20);
  });

  it('push takes what fits, from an offset, by default the rest of the source', () => {
    const ts = new TimeScaler(1000, { minPeriodMs: 3, maxPeriodMs: 15, windowMs: 10, capacityMs: 113 });
    const x = ramp(300);
    expect(ts.push(x, 290)).toBe(10); // the last 10 of 300
    expect(ts.push(x, 0, -5)).toBe(0);
    expect(ts.push(x, 0, 200)).toBe(103); // 113 - 10 fit
    expect(ts.space).toBe(0);
    const y = new Float32Array(120);
    expect(ts.render(y, 0, 120, 1)).toBe(113);
    expect(Array.from(y.subarray(0, 12))).toEqual([290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 0, 1]);
    expect(y[112]).toBe(102);
  });

  it('render at rate 1 returns only what was pushed, also after earlier reads; sourceIndex(-1) is -1', () => {
    const ts = new TimeScaler(SR);
    expect(ts.consumed).toBe(0);
    expect(ts.sourceIndex(-1)).toBe(-1);
    const x = ramp(100);
    ts.push(x);
    const y = new Float32Array(200);
    expect(ts.render(y, 0, 60, 1)).toBe(60);
    expect(ts.render(y, 60, 100, 1)).toBe(40);
    expect(ts.render(y, 100, 100, 1)).toBe(0);
    expect(Array.from(y.subarray(0, 100))).toEqual(Array.from(x));
    expect([ts.produced, ts.consumed, ts.available, ts.runway]).toEqual([100, 100, 0, 0]);
  });
});

describe('TimeScaler needed()', () => {
  it('from a reset: n while no splice can fall due, else n x rate + one lag of overshoot + the lookahead', () => {
    const ts = new TimeScaler(SR);
    expect(ts.needed(500, 1)).toBe(500);
    // 1.5: 39 outputs leave the drift at 19.5 < 20, nothing can fall due: the copy reads 39.
    expect(ts.needed(39, 1.5)).toBe(39);
    // 40 reach 20: 40 x 1.5 + 120 (the splice may overshoot by a lag) + 240 (an accelerate's
    // lookahead: its lag and its window beyond, 2 x maxPeriod).
    expect(ts.needed(40, 1.5)).toBe(420);
    expect(ts.needed(159, 1.125)).toBe(159);
    expect(ts.needed(160, 1.125)).toBe(160 * 1.125 + 120 + 240);
    // 0.5: an expand never skips input, so n outputs read at most n new samples, plus its lookahead
    // of max(window, maxPeriod) = 120.
    expect(ts.needed(39, 0.5)).toBe(39);
    expect(ts.needed(40, 0.5)).toBe(160);
    expect(ts.needed(159, 0.875)).toBe(159);
    expect(ts.needed(160, 0.875)).toBe(280);
  });

  it('rates are clamped to 0.5..1.5 (both ends included), NaN plays at 1', () => {
    const ts = new TimeScaler(SR);
    // At 0.25 the drift would reach -20 within 30 outputs; clamped to 0.5 it does not.
    expect([ts.needed(30, 0.25), ts.needed(40, 0.25), ts.needed(40, -3)]).toEqual([30, 160, 160]);
    // At 2 it would reach 20 within 30 outputs; clamped to 1.5 it does not.
    expect([ts.needed(30, 2), ts.needed(40, 2), ts.needed(40, Infinity)]).toEqual([30, 420, 420]);
    expect(ts.needed(40, NaN)).toBe(40);
    // And render: rate 3 plays exactly as 1.5, 0.1 as 0.5, NaN as 1.
    const x = periodic(50, 3000, 1);
    const same = (a: number, b: number): void => {
      const ta = new TimeScaler(SR, BIG);
      const tb = new TimeScaler(SR, BIG);
      expect(Array.from(runAll(ta, x, 400, a))).toEqual(Array.from(runAll(tb, x, 400, b)));
      expect(sources(ta, 400)).toEqual(sources(tb, 400));
    };
    same(3, 1.5);
    same(0.1, 0.5);
    same(NaN, 1);
    const t = new TimeScaler(SR, BIG);
    runAll(t, x, 400, NaN);
    expect(t.consumed).toBe(400);
  });

  it('at rate 1 with no splice in progress it is n, whatever drift was left by a splice put off', () => {
    // 100 pushed: an accelerate due at output 40 lacks its lookahead (240): put off, drift 30 left.
    const up = new TimeScaler(SR);
    up.push(ramp(100));
    up.render(new Float32Array(60), 0, 60, 1.5);
    expect(up.consumed).toBe(60);
    expect(up.needed(10, 1)).toBe(10);
    // An expand due at 40 needs 120 behind the read position: put off, drift -30 left.
    const down = new TimeScaler(SR);
    down.push(ramp(100));
    down.render(new Float32Array(60), 0, 60, 0.5);
    expect(down.consumed).toBe(60);
    expect(down.needed(10, 1)).toBe(10);
  });

  it('during an accelerate it counts the lag the fade skips: exactly what rate 1 then reads', () => {
    const x = periodic(50, 2000, 2);
    // 280 pushed: the accelerate at output 40 (lag 50) just has its lookahead. After 50 outputs
    // its fade has played 10 of 50 samples: the next 40 outputs read up to input 139, then the copy
    // goes on from 140, so 300 outputs read up to 140 + 260 - 1: input 400 in all, 350 more than
    // the 50 consumed.
    const make = (): TimeScaler => {
      const ts = new TimeScaler(SR);
      ts.push(x, 0, 280);
      expect(ts.render(new Float32Array(50), 0, 50, 1.5)).toBe(50);
      expect(ts.consumed).toBe(50);
      return ts;
    };
    const a = make();
    expect(a.needed(300, 1)).toBe(350);
    a.push(x, 280, 120);
    expect(a.available).toBe(350);
    expect(a.render(new Float32Array(300), 0, 300, 1)).toBe(300);
    const b = make();
    b.push(x, 280, 119); // one short
    expect(b.render(new Float32Array(300), 0, 300, 1)).toBe(299);
    // Past the fade's half-way point (30 of 50 played) the new side counts as consumed: 40 + 50 +
    // 29 + 1 = 120; the last 20 fade outputs and 280 of copy read up to 139 + 280 = 419.
    const c = new TimeScaler(SR);
    c.push(x, 0, 280);
    c.render(new Float32Array(70), 0, 70, 1.5);
    expect(c.consumed).toBe(120);
    expect(c.needed(300, 1)).toBe(300);
    // Once the fade is over, nothing is in progress: n.
    const d = new TimeScaler(SR, BIG);
    runAll(d, x, 100, 1.5);
    expect(d.needed(10, 1)).toBe(10);
  });
});

describe('TimeScaler splice positions on a periodic signal', () => {
  it('rate 1.5: every splice where the drift reaches minPeriod, lag one period, output bit-exact the input', () => {
    const x = periodic(50, 3000, 3);
    const ts = new TimeScaler(SR, BIG);
    const y = runAll(ts, x, 1000, 1.5);
    expect(sources(ts, 1000)).toEqual(Array.from({ length: 1000 }, (_, j) => accel15(j)));
    // Splices by whole periods leave the waveform as it was (the faded sides are equal).
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer, 0, 4000))).toBe(true);
    expect(ts.consumed).toBe(1500);
    // The lag 100 matches as well as 50: ties go to the shorter lag.
    expect(firstAccelerate(ts)).toEqual({ o: 40, lag: 50 });
  });

  it('rate 0.5: the first expand waits for maxPeriod of input behind the read position, then one per 100 outputs', () => {
    const x = periodic(50, 3000, 4);
    const ts = new TimeScaler(SR, BIG);
    const y = runAll(ts, x, 1000, 0.5);
    expect(sources(ts, 1000)).toEqual(Array.from({ length: 1000 }, (_, j) => expand05(j)));
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer, 0, 4000))).toBe(true);
    expect(ts.consumed).toBe(550); // expand05(999) + 1: the drift stays at -60 after each
  });

  it('rates 1.125 and 0.875: a splice starts at the very output where the drift reaches +-minPeriod (160)', () => {
    const x = periodic(50, 3000, 5);
    const up = new TimeScaler(SR, BIG);
    runAll(up, x, 300, 1.125);
    expect(firstAccelerate(up)).toEqual({ o: 160, lag: 50 });
    // The expand at 160 (input 160 >= 120 behind): its first 25 outputs play 160.., then the
    // source index stays at 184 while the replayed period comes by.
    const down = new TimeScaler(SR, BIG);
    runAll(down, x, 300, 0.875);
    expect(sources(down, 300).slice(158, 190)).toEqual([158, 159, ...Array.from({ length: 25 }, (_, t) => 160 + t), 184, 184, 184, 184, 184]);
  });

  it('a splice needs its whole lookahead in the ring, not one sample less', () => {
    const x = periodic(50, 2000, 6);
    const y = new Float32Array(400);
    // Accelerate at output 40: lag 50 + window (80) or lag (120) beyond -> 240 past input 40.
    const a = new TimeScaler(SR);
    a.push(x, 0, 280);
    // 50 of the 280 are skipped; the next one (at output 140) lacks its lookahead.
    expect(a.render(y, 0, 400, 1.5)).toBe(230);
    expect(firstAccelerate(a)).toEqual({ o: 40, lag: 50 });
    const b = new TimeScaler(SR);
    b.push(x, 0, 279);
    expect(b.render(y, 0, 400, 1.5)).toBe(279);
    expect(firstAccelerate(b)).toBe(null);
    // Expand at output 120: max(window, maxPeriod) = 120 past input 120. 50 samples are replayed.
    const c = new TimeScaler(SR);
    c.push(x, 0, 240);
    expect(c.render(y, 0, 400, 0.5)).toBe(290);
    const d = new TimeScaler(SR);
    d.push(x, 0, 239);
    expect(d.render(y, 0, 400, 0.5)).toBe(239);
    expect(sources(d, 239)).toEqual(Array.from({ length: 239 }, (_, j) => j));
  });

  it('an expand at lag maxPeriod in a full ring replays the oldest sample the ring keeps', () => {
    // Period 120 = maxPeriod: the only exact match. The ring (1024) is filled to its capacity (904
    // ahead) right when the expand at output 120 reaches 120 samples back to input 0.
    const x = periodic(120, 3000, 7);
    const ts = new TimeScaler(SR);
    const y = new Float32Array(420);
    expect(ts.push(x, 0, 904)).toBe(904);
    expect(ts.render(y, 0, 120, 0.5)).toBe(120);
    expect(ts.push(x, 904, 500)).toBe(120);
    expect(ts.space).toBe(0);
    expect(ts.render(y, 120, 300, 0.5)).toBe(300);
    // Lag 120 (sides equal) twice, at 120 and 360: the output is the input, bit for bit.
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer, 0, 420 * 4))).toBe(true);
    expect(ts.sourceIndex(359)).toBe(239);
  });
});

describe('TimeScaler cross-fade and sourceIndex', () => {
  it('the cross-fade is linear with weights (k + 1) / (P + 1) on the new side, on a ramp (lag minPeriod)', () => {
    // On a ramp the window at lag q is the window shifted up by q: its angle to the window itself
    // grows with q, so the shortest lag (20) matches best in both directions.
    const up = new TimeScaler(SR, BIG);
    const ya = runAll(up, ramp(2000), 100, 1.5);
    expect(firstAccelerate(up)).toEqual({ o: 40, lag: 20 });
    // Output 40 + k mixes input 40 + k and 60 + k; the weights of a linear fade over 20 samples
    // that reaches neither end: 1/21 .. 20/21, symmetric (w_k + w_(19-k) = 1).
    for (let k = 0; k < 20; k++) expect(ya[40 + k]).toBeCloseTo(40 + k + (20 * (k + 1)) / 21, 3);
    expect(ya[60]).toBe(80); // then the copy goes on at 80
    const down = new TimeScaler(SR, BIG);
    const yd = runAll(down, ramp(2000), 200, 0.5);
    // Expand at 120 (lag 20): output 120 + k mixes 120 + k into 100 + k.
    for (let k = 0; k < 20; k++) expect(yd[120 + k]).toBeCloseTo(120 + k - (20 * (k + 1)) / 21, 3);
    expect(yd[140]).toBe(120);
  });

  it('sourceIndex remembers the last 16 splices: NaN before the 16th-latest, exact from it on', () => {
    const x = periodic(50, 4000, 8);
    // 1500 outputs: 15 splices (40 .. 1440), the reset's identity is still remembered.
    const a = new TimeScaler(SR, BIG);
    runAll(a, x, 1500, 1.5);
    expect([a.sourceIndex(0), a.sourceIndex(39), a.sourceIndex(1499)]).toEqual([0, 39, accel15(1499)]);
    // 1600: 16 splices (40 .. 1540): the reset's entry is gone, the first splice is the oldest known.
    const b = new TimeScaler(SR, BIG);
    runAll(b, x, 1600, 1.5);
    expect(b.sourceIndex(39)).toBeNaN();
    expect(sources(b, 1600).slice(40)).toEqual(Array.from({ length: 1560 }, (_, j) => accel15(j + 40)));
  });
});

describe('TimeScaler runway and settle', () => {
  it('runway is what rate 1 plays from the input pushed: fresh, mid-accelerate, after it, mid-expand', () => {
    const x = periodic(50, 3000, 9);
    const check = (rate: number, first: number, runway: number): void => {
      const ts = new TimeScaler(SR, BIG);
      ts.push(x, 0, 1000);
      ts.render(new Float32Array(first), 0, first, rate);
      expect(ts.runway).toBe(runway);
      expect(ts.render(new Float32Array(2000), 0, 2000, 1)).toBe(runway);
    };
    check(1, 0, 1000);
    // 60 at 1.5: the splice at 40 has 30 fade outputs left; they play 30 inputs and skip 50.
    check(1.5, 60, 1000 - 60 - 50);
    // 100 at 1.5: the fade is over (read index 150), nothing to skip.
    check(1.5, 100, 850);
    // 130 at 0.5: the expand at 120 has 40 fade outputs left, then replays its 50.
    check(0.5, 130, 1000 - 130 + 50);
  });

  it('settle forgets the drift and copies maxPeriod before the next splice, keeping positions', () => {
    const x = periodic(50, 3000, 10);
    const ts = new TimeScaler(SR, BIG);
    ts.push(x);
    const y = new Float32Array(400);
    ts.render(y, 0, 30, 1.5); // drift 15: no splice yet
    ts.settle();
    expect([ts.produced, ts.consumed]).toEqual([30, 30]);
    ts.render(y, 30, 370, 1.5);
    // Without settle the splice would be at 40 (drift 20). After it the drift restarts from 0 at
    // output 30, but 120 outputs are copied first: the splice comes at 150 (drift 60 by then).
    expect(firstAccelerate(ts)).toEqual({ o: 150, lag: 50 });
  });
});
