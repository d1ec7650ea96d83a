// Time-scaling in the PlayoutCore: the rate policy's rule, positions exact in source samples while
// stretching (oracle: a ramp whose values are their own source index, read back from the output),
// stereo channels spliced alike, and jitter.persist round trips.
import { describe, expect, it } from 'vitest';
import { PlayoutCore } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import { RATE_BANDS, RatePolicy, rateBand } from '../../src/playout/rate-policy';
import { simulatePlayout, type PlayoutTrace } from '../../src/playout/simulate-playout';
import type { JitterMemory, PlayoutEventRecord } from '../../src/playout/types';

const Q = 128;
const SCALE = 65536; // ramp step: k / 2^16 is exact in float32 for k < 2^16

describe('RatePolicy', () => {
  const p = new RatePolicy({ timeScale: true });
  it('slows when the buffer is below the target, down to minRate', () => {
    expect(p.rate(100, 100, 400, false)).toBeCloseTo(0.9, 12); // 25% of the target: the floor
    const mild = p.rate(340, 340, 400, false); // 15% below: 1 - 0.5 x (0.15 - 0.05)
    expect(mild).toBeCloseTo(0.95, 12);
    expect(p.rate(0, 0, 400, false)).toBe(0.9);
  });
  it('plays at 1 within the dead band', () => {
    for (const b of [385, 400, 415]) expect(p.rate(b, b, 400, false)).toBe(1);
  });
  it('speeds up only what is both queued and late: a paced backlog yes, a burst server early no', () => {
    expect(p.rate(460, 460, 400, false)).toBeCloseTo(1.05, 12); // 15% over, late as much: 1 + 0.5 x (0.15 - 0.05)
    expect(p.rate(2000, 2000, 400, false)).toBe(1.1);
    expect(p.rate(5000, 60, 400, false)).toBe(1); // a burst: deep, but not late
  });
  it('speeds up only down to lateHold (0.9) x the most a frame of the reply arrived late, when that is over the target', () => {
    // 480 queued and late, target 400: 20% over, 1 + 0.5 x (0.2 - 0.05) = 1.075 (no frame late).
    expect(p.rate(480, 480, 400, false)).toBeCloseTo(1.075, 12);
    expect(p.rate(480, 480, 400, false, 400)).toBeCloseTo(1.075, 12); // 0.9 x 400 = 360: the target rules
    // A frame 500 ms late: keep 450, excess (480 - 450) / 400 = 0.075: 1 + 0.5 x 0.025.
    expect(p.rate(480, 480, 400, false, 500)).toBeCloseTo(1.0125, 12);
    expect(p.rate(480, 480, 400, false, 520)).toBe(1); // keep 468: within the band
    expect(p.rate(340, 340, 400, false, 520)).toBeCloseTo(0.95, 12); // slowing is the same rule as before
    expect(p.rate(300, 300, 400, true, 5000)).toBe(1.1); // after the last frame: drain, whatever was late
    expect(new RatePolicy({ lateHold: 0 }).rate(480, 480, 400, false, 500)).toBeCloseTo(1.075, 12);
    expect(new RatePolicy({ lateHold: 1 }).rate(480, 480, 400, false, 500)).toBe(1);
    for (const bad of [-1, Number.NaN]) expect(new RatePolicy({ lateHold: bad }).rate(480, 480, 400, false, 500)).toBeCloseTo(1.075, 12);
  });
  it('after the last frame plays at maxRate while late, and at 1 once on time', () => {
    expect(p.rate(300, 300, 400, true)).toBe(1.1);
    expect(p.rate(300, 10, 400, true)).toBe(1);
  });
  it('is on by default (the adaptive policy); off for the baselines and with timeScale: false, which start at the full target', () => {
    for (const o of [{}, { policy: 'adaptive' as const }]) {
      const q = new RatePolicy(o);
      expect([q.enabled, q.startFraction, q.rate(0, 0, 400, false), q.rate(2000, 2000, 400, true)]).toEqual([true, 0.4, 0.9, 1.1]);
    }
    for (const o of [{ policy: 'on-arrival' as const }, { policy: { prebufferMs: 200 } }, { timeScale: false }]) {
      const q = new RatePolicy(o);
      expect(q.enabled).toBe(false);
      expect(q.rate(0, 0, 400, false)).toBe(1);
      expect(q.rate(2000, 2000, 400, true)).toBe(1);
      expect(q.startFraction).toBe(1);
    }
    expect(new RatePolicy({ minRate: 0.2, maxRate: 3 })).toMatchObject({ minRate: 0.5, maxRate: 1.5 });
  });
  it('the baselines ignore timeScale: true (they are fixed by definition)', () => {
    for (const policy of ['on-arrival' as const, { prebufferMs: 200 }, { fixedStartMs: 300 }]) {
      const q = new RatePolicy({ policy, timeScale: true });
      expect(q.enabled).toBe(false);
      expect(q.rate(0, 0, 400, false)).toBe(1);
      expect(q.startFraction).toBe(1);
    }
  });
  it('options: startFraction 0.4 by default, clamped to 0..1; rates to 0.5..1 and 1..1.5; slope, band and endLag at least 0', () => {
    expect(p.startFraction).toBe(0.4);
    expect(new RatePolicy({ timeScale: true, startFraction: 2 }).startFraction).toBe(1);
    expect(new RatePolicy({ timeScale: true, startFraction: -1 }).startFraction).toBe(0);
    expect(new RatePolicy({ timeScale: true, startFraction: 0.7 }).startFraction).toBe(0.7);
    // startCap 0.5 by default when time-scaling; NaN or negative: no cap; the baselines have none.
    expect([p.startCap, new RatePolicy({ startCap: 0.3 }).startCap, new RatePolicy({ startCap: 0 }).startCap]).toEqual([0.5, 0.3, 0]);
    for (const o of [{ startCap: -1 }, { startCap: Number.NaN }, { timeScale: false }, { policy: 'on-arrival' as const }]) expect(new RatePolicy(o).startCap).toBe(Infinity);
    // startDeadline 0.4 by default when time-scaling; 0, negative or NaN: never (0); the baselines never.
    expect([p.startDeadline, new RatePolicy({ startDeadline: 0.3 }).startDeadline]).toEqual([0.4, 0.3]);
    for (const o of [{ startDeadline: 0 }, { startDeadline: -1 }, { startDeadline: Number.NaN }, { timeScale: false }, { policy: { prebufferMs: 100 } }]) expect(new RatePolicy(o).startDeadline).toBe(0);
    expect(new RatePolicy({ minRate: 1.2, maxRate: 0.8 })).toMatchObject({ minRate: 1, maxRate: 1 });
    // slope 0: never leaves 1; band 0: any deficit slows; endLag 0: any lag after the end is fast.
    expect(new RatePolicy({ timeScale: true, rateSlope: -1 }).rate(0, 0, 400, false)).toBe(1);
    expect(new RatePolicy({ timeScale: true, rateBand: -1 }).rate(396, 396, 400, false)).toBeCloseTo(1 - 0.5 * 0.01, 12);
    expect(new RatePolicy({ timeScale: true, endLagMs: -5 }).rate(300, 0.5, 400, true)).toBe(1.1);
  });
  it('after the end, a lag of exactly endLagMs is on time', () => {
    expect(p.rate(300, 20, 400, true)).toBe(1);
    expect(p.rate(300, 20.001, 400, true)).toBe(1.1);
  });
  it('a target under 1 ms counts as 1 ms (no division by zero)', () => {
    expect(p.rate(0, 0, 0, false)).toBe(0.9);
    expect(p.rate(1.1, 1.1, 0, false)).toBeCloseTo(1 + 0.5 * (0.1 - 0.05), 12);
  });
});

