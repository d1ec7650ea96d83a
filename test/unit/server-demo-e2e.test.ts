// @vitest-environment node
// The demo page (demo/, script-tag build) driven like a person in real Chromium: Playwright from
// Node, real mouse and keyboard input, the fake microphone (a 440 Hz WAV, processing off), the
// reference server on loopback, and a tap on the page's output node to hear what played.
// Needs dist/ (npm test builds first).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../support/chromium.mjs';
import { installDemoTap } from '../support/demo-tap';
import { audibleSpan } from '../support/audible-span';
import { startReferenceServer, type ReferenceServer } from '../../src/server/reference-server';
import { analyseTone } from '../../src/server/tone-analysis';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let server: ReferenceServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/talstream.iife.js'))) throw new Error('dist/talstream.iife.js is missing: run `npm run build` first');
  server = await startReferenceServer({ port: 0 });
  browser = await chromium.launch(chromiumLaunchOptions());
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
beforeEach(async () => {
  pageErrors.length = 0;
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});
afterEach(async () => {
  await page.close();
  expect(pageErrors).toEqual([]);
});

/** The tapped output so far, and its sample rate. */
async function tapped(): Promise<{ samples: Float32Array; rate: number }> {
  await page.waitForTimeout(100);
  const { data, rate } = await page.evaluate(() => {
    const t = (window as any).__tap as { blocks: Float32Array[]; rate: number };
    const all: number[] = [];
    for (const b of t.blocks) for (let i = 0; i < b.length; i++) all.push(Math.round(b[i]! * 32767));
    t.blocks.length = 0;
    return { data: all, rate: t.rate };
  });
  return { samples: Float32Array.from(data, (v) => v / 32767), rate };
}

const text = (sel: string) => page.locator(sel).textContent().then((t) => t ?? '');
const waitForStatus = (re: RegExp) =>
  page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''), re.source, { timeout: 20_000 });

