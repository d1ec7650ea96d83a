// The Reply's orchestration: frames in, typed events out, captions on the playhead, summary,
// JSON answers, listener safety and event buffering (its endings: reply-endings.test.ts).
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/protocol/frame-codec';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import type { ReplyEvent } from '../../src/types';
import { Reply } from '../../src/reply';
import { FakePlayer, concatBytes, feedResponse, settle } from './reply-fakes';
import { setup, tal, brief } from './reply-setup';

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
      minRate: null, // this player reports no rates, as an app's own may not
      maxRate: null,
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
    s.player.finish(1, { playedMs: 60, underruns: 1, minRate: 0.9, maxRate: 1.05 });
    // The player's figures at the end: the underrun, and the rates the time-scaler played at.
    expect(await s.reply.done).toMatchObject({ underruns: 1, minRate: 0.9, maxRate: 1.05 });
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
