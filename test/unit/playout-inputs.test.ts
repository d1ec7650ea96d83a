// What the playout takes from outside: frames (validateFrame, on both threads), the stored
// memory of `jitter.persist` (parseMemory, resolveStore) and a frame ring's size. Exact messages and
// the edges of every range, written out.
import { afterEach, describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { validateFrame } from '../../src/playout/frame-check';
import { FrameRing } from '../../src/playout/frame-ring';
import { parseMemory, resolveStore } from '../../src/playout/jitter-memory';
import { PlayoutEventQueue, newEventRecord } from '../../src/playout/playout-events';
import type { JitterMemory, PlayoutFrame } from '../../src/playout/types';

const frame = (over: Partial<PlayoutFrame> = {}): PlayoutFrame => ({ channels: [new Float32Array(4)], sampleRate: 24000, order: 1, ...over });
const problem = (f: unknown): string | undefined => {
  try {
    validateFrame(f as PlayoutFrame);
  } catch (e) {
    expect(e).toBeInstanceOf(TalStreamError);
    expect((e as TalStreamError).code).toBe('bad-argument');
    return (e as Error).message;
  }
  return undefined;
};

describe('validateFrame', () => {
  it('accepts 1 and 32 channels, the rates 1000 and 768000, order 0 and negative integers', () => {
    for (const f of [
      frame(),
      frame({ channels: Array.from({ length: 32 }, () => new Float32Array(2)) }),
      frame({ sampleRate: 1000 }),
      frame({ sampleRate: 768000 }),
      frame({ order: 0 }),
      frame({ order: -3 }),
      frame({ channels: [new Float32Array(0)] }),
    ]) expect(problem(f)).toBeUndefined();
  });

  it('refuses, by name: no channels, 0 or 33 of them, other arrays, unequal lengths, rates outside 1000..768000, a fractional order', () => {
    const channels = 'frame.channels must be 1..32 Float32Arrays';
    const oneLength = 'frame.channels must be Float32Arrays of one length';
    const cases: [unknown, string][] = [
      [null, channels],
      [{ sampleRate: 24000, order: 1 }, channels],
      [frame({ channels: [] }), channels],
      [frame({ channels: Array.from({ length: 33 }, () => new Float32Array(2)) }), channels],
      [frame({ channels: [new Int16Array(4) as unknown as Float32Array] }), oneLength],
      [frame({ channels: [new Float32Array(4), new Float32Array(3)] }), oneLength],
      [frame({ channels: [new Float32Array(4), [0, 0, 0, 0] as unknown as Float32Array] }), oneLength],
      [frame({ sampleRate: 999 }), 'frame.sampleRate 999 out of range'],
      [frame({ sampleRate: 768001 }), 'frame.sampleRate 768001 out of range'],
      [frame({ sampleRate: Number.NaN }), 'frame.sampleRate NaN out of range'],
      [frame({ order: 1.5 }), 'frame.order must be an integer, got 1.5'],
      [frame({ order: undefined as unknown as number }), 'frame.order must be an integer, got undefined'],
    ];
    for (const [f, message] of cases) expect(problem(f)).toBe(message);
  });
});

describe('jitter.persist', () => {
  const memory = { version: 1, targetMs: 140 } as unknown as JitterMemory;

  it('parseMemory: the object itself, or its JSON; null for anything else', () => {
    expect(parseMemory(memory)).toBe(memory);
    expect(parseMemory(JSON.stringify(memory))).toEqual(memory);
    for (const v of [null, undefined, '', 'not json', 'null', '3', '"text"', 0 as unknown as string]) expect(parseMemory(v)).toBeNull();
  });

  it('resolveStore: none for undefined, an empty key, or a half store; a get/set pair is used as given', () => {
    expect(resolveStore(undefined)).toBeNull();
    expect(resolveStore('')).toBeNull();
    expect(resolveStore({ get: () => null } as never)).toBeNull();
    expect(resolveStore(null as never)).toBeNull();
    const saved: JitterMemory[] = [];
    const store = resolveStore({ get: () => memory, set: (m) => saved.push(m) })!;
    expect(store.get()).toBe(memory);
    store.set(memory);
    expect(saved).toEqual([memory]);
  });

  it('a store that throws reads as empty and its writes are dropped: persistence never breaks playback', () => {
    const store = resolveStore({ get: () => { throw new Error('denied'); }, set: () => { throw new Error('full'); } })!;
    expect(store.get()).toBeNull();
    expect(() => store.set(memory)).not.toThrow();
  });

  describe('a string: that localStorage key, as JSON', () => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    afterEach(() => {
      if (original) Object.defineProperty(globalThis, 'localStorage', original);
      else delete (globalThis as { localStorage?: unknown }).localStorage;
    });
    const useStorage = (get: () => unknown) => Object.defineProperty(globalThis, 'localStorage', { configurable: true, get });

    it('writes and reads back through the key', () => {
      const items = new Map<string, string>();
      useStorage(() => ({ getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => items.set(k, v) }));
      const store = resolveStore('talstream-jitter')!;
      expect(store.get()).toBeNull();
      store.set(memory);
      expect([...items]).toEqual([['talstream-jitter', JSON.stringify(memory)]]);
      expect(parseMemory(store.get() as string)).toEqual(memory);
    });

    it('no localStorage, or one whose access throws (a sandboxed frame): no store', () => {
      useStorage(() => undefined);
      expect(resolveStore('k')).toBeNull();
      useStorage(() => {
        throw new Error('SecurityError');
      });
      expect(resolveStore('k')).toBeNull();
    });
  });
});

