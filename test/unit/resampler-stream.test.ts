import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Resampler } from '../../src/dsp/resampler';
import { TalStreamError } from '../../src/errors';
import { noise } from './resampler-noise';

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function oneShot(from: number, to: number, x: Float32Array): Float32Array {
  const r = new Resampler(from, to);
  return concat([r.process(x), r.flush()]);
}

const PAIRS: Array<[number, number]> = [
  [48000, 16000], [44100, 16000], [16000, 48000], [16000, 44100], [22050, 16000], [16000, 22050],
  [24000, 16000], [16000, 24000], [8000, 16000], [16000, 8000], [48000, 44100], [44100, 48000],
  [24000, 44100], [8000, 44100], [44100, 8000], [16000, 16000],
];

describe('Resampler streaming', () => {
  it.each(PAIRS)('%i -> %i: output length is ceil(N * to / from)', (from, to) => {
    for (const n of [0, 1, 7, 128, 1000, 44100]) {
      expect(oneShot(from, to, noise(n, n + 1)).length).toBe(Math.ceil((n * to) / from));
    }
  });

  it.each(PAIRS)('%i -> %i: chunked output is bit-identical to one-shot output', (from, to) => {
    const x = noise(9000, from + to);
    const want = oneShot(from, to, x);
    const r = new Resampler(from, to);
    const parts: Float32Array[] = [];
    // Ragged chunks, including empty ones and the worklet's 128-frame quantum.
    const sizes = [128, 1, 0, 37, 128, 500, 3, 2048, 128, 0, 1];
    let o = 0, k = 0;
    while (o < x.length) {
      const n = Math.min(sizes[k++ % sizes.length]!, x.length - o);
      parts.push(r.process(x.subarray(o, o + n)));
      o += n;
    }
    parts.push(r.flush());
    const got = concat(parts);
    expect(got.length).toBe(want.length);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('chunked == one-shot for arbitrary chunkings (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PAIRS),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 12 }),
        ([from, to], sizes) => {
          const total = sizes.reduce((a, b) => a + b, 0);
          const x = noise(total, total * 7 + 3);
          const want = oneShot(from, to, x);
          const r = new Resampler(from, to);
          const parts: Float32Array[] = [];
          let o = 0;
          for (const n of sizes) { parts.push(r.process(x.subarray(o, o + n))); o += n; }
          parts.push(r.flush());
          const got = concat(parts);
          return got.length === want.length && got.every((v, i) => v === want[i]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('processInto writes the same samples into a caller buffer, and reuses it', () => {
    const x = noise(4096, 5);
    const want = oneShot(48000, 16000, x);
    const r = new Resampler(48000, 16000);
    const buf = new Float32Array(r.maxOutput(128));
    const got: number[] = [];
    for (let o = 0; o < x.length; o += 128) {
      const n = r.processInto(x.subarray(o, o + 128), buf);
      for (let i = 0; i < n; i++) got.push(buf[i]!);
    }
    const tail = new Float32Array(r.maxOutput(0));
    const n = r.flushInto(tail);
    for (let i = 0; i < n; i++) got.push(tail[i]!);
    expect(got).toEqual(Array.from(want));
  });

  it('processInto refuses a too-small output buffer with bad-argument, losing no state', () => {
    const r = new Resampler(44100, 16000);
    const x = noise(1000, 9);
    let err: unknown;
    try { r.processInto(x, new Float32Array(10)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TalStreamError);
    expect((err as TalStreamError).code).toBe('bad-argument');
    // The refused call consumed nothing: the stream continues as if it never happened.
    expect(Array.from(concat([r.process(x), r.flush()]))).toEqual(Array.from(oneShot(44100, 16000, x)));
  });

  it('flush resets: a second stream gives the same output as a fresh resampler', () => {
    const r = new Resampler(44100, 16000);
    const a = noise(3000, 1), b = noise(2000, 2);
    concat([r.process(a), r.flush()]);
    expect(Array.from(concat([r.process(b), r.flush()]))).toEqual(Array.from(oneShot(44100, 16000, b)));
    r.process(a);
    r.reset();
    expect(Array.from(concat([r.process(b), r.flush()]))).toEqual(Array.from(oneShot(44100, 16000, b)));
  });

  it('delay is compensated: an impulse lands at its own instant, DC passes at exactly 1', () => {
    const x = new Float32Array(3000);
    x[1500] = 1;
    const y = oneShot(48000, 16000, x);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i]!) > Math.abs(y[peak]!)) peak = i;
    expect(peak).toBe(500);
    const dc = oneShot(44100, 16000, new Float32Array(44100).fill(0.5));
    // Away from the edges (where the stream starts/ends in silence) DC is exact to float rounding.
    for (let i = 200; i < dc.length - 200; i++) expect(Math.abs(dc[i]! - 0.5)).toBeLessThan(1e-6);
  });

  it('ratios beyond maxPhases interpolate between rows and stay clean', () => {
    // 44100 -> 47999 reduces to 47999/44100: far more phases than the 1024 tabulated.
    const from = 44100, to = 47999;
    const n = 22050;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * 1000 * i) / from);
    const y = oneShot(from, to, x);
    expect(y.length).toBe(Math.ceil((n * to) / from));
    let err = 0;
    for (let i = 300; i < y.length - 300; i++) err = Math.max(err, Math.abs(y[i]! - Math.sin((2 * Math.PI * 1000 * i) / to)));
    expect(20 * Math.log10(err)).toBeLessThan(-80);
  });

  it('rejects bad rates and options with bad-argument', () => {
    for (const [f, t] of [[0, 16000], [NaN, 16000], [48000, -1], [48000, Infinity]] as const) {
      expect(() => new Resampler(f, t)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    }
    expect(() => new Resampler(48000, 16000, { passband: 0.9, stopband: 0.8 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => new Resampler(48000, 16000, { attenuationDb: 5 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});
