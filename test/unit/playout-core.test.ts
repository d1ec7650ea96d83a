import { describe, expect, it } from 'vitest';
import { PlayoutCore, type PlayoutCoreOptions } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import type { PlayoutEventRecord } from '../../src/playout/types';
import { TalStreamError } from '../../src/errors';

const RATE = 48000;
const Q = 128;

function core(extra: Partial<PlayoutCoreOptions> = {}): PlayoutCore {
  return new PlayoutCore({ sampleRate: RATE, fadeMs: 1, jitter: { policy: 'on-arrival' }, ...extra });
}
const konst = (n: number, v: number) => new Float32Array(n).fill(v);
const frame = (order: number, v: number, n = 480, sampleRate = RATE) => ({ channels: [konst(n, v)], sampleRate, order });

/** Renders `quanta` quanta from time `t0`, returns the concatenated output and the events. */
function run(c: PlayoutCore, quanta: number, t0 = 0, channels = 1) {
  const out: number[][] = Array.from({ length: channels }, () => []);
  const events: (PlayoutEventRecord & { at: number })[] = [];
  const bufs = Array.from({ length: channels }, () => new Float32Array(Q));
  const ev = newEventRecord();
  for (let k = 0; k < quanta; k++) {
    const base = out[0]!.length;
    c.render(bufs, t0 + ((base * 1000) / RATE));
    bufs.forEach((b, ch) => out[ch]!.push(...b));
    while (c.nextEvent(ev)) events.push({ ...ev, at: base + ev.atSample });
  }
  return { out, events };
}
const maxStep = (xs: number[]) => {
  let m = 0;
  for (let i = 1; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]! - xs[i - 1]!));
  return m;
};

describe('PlayoutCore: start, fades, end', () => {
  it('fades in at start, plays exact samples, fades out at the end and reports ended with the position', () => {
    const c = core();
    expect(c.push(frame(1, 0.5), 1, 0)).toBe('queued');
    c.end(1);
    const { out, events } = run(c, 5);
    const x = out[0]!;
    // 1 ms fade = 48 samples: gain k/48 on sample k-1.
    expect(x[0]).toBeCloseTo(0.5 / 48, 7);
    expect(x[47]).toBeCloseTo(0.5, 7);
    for (let i = 48; i < 480 - 48; i++) expect(x[i]).toBe(0.5);
    expect(x[479]).toBe(0); // the last sample reaches gain 0
    for (let i = 480; i < x.length; i++) expect(x[i]).toBe(0);
    expect(maxStep([0, ...x])).toBeLessThan(0.1 * 0.5);
    expect(events.map((e) => [e.type, e.at])).toEqual([
      ['audio-start', 0],
      ['ended', 480],
    ]);
    const ended = events[1]!;
    expect([ended.order, ended.sampleOffset, ended.playedMs, ended.underruns, ended.interrupted]).toEqual([1, 480, 10, 0, false]);
    expect(c.stats()).toMatchObject({ state: 'idle', playedMs: 10, underruns: 0, bufferedMs: 0 });
  });

  it('waits for the prebuffer depth before starting', () => {
    const c = core({ jitter: { policy: { prebufferMs: 25 } } });
    c.push(frame(1, 0.25), 1, 0); // 10 ms
    c.push(frame(2, 0.25), 1, 0); // 20 ms
    expect(run(c, 3).events).toEqual([]);
    expect(c.stats().state).toBe('buffering');
    c.push(frame(3, 0.25), 1, 8);
    const { events } = run(c, 1, 8);
    expect(events.map((e) => e.type)).toEqual(['audio-start']);
  });

  it('{ fixedStartMs } starts that long after the first arrival', () => {
    const c = core({ jitter: { policy: { fixedStartMs: 10 } } });
    c.push(frame(1, 0.25), 1, 0);
    // quanta start at 0, 2.67, 5.33, 8, 10.67 ms: the 5th is the first at >= 10 ms
    const { events } = run(c, 6);
    expect(events[0]).toMatchObject({ type: 'audio-start', at: 4 * Q });
  });
});

