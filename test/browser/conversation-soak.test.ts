// Lifetimes of a hands-free conversation in a real engine. stop() and client.destroy() release the
// microphone converse() opened; and over 100 turns (a tone burst as the user's speech, a short
// spoken answer each time) nothing grows: contexts, worklet nodes, tracks, listeners on long-lived
// targets, and the listeners of the client's and the conversation's own emitters. Counted from
// outside the SDK (test/browser/soak-probe.ts).
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createClient, type TalStreamClient } from '../../src/client';
import type { Conversation } from '../../src/conversation/conversation';
import { until } from './reliability-helpers';
import { instrument } from './soak-probe';

const replyOrigin = inject('replyOrigin');
const RAW = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
const TURNS = 100;

let probe: ReturnType<typeof instrument> | null = null;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  probe?.restore();
  probe = null;
});

describe('conversation lifetimes', () => {
  it('stop() and client.destroy() release the microphone converse() opened (and only that one)', async () => {
    probe = instrument();
    const client: TalStreamClient = createClient({ url: `${replyOrigin}/speech/user-4.wav?ms=200`, upload: 'buffered' });
    cleanups.push(() => client.destroy());
    await client.unlock();
    const mine = await client.microphone(RAW);
    let convo: Conversation = client.converse({ microphone: RAW });
    await convo.ready;
    expect(probe.liveTracks()).toBe(2);
    await convo.stop();
    expect(convo.state).toBe('stopped');
    expect(probe.liveTracks()).toBe(1); // the app's own microphone is left alone
    expect(mine.mediaStream.getAudioTracks()[0]!.readyState).toBe('live');
    // An app's Microphone lent to a conversation stays open after it, and can record again.
    convo = client.converse({ microphone: mine });
    await convo.ready;
    expect(() => mine.record()).toThrow(/conversation/);
    await convo.stop();
    expect(probe.liveTracks()).toBe(1);
    const take = mine.record();
    await take.stop();
    // client.destroy() ends a conversation still listening, and its microphone.
    convo = client.converse({ microphone: RAW });
    await convo.ready;
    expect(probe.liveTracks()).toBe(2);
    await client.destroy();
    expect(convo.state).toBe('stopped');
    expect(probe.liveTracks()).toBe(0);
  });

  it(`${TURNS} turns: no growth in contexts, worklet nodes, tracks, listeners`, { timeout: 240_000 }, async () => {
    probe = instrument();
    const ctx = new AudioContext();
    cleanups.push(() => ctx.close());
    await ctx.resume();
    // Short, quiet answers (40 ms at -40 dB): the user's next tone is far louder than anything the
    // answer could echo, so the turns follow each other without waiting out an echo window.
    const client: TalStreamClient = createClient({ url: `${replyOrigin}/speech/user-4.wav?ms=40&gain=0.01`, upload: 'buffered', audioContext: ctx });
    cleanups.push(() => client.destroy());
    client.on('stats', () => {});
    // The user: a 300 Hz tone, gated on for 80 ms per turn.
    const osc = new OscillatorNode(ctx, { frequency: 300 });
    const gate = new GainNode(ctx, { gain: 0 });
    const mic = ctx.createMediaStreamDestination();
    osc.connect(gate).connect(mic);
    osc.start();
    // A microphone's own noise (-60 dBFS), as every real one has: the detector's floor.
    const noise = ctx.createBuffer(1, ctx.sampleRate, ctx.sampleRate);
    let seed = 3;
    noise.getChannelData(0).forEach((_, i, a) => (a[i] = 0.0017 * (((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1)));
    const hiss = new AudioBufferSourceNode(ctx, { buffer: noise, loop: true });
    hiss.connect(mic);
    hiss.start();
    const convo = client.converse({ microphone: mic.stream, vad: { hangoverMs: 80, minSpeechMs: 40 } });
    cleanups.push(() => convo.stop());
    let turns = 0, ended = 0;
    const errors: unknown[] = [];
    convo.on('turn', ({ reply }) => {
      turns++;
      // An app's per-reply listeners: they go away with the reply.
      reply.on('text', () => {});
      reply.done.then(() => ended++, (e) => errors.push(e));
    });
    convo.on('error', (e) => errors.push(e));
    convo.on('state', () => {});
    await convo.ready;
    const snap = () => ({
      contexts: probe!.counts.contexts - probe!.counts.contextsClosed,
      workletNodes: probe!.counts.workletNodes,
      tracksOpened: probe!.counts.tracks,
      pageListeners: probe!.listeners(),
      clientListeners: client.listenerCount(),
      convoListeners: convo.listenerCount(),
    });
    let after1: ReturnType<typeof snap> | null = null;
    for (let i = 1; i <= TURNS; i++) {
      const t = ctx.currentTime + 0.05;
      gate.gain.setValueAtTime(0.3, t);
      gate.gain.setValueAtTime(0, t + 0.08);
      await until(() => ended === i && convo.state === 'listening', 10_000, `turn ${i} to be answered`);
      if (i === 1) after1 = snap();
    }
    expect(errors).toEqual([]);
    expect(turns).toBe(TURNS);
    expect(snap()).toEqual(after1);
    // One context (the test's), the capture's and the player's worklet nodes, no microphone track.
    expect(snap()).toMatchObject({ contexts: 1, workletNodes: 2, tracksOpened: 0 });
  });
});
