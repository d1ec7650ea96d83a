import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { FrameDecoder, decodeFrames, encodeFrame, type Frame } from '../../src/protocol/index';
import { caught, concat, decodeChunks, rawFrame } from './protocol-helpers';

const enc = (s: string) => new TextEncoder().encode(s);

async function collect(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>, opts = {}) {
  const frames: Frame[] = [];
  let error: unknown;
  try {
    for await (const f of decodeFrames(source, opts)) frames.push(f);
  } catch (e) {
    error = e;
  }
  return { frames, error: error as TalStreamError | undefined };
}

async function* iter(chunks: Uint8Array[]) {
  for (const c of chunks) yield c;
}

describe('encodeFrame', () => {
  it('writes the exact layout: u32le total, u32le H, header JSON, payload', () => {
    const b = encodeFrame({ a: 1 }, new Uint8Array([9, 8, 7]));
    expect(Array.from(b)).toEqual([18, 0, 0, 0, 7, 0, 0, 0, ...enc('{"a":1}'), 9, 8, 7]);
  });
  it('writes all four bytes of each length word (a 16 MiB + 64 KiB + 258 B frame)', () => {
    const payload = new Uint8Array(0x1010102 - 8 - 7);
    const b = encodeFrame({ a: 1 }, payload);
    expect(Array.from(b.subarray(0, 8))).toEqual([0x02, 0x01, 0x01, 0x01, 7, 0, 0, 0]);
  });
  it('allows an empty payload (total = 8 + H)', () => {
    const [f] = decodeChunks([encodeFrame({ sign: 3 })]);
    expect(f!.payload.length).toBe(0);
    expect(f!.byteLength).toBe(8 + 10);
  });
  it('writes non-ASCII as UTF-8 and reads it back', () => {
    const b = encodeFrame({ q: 'héllo 你好 🎙' });
    const h = new DataView(b.buffer).getUint32(4, true);
    expect(new TextDecoder().decode(b.subarray(8, 8 + h))).toBe('{"q":"héllo 你好 🎙"}');
    expect(decodeChunks([b])[0]!.header).toEqual({ q: 'héllo 你好 🎙' });
  });
  it('rejects a header that is not a JSON object', () => {
    expect(caught(() => encodeFrame([] as unknown as object)).code).toBe('bad-argument');
    expect(caught(() => encodeFrame(null as unknown as object)).code).toBe('bad-argument');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(caught(() => encodeFrame(cyclic)).code).toBe('bad-argument');
  });
});

describe('FrameDecoder', () => {
  const a = encodeFrame({ n: 1 }, new Uint8Array([1, 2, 3, 4]));
  const b = encodeFrame({ n: 2 }, new Uint8Array([5]));
  const c = encodeFrame({ n: 3 });

  it('returns frames inside one chunk as views of it (no copy)', () => {
    const stream = concat([a, b, c]);
    const frames = new FrameDecoder().push(stream);
    expect(frames.map((f) => f.header.n)).toEqual([1, 2, 3]);
    expect(frames.map((f) => f.offset)).toEqual([0, a.length, a.length + b.length]);
    expect(frames[0]!.payload.buffer).toBe(stream.buffer);
    expect(frames[0]!.payload.byteOffset).toBe(a.length - 4);
    expect(Array.from(frames[1]!.payload)).toEqual([5]);
  });

  it('handles a chunk ending inside the length words, header and payload', () => {
    const stream = concat([a, b, c]);
    for (let cut = 0; cut <= stream.length; cut++) {
      for (let cut2 = cut; cut2 <= stream.length; cut2 += 3) {
        const frames = decodeChunks([stream.subarray(0, cut), stream.subarray(cut, cut2), stream.subarray(cut2)]);
        expect(frames.map((f) => [f.header.n, f.offset, Array.from(f.payload)])).toEqual([
          [1, 0, [1, 2, 3, 4]],
          [2, a.length, [5]],
          [3, a.length + b.length, []],
        ]);
      }
    }
  });

  it('decodes hundreds of frames from one chunk', () => {
    const parts = Array.from({ length: 500 }, (_, i) => encodeFrame({ i }, new Uint8Array([i & 255])));
    const frames = new FrameDecoder().push(concat(parts));
    expect(frames.length).toBe(500);
    expect(frames.every((f, i) => f.header.i === i && f.payload[0] === (i & 255))).toBe(true);
  });

  it('copies a spanning frame once, so later changes to the chunks do not reach it', () => {
    const d = new FrameDecoder();
    const first = a.slice(0, 10);
    expect(d.push(first)).toEqual([]);
    expect(d.bufferedBytes).toBe(10);
    const [f] = d.push(a.slice(10));
    first.fill(0);
    expect(Array.from(f!.payload)).toEqual([1, 2, 3, 4]);
    expect(d.bufferedBytes).toBe(0);
    expect(d.streamOffset).toBe(a.length);
  });

  it('a large frame trickling in byte by byte decodes exactly (gathered into one buffer on the way)', () => {
    const payload = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 255);
    const bytes = concat([encodeFrame({ big: true }, payload), a]);
    const d = new FrameDecoder();
    const frames: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) {
      frames.push(...d.push(bytes.subarray(i, i + 1)));
    }
    d.end();
    expect(frames.map((f) => f.header)).toEqual([{ big: true }, { n: 1 }]);
    expect(Array.from(frames[0]!.payload)).toEqual(Array.from(payload));
    expect(frames[1]!.offset).toBe(bytes.length - a.length);
  });

  it('keeps counting offsets across pushes and accepts empty chunks', () => {
    const d = new FrameDecoder();
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.push(a).map((f) => f.offset)).toEqual([0]);
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.push(b).map((f) => f.offset)).toEqual([a.length]);
    d.end();
  });

  it('rejects maxFrameBytes below 8', () => {
    expect(caught(() => new FrameDecoder({ maxFrameBytes: 4 })).code).toBe('bad-argument');
  });
});