describe('PlayoutCore: underrun and resume', () => {
  it('fades out before running dry, counts one underrun, fades in on resume, never steps > 0.1', () => {
    const c = core();
    c.push(frame(1, 0.9), 1, 0);
    let r = run(c, 6);
    expect(r.events.map((e) => [e.type, e.at])).toEqual([
      ['audio-start', 0],
      ['underrun', 480],
    ]);
    expect(r.out[0]![479]).toBe(0);
    expect(r.out[0]![430]).toBeLessThan(0.9);
    expect(c.stats()).toMatchObject({ state: 'underrun', underruns: 1 });
    c.push(frame(2, 0.9), 1, 16);
    const r2 = run(c, 6, 16);
    expect(r2.events.map((e) => [e.type, e.at])).toEqual([
      ['resume', 0],
      ['underrun', 480],
    ]);
    expect(r2.out[0]![0]).toBeCloseTo(0.9 / 48, 6);
    expect(maxStep([0, ...r.out[0]!, ...r2.out[0]!])).toBeLessThan(0.1);
    const s = c.stats();
    expect(s.underruns).toBe(2);
    // Silence from each dry point to the end of its run's 6 quanta: 768 - 480 samples, twice, at 48 kHz.
    expect(s.underrunMs).toBe(((768 - 480) * 2 * 1000) / RATE);
    c.end(1);
    const r3 = run(c, 1, 40);
    expect(r3.events.map((e) => e.type)).toEqual(['ended']);
    expect(r3.events[0]).toMatchObject({ underruns: 2, order: 2, sampleOffset: 480, playedMs: 20 });
  });

  it('a frame arriving during the dry fade cancels it without an underrun', () => {
    const c = core();
    c.push(frame(1, 0.9, 150), 1, 0); // 150 samples: the dry fade starts at sample 102 of quantum 1
    const first = run(c, 1);
    expect(first.out[0]![127]).toBeLessThan(0.9);
    c.push(frame(2, 0.9, 480), 1, 2.6);
    const { events, out } = run(c, 2, 2.6);
    expect(events.filter((e) => e.type === 'underrun')).toEqual([]);
    expect(out[0]![200]).toBeCloseTo(0.9, 6);
    expect(maxStep([0, ...first.out[0]!, ...out[0]!])).toBeLessThan(0.1);
  });
});

describe('PlayoutCore: order, duplicates, closed replies', () => {
  it('plays frames in order, holding one that comes early', () => {
    const c = core();
    c.push(frame(1, 0.1), 1, 0);
    expect(c.push(frame(3, 0.3), 1, 0)).toBe('held');
    expect(c.push(frame(2, 0.2), 1, 0)).toBe('queued');
    c.end(1);
    const x = run(c, 12).out[0]!;
    expect(x[100]).toBeCloseTo(0.1, 6);
    expect(x[480 + 100]).toBeCloseTo(0.2, 6);
    expect(x[960 + 100]).toBeCloseTo(0.3, 6);
  });

  it('drops a duplicate order and a frame older than one already accepted', () => {
    const c = core();
    c.push(frame(1, 0.1), 1, 0);
    c.push(frame(2, 0.2), 1, 0);
    expect(c.push(frame(2, 0.9), 1, 0)).toBe('duplicate');
    expect(c.push(frame(1, 0.9), 1, 0)).toBe('duplicate');
    expect(c.dropped).toBe(2);
    c.end(1);
    const { out, events } = run(c, 10);
    expect(out[0]!.some((v) => v > 0.25)).toBe(false);
    expect(events.find((e) => e.type === 'ended')).toMatchObject({ order: 2, playedMs: 20 });
  });

  it('refuses frames of an ended or interrupted reply, and of an older reply id', () => {
    const c = core();
    c.push(frame(1, 0.1), 1, 0);
    c.end(1);
    expect(c.push(frame(2, 0.1), 1, 0)).toBe('closed');
    c.push(frame(1, 0.1), 2, 0);
    run(c, 1);
    c.interrupt();
    expect(c.push(frame(2, 0.5), 2, 0)).toBe('closed');
    run(c, 20);
    expect(c.push(frame(1, 0.5), 1, 0)).toBe('closed');
    expect(c.openReplies).toBe(0);
  });

  it('queues a second reply behind the first and plays it after', () => {
    const c = core();
    c.push(frame(1, 0.1), 1, 0);
    c.end(1);
    c.push(frame(1, 0.2), 2, 0);
    c.end(2);
    const { out, events } = run(c, 10);
    expect(events.map((e) => [e.type, e.replyId, e.at])).toEqual([
      ['audio-start', 1, 0],
      ['ended', 1, 480],
      ['audio-start', 2, 480],
      ['ended', 2, 960],
    ]);
    expect(out[0]![700]).toBeCloseTo(0.2, 6);
  });
});

