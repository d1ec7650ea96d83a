// The client's `retry` option over real loopback HTTP (fault server): a reset or a 503 before any
// answer byte is sent again with the same body; a reply that broke after bytes came back is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client';
import type { ClientOptions } from '../../src/client';
import { startFaultServer, type FaultServer } from '../support/fault-server';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { FakePlayer } from './reply-fakes';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

let seq = 0;
async function ask(query: string, opts: Partial<ClientOptions>) {
  const id = `retry-${++seq}`;
  const player = new FakePlayer('auto');
  const client = createClient({ url: `${server.origin}/reply?id=${id}&${query}`, player, upload: 'buffered', fetch: globalThis.fetch, ...opts });
  const samples = new Float32Array(3200).map((_, i) => Math.sin(i / 5) * 0.3);
  const reply = client.ask({ samples, sampleRate: 16000 });
  const result = await Promise.race([
    reply.done.then(
      (s) => ({ summary: s, error: null }),
      (e) => ({ summary: null, error: e }),
    ),
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error('hung')), 10_000)),
  ]);
  await client.destroy();
  return { ...result, requests: server.records(id), bodies: server.bodies(id), samples, player };
}

describe('client retry option', () => {
  it('a connection reset before the answer: sent again, same body, reply plays', async () => {
    const r = await ask('frames=4&failFirst=1&failMode=reset', { retry: { delayMs: 10 } });
    expect(r.error).toBeNull();
    expect(r.summary).toMatchObject({ frames: 4, answer: 'w1 w2 w3 w4 ' });
    expect(r.requests).toHaveLength(2);
    expect(r.bodies).toHaveLength(2);
    // The same bytes both times ...
    expect(Buffer.from(r.bodies[1]!).equals(Buffer.from(r.bodies[0]!))).toBe(true);
    // ... and they are the upload: 0.2 s of 16 kHz audio in 10 frames of 20 ms (order 1..10, sign
    // 1 then 2) and the empty sign-3 frame that closes a take of whole frames, each sample the
    // input x 32768, rounded (the scale the decoder reads back with).
    const frames = new FrameDecoder().push(r.bodies[0]!);
    expect(frames.map((f) => [f.header.order, f.header.sign, f.payload.length])).toEqual(
      Array.from({ length: 11 }, (_, i) => [i + 1, i === 0 ? 1 : i === 10 ? 3 : 2, i === 10 ? 0 : 640]),
    );
    const ints = frames.flatMap((f) => Array.from(new Int16Array(f.payload.slice().buffer)));
    expect(ints).toEqual(Array.from(r.samples, (v) => Math.min(32767, Math.round(v * 32768)) + 0)); // + 0: int16 has no -0
  });

  it('two 503s then success with retry: true (defaults)', async () => {
    const r = await ask('frames=3&failFirst=2&failMode=503', { retry: true });
    expect(r.error).toBeNull();
    expect(r.summary?.frames).toBe(3);
    expect(r.requests).toHaveLength(3);
  });

  it('more failures than retries: the last error', async () => {
    const r = await ask('frames=3&failFirst=5&failMode=503', { retry: { retries: 1, delayMs: 5 } });
    expect(r.error?.code).toBe('http');
    expect(r.error?.status).toBe(503);
    expect(r.requests).toHaveLength(2);
  });

  it('a reply that broke after its first frame is not retried: that frame plays, then the error', async () => {
    const r = await ask('frames=3&failFirst=1&failMode=mid', { retry: { delayMs: 5 } });
    expect(r.error?.code).toBe('network');
    expect(r.requests).toHaveLength(1);
    expect([...r.player.replies.values()][0]!.frames.map((f) => f.order)).toEqual([1]);
  });

  it('without the option nothing is retried; a 404 is never retried', async () => {
    const a = await ask('frames=3&failFirst=1&failMode=reset', {});
    expect(a.error?.code).toBe('network');
    expect(a.requests).toHaveLength(1);
    const id = `retry-${++seq}`;
    const client = createClient({ url: `${server.origin}/status?code=404&id=${id}`, player: new FakePlayer('auto'), upload: 'buffered', fetch: globalThis.fetch, retry: true });
    const err = await client.ask(null, { question: 'x' }).done.catch((e) => e);
    expect(err.status).toBe(404);
    expect(server.records(id)).toHaveLength(1);
    await client.destroy();
  });
});
