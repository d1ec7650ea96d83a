// Every bad server answer of issue 6 through the whole client path (createClient -> ask ->
// postFrames -> real fetch over loopback -> responseFrames -> decoder -> Reply), against the fault
// server. The audio output is the player interface's recording fake (the real Player on Chromium
// is in test/browser/reliability-faults.test.ts): here we check codes, byte offsets, events,
// `done`, and that the frames before the fault were handed to the output, in order, and drained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TalStreamClient } from '../../src/client';
import { TalStreamError, TalStreamHttpError } from '../../src/errors';
import type { ReplyEvent } from '../../src/types';
import { faultReplySamples, startFaultServer, type FaultServer } from '../support/fault-server';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import { FakePlayer } from './reply-fakes';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());

const RATE = 24000;
const SPF = 480;
/** Byte length of frame i of a fault-server reply of n frames (what the server encodes). */
const frameLen = (i: number, n: number) =>
  encodeTalAudio({ sampleRate: RATE, answer: `w${i + 1} `, question: 'fault server', sign: i === 0 ? 1 : i === n - 1 ? 3 : 2, order: i + 1 }, faultReplySamples(i, SPF, RATE)).length;
const offsetOf = (k: number, n: number) => Array.from({ length: k }, (_, i) => frameLen(i, n)).reduce((a, b) => a + b, 0);

let seq = 0;
async function ask(path: string, setup: (c: TalStreamClient) => void = () => {}) {
  const player = new FakePlayer('auto');
  const client = createClient({ url: `${server.origin}${path}`, player, upload: 'buffered', fetch: globalThis.fetch });
  setup(client);
  const reply = client.ask(null, { question: 'hello?' });
  const events: ReplyEvent[] = [];
  reply.on('frame', (e) => events.push(e));
  reply.on('error', (e) => events.push(e));
  reply.on('end', (e) => events.push(e));
  const iterated: ReplyEvent[] = [];
  const iterating = (async () => {
    for await (const ev of reply) iterated.push(ev);
  })();
  // No hang: the reply settles within 10 s whatever the server does.
  const outcome = await Promise.race([
    reply.done.then(
      (summary) => ({ summary, error: null as TalStreamError | null }),
      (error: TalStreamError) => ({ summary: null, error }),
    ),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the reply hung')), 10_000)),
  ]);
  await iterating;
  await client.destroy();
  return { ...outcome, events, iterated, player, reply };
}

/** The common promise of every failure: one fatal error event, last, the same error `done` rejected with. */
function expectFatal(r: Awaited<ReturnType<typeof ask>>, code: string, offset: number | undefined) {
  expect(r.error).toBeInstanceOf(TalStreamError);
  expect(r.error!.code).toBe(code);
  expect(r.error!.offset).toBe(offset);
  const last = r.events.at(-1)!;
  expect(last).toEqual({ type: 'error', error: r.error, fatal: true });
  expect(r.events.filter((e) => e.type === 'error' || e.type === 'end')).toHaveLength(1);
  expect(r.iterated.at(-1)).toBe(last);
  expect(r.reply.ended).toBe(true);
}