describe('the cushion a stall leaves is kept for the rest of the reply (lateHold)', () => {
  // A 10 s reply paced in real time (20 ms frames at 8 kHz). A stall holds the frames sent in
  // [2000, 2400) ms until 2400, another those sent in [6000, 6340) until 6340. The first outlasts the
  // cold cushion (target 150 ms, started at 40% of it): one underrun, the target grows to 180; the
  // 400 ms backlog then arrives at once. Kept down to 0.9 x 400 = 360 ms (the most a frame came
  // late), it outlasts the 340 ms stall; given back down to the target (lateHold 0), it does not.
  const stalls = [
    [2000, 400],
    [6000, 340],
  ];
  const arrivals = Array.from({ length: 500 }, (_, k) => {
    const sent = k * 20;
    const held = stalls.find(([s, len]) => sent >= s! && sent < s! + len!);
    return { atMs: held ? held[0]! + held[1]! : sent, samples: 160 };
  });
  const trace: PlayoutTrace = { sampleRate: 8000, replies: [{ arrivals }] };
  it('lateHold 0.9 (default): one underrun, at the first stall', () => {
    const [r] = simulatePlayout(trace);
    expect([r!.underruns, r!.minRate, r!.maxRate]).toEqual([1, 0.9, 1.1]);
  });
  it('lateHold 0: the second stall runs it dry too, and the reply ends sooner', () => {
    const [held] = simulatePlayout(trace);
    const [r] = simulatePlayout(trace, { jitter: { lateHold: 0 } });
    expect(r!.underruns).toBe(2);
    expect(r!.endDelayMs).toBeLessThan(held!.endDelayMs);
  });
});

