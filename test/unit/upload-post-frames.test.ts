// postFrames over Node's fetch classes, which stream request bodies as Chromium does.
import { describe, expect, it } from 'vitest';
import { postFrames } from '../../src/transport/upload';
import { Take } from '../../src/capture/take';
import { TalStreamHttpError } from '../../src/errors';

function frames(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => Uint8Array.from({ length: 10 + i }, (_, j) => (i * 31 + j) & 255));
}
async function* gen(list: Uint8Array[], delayMs = 0) {
  for (const f of list) {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    yield f;
  }
}
const joined = (list: Uint8Array[]) => Array.from(list.flatMap((f) => Array.from(f)));

async function bodyBytes(body: BodyInit | null | undefined): Promise<number[]> {
  if (body instanceof Blob) return Array.from(new Uint8Array(await body.arrayBuffer()));
  const out: number[] = [];
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(...value);
  }
}

describe('postFrames with an injected fetch', () => {
  it("'buffered': one Blob of every frame, octet-stream, headers from an async function, credentials", async () => {
    const list = frames(5);
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response('ok', { status: 200 });
    }) as unknown as typeof fetch;
    let asked = 0;
    const res = await postFrames({
      url: 'https://example.test/ask', frames: gen(list, 1), upload: 'buffered', fetch: fakeFetch, credentials: 'include',
      headers: async () => { asked++; return { Authorization: 'Bearer x' }; },
    });
    expect(await res.text()).toBe('ok');
    expect(calls.length).toBe(1);
    const init = calls[0]!.init;
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('include');
    expect(new Headers(init.headers).get('content-type')).toBe('application/octet-stream');
    expect(new Headers(init.headers).get('authorization')).toBe('Bearer x');
    expect(asked).toBe(1);
    expect(await bodyBytes(init.body)).toEqual(joined(list));
  });

  it("'stream': a ReadableStream body with duplex 'half', frames in order as they come", async () => {
    const list = frames(6);
    // The source makes frame k+1 only once the server side has read frame k: a body built before
    // sending (or read ahead of the source) could not get past the first frame.
    let produced = 0;
    let gotOne: () => void = () => {};
    async function* source() {
      for (const f of list) {
        produced++;
        const read = new Promise<void>((r) => (gotOne = r));
        yield f;
        await read;
      }
    }
    let duplex: unknown;
    let producedAtFetch = -1;
    const reads: number[][] = [];
    const fakeFetch = (async (_url: string, init: RequestInit & { duplex?: string }) => {
      duplex = init.duplex;
      producedAtFetch = produced;
      expect(init.body).toBeInstanceOf(ReadableStream);
      const reader = (init.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        reads.push(Array.from(value));
        gotOne();
      }
      return new Response('ok', { status: 200 });
    }) as unknown as typeof fetch;
    const res = await postFrames({ url: 'https://example.test/ask', frames: source(), upload: 'stream', fetch: fakeFetch });
    expect(await res.text()).toBe('ok');
    expect(duplex).toBe('half');
    expect(producedAtFetch).toBeLessThanOrEqual(1);
    // One read per frame, each the frame whole, in order.
    expect(reads).toEqual(list.map((f) => Array.from(f)));
  });

  it('a non-2xx answer is a TalStreamHttpError with the status and the first 500 bytes of the body', async () => {
    const fakeFetch = (async () => new Response('e'.repeat(900), { status: 401 })) as unknown as typeof fetch;
    const err = await postFrames({ url: 'https://x.test/', frames: gen(frames(1)), upload: 'buffered', fetch: fakeFetch }).catch((e) => e);
    expect(err).toBeInstanceOf(TalStreamHttpError);
    expect(err.status).toBe(401);
    expect(err.body).toBe('e'.repeat(500));
  });

  it('fetch rejecting is network; an already-aborted signal is aborted without fetching', async () => {
    const failing = (async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch;
    await expect(postFrames({ url: 'https://x.test/', frames: gen(frames(2)), upload: 'buffered', fetch: failing })).rejects.toMatchObject({ code: 'network' });
    await expect(postFrames({ url: 'https://x.test/', frames: gen(frames(2)), upload: 'stream', fetch: failing })).rejects.toMatchObject({ code: 'network' });
    let called = false;
    const f = (async () => { called = true; return new Response(''); }) as unknown as typeof fetch;
    await expect(postFrames({ url: 'https://x.test/', frames: gen(frames(2)), fetch: f, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
    expect(called).toBe(false);
  });

  it("a source that fails (an aborted take) fails the upload with the source's error, not network", async () => {
    const take = new Take();
    take.write(new Float32Array(700));
    setTimeout(() => take.abort(), 5);
    const fakeFetch = (async (_u: string, init: RequestInit) => {
      await bodyBytes(init.body);
      return new Response('');
    }) as unknown as typeof fetch;
    await expect(postFrames({ url: 'https://x.test/', frames: take, upload: 'stream', fetch: fakeFetch })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('rejects bad arguments', async () => {
    await expect(postFrames({ url: '', frames: gen([]) })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(postFrames({ url: 'https://x.test', frames: gen([]), upload: 'fast' as never })).rejects.toMatchObject({ code: 'bad-argument' });
  });
});
