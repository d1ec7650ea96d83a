// ReplyQueue on its own (the part of the PlayoutCore that runs at message time): reordering by
// `order`, the samples it hands on and in which order, the map from played samples back to
// (frame, offset in the frame's own rate), channel mapping, and memory that stays bounded on a long
// reply. The expected values are worked out by hand from the frames pushed: each frame is filled
// with its own order (or a per-channel constant), so the samples handed on spell out the frames.
import { describe, expect, it } from 'vitest';
import type { TimeScaler } from '../../src/dsp/time-scaler';
import { mixChannels, ReplyQueue } from '../../src/playout/reply-queue';
import type { ChannelResampler, PlayoutFrame, ResamplerFactory } from '../../src/playout/types';

const OUT = 48000;

/** Same-rate "resampler" that passes samples through (what the position maths assume at 1:1). */
const passThrough = (): ChannelResampler => ({ process: (x) => x, flush: () => new Float32Array(0) });
/** Holds back the last sample of each block (a resampler's latency); `flush` returns it. */
function delayOne(): ChannelResampler {
  let held: number | null = null;
  return {
    process(x) {
      const out = held === null ? Array.from(x.subarray(0, x.length - 1)) : [held, ...x.subarray(0, x.length - 1)];
      held = x[x.length - 1]!;
      return Float32Array.from(out);
    },
    flush: () => (held === null ? new Float32Array(0) : Float32Array.of(held)),
  };
}
/** 2x upsampler by repetition: every input sample twice (exact, so outputs can be listed by hand). */
const doubler = (): ChannelResampler => ({
  process: (x) => Float32Array.from({ length: 2 * x.length }, (_, i) => x[i >> 1]!),
  flush: () => new Float32Array(0),
});

const queue = (channels = 1, factory: ResamplerFactory = passThrough) => new ReplyQueue(1, OUT, channels, factory);
const frame = (order: number, value: number, n = 2, sampleRate = OUT): PlayoutFrame => ({
  channels: [new Float32Array(n).fill(value)],
  sampleRate,
  order,
});

/** Stands in for a TimeScaler: `feed` only calls `push`; this one records every sample it gets. */
class Recorder {
  readonly samples: number[] = [];
  push(src: Float32Array, offset = 0, n = src.length - offset): number {
    for (let i = 0; i < n; i++) this.samples.push(src[offset + i]!);
    return n;
  }
}
const scalers = (recs: Recorder[]) => recs as unknown as TimeScaler[];
/** Everything queued, channel 0. */
function drain(q: ReplyQueue): number[] {
  const r = new Recorder();
  q.feed(scalers([r]), Infinity);
  return r.samples;
}
function position(q: ReplyQueue, played: number) {
  const out = { order: -1, sampleOffset: -1 };
  q.positionAt(played, out);
  return out;
}
/**
 * Slots the queue holds. There is no public view of them, and "no unbounded allocation" is a
 * requirement, so this reads two private arrays (read only; a rename fails here loudly).
 */
function held(q: ReplyQueue): { chunkSlots: number; mapFrames: number } {
  const p = q as unknown as { chunks: unknown[]; mapOrder: number[] };
  expect(Array.isArray(p.chunks) && Array.isArray(p.mapOrder)).toBe(true);
  return { chunkSlots: p.chunks.length, mapFrames: p.mapOrder.length };
}

