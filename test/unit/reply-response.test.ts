// Response -> frames: what reaches the decoder, and the typed error for each wrong answer.
import { describe, expect, it } from 'vitest';
import { responseFrames } from '../../src/transport/response';
import { TalStreamHttpError } from '../../src/errors';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import { encodeFrame } from '../../src/protocol/frame-codec';
import type { Frame } from '../../src/protocol/frame-codec';
import { concatBytes, feedResponse } from './reply-fakes';

function response(bytes: Uint8Array, init: { status?: number; contentType?: string; chunk?: number } = {}): Response {
  const f = feedResponse(init);
  const step = init.chunk ?? (bytes.length || 1);
  for (let i = 0; i < bytes.length; i += step) f.push(bytes.slice(i, i + step));
  f.close();
  return f.response;
}

async function collect(r: Response, opts = {}): Promise<{ frames: Frame[]; error: any }> {
  const frames: Frame[] = [];
  try {
    for await (const fr of responseFrames(r, opts)) frames.push(fr);
    return { frames, error: null };
  } catch (error) {
    return { frames, error };
  }
}

const three = [1, 2, 3].map((order) =>
  encodeTalAudio({ order, sign: order === 3 ? 3 : order === 1 ? 1 : 2, answer: `a${order}` }, new Int16Array(160).fill(order)),
);
const body = concatBytes(three);

describe('responseFrames', () => {
  it('yields the same frames whatever the chunking, and reports the first byte once', async () => {
    for (const chunk of [1, 3, 7, 100, body.length]) {
      let firstBytes = 0;
      const { frames, error } = await collect(response(body, { chunk }), { onFirstByte: () => firstBytes++ });
      expect(error).toBeNull();
      expect(frames.map((f) => [f.header.order, f.header.answer, f.offset, f.payload.length])).toEqual([
        [1, 'a1', 0, 320],
        [2, 'a2', three[0]!.length, 320],
        [3, 'a3', three[0]!.length * 2, 320],
      ]);
      expect(firstBytes).toBe(1);
    }
  });

  it('non-2xx: TalStreamHttpError with the status and exactly the first 500 bytes of the body', async () => {
    const text = 'x'.repeat(499) + 'yz' + 'w'.repeat(1000);
    const { frames, error } = await collect(response(new TextEncoder().encode(text), { status: 404, contentType: 'text/plain', chunk: 64 }));
    expect(frames).toEqual([]);
    expect(error).toBeInstanceOf(TalStreamHttpError);
    expect(error.code).toBe('http');
    expect(error.status).toBe(404);
    expect(error.body).toBe('x'.repeat(499) + 'y');
  });

  it('non-2xx without a body: status, empty body text', async () => {
    const { error } = await collect(new Response(null, { status: 500 }));
    expect(error).toMatchObject({ code: 'http', status: 500, body: '' });
  });

  it('HTML with status 200 (text/html): bad-header at offset 0 quoting the page, even in a 2-byte first chunk', async () => {
    const html = new TextEncoder().encode('<!doctype html><html><body>Login required</body></html>');
    const { frames, error } = await collect(response(html, { contentType: 'text/html; charset=utf-8', chunk: 2 }));
    expect(frames).toEqual([]);
    expect(error).toMatchObject({ code: 'bad-header', offset: 0 });
    expect(error.message).toContain('HTML');
    expect(error.message).toContain('<!doctype html><html><body>Login required');
  });

  it('text served as octet-stream (a JSON error, an HTML page) is recognised from its first bytes', async () => {
    for (const text of ['{"detail":"Not Found"}', '<html><head></head></html>']) {
      const { error } = await collect(response(new TextEncoder().encode(text)));
      expect(error).toMatchObject({ code: 'bad-header', offset: 0 });
      expect(error.message).toContain(text.slice(0, 10));
    }
  });

  it('a valid frame whose first byte happens to be "<" is not mistaken for HTML', async () => {
    // total = 0x13C (316): first byte 0x3C is "<".
    const header = { order: 1, pad: '' };
    const base = encodeFrame(header).length;
    const frame = encodeFrame(header, new Uint8Array(316 - base));
    expect(frame.length).toBe(316);
    expect(frame[0]).toBe(0x3c);
    const { frames, error } = await collect(response(frame, { contentType: 'application/octet-stream' }));
    expect(error).toBeNull();
    expect(frames.length).toBe(1);
  });

  it('an empty 200 body: truncated at offset 0', async () => {
    expect((await collect(response(new Uint8Array(0)))).error).toMatchObject({ code: 'truncated', offset: 0 });
    expect((await collect(new Response(null, { status: 200 }))).error).toMatchObject({ code: 'truncated', offset: 0 });
  });

  it('a binary length of 4 GiB stays the decoder\'s frame-too-large, at offset 0', async () => {
    const bytes = new Uint8Array([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0x7b, 0x7d]);
    expect((await collect(response(bytes))).error).toMatchObject({ code: 'frame-too-large', offset: 0 });
  });

  it('a connection that drops: the good frames, then network with the cause', async () => {
    const f = feedResponse();
    f.push(concatBytes([three[0]!, three[1]!.subarray(0, 30)]));
    const cause = new TypeError('network error');
    setTimeout(() => f.fail(cause), 5);
    const { frames, error } = await collect(f.response);
    expect(frames.map((fr) => fr.header.order)).toEqual([1]);
    expect(error).toMatchObject({ code: 'network', cause });
  });

  it('a stream that ends mid-frame: truncated at that frame', async () => {
    const { frames, error } = await collect(response(body.subarray(0, three[0]!.length + 10)));
    expect(frames.length).toBe(1);
    expect(error).toMatchObject({ code: 'truncated', offset: three[0]!.length });
  });

  it('abort: aborted, and the body is cancelled', async () => {
    const f = feedResponse();
    f.push(three[0]!);
    const ac = new AbortController();
    const seen: Frame[] = [];
    let error: any = null;
    try {
      for await (const fr of responseFrames(f.response, { signal: ac.signal })) {
        seen.push(fr);
        ac.abort();
      }
    } catch (e) {
      error = e;
    }
    expect(seen.length).toBe(1);
    expect(error).toMatchObject({ code: 'aborted' });
    await new Promise((r) => setTimeout(r, 0));
    expect(f.cancelled).toBe(true);
  });
});
