// The Player and its AudioWorklet processor in each real engine, rendered deterministically with an
// OfflineAudioContext: frames are fed at suspend(t) points, the test waits for the processor's
// acknowledgement, then resumes; the rendered samples are checked exactly.
import { afterEach, describe, expect, it } from 'vitest';
import { Player, type PlayerEvents } from '../../src/playout/player';
import { GAPS, itUnless } from './engine-support';

const Q = 128;
const players: Player[] = [];
afterEach(() => {
  for (const p of players.splice(0)) p.destroy();
});

const konst = (n: number, v: number) => new Float32Array(n).fill(v);

async function setup(rate: number, seconds: number, options: Parameters<typeof Player.create>[1] = {}) {
  const ctx = new OfflineAudioContext(1, Math.round(rate * seconds), rate);
  const player = await Player.create(ctx, { fadeMs: 1, jitter: { policy: 'on-arrival' }, ...options });
  players.push(player);
  const events: Array<{ type: string; payload: unknown }> = [];
  for (const type of ['audio-start', 'underrun', 'resume', 'ended'] as const) {
    player.on(type, (payload: PlayerEvents[typeof type]) => events.push({ type, payload }));
  }
  /** Runs `fn` with the rendering suspended at quantum `q` (then resumes). */
  const at = (q: number, fn: () => Promise<unknown>) =>
    ctx.suspend((q * Q) / rate).then(async () => {
      await fn();
      await ctx.resume();
    });
  const render = async () => {
    const buf = await ctx.startRendering();
    // Events posted during the last quanta arrive as messages after rendering: let them land.
    await new Promise((r) => setTimeout(r, 50));
    return buf.getChannelData(0);
  };
  return { ctx, player, events, at, render };
}

const maxStep = (x: Float32Array, from = 0, to = x.length) => {
  let m = from === 0 ? Math.abs(x[0]!) : 0; // from silence when starting at 0
  for (let i = from + 1; i < to; i++) m = Math.max(m, Math.abs(x[i]! - x[i - 1]!));
  return m;
};

