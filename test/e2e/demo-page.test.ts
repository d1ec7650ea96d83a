// The demo page (demo/, script-tag build) driven like a person, in each engine: real mouse and
// keyboard input through the driver, the engine's test microphone (processing off), the reference
// server on loopback, and a tap on the page's output node to hear what played. Needs dist/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DrivenBrowser, DrivenPage } from '../support/engines.mjs';
import { audibleSpan } from '../support/audible-span';
import { startReferenceServer, type ReferenceServer } from '../../src/server/reference-server';
import { analyseTone } from '../../src/server/tone-analysis';
import { isMicTone } from '../support/test-mics.mjs';
import { engine, installDemoTap, launch, root, tapped, testMic, text, waitForStatus } from './e2e-helpers';

/** The default policy's slowest and fastest rate (jitter.minRate, maxRate): a reply's sound lasts its audio / 1.1 .. / 0.9. */
const TS_SLOW = 0.9;
const TS_FAST = 1.1;

let server: ReferenceServer;
let browser: DrivenBrowser;
let page: DrivenPage;

beforeAll(async () => {
  server = await startReferenceServer({ port: 0 });
  browser = await launch();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
beforeEach(async () => {
  page = await browser.newPage();
});
afterEach(async () => {
  await page.close();
  expect(page.errors).toEqual([]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pressed = () => page.waitFor(() => document.getElementById('talk')!.getAttribute('aria-pressed') === 'true');
/**
 * Times, on the page's audio clock (the clock the take counts), how long the talk button showed
 * "recording": from aria-pressed turning true (right after record()) to turning false (the take's
 * end event, after the capture acknowledged the stop). That span is the take plus the start and
 * stop messages' trips to the audio thread; the driver's own latency does not count.
 */
const watchHold = (p: DrivenPage) =>
  p.evaluate(() => {
    const w = window as any;
    const talk = document.getElementById('talk')!;
    w.__hold = { from: 0, to: 0 };
    new MutationObserver(() => {
      const now = (w.talstreamDemo?.context as AudioContext | undefined)?.currentTime ?? NaN;
      const on = talk.getAttribute('aria-pressed') === 'true';
      if (on && !w.__hold.from) w.__hold.from = now;
      else if (!on && w.__hold.from && !w.__hold.to) w.__hold.to = now;
    }).observe(talk, { attributes: true, attributeFilter: ['aria-pressed'] });
  });
const heldInPage = async (p: DrivenPage): Promise<number> => {
  await p.waitFor(() => (window as any).__hold.to > 0);
  return p.evaluate(() => {
    const h = (window as any).__hold as { from: number; to: number };
    return (h.to - h.from) * 1000;
  });
};
/**
 * The take heard vs the hold on the audio clock: the caption rounds to 0.1 s (50 ms) and the
 * start and stop messages take a few quanta each way on a loaded machine (100 ms, as in
 * capture-microphone.test.ts).
 */
const HOLD_SLACK_MS = 150;

/** "heard 1.5 s of 16 kHz audio, 440 Hz peak": seconds and peak Hz. */
function heard(question: string): { ms: number; hz: number } {
  const m = /^heard (\d+\.\d) s of 16 kHz audio, (\d+) Hz peak$/.exec(question);
  expect(m, question).not.toBeNull();
  return { ms: Number(m![1]) * 1000, hz: Number(m![2]) };
}

describe(`demo page in ${engine}, driven like a person`, () => {
  it('hold the talk button with the mouse: the caption says what was heard, the answer plays to the end, stats show first audio', async () => {
    await page.goto(`${server.origin}/?processing=off&pace=burst`);
    expect(await page.url()).toBe(`${server.origin}/demo/?processing=off&pace=burst`);
    await watchHold(page);
    await page.press('#talk');
    await installDemoTap(page);
    // The first press also opens the microphone; the recording starts when the button says so,
    // which is once the microphone's audio flows (Microphone.create waits for it).
    await pressed();
    expect(await text(page, '#talk-label')).toBe('Release to send');
    await sleep(1500);
    await page.release();
    await waitForStatus(page, /^Done: /);
    const heldMs = await heldInPage(page);

    const h = heard(await text(page, '#question'));
    expect(isMicTone(testMic, h.hz, 2), `${h.hz} Hz`).toBe(true);
    expect(Math.abs(h.ms - heldMs)).toBeLessThan(HOLD_SLACK_MS);
    const secs = (h.ms / 1000).toFixed(1);
    expect(await text(page, '#answer')).toBe(`Here is what you said: ${secs} seconds of sound, played back to you at 24 kilohertz.`);
    expect(await text(page, '#stat-first-audio')).toMatch(/^\d+ ms$/);
    expect(await text(page, '#stat-first-byte')).toMatch(/^\d+ ms$/);
    expect(await text(page, '#stat-underruns')).toBe('0');
    // 20 ms frames of the echo plus the closing one (the caption rounds the duration to 0.1 s).
    expect(Math.abs(Number(await text(page, '#stat-frames')) - h.ms / 20)).toBeLessThanOrEqual(9); // the peak finder's bin on a short take (44x Hz)
    expect(await page.evaluate(() => document.getElementById('talk')!.getAttribute('aria-pressed'))).toBe('false');
    expect(await page.evaluate(() => (document.getElementById('interrupt') as HTMLButtonElement).disabled)).toBe(true);

    const { samples, rate } = await tapped(page);
    const span = audibleSpan(samples);
    expect(span.start).toBeGreaterThanOrEqual(0);
    // The whole echo played (to 0.05 s, the caption's rounding), at the mic's pitch. The demo plays
    // with the default policy, which time-scales (0.9..1.1x, pitch kept): the sound lasts the
    // echo's length / 1.1 to / 0.9.
    const spanMs = ((span.end - span.start + 1) / rate) * 1000;
    expect(spanMs).toBeGreaterThan(h.ms / TS_FAST - 60);
    expect(spanMs).toBeLessThan(h.ms / TS_SLOW + 60);
    const body = samples.subarray(span.start + Math.round(rate * 0.05), span.end - Math.round(rate * 0.05));
    const played = analyseTone(body, rate).peakHz!;
    expect(isMicTone(testMic, played, 2), `${played} Hz`).toBe(true);
  });

  it('keyboard: Space held on the focused button, then toggle mode with Enter', async () => {
    await page.goto(`${server.origin}/demo/?processing=off&pace=burst`);
    await page.key('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('talk');
    await watchHold(page);
    await page.key('Space', 'down');
    await pressed();
    await sleep(1000);
    await page.key('Space', 'up');
    await waitForStatus(page, /^Done: /);
    const held = await heldInPage(page);
    const first = heard(await text(page, '#question'));
    expect(isMicTone(testMic, first.hz, 9), `${first.hz} Hz`).toBe(true); // the peak finder's bin on a short take (44x Hz)
    expect(Math.abs(first.ms - held)).toBeLessThan(HOLD_SLACK_MS);

    await page.click('input[name="mode"][value="toggle"]');
    expect(await text(page, '#talk-label')).toBe('Click to talk');
    await page.focus('#talk');
    await watchHold(page);
    await page.key('Enter');
    await pressed();
    expect(await text(page, '#talk-label')).toBe('Click to send');
    await sleep(2000);
    await page.key('Enter');
    await waitForStatus(page, /^Done: /);
    const held2 = await heldInPage(page);
    const second = heard(await text(page, '#question'));
    expect(isMicTone(testMic, second.hz, 9), `${second.hz} Hz`).toBe(true); // the peak finder's bin on a short take (44x Hz)
    expect(Math.abs(second.ms - held2)).toBeLessThan(HOLD_SLACK_MS);
  });

  it('hands-free from the keyboard: Enter starts the conversation, the state shows it hearing the (steady) test mic, Enter stops it', async () => {
    await page.goto(`${server.origin}/demo/?processing=off&pace=burst&mode=handsfree`);
    expect(await page.evaluate(() => document.getElementById('conversation')!.hidden)).toBe(false);
    await page.key('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('talk');
    expect(await text(page, '#talk-label')).toBe('Start conversation');
    await page.key('Enter');
    await pressed();
    expect(await text(page, '#talk-label')).toBe('Stop conversation');
    // The test microphone never pauses: the conversation hears the user start a turn.
    await page.waitFor(() => document.getElementById('conv-state')!.textContent === 'you', undefined, 20_000);
    await waitForStatus(page, /^Listening to you/);
    await page.key('Enter');
    await page.waitFor(() => document.getElementById('talk')!.getAttribute('aria-pressed') === 'false');
    expect(await text(page, '#conv-state')).toBe('off');
    expect(await text(page, '#talk-label')).toBe('Start conversation');
  });

  it('a WAV file and a typed question; server text stays text, an action URL is shown, not followed', async () => {
    const url = `${server.origin}/demo/?pace=burst&url=${encodeURIComponent('javascript:window.__followed=1')}`;
    await page.goto(url);
    // A person clicks on the page before choosing the file: that gesture starts the page's audio
    // (a file's 'change' event is none, and WebKit starts audio only in one).
    await page.click('h1');
    await page.setInputFile('#wav', path.join(root, 'test/fixtures/fake-mic-440hz.wav'));
    await waitForStatus(page, /^Done: /);
    expect(await text(page, '#question')).toBe('heard 3.0 s of 16 kHz audio, 440 Hz peak');
    expect(await page.evaluate(() => document.getElementById('url-row')!.checkVisibility())).toBe(true);
    expect(await text(page, '#url')).toBe('javascript:window.__followed=1');
    expect(await page.evaluate(() => document.querySelectorAll('#url a').length)).toBe(0);
    expect(await page.evaluate(() => (window as any).__followed ?? null)).toBeNull();
    expect(await page.url()).toBe(url);

    await page.fill('#typed', 'is <b>this</b> bold? <img src=x onerror="window.__pwned=1">');
    await page.click('#text-form button');
    await waitForStatus(page, /^Done: .*/);
    await page.waitFor(() => (document.getElementById('question')!.textContent ?? '').startsWith('is <b>'));
    expect(await text(page, '#question')).toBe('is <b>this</b> bold? <img src=x onerror="window.__pwned=1">');
    expect(await page.evaluate(() => document.querySelectorAll('#question b, #question img, #answer b, #answer img').length)).toBe(0);
    expect(await page.evaluate(() => (window as any).__pwned ?? null)).toBeNull();
    expect(await text(page, '#answer')).toBe(
      'You asked: is <b>this</b> bold? <img src=x onerror="window.__pwned=1">. This is the talstream reference server; here is a 440 hertz tone.',
    );
  });

  it('realtime pacing shows the buffer filling, and the interrupt button cuts the answer', async () => {
    // The question is a WAV file of a steady 440 Hz tone, not the test microphone: its echo has no
    // holes of its own (WebKit's mock capture device renders silence when it skips under load), so
    // the sound heard at the output can be held to the position the status reports.
    await page.goto(`${server.origin}/demo/?pace=realtime&jitter=wifi`);
    await page.click('h1'); // the gesture that starts the page's audio (see the WAV test above)
    await installDemoTap(page);
    await page.setInputFile('#wav', path.join(root, 'test/fixtures/fake-mic-440hz.wav'));
    await waitForStatus(page, /^Answering/);
    await page.waitFor(() => /^\d+ ms$/.test(document.getElementById('stat-buffer')!.textContent ?? ''));
    expect(await text(page, '#stat-target')).toMatch(/^\d+ ms$/);
    await sleep(500);
    expect(await page.evaluate(() => (document.getElementById('interrupt') as HTMLButtonElement).disabled)).toBe(false);
    await page.click('#interrupt');
    await waitForStatus(page, /^Interrupted after \d+\.\d s\.$/);
    const after = Number(/after (\d+\.\d) s/.exec(await text(page, '#status'))![1]);
    // Mid-answer (the answer is the 3.0 s file echoed) ...
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(3);
    // ... and what the status says is what was heard: the sound at the output (samples above
    // 1e-3, however the bursts of a loaded audio thread spread it), to the status's 0.1 s
    // rounding (50 ms) and the fades' edges (10 ms).
    const { samples, rate } = await tapped(page);
    const heardMs = (samples.reduce((n, v) => n + (Math.abs(v) > 1e-3 ? 1 : 0), 0) * 1000) / rate;
    // (Time-scaled, the default: that audio at 0.9..1.1x.)
    expect(heardMs).toBeGreaterThan((after * 1000) / TS_FAST - 60);
    expect(heardMs).toBeLessThan((after * 1000) / TS_SLOW + 60);
  });

  it('over HTTP/2 with TLS (talstream serve --tls-key/--tls-cert) the same talk works', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'talstream-demo-tls-'));
    let tls: ReferenceServer | undefined;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      tls = await startReferenceServer({ port: 0, tls: { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) } });
      await page.goto(`${tls.origin}/demo/?processing=off&pace=burst`);
      await page.press('#talk');
      await pressed();
      await sleep(1200);
      await page.release();
      await waitForStatus(page, /^Done: /);
      const h = heard(await text(page, '#question'));
      expect(isMicTone(testMic, h.hz, 9), `${h.hz} Hz`).toBe(true); // the peak finder's bin on a short take (44x Hz)
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
