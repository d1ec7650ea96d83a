// The Reply's endings: failures (HTTP, a broken stream, a bad frame, the player), interrupt and
// abort, each ending once with what played so far.
import { describe, expect, it } from 'vitest';
import { TalStreamError, TalStreamHttpError } from '../../src/errors';
import type { ReplyEvent } from '../../src/types';
import { Reply } from '../../src/reply';
import { concatBytes, feedResponse, settle } from './reply-fakes';
import { setup, tal, brief } from './reply-setup';

describe('Reply: failures', () => {
  it('a non-2xx answer is a TalStreamHttpError with status and the first 500 bytes, on `error` and `done` alike', async () => {
    const body = 'E'.repeat(300) + 'F'.repeat(500);
    const feed = feedResponse({ status: 503, statusText: 'Service Unavailable', contentType: 'text/plain' });
    feed.push(new TextEncoder().encode(body));
    feed.close();
    const reply = new Reply({ request: async () => feed.response, responseType: 'audio', clock: { now: () => 0 } });
    const events: ReplyEvent[] = [];
    for await (const ev of reply) events.push(ev);
    expect(events.length).toBe(1);
    const ev = events[0] as Extract<ReplyEvent, { type: 'error' }>;
    expect(ev.fatal).toBe(true);
    expect(ev.error).toBeInstanceOf(TalStreamHttpError);
    expect(ev.error.code).toBe('http');
    expect((ev.error as TalStreamHttpError).status).toBe(503);
    expect((ev.error as TalStreamHttpError).body).toBe(body.slice(0, 500));
    await expect(reply.done).rejects.toBe(ev.error);
  });

  it('a broken stream plays what arrived, then ends with the error (network) and nothing after', async () => {
    const s = setup();
    s.feed.push(concatBytes([tal(1, { answer: 'a' }), tal(2, { answer: 'b' })]));
    await settle();
    s.feed.fail(new TypeError('network error'));
    await settle();
    // Not failed yet: the received audio is still playing out.
    expect(s.events.some((e) => e.type === 'error')).toBe(false);
    expect(s.player.calls).toEqual(['start 1', 'enqueue 1:1', 'enqueue 1:2', 'end 1']);
    s.player.emit('audio-start', { replyId: 1 });
    await s.time.advance(40);
    s.player.finish(1);
    await expect(s.reply.done).rejects.toMatchObject({ code: 'network' });
    await s.collected;
    expect(s.events.filter((e) => e.type !== 'frame' && e.type !== 'question').map(brief)).toEqual([
      'audio-start',
      'text a',
      'text b',
      'error network fatal',
    ]);
    const err = (s.events.at(-1) as Extract<ReplyEvent, { type: 'error' }>).error;
    expect((err.cause as Error).message).toBe('network error');
    s.player.emit('underrun', { replyId: 1 });
    await settle();
    expect(s.events.at(-1)!.type).toBe('error');
  });

  it('a malformed frame after a good one: the good one plays, the error names the bad frame offset', async () => {
    const s = setup({}, 'auto');
    const good = tal(1, { answer: 'ok' });
    const badHeader = new TextEncoder().encode('{not json');
    const bad = new Uint8Array(8 + badHeader.length);
    new DataView(bad.buffer).setUint32(0, bad.length, true);
    new DataView(bad.buffer).setUint32(4, badHeader.length, true);
    bad.set(badHeader, 8);
    s.feed.push(concatBytes([good, bad]));
    await expect(s.reply.done).rejects.toMatchObject({ code: 'bad-header', offset: good.length });
    await s.collected;
    expect(s.events.map(brief)).toEqual(['frame 1@0', 'question what is the weather?', 'audio-start', 'text ok', 'error bad-header fatal']);
    expect(s.player.replies.get(1)!.frames.length).toBe(1);
  });

  it('a player that fails ends the reply with its error and aborts the request', async () => {
    const s = setup({ acquirePlayer: async () => Promise.reject(new TalStreamError('worklet-load', 'blocked by CSP')) });
    s.feed.push(tal(1));
    await expect(s.reply.done).rejects.toMatchObject({ code: 'worklet-load' });
    expect(s.signal()!.aborted).toBe(true);
  });
});

describe('Reply: interrupt and abort', () => {
  it('interrupt() mid-reply aborts the request, cuts the audio, resolves the position and ends with `end`', async () => {
    const s = setup();
    s.feed.push(concatBytes([tal(1, { answer: 'a' }), tal(2, { answer: 'b' })]));
    await settle();
    s.player.emit('audio-start', { replyId: 1 });
    await s.time.advance(25);
    s.player.interruptResult = { order: 2, sampleOffset: 120, playedMs: 25 };
    const position = await s.reply.interrupt();
    expect(position).toEqual({ order: 2, sampleOffset: 120, playedMs: 25 });
    expect(s.signal()!.aborted).toBe(true);
    expect(s.player.calls.at(-1)).toBe('interrupt');
    const summary = await s.reply.done;
    expect(summary).toMatchObject({ interrupted: true, position, playedMs: 25, frames: 2, minRate: null, maxRate: null });
    await s.collected;
    expect(s.events.at(-1)).toEqual({ type: 'end', summary });
    // Late bytes, late player events and a second interrupt change nothing.
    const n = s.events.length;
    try {
      s.feed.push(tal(3, { answer: 'late' }));
    } catch {
      // the body may already be cancelled
    }
    s.player.emit('underrun', { replyId: 1 });
    await s.time.advance(100);
    expect(s.events.length).toBe(n);
    expect(await s.reply.interrupt()).toEqual(position);
  });

  it('interrupt() before the response: nothing played, the pending request is aborted', async () => {
    let seen: AbortSignal | undefined;
    const reply = new Reply({
      request: (signal) =>
        new Promise<Response>((_, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
      responseType: 'audio',
      clock: { now: () => 0 },
    });
    await settle();
    expect(await reply.interrupt()).toEqual({ order: 0, sampleOffset: 0, playedMs: 0 });
    expect(seen!.aborted).toBe(true);
    expect((await reply.done).interrupted).toBe(true);
  });

  it('the AbortSignal option ends the reply with `aborted`, cutting the audio', async () => {
    const ac = new AbortController();
    const s = setup({ signal: ac.signal });
    s.feed.push(tal(1));
    await settle();
    s.player.emit('audio-start', { replyId: 1 });
    ac.abort(new Error('user left'));
    await expect(s.reply.done).rejects.toMatchObject({ code: 'aborted' });
    await s.collected;
    expect(s.events.at(-1)).toMatchObject({ type: 'error', fatal: true, error: { code: 'aborted' } });
    expect(s.player.calls.at(-1)).toBe('interrupt');
    expect(s.signal()!.aborted).toBe(true);
  });

  it('an already aborted signal ends the reply before any request', async () => {
    let requests = 0;
    const reply = new Reply({
      request: async () => {
        requests++;
        return new Response(null);
      },
      responseType: 'audio',
      clock: { now: () => 0 },
      signal: AbortSignal.abort(),
    });
    await expect(reply.done).rejects.toMatchObject({ code: 'aborted' });
    await settle();
    expect(requests).toBe(0);
  });
});