describe('bad input: typed errors with byte offsets', () => {
  const good = encodeFrame({ ok: true }, new Uint8Array([1, 2]));

  it('total < 8 + H -> bad-length at the frame start', () => {
    const bad = rawFrame(10, 5, '{"a":1}');
    const e = caught(() => decodeChunks([good, bad].map((x) => x)));
    expect(e.code).toBe('bad-length');
    expect(e.offset).toBe(good.length);
  });

  it('total below 8 -> bad-length', () => {
    const e = caught(() => new FrameDecoder().push(rawFrame(3, 0)));
    expect([e.code, e.offset]).toEqual(['bad-length', 0]);
  });

  it('declared length over maxFrameBytes -> frame-too-large at the frame start', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1000 });
    expect(d.push(good)).toHaveLength(1);
    const e = caught(() => d.push(rawFrame(1001, 2, '{}')));
    expect([e.code, e.offset]).toEqual(['frame-too-large', good.length]);
  });

  it('a 4 GiB declared length fails at once, from its 8 length bytes alone', () => {
    const d = new FrameDecoder();
    const words = rawFrame(0xffffffff, 2);
    expect(d.push(words.subarray(0, 5))).toEqual([]);
    const e = caught(() => d.push(words.subarray(5)));
    expect([e.code, e.offset]).toEqual(['frame-too-large', 0]);
    expect(d.bufferedBytes).toBe(8); // nothing beyond the length words was held or allocated
  });

  it('header that is not UTF-8 -> bad-header at the frame start', () => {
    const bad = rawFrame(8 + 4, 4, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    const e = caught(() => decodeChunks([good, bad]));
    expect([e.code, e.offset]).toEqual(['bad-header', good.length]);
    // The cause is the UTF-8 decoder's own error (a fatal TextDecoder throws a TypeError).
    expect(e.cause).toBeInstanceOf(TypeError);
  });

  it('header that is not JSON -> bad-header', () => {
    const e = caught(() => decodeChunks([rawFrame(8 + 5, 5, '{"a":')]));
    expect([e.code, e.offset]).toEqual(['bad-header', 0]);
  });

  it.each([['[1,2]'], ['"text"'], ['42'], ['null'], ['true']])('header JSON %s (not an object) -> bad-header', (json) => {
    const body = enc(json);
    const e = caught(() => decodeChunks([good, good, rawFrame(8 + body.length, body.length, body)]));
    expect([e.code, e.offset]).toEqual(['bad-header', 2 * good.length]);
  });

  it('empty header (H = 0) -> bad-header', () => {
    const e = caught(() => decodeChunks([rawFrame(8, 0)]));
    expect([e.code, e.offset]).toEqual(['bad-header', 0]);
  });

  it('stream ending inside a frame -> truncated from end(), offset of that frame', () => {
    for (const cut of [1, 7, 8, 12, good.length - 1]) {
      const d = new FrameDecoder();
      expect(d.push(concat([good, good.subarray(0, cut)]))).toHaveLength(1);
      const e = caught(() => d.end());
      expect([e.code, e.offset]).toEqual(['truncated', good.length]);
    }
  });

  it('good frames then a malformed one in one chunk: the good ones first, the error on the next call', () => {
    const d = new FrameDecoder();
    const chunk = concat([good, good, rawFrame(9, 5, 'x')]);
    const frames = d.push(chunk);
    expect(frames.map((f) => f.offset)).toEqual([0, good.length]);
    expect(d.error?.code).toBe('bad-length');
    const e = caught(() => d.push(good));
    expect([e.code, e.offset]).toEqual(['bad-length', 2 * good.length]);
    // stays failed with the same error until reset()
    expect(caught(() => d.end())).toBe(e);
    expect(caught(() => d.push(good))).toBe(e);
    d.reset();
    expect(d.error).toBeUndefined();
    expect(d.push(good).map((f) => f.offset)).toEqual([0]);
    d.end();
  });

  it('a spanning good frame completed in the chunk that also holds a bad one is returned first', () => {
    const d = new FrameDecoder();
    expect(d.push(good.subarray(0, 5))).toEqual([]);
    const frames = d.push(concat([good.subarray(5), rawFrame(2, 0)]));
    expect(frames.map((f) => f.header)).toEqual([{ ok: true }]);
    expect(caught(() => d.end()).code).toBe('bad-length');
  });

  it('decodeFrames yields the good frames, then throws the error', async () => {
    const { frames, error } = await collect(iter([concat([good, good, rawFrame(8 + 3, 3, '[1]')])]));
    expect(frames.map((f) => f.offset)).toEqual([0, good.length]);
    expect(error).toBeInstanceOf(TalStreamError);
    expect([error!.code, error!.offset]).toEqual(['bad-header', 2 * good.length]);
  });

  it('decodeFrames throws truncated when the source ends inside a frame', async () => {
    const { frames, error } = await collect(iter([good, good.subarray(0, 9)]));
    expect(frames).toHaveLength(1);
    expect([error!.code, error!.offset]).toEqual(['truncated', good.length]);
  });

  it('decodeFrames throws at once after good frames, without waiting for more input', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(concat([good, rawFrame(0x7fffffff, 0)]));
        // never closes: the error must not wait for another read
      },
      cancel() {
        cancelled = true;
      },
    });
    const { frames, error } = await collect(stream);
    expect(frames).toHaveLength(1);
    expect(error!.code).toBe('frame-too-large');
    expect(cancelled).toBe(true);
  });
});

