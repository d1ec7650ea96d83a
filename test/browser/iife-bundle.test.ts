import { describe, expect, it } from 'vitest';
import { loadIife } from './load-iife';

describe('IIFE bundle in a page', () => {
  it('defines the TalStream global with the error type', async () => {
    const TalStream = await loadIife();
    expect(typeof TalStream).toBe('object');
    const e = new TalStream.TalStreamError('truncated', 'x', { offset: 12 });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('truncated');
    expect(e.offset).toBe(12);
  });
});

describe('IIFE bundle: wire codec in the page', () => {
  it('TalStream.encodeFrame round-trips through TalStream.FrameDecoder at every split point', async () => {
    const TalStream = await loadIife();
    const payload = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const a = TalStream.encodeFrame({ q: 'héllo 你好 🎙', nested: { n: [1, null, true] } }, payload);
    const b = TalStream.encodeFrame({ sign: 3 });
    const stream = new Uint8Array(a.length + b.length);
    stream.set(a);
    stream.set(b, a.length);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new TalStream.FrameDecoder();
      const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      d.end();
      expect(frames.map((f: any) => [f.header, Array.from(f.payload), f.offset])).toEqual([
        [{ q: 'héllo 你好 🎙', nested: { n: [1, null, true] } }, [0, 1, 2, 253, 254, 255], 0],
        [{ sign: 3 }, [], a.length],
      ]);
    }
  });

  it('decodeFrames reads a page ReadableStream; TALAudio samples are exact; errors carry code and offset', async () => {
    const TalStream = await loadIife();
    const f1 = TalStream.encodeTalAudio({ sampleRate: 24000, answer: 'hi' }, new Float32Array([0.5, -0.25, 0]));
    const f2 = TalStream.encodeTalAudio({ sign: 3, order: 2 });
    const bytes = new Uint8Array([...f1, ...f2, 3, 0, 0, 0, 0, 0, 0, 0]);
    const body = new Response(bytes).body!;
    const got: any[] = [];
    let error: any;
    try {
      for await (const f of TalStream.decodeFrames(body)) got.push(f);
    } catch (e) {
      error = e;
    }
    expect(got).toHaveLength(2);
    const { header, channels } = TalStream.readTalAudio(got[0]);
    expect(header).toMatchObject({ sampleRate: 24000, answer: 'hi', audioType: 'int16' });
    expect(Array.from(channels[0])).toEqual([0.5, -0.25, 0]);
    expect(error).toBeInstanceOf(TalStream.TalStreamError);
    expect([error.code, error.offset]).toEqual(['bad-length', f1.length + f2.length]);
  });
});
