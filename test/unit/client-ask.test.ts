// createClient / ask orchestration with an injected fetch and an injected output (the player
// interface): the request that goes out, replies in order, interrupt vs queue, destroy.
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client';
import { takeFromSamples } from '../../src/capture/sources';
import { decodeFrames } from '../../src/protocol/frame-decoder';
import { encodeJsonFrame } from '../../src/protocol/anb-json';
import { encodeTalAudio, readTalAudio } from '../../src/protocol/tal-audio';
import type { Frame } from '../../src/protocol/frame-codec';
import type { ReplyEvent } from '../../src/types';
import { FakePlayer, concatBytes, feedResponse, settle } from './reply-fakes';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  frames: Frame[];
  signal: AbortSignal | undefined;
}

/** A fetch that records each request (frames decoded from its body) and answers from `answer`. */
function fakeFetch(answer: (n: number, sent: Sent) => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const body = new Uint8Array(await new Response(init.body as BodyInit).arrayBuffer());
    const frames: Frame[] = [];
    for await (const f of decodeFrames((async function* () {
      yield body;
    })())) frames.push(f);
    const s: Sent = {
      url: String(input),
      method: init.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      frames,
      signal: init.signal ?? undefined,
    };
    sent.push(s);
    return answer(sent.length, s);
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

function ok(bytes: Uint8Array): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } });
}

const tal = (order: number, answer = '', sign = order === 1 ? 1 : 2) =>
  encodeTalAudio({ sampleRate: 16000, order, sign, answer, question: 'heard you' }, new Int16Array(320).fill(order));

