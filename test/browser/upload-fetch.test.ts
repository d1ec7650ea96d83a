import { afterEach, describe, expect, inject, it } from 'vitest';
import { postFrames } from '../../src/transport/upload';
import { Microphone } from '../../src/capture/microphone';
import { Take } from '../../src/capture/take';
import { TalStreamHttpError } from '../../src/errors';
import { sleep } from './capture-helpers';
import { GAPS, engine, itUnless, itWhereMissing } from './engine-support';

const RAW = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

interface ReceivedFrame { order: number; sign: number; sampleRate: number; sha256: string; payloadBytes: number; question: string }
interface Attempt { httpVersion: string; contentType: string; authorization: string; frames: ReceivedFrame[]; complete: boolean; error?: string }

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function received(origin: string, id: string): Promise<Attempt[]> {
  return (await (await fetch(`${origin}/received?id=${id}`)).json()).attempts;
}

/** A take with `n` full frames of a ramp written at once, then stopped; `sent` gets its frames. */
function finishedTake(n: number, question = '', sent?: Uint8Array[]): Take {
  const take = new Take({ question });
  if (sent) take.on('frame', (f) => sent.push(f.bytes));
  take.write(Float32Array.from({ length: 320 * n + 100 }, (_, i) => ((i % 640) - 320) / 640));
  void take.stop();
  return take;
}

/** Collects every frame's bytes as the take produces them (what the upload must deliver). */
function recordFrames(take: Take): Uint8Array[] {
  const sent: Uint8Array[] = [];
  take.on('frame', (f) => sent.push(f.bytes));
  return sent;
}

let id = 0;
const nextId = () => `t${Date.now()}-${++id}`;
let ctx: AudioContext | undefined;
let mic: Microphone | undefined;
afterEach(async () => {
  mic?.destroy();
  mic = undefined;
  await ctx?.close();
  ctx = undefined;
});

