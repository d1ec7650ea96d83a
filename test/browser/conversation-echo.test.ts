// Hands-free conversation in a real engine, with an acoustic echo made in the graph: the
// "microphone" MediaStream mixes the user's voice (espeak-ng speech fixtures) with the player's
// own output through a delay, a room (a ConvolverNode with a decaying impulse) and a gain (in
// WebKit the same mix goes in as an AudioNode: engine note 7, its MediaStream loop drifts). The
// browser's echo canceller never sees this echo: the no-AEC worst case. The answers are spoken
// sentences (POST /speech/... of the reply server); every upload is read back from that server.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createClient, type TalStreamClient } from '../../src/client';
import type { Conversation, ConversationState } from '../../src/conversation/conversation';
import { readWav } from '../../src/protocol/wav';
import type { PlayedPosition } from '../../src/types';
import { audioSleep } from './capture-helpers';
import { engine, GAPS } from './engine-support';
import { until } from './reliability-helpers';

const replyOrigin = inject('replyOrigin');
const staticOrigin = inject('staticOrigin');

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fixtureBytes(name: string): Promise<ArrayBuffer> {
  return (await fetch(`${staticOrigin}/test/fixtures/speech/${name}`)).arrayBuffer();
}

/** A fixture at 16 kHz (as uploaded) and decoded for the context (as spoken). */
async function voice(ctx: AudioContext, name: string): Promise<{ pcm16k: Float32Array; buffer: AudioBuffer }> {
  const bytes = await fixtureBytes(name);
  const pcm16k = readWav(new Uint8Array(bytes)).channels[0]!;
  return { pcm16k, buffer: await ctx.decodeAudioData(bytes.slice(0)) };
}

const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

/**
 * A room: the player's output `out` reaches the microphone `delayMs` late, through a room response
 * (a direct path, then 150 ms of decaying noise holding half its energy: a small office), at
 * `echoDb` relative to the user's voice (the RMS of the speech fixtures, the room's energy
 * included); the user's voice is mixed in unchanged.
 */
function room(ctx: AudioContext, out: AudioNode, delayMs: number, echoDb: number, userRms: number, answerRms: number) {
  const mic = ctx.createMediaStreamDestination();
  const rate = ctx.sampleRate;
  const n = Math.round(0.15 * rate);
  const ir = ctx.createBuffer(1, n, rate);
  const h = ir.getChannelData(0);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  // Uniform noise has mean square 1/3; the decay exp(-t/30 ms) sums to 15 ms of it in energy.
  const tail = Math.sqrt(0.5 / ((1 / 3) * 0.015 * rate));
  h[0] = 1;
  let energy = 1;
  for (let i = 1; i < n; i++) {
    h[i] = tail * rnd() * Math.exp(-i / (0.03 * rate));
    energy += h[i]! * h[i]!;
  }
  const delay = new DelayNode(ctx, { delayTime: delayMs / 1000, maxDelayTime: 1 });
  const conv = new ConvolverNode(ctx, { buffer: ir, disableNormalization: true });
  const echo = new GainNode(ctx, { gain: (10 ** (echoDb / 20) * userRms) / answerRms / Math.sqrt(energy) });
  out.connect(delay).connect(conv).connect(echo).connect(mic);
  const voiceIn = new GainNode(ctx, { gain: 1 });
  voiceIn.connect(mic);
  // The same mix as a node, for WebKit (engine note 7: its MediaStream loop drifts).
  const node = new GainNode(ctx, { gain: 1 });
  echo.connect(node);
  voiceIn.connect(node);
  return {
    stream: mic.stream,
    node,
    say(buffer: AudioBuffer, at: number) {
      const s = new AudioBufferSourceNode(ctx, { buffer });
      s.connect(voiceIn);
      s.start(at);
    },
  };
}

async function uploads(): Promise<{ first: number; uploads: Record<string, unknown>[][] }> {
  return (await fetch(`${replyOrigin}/uploads`)).json();
}