describe('rateBand: the five bands simulatePlayout reports', () => {
  it('puts each rate in its band, bounds included as RATE_BANDS names them', () => {
    const cases: [number, string][] = [
      [0.5, '<0.95'], [0.9, '<0.95'], [0.9499, '<0.95'], [0.95, '0.95-1'], [0.999, '0.95-1'], [1, '1'],
      [1.001, '1-1.05'], [1.05, '1-1.05'], [1.0501, '>1.05'], [1.5, '>1.05'],
    ]; // prettier-ignore
    for (const [rate, band] of cases) expect(RATE_BANDS[rateBand(rate)], String(rate)).toBe(band);
  });
});

/** A core that stretches: adaptive, target 400 ms, started at 200 ms queued, then fed below target. */
function stretchingCore(rate: number, channels: 1 | 2 = 1) {
  return new PlayoutCore({ sampleRate: rate, channels, fadeMs: 1, interruptFadeMs: 8, jitter: { initialTargetMs: 400, timeScale: true } });
}
const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => (from + i) / SCALE);

describe('PlayoutCore with time-scaling: positions exact in source samples', () => {
  it('interrupt() returns the source sample the fade ends on, read back from the ramp heard', () => {
    const rate = 16000;
    const frameLen = 160; // 10 ms
    let checked = 0;
    let stretched = 0;
    for (let cut = 30; cut < 260; cut += 7) {
      const c = stretchingCore(rate);
      let pushed = 0;
      let order = 0;
      const push = (n: number) => {
        for (let k = 0; k < n; k++) c.push({ channels: [ramp(pushed, frameLen)], sampleRate: rate, order: ++order }, 1, 0), (pushed += frameLen);
      };
      push(21); // 210 ms: over half the target, so it starts
      const buf = [new Float32Array(Q)];
      let played = 0;
      for (let q = 0; q < cut; q++) {
        if (q % 10 === 0) push(7); // 70 ms per 80 ms: stays below the target, so it plays slow
        c.render(buf, (played * 1000) / rate);
        played += Q;
      }
      if (c.stats().rate < 1) stretched++;
      const pos = c.interrupt();
      const out: number[] = [];
      const ev = newEventRecord();
      let ended: PlayoutEventRecord | null = null;
      for (let q = 0; q < 3; q++) {
        c.render(buf, 0);
        out.push(...buf[0]!);
        while (c.nextEvent(ev)) if (ev.type === 'ended') ended = { ...ev };
      }
      // The fade: gain 1 - (k+1)/F on output k (k < F = 128 samples); its last sample is silent.
      // Dividing out the gain gives the ramp, i.e. the source index of each sample heard.
      const F = 128;
      const idx = out.slice(0, F - 1).map((v, k) => (v / (1 - (k + 1) / F)) * SCALE);
      const whole = idx.every((x) => Math.abs(x - Math.round(x)) < 0.02);
      const consecutive = idx.every((x, k) => k === 0 || Math.round(x) === Math.round(idx[k - 1]!) + 1);
      for (let k = F; k < out.length; k++) expect(out[k]).toBe(0);
      expect(ended).toMatchObject({ interrupted: true, order: pos.order, sampleOffset: pos.sampleOffset });
      if (!whole || !consecutive) continue; // a cross-fade was finishing: its mix is not a ramp value
      const heard = Math.round(idx[F - 2]!) + 2; // the silent last sample plays the next one
      expect(pos).toEqual({ order: Math.ceil(heard / frameLen), sampleOffset: heard - (Math.ceil(heard / frameLen) - 1) * frameLen, playedMs: (heard * 1000) / rate });
      checked++;
    }
    expect(stretched).toBeGreaterThan(20);
    expect(checked).toBeGreaterThan(15);
  });

  it('a stretched reply reports every source sample played: position at its end, playedMs = its audio', () => {
    const rate = 24000;
    const c = stretchingCore(rate);
    const buf = [new Float32Array(Q)];
    let order = 0;
    const ev = newEventRecord();
    let ended: PlayoutEventRecord | null = null;
    let t = 0;
    for (let q = 0; q < 2000 && !ended; q++) {
      if (q % 4 === 0 && order < 150) {
        const x = Float32Array.from({ length: 480 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * (order * 480 + i)) / rate));
        c.push({ channels: [x], sampleRate: rate, order: ++order }, 1, t);
        if (order === 150) c.end(1);
      }
      c.render(buf, t);
      t += (Q * 1000) / rate;
      while (c.nextEvent(ev)) if (ev.type === 'ended') ended = { ...ev };
    }
    expect(ended).not.toBeNull();
    expect(ended!.minRate).toBeLessThan(1);
    expect(ended!.maxRate).toBeGreaterThan(1); // drained faster once the last frame was in
    expect(ended).toMatchObject({ order: 150, sampleOffset: 480, interrupted: false, underruns: 0 });
    expect(ended!.playedMs).toBeCloseTo(3000, 9);
    expect(c.stats().playedMs).toBeCloseTo(3000, 9);
  });

  it('stereo: the second channel is spliced where the first is, so both stay aligned', () => {
    const rate = 16000;
    const c = stretchingCore(rate, 2);
    const buf = [new Float32Array(Q), new Float32Array(Q)];
    let order = 0;
    let maxDiff = 0;
    let t = 0;
    const frame = () => {
      const l = Float32Array.from({ length: 160 }, (_, i) => 0.6 * Math.sin((2 * Math.PI * 180 * (order * 160 + i)) / rate) + 0.2 * Math.sin((2 * Math.PI * 530 * (order * 160 + i)) / rate));
      c.push({ channels: [l, l.map((v) => v * 0.5)], sampleRate: rate, order: ++order }, 1, t);
    };
    for (let k = 0; k < 21; k++) frame();
    for (let q = 0; q < 300; q++) {
      if (q % 10 === 0) for (let k = 0; k < 7; k++) frame();
      c.render(buf, t);
      t += (Q * 1000) / rate;
      for (let i = 0; i < Q; i++) maxDiff = Math.max(maxDiff, Math.abs(buf[1]![i]! - 0.5 * buf[0]![i]!));
    }
    expect(c.stats().rate).toBeLessThan(1);
    expect(maxDiff).toBeLessThan(1e-6);
  });
});