describe(`postFrames (real fetch in ${engine}, loopback servers)`, () => {
  itUnless(GAPS.requestStreams, "'stream' over HTTP/2: frames reach the server while the microphone is still recording", async () => {
    const origin = inject('uploadH2Origin');
    const sid = nextId();
    ctx = new AudioContext();
    await ctx.resume();
    mic = await Microphone.create(ctx, RAW);
    const take = mic.record({ question: 'streamed?' });
    const sent = recordFrames(take);
    const modes: string[] = [];
    const responseP = postFrames({ url: `${origin}/upload?id=${sid}`, frames: take, upload: 'stream', onAttempt: (m) => modes.push(m) });
    // Poll the server: at least 10 frames (200 ms) must arrive before we stop recording.
    let during: Attempt[] = [];
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      during = await received(origin, sid);
      if ((during[0]?.frames.length ?? 0) >= 10) break;
    }
    expect(take.status).toBe('recording');
    expect(during.length).toBe(1);
    expect(during[0]!.frames.length).toBeGreaterThanOrEqual(10);
    expect(during[0]!.complete).toBe(false);
    await sleep(300);
    await take.stop();
    const response = await responseP;
    const attempt: Attempt = await response.json();
    expect(modes).toEqual(['stream']);
    expect(attempt.httpVersion).toBe('2.0');
    expect(attempt.contentType).toBe('application/octet-stream');
    expect(attempt.complete).toBe(true);
    expect(attempt.error).toBeUndefined();
    // Every frame the take made arrived, byte for byte, in order.
    expect(attempt.frames.length).toBe(sent.length);
    expect(attempt.frames.map((f) => f.sha256)).toEqual(await Promise.all(sent.map(sha256)));
    expect(attempt.frames.map((f) => f.order)).toEqual(sent.map((_, i) => i + 1));
    expect(attempt.frames.map((f) => f.sign)).toEqual(sent.map((_, i) => (i === 0 ? 1 : i === sent.length - 1 ? 3 : 2)));
    expect(attempt.frames.every((f) => f.sampleRate === 16000 && f.question === 'streamed?')).toBe(true);
  });

  itUnless(GAPS.requestStreams, "'auto' against HTTPS HTTP/1.1: the streaming attempt fails, the buffered re-send loses nothing", async () => {
    const origin = inject('uploadH1sOrigin');
    const sid = nextId();
    ctx = new AudioContext();
    await ctx.resume();
    mic = await Microphone.create(ctx, RAW);
    const take = mic.record();
    const sent = recordFrames(take);
    const modes: string[] = [];
    const responseP = postFrames({ url: `${origin}/upload?id=${sid}`, frames: take, onAttempt: (m) => modes.push(m) });
    await sleep(600);
    await take.stop();
    const attempt: Attempt = await (await responseP).json();
    expect(modes).toEqual(['stream', 'buffered']);
    expect(attempt.httpVersion).toBe('1.1');
    expect(attempt.complete).toBe(true);
    expect(sent.length).toBeGreaterThan(20);
    expect(attempt.frames.map((f) => f.sha256)).toEqual(await Promise.all(sent.map(sha256)));
    expect(attempt.frames.map((f) => f.order)).toEqual(sent.map((_, i) => i + 1));
    // The server saw one complete request (the refused stream never reached it as a request).
    const all = await received(origin, sid);
    expect(all.filter((a) => a.complete && a.frames.length === sent.length).length).toBe(1);
  });

  it("'auto' over plain http goes straight to buffered; 'buffered' over HTTP/2 works too", async () => {
    for (const [origin, mode, version] of [[inject('uploadH1Origin'), 'auto', '1.1'], [inject('uploadH2Origin'), 'buffered', '2.0']] as const) {
      const sid = nextId();
      const sent: Uint8Array[] = [];
      const take = finishedTake(7, 'typed too', sent);
      const modes: string[] = [];
      const res = await postFrames({ url: `${origin}/upload?id=${sid}`, frames: take, upload: mode, onAttempt: (m) => modes.push(m) });
      const attempt: Attempt = await res.json();
      expect(modes).toEqual(['buffered']);
      expect(attempt.httpVersion).toBe(version);
      expect(attempt.frames.map((f) => [f.order, f.sign, f.payloadBytes])).toEqual([
        [1, 1, 640], [2, 2, 640], [3, 2, 640], [4, 2, 640], [5, 2, 640], [6, 2, 640], [7, 2, 640], [8, 3, 200],
      ]);
      expect(attempt.frames.map((f) => f.sha256)).toEqual(await Promise.all(sent.map(sha256)));
    }
  });

  itUnless(GAPS.requestStreams, "'auto' over HTTP/2 streams (one attempt, HTTP/2)", async () => {
    const sent: Uint8Array[] = [];
    const take = finishedTake(4, '', sent);
    const modes: string[] = [];
    const res = await postFrames({ url: `${inject('uploadH2Origin')}/upload?id=${nextId()}`, frames: take, onAttempt: (m) => modes.push(m) });
    const attempt: Attempt = await res.json();
    expect(modes).toEqual(['stream']);
    expect(attempt.httpVersion).toBe('2.0');
    expect(attempt.frames.map((f) => f.sha256)).toEqual(await Promise.all(sent.map(sha256)));
  });

  itUnless(GAPS.requestStreams, "'stream' over HTTP/1.1 fails with network (no fallback when streaming was demanded)", async () => {
    const err = await postFrames({ url: `${inject('uploadH1sOrigin')}/upload?id=${nextId()}`, frames: finishedTake(3), upload: 'stream' }).catch((e) => e);
    expect(err).toMatchObject({ name: 'TalStreamError', code: 'network' });
  });

  itWhereMissing(GAPS.requestStreams, "'auto' over HTTP/2 sends the take buffered in one attempt, every frame as sent", async () => {
    const sent: Uint8Array[] = [];
    const take = finishedTake(4, '', sent);
    const modes: string[] = [];
    const res = await postFrames({ url: `${inject('uploadH2Origin')}/upload?id=${nextId()}`, frames: take, onAttempt: (m) => modes.push(m) });
    const attempt: Attempt = await res.json();
    expect(modes).toEqual(['buffered']);
    expect(attempt.httpVersion).toBe('2.0');
    expect(attempt.contentType).toBe('application/octet-stream');
    expect(attempt.frames.map((f) => f.sha256)).toEqual(await Promise.all(sent.map(sha256)));
  });

  itWhereMissing(GAPS.requestStreams, "'stream' is refused with unsupported before any request is made", async () => {
    const sid = nextId();
    const modes: string[] = [];
    const err = await postFrames({ url: `${inject('uploadH2Origin')}/upload?id=${sid}`, frames: finishedTake(3), upload: 'stream', onAttempt: (m) => modes.push(m) }).catch((e) => e);
    expect(err).toMatchObject({ name: 'TalStreamError', code: 'unsupported' });
    expect(modes).toEqual([]);
    expect(await received(inject('uploadH2Origin'), sid)).toEqual([]);
  });

  it('headers from an async function reach the server; non-2xx is an http error with status and body start', async () => {
    const sid = nextId();
    const res = await postFrames({
      url: `${inject('uploadH2Origin')}/upload?id=${sid}`,
      frames: finishedTake(2),
      headers: async () => ({ Authorization: 'Bearer t0k3n' }),
    });
    expect(((await res.json()) as Attempt).authorization).toBe('Bearer t0k3n');
    const err = await postFrames({ url: `${inject('uploadH2Origin')}/upload?id=${nextId()}&status=503`, frames: finishedTake(2) }).catch((e) => e);
    expect(err).toBeInstanceOf(TalStreamHttpError);
    expect(err.code).toBe('http');
    expect(err.status).toBe(503);
    expect(err.body.startsWith('server says no (503) xxx')).toBe(true);
    expect(err.body.length).toBe(500);
  });

  it('network failure -> network; abort mid-upload -> aborted and the take stops', async () => {
    const err = await postFrames({ url: 'http://127.0.0.1:9/upload', frames: finishedTake(2) }).catch((e) => e);
    expect(err).toMatchObject({ code: 'network' });
    const ac = new AbortController();
    const take = new Take();
    take.write(new Float32Array(3200).fill(0.1));
    // 'auto': streamed where the engine can, else buffered while the take still records; either way the abort ends it.
    const p = postFrames({ url: `${inject('uploadH2Origin')}/upload?id=${nextId()}`, frames: take, signal: ac.signal }).catch((e) => e);
    await sleep(100);
    ac.abort();
    expect(await p).toMatchObject({ code: 'aborted' });
    await expect(take.done).rejects.toMatchObject({ code: 'aborted' });
    const already = await postFrames({ url: `${inject('uploadH1Origin')}/upload`, frames: finishedTake(1), signal: AbortSignal.abort() }).catch((e) => e);
    expect(already).toMatchObject({ code: 'aborted' });
  });
});
