// client.ask(MediaStream): a live source whose track never ends by itself. The turn ends by
// maxDurationMs (exact sample count), or by reply.endTurn(), also when it comes before the
// capture worklet has even loaded. What the server received is read back from the reply server.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createClient, type TalStreamClient } from '../../src/client';
import { loadWorklet } from '../../src/audio/worklet-loader';
import { audioSleep } from './capture-helpers';

interface Upload {
  bytes: number;
  frames: { header: Record<string, unknown>; payloadBytes: number }[];
}

const clients: TalStreamClient[] = [];
const contexts: AudioContext[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy();
  for (const ctx of contexts.splice(0)) await ctx.close();
});

/** A client on its own running context, and a live 1 kHz MediaStream in that context. */
async function setup() {
  const ctx = new AudioContext();
  contexts.push(ctx);
  await ctx.resume();
  const osc = new OscillatorNode(ctx, { frequency: 1000 });
  const dest = ctx.createMediaStreamDestination();
  osc.connect(new GainNode(ctx, { gain: 0.25 })).connect(dest);
  osc.start();
  const client = createClient({ url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin`, upload: 'buffered', audioContext: ctx });
  clients.push(client);
  return { client, stream: dest.stream, ctx };
}

async function lastUpload(): Promise<Upload> {
  return (await fetch(`${inject('replyOrigin')}/last-upload`)).json() as Promise<Upload>;
}

/** Orders 1..n, sign 1 first, 3 last, 2 between; returns the samples sent (int16 mono). */
function checkFrames(up: Upload): number {
  const fr = up.frames;
  expect(fr.length).toBeGreaterThanOrEqual(1);
  expect(fr.map((f) => f.header.order)).toEqual(fr.map((_, i) => i + 1));
  expect(fr.at(-1)!.header.sign).toBe(3);
  for (const f of fr.slice(1, -1)) expect(f.header.sign).toBe(2);
  if (fr.length > 1) expect(fr[0]!.header.sign).toBe(1);
  for (const f of fr) expect(f.header).toMatchObject({ sampleRate: 16000, audioType: 'int16', channels: 1 });
  return fr.reduce((n, f) => n + f.payloadBytes, 0) / 2;
}

describe('ask(MediaStream): ending the turn of a live source', () => {
  it('maxDurationMs ends the turn after exactly that much audio, and the reply plays', async () => {
    const { client, stream } = await setup();
    const reply = client.ask(stream, { maxDurationMs: 300, question: 'live' });
    const summary = await reply.done;
    // The reply (the golden vector: 10 frames of 20 ms at 24 kHz and an empty closing one) played
    // whole through the client's real Player, no underrun.
    expect(summary).toMatchObject({ frames: 11, underruns: 0, interrupted: false, answer: Array.from({ length: 10 }, (_, i) => `part ${i + 1}. `).join('') });
    expect(summary.playedMs).toBeCloseTo(200, 0);
    const up = await lastUpload();
    // 300 ms at 16 kHz: 4800 samples, 15 full frames of 320, then the empty sign-3 frame.
    expect(checkFrames(up)).toBe(4800);
    expect(up.frames.every((f) => f.header.question === 'live')).toBe(true);
    // The track is the app's: the client did not stop it.
    expect(stream.getAudioTracks()[0]!.readyState).toBe('live');
  });

  it('reply.endTurn() after 400 ms sends what was said so far, closed by a sign-3 frame', async () => {
    const { client, stream, ctx } = await setup();
    // The capture module is loaded before the ask (once per context), so the capture starts at
    // once; the 400 ms are then counted on the audio clock, which is what the take counts too (a
    // loaded WebKit runs its audio in bursts, engine note 5, and a wall-clock sleep saw 64 ms).
    await loadWorklet(ctx);
    const a0 = ctx.currentTime;
    const reply = client.ask(stream);
    await audioSleep(ctx, 400);
    const a1 = ctx.currentTime;
    reply.endTurn();
    await reply.done;
    const samples = checkFrames(await lastUpload());
    // Not cut early: the audio time between ask() and endTurn(), less the few quanta it takes to
    // connect the source and start the capture (at most 200 ms); not running on: no more than the audio
    // time up to now.
    expect(samples).toBeGreaterThanOrEqual((a1 - a0 - 0.2) * 16000);
    expect(samples).toBeLessThanOrEqual((ctx.currentTime - a0) * 16000);
  });

  it('reply.endTurn() at once, before the capture worklet has loaded, still ends the turn: no hang', async () => {
    const { client, stream } = await setup();
    const reply = client.ask(stream);
    reply.endTurn();
    reply.endTurn(); // twice is harmless
    await reply.done;
    const samples = checkFrames(await lastUpload());
    expect(samples).toBeLessThan(0.3 * 16000);
  });
});