describe('demo page, driven like a person', () => {
  it('hold the talk button with the mouse: the caption says what was heard, the answer plays to the end, stats show first audio', async () => {
    await page.goto(`${server.origin}/?processing=off&pace=burst`);
    expect(page.url()).toBe(`${server.origin}/demo/?processing=off&pace=burst`);
    const box = (await page.locator('#talk').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await installDemoTap(page);
    // The first press also opens the microphone; the recording starts when the button says so.
    await page.waitForFunction(() => document.getElementById('talk')!.getAttribute('aria-pressed') === 'true');
    const held0 = Date.now();
    expect(await text('#talk-label')).toBe('Release to send');
    await page.waitForTimeout(1500 - (Date.now() - held0));
    await page.mouse.up();
    const heldMs = Date.now() - held0;
    await waitForStatus(/^Done: /);

    const question = await text('#question');
    const m = /^heard (\d+\.\d) s of 16 kHz audio, (\d+) Hz peak$/.exec(question);
    expect(m, question).not.toBeNull();
    expect(Math.abs(Number(m![2]) - 440)).toBeLessThanOrEqual(2);
    const heardMs = Number(m![1]) * 1000;
    expect(Math.abs(heardMs - heldMs)).toBeLessThan(400);
    expect(await text('#answer')).toBe(`Here is what you said: ${m![1]} seconds of sound, played back to you at 24 kilohertz.`);
    expect(await text('#stat-first-audio')).toMatch(/^\d+ ms$/);
    expect(await text('#stat-first-byte')).toMatch(/^\d+ ms$/);
    expect(await text('#stat-underruns')).toBe('0');
    // 20 ms frames of the echo plus the closing one (the caption rounds the duration to 0.1 s).
    expect(Math.abs(Number(await text('#stat-frames')) - heardMs / 20)).toBeLessThanOrEqual(4);
    expect(await page.locator('#talk').getAttribute('aria-pressed')).toBe('false');
    expect(await page.locator('#interrupt').isDisabled()).toBe(true);

    const { samples, rate } = await tapped();
    const span = audibleSpan(samples);
    expect(span.start).toBeGreaterThanOrEqual(0);
    // The whole echo played (to 0.05 s, the caption's rounding), at the mic's pitch.
    expect(Math.abs(((span.end - span.start + 1) / rate) * 1000 - heardMs)).toBeLessThan(60);
    const body = samples.subarray(span.start + Math.round(rate * 0.05), span.end - Math.round(rate * 0.05));
    expect(Math.abs(analyseTone(body, rate).peakHz! - 440)).toBeLessThan(2);
  });

  it('keyboard: Space held on the focused button, then toggle mode with Enter', async () => {
    await page.goto(`${server.origin}/demo/?processing=off&pace=burst`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('talk');
    await page.keyboard.down(' ');
    await page.waitForFunction(() => document.getElementById('talk')!.getAttribute('aria-pressed') === 'true');
    const t0 = Date.now();
    await page.waitForTimeout(1000);
    await page.keyboard.up(' ');
    const held = Date.now() - t0;
    await waitForStatus(/^Done: /);
    const first = /^heard (\d+\.\d) s of 16 kHz audio, 44\d Hz peak$/.exec(await text('#question'));
    expect(first).not.toBeNull();
    expect(Math.abs(Number(first![1]) * 1000 - held)).toBeLessThan(400);

    await page.locator('label', { hasText: 'Toggle' }).click();
    expect(await text('#talk-label')).toBe('Click to talk');
    await page.locator('#talk').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('talk')!.getAttribute('aria-pressed') === 'true');
    const t1 = Date.now();
    expect(await text('#talk-label')).toBe('Click to send');
    await page.waitForTimeout(2000 - (Date.now() - t1));
    await page.keyboard.press('Enter');
    const held2 = Date.now() - t1;
    await waitForStatus(/^Done: /);
    const second = /^heard (\d+\.\d) s of 16 kHz audio, 44\d Hz peak$/.exec(await text('#question'));
    expect(second).not.toBeNull();
    expect(Math.abs(Number(second![1]) * 1000 - held2)).toBeLessThan(400);
  });

  it('a WAV file and a typed question; server text stays text, an action URL is shown, not followed', async () => {
    await page.goto(`${server.origin}/demo/?pace=burst&url=${encodeURIComponent('javascript:window.__followed=1')}`);
    await page.setInputFiles('#wav', path.join(root, 'test/fixtures/fake-mic-440hz.wav'));
    await waitForStatus(/^Done: /);
    expect(await text('#question')).toBe('heard 3.0 s of 16 kHz audio, 440 Hz peak');
    expect(await page.locator('#url-row').isVisible()).toBe(true);
    expect(await text('#url')).toBe('javascript:window.__followed=1');
    expect(await page.locator('#url a').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__followed)).toBeUndefined();
    expect(page.url()).toBe(`${server.origin}/demo/?pace=burst&url=${encodeURIComponent('javascript:window.__followed=1')}`);

    await page.locator('#typed').fill('is <b>this</b> bold? <img src=x onerror="window.__pwned=1">');
    await page.locator('#text-form button').click();
    await waitForStatus(/^Done: /);
    expect(await text('#question')).toBe('is <b>this</b> bold? <img src=x onerror="window.__pwned=1">');
    expect(await page.locator('#question b, #question img, #answer b, #answer img').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
    expect(await text('#answer')).toBe(
      'You asked: is <b>this</b> bold? <img src=x onerror="window.__pwned=1">. This is the talstream reference server; here is a 440 hertz tone.',
    );
  });

  it('realtime pacing shows the buffer filling, and the interrupt button cuts the answer', async () => {
    await page.goto(`${server.origin}/demo/?processing=off&pace=realtime&jitter=wifi`);
    const talk = page.locator('#talk');
    await talk.hover();
    await page.mouse.down();
    await page.waitForTimeout(2500);
    await page.mouse.up();
    await waitForStatus(/^Answering/);
    await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('stat-buffer')!.textContent ?? ''));
    expect(await text('#stat-target')).toMatch(/^\d+ ms$/);
    await page.waitForTimeout(500);
    expect(await page.locator('#interrupt').isEnabled()).toBe(true);
    await page.locator('#interrupt').click();
    await waitForStatus(/^Interrupted after \d+\.\d s\.$/);
    const after = Number(/after (\d+\.\d) s/.exec(await text('#status'))![1]);
    expect(after).toBeGreaterThan(0.2);
    expect(after).toBeLessThan(2.4);
  });

  it('over HTTP/2 with TLS (talstream serve --tls-key/--tls-cert) the same talk works', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'talstream-demo-tls-'));
    let tls: ReferenceServer | undefined;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      tls = await startReferenceServer({ port: 0, tls: { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) } });
      await page.goto(`${tls.origin}/demo/?processing=off&pace=burst`);
      await page.locator('#talk').hover();
      await page.mouse.down();
      await page.waitForFunction(() => document.getElementById('talk')!.getAttribute('aria-pressed') === 'true');
      await page.waitForTimeout(1200);
      await page.mouse.up();
      await waitForStatus(/^Done: /);
      expect(await text('#question')).toMatch(/^heard \d\.\d s of 16 kHz audio, 44\d Hz peak$/);
      const protocols = await page.evaluate(() =>
        performance.getEntriesByType('resource').filter((e) => e.name.includes('/ask')).map((e) => (e as PerformanceResourceTiming).nextHopProtocol),
      );
      expect(protocols.length).toBeGreaterThan(0);
      expect(protocols.every((p) => p === 'h2')).toBe(true);
    } finally {
      await tls?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