describe('Player on an OfflineAudioContext (sample-exact)', () => {
  for (const rate of [44100, 48000]) {
    it(`plays same-rate frames exactly, in order, with 1 ms fades, at ${rate} Hz`, async () => {
      const { player, events, render } = await setup(rate, 0.1);
      const id = player.startReply();
      const n = Math.round(rate / 100); // 10 ms frames
      expect(await player.enqueueAcked(id, { channels: [konst(n, 0.1)], sampleRate: rate, order: 1 })).toBe('queued');
      expect(await player.enqueueAcked(id, { channels: [konst(n, 0.14)], sampleRate: rate, order: 3 })).toBe('held');
      expect(await player.enqueueAcked(id, { channels: [konst(n, 0.12)], sampleRate: rate, order: 2 })).toBe('queued');
      expect(await player.enqueueAcked(id, { channels: [konst(n, 0.9)], sampleRate: rate, order: 2 })).toBe('duplicate');
      await player.endReplyAcked(id);
      const ended = player.whenEnded(id);
      const x = await render();
      const fade = Math.round(rate / 1000);
      // Fade-in: gain k/fade on sample k-1.
      for (let k = 1; k <= fade; k++) expect(x[k - 1]).toBeCloseTo((0.1 * k) / fade, 6);
      for (let i = fade; i < n; i++) expect(x[i]).toBe(Math.fround(0.1));
      for (let i = n; i < 2 * n; i++) expect(x[i]).toBe(Math.fround(0.12));
      for (let i = 2 * n; i < 3 * n - fade; i++) expect(x[i]).toBe(Math.fround(0.14));
      expect(x[3 * n - 1]).toBe(0); // end fade reaches 0 on the last sample
      for (let i = 3 * n; i < x.length; i++) expect(x[i]).toBe(0);
      // Steps: the content's own 0.02 at the seams; the fades' 0.14/44 or less.
      expect(maxStep(x)).toBeLessThan(0.021);
      expect(await ended).toEqual({ position: { order: 3, sampleOffset: n, playedMs: 30 }, underruns: 0, playedMs: 30, interrupted: false, minRate: 1, maxRate: 1 });
      expect(events.map((e) => e.type)).toEqual(['audio-start', 'ended']);
    });
  }

  itUnless(GAPS.offlineSuspend, 'counts exactly one underrun, fades both edges and resumes (44100 Hz)', async () => {
    const rate = 44100;
    const { player, events, at, render } = await setup(rate, 0.2);
    const id = player.startReply();
    const n = 441; // 10 ms
    await player.enqueueAcked(id, { channels: [konst(n, 0.9)], sampleRate: rate, order: 1 });
    // Quantum 20 starts at 2560 samples (58 ms): well after the first frame ran dry at 441.
    const later = at(20, async () => {
      await player.enqueueAcked(id, { channels: [konst(n, 0.9)], sampleRate: rate, order: 2 });
      await player.endReplyAcked(id);
    });
    const ended = player.whenEnded(id);
    const x = await render();
    await later;
    for (let i = n; i < 20 * Q; i++) expect(x[i]).toBe(0);
    expect(x[20 * Q + 100]).toBe(Math.fround(0.9));
    expect(maxStep(x)).toBeLessThan(0.1);
    expect(events.map((e) => e.type)).toEqual(['audio-start', 'underrun', 'resume', 'ended']);
    // Event times on the context clock, exact to the sample.
    expect(events.map((e) => (e.payload as { timeMs: number }).timeMs)).toEqual([0, (n * 1000) / rate, (20 * Q * 1000) / rate, ((20 * Q + n) * 1000) / rate]);
    const e = await ended;
    expect(e.underruns).toBe(1);
    expect(e.position).toEqual({ order: 2, sampleOffset: n, playedMs: 20 });
    const stats = await player.fetchStats();
    expect(stats.underruns).toBe(1);
    expect(stats.underrunMs).toBeCloseTo(((20 * Q - n) * 1000) / rate, 6);
  });

  it('resamples 24 kHz frames to 48 kHz: a constant stays constant across frame seams', async () => {
    const rate = 48000;
    const { player, render } = await setup(rate, 0.2);
    const id = player.startReply();
    for (let k = 1; k <= 5; k++) await player.enqueueAcked(id, { channels: [konst(480, 0.5)], sampleRate: 24000, order: k });
    await player.endReplyAcked(id);
    const ended = player.whenEnded(id);
    const x = await render();
    // 5 x 20 ms = 100 ms = 4800 output samples; inside, away from the fades and the filter's edges.
    for (let i = 200; i < 4600; i++) expect(Math.abs(x[i]! - 0.5)).toBeLessThan(1e-3);
    for (let i = 4800; i < x.length; i++) expect(x[i]).toBe(0);
    expect(maxStep(x)).toBeLessThan(0.1);
    expect((await ended).position).toEqual({ order: 5, sampleOffset: 480, playedMs: 100 });
  });

  itUnless(GAPS.offlineSuspend, 'interrupt() fades out within 10 ms and reports the exact position heard (24 kHz frames at 44.1 kHz)', async () => {
    const rate = 44100;
    const { player, at, render } = await setup(rate, 0.3);
    const id = player.startReply();
    for (let k = 1; k <= 10; k++) await player.enqueueAcked(id, { channels: [konst(480, 0.7)], sampleRate: 24000, order: k });
    let position: Awaited<ReturnType<Player['interrupt']>> | undefined;
    const cut = at(40, async () => {
      position = await player.interrupt();
    });
    const ended = player.whenEnded(id);
    const x = await render();
    await cut;
    // Output samples heard: everything up to the last non-zero one.
    let last = x.length - 1;
    while (last > 0 && x[last] === 0) last--;
    const heard = last + 2; // the fade's final sample is exactly 0
    expect(heard - 40 * Q).toBeLessThanOrEqual(Math.round(rate * 0.01));
    expect(maxStep(x, 40 * Q - 10)).toBeLessThan(0.1);
    const inputHeard = Math.round((heard * 24000) / rate);
    expect(position).toEqual({ order: Math.floor(inputHeard / 480) + 1, sampleOffset: inputHeard % 480, playedMs: (heard * 1000) / rate });
    const e = await ended;
    expect(e.interrupted).toBe(true);
    expect(e.position).toEqual(position);
    // Frames of the interrupted reply that come late are dropped.
    expect(await player.enqueueAcked(id, { channels: [konst(480, 0.7)], sampleRate: 24000, order: 11 })).toBe('closed');
  });
});

