// The client end to end in a real browser: a real fetch to a loopback server streaming the golden
// reply vector, the real Player in a real AudioContext, and the events and summary that result.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { GAPS, engine } from './engine-support';
import { createClient, type TalStreamClient } from '../../src/client';
import { Player } from '../../src/playout/player';
import { decodeFrames } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';
import type { ReplyEvent } from '../../src/types';
import { audioSleep } from './capture-helpers';
import { faultOrigin, soundMs, tapRecorder, until } from './reliability-helpers';

const clients: TalStreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy();
});

function client(opts: Partial<Parameters<typeof createClient>[0]> = {}): TalStreamClient {
  const c = createClient({ url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin?chunk=97`, upload: 'buffered', ...opts });
  clients.push(c);
  return c;
}

const PARTS = Array.from({ length: 10 }, (_, i) => `part ${i + 1}. `);

describe('client.ask against a streaming server, with the real Player', () => {
  it('plays the golden reply: events in order, captions while it plays, summary right', async () => {
    const ctx = new AudioContext();
    const tap = await tapRecorder(ctx);
    // Every time here is on the context's clock (the client's too): the audio is the reference,
    // so a loaded host makes things late on it, never early.
    const audioMs = () => ctx.currentTime * 1000;
    const c = client({ audioContext: ctx, destination: tap.node, clock: { now: audioMs } });
    expect(await c.unlock()).toBe('running');
    const samples = new Float32Array(1600).map((_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000) * 0.5);
    const askAt = audioMs();
    const reply = c.ask({ samples, sampleRate: 16000 });
    const events: ReplyEvent[] = [];
    const at: number[] = []; // when each event reached this thread
    for await (const ev of reply) {
      events.push(ev);
      at.push(audioMs());
    }
    const summary = await reply.done;

    const types = events.map((e) => e.type);
    // Every frame arrives in order (sign 3 last); the question once, right after the first frame.
    const frames = events.filter((e): e is Extract<ReplyEvent, { type: 'frame' }> => e.type === 'frame');
    expect(frames.map((f) => f.order)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(frames.map((f) => f.offset)).toEqual([0, 1156, 2312, 3468, 4624, 5780, 6936, 8092, 9248, 10404, 11562]);
    expect(frames[10]!.header).toMatchObject({ sign: 3, answer: '', question: 'what is the weather?' });
    expect(types.slice(0, 2)).toEqual(['frame', 'question']);
    expect(events.filter((e) => e.type === 'question')).toEqual([{ type: 'question', text: 'what is the weather?' }]);
    // Captions: in order, none before the audio started, the last at the very end.
    const texts = events.filter((e): e is Extract<ReplyEvent, { type: 'text' }> => e.type === 'text');
    expect(texts.map((t) => [t.text, t.order])).toEqual(PARTS.map((p, i) => [p, i + 1]));
    expect(types.indexOf('audio-start')).toBeLessThan(types.indexOf('text'));
    expect(types.at(-1)).toBe('end');
    expect(types.filter((t) => t === 'end' || t === 'error')).toEqual(['end']);

    expect(summary).toMatchObject({
      frames: 11,
      question: 'what is the weather?',
      answer: PARTS.join(''),
      underruns: 0,
      interrupted: false,
      position: null,
    });
    // 10 frames x 480 samples at 24 kHz.
    expect(summary.playedMs).toBeGreaterThanOrEqual(199);
    expect(summary.playedMs).toBeLessThanOrEqual(203);

    // The output carried the reply: 200 ms of sound (the vector's 0.5 tones, heard above 1e-3
    // but for the zero crossings and the 5 ms edge fades), at its level.
    await tap.caughtUp();
    const first = tap.blocks.find((b) => b.data.some((v) => v !== 0))!;
    const soundAt = first.t * 1000;
    // Slack for where the sound begins in its block, and for the main thread's view of the clock,
    // which Chromium and WebKit move on from the audio thread a render quantum or so behind.
    const slack = ((2 * 128) / ctx.sampleRate) * 1000;
    // While it plays: the reply arrives in one burst, yet part k comes when frame k starts,
    // (k - 1) x 20 ms of the reply after the first sound (at the fastest rate the player may play,
    // jitter.maxRate 1.1, (k - 1) x 20 / 1.1 ms of the clock). Captions on arrival would all come
    // before or with the first sound.
    const textAt = at.filter((_, i) => types[i] === 'text');
    const late = textAt.map((t, k) => t - (soundAt + (k * 20) / 1.1));
    for (const l of late) expect(l, `captions after their frames' start: ${late.map((v) => v.toFixed(1)).join(' ')} ms`).toBeGreaterThanOrEqual(-slack);
    // firstByteMs and firstAudioMs, on this same clock, against the events' own stamps: the first
    // byte came after the ask and before the first frame reached this thread, the audio started
    // (audio-start's report) after the first sound and before its event reached this thread.
    const frameAt = at[types.indexOf('frame')]!;
    const startAt = at[types.indexOf('audio-start')]!;
    expect(summary.firstByteMs).toBeGreaterThanOrEqual(0);
    expect(summary.firstByteMs).toBeLessThanOrEqual(frameAt - askAt);
    expect(summary.firstAudioMs).toBeGreaterThanOrEqual(soundAt - slack - frameAt);
    expect(summary.firstAudioMs).toBeLessThanOrEqual(startAt - askAt);
    // The 200 ms at the rates the summary reports: 1 and 1 unless the player sped up (after the
    // last frame, while it plays later than it could: a loaded host's late start) or slowed down.
    expect(summary.minRate).toBeGreaterThanOrEqual(0.9);
    expect(summary.maxRate).toBeLessThanOrEqual(1.1);
    const heard = tap.samples();
    expect(soundMs(heard, ctx.sampleRate)).toBeGreaterThan(200 / summary.maxRate! - 6);
    expect(soundMs(heard, ctx.sampleRate)).toBeLessThan(200 / summary.minRate! + 6);
    expect(heard.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.45);
    await ctx.close();
  });

  it('a server slower than real time: underruns are reported as events and counted in the summary', async () => {
    const ctx = new AudioContext();
    // One 20 ms frame every 60 ms, played on arrival: the buffer must run dry.
    const c = client({
      audioContext: ctx,
      jitter: { policy: 'on-arrival' },
      url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin?chunk=1156&pace=60`,
    });
    await c.unlock();
    // Engine note 5: WebKitGTK's audio clock stalls for most of a second soon after a context
    // starts; frames that come meanwhile are all queued when it runs again, and nothing runs dry
    // (a CI run's first try: 0 underruns). Ask once the clock has run 0.2 s.
    await audioSleep(ctx, 200);
    const reply = c.ask(null, { question: 'q' });
    const types: string[] = [];
    for await (const ev of reply) types.push(ev.type);
    const summary = await reply.done;
    const underruns = types.filter((t) => t === 'underrun').length;
    expect(underruns).toBeGreaterThanOrEqual(1);
    expect(summary.underruns).toBe(underruns);
    expect(types.filter((t) => t === 'resume').length).toBe(underruns);
    expect(types.filter((t) => t === 'text').length).toBe(10);
    expect(summary.playedMs).toBeGreaterThanOrEqual(199);
    await ctx.close();
  });

  it('JSON replies need no AudioContext: {header, value} per frame', async () => {
    const c = client({ url: `${inject('replyOrigin')}/vector/anb-json-three-answers.bin?chunk=5`, responseType: 'json' });
    const reply = c.ask(null, { question: 'three answers please' });
    const json: { header: Record<string, unknown>; value: unknown }[] = [];
    reply.on('json', (e) => json.push({ header: e.header, value: e.value }));
    const summary = await reply.done;
    expect(json.length).toBe(3);
    expect(json[0]!.header).toEqual({ status: 'success', reason: 'none' });
    expect(summary.frames).toBe(3);
    expect(c.audioContext).toBeNull();
  });

  it('HTTP errors, HTML pages and a connection cut mid-reply end the reply with their codes', async () => {
    const origin = inject('replyOrigin');
    const c = client({ responseType: 'json' });
    const http = c.ask(null, { question: 'q', url: `${origin}/status/502` });
    await expect(http.done).rejects.toMatchObject({ code: 'http', status: 502 });
    expect(((await http.done.catch((e) => e)) as { body: string }).body).toBe('failure 502: ' + 'x'.repeat(487));
    const html = c.ask(null, { question: 'q', url: `${origin}/html` });
    await expect(html.done).rejects.toMatchObject({ code: 'bad-header', offset: 0 });
    const refused = createClient({ url: 'http://127.0.0.1:9/ask', upload: 'buffered', responseType: 'json' });
    clients.push(refused);
    await expect(refused.ask(null, { question: 'q' }).done).rejects.toMatchObject({ code: 'network' });
  });

  // Engine note 3 (WebKit): a cut chunked body ends as if complete (GAPS.cutBodyError); the SDK
  // then finds the stream ended inside frame 4 and says so.
  const cutError = GAPS.cutBodyError.engines.includes(engine) ? "'truncated' at frame 4" : 'network';
  it(`a connection cut mid-reply: the received frames play out, then \`error\` (${cutError})`, async () => {
    const ctx = new AudioContext();
    const c = client({ audioContext: ctx, url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin?chunk=1156&pace=5&cut=4000` });
    await c.unlock();
    const reply = c.ask(null, { question: 'q' });
    const events: ReplyEvent[] = [];
    for await (const ev of reply) events.push(ev);
    const err = events.at(-1) as Extract<ReplyEvent, { type: 'error' }>;
    expect(err).toMatchObject({ type: 'error', fatal: true });
    if (cutError === 'network') expect(err.error.code).toBe('network');
    else expect(err.error).toMatchObject({ code: 'truncated', offset: 3 * 1156 });
    // Frames 1-3 were whole (3 x 1156 = 3468 < 4000): they played, captions included.
    expect(events.filter((e) => e.type === 'frame').length).toBe(3);
    expect(events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text)).toEqual(PARTS.slice(0, 3));
    expect(events.some((e) => e.type === 'audio-start')).toBe(true);
    await expect(reply.done).rejects.toBe(err.error);
    await ctx.close();
  });

  it('interrupt() mid-reply fades out, resolves where it was cut, and the next ask plays', async () => {
    const ctx = new AudioContext();
    const tap = await tapRecorder(ctx);
    // A 2 s reply (100 frames of 20 ms, the fault server's 440 Hz sine at 0.5, 24 kHz) sent at once:
    // the cut lands mid-reply and mid-sound however late a loaded host delivers it. (The 200 ms
    // golden vector paced in real time did not: a main thread stalled past its end, or an
    // underrun just before the cut, left nothing to fade in WebKit under CI load.)
    const c = client({ audioContext: ctx, destination: tap.node, url: `${faultOrigin()}/reply?frames=100` });
    await c.unlock();
    const t0 = ctx.currentTime;
    const first = c.ask(null, { question: 'q' });
    await new Promise<void>((resolve) => first.on('audio-start', () => resolve()));
    await audioSleep(ctx, 50);
    const position = await first.interrupt();
    // Mid-reply: after the first frame's start, before the last frame's end.
    expect(position!.playedMs).toBeGreaterThan(0);
    expect(position!.playedMs).toBeLessThan(2000);
    // playedMs counts the output samples (at the context's rate), order/sampleOffset the reply's:
    // the same point to within one output sample.
    expect(Math.abs(position!.playedMs - ((position!.order - 1) * 20 + (position!.sampleOffset * 1000) / 24000))).toBeLessThan(1000 / ctx.sampleRate);
    const summary = await first.done;
    expect(summary).toMatchObject({ interrupted: true, position });
    // What the tap heard: as much sound as the position says (within the fades' edges), and it
    // fades out: over its last 2 ms (the 8 ms fade's last quarter) the level is under a quarter of
    // the 0.5 sine (plus a few samples' slack: the last sample over 1e-3 may sit just before a
    // zero crossing), where the 10 ms before the fade reach its peak.
    const end = ctx.currentTime + 0.1;
    await until(() => (tap.blocks.at(-1)?.t ?? -1) >= end, 3000, 'the tap past the cut');
    const heard = tap.samples(t0, end);
    expect(Math.abs(soundMs(heard, ctx.sampleRate) - position!.playedMs)).toBeLessThan(10);
    let last = heard.length - 1;
    while (last > 0 && Math.abs(heard[last]!) <= 1e-3) last--;
    const ms = (n: number) => Math.round((n * ctx.sampleRate) / 1000);
    const peak = (from: number, to: number) => heard.subarray(from, to).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak(last - ms(2), last + 1)).toBeLessThan(0.125 + 0.01);
    expect(peak(last - ms(18), last - ms(8))).toBeGreaterThan(0.45);
    const second = c.ask(null, { question: 'again', url: `${faultOrigin()}/reply?frames=10` });
    const s2 = await second.done;
    expect(s2).toMatchObject({ frames: 10, interrupted: false });
    expect(s2.playedMs).toBeCloseTo(200, 0);
    await ctx.close();
  });
});

describe('client.ask on an OfflineAudioContext (sample-exact)', () => {
  it('the golden reply comes out of the player exactly, frame after frame, with 1 ms edge fades', async () => {
    const rate = 24000; // the reply's own rate: no resampling, so samples compare exactly
    const ctx = new OfflineAudioContext(1, rate / 2, rate);
    const url = `${inject('replyOrigin')}/vector/tal-reply-stream.bin?chunk=211`;
    let player!: Player;
    let endSent = false;
    const c = client({
      url,
      audioContext: ctx,
      player: async (context) => {
        player = await Player.create(context, { fadeMs: 1, jitter: { policy: 'on-arrival' } });
        // Note when the reply tells the player its frames are complete.
        const endReply = player.endReply.bind(player);
        player.endReply = (id: number) => {
          endReply(id);
          endSent = true;
        };
        return player;
      },
    });
    const reply = c.ask(null, { question: 'q' });
    const events: ReplyEvent[] = [];
    reply.on('frame', (e) => events.push(e));
    const lastFrame = new Promise<void>((resolve) => reply.on('frame', (e) => e.order === 11 && resolve()));
    await lastFrame;
    // Render only once the reply has handed the player every frame and their end; a stats round
    // trip through the port then orders after them.
    for (let i = 0; i < 400 && !endSent; i++) await new Promise((r) => setTimeout(r, 5));
    expect(endSent).toBe(true);
    expect((await player.fetchStats()).bufferedMs).toBeCloseTo(200, 6);
    const rendered = (await ctx.startRendering()).getChannelData(0);
    const summary = await reply.done;

    const expected: number[] = [];
    const body = (await fetch(url, { method: 'POST' })).body!;
    for await (const f of decodeFrames(body)) expected.push(...readTalAudio(f).channels[0]!);
    expect(expected.length).toBe(4800);
    const fade = 24;
    for (let k = 1; k <= fade; k++) expect(rendered[k - 1]).toBeCloseTo((expected[k - 1]! * k) / fade, 6);
    for (let i = fade; i < 4800 - fade; i++) {
      if (rendered[i] !== expected[i]) expect([i, rendered[i]]).toEqual([i, expected[i]]);
    }
    expect(rendered[4799]).toBe(0); // the end fade reaches 0 on the last sample
    for (let i = 4800; i < rendered.length; i++) if (rendered[i] !== 0) expect([i, rendered[i]]).toEqual([i, 0]);
    expect(summary).toMatchObject({ frames: 11, playedMs: 200, underruns: 0, answer: PARTS.join(''), interrupted: false });
    expect(events.map((e) => (e as { order: number }).order)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