async function uploadAudio(n: number): Promise<Float32Array> {
  const pcm = new Int16Array(await (await fetch(`${replyOrigin}/upload-audio?n=${n}`)).arrayBuffer());
  return Float32Array.from(pcm, (v) => v / 32768);
}

/**
 * Where `voice` best lines up in `audio` (lag in samples, by normalised cross-correlation over
 * `lags`), and how much of `audio` over the voice's span is not that voice: the residue after
 * removing the least-squares scaled voice, in dB relative to the voice.
 */
function locate(audio: Float32Array, voiceSig: Float32Array, lags: [number, number]) {
  const score = (lag: number) => {
    let dot = 0, ea = 0;
    for (let i = 0; i < voiceSig.length && lag + i < audio.length; i++) {
      const a = lag + i >= 0 ? audio[lag + i]! : 0;
      dot += a * voiceSig[i]!;
      ea += a * a;
    }
    return dot / Math.sqrt(ea + 1e-12);
  };
  // A coarse search in steps of 4 samples, then every lag around the best one.
  let best = { lag: 0, score: -Infinity };
  const consider = (lag: number) => {
    const sc = score(lag);
    if (sc > best.score) best = { lag, score: sc };
  };
  for (let lag = lags[0]; lag <= lags[1]; lag += 4) consider(lag);
  for (let lag = best.lag - 4; lag <= best.lag + 4; lag++) consider(lag);
  let dot = 0, ev = 0;
  for (let i = 0; i < voiceSig.length; i++) {
    const a = audio[best.lag + i] ?? 0;
    dot += a * voiceSig[i]!;
    ev += voiceSig[i]! * voiceSig[i]!;
  }
  const g = dot / ev;
  let er = 0;
  for (let i = 0; i < voiceSig.length; i++) er += ((audio[best.lag + i] ?? 0) - g * voiceSig[i]!) ** 2;
  return { lag: best.lag, gain: g, residueDb: 10 * Math.log10(er / (g * g * ev)) };
}

async function setup(opts: { delayMs: number; echoDb: number; answer: string; bargeIn?: boolean; hangoverMs?: number }) {
  const ctx = new AudioContext();
  cleanups.push(() => ctx.close());
  await ctx.resume();
  const out = new GainNode(ctx);
  out.connect(ctx.destination);
  const client: TalStreamClient = createClient({ url: `${replyOrigin}/speech/${opts.answer}`, upload: 'buffered', audioContext: ctx, destination: out });
  cleanups.push(() => client.destroy());
  const [user1, user2, user3, user4, answer] = await Promise.all(
    ['user-1.wav', 'user-3.wav', 'user-2.wav', 'user-4.wav', opts.answer.replace(/\?.*/, '')].map((n) => voice(ctx, n)),
  );
  const r = room(ctx, out, opts.delayMs, opts.echoDb, rms(user1!.pcm16k), rms(answer!.pcm16k));
  const viaStream = !GAPS.steadyStreamLoop.engines.includes(engine);
  const convo: Conversation = client.converse({ microphone: viaStream ? r.stream : r.node, bargeIn: opts.bargeIn ?? true, vad: { hangoverMs: opts.hangoverMs ?? 800 } });
  cleanups.push(() => convo.stop());
  const states: ConversationState[] = [];
  const turns: number[] = [];
  const bargeIns: { position: PlayedPosition; atMs: number; onsetMs: number }[] = [];
  const errors: unknown[] = [];
  const replies: { interrupted: boolean; position: PlayedPosition | null }[] = [];
  convo.on('state', (e) => states.push(e.state));
  convo.on('turn', (e) => {
    turns.push(e.index);
    e.reply.done.then((s) => replies.push({ interrupted: s.interrupted, position: s.position }), (err) => errors.push(err));
  });
  convo.on('barge-in', (e) => bargeIns.push(e));
  convo.on('error', (e) => errors.push(e));
  await convo.ready;
  const { first, uploads: before } = await uploads();
  return { ctx, r, convo, states, turns, bargeIns, errors, replies, user1: user1!, user2: user2!, user3: user3!, user4: user4!, firstUpload: first + before.length };
}

