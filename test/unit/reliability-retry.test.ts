// requestWithRetry: which failures are sent again, that every attempt carries the same frames,
// backoff, abort during the wait, and that nothing is retried once an answer arrived.
import { describe, expect, it } from 'vitest';
import { TalStreamError, TalStreamHttpError } from '../../src/errors';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import { postFrames } from '../../src/transport/upload';
import { isRetryable, requestWithRetry } from '../../src/transport/retry';

const frame = (order: number) => encodeTalAudio({ order, sign: order === 1 ? 1 : order === 3 ? 3 : 2 }, new Int16Array(160).fill(order));

/** A one-shot source: reading it twice would be a bug (a take cannot be re-recorded). */
function oneShot(count: number) {
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        reads++;
        if (reads > 1) throw new Error('the source was read twice');
        for (let i = 1; i <= count; i++) yield frame(i);
      },
    },
  };
}

/** Immediate timers that record the waits. */
function timers() {
  const waits: number[] = [];
  return { waits, setTimeout: (fn: () => void, ms: number) => (waits.push(ms), setTimeout(fn, 0)), clearTimeout: (id: unknown) => clearTimeout(id as number) };
}

/** A fetch whose n-th call does `plan[n]`: 'reset' rejects like a dropped connection, a number answers that status. */
function plannedFetch(plan: Array<'reset' | number>) {
  const bodies: number[][] = [];
  const fetch = (async (_url: RequestInfo | URL, init: RequestInit = {}) => {
    const bytes = new Uint8Array(await new Response(init.body as BodyInit).arrayBuffer());
    const d = new FrameDecoder();
    const orders = d.push(bytes).map((f) => f.header.order as number);
    d.end();
    bodies.push(orders);
    const step = plan[bodies.length - 1] ?? 200;
    if (step === 'reset') throw new TypeError('Failed to fetch');
    return new Response(step === 200 ? (frame(1) as BodyInit) : "busy", { status: step });
  }) as typeof globalThis.fetch;
  return { fetch, bodies };
}

describe('isRetryable', () => {
  it('network failures and 502/503/504 only', () => {
    expect(isRetryable(new TalStreamError('network', 'x'))).toBe(true);
    for (const s of [502, 503, 504]) expect(isRetryable(new TalStreamHttpError(s, ''))).toBe(true);
    for (const s of [400, 401, 404, 413, 500]) expect(isRetryable(new TalStreamHttpError(s, ''))).toBe(false);
    for (const c of ['aborted', 'bad-header', 'truncated', 'frame-too-large'] as const) expect(isRetryable(new TalStreamError(c, 'x'))).toBe(false);
    expect(isRetryable(new TypeError('plain'))).toBe(false);
    expect(isRetryable(new TalStreamHttpError(500, ''), [500])).toBe(true);
  });
});

describe('requestWithRetry over postFrames', () => {
  it('re-sends the same frames after a reset and a 503, with doubling waits, reading the source once', async () => {
    const src = oneShot(3);
    const { fetch, bodies } = plannedFetch(['reset', 503, 200]);
    const t = timers();
    const retries: number[] = [];
    const res = await requestWithRetry((frames) => postFrames({ url: 'http://x/ask', frames, upload: 'buffered', fetch }), {
      frames: src.iterable,
      retries: 3,
      delayMs: 100,
      ...t,
      onRetry: (i) => retries.push(i.attempt),
    });
    expect(res.status).toBe(200);
    expect(bodies).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    expect(src.reads).toBe(1);
    expect(t.waits).toEqual([100, 200]);
    expect(retries).toEqual([2, 3]);
  });

  it('gives up after `retries` more attempts with the last error', async () => {
    const { fetch, bodies } = plannedFetch([503, 503, 503, 200]);
    const err = await requestWithRetry((frames) => postFrames({ url: 'http://x/ask', frames, upload: 'buffered', fetch }), {
      frames: oneShot(2).iterable,
      retries: 2,
      ...timers(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TalStreamHttpError);
    expect(err.status).toBe(503);
    expect(bodies.length).toBe(3);
  });

  it('never retries a 4xx, a 500, or with retries: 0', async () => {
    for (const [plan, retries] of [[[404], 2], [[500], 2], [['reset'], 0]] as const) {
      const { fetch, bodies } = plannedFetch([...plan]);
      const err = await requestWithRetry((frames) => postFrames({ url: 'http://x/ask', frames, upload: 'buffered', fetch }), {
        frames: oneShot(2).iterable,
        retries,
        ...timers(),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(TalStreamError);
      expect(err.code).toBe(plan[0] === 'reset' ? 'network' : 'http');
      expect(bodies.length).toBe(1);
    }
  });

  it('an abort during the wait ends at once with `aborted` and sends nothing more', async () => {
    const { fetch, bodies } = plannedFetch(['reset', 200]);
    const ac = new AbortController();
    const p = requestWithRetry((frames) => postFrames({ url: 'http://x/ask', frames, upload: 'buffered', fetch, signal: ac.signal }), {
      frames: oneShot(2).iterable,
      retries: 2,
      delayMs: 60_000,
      signal: ac.signal,
      onRetry: () => queueMicrotask(() => ac.abort()),
    });
    const err = await p.catch((e) => e);
    expect(err.code).toBe('aborted');
    expect(bodies.length).toBe(1);
  });

  it('a source failure is not retried (the take was aborted, not the network)', async () => {
    const failing = {
      async *[Symbol.asyncIterator]() {
        yield frame(1);
        throw new TalStreamError('aborted', 'take aborted');
      },
    };
    const { fetch, bodies } = plannedFetch([200]);
    const err = await requestWithRetry((frames) => postFrames({ url: 'http://x/ask', frames, upload: 'buffered', fetch }), {
      frames: failing,
      retries: 3,
      ...timers(),
    }).catch((e) => e);
    expect(err.code).toBe('aborted');
    expect(bodies.length).toBe(0);
  });
});