describe('Player API on an OfflineAudioContext', () => {
  it('the volume option scales the output exactly; a stereo output gets mono on both channels', async () => {
    const rate = 48000;
    const ctx = new OfflineAudioContext(2, rate * 0.1, rate);
    const player = await Player.create(ctx, { fadeMs: 1, jitter: { policy: 'on-arrival' }, channels: 2, volume: 0.5 });
    players.push(player);
    expect(player.volume).toBe(0.5);
    const id = player.startReply();
    await player.enqueueAcked(id, { channels: [konst(2400, 0.8)], sampleRate: rate, order: 1 });
    await player.endReplyAcked(id);
    const buf = await ctx.startRendering();
    const l = buf.getChannelData(0);
    const r = buf.getChannelData(1);
    expect(l[1000]).toBe(Math.fround(0.4));
    expect(r[1000]).toBe(Math.fround(0.4));
  });

  it('refuses bad arguments and use after destroy with TalStreamErrors; destroy is idempotent', async () => {
    const ctx = new OfflineAudioContext(1, 4800, 48000);
    const player = await Player.create(ctx);
    await expect(player.enqueueAcked(1, { channels: [], sampleRate: 48000, order: 1 })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(player.enqueueAcked(1, { channels: [konst(10, 0)], sampleRate: 5, order: 1 })).rejects.toMatchObject({ code: 'bad-argument' });
    expect(() => (player.volume = -1)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    const id = player.startReply();
    const ended = player.whenEnded(id);
    player.destroy();
    player.destroy();
    await expect(ended).rejects.toMatchObject({ code: 'destroyed' });
    expect(() => player.startReply()).toThrow(expect.objectContaining({ code: 'destroyed' }));
    await expect(player.whenEnded(id)).rejects.toMatchObject({ code: 'destroyed' });
    expect(() => player.tap()).toThrow(expect.objectContaining({ code: 'destroyed' }));
  });

  it('tap() on an OfflineAudioContext says it needs a real-time context', async () => {
    const ctx = new OfflineAudioContext(1, 4800, 48000);
    const player = await Player.create(ctx);
    players.push(player);
    expect(() => player.tap()).toThrow(expect.objectContaining({ code: 'unsupported' }));
  });
});

describe('Player.onPcm', () => {
  it('delivers every output sample in blocks with the context time of each block', async () => {
    const rate = 48000;
    const { player, render } = await setup(rate, 0.1);
    const blocks: Array<{ samples: Float32Array; timeMs: number }> = [];
    const off = player.onPcm((samples, timeMs) => blocks.push({ samples: samples.slice(), timeMs }), 1024);
    const id = player.startReply();
    await player.enqueueAcked(id, { channels: [konst(2400, 0.6)], sampleRate: rate, order: 1 });
    await player.endReplyAcked(id);
    const x = await render();
    off();
    // 4800 samples rendered: 4 full blocks of 1024 (the rest is in the unfinished 5th).
    expect(blocks.length).toBe(4);
    blocks.forEach((b, k) => {
      expect(b.timeMs).toBe((k * 1024 * 1000) / rate);
      expect(Array.from(b.samples)).toEqual(Array.from(x.subarray(k * 1024, (k + 1) * 1024)));
    });
    expect(blocks[1]!.samples[0]).toBe(Math.fround(0.6));
  });
});