describe('createClient', () => {
  it('needs a url', () => {
    expect(() => createClient({} as never)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});

describe('client.ask', () => {
  it('POSTs the audio as TALAudio frames with the headers of an async function, and hands the reply to the player (a fake: the real Player is tested in browsers)', async () => {
    let token = 0;
    // The clock stands at 1000 until the server answers, at 1234 from then on: the first byte
    // comes 234 ms after the request.
    let t = 1000;
    const { fetch, sent } = fakeFetch(() => {
      t = 1234;
      return ok(concatBytes([tal(1, 'hello '), tal(2, 'there', 3)]));
    });
    // What the player says it played (not the frames' 40 ms): the summary passes it on.
    const player = new FakePlayer('auto', { playedMs: 37.5, underruns: 2 });
    const client = createClient({
      url: '/ask',
      fetch,
      upload: 'buffered',
      player,
      headers: async () => ({ authorization: `Bearer t${++token}` }),
      clock: { now: () => t },
    });
    // 50 ms of a ramp at 16 kHz.
    const samples = new Float32Array(800).map((_, i) => (i % 100) / 200);
    const reply = client.ask({ samples, sampleRate: 16000 }, { question: 'typed too' });
    const events: ReplyEvent[] = [];
    for await (const ev of reply) events.push(ev);
    const summary = await reply.done;

    expect(sent.length).toBe(1);
    expect(sent[0]!.url).toBe('/ask');
    expect(sent[0]!.method).toBe('POST');
    expect(sent[0]!.headers.authorization).toBe('Bearer t1');
    const headers = sent[0]!.frames.map((f) => f.header);
    // 50 ms at 16 kHz in 20 ms frames: 320 + 320 + 160 samples, the last one carrying sign 3.
    expect(headers.map((h) => [h.order, h.sign, h.sampleRate, h.audioType, h.question])).toEqual([
      [1, 1, 16000, 'int16', 'typed too'],
      [2, 2, 16000, 'int16', 'typed too'],
      [3, 3, 16000, 'int16', 'typed too'],
    ]);
    expect(sent[0]!.frames.map((f) => f.payload.length)).toEqual([640, 640, 320]);
    const uploaded = sent[0]!.frames.flatMap((f) => [...readTalAudio(f).channels[0]!]);
    expect(uploaded.length).toBe(800);
    expect(uploaded[150]).toBeCloseTo(0.25, 4);

    expect(events.filter((e) => e.type === 'frame').map((e) => (e as { order: number }).order)).toEqual([1, 2]);
    expect(events.filter((e) => e.type !== 'frame').map((e) => e.type)).toEqual(['question', 'audio-start', 'text', 'text', 'end']);
    expect(player.replies.get(1)!.frames.map((f) => f.order)).toEqual([1, 2]);
    expect(summary).toMatchObject({ frames: 2, question: 'heard you', answer: 'hello there', playedMs: 37.5, underruns: 2, interrupted: false });
    expect(summary.firstByteMs).toBe(234);
    await client.destroy();
    expect(player.destroyed).toBe(0); // the app's own output: its lifetime is the app's
  });

  it('a typed question alone (audio null) is one sign-3 frame with no audio', async () => {
    const { fetch, sent } = fakeFetch(() => ok(encodeJsonFrame({ status: 'success', reason: 'none' }, { answer: '42', source: 'x' })));
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', responseType: 'json' });
    const reply = client.ask(null, { question: 'the answer?' });
    const json: unknown[] = [];
    reply.on('json', (e) => json.push(e.value));
    const summary = await reply.done;
    expect(sent[0]!.frames.map((f) => [f.header.order, f.header.sign, f.header.question, f.payload.length])).toEqual([[1, 3, 'the answer?', 0]]);
    expect(json).toEqual([{ answer: '42', source: 'x' }]);
    expect(summary).toMatchObject({ answer: '42', frames: 1, playedMs: 0, firstAudioMs: null });
    // Text only: no AudioContext was needed.
    expect(client.audioContext).toBeNull();
  });

  it('a take recorded without a question gets the typed question of the ask in every frame', async () => {
    const { fetch, sent } = fakeFetch(() => ok(tal(1, 'ok', 3)));
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player: new FakePlayer('auto') });
    const take = takeFromSamples(new Float32Array(480).fill(0.25), 16000);
    expect(take.question).toBe('');
    await client.ask(take, { question: 'optional typed text' }).done;
    const frames = sent[0]!.frames;
    expect(frames.map((f) => [f.header.order, f.header.sign, f.header.question])).toEqual([
      [1, 1, 'optional typed text'],
      [2, 3, 'optional typed text'],
    ]);
    // The audio is untouched by the header rewrite.
    expect(frames.flatMap((f) => [...readTalAudio(f).channels[0]!])).toEqual(new Array(480).fill(0.25));
  });

  it('ask(null) without a question fails the reply with bad-argument (no request)', async () => {
    const { fetch, sent } = fakeFetch(() => ok(tal(1)));
    const client = createClient({ url: '/ask', fetch, player: new FakePlayer('auto') });
    await expect(client.ask(null).done).rejects.toMatchObject({ code: 'bad-argument' });
    expect(sent.length).toBe(0);
  });

  it('a bare Float32Array (no sample rate) fails with bad-argument naming the fix; nothing is sent', async () => {
    const { fetch, sent } = fakeFetch(() => ok(tal(1)));
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player: new FakePlayer('auto') });
    const done = client.ask(new Float32Array(320) as never).done;
    await expect(done).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(done).rejects.toThrow(/\{ samples, sampleRate \}/);
    expect(sent.length).toBe(0);
  });

  it('HTTP errors reach the reply with status and body', async () => {
    const { fetch } = fakeFetch(() => new Response('{"detail":"no audio"}', { status: 422, headers: { 'content-type': 'application/json' } }));
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player: new FakePlayer('auto') });
    const reply = client.ask(null, { question: 'x' });
    const errors: ReplyEvent[] = [];
    reply.on('error', (e) => errors.push(e));
    await expect(reply.done).rejects.toMatchObject({ code: 'http', status: 422, body: '{"detail":"no audio"}' });
    expect(errors.length).toBe(1);
  });

  it("a new ask interrupts the reply playing (default 'interrupt'): cut first, then the new one plays", async () => {
    const feeds = [feedResponse(), feedResponse()];
    const { fetch, sent } = fakeFetch((n) => feeds[n - 1]!.response);
    const player = new FakePlayer('manual');
    player.interruptResult = { order: 1, sampleOffset: 100, playedMs: 6.25 };
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player });
    const first = client.ask(null, { question: 'one' });
    await settle();
    feeds[0]!.push(tal(1, 'first'));
    await settle();
    player.emit('audio-start', { replyId: 1 });
    const second = client.ask(null, { question: 'two' });
    expect(client.current).toBe(second);
    const s1 = await first.done;
    expect(s1).toMatchObject({ interrupted: true, position: { order: 1, sampleOffset: 100, playedMs: 6.25 } });
    expect(sent[0]!.signal!.aborted).toBe(true);
    feeds[1]!.push(tal(1, 'second'));
    feeds[1]!.close();
    await settle();
    expect(player.calls).toEqual(['start 1', 'enqueue 1:1', 'interrupt', 'start 2', 'enqueue 2:1', 'end 2']);
    player.emit('audio-start', { replyId: 2 });
    player.finish(2);
    expect((await second.done).answer).toBe('second');
  });

  it("onNewAsk 'queue': the new reply's audio waits until the previous one has played out", async () => {
    const feeds = [feedResponse(), feedResponse()];
    const { fetch } = fakeFetch((n) => feeds[n - 1]!.response);
    const player = new FakePlayer('manual');
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player, onNewAsk: 'queue' });
    const first = client.ask(null, { question: 'one' });
    const second = client.ask(null, { question: 'two' });
    await settle();
    feeds[0]!.push(tal(1));
    feeds[0]!.close();
    feeds[1]!.push(tal(1));
    feeds[1]!.close();
    await settle();
    // The second answer arrived, but its audio is held back.
    expect(player.calls).toEqual(['start 1', 'enqueue 1:1', 'end 1']);
    player.emit('audio-start', { replyId: 1 });
    player.finish(1);
    expect((await first.done).interrupted).toBe(false);
    await settle();
    expect(player.calls.slice(3)).toEqual(['start 2', 'enqueue 2:1', 'end 2']);
    player.emit('audio-start', { replyId: 2 });
    player.finish(2);
    expect((await second.done).frames).toBe(1);
  });

  it('destroy() aborts replies (aborted), refuses later asks (destroyed), and is idempotent', async () => {
    const feed = feedResponse();
    const { fetch, sent } = fakeFetch(() => feed.response);
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player: new FakePlayer('manual') });
    const reply = client.ask(null, { question: 'q' });
    await settle();
    feed.push(tal(1));
    await settle();
    const d1 = client.destroy();
    expect(client.destroy()).toBe(d1);
    await d1;
    await expect(reply.done).rejects.toMatchObject({ code: 'aborted' });
    expect(sent[0]!.signal!.aborted).toBe(true);
    await expect(client.ask(null, { question: 'again' }).done).rejects.toMatchObject({ code: 'destroyed' });
    expect(sent.length).toBe(1);
  });

  it('client.volume is validated and reaches the output', async () => {
    const { fetch } = fakeFetch(() => ok(tal(1, '', 3)));
    const player = Object.assign(new FakePlayer('auto'), { volume: 1 });
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player, volume: 0.8 });
    expect(client.volume).toBe(0.8);
    await client.ask(null, { question: 'q' }).done;
    client.volume = 0.25;
    await settle();
    expect(player.volume).toBe(0.25);
    expect(() => (client.volume = -1)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => (client.volume = Number.NaN)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(client.volume).toBe(0.25);
  });

  it('client.interrupt() cuts the current reply and is a no-op without one', async () => {
    const feed = feedResponse();
    const { fetch } = fakeFetch(() => feed.response);
    const player = new FakePlayer('manual');
    const client = createClient({ url: '/ask', fetch, upload: 'buffered', player });
    expect(await client.interrupt()).toBeNull();
    const reply = client.ask(null, { question: 'q' });
    await settle();
    feed.push(tal(1));
    await settle();
    player.emit('audio-start', { replyId: 1 });
    expect(await client.interrupt()).toEqual({ order: 0, sampleOffset: 0, playedMs: 0 });
    expect((await reply.done).interrupted).toBe(true);
    expect(client.current).toBeNull();
  });
});
