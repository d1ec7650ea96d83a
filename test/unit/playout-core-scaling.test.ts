// Time-scaling inside the PlayoutCore (adaptive policy, timeScale on): when it asks the rate policy
// at all, and with which lag. The policy's rule after a reply's last frame is simple enough to be
// the oracle: maxRate (1.1) while the lag (wall ms since the first frame minus source ms heard) is
// above endLagMs (20), else 1. So the rate each quantum plays at (stats().rate, the ended event's
// maxRate) shows which lag the core computed, to the sample. Also: the near-end rule (the last
// blocks before a fade play at rate 1) at its exact edges, for speeding up and for slowing down,
// and stereo channels spliced alike even when they carry different signals.
import { describe, expect, it } from 'vitest';
import { PlayoutCore } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import type { PlayoutEventRecord } from '../../src/playout/types';

const Q = 128;
const SR = 8000; // 1 sample = 0.125 ms, exact; maxPeriod 15 ms = 120 samples, minPeriod 20
const FADE = 40; // fadeMs 5

const scaling = (sampleRate = SR, channels: 1 | 2 = 1, jitter = {}) =>
  new PlayoutCore({ sampleRate, channels, fadeMs: 5, interruptFadeMs: 8, jitter: { timeScale: true, ...jitter } });
const konst = (n: number, v: number) => new Float32Array(n).fill(v);

/** Renders one quantum at `nowMs`; returns the rate it played at and its events. */
function quantum(c: PlayoutCore, nowMs: number) {
  const buf = [new Float32Array(Q)];
  c.render(buf, nowMs);
  const events: PlayoutEventRecord[] = [];
  const ev = newEventRecord();
  while (c.nextEvent(ev)) events.push({ ...ev });
  return { rate: c.stats().rate, events, out: buf[0]! };
}

describe('the rate-1 zone before a reply runs out', () => {
  // A rate other than 1 is asked for only while, after this quantum (128) and the two longest
  // periods a splice can move the end by (2 x 120), more than the fade (40) is left:
  // left - 40 > 128 + 240, i.e. left >= 409. A reply that ended long ago (lag 1000 ms) asks 1.1.
  for (const [n, rate] of [[409, 1.1], [408, 1]] as const) {
    it(`${n} samples left: the first quantum plays at ${rate}`, () => {
      const c = scaling();
      c.push({ channels: [konst(n, 0.5)], sampleRate: SR, order: 1 }, 1, 0);
      c.end(1);
      expect(quantum(c, 1000).rate).toBe(rate);
      // 281 or 280 left now: rate 1 to the end, so the fade still ends on the last sample.
      const rest = [quantum(c, 1016), quantum(c, 1032), quantum(c, 1048)];
      expect(rest.map((r) => r.rate)).toEqual([1, 1, 1]);
      const ended = rest.flatMap((r) => r.events).find((e) => e.type === 'ended')!;
      expect([ended.minRate, ended.maxRate, ended.order, ended.sampleOffset]).toEqual([1, rate, 1, n]);
      // Output sample n - 1 (the last) is at n - 385 in the fourth quantum: gain 0; the one before, 1/40.
      const last = rest[2]!.out;
      expect([last[n - 386], last[n - 385], last[n - 384]]).toEqual([Math.fround(0.5 / FADE), 0, 0]);
    });
  }
});

