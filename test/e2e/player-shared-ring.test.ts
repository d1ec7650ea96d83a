// The Player's SharedArrayBuffer path in each engine. Only a cross-origin isolated top-level page
// can hand a SharedArrayBuffer to a worklet (an iframe in vitest's browser page cannot be isolated),
// so the driver opens test/fixtures/coi-page.html served with COOP/COEP and runs the script-tag
// build there. On an OfflineAudioContext nothing renders until startRendering, so which frames went by the
// ring and which by messages (a full ring) is decided before any audio exists, and the output can be
// compared sample for sample with the messages-only path. Needs dist/ (npm test builds first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrivenBrowser, DrivenPage } from '../support/engines.mjs';
import { startStaticServer } from '../support/static-server';
import { engine, launch } from './e2e-helpers';

let server: { origin: string; close(): Promise<void> };
let browser: DrivenBrowser;
let page: DrivenPage;

beforeAll(async () => {
  server = await startStaticServer();
  browser = await launch();
  page = await browser.newPage();
  await page.goto(`${server.origin}/test/fixtures/coi-page.html?coi=1`);
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Run {
  transport: string;
  posted: string[];
  /** The order of each frame posted as a message. */
  orders: number[];
  acks: number;
  refused: number;
  errors: string[];
  /** Per frame: [first sample after the fade-in region, sample in the middle, last sample before the fade-out]. */
  levels: number[][];
  output: number[];
  end: { position: { order: number; sampleOffset: number; playedMs: number }; underruns: number; interrupted: boolean };
}

/** Plays `frames` frames of 480 samples (frame k holds the constant k/1024) through a Player on a 24 kHz offline context. */
function play(p: DrivenPage, frames: number, sharedMemory: boolean | undefined): Promise<Run> {
  return p.evaluate(
    async ({ frames, sharedMemory }) => {
      const T = (window as unknown as { TalStream: typeof import('../../src/browser') }).TalStream;
      const n = 480;
      const ctx = new OfflineAudioContext(1, frames * n + 2400, 24000);
      const player = await T.Player.create(ctx, { sharedMemory, jitter: { policy: 'on-arrival' } });
      const posted: string[] = [];
      const port = player.node.port;
      const post = port.postMessage.bind(port);
      const orders: number[] = [];
      port.postMessage = ((m: { type: string; order?: number }, t?: Transferable[]) => {
        posted.push(m.type);
        if (m.type === 'frame') orders.push(m.order!);
        return post(m, t as Transferable[]);
      }) as typeof port.postMessage;
      let acks = 0;
      let refused = 0;
      const onmessage = port.onmessage!;
      port.onmessage = (e: MessageEvent) => {
        if (e.data.type === 'ack') acks++;
        if (e.data.type === 'refused') refused++;
        onmessage.call(port, e);
      };
      const errors: string[] = [];
      player.on('error', (e) => errors.push(e.message));
      const id = player.startReply();
      for (let k = 1; k <= frames; k++) player.enqueue(id, { channels: [new Float32Array(n).fill(k / 1024)], sampleRate: 24000, order: k });
      player.endReply(id);
      const ended = player.whenEnded(id);
      await player.fetchStats(); // one acked command: everything before it has been applied
      const out = (await ctx.startRendering()).getChannelData(0);
      const end = await ended;
      const levels: number[][] = [];
      for (let k = 0; k < frames; k++) levels.push([out[k * n + 200]!, out[k * n + 240]!, out[k * n + 279]!]);
      return { transport: player.transport, posted, orders, acks, refused, errors, levels, output: Array.from(out), end };
    },
    { frames, sharedMemory },
  );
}

const expected = (frames: number) => Array.from({ length: frames }, (_, k) => [(k + 1) / 1024, (k + 1) / 1024, (k + 1) / 1024]);

// Engine note 4: WebKitGTK 2.50 says a page served with COOP/COEP is cross-origin isolated but has
// no SharedArrayBuffer to hand to a worklet: the Player (which needs both) uses messages there,
// which the first test below checks in place of the ring tests.
const isolates = engine !== 'webkit';
const itIsolated = (title: string, fn: () => Promise<void>) => {
  if (isolates) it(title, fn);
};

describe(`Player over a SharedArrayBuffer ring in ${engine} (cross-origin isolated page)`, () => {
  if (!isolates) {
    it(`[${engine}: isolated, but no SharedArrayBuffer] the Player uses messages there, quietly, and plays every frame`, async () => {
      expect(await page.evaluate(() => [crossOriginIsolated, typeof SharedArrayBuffer])).toEqual([true, 'undefined']);
      const r = await play(page, 5, undefined);
      expect(r.transport).toBe('messages');
      expect(r.posted).toEqual(['begin', 'frame', 'frame', 'frame', 'frame', 'frame', 'end', 'stats']);
      expect(r.errors).toEqual([]);
      expect(r.levels).toEqual(expected(5));
      expect(r.end).toMatchObject({ position: { order: 5, sampleOffset: 480, playedMs: 100 }, underruns: 0, interrupted: false });
    });
  }

  itIsolated('the page is isolated; by default frames go through the ring: no message per frame either way', async () => {
    expect(await page.evaluate(() => crossOriginIsolated && typeof SharedArrayBuffer === 'function')).toBe(true);
    const r = await play(page, 5, undefined);
    expect(r.transport).toBe('shared-memory');
    // begin, 5 frames and end went through the ring: the only message is the acked stats request.
    expect(r.posted).toEqual(['stats']);
    expect(r.acks).toBe(1);
    expect(r.refused).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.levels).toEqual(expected(5));
    expect(r.end).toMatchObject({ position: { order: 5, sampleOffset: 480, playedMs: 100 }, underruns: 0, interrupted: false });
  });

  itIsolated('the same reply by messages (sharedMemory: false) is quiet too, and plays the very same samples', async () => {
    const ring = await play(page, 5, undefined);
    const msgs = await play(page, 5, false);
    expect(msgs.transport).toBe('messages');
    expect(msgs.posted).toEqual(['begin', 'frame', 'frame', 'frame', 'frame', 'frame', 'end', 'stats']);
    expect(msgs.acks).toBe(1); // the stats request; the streaming commands are not acknowledged
    expect(msgs.output).toEqual(ring.output);
  });

  itIsolated('a reply larger than the ring (600 frames, 12 s, nothing drained before rendering): the rest goes by message, order kept', async () => {
    const r = await play(page, 600, true);
    expect(r.transport).toBe('shared-memory');
    // 2^18 words hold 537 records of 488 words: frames 1-537 fill the ring (nothing drains it
    // before the first message), so frame 538 is the first to go by message. The processor drains
    // the ring before each message it handles while the loop goes on, so some later frames find
    // room again (how many depends on the audio thread's timing): at most 63 go by message, in
    // order. Either way every frame is played, in order.
    expect(r.orders[0]).toBe(538);
    expect(r.orders.length).toBeLessThanOrEqual(600 - 537);
    expect(r.orders).toEqual([...r.orders].sort((a, b) => a - b));
    expect(r.orders.every((o) => o >= 538 && o <= 600)).toBe(true);
    expect(r.posted.filter((t) => t !== 'frame').at(-1)).toBe('stats');
    expect(r.errors).toEqual([]);
    expect(r.levels).toEqual(expected(600));
    expect(r.end).toMatchObject({ position: { order: 600, sampleOffset: 480, playedMs: 12000 }, underruns: 0 });
  });

  it('sharedMemory: true where it cannot work is an `unsupported` error, not a silent fallback', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${server.origin}/test/fixtures/coi-page.html`); // not isolated
      const r = await other.evaluate(async () => {
        const T = (window as unknown as { TalStream: typeof import('../../src/browser') }).TalStream;
        const ctx = new OfflineAudioContext(1, 128, 24000);
        const code = await T.Player.create(ctx, { sharedMemory: true }).then(
          () => 'created',
          (e: { code?: string }) => e.code,
        );
        const p = await T.Player.create(ctx);
        return { code, isolated: crossOriginIsolated, transport: p.transport };
      });
      expect(r).toEqual({ code: 'unsupported', isolated: false, transport: 'messages' });
    } finally {
      await other.close();
    }
  });
});