/** Paced replies (20 ms frames at 24 kHz) with a stall: what the policy learns from. */
function pacedReply(frames: number, stallAtMs: number, stallMs: number) {
  const arrivals = [];
  for (let k = 0; k < frames; k++) {
    const sent = k * 20;
    arrivals.push({ atMs: sent >= stallAtMs && sent < stallAtMs + stallMs ? stallAtMs + stallMs : sent, samples: 480 });
  }
  return { arrivals };
}

describe('jitter.persist', () => {
  const replies = [pacedReply(300, 2000, 450), pacedReply(300, 1000, 350), pacedReply(300, 3000, 500)];
  it('a returning visitor starts where the last visit left off (get/set pair)', () => {
    let saved: JitterMemory | null = null;
    const store = { get: () => saved, set: (m: JitterMemory) => void (saved = JSON.parse(JSON.stringify(m)) as JitterMemory) };
    // One visit of three replies, then a second visit: its first reply starts from what was learned,
    // the same depth the first visit would have used for a fourth reply.
    const visit1 = simulatePlayout({ sampleRate: 24000, replies }, { jitter: { persist: store } });
    expect(saved).not.toBeNull();
    expect(saved!.history.length).toBe(3);
    const visit2 = simulatePlayout({ sampleRate: 24000, replies: [pacedReply(100, 1e9, 0)] }, { jitter: { persist: store } });
    const oneVisit = simulatePlayout({ sampleRate: 24000, replies: [...replies, pacedReply(100, 1e9, 0)] });
    const cold = simulatePlayout({ sampleRate: 24000, replies: [pacedReply(100, 1e9, 0)] });
    expect(visit1.length).toBe(3);
    expect(cold[0]!.targetMs).toBe(150);
    expect(visit2[0]!.targetMs).toBeGreaterThan(400);
    expect(Math.abs(visit2[0]!.targetMs - oneVisit[3]!.targetMs)).toBeLessThan(0.01 * oneVisit[3]!.targetMs);
  });

  it('a localStorage key stores JSON; a broken or throwing store falls back to the cold default', () => {
    const items = new Map<string, string>();
    const g = globalThis as { localStorage?: unknown };
    const before = g.localStorage;
    g.localStorage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
    try {
      simulatePlayout({ sampleRate: 24000, replies }, { jitter: { persist: 'talstream-jitter' } });
      const stored = JSON.parse(items.get('talstream-jitter')!) as JitterMemory;
      expect(stored.v).toBe(1);
      expect(stored.replies).toBe(3);
      const again = simulatePlayout({ sampleRate: 24000, replies: [pacedReply(100, 1e9, 0)] }, { jitter: { persist: 'talstream-jitter' } });
      expect(again[0]!.targetMs).toBeGreaterThan(400);
      items.set('talstream-jitter', '{not json');
      expect(simulatePlayout({ sampleRate: 24000, replies: [pacedReply(50, 1e9, 0)] }, { jitter: { persist: 'talstream-jitter' } })[0]!.targetMs).toBe(150);
    } finally {
      g.localStorage = before;
    }
    const throwing = { get: () => { throw new Error('denied'); }, set: () => { throw new Error('full'); } };
    expect(simulatePlayout({ sampleRate: 24000, replies: [pacedReply(50, 1e9, 0)] }, { jitter: { persist: throwing } })[0]!.targetMs).toBe(150);
  });
});