describe('PlayoutCore: interrupt', () => {
  it('returns the exact position at the end of its fade (same rate) and fades within 10 ms', () => {
    const c = core({ interruptFadeMs: 8 });
    for (let k = 1; k <= 4; k++) c.push(frame(k, 0.8), 1, 0);
    const before = run(c, 5).out[0]!; // 640 samples played
    const pos = c.interrupt();
    // 8 ms fade = 384 samples: 640 + 384 = 1024 = frame 3 (960..1439), 64 samples in.
    expect(pos).toEqual({ order: 3, sampleOffset: 64, playedMs: 1024 / 48 });
    const { out, events } = run(c, 6, 13.4);
    const x = out[0]!;
    expect(x[383]).toBe(0);
    for (let i = 384; i < x.length; i++) expect(x[i]).toBe(0);
    expect(maxStep([...before, ...x].slice(600))).toBeLessThan(0.1);
    expect(events.map((e) => e.type)).toEqual(['ended']);
    expect(events[0]).toMatchObject({ interrupted: true, order: 3, sampleOffset: 64, at: 384 });
  });

  it('counts the offset in the frame\'s own rate when resampling (24 kHz frames, 48 kHz out)', () => {
    const c = core({ interruptFadeMs: 8 });
    for (let k = 1; k <= 4; k++) c.push(frame(k, 0.5, 240, 24000), 1, 0); // 10 ms each
    run(c, 5);
    // 1024 output samples = 512 input samples = frame 3 (480..719), 32 in.
    expect(c.interrupt()).toEqual({ order: 3, sampleOffset: 32, playedMs: 1024 / 48 });
  });

  it('reports order 0 when nothing played', () => {
    const c = core({ jitter: { policy: { prebufferMs: 100 } } });
    c.push(frame(1, 0.5), 1, 0);
    expect(c.interrupt()).toEqual({ order: 0, sampleOffset: 0, playedMs: 0 });
    expect(run(c, 1).events[0]).toMatchObject({ type: 'ended', interrupted: true, order: 0 });
  });
});