describe('FrameRing sizes', () => {
  it('create() takes an integer of at least 64 data words, and says so', () => {
    expect(FrameRing.create(64).buffer.byteLength).toBe(FrameRing.create(65).buffer.byteLength - 4);
    for (const n of [63, 64.5, Number.NaN]) expect(() => FrameRing.create(n)).toThrow(new RangeError(`FrameRing: dataWords must be an integer >= 64, got ${n}`));
  });

  it('the other side refuses a buffer that is not a ring: capacity under 64, or larger than the buffer', () => {
    const ring = FrameRing.create(64);
    expect(() => new FrameRing(ring.buffer)).not.toThrow();
    const bytes = ring.buffer.byteLength;
    const tooBig = new SharedArrayBuffer(bytes);
    new Int32Array(tooBig)[2] = 65;
    const tooSmall = new SharedArrayBuffer(bytes);
    new Int32Array(tooSmall)[2] = 63;
    for (const b of [tooBig, tooSmall]) expect(() => new FrameRing(b)).toThrow(new RangeError('FrameRing: not a ring buffer'));
  });
});

describe('PlayoutEventQueue', () => {
  it('first in, first out, with the defaults of an event that has no position; a new record is blank', () => {
    const q = new PlayoutEventQueue();
    q.push('audio-start', 7, 128);
    q.push('ended', 7, 5, 3, 240, 62.5, 2, true, 0.9, 1.1);
    const out = newEventRecord();
    expect(out).toEqual({ type: 'audio-start', replyId: 0, atSample: 0, order: 0, sampleOffset: 0, playedMs: 0, underruns: 0, interrupted: false, minRate: 1, maxRate: 1 });
    expect([q.length, q.next(out)]).toEqual([2, true]);
    expect(out).toEqual({ type: 'audio-start', replyId: 7, atSample: 128, order: 0, sampleOffset: 0, playedMs: 0, underruns: 0, interrupted: false, minRate: 1, maxRate: 1 });
    expect(q.next(out)).toBe(true);
    expect(out).toEqual({ type: 'ended', replyId: 7, atSample: 5, order: 3, sampleOffset: 240, playedMs: 62.5, underruns: 2, interrupted: true, minRate: 0.9, maxRate: 1.1 });
    expect([q.next(out), q.length]).toEqual([false, 0]);
  });

  it('holds 64 events; more before a poll are dropped and counted, the oldest kept; it wraps round', () => {
    const q = new PlayoutEventQueue();
    for (let k = 0; k < 67; k++) q.push('underrun', k, k);
    expect([q.length, q.dropped]).toEqual([64, 3]);
    const out = newEventRecord();
    const ids: number[] = [];
    for (let k = 0; k < 10; k++) q.next(out), ids.push(out.replyId);
    for (let k = 100; k < 110; k++) q.push('resume', k, 0);
    while (q.next(out)) ids.push(out.replyId);
    expect(ids).toEqual([...Array.from({ length: 64 }, (_, k) => k), ...Array.from({ length: 10 }, (_, k) => 100 + k)]);
    expect(q.dropped).toBe(3);
  });
});