describe('ReplyQueue: order', () => {
  it('takes the first frame as the start of the sequence, whatever its order', () => {
    // validateFrame accepts any integer order, so a reply may start at 5 or below 0.
    const q = queue();
    expect(q.push(frame(5, 5))).toBe('queued');
    expect(q.push(frame(6, 6))).toBe('queued');
    expect(drain(q)).toEqual([5, 5, 6, 6]);

    const neg = queue();
    expect(neg.push(frame(-3, -3))).toBe('queued');
    expect(neg.push(frame(-2, -2))).toBe('queued');
    expect(neg.push(frame(-1, -1))).toBe('queued'); // next expected: 0
    expect(neg.push(frame(-2, 9))).toBe('duplicate'); // already queued
    expect(neg.push(frame(-5, 9))).toBe('late'); // before the sequence, never seen
    expect(neg.push(frame(2, 2))).toBe('held'); // 0 and 1 missing
    expect(neg.push(frame(0, 0))).toBe('queued');
    expect(neg.push(frame(1, 1))).toBe('queued'); // fills the gap: 2 follows
    expect(drain(neg)).toEqual([-3, -3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2]);
  });

  it('holds frames that come early, sorted, and releases them when the gap fills', () => {
    const q = queue();
    q.push(frame(1, 1));
    expect(q.push(frame(4, 4))).toBe('held');
    expect(q.push(frame(3, 3))).toBe('held'); // arrives after 4: must still play before it
    expect(q.queued).toBe(2);
    expect(q.push(frame(2, 2))).toBe('queued');
    expect(drain(q)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('releases only up to the next gap; the frame after it waits for its own gap', () => {
    const q = queue();
    q.push(frame(1, 1));
    expect(q.push(frame(5, 5))).toBe('held');
    expect(q.push(frame(3, 3))).toBe('held');
    expect(q.push(frame(2, 2))).toBe('queued'); // 2 and 3 play; 4 is still missing
    expect(drain(q)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(q.queued).toBe(0);
    expect(q.push(frame(4, 4))).toBe('queued'); // not late: 4 was still awaited
    expect(drain(q)).toEqual([4, 4, 5, 5]);
  });

  it('drops duplicates (queued or held) and, once a gap is skipped, its frame as late', () => {
    const q = queue();
    q.push(frame(1, 1));
    expect(q.push(frame(1, 9))).toBe('duplicate');
    // Up to REORDER_WINDOW = 4 frames wait for the missing 2 ...
    expect(q.push(frame(3, 3))).toBe('held');
    expect(q.push(frame(3, 9))).toBe('duplicate'); // same order as a held frame
    expect(q.push(frame(4, 4))).toBe('held');
    expect(q.push(frame(5, 5))).toBe('held');
    expect(q.push(frame(6, 6))).toBe('held');
    expect(q.queued).toBe(2);
    // ... a fifth skips the gap: all five play, and 2 comes too late.
    expect(q.push(frame(7, 7))).toBe('queued');
    expect(q.push(frame(2, 9))).toBe('late');
    expect(q.push(frame(4, 9))).toBe('duplicate');
    expect(drain(q)).toEqual([1, 1, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
  });

  it('a full window jumps one gap and stops at the next: a frame of that second gap still plays', () => {
    const q = queue();
    q.push(frame(1, 1));
    for (const o of [3, 4, 6, 7]) expect(q.push(frame(o, o))).toBe('held'); // 2 and 5 missing
    // A fifth overflows the window: 2 is given up, 3 and 4 play; 5 may still come, so 6..8 wait.
    expect(q.push(frame(8, 8))).toBe('held');
    expect(drain(q)).toEqual([1, 1, 3, 3, 4, 4]);
    expect(q.push(frame(2, 9))).toBe('late');
    expect(q.push(frame(5, 5))).toBe('queued');
    expect(drain(q)).toEqual([5, 5, 6, 6, 7, 7, 8, 8]);
  });

  it('end() jumps every gap: all held frames play, in order', () => {
    const q = queue();
    q.push(frame(1, 1));
    for (const o of [3, 5, 7]) expect(q.push(frame(o, o))).toBe('held');
    q.end();
    expect(drain(q)).toEqual([1, 1, 3, 3, 5, 5, 7, 7]);
  });

  it('end() plays the held frames past their gap, then the resampler\'s held-back tail', () => {
    const q = queue(1, delayOne);
    q.push(frame(1, 1, 4));
    expect(q.push(frame(3, 3, 4))).toBe('held');
    expect(q.queued).toBe(3); // the resampler keeps 1 sample back
    q.end();
    expect(q.ended).toBe(true);
    expect(q.queued).toBe(8);
    expect(drain(q)).toEqual([1, 1, 1, 1, 3, 3, 3, 3]);
  });

  it('clear() drops what is queued and held; frames pushed after it play on their own', () => {
    const q = queue();
    q.push(frame(1, 1));
    q.push(frame(2, 2));
    expect(q.push(frame(4, 4))).toBe('held');
    q.clear();
    expect(q.queued).toBe(0);
    expect(drain(q)).toEqual([]);
    expect(q.push(frame(3, 3))).toBe('queued'); // 4 was dropped with the rest: nothing follows
    expect(drain(q)).toEqual([3, 3]);
  });
});

describe('ReplyQueue: feed', () => {
  it('moves at most `max` samples, across frame boundaries, to every channel, and counts them', () => {
    const q = queue(2);
    for (let k = 1; k <= 3; k++) q.push({ channels: [Float32Array.of(k, k + 0.5, k + 0.25), Float32Array.of(-k, -k, -k)], sampleRate: OUT, order: k });
    expect([q.queued, q.played]).toEqual([9, 0]);
    const l = new Recorder();
    const r = new Recorder();
    expect(q.feed(scalers([l, r]), 4)).toBe(4);
    expect([q.queued, q.played]).toEqual([5, 4]);
    expect(q.feed(scalers([l, r]), 100)).toBe(5); // only 5 were left
    expect([q.queued, q.played]).toEqual([0, 9]);
    expect(q.feed(scalers([l, r]), 100)).toBe(0);
    expect(l.samples).toEqual([1, 1.5, 1.25, 2, 2.5, 2.25, 3, 3.5, 3.25]);
    expect(r.samples).toEqual([-1, -1, -1, -2, -2, -2, -3, -3, -3]);
  });
});

describe('ReplyQueue: positions', () => {
  it('maps played samples to (frame, offset) at the same rate, at and around frame edges', () => {
    const q = queue();
    for (let k = 1; k <= 4; k++) q.push(frame(k, k, 48)); // frame k holds output samples 48(k-1)..48k-1
    expect(position(q, 0)).toEqual({ order: 0, sampleOffset: 0 }); // nothing played yet
    expect(position(q, 1)).toEqual({ order: 1, sampleOffset: 1 });
    expect(position(q, 48)).toEqual({ order: 1, sampleOffset: 48 }); // frame 1 heard to its end
    expect(position(q, 49)).toEqual({ order: 2, sampleOffset: 1 }); // sample 48 is frame 2's first
    expect(position(q, 100)).toEqual({ order: 3, sampleOffset: 4 });
    expect(position(q, 192)).toEqual({ order: 4, sampleOffset: 48 });
  });

  it('reports order 0 before anything is queued', () => {
    expect(position(queue(), 10)).toEqual({ order: 0, sampleOffset: 0 });
  });

  it('still answers for a sample before the cursor (nothing was forgotten yet)', () => {
    const q = queue();
    for (let k = 1; k <= 4; k++) q.push(frame(k, k, 48));
    q.syncCursor(130); // cursor on frame 3, which holds sample 129
    expect(position(q, 130)).toEqual({ order: 3, sampleOffset: 34 });
    expect(position(q, 10)).toEqual({ order: 1, sampleOffset: 10 });
    expect(position(q, 60)).toEqual({ order: 2, sampleOffset: 12 });
  });

  it('counts offsets in each frame\'s own rate across a rate change, after the old tail', () => {
    // 48 kHz frames go through a resampler with one sample of latency, 24 kHz ones are doubled.
    const q = queue(1, (from, to) => (from === to ? delayOne() : doubler()));
    q.push(frame(1, 1, 4));
    q.push(frame(2, 2, 4));
    expect(q.queued).toBe(7);
    q.push(frame(3, 3, 2, 24000)); // flushes the held 2 first, then 3 x 4
    q.push(frame(4, 4, 2, 24000));
    q.end();
    expect(drain(q)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
    // Output starts: frame 1 at 0, 2 at 4, 3 at 8 (all 48 kHz audio before it), 4 at 8 + 2 x 2.
    expect(position(q, 5)).toEqual({ order: 2, sampleOffset: 1 });
    expect(position(q, 10)).toEqual({ order: 3, sampleOffset: 1 }); // 2 out = 1 in at 24 kHz
    expect(position(q, 14)).toEqual({ order: 4, sampleOffset: 1 });
    expect(position(q, 16)).toEqual({ order: 4, sampleOffset: 2 });
  });
});

describe('ReplyQueue: channels', () => {
  it('cuts every output channel to the shortest when their resamplers return different lengths', () => {
    // Channel 0 passes through, channel 1 keeps a sample back: the queue must stay aligned.
    let made = 0;
    const q = queue(2, () => (made++ % 2 === 0 ? passThrough() : delayOne()));
    q.push(frame(1, 1, 4));
    expect(q.queued).toBe(3);
    const l = new Recorder();
    const r = new Recorder();
    expect(q.feed(scalers([l, r]), 100)).toBe(3);
    expect([l.samples, r.samples]).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
  });

  it('mixChannels: same layout as is, mono to every output, more to their mean', () => {
    const ch = (v: number) => new Float32Array(3).fill(v);
    const stereo = [ch(0.25), ch(0.75)];
    expect(mixChannels(stereo, 2)).toBe(stereo); // nothing to map: the frame's own arrays
    const mono = [ch(0.5)];
    const three = mixChannels(mono, 3);
    expect(three).toHaveLength(3);
    for (const c of three) expect(c).toBe(mono[0]);
    // Means exact in float32: (0.25 + 0.75) / 2 and (1 + 2 + 6) / 3.
    expect(Array.from(mixChannels(stereo, 1)[0]!)).toEqual([0.5, 0.5, 0.5]);
    const m3 = mixChannels([ch(1), ch(2), ch(6)], 1);
    expect(m3).toHaveLength(1);
    expect(Array.from(m3[0]!)).toEqual([3, 3, 3]);
  });

  it('mixChannels: several channels to several outputs keeps the first ones, repeating the last', () => {
    const chans = [1, 2, 3, 4].map((v) => new Float32Array(2).fill(v));
    const two = mixChannels(chans, 2); // 4 -> 2: channels 1 and 2
    expect(two).toHaveLength(2);
    expect(two[0]).toBe(chans[0]);
    expect(two[1]).toBe(chans[1]);
    const up = mixChannels(chans.slice(0, 2), 3); // 2 -> 3: the second source fills the third output
    expect(up).toHaveLength(3);
    expect(up[0]).toBe(chans[0]);
    expect(up[1]).toBe(chans[1]);
    expect(up[2]).toBe(chans[1]);
  });
});

describe('ReplyQueue: long replies, bounded memory', () => {
  it('keeps every position exact over 3000 one-sample frames while it forgets frames long heard', () => {
    // One-sample frames: after `heard` samples the last one heard is frame `heard`, heard whole.
    // Frames are pushed ahead of what plays (3 played per 4 pushed), as on a fast link.
    const q = queue();
    const rec = new Recorder();
    let heard = 0;
    for (let k = 1; k <= 3000; k++) {
      expect(q.push(frame(k, k, 1))).toBe('queued');
      expect(position(q, heard)).toEqual(heard === 0 ? { order: 0, sampleOffset: 0 } : { order: heard, sampleOffset: 1 });
      // The map is trimmed (at push) once its cursor passes 1024 frames: at most 1025 heard
      // frames stay mapped, besides the k - heard not yet heard.
      expect(held(q).mapFrames - (k - heard)).toBeLessThanOrEqual(1025);
      if (k % 4 === 0) {
        heard += q.feed(scalers([rec]), 3);
        q.syncCursor(heard);
        expect(position(q, heard)).toEqual({ order: heard, sampleOffset: 1 });
      }
    }
    expect(heard).toBe(2250);
    expect(rec.samples).toEqual(Array.from({ length: 2250 }, (_, i) => i + 1));
    expect(q.played).toBe(2250);
    expect(q.queued).toBe(750);
  });

  it('drops consumed chunk slots in bursts too (at most 64 consumed slots kept past a push)', () => {
    // 30 bursts of 100 frames, each played out before the next arrives.
    const q = queue();
    const rec = new Recorder();
    let order = 0;
    for (let b = 0; b < 30; b++) {
      for (let k = 0; k < 100; k++) q.push(frame(++order, order));
      expect(q.feed(scalers([rec]), Infinity)).toBe(200);
      // The slots of this burst, plus at most 64 consumed ones left from before.
      expect(held(q).chunkSlots).toBeLessThanOrEqual(100 + 64);
    }
    expect(rec.samples).toEqual(Array.from({ length: 6000 }, (_, i) => (i >> 1) + 1));
    expect(q.played).toBe(6000);
  });
});