describe('simulatePlayout reports the rates', () => {
  it('minRate, maxRate and the time per band; baselines stay at 1', () => {
    const trace: PlayoutTrace = { sampleRate: 24000, replies: [pacedReply(300, 2000, 300), pacedReply(300, 2000, 300)] };
    const a = simulatePlayout(trace, { jitter: { timeScale: true } });
    expect(Math.min(...a.map((r) => r.minRate))).toBeLessThan(1);
    for (const r of a) {
      const total = Object.values(r.rateMs).reduce((x, y) => x + y, 0);
      // Output time = audio / mean rate, with the silence of underruns outside every band.
      expect(total).toBeGreaterThan(r.audioMs / 1.1 - 1);
      expect(total).toBeLessThan(r.audioMs / 0.9 + 1);
    }
    for (const policy of ['on-arrival', { prebufferMs: 200 }, { fixedStartMs: 100 }] as const) {
      for (const r of simulatePlayout(trace, { policy })) {
        expect([r.minRate, r.maxRate]).toEqual([1, 1]);
        expect(r.rateMs['1']).toBeCloseTo(r.audioMs, 6);
      }
    }
  });
});

describe('time-scaling: an early start needs the link\'s gap floor queued (a burst server waits for its burst)', () => {
  // Each reply: four 20 ms frames at once, 160 ms of nothing, then 1 s of audio in one burst (the
  // 4g-burst trace's shape). Once the 160 ms gap has been seen with more than one gap's weight it
  // is the link's gap floor (the upper edge of its 5 ms bin, 165 ms) and the target's floor: an
  // early start at 0.4 x 165 = 66 ms would start on the first 80 ms and run dry 89 ms later (at
  // 0.9x), 71 ms before the burst. With the gap rule 80 ms < 0.9 x 165 = 148.5: it waits.
  const burstReply = () => ({
    arrivals: [...Array.from({ length: 4 }, () => ({ atMs: 0, samples: 480 })), ...Array.from({ length: 50 }, () => ({ atMs: 160, samples: 480 }))],
  });
  it('runs dry only while the 160 ms gap is an outlier, then starts at the burst (160 ms)', () => {
    const trace: PlayoutTrace = { sampleRate: 24000, replies: Array.from({ length: 6 }, burstReply) };
    const res = simulatePlayout(trace, { jitter: { timeScale: true } });
    // Reply 0: no gap seen yet, 0.4 x the cold target (150) = 60 ms <= 80: starts early, runs dry.
    // Reply 1: the one 160 ms gap seen is an outlier (its weight, decayed to 0.85, under one gap's).
    expect(res.map((r) => r.underruns)).toEqual([1, 1, 0, 0, 0, 0]);
    for (const r of res.slice(2)) expect(r.startDelayMs).toBeCloseTo(160, 6);
  });
});