describe('decodeFrames', () => {
  const frames = [encodeFrame({ n: 1 }, new Uint8Array([1])), encodeFrame({ n: 2 }, new Uint8Array([2, 3]))];

  it('reads a ReadableStream split anywhere', async () => {
    const bytes = concat(frames);
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < bytes.length; i += 3) ctl.enqueue(bytes.slice(i, i + 3));
        ctl.close();
      },
    });
    const { frames: got, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(got.map((f) => [f.header.n, f.offset, Array.from(f.payload)])).toEqual([
      [1, 0, [1]],
      [2, frames[0]!.length, [2, 3]],
    ]);
  });

  it('stops with aborted when the signal fires while waiting for bytes, and cancels the stream', async () => {
    const ac = new AbortController();
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(frames[0]!);
      },
      cancel() {
        cancelled = true;
      },
    });
    const got: Frame[] = [];
    let error: TalStreamError | undefined;
    try {
      for await (const f of decodeFrames(stream, { signal: ac.signal })) {
        got.push(f);
        setTimeout(() => ac.abort(), 5);
      }
    } catch (e) {
      error = e as TalStreamError;
    }
    expect(got).toHaveLength(1);
    expect(error).toBeInstanceOf(TalStreamError);
    expect(error!.code).toBe('aborted');
    expect(cancelled).toBe(true);
  });

  it('rejects at once with an already-aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const { frames: got, error } = await collect(iter(frames), { signal: ac.signal });
    expect(got).toEqual([]);
    expect(error!.code).toBe('aborted');
  });

  it('breaking out of the loop cancels the stream', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(concat(frames));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const f of decodeFrames(stream)) {
      expect(f.header.n).toBe(1);
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('prototype pollution', () => {
  it('keeps __proto__ and constructor as own data and pollutes nothing', () => {
    const json = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"a":1}';
    const body = enc(json);
    const [f] = decodeChunks([rawFrame(8 + body.length, body.length, body)]);
    const h = f!.header;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(h, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')!.value).toEqual({ polluted: 'yes' });
    expect(Object.keys(h)).toEqual(['__proto__', 'constructor', 'a']);
    expect((h as { polluted?: unknown }).polluted).toBeUndefined();
    // and survives re-encoding as data
    const [again] = decodeChunks([encodeFrame(h)]);
    expect(Object.getOwnPropertyDescriptor(again!.header, '__proto__')!.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