/** The frames the output received: orders and first sample of each, as the fault server made them. */
function expectPlayed(r: Awaited<ReturnType<typeof ask>>, count: number) {
  const replies = [...r.player.replies.values()];
  if (count === 0) {
    expect(replies.flatMap((x) => x.frames)).toEqual([]);
    return;
  }
  expect(replies).toHaveLength(1);
  expect(replies[0]!.frames.map((f) => f.order)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  expect(replies[0]!.frames.map((f) => f.first)).toEqual(Array.from({ length: count }, (_, i) => faultReplySamples(i, SPF, RATE)[0]! / 32768));
  // What was received played out (endReply, then the drain) before the error.
  expect(replies[0]!.ended).toBe(true);
  expect(r.player.calls.at(-1)).toBe('end 1');
}

describe('HTTP failures (fake player; the real one: test/browser/reliability-*)', () => {
  it('404 with a body: TalStreamHttpError with status and body, nothing played', async () => {
    const r = await ask('/status?code=404&body=no%20such%20endpoint');
    expectFatal(r, 'http', undefined);
    expect(r.error).toBeInstanceOf(TalStreamHttpError);
    expect((r.error as TalStreamHttpError).status).toBe(404);
    expect((r.error as TalStreamHttpError).body).toBe('no such endpoint');
    expectPlayed(r, 0);
  });

  it('500 and 503 without a body', async () => {
    for (const code of [500, 503]) {
      const r = await ask(`/status?code=${code}`);
      expectFatal(r, 'http', undefined);
      expect((r.error as TalStreamHttpError).status).toBe(code);
      expect((r.error as TalStreamHttpError).body).toBe('');
    }
  });
});

describe('answers that are not frames (fake player; the real one: test/browser/reliability-*)', () => {
  it('an HTML page: bad-header at offset 0 naming HTML', async () => {
    const r = await ask('/html');
    expectFatal(r, 'bad-header', 0);
    expect(r.error!.message).toMatch(/HTML/);
    expect(r.error!.message).toContain('Please sign in');
  });

  it('a JSON error with status 200: bad-header at offset 0 quoting it', async () => {
    const r = await ask('/json-error');
    expectFatal(r, 'bad-header', 0);
    expect(r.error!.message).toContain('Not authenticated');
  });

  it('an empty 200 body: truncated at offset 0', async () => {
    const r = await ask('/empty');
    expectFatal(r, 'truncated', 0);
    expectPlayed(r, 0);
  });
});

describe('replies damaged at frame 3 of 6: frames 1-3 go to the output, then the typed error at the damaged frame (fake player; the real one: test/browser/reliability-*)', () => {
  const n = 6;
  const at = 3;
  const cases: [fault: string, code: string, offset: () => number][] = [
    ['truncate', 'truncated', () => offsetOf(at, n)],
    ['not-object', 'bad-header', () => offsetOf(at, n)],
    ['bad-json', 'bad-header', () => offsetOf(at, n)],
    ['huge', 'frame-too-large', () => offsetOf(at, n)],
    ['bad-length', 'bad-length', () => offsetOf(at, n)],
    ['audio-type', 'bad-header', () => offsetOf(at, n)],
    ['rate-0', 'bad-header', () => offsetOf(at, n)],
    ['rate-10m', 'bad-header', () => offsetOf(at, n)],
    ['channels-0', 'bad-header', () => offsetOf(at, n)],
    ['channels-300', 'bad-header', () => offsetOf(at, n)],
  ];
  for (const [fault, code, offset] of cases) {
    it(`${fault}: ${code}`, async () => {
      const r = await ask(`/reply?id=bad-${fault}-${++seq}&frames=${n}&at=${at}&fault=${fault}`);
      expectFatal(r, code, offset());
      expectPlayed(r, at);
      expect(r.events.filter((e) => e.type === 'frame').map((e) => (e as { offset: number }).offset)).toEqual(
        Array.from({ length: fault === 'truncate' || fault === 'huge' || fault === 'bad-length' || fault === 'not-object' || fault === 'bad-json' ? at : at + 1 }, (_, i) => offsetOf(i, n)),
      );
    });
  }

  it('odd-payload: bad-payload at the damaged frame\'s first payload byte', async () => {
    const r = await ask(`/reply?id=odd-${++seq}&frames=${n}&at=${at}&fault=odd-payload`);
    const start = offsetOf(at, n);
    // The payload starts after the 8 length bytes and the header JSON.
    expect(r.error?.code).toBe('bad-payload');
    const frameEvent = r.events.find((e) => e.type === 'frame' && (e as { offset: number }).offset === start) as { header: object } | undefined;
    expect(frameEvent).toBeDefined();
    const headerBytes = new TextEncoder().encode(JSON.stringify(frameEvent!.header)).length;
    expectFatal(r, 'bad-payload', start + 8 + headerBytes);
    expectPlayed(r, at);
  });

  it('the connection drops mid-frame: frames before play out, then a network error', async () => {
    const id = `drop-${++seq}`;
    const r = await ask(`/reply?id=${id}&frames=${n}&at=${at}&fault=drop`);
    // A read failure is a network error; its offset is where the body broke (half of frame 4 came).
    expectFatal(r, 'network', offsetOf(at, n) + (frameLen(at, n) >> 1));
    expectPlayed(r, at);
    expect(server.records(id)).toHaveLength(1);
  });
});

describe('a frame claiming 4 GiB allocates nothing (fake player; the real one: test/browser/reliability-*)', () => {
  it('fails at its length word, before the rest of the body is read', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const r = await ask(`/reply?id=huge0-${++seq}&frames=3&at=0&fault=huge`);
    expectFatal(r, 'frame-too-large', 0);
    expect(r.error!.message).toContain('4294967295');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });
});