describe('slowing down while a stall drains the queue', () => {
  // Not ended, target 50 ms (400 samples): the reply starts at 0.4 of it (160 samples) and the
  // policy asks max(0.9, 1 - 0.5 x (deficit - 0.05)) = 0.9 for any queue under 75% of it. An expand
  // only moves the end later, so it is asked for while the fade cannot fall due in this quantum:
  // left - 40 > 128, i.e. left >= 169 (not 409 as for an accelerate).
  const draining = (n: number) => {
    const c = scaling(SR, 1, { initialTargetMs: 50 });
    c.push({ channels: [konst(n, 0.5)], sampleRate: SR, order: 1 }, 1, 0);
    return c;
  };
  for (const [n, rate] of [[169, 0.9], [168, 1]] as const) {
    it(`${n} samples queued, no more coming: the first quantum plays at ${rate}, then the fade ends on the last sample`, () => {
      const c = draining(n);
      const first = quantum(c, 0);
      expect(first.events.map((e) => [e.type, e.atSample])).toEqual([['audio-start', 0]]);
      expect(first.rate).toBe(rate);
      // Drift 0.1 x 128 = 12.8 samples < minPeriod (20): no splice yet, the output is the input.
      const second = quantum(c, 16);
      expect(second.rate).toBe(1);
      expect(second.events.map((e) => [e.type, e.atSample])).toEqual([['underrun', n - Q]]);
      expect([second.out[n - Q - 2], second.out[n - Q - 1], second.out[n - Q]]).toEqual([Math.fround(0.5 / FADE), 0, 0]);
    });
  }

  it('a long queue with nothing more coming plays at 0.9 down to its last 169 samples and outlasts its length', () => {
    const n = 4000; // 500 ms, under 75% of a 1000 ms target
    const c = scaling(SR, 1, { initialTargetMs: 1000, minTargetMs: 1000 });
    c.push({ channels: [konst(n, 0.5)], sampleRate: SR, order: 1 }, 1, 0);
    const rates: number[] = [];
    const lefts: number[] = [];
    let played = 0;
    for (let q = 0; q < 60; q++) {
      lefts.push(c.stats().bufferedMs * 8);
      const r = quantum(c, (q * Q) / 8);
      rates.push(r.rate);
      const under = r.events.find((e) => e.type === 'underrun');
      if (under) {
        played += under.atSample;
        break;
      }
      played += Q;
    }
    // Every quantum that began with more than 168 samples left played at 0.9, the others at 1.
    expect(rates).toEqual(lefts.map((l) => (l > 168 ? 0.9 : 1)));
    expect(rates.filter((r) => r === 0.9).length).toBeGreaterThan(30);
    // Expand splices repeated periods: the queue lasted longer than its own length. At 0.9 it would
    // last 4000 / 0.9 = 4444 samples; splices come whole periods at a time, so it is less, but more
    // than one period (20 samples at least) over the length.
    expect(played).toBeGreaterThan(n + 20);
  });
});

describe('the lag the rate policy is given', () => {
  it('is wall time since the first frame minus source time heard: on time or 20 ms late plays at 1, 20.125 ms late at 1.1', () => {
    const c = scaling();
    // First frame at 100 ms; one second of audio, ended. The clock runs with the output from 100
    // ms, so lag = (100 + t) - 100 - t = 0 every quantum: rate 1.
    c.push({ channels: [konst(8000, 0.5)], sampleRate: SR, order: 1 }, 1, 100);
    c.end(1);
    for (let q = 0; q < 20; q++) expect(quantum(c, 100 + (q * Q) / 8).rate).toBe(1);
    // 20.125 ms late (over endLagMs 20 by one sample's time): 1.1. Exactly 20 ms late: 1.
    expect(quantum(c, 100 + (20 * Q) / 8 + 20).rate).toBe(1);
    expect(quantum(c, 100 + (21 * Q) / 8 + 20.125).rate).toBe(1.1);
  });

  // Reply 1 (200 samples, ended) ends at output sample 200: inside the second quantum (from 16 ms),
  // 72 samples = 9 ms in, so at 25 ms. Reply 2 (ended, long) starts there; nothing of it is heard
  // yet, so its lag is 25 ms minus its first arrival.
  const midQuantum = (firstArrival2: number) => {
    const c = scaling();
    c.push({ channels: [konst(200, 0.5)], sampleRate: SR, order: 1 }, 1, 0);
    c.end(1);
    c.push({ channels: [konst(4000, 0.5)], sampleRate: SR, order: 1 }, 2, firstArrival2);
    c.end(2);
    quantum(c, 0);
    const q = quantum(c, 16);
    expect(q.events.map((e) => [e.type, e.replyId, e.atSample])).toEqual([['ended', 1, 72], ['audio-start', 2, 72]]);
    return q.rate;
  };

  it('mid-quantum, at the sample the reply starts: 21 ms late plays at 1.1', () => {
    expect(midQuantum(4)).toBe(1.1);
  });

  it('mid-quantum, at the sample the reply starts: 19 ms late plays at 1', () => {
    expect(midQuantum(6)).toBe(1);
  });

  it('an interrupt fade plays at rate 1 even when the reply was being sped up', () => {
    const c = scaling();
    c.push({ channels: [konst(4000, 0.5)], sampleRate: SR, order: 1 }, 1, 0);
    c.end(1);
    expect(quantum(c, 1000).rate).toBe(1.1); // 1 s late; drift 12.8 < 20: no splice yet
    // The 8 ms fade (64 samples) ends at source sample 128 + 64 = 192.
    expect(c.interrupt()).toEqual({ order: 1, sampleOffset: 192, playedMs: 24 });
    const q = quantum(c, 1016);
    expect(q.rate).toBe(1);
    expect(q.events.map((e) => [e.type, e.atSample, e.sampleOffset, e.maxRate])).toEqual([['ended', 64, 192, 1.1]]);
  });
});

