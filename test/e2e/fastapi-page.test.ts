// The browser client (script-tag build) against demo/fastapi/app.py under uvicorn, in each engine,
// both ways a page meets a Python server: the demo page served by FastAPI itself, and the demo
// page served by the reference server on another port asking FastAPI cross-origin (`?ask=`, CORS).
// Needs dist/ and Python with fastapi and uvicorn (test/support/fastapi-server.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrivenBrowser } from '../support/engines.mjs';
import { startFastapi, type FastapiServer } from '../support/fastapi-server';
import { startReferenceServer, type ReferenceServer } from '../../src/server/reference-server';
import { analyseTone } from '../../src/server/tone-analysis';
import { engine, installDemoTap, launch, root, text, waitForStatus } from './e2e-helpers';

const fakeMic = path.join(root, 'test/fixtures/fake-mic-440hz.wav');

let fastapi: FastapiServer;
let ref: ReferenceServer;
let browser: DrivenBrowser;
beforeAll(async () => {
  fastapi = await startFastapi();
  ref = await startReferenceServer({ port: 0 });
  browser = await launch();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await ref?.close();
  await fastapi?.close();
});

describe(`the browser client in ${engine} against the FastAPI server`, () => {
  const pages = [
    { how: 'the demo page served by FastAPI', url: () => `${fastapi.origin}/demo/` },
    { how: 'the demo page on another origin, asking FastAPI cross-origin', url: () => `${ref.origin}/demo/?ask=${encodeURIComponent(`${fastapi.origin}/ask`)}` },
  ];
  for (const { how, url } of pages) {
    it(`${how} asks with a WAV file: captions arrive and the whole echo plays`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(url());
        await page.fill('#typed', '');
        // A person clicks on the page before choosing the file: that gesture starts the page's audio
    // (a file's 'change' event is none, and WebKit starts audio only in one).
    await page.click('h1');
    await page.setInputFile('#wav', fakeMic);
        // The file's change event built the page's client; then tap its output node.
        await installDemoTap(page);
        await waitForStatus(page, /^Done: /);
        expect(await text(page, '#question')).toBe('heard 3.0 s of 16 kHz audio, about 440 Hz');
        expect(await text(page, '#answer')).toBe('You said 3.0 seconds of sound. Here it is back.');
        expect(await text(page, '#stat-first-audio')).toMatch(/^\d+ ms$/);
        // The reply had no sign-3 frame (seed style): the end of the body ended it, after 3 s of audio.
        const { played, rate, body } = await page.evaluate(() => {
          const t = (window as any).__tap as { blocks: Float32Array[]; rate: number };
          const n = t.blocks.reduce((a, b) => a + b.length, 0);
          const all = new Float32Array(n);
          t.blocks.reduce((at, b) => (all.set(b, at), at + b.length), 0);
          // Sounding time: 10 ms windows with sound in them (an underrun's silence does not count).
          const win = Math.round(t.rate / 100);
          let sounding = 0;
          let first = -1;
          for (let w = 0; w + win <= n; w += win) {
            let peak = 0;
            for (let i = w; i < w + win; i++) peak = Math.max(peak, Math.abs(all[i]!));
            if (peak < 0.1) continue;
            sounding++;
            if (first < 0) first = w;
          }
          // One clean second from the middle, for the pitch.
          const mid = first + Math.round(t.rate * 0.5);
          return { played: sounding / 100, rate: t.rate, body: Array.from(all.subarray(mid, mid + t.rate)) };
        });
        const peakHz = analyseTone(Float32Array.from(body), rate).peakHz!;
        // The tap went in after the first gesture, so it may miss the reply's first few ms at most.
        // The default policy time-scales (0.9..1.1x, pitch kept): 3.0 s of echo sound for 3.0 / 1.1
        // to 3.0 / 0.9 s.
        expect(played).toBeGreaterThan(3.0 / 1.1 - 0.1);
        expect(played).toBeLessThanOrEqual(3.0 / 0.9 + 0.05); // partial windows at the edges and around a gap
        expect(Math.abs(peakHz - 440)).toBeLessThan(3);
      } finally {
        await page.close();
      }
      expect(page.errors).toEqual([]);
    });
  }
});
