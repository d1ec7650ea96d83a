// PlayoutCore.render, sample by sample: any quantum length (shorter and longer than 128), output
// arrays beyond the core's channels, the exact shape of every fade, the events at the sample they
// happen (also mid-quantum, when one reply ends and the next starts inside a quantum), and what is
// counted as underrun. The oracle is the fade arithmetic: a linear fade of F samples from silence
// gives gain (k+1)/F on its k-th sample; a fade to a dry buffer reaches 0 on the last sample, so the
// k-th sample from the end (k = 1..F) has gain (k-1)/F; on a constant signal the output is the
// constant times that gain.
import { describe, expect, it } from 'vitest';
import { PlayoutCore, type PlayoutCoreOptions } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import type { PlayoutEventRecord } from '../../src/playout/types';

const RATE = 48000;
const F = 48; // fadeMs 1 at 48 kHz

const core = (extra: Partial<PlayoutCoreOptions> = {}) => new PlayoutCore({ sampleRate: RATE, fadeMs: 1, jitter: { policy: 'on-arrival' }, ...extra });
const konst = (n: number, v: number) => new Float32Array(n).fill(v);
const frame = (order: number, v: number, n = 480) => ({ channels: [konst(n, v)], sampleRate: RATE, order });

/**
 * Renders `quanta` quanta of `len` samples into `outs` output arrays, the clock at the output
 * position (+ t0 ms); returns each output's samples and the events (`at`: output sample).
 */
function run(c: PlayoutCore, quanta: number, { outs = 1, len = 128, t0 = 0 } = {}) {
  const out: number[][] = Array.from({ length: outs }, () => []);
  const events: (PlayoutEventRecord & { at: number })[] = [];
  const bufs = Array.from({ length: outs }, () => new Float32Array(len));
  const ev = newEventRecord();
  for (let k = 0; k < quanta; k++) {
    const base = out[0]!.length;
    c.render(bufs, t0 + (base * 1000) / RATE);
    bufs.forEach((b, ch) => out[ch]!.push(...b));
    while (c.nextEvent(ev)) events.push({ ...ev, at: base + ev.atSample });
  }
  return { out, events };
}

/** Gain of sample k of an ended reply of `n` samples played from silence: fade in, 1, fade to 0. */
const gain = (k: number, n: number) => Math.min((k + 1) / F, 1, (n - k - 1) / F);

/** Fails unless `xs` is `v` x gain(k) on each of the reply's n samples (float32 tolerance), 0 after. */
function expectReply(xs: number[], v: number, n: number) {
  for (let k = 0; k < xs.length; k++) {
    const want = k < n ? v * gain(k, n) : 0;
    if (!(Math.abs(xs[k]! - want) <= 1e-7)) expect.fail(`sample ${k}: ${xs[k]} instead of ${want}`);
  }
}

describe('render: any quantum length, any number of outputs', () => {
  it('quanta of 8 and of 256 samples play the same reply as quanta of 128, mono and stereo', () => {
    // 960 samples: 120 quanta of 8, 3.75 of 256; the scratch buffers must fit the longest.
    for (const channels of [1, 2] as const) {
      for (const len of [8, 128, 256]) {
        const c = core({ channels });
        c.push({ channels: [konst(960, 0.5), konst(960, 0.25)].slice(0, channels), sampleRate: RATE, order: 1 }, 1, 0);
        c.end(1);
        const { out, events } = run(c, Math.ceil(1200 / len), { outs: channels, len });
        expectReply(out[0]!, 0.5, 960);
        if (channels === 2) expectReply(out[1]!, 0.25, 960);
        expect(events.map((e) => [e.type, e.at])).toEqual([['audio-start', 0], ['ended', 960]]);
      }
    }
  });

  it('a quantum longer than any before grows the buffers once, and shorter ones still play right after', () => {
    const c = core({ channels: 2 });
    c.push({ channels: [konst(960, 0.5), konst(960, 0.25)], sampleRate: RATE, order: 1 }, 1, 0);
    c.end(1);
    const a = run(c, 1, { outs: 2, len: 128 });
    const b = run(c, 1, { outs: 2, len: 512 });
    const d = run(c, 40, { outs: 2, len: 16 });
    expectReply([...a.out[0]!, ...b.out[0]!, ...d.out[0]!], 0.5, 960);
    expectReply([...a.out[1]!, ...b.out[1]!, ...d.out[1]!], 0.25, 960);
  });

  it('more outputs than channels: mono goes to every output; stereo repeats its last channel', () => {
    const m = core();
    m.push(frame(1, 0.5), 1, 0);
    m.end(1);
    const mono = run(m, 5, { outs: 3 }).out;
    for (const x of mono) expectReply(x, 0.5, 480);
    const s = core({ channels: 2 });
    s.push({ channels: [konst(480, 0.2), konst(480, 0.6)], sampleRate: RATE, order: 1 }, 1, 0);
    s.end(1);
    const stereo = run(s, 5, { outs: 3 }).out;
    expectReply(stereo[0]!, 0.2, 480);
    expectReply(stereo[1]!, 0.6, 480);
    expectReply(stereo[2]!, 0.6, 480);
  });

  it('fewer outputs than channels: the first channel only', () => {
    const s = core({ channels: 2 });
    s.push({ channels: [konst(480, 0.2), konst(480, 0.6)], sampleRate: RATE, order: 1 }, 1, 0);
    s.end(1);
    expectReply(run(s, 5).out[0]!, 0.2, 480);
  });
});