describe('PlayoutCore: channels, resampling, memory, input checks', () => {
  it('averages stereo into a mono output and copies mono to both outputs of a stereo one', () => {
    const m = core();
    m.push({ channels: [konst(480, 0.2), konst(480, 0.6)], sampleRate: RATE, order: 1 }, 1, 0);
    expect(run(m, 2).out[0]![200]).toBeCloseTo(0.4, 6);
    const s = core({ channels: 2 });
    s.push(frame(1, 0.3), 1, 0);
    const r = run(s, 2, 0, 2);
    expect([r.out[0]![200], r.out[1]![200]]).toEqual([r.out[0]![200], r.out[0]![200]]);
    expect(r.out[1]![200]).toBeCloseTo(0.3, 6);
  });

  it('resamples with state across frames: a 24 kHz sine split in 20 ms frames is seamless at 48 kHz', () => {
    const c = core({ fadeMs: 1 });
    const f = 440;
    const amp = 0.5;
    const total = 24000; // 1 s
    const src = new Float32Array(total);
    for (let i = 0; i < total; i++) src[i] = amp * Math.sin((2 * Math.PI * f * i) / 24000);
    for (let k = 0; k < total / 480; k++) c.push({ channels: [src.slice(k * 480, (k + 1) * 480)], sampleRate: 24000, order: k + 1 }, 1, 0);
    c.end(1);
    const x = run(c, Math.ceil(48000 / Q) + 2).out[0]!;
    let maxErr = 0;
    let step = 0;
    for (let n = 2000; n < 46000; n++) {
      maxErr = Math.max(maxErr, Math.abs(x[n]! - amp * Math.sin((2 * Math.PI * f * n) / 48000)));
      step = Math.max(step, Math.abs(x[n]! - x[n - 1]!));
    }
    expect(maxErr).toBeLessThan(2e-3);
    // The largest step of the sine itself is amp * 2*pi*f/48000 = 0.0288.
    expect(step).toBeLessThan(0.0295);
  });

  it('uses the injected resampler factory, one per output channel', () => {
    const made: string[] = [];
    const c = core({
      channels: 2,
      createResampler: (from, to) => {
        made.push(`${from}->${to}`);
        return { process: (x) => x, flush: () => new Float32Array(0) };
      },
    });
    c.push(frame(1, 0.1, 480, 16000), 1, 0);
    expect(made).toEqual(['16000->48000', '16000->48000']);
  });

  it('refuses audio beyond maxQueuedMs (bounded memory)', () => {
    const c = core({ maxQueuedMs: 50, jitter: { policy: { prebufferMs: 1000 } } });
    for (let k = 1; k <= 5; k++) expect(c.push(frame(k, 0.1), 1, 0)).toBe('queued');
    expect(c.push(frame(6, 0.1), 1, 0)).toBe('overflow');
    expect(c.stats().bufferedMs).toBe(50);
  });

  it('rejects malformed frames and options with bad-argument', () => {
    const c = core();
    const bad = [
      { channels: [], sampleRate: RATE, order: 1 },
      { channels: [konst(10, 0), konst(11, 0)], sampleRate: RATE, order: 1 },
      { channels: [konst(10, 0)], sampleRate: 0, order: 1 },
      { channels: [konst(10, 0)], sampleRate: RATE, order: 1.5 },
    ];
    for (const f of bad) expect(() => c.push(f, 1, 0)).toThrow(TalStreamError);
    expect(() => new PlayoutCore({ sampleRate: 10 })).toThrow(/sampleRate/);
    expect(() => (c.volume = -1)).toThrow(TalStreamError);
  });
});

describe('PlayoutCore: long replies', () => {
  it('keeps positions exact on a long reply while forgetting the map of frames long played', () => {
    const c = core({ interruptFadeMs: 8 });
    const n = 48; // 1 ms frames: 3000 frames = 3 s
    let played = 0;
    const buf = [new Float32Array(Q)];
    for (let k = 1; k <= 3000; k++) {
      c.push(frame(k, 0.5, n), 1, 0);
      if (k % 4 === 0) {
        c.render(buf, 0); // 128 out per 4 x 48 = 192 in: 2000 frames play, the map is trimmed
        played += Q;
      }
    }
    const pos = c.interrupt();
    const heard = played + 384;
    // The frame holding the last sample heard (a frame heard to its end reports its full length).
    const order = Math.ceil(heard / n);
    expect(pos).toEqual({ order, sampleOffset: heard - (order - 1) * n, playedMs: heard / 48 });
    expect(order).toBeGreaterThan(2000);
    expect(c.push(frame(1, 0.5, n), 1, 0)).toBe('closed');
  });
});
