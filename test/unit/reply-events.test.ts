// The Reply's orchestration: frames in, typed events out, captions on the playhead, summary,
// endings (end / fatal error / interrupt / abort), listener safety and event buffering.
import { describe, expect, it } from 'vitest';
import { Reply, type ReplyInit } from '../../src/reply';
import { TalStreamError, TalStreamHttpError } from '../../src/errors';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import { encodeFrame } from '../../src/protocol/frame-codec';
import type { ReplyEvent } from '../../src/types';
import { FakePlayer, ManualTime, concatBytes, feedResponse, settle } from './reply-fakes';

/** A 24 kHz int16 frame of `samples` samples, every sample = order * 100 (so the player side can tell frames apart). */
function tal(order: number, extra: Record<string, unknown> = {}, samples = 480): Uint8Array {
  return encodeTalAudio(
    { sampleRate: 24000, order, sign: order === 1 ? 1 : 2, question: 'what is the weather?', ...extra },
    new Int16Array(samples).fill(order * 100),
  );
}

function setup(overrides: Partial<ReplyInit> = {}, mode: 'manual' | 'auto' = 'manual') {
  const time = new ManualTime();
  const player = new FakePlayer(mode);
  const feed = feedResponse();
  let requestSignal: AbortSignal | undefined;
  let acquired = 0;
  let requests = 0;
  const reply = new Reply({
    request: async (signal) => {
      requests++;
      requestSignal = signal;
      return feed.response;
    },
    responseType: 'audio',
    clock: time.clock,
    timers: time.timers,
    acquirePlayer: async () => {
      acquired++;
      return player;
    },
    ...overrides,
  });
  const events: ReplyEvent[] = [];
  const collected = (async () => {
    for await (const ev of reply) events.push(ev);
  })();
  return { time, player, feed, reply, events, collected, signal: () => requestSignal, acquired: () => acquired, requests: () => requests };
}

const brief = (ev: ReplyEvent): string => {
  switch (ev.type) {
    case 'frame':
      return `frame ${ev.order}@${ev.offset}`;
    case 'question':
    case 'text':
      return `${ev.type} ${ev.text}`;
    case 'url':
      return `url ${ev.url}`;
    case 'json':
      return `json ${JSON.stringify(ev.value)}`;
    case 'error':
      return `error ${ev.error.code}${ev.fatal ? ' fatal' : ''}`;
    default:
      return ev.type;
  }
};