describe('render: fades', () => {
  it('the fade to a dry buffer starts exactly F samples before the end: gains 47/48 ... 1/48, 0', () => {
    const c = core();
    c.push(frame(1, 0.5), 1, 0);
    c.end(1);
    const x = run(c, 4).out[0]!;
    expectReply(x, 0.5, 480);
    expect(x[480 - F - 1]).toBe(0.5); // the last sample at full gain
    expect(x[480 - F]).toBeCloseTo((0.5 * 47) / 48, 7);
  });

  it('a reply shorter than one fade is not heard at all (its fade out starts from silence: no click)', () => {
    const c = core({ fadeMs: 5 }); // 240 samples
    c.push(frame(1, 0.5, 200), 1, 0);
    c.end(1);
    const { out, events } = run(c, 3);
    expect(out[0]!.every((v) => v === 0)).toBe(true);
    expect(events.map((e) => [e.type, e.at, e.order, e.sampleOffset, e.playedMs])).toEqual([
      ['audio-start', 0, 0, 0, 0],
      ['ended', 200, 1, 200, (200 * 1000) / RATE], // all of it played, inaudibly
    ]);
  });

  it('audio arriving during the dry fade turns it back up from where it was; the next dry edge fades again', () => {
    const c = core();
    c.push(frame(1, 0.5, 150), 1, 0);
    // 150 samples: the dry fade begins at sample 102 (48 before the end); quantum 1 ends at 127,
    // gain (150 - 127 - 1)/48 = 22/48.
    const first = run(c, 1).out[0]!;
    expect(first[101]).toBe(0.5);
    expect(first[127]).toBeCloseTo((0.5 * 22) / 48, 7);
    c.push(frame(2, 0.5, 480), 1, 2.6);
    const { out, events } = run(c, 6, { t0: 2.6 });
    const x = out[0]!;
    // From 22/48 back up by 1/48 a sample: 23/48 at 128 (x[0] here), full from 153 on.
    for (let k = 0; k < 26; k++) expect(x[k]).toBeCloseTo((0.5 * (23 + k)) / 48, 7);
    // 630 samples in all: dry at 630 (502 into this run); the last 48 fade to 0 again.
    for (let k = 25; k < 502 - F; k++) expect(x[k]).toBe(0.5);
    for (let k = 1; k <= F; k++) expect(x[502 - k]).toBeCloseTo((0.5 * (k - 1)) / F, 7);
    expect(events.map((e) => [e.type, e.at])).toEqual([['underrun', 502]]);
  });
});

describe('render: events at their sample, and what counts', () => {
  it('a reply opened without frames waits silently; ended with none, it ends (not interrupted) at once', () => {
    const c = core();
    c.begin(1);
    expect(run(c, 3).events).toEqual([]);
    expect([c.stats().state, c.openReplies]).toEqual(['buffering', 1]);
    c.end(1);
    const { events } = run(c, 1);
    expect(events.map((e) => [e.type, e.at, e.interrupted, e.order, e.playedMs, e.underruns])).toEqual([['ended', 0, false, 0, 0, 0]]);
    expect(c.openReplies).toBe(0);
  });

  // fixedStartMs 10: a reply starts once 10 ms have passed since its first frame arrived, counted
  // to the very sample. Reply 1 (ended, 480 samples) plays from 0 and ends at sample 480 = 10 ms,
  // inside the quantum that starts at 384 (8 ms): reply 2's start is decided there, at 8 + 96/48 ms.
  const twoReplies = (firstArrival2: number) => {
    const c = core({ jitter: { policy: { fixedStartMs: 10 } } });
    c.push(frame(1, 0.1), 1, 0);
    c.end(1);
    c.push(frame(1, 0.2), 2, firstArrival2);
    return run(c, 7).events.map((e) => [e.type, e.replyId, e.at]); // to 896: before reply 2 runs dry
  };

  it('fixedStartMs, mid-quantum: reply 2 first heard at 0 ms starts at sample 480 (10 ms), where reply 1 ends', () => {
    expect(twoReplies(0)).toEqual([
      ['audio-start', 1, 0],
      ['ended', 1, 480],
      ['audio-start', 2, 480],
    ]);
  });

  it('fixedStartMs, mid-quantum: reply 2 first heard at 1 ms waits to 11 ms, the first quantum at or after it (640)', () => {
    // At 480 only 9 ms have passed; the quanta at 512 (10.67 ms: 9.67 since) and 640 (13.33: 12.33).
    expect(twoReplies(1)).toEqual([
      ['audio-start', 1, 0],
      ['ended', 1, 480],
      ['audio-start', 2, 640],
    ]);
  });

  it('underrun and resume events at their samples; the silence between counted exactly', () => {
    const c = core({ jitter: { policy: { prebufferMs: 10 } } });
    c.push(frame(1, 0.5, 300), 1, 0); // 6.25 ms: not yet 10
    expect(run(c, 2).events).toEqual([]);
    c.push(frame(2, 0.5, 300), 1, 0); // 600 samples: starts at the next quantum
    const a = run(c, 6);
    expect(a.events.map((e) => [e.type, e.at])).toEqual([['audio-start', 0], ['underrun', 600]]);
    expect(c.stats().underrunMs).toBe(((768 - 600) * 1000) / RATE);
    c.push(frame(3, 0.5, 480), 1, 0); // 10 ms: enough to resume
    c.end(1);
    const b = run(c, 5);
    expect(b.events.map((e) => [e.type, e.at, e.underruns])).toEqual([['resume', 0, 0], ['ended', 480, 1]]);
    expectReply(b.out[0]!, 0.5, 480); // the resume fades in from silence like a start
    expect(c.stats()).toMatchObject({ underruns: 1, underrunMs: ((768 - 600) * 1000) / RATE, playedMs: (1080 * 1000) / RATE });
  });
});
