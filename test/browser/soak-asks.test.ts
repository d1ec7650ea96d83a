// Soak: 200 consecutive asks in one client, in real Chromium. Each ask records a short take from
// the (fake) microphone, uploads it and plays a short reply from the fault server through the real
// Player. Counted from outside the SDK: AudioContexts and AudioWorkletNodes constructed (the
// constructors are wrapped), MediaStreamTracks opened and live (getUserMedia wrapped), event
// listeners on the long-lived targets (addEventListener wrapped), and the listener counts of the
// client's own emitters. None may grow after the first ask; the JS heap after a forced GC must
// stay within 10% of its level after the first 10 asks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TalStreamClient } from '../../src/client';
import type { Microphone } from '../../src/capture/microphone';
import { Player } from '../../src/playout/player';
import { faultOrigin, within } from './reliability-helpers';
import { GAPS, engine } from './engine-support';
import { instrument } from './soak-probe';

/** Exact heap figures need a forced GC and performance.memory (Chromium): see GAPS.exactHeap. */
const exactHeap = !GAPS.exactHeap.engines.includes(engine);

const ASKS = 200;

const gc = () => (globalThis as { gc?: () => void }).gc!();
const heap = () => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
async function settledHeap(): Promise<number> {
  // Two rounds: finalizers and promise jobs freed by the first GC are collected by the second.
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  gc();
  return heap();
}

interface Snapshot {
  contexts: number;
  workletNodes: number;
  tracksOpened: number;
  liveTracks: number;
  pageListeners: number;
  clientListeners: number;
  playerListeners: number;
  micListeners: number;
  players: number;
}

let probe: ReturnType<typeof instrument>;
let client: TalStreamClient;
let mic: Microphone;
const players: Player[] = [];
beforeAll(() => {
  probe = instrument();
});
afterAll(async () => {
  await client?.destroy();
  probe.restore();
});

describe('soak: 200 asks in one client', () => {
  const heapTitle = exactHeap ? '; heap within 10% of the level after 10 asks' : ` [heap not measured in ${engine}: ${GAPS.exactHeap.why}]`;
  it(`no growth in contexts, worklet nodes, tracks, listeners${heapTitle}`, { timeout: 180_000 }, async () => {
    expect(await GAPS.exactHeap.present()).toBe(!exactHeap);
    client = createClient({
      url: `${faultOrigin()}/reply?id=soak&frames=3`,
      upload: 'buffered',
      // The factory is talstream's own Player, kept so that its listeners can be counted.
      player: async (ctx) => {
        const p = await Player.create(ctx);
        players.push(p);
        return p;
      },
    });
    // What an app does: stats and state listeners for the session.
    client.on('stats', () => {});
    client.on('audio-state', () => {});
    await client.unlock();
    mic = await client.microphone({ echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    mic.on('level', () => {});
    const snap = (): Snapshot => ({
      contexts: probe.counts.contexts - probe.counts.contextsClosed,
      workletNodes: probe.counts.workletNodes,
      tracksOpened: probe.counts.tracks,
      liveTracks: probe.liveTracks(),
      pageListeners: probe.listeners(),
      clientListeners: client.listenerCount(),
      playerListeners: players.reduce((n, p) => n + p.listenerCount(), 0),
      micListeners: mic.listenerCount(),
      players: players.length,
    });
    let heapAt10 = 0;
    let after1: Snapshot | null = null;
    const failures: string[] = [];
    for (let i = 1; i <= ASKS; i++) {
      const take = mic.record();
      setTimeout(() => void take.stop(), 20);
      const reply = client.ask(take, { question: `ask ${i}` });
      // An app's per-reply listeners and loop; they go away with the reply.
      reply.on('text', () => {});
      const iterate = (async () => {
        for await (const _ of reply) void _;
      })();
      const summary = await within(reply.done, 10_000, `ask ${i}`).catch((e) => (failures.push(`ask ${i}: ${e?.code ?? ''} ${e?.message}`), null));
      await iterate;
      if (summary && summary.frames !== 3) failures.push(`ask ${i}: ${summary.frames} frames`);
      if (i === 1) after1 = snap();
      if (i === 10 && exactHeap) heapAt10 = await settledHeap();
    }
    const heapAt200 = exactHeap ? await settledHeap() : 0;
    const end = snap();
    expect(failures).toEqual([]);
    // The first ask built everything (one context, the player's and the mic's worklet nodes, one
    // track); 199 more asks added nothing.
    expect(end).toEqual(after1);
    expect(end).toMatchObject({ contexts: 1, players: 1, tracksOpened: 1, liveTracks: 1 });
    if (!exactHeap) return;
    const growth = (heapAt200 - heapAt10) / heapAt10;
    expect(growth, `heap after 10 asks ${(heapAt10 / 2 ** 20).toFixed(2)} MiB, after ${ASKS}: ${(heapAt200 / 2 ** 20).toFixed(2)} MiB`).toBeLessThan(0.1);
    // For the reliability bench's note.
    console.log(`soak: ${ASKS} asks, heap ${(heapAt10 / 2 ** 20).toFixed(2)} -> ${(heapAt200 / 2 ** 20).toFixed(2)} MiB (${(growth * 100).toFixed(1)}%), ${JSON.stringify(end)}`);
  });
});