describe('Reply: a streamed audio answer', () => {
  it('emits frames on arrival, captions as each frame starts playing, then end with the summary', async () => {
    const s = setup();
    await settle(); // the request goes out at t=0
    await s.time.advance(30); // first byte at t=30
    const f = [tal(1, { answer: 'part 1. ' }), tal(2, { answer: 'part 2. ' }), tal(3, { answer: 'part 3. ' })];
    s.feed.push(concatBytes(f));
    await settle();
    expect(s.player.calls).toEqual(['start 1', 'enqueue 1:1', 'enqueue 1:2', 'enqueue 1:3']);
    // Arrived but not playing: no caption yet.
    expect(s.events.map(brief)).toEqual([
      'frame 1@0',
      'question what is the weather?',
      `frame 2@${f[0]!.length}`,
      `frame 3@${f[0]!.length + f[1]!.length}`,
    ]);
    await s.time.advance(45);
    s.player.emit('audio-start', { replyId: 1 }); // t=75
    await settle();
    expect(s.events.slice(4).map(brief)).toEqual(['audio-start', 'text part 1. ']);
    await s.time.advance(19); // 480 samples at 24 kHz = 20 ms per frame
    expect(s.events.length).toBe(6);
    await s.time.advance(1);
    expect(s.events.slice(6).map(brief)).toEqual(['text part 2. ']);
    s.feed.push(encodeTalAudio({ sampleRate: 24000, order: 4, sign: 3, question: 'what is the weather?' }, new Int16Array(0)));
    await settle();
    expect(s.player.calls.slice(4)).toEqual(['end 1']);
    await s.time.advance(20);
    expect(s.events.slice(7).map(brief)).toEqual(['frame 4@' + (f[0]!.length * 3), 'text part 3. ']);
    s.player.finish(1);
    const summary = await s.reply.done;
    await s.collected;
    expect(s.events.at(-1)).toEqual({ type: 'end', summary });
    expect(summary).toEqual({
      firstByteMs: 30,
      firstAudioMs: 45,
      playedMs: 60,
      underruns: 0,
      frames: 4,
      question: 'what is the weather?',
      answer: 'part 1. part 2. part 3. ',
      interrupted: false,
      position: null,
    });
    // sign 3 ended the reply: the rest of the body was cancelled, not awaited.
    expect(s.feed.cancelled).toBe(true);
  });

  it('holds a caption through an underrun and shows it when playback resumes', async () => {
    const s = setup();
    s.feed.push(concatBytes([tal(1, { answer: 'a' }), tal(2, { answer: 'b' })]));
    await settle();
    s.player.emit('audio-start', { replyId: 1 });
    await s.time.advance(40);
    s.player.emit('underrun', { replyId: 1 });
    s.feed.push(tal(3, { answer: 'c' })); // arrives while the player rebuffers
    await s.time.advance(100);
    expect(s.events.filter((e) => e.type !== 'frame' && e.type !== 'question').map(brief)).toEqual(['audio-start', 'text a', 'text b', 'underrun']);
    s.player.emit('resume', { replyId: 1 });
    await settle();
    expect(s.events.slice(-2).map(brief)).toEqual(['resume', 'text c']);
    s.feed.close();
    await settle();
    s.player.finish(1, { playedMs: 60, underruns: 1 });
    expect((await s.reply.done).underruns).toBe(1);
  });

  it('passes url and extra header fields as data, plays a duplicate order once', async () => {
    const s = setup();
    s.feed.push(concatBytes([tal(1, { url: 'https://example.test/act?x=1', mood: 'calm' }), tal(2, { answer: 'x' }), tal(2, { answer: 'x' })]));
    s.feed.close();
    await settle();
    s.player.emit('audio-start', { replyId: 1 });
    await s.time.advance(100);
    s.player.finish(1);
    await s.reply.done;
    await s.collected;
    const frame1 = s.events.find((e) => e.type === 'frame') as Extract<ReplyEvent, { type: 'frame' }>;
    expect(frame1.header.mood).toBe('calm');
    expect(s.events.filter((e) => e.type === 'url')).toEqual([{ type: 'url', url: 'https://example.test/act?x=1', order: 1 }]);
    expect(s.events.filter((e) => e.type === 'text').length).toBe(1);
    expect(s.player.calls.filter((c) => c.startsWith('enqueue'))).toEqual(['enqueue 1:1', 'enqueue 1:2']);
    expect(s.player.replies.get(1)!.frames.map((f) => f.first)).toEqual([100 / 32768, 200 / 32768]);
    // The one request is the ask itself: the url is never fetched.
    expect(s.requests()).toBe(1);
  });

  it('waits for the gate before starting playback', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const s = setup({ gate });
    s.feed.push(tal(1));
    await settle();
    expect(s.player.calls).toEqual([]);
    open();
    await settle();
    expect(s.player.calls).toEqual(['start 1', 'enqueue 1:1']);
  });
});

describe('Reply: JSON answers', () => {
  it('emits {header, value} per AnbJson frame, captions from `answer`, and never touches a player', async () => {
    const s = setup({ responseType: 'json' });
    const frames = [
      encodeFrame({ status: 'success', reason: 'none' }, new TextEncoder().encode(JSON.stringify({ answer: 'one ', source: 'a' }))),
      encodeFrame({ status: 'success', reason: 'none' }, new TextEncoder().encode(JSON.stringify({ answer: 'two', source: 'b' }))),
    ];
    s.feed.push(concatBytes(frames));
    s.feed.close();
    const summary = await s.reply.done;
    await s.collected;
    expect(s.events.map(brief)).toEqual([
      'frame 1@0',
      'json {"answer":"one ","source":"a"}',
      'text one ',
      `frame 2@${frames[0]!.length}`,
      'json {"answer":"two","source":"b"}',
      'text two',
      'end',
    ]);
    expect(s.events[1]).toMatchObject({ header: { status: 'success', reason: 'none' }, offset: 0 });
    expect(summary).toMatchObject({ frames: 2, answer: 'one two', playedMs: 0, firstAudioMs: null });
    expect(s.acquired()).toBe(0);
  });
});

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
    expect(summary).toMatchObject({ interrupted: true, position, playedMs: 25, frames: 2 });
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

