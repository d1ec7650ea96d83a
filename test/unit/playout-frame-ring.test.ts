// The SharedArrayBuffer ring between the Player and the playback worklet, as a pure structure:
// records come out exactly as written, in order, across wrap-arounds; a full ring refuses and
// keeps what it holds; a record written after a message waits until that message was handled.
import { describe, expect, it } from 'vitest';
import { FrameRing, RING_BEGIN, RING_END, RING_FRAME, type RingRecordType } from '../../src/playout/frame-ring';
import { rng } from '../support/chunking.mjs';

interface Rec {
  type: RingRecordType;
  replyId: number;
  order: number;
  sampleRate: number;
  channels: number[][] | null;
}

function collector() {
  const out: Rec[] = [];
  return {
    out,
    sink: {
      record(type: RingRecordType, replyId: number, order: number, sampleRate: number, channels: Float32Array[] | null) {
        out.push({ type, replyId, order, sampleRate, channels: channels && channels.map((c) => [...c]) });
      },
    },
  };
}

describe('FrameRing', () => {
  it('begin, frames (mono and stereo, exact samples, fractional rate) and end come out as written', () => {
    const ring = FrameRing.create(256);
    const reader = new FrameRing(ring.buffer);
    expect(ring.write(RING_BEGIN, 7, 0, 0, null)).toBe(true);
    expect(ring.write(RING_FRAME, 7, 1, 24000, [new Float32Array([0.5, -0.25, 0.125])])).toBe(true);
    expect(ring.write(RING_FRAME, 7, 2, 22050.5, [new Float32Array([1, 2]), new Float32Array([3, 4])])).toBe(true);
    expect(ring.write(RING_END, 7, 0, 0, null)).toBe(true);
    const { out, sink } = collector();
    expect(reader.read(sink)).toBe(4);
    expect(out).toEqual([
      { type: RING_BEGIN, replyId: 7, order: 0, sampleRate: 0, channels: null },
      { type: RING_FRAME, replyId: 7, order: 1, sampleRate: 24000, channels: [[0.5, -0.25, 0.125]] },
      { type: RING_FRAME, replyId: 7, order: 2, sampleRate: 22050.5, channels: [[1, 2], [3, 4]] },
      { type: RING_END, replyId: 7, order: 0, sampleRate: 0, channels: null },
    ]);
    expect(reader.read(sink)).toBe(0);
    expect(ring.usedWords).toBe(0);
  });

  it('the copies handed out are the reader\'s own: a later write does not change them', () => {
    const ring = FrameRing.create(64);
    const kept: Float32Array[] = [];
    const sink = { record: (_t: number, _r: number, _o: number, _s: number, ch: Float32Array[] | null) => void kept.push(ch![0]!) };
    for (let k = 0; k < 20; k++) {
      expect(ring.write(RING_FRAME, 1, k, 16000, [new Float32Array(20).fill(k)])).toBe(true);
      ring.read(sink);
    }
    expect(kept.map((c) => c[0])).toEqual(Array.from({ length: 20 }, (_, k) => k));
    expect(kept.every((c, k) => c.every((v) => v === k))).toBe(true);
  });

  it('a full ring refuses (false) and loses nothing it held; a record larger than the ring never fits', () => {
    const ring = FrameRing.create(100);
    // 8 header words + 40 samples = 48 words: two fit (96 <= 99), a third does not.
    const frame = (v: number) => [new Float32Array(40).fill(v)];
    expect(ring.write(RING_FRAME, 1, 1, 16000, frame(1))).toBe(true);
    expect(ring.write(RING_FRAME, 1, 2, 16000, frame(2))).toBe(true);
    expect(ring.write(RING_FRAME, 1, 3, 16000, frame(3))).toBe(false);
    expect(ring.write(RING_FRAME, 1, 9, 16000, [new Float32Array(200)])).toBe(false);
    const { out, sink } = collector();
    expect(ring.read(sink)).toBe(2);
    expect(out.map((r) => [r.order, r.channels![0]![39]])).toEqual([[1, 1], [2, 2]]);
    // Room again: the third goes in (wrapping to the start) and comes out.
    expect(ring.write(RING_FRAME, 1, 3, 16000, frame(3))).toBe(true);
    expect(ring.read(sink)).toBe(1);
    expect(out.at(-1)!.order).toBe(3);
  });

  it('random sizes, interleaved writes and reads, 20000 records: every record in order, exact', () => {
    const next = rng(42);
    const ring = FrameRing.create(997);
    let written = 0;
    let read = 0;
    let refused = 0;
    const sink = {
      record(type: RingRecordType, replyId: number, order: number, sampleRate: number, channels: Float32Array[] | null) {
        expect([type, replyId, order, sampleRate]).toEqual([RING_FRAME, order % 5, order, 8000 + (order % 7) * 1000]);
        expect(channels!.length).toBe(1 + (order % 2));
        for (let c = 0; c < channels!.length; c++) {
          const ch = channels![c]!;
          expect(ch.length).toBe((order * 37) % 300);
          for (let i = 0; i < ch.length; i++) if (ch[i] !== (order % 1000) + c * 0.5 + i / 1024) throw new Error(`record ${order} channel ${c} sample ${i}: ${ch[i]}`);
        }
        expect(order).toBe(read);
        read++;
      },
    };
    while (written < 20000) {
      if (next() < 0.6) {
        const order = written;
        const len = (order * 37) % 300;
        const channels = Array.from({ length: 1 + (order % 2) }, (_, c) => Float32Array.from({ length: len }, (_, i) => (order % 1000) + c * 0.5 + i / 1024));
        if (ring.write(RING_FRAME, order % 5, order, 8000 + (order % 7) * 1000, channels)) written++;
        else refused++;
      } else ring.read(sink);
    }
    ring.read(sink);
    expect(read).toBe(20000);
    expect(refused).toBeGreaterThan(0); // the case of a full ring was exercised
    expect(ring.usedWords).toBe(0);
  });

  it('a record written after message n waits until the reader has handled message n', () => {
    const ring = FrameRing.create(256);
    ring.write(RING_FRAME, 1, 1, 16000, [new Float32Array(4)], 0);
    ring.write(RING_END, 1, 0, 0, null, 3); // posted after message 3 (say, a frame that did not fit)
    const { out, sink } = collector();
    expect(ring.read(sink, 2)).toBe(1);
    expect(ring.read(sink, 2)).toBe(0);
    expect(ring.read(sink, 3)).toBe(1);
    expect(out.map((r) => r.type)).toEqual([RING_FRAME, RING_END]);
  });

  it('refuses a buffer that is not a ring, and a ring too small to be useful', () => {
    expect(() => new FrameRing(new SharedArrayBuffer(64))).toThrow(RangeError);
    expect(() => FrameRing.create(10)).toThrow(RangeError);
  });
});
