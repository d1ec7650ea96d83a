import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DelayHistory, MAX_RECORDED_FRAMES, replay } from '../../src/playout/delay-history';
import { DelayManager } from '../../src/playout/delay-manager';
import { oracleDelayMs, simulatePlayout, type PlayoutTrace } from '../../src/playout/simulate-playout';

const RATE = 24000;
const FRAME = 480; // 20 ms

/** A paced reply (one frame per 20 ms) with a stall: frames sent during it arrive together at its end. */
function pacedReply(frames: number, stallAtMs: number, stallMs: number) {
  const arrivals = [];
  for (let k = 0; k < frames; k++) {
    const sent = k * 20;
    const at = sent >= stallAtMs && sent < stallAtMs + stallMs ? stallAtMs + stallMs : sent;
    arrivals.push({ atMs: at, samples: FRAME });
  }
  return { arrivals };
}
/** A burst reply: chunks of 10 frames every 70 ms (about 3x real time). */
function burstReply(frames: number) {
  const arrivals = [];
  for (let k = 0; k < frames; k++) arrivals.push({ atMs: Math.floor(k / 10) * 70, samples: FRAME });
  return { arrivals };
}

describe('replay (counterfactual of a fixed depth)', () => {
  it('counts the underruns a depth would have had', () => {
    const at = new Float64Array([0, 0, 100, 300]);
    const ms = new Float32Array([20, 20, 20, 20]);
    // depth 40: start at 0 with 40 ms, dry at 40 -> underrun; 20 ms at 100 < 40: wait; 300: all in.
    expect(replay(at, ms, 4, 40)).toBe(1);
    // depth 20: start at 0, dry at 40 (1), resume at 100, dry at 120 (2), resume at 300 (all in).
    expect(replay(at, ms, 4, 20)).toBe(2);
    expect(replay(at, ms, 4, 80)).toBe(0);
  });
});

describe('DelayHistory: bounded memory', () => {
  it('records at most MAX_RECORDED_FRAMES per reply and keeps `capacity` replies', () => {
    const h = new DelayHistory(3);
    for (let r = 0; r < 5; r++) {
      h.begin();
      for (let k = 0; k < MAX_RECORDED_FRAMES + 500; k++) h.arrival(k * 20, 20);
      h.end();
    }
    expect(h.replies).toBe(3);
    // Only the recorded frames count: 3 replies of MAX_RECORDED_FRAMES * 20 ms.
    expect(h.minutes).toBeCloseTo((3 * MAX_RECORDED_FRAMES * 20) / 60000, 6);
  });
});

