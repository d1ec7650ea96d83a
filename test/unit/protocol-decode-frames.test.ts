// decodeFrames and its source: what happens to the source (a ReadableStream or any async iterator)
// and to the AbortSignal's listener when the loop ends normally, breaks, fails or is aborted.
// And the FrameDecoder's counters while a frame is half in.
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { FrameDecoder, decodeFrames, encodeFrame, type Frame } from '../../src/protocol/index';
import { concat } from './protocol-helpers';

const frames = [encodeFrame({ n: 1 }, new Uint8Array([1])), encodeFrame({ n: 2 }, new Uint8Array([2, 3]))];

/** An async iterable over `chunks` that records what was asked of it; `returns` says how its return() behaves. */
function source(chunks: Uint8Array[], returns: 'soon' | 'never' | 'absent' = 'soon') {
  const log: string[] = [];
  let i = 0;
  const iterator: AsyncIterator<Uint8Array> = {
    next: async () => {
      log.push('next');
      return i < chunks.length ? { done: false, value: chunks[i++]! } : { done: true, value: undefined };
    },
  };
  if (returns === 'soon') {
    // Settles a macrotask later, so a caller that does not wait for it finishes first.
    iterator.return = () => new Promise((resolve) => setTimeout(() => (log.push('returned'), resolve({ done: true, value: undefined })), 0));
  } else if (returns === 'never') {
    iterator.return = () => (log.push('return called'), new Promise(() => {}));
  }
  return { log, iterable: { [Symbol.asyncIterator]: () => iterator } };
}

/** A real AbortSignal whose listener adds and removes are counted. */
function countedSignal() {
  const ac = new AbortController();
  const s = ac.signal;
  const counts = { added: 0, removed: 0 };
  const add = s.addEventListener.bind(s);
  const remove = s.removeEventListener.bind(s);
  s.addEventListener = ((...a: Parameters<typeof add>) => (counts.added++, add(...a))) as typeof s.addEventListener;
  s.removeEventListener = ((...a: Parameters<typeof remove>) => (counts.removed++, remove(...a))) as typeof s.removeEventListener;
  return { ac, signal: s, counts };
}

async function drain(it: AsyncIterable<Frame>, onFrame: (f: Frame) => boolean | void = () => {}) {
  const got: number[] = [];
  try {
    for await (const f of it) {
      got.push(f.header.n as number);
      if (onFrame(f) === false) break;
    }
  } catch (e) {
    return { got, error: e as TalStreamError };
  }
  return { got, error: undefined };
}

describe('decodeFrames and its source', () => {
  it('a source that ends: every frame, and its return() is not called (it finished by itself)', async () => {
    const { log, iterable } = source([concat(frames)]);
    const { got, error } = await drain(decodeFrames(iterable));
    expect([got, error]).toEqual([[1, 2], undefined]);
    expect(log).toEqual(['next', 'next']);
  });

  it('breaking out waits for the source\'s return() before the loop is left', async () => {
    const { log, iterable } = source([concat(frames)]);
    const { got } = await drain(decodeFrames(iterable), () => false);
    expect(got).toEqual([1]);
    expect(log).toEqual(['next', 'returned']);
  });

  it('a bad frame: the good one, the error, and the source stopped (waited for)', async () => {
    const bad = concat([frames[0]!, new Uint8Array([9, 0, 0, 0, 2, 0, 0, 0, 0])]);
    const { log, iterable } = source([bad, frames[1]!]);
    const { got, error } = await drain(decodeFrames(iterable));
    expect([got, error?.code, error?.offset]).toEqual([[1], 'bad-length', frames[0]!.length]);
    expect(log).toEqual(['next', 'returned']);
  });

  it('a source iterator without return(): breaking out is fine', async () => {
    const { log, iterable } = source([concat(frames)], 'absent');
    const { got, error } = await drain(decodeFrames(iterable), () => false);
    expect([got, error]).toEqual([[1], undefined]);
    expect(log).toEqual(['next']);
  });

  it('aborted while the app handles the first of two frames from one chunk: the second is not handed out', async () => {
    const { ac, signal } = countedSignal();
    const { iterable } = source([concat(frames)]);
    const { got, error } = await drain(decodeFrames(iterable, { signal }), () => ac.abort());
    expect([got, error?.code]).toEqual([[1], 'aborted']);
  });

  it('aborted while the source hangs, and its return() hangs too: the loop still ends, with aborted', async () => {
    const { ac, signal } = countedSignal();
    let release!: () => void;
    const stuck: AsyncIterator<Uint8Array> = {
      next: () => new Promise(() => {}),
      return: () => (release?.(), new Promise(() => {})),
    };
    const loop = drain(decodeFrames({ [Symbol.asyncIterator]: () => stuck }, { signal }));
    const returnCalled = new Promise<void>((r) => (release = r));
    ac.abort();
    // A hang guard, not a latency bound: the loop must end at all.
    const hung = new Promise((r) => setTimeout(() => r('hung'), 2000));
    const out = await Promise.race([loop, hung]);
    expect(out).toEqual({ got: [], error: expect.objectContaining({ code: 'aborted' }) });
    await returnCalled; // the source was still told to stop
  });

  it('the abort listener is removed however the loop ends: end, break, error', async () => {
    for (const how of ['end', 'break', 'error'] as const) {
      const { signal, counts } = countedSignal();
      const chunks = how === 'error' ? [new Uint8Array([9, 0, 0, 0, 2, 0, 0, 0, 0])] : [concat(frames)];
      await drain(decodeFrames(source(chunks).iterable, { signal }), () => how !== 'break');
      expect([how, counts]).toEqual([how, { added: 1, removed: 1 }]);
    }
  });

  it('a ReadableStream is unlocked after the loop, whether it ended or broke off', async () => {
    for (const stop of [false, true]) {
      const stream = new ReadableStream<Uint8Array>({
        start(ctl) {
          ctl.enqueue(concat(frames));
          ctl.close();
        },
      });
      const { got } = await drain(decodeFrames(stream), () => !stop);
      expect([got, stream.locked]).toEqual([stop ? [1] : [1, 2], false]);
    }
  });
});

describe('FrameDecoder counters and reset', () => {
  it('streamOffset and bufferedBytes while a frame is half in', () => {
    const d = new FrameDecoder();
    const [a, b] = frames as [Uint8Array, Uint8Array];
    expect(d.push(concat([a, b.subarray(0, 3)])).length).toBe(1);
    expect([d.streamOffset, d.bufferedBytes]).toEqual([a.length + 3, 3]);
    d.push(b.subarray(3, 10));
    expect([d.streamOffset, d.bufferedBytes]).toEqual([a.length + 10, 10]);
    expect(d.push(b.subarray(10)).map((f) => f.offset)).toEqual([a.length]);
    expect([d.streamOffset, d.bufferedBytes]).toEqual([a.length + b.length, 0]);
  });

  it('reset() mid-frame: the next frame, split over pushes, decodes exactly from offset 0', () => {
    const d = new FrameDecoder();
    d.push(frames[1]!.subarray(0, 11));
    d.reset();
    const big = encodeFrame({ n: 3 }, Uint8Array.from({ length: 300 }, (_, i) => i & 0xff));
    expect(d.push(big.subarray(0, 5))).toEqual([]);
    expect(d.push(big.subarray(5, 100))).toEqual([]);
    const [f] = d.push(big.subarray(100));
    expect([f!.offset, f!.header, Array.from(f!.payload)]).toEqual([0, { n: 3 }, Array.from({ length: 300 }, (_, i) => i & 0xff)]);
    expect(d.streamOffset).toBe(big.length);
  });
});