describe('Reply: listeners and iteration', () => {
  it('a throwing listener becomes a non-fatal `listener` error; the reply goes on and ends normally', async () => {
    const s = setup({}, 'auto');
    const boom = new Error('app bug');
    s.reply.on('frame', () => {
      throw boom;
    });
    const errors: unknown[] = [];
    s.reply.on('error', (e) => errors.push(e));
    s.feed.push(tal(1, { answer: 'a' }));
    s.feed.close();
    const summary = await s.reply.done;
    expect(summary.frames).toBe(1);
    expect(errors).toEqual([{ type: 'error', fatal: false, error: expect.objectContaining({ code: 'listener', cause: boom }) }]);
    await s.collected;
    expect(s.events.at(-1)!.type).toBe('end');
  });

  it('on() returns an unsubscribe; listeners are dropped at the end', async () => {
    const s = setup({}, 'auto');
    const texts: string[] = [];
    const off = s.reply.on('frame', () => texts.push('frame'));
    s.reply.on('end', () => texts.push('end'));
    s.feed.push(tal(1));
    await settle();
    off();
    s.feed.push(tal(2));
    s.feed.close();
    await s.reply.done;
    expect(texts).toEqual(['frame', 'end']);
    expect(s.reply.listenerCount()).toBe(0);
    // Subscribing after the end keeps nothing.
    s.reply.on('text', () => texts.push('late'));
    expect(s.reply.listenerCount()).toBe(0);
  });

  it('an iterator created after the end replays every event from the start', async () => {
    const feed = feedResponse();
    const player = new FakePlayer('auto');
    const reply = new Reply({ request: async () => feed.response, responseType: 'audio', clock: { now: () => 0 }, acquirePlayer: async () => player });
    feed.push(concatBytes([tal(1, { answer: 'a' }), tal(2, { answer: 'b' })]));
    feed.close();
    await reply.done;
    const seen: string[] = [];
    for await (const ev of reply) seen.push(brief(ev));
    const second = tal(1, { answer: 'a' }).length;
    expect(seen.filter((t) => t.startsWith('frame'))).toEqual(['frame 1@0', `frame 2@${second}`]);
    expect(seen.filter((t) => !t.startsWith('frame'))).toEqual(['question what is the weather?', 'audio-start', 'text a', 'text b', 'end']);
    // A second late iterator gets nothing: the history went to the first.
    const again: ReplyEvent[] = [];
    for await (const ev of reply) again.push(ev);
    expect(again).toEqual([]);
  });

  it('never-iterated replies buffer at most maxBufferedEvents (oldest dropped, counted)', async () => {
    const feed = feedResponse();
    const reply = new Reply({ request: async () => feed.response, responseType: 'json', clock: { now: () => 0 }, maxBufferedEvents: 5 });
    const frames = Array.from({ length: 10 }, (_, i) => encodeFrame({ i }, new TextEncoder().encode(String(i))));
    feed.push(concatBytes(frames));
    feed.close();
    await reply.done;
    // 10 frames x (frame + json) + end = 21 events; 5 kept.
    expect(reply.droppedEvents).toBe(16);
    const seen: string[] = [];
    for await (const ev of reply) seen.push(brief(ev));
    const at = (n: number) => frames.slice(0, n).reduce((sum, f) => sum + f.length, 0);
    expect(seen).toEqual([`frame 9@${at(8)}`, 'json 8', `frame 10@${at(9)}`, 'json 9', 'end']);
  });

  it('breaking out of the loop releases the iterator and leaves the reply running', async () => {
    const s = setup({}, 'auto');
    s.feed.push(tal(1));
    for await (const ev of s.reply) {
      if (ev.type === 'frame') break;
    }
    s.feed.push(tal(2));
    s.feed.close();
    expect((await s.reply.done).frames).toBe(2);
  });
});