describe('the lateness the rate policy is given', () => {
  // Target 400 ms. Frame 1: 160 ms at 0 ms; frame 2: 300 ms at 640 ms, due at 160 ms: 480 ms late.
  // The first quantum renders at 640 ms: 460 ms queued, lag 640 ms. Speeding up keeps
  // max(400, lateHold x 480); excess (min(460, 640) - keep) / 400 beyond the band 0.05, slope 0.5.
  const firstRate = (jitter: object, secondAt = 640) => {
    const c = scaling(SR, 1, { initialTargetMs: 400, ...jitter });
    c.push({ channels: [konst(1280, 0.5)], sampleRate: SR, order: 1 }, 1, 0);
    c.push({ channels: [konst(2400, 0.5)], sampleRate: SR, order: 2 }, 1, secondAt);
    const q = quantum(c, secondAt);
    expect(q.events.map((e) => e.type)).toEqual(['audio-start']);
    return q.rate;
  };
  it('is the most a frame arrived after its time: keep 432, 1 + 0.5 x (0.07 - 0.05) = 1.01', () => {
    expect(firstRate({})).toBeCloseTo(1.01, 12);
  });
  it('lateHold 0 gives back down to the target (1.05); lateHold 1 keeps 480 (rate 1)', () => {
    expect(firstRate({ lateHold: 0 })).toBeCloseTo(1.05, 12);
    expect(firstRate({ lateHold: 1 })).toBe(1);
  });
  it('a second frame 400 ms late (at 560 ms) keeps only the target: 0.9 x 400 < 400', () => {
    expect(firstRate({}, 560)).toBeCloseTo(1.05, 12);
  });
});

describe('stereo time-scaling', () => {
  it('the second channel is spliced exactly where and as the first is, whatever it carries', () => {
    // Left: a voiced-like 180 Hz tone, whose own best splice lag is its period. Right: the source
    // index itself (k / 2^16, exact in float32). Wherever the right channel plays whole indices
    // k - 1, k on two consecutive samples (outside cross-fades, whose mix is never a whole index,
    // and outside fades, whose gain changes every sample), the left one must play its sample k:
    // one splice map for both.
    const rate = 16000;
    const c = scaling(rate, 2, { initialTargetMs: 400 });
    const total = 21 * 160 + 30 * 7 * 160;
    const left = Float32Array.from({ length: total }, (_, k) => 0.6 * Math.sin((2 * Math.PI * 180 * k) / rate));
    const right = Float32Array.from({ length: total }, (_, k) => k / 65536);
    let order = 0;
    const push = (frames: number, t: number) => {
      for (let f = 0; f < frames; f++, order++) {
        const s = order * 160;
        c.push({ channels: [left.slice(s, s + 160), right.slice(s, s + 160)], sampleRate: rate, order: order + 1 }, 1, t);
      }
    };
    push(21, 0); // 210 ms of a 400 ms target: starts early, then plays slow to build the cushion
    const buf = [new Float32Array(Q), new Float32Array(Q)];
    let checked = 0;
    let prev = Number.NaN; // the index the previous output sample played, NaN if not a whole one
    let lastChecked = -1;
    let jumps = 0;
    let minRate = 1;
    for (let q = 0; q < 300; q++) {
      const t = (q * Q * 1000) / rate;
      if (q % 10 === 0) push(7, t);
      c.render(buf, t);
      minRate = Math.min(minRate, c.stats().rate);
      for (let j = 0; j < Q; j++) {
        const x = buf[1]![j]! * 65536;
        const whole = x === Math.round(x) && x > 0;
        const check = whole && x === prev + 1;
        prev = whole ? x : Number.NaN;
        if (!check) continue;
        if (buf[0]![j] !== left[x]) expect.fail(`quantum ${q}, sample ${j}: right plays source ${x}, left ${buf[0]![j]} instead of ${left[x]}`);
        if (lastChecked >= 0 && x !== lastChecked + 1) jumps++; // a splice (or a resume) in between
        lastChecked = x;
        checked++;
      }
    }
    expect(minRate).toBeLessThan(1);
    expect(jumps).toBeGreaterThan(3);
    expect(checked).toBeGreaterThan(30000);
  });
});