describe('hands-free conversation with an acoustic echo in the graph (no browser AEC)', () => {
  it('echo only, at 0 dB: the spoken answer plays through with no barge-in and no new turn', async () => {
    const t = await setup({ delayMs: 120, echoDb: 0, answer: 'assistant-1.wav?ms=2500' });
    t.r.say(t.user1.buffer, t.ctx.currentTime + 0.3);
    await until(() => t.states.includes('speaking'), 15_000, 'the answer to play');
    await until(() => t.states.at(-1) === 'listening', 20_000, 'the answer to end');
    // A second of the room after it: still nothing.
    await audioSleep(t.ctx, 1000);
    expect(t.errors).toEqual([]);
    expect(t.bargeIns).toEqual([]);
    expect(t.turns).toEqual([1]);
    expect(t.states).toEqual(['user-speaking', 'thinking', 'speaking', 'listening']);
    expect(t.replies.map((r) => r.interrupted)).toEqual([false]);
    const { first, uploads: all } = await uploads();
    expect(first + all.length - t.firstUpload).toBe(1);
  });

  it('the user cuts in mid-answer: one barge-in, the new upload holds the user from the onset and little echo, interrupted matches the cut', async () => {
    // The echo 6 dB under the user's voice (the bench measures the whole grid, 0 dB included).
    const t = await setup({ delayMs: 120, echoDb: -6, answer: 'assistant-5.wav' });
    t.r.say(t.user1.buffer, t.ctx.currentTime + 0.3);
    await until(() => t.states.includes('speaking'), 15_000, 'the answer to play');
    // 2.5 s into the answer (the canceller has had that long on the echo), the user speaks.
    await audioSleep(t.ctx, 2500);
    t.r.say(t.user2.buffer, t.ctx.currentTime + 0.05);
    await until(() => t.bargeIns.length === 1, 5000, 'the barge-in');
    await until(() => t.states.at(-1) === 'thinking' || t.states.at(-1) === 'speaking', 10_000, 'the second turn to be sent');
    await until(() => t.replies.length >= 1, 5000, 'the first answer to end');
    await until(async () => {
      const u = await uploads();
      return u.first + u.uploads.length >= t.firstUpload + 2;
    }, 5000, 'the second upload');
    expect(t.errors).toEqual([]);
    expect(t.turns).toEqual([1, 2]);
    expect(t.states.slice(0, 5)).toEqual(['user-speaking', 'thinking', 'speaking', 'user-speaking', 'thinking']);
    // The answer was cut where the barge-in says, and the second turn's first frame says so too.
    const cut = t.bargeIns[0]!;
    expect(t.replies[0]).toEqual({ interrupted: true, position: cut.position });
    expect(cut.position.playedMs).toBeGreaterThan(2000);
    const { first, uploads: all } = await uploads();
    const second = all[t.firstUpload + 1 - first]!;
    expect(second[0]!.interrupted).toEqual({ order: cut.position.order, sampleOffset: cut.position.sampleOffset, playedMs: cut.position.playedMs });
    expect(second.slice(1).every((h) => h.interrupted === undefined)).toBe(true);
    // The upload: the user's sentence from its onset (the pre-roll before it), and the
    // echo of the answer under it reduced well below the voice.
    const audio = await uploadAudio(t.firstUpload + 1);
    const found = locate(audio, t.user2.pcm16k, [-1600, 16000]);
    expect(found.lag).toBeGreaterThanOrEqual(0); // nothing of the sentence's start is missing
    // And the turn began no earlier than its reach-back before the detected onset (pre-roll 300 ms
    // + twice the rule's 100 ms), one 20 ms chunk of rounding, and the 40 ms gap the rule may
    // bridge before the voice (a run can start on a frame of echo residue just before it).
    expect(found.lag).toBeLessThanOrEqual((0.3 + 0.2 + 0.02 + 0.04) * 16000);
    expect(found.gain).toBeGreaterThan(0.7);
    expect(found.residueDb).toBeLessThan(-10);
  });

  it('a scripted conversation: 6 turns, 2 barge-ins and one false end of turn, in order (echo at -10 dB)', { timeout: 120_000 }, async () => {
    // Answers: 1 s of speech, 700 ms after the turn (a server thinking), so a false end can happen.
    const t = await setup({ delayMs: 80, echoDb: -10, answer: 'assistant-2.wav?ms=1000&delay=700', hangoverMs: 500 });
    const last = () => t.states.at(-1);
    const say = (v: { buffer: AudioBuffer }) => t.r.say(v.buffer, t.ctx.currentTime + 0.05);
    const sayAndWait = async (v: { buffer: AudioBuffer }) => {
      say(v);
      await audioSleep(t.ctx, v.buffer.duration * 1000 + 100);
    };
    const answered = async () => {
      await until(() => last() === 'speaking', 15_000, 'an answer to play');
      await until(() => last() === 'listening', 15_000, 'the answer to end');
      await audioSleep(t.ctx, 700); // past the echo window of the answer
    };
    const cutIn = async (v: { buffer: AudioBuffer }, n: number) => {
      await until(() => last() === 'speaking', 15_000, 'an answer to play');
      await audioSleep(t.ctx, 500);
      say(v);
      await until(() => t.bargeIns.length === n, 5000, `barge-in ${n}`);
    };
    await sayAndWait(t.user1); // turn 1
    await answered();
    await sayAndWait(t.user2); // turn 2, cut by turn 3
    await cutIn(t.user3, 1);
    await answered(); // turn 3's answer
    await sayAndWait(t.user4); // turn 4 ends falsely: the user goes on 300 ms after its end
    await until(() => last() === 'thinking', 5000, 'the false end of turn 4');
    await audioSleep(t.ctx, 300);
    await sayAndWait(t.user1);
    await answered(); // turn 4's answer
    await sayAndWait(t.user2); // turn 5, cut by turn 6
    await cutIn(t.user3, 2);
    await answered();
    expect(t.errors).toEqual([]);
    expect(t.turns).toEqual([1, 2, 3, 4, 4, 5, 6]);
    expect(t.bargeIns.length).toBe(2);
    const squash = t.states.filter((s, i) => s !== t.states[i - 1]);
    expect(squash).toEqual([
      'user-speaking', 'thinking', 'speaking', 'listening', // 1
      'user-speaking', 'thinking', 'speaking', 'user-speaking', // 2, cut
      'thinking', 'speaking', 'listening', // 3
      'user-speaking', 'thinking', 'user-speaking', 'thinking', 'speaking', 'listening', // 4, false end
      'user-speaking', 'thinking', 'speaking', 'user-speaking', // 5, cut
      'thinking', 'speaking', 'listening', // 6
    ]);
    await until(async () => {
      const u = await uploads();
      return u.first + u.uploads.length >= t.firstUpload + 7;
    }, 5000, 'the seventh upload');
    const { first, uploads: all } = await uploads();
    const mine = all.slice(t.firstUpload - first);
    expect(mine.length).toBe(7);
    // The turns that cut an answer say so in their first frame, and only they.
    expect(mine.map((u) => u[0]!.interrupted !== undefined)).toEqual([false, false, true, false, false, false, true]);
    expect(mine[2]![0]!.interrupted).toEqual({ ...t.bargeIns[0]!.position });
    expect(mine[6]![0]!.interrupted).toEqual({ ...t.bargeIns[1]!.position });
    // Turn 4 sent again whole: both stretches of speech in the one upload, in order.
    const four = await uploadAudio(t.firstUpload + 4);
    const a = locate(four, t.user4.pcm16k, [0, 16000]);
    const b = locate(four, t.user1.pcm16k, [a.lag + t.user4.pcm16k.length, four.length - t.user1.pcm16k.length]);
    expect(a.gain).toBeGreaterThan(0.7);
    expect(b.gain).toBeGreaterThan(0.7);
  });
});