describe('adaptive policy', () => {
  it('learns across replies: after a reply with a 400 ms stall the next ones start deep enough', () => {
    const trace: PlayoutTrace = { sampleRate: RATE, replies: Array.from({ length: 5 }, () => pacedReply(500, 3000, 400)) };
    const res = simulatePlayout(trace);
    expect(res[0]!.underruns).toBeGreaterThan(0);
    for (const r of res.slice(1)) {
      expect(r.underruns).toBe(0);
      expect(r.targetMs).toBeGreaterThanOrEqual(400);
    }
    // The margin for doubt shrinks as the session teaches more: the delay comes down towards
    // D* = 400 ms, and the last reply is not much deeper than needed.
    expect(res[4]!.endDelayMs).toBeLessThan(res[1]!.endDelayMs);
    expect(res[4]!.endDelayMs).toBeLessThan(400 + 100);
  });

  it('one multi-second outage does not buy a seconds-deep buffer: the next clean reply starts within 500 ms', () => {
    // The reliability tester's case: a 1 s reply (50 paced frames) that stalls 3 s after frame 15,
    // then 2 s replies on a clean network. Before the fix the 3 s gap was the 99% quantile of the
    // 49 gaps seen (their maximum) and became the floor: the next reply started ~2 s after its first
    // byte. Bound: the cheapest underrun-free depth on that reply is the first candidate (8% grid)
    // over the 300 ms queued when it stalled, 319 ms (waiting for more waits the stall out); widened
    // by 1 + 0.5/1 after one reply: 479 ms. Paced, that is 24 frames queued, the last arriving at
    // 460 ms, plus at most one render quantum (5.3 ms): under 500 ms. The cap (1000 ms) bounds any case.
    for (const outputRate of [24000, 44100, 48000]) {
      const trace: PlayoutTrace = { sampleRate: RATE, replies: [pacedReply(50, 300, 3000), ...Array.from({ length: 6 }, () => pacedReply(100, 1e9, 0))] };
      const res = simulatePlayout(trace, { outputRate });
      expect(res[0]!.underruns).toBe(1);
      expect(res[1]!.targetMs).toBeLessThan(500);
      expect(res[1]!.startDelayMs).toBeLessThan(500);
      // The stalled reply leaves the history's doubt behind as clean replies accumulate.
      for (let i = 2; i < res.length; i++) expect(res[i]!.startDelayMs).toBeLessThanOrEqual(res[i - 1]!.startDelayMs + 1);
      for (const r of res.slice(1)) expect(r.underruns).toBe(0);
    }
    // A long reply with a 3 s stall late in it: the next clean replies start at once (< 50 ms).
    const late = simulatePlayout({ sampleRate: RATE, replies: [pacedReply(500, 5000, 3000), pacedReply(100, 1e9, 0), pacedReply(100, 1e9, 0)] });
    expect(late[1]!.startDelayMs).toBeLessThan(50);
    expect(late[2]!.startDelayMs).toBeLessThan(50);
  });

  it('a consistently bad network still learns a deep buffer, capped at maxTargetMs', () => {
    // Every reply stalls 800 ms: after the first, the depth covers it (>= 800 ms) and nothing underruns.
    const bad = simulatePlayout({ sampleRate: RATE, replies: Array.from({ length: 6 }, () => pacedReply(500, 5000, 800)) });
    expect(bad[0]!.underruns).toBe(1);
    for (const r of bad.slice(1)) {
      expect(r.underruns).toBe(0);
      expect(r.targetMs).toBeGreaterThanOrEqual(800);
      expect(r.targetMs).toBeLessThanOrEqual(1000);
    }
    // The depth never exceeds the cap, however many underruns a reply has (growth x1.2 each).
    const d = new DelayManager({ initialTargetMs: 500 });
    d.beginReply();
    for (let i = 0; i < 20; i++) d.underrun();
    expect(d.targetMs).toBe(1000);
    const wide = new DelayManager({ initialTargetMs: 500, maxTargetMs: 4000 });
    wide.beginReply();
    for (let i = 0; i < 20; i++) wide.underrun();
    expect(wide.targetMs).toBe(4000);
  });

  it('tells a burst server from a paced one by measurement: bursts get a shallow buffer', () => {
    const burst = simulatePlayout({ sampleRate: RATE, replies: Array.from({ length: 4 }, () => burstReply(500)) });
    const paced = simulatePlayout({ sampleRate: RATE, replies: Array.from({ length: 4 }, () => pacedReply(500, 2000, 300)) });
    expect(burst.every((r) => r.underruns === 0)).toBe(true);
    expect(burst[3]!.targetMs).toBeLessThan(100);
    expect(burst[3]!.startDelayMs).toBeLessThan(80);
    expect(paced[3]!.targetMs).toBeGreaterThan(300);
  });

  it('grows the depth on every underrun within a reply and forgets the growth at the next reply', () => {
    const d = new DelayManager({ initialTargetMs: 100, underrunGrowth: 2 });
    d.beginReply();
    expect(d.targetMs).toBe(100);
    d.underrun();
    d.underrun();
    expect(d.targetMs).toBe(400);
    d.endReply(); // fewer than two frames recorded: nothing learned
    d.beginReply();
    expect(d.targetMs).toBe(100);
  });

  it('relearns in slices (one candidate depth per step) with the same result as all at once', () => {
    const feed = (d: DelayManager) => {
      d.beginReply();
      const r = pacedReply(300, 1000, 350).arrivals;
      for (const a of r) d.arrival(a.atMs, 20);
      d.endReply();
    };
    const sliced = new DelayManager();
    const whole = new DelayManager();
    feed(sliced);
    feed(whole);
    whole.relearn();
    for (let i = 0; i < 1000; i++) sliced.step();
    sliced.beginReply();
    whole.beginReply();
    expect(sliced.targetMs).toBe(whole.targetMs);
    expect(whole.targetMs).toBeGreaterThanOrEqual(350);
  });

  it('baselines are options of the same core: on-arrival starts within a quantum, prebuffer waits', () => {
    const trace: PlayoutTrace = { sampleRate: RATE, replies: [pacedReply(100, 10_000, 0)] };
    const onArrival = simulatePlayout(trace, { policy: 'on-arrival' })[0]!;
    expect(onArrival.startDelayMs).toBeLessThanOrEqual((128 * 1000) / RATE);
    const pre = simulatePlayout(trace, { policy: { prebufferMs: 250 } })[0]!;
    // 13 paced frames (260 ms) are needed: the 13th arrives at 240 ms; start at the next quantum.
    expect(pre.startDelayMs).toBeGreaterThanOrEqual(240);
    expect(pre.startDelayMs).toBeLessThan(240 + (128 * 1000) / RATE + 0.01);
  });

  it('never ends before D* on a shared trace, whatever the policy (the oracle bound holds)', () => {
    const trace = JSON.parse(readFileSync(path.resolve(process.cwd(), '../shared/traces/4g-paced.json'), 'utf8')) as PlayoutTrace;
    const short: PlayoutTrace = { sampleRate: trace.sampleRate, replies: trace.replies.slice(0, 4) };
    // The bound, computed here (not by the module): played at up to `rate`, frame k (arriving a_k
    // after b_k ms of audio) cannot start before a_k, and the rest of the reply from there takes at
    // least (audio - b_k) / rate, so endDelay >= max_k a_k - b_k - (audio - b_k)(1 - 1/rate).
    // At rate 1 it is D*, the smallest constant start delay with no underrun. 6 ms: a quantum and
    // a half at 24 kHz, the core's start granularity.
    const bound = (arrivals: { atMs: number; samples: number }[], rate: number) => {
      const audio = arrivals.reduce((a, f) => a + (f.samples * 1000) / trace.sampleRate, 0);
      let before = 0, b = -Infinity;
      for (const f of arrivals) {
        b = Math.max(b, f.atMs - before - (audio - before) * (1 - 1 / rate));
        before += (f.samples * 1000) / trace.sampleRate;
      }
      return b;
    };
    // The bench's oracle is the same D* (what the goal table measures end delays against).
    short.replies.forEach((r) => expect(oracleDelayMs(r.arrivals, trace.sampleRate)).toBeCloseTo(bound(r.arrivals, 1), 9));
    for (const policy of ['on-arrival', { prebufferMs: 250 }] as const) {
      const res = simulatePlayout(short, { policy });
      res.forEach((r, i) => expect(r.endDelayMs).toBeGreaterThanOrEqual(bound(short.replies[i]!.arrivals, 1) - 6));
    }
    const stopAndWait = simulatePlayout(short, { jitter: { timeScale: false } });
    stopAndWait.forEach((r, i) => expect(r.endDelayMs).toBeGreaterThanOrEqual(bound(short.replies[i]!.arrivals, 1) - 6));
    // Time-scaling at up to 1.1x can end sooner than D*, but not before the bound at 1.1.
    const scaled = simulatePlayout(short, { jitter: { timeScale: true } });
    expect(Math.max(...scaled.map((r) => r.maxRate))).toBeGreaterThan(1);
    scaled.forEach((r, i) => {
      expect(r.endDelayMs).toBeGreaterThanOrEqual(bound(short.replies[i]!.arrivals, 1.1) - 6);
      expect(r.maxRate).toBeLessThanOrEqual(1.1);
      expect(r.minRate).toBeGreaterThanOrEqual(0.9);
    });
  });

  it('simulates at another output rate through the resampler with the same outcome shape', () => {
    const trace: PlayoutTrace = { sampleRate: RATE, replies: [pacedReply(50, 400, 200), pacedReply(50, 400, 200)] };
    // Stop-and-wait: with time-scaling the splices fall on each rate's own sample grid (and the
    // lag search decides per rate), so a stall on the edge of the cushion can tip either way.
    const a = simulatePlayout(trace, { outputRate: 44100, jitter: { timeScale: false } });
    const b = simulatePlayout(trace, { outputRate: 24000, jitter: { timeScale: false } });
    expect(a.map((r) => r.underruns)).toEqual(b.map((r) => r.underruns));
    a.forEach((r, i) => expect(Math.abs(r.endDelayMs - b[i]!.endDelayMs)).toBeLessThan(12));
  });
});
