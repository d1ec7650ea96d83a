// Shared by the reliability browser tests: a real client on a real AudioContext whose output goes
// through a recording tap, the fault server's records, and waits that fail instead of hanging.
import { inject } from 'vitest';
import { audioSleep } from './capture-helpers';
import { createClient, type ClientOptions, type TalStreamClient } from '../../src/client';
import type { Reply } from '../../src/reply';
import type { ReplyEvent } from '../../src/types';
import type { RequestRecord } from '../support/fault-server';

/** What reached the output: every render quantum after the player, with the context time it started at. */
export interface Tap {
  node: AudioWorkletNode;
  blocks: { t: number; data: Float32Array }[];
  /** All recorded samples, in order (of the blocks that started at or after context time `from`, before `to`). */
  samples(from?: number, to?: number): Float32Array;
  /** Resolves once the blocks rendered up to the context's current time have arrived. */
  caughtUp(): Promise<void>;
}

/** A worklet node after the player that copies each quantum back (an AnalyserNode would miss samples). */
export async function tapRecorder(ctx: AudioContext): Promise<Tap> {
  const src = `registerProcessor('reliability-tap', class extends AudioWorkletProcessor {
    process(inputs, outputs) {
      const ch = inputs[0] && inputs[0][0];
      const out = new Float32Array(128);
      if (ch) { out.set(ch); outputs[0][0].set(ch); }
      this.port.postMessage({ t: currentTime, data: out }, [out.buffer]);
      return true;
    }
  });`;
  const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  const node = new AudioWorkletNode(ctx, 'reliability-tap', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
  node.connect(ctx.destination);
  const blocks: Tap['blocks'] = [];
  node.port.onmessage = (e) => blocks.push(e.data as Tap['blocks'][number]);
  return {
    node,
    blocks,
    samples(from = 0, to = Infinity) {
      const picked = blocks.filter((b) => b.t >= from && b.t < to);
      const out = new Float32Array(picked.length * 128);
      picked.forEach((b, i) => out.set(b.data, i * 128));
      return out;
    },
    async caughtUp() {
      const t = ctx.currentTime;
      await until(() => (blocks.at(-1)?.t ?? -1) >= t, 2000, 'the tap to catch up');
    },
  };
}

/**
 * Milliseconds of sound in `x` at `rate`: the samples above `floor`. Unlike the span from the first
 * to the last, an underrun in the middle (WebKit's bursty audio clock under load, engine note 5)
 * adds nothing: it measures how much was heard, not when.
 */
export const soundMs = (x: Float32Array, rate: number, floor = 1e-3): number => (x.reduce((n, v) => n + (Math.abs(v) > floor ? 1 : 0), 0) * 1000) / rate;

/** Index of the first and last sample above `floor`, and the largest step between neighbours. */
export function soundSpan(x: Float32Array, floor = 1e-3): { first: number; last: number; maxStep: number } {
  let first = -1;
  let last = -1;
  let maxStep = 0;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]!) > floor) {
      if (first < 0) first = i;
      last = i;
    }
    if (i > 0) maxStep = Math.max(maxStep, Math.abs(x[i]! - x[i - 1]!));
  }
  return { first, last, maxStep };
}

/** Frame `k` (from 0) of one continuous 440 Hz sine of amplitude `amp`: `n` samples at `rate`. */
export function sineFrame(k: number, n: number, rate: number, amp: number): Float32Array {
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = amp * Math.sin((2 * Math.PI * 440 * (k * n + i)) / rate);
  return f;
}

/** Upward zero crossings (a sample < 0 followed by one >= 0): a pure tone's periods. */
export function upwardCrossings(x: Float32Array): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) n++;
  return n;
}

export const faultOrigin = (): string => inject('faultOrigin');

/** What the fault server saw for `id`. */
export async function records(id: string): Promise<RequestRecord[]> {
  const r = await fetch(`${faultOrigin()}/stats?id=${encodeURIComponent(id)}`);
  return ((await r.json()) as { requests: RequestRecord[] }).requests;
}

/** Polls `check` every 20 ms until it returns true; fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `promise`, or a rejection once the context's clock has run `audioMs` past now without it
 * settling (the SDK hung while the audio ran), or once `wallMs` of wall time pass (the clock
 * stood: engine note 5), the message saying which. For waits on audio being played: a loaded
 * WebKitGTK runs its audio clock in bursts, so a wall-clock bound fails a reply that is fine.
 */
export async function withinAudio<T>(promise: Promise<T>, ctx: BaseAudioContext, audioMs: number, what: string, wallMs = 30_000): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  const t0 = ctx.currentTime, w0 = performance.now();
  while (!done) {
    const ran = (ctx.currentTime - t0) * 1000;
    const waited = performance.now() - w0;
    if (ran > audioMs || waited > wallMs) throw new Error(`${what} still pending after ${Math.round(ran)} ms of the audio clock (${Math.round(waited)} ms of wall time, context ${ctx.state})`);
    await sleep(10);
  }
  return promise;
}

// Rejects when a promise does not settle within `ms` (no test waits for the 60 s timeout).
export { within } from '../support/within.mjs';

/** Records every event of a reply, by listeners (with a timestamp) and by an iterator. */
export function recordEvents(reply: Reply) {
  const events: (ReplyEvent & { at: number })[] = [];
  const types = ['frame', 'question', 'text', 'url', 'audio-start', 'underrun', 'resume', 'end', 'error'] as const;
  for (const t of types) reply.on(t, (e) => events.push({ ...(e as ReplyEvent), at: performance.now() }));
  const iterated: ReplyEvent[] = [];
  const iteration = (async () => {
    for await (const e of reply) iterated.push(e);
  })();
  const settled = reply.done.then(
    (summary) => ({ summary, error: null }),
    (error) => ({ summary: null, error }),
  );
  return { events, iterated, iteration, settled };
}

/** A client on its own AudioContext with a tap; `cleanup()` destroys both. */
export async function tappedClient(opts: Partial<ClientOptions> = {}) {
  const ctx = new AudioContext();
  const tap = await tapRecorder(ctx);
  const client: TalStreamClient = createClient({ url: `${faultOrigin()}/reply`, upload: 'buffered', audioContext: ctx, destination: tap.node, ...opts });
  await client.unlock();
  // unlock() resolves once the context is 'running', but on a loaded host Chromium's output starts
  // its clock up to about a second later (measured: a 3 s stall test's first reply began to play
  // only after 15 frames of 20 ms had come, so its stall was mostly covered by audio). Tests that
  // hold a reply's sound to the stall the server made need the clock running: wait for 100 ms of it.
  await audioSleep(ctx, 100);
  return {
    ctx,
    tap,
    client,
    async cleanup() {
      await client.destroy();
      await ctx.close();
    },
  };
}

/**
 * The adaptive policy's two modes, for tests that hold the sound heard to the audio sent: at rate 1
 * (`timeScale: false`) the sound is that audio, to the ms; time-scaled (the default) it is that
 * audio played at `slow`..`fast` (jitter.minRate/maxRate's defaults), so it lasts between its length
 * / fast and its length / slow (with the pitch kept: player-time-scale, player-realtime).
 */
export const PLAYOUT_MODES = [
  { name: 'at rate 1 (timeScale: false)', jitter: { timeScale: false }, slow: 1, fast: 1 },
  { name: 'time-scaled (the default)', jitter: {}, slow: 0.9, fast: 1.1 },
] as const;
