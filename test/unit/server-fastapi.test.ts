// @vitest-environment node
// The SDK against demo/fastapi/app.py, a FastAPI server on the seed protocol run by uvicorn.
// CI installs python3-fastapi and python3-uvicorn (.ci/run): without them this test FAILS, saying so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run';
import { decodeFrames } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';
import { readWav } from '../../src/protocol/wav';
import { Resampler } from '../../src/dsp/resampler';
import { analyseTone } from '../../src/server/tone-analysis';
import { concat, sine, uploadFrames } from './server-test-helpers';
import { captureIO } from './cli-helpers';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright';
import { chromiumLaunchOptions } from '../support/chromium.mjs';
import { installDemoTap } from '../support/demo-tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = path.join(root, 'demo/fastapi/app.py');
const fakeMic = path.join(root, 'test/fixtures/fake-mic-440hz.wav');

/** The first Python that can import fastapi and uvicorn: $TALSTREAM_PYTHON, python3, /usr/bin/python3. */
function findPython(): { python?: string; tried: string[] } {
  const candidates = [process.env.TALSTREAM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  const tried: string[] = [];
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import fastapi, uvicorn'], { encoding: 'utf8' });
    if (r.status === 0) return { python: c, tried };
    tried.push(`${c}: ${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || `exit ${r.status}`}`);
  }
  return { tried };
}

let child: ChildProcess | undefined;
let origin = '';
let dir = '';
beforeAll(async () => {
  const { python, tried } = findPython();
  if (!python) {
    throw new Error(
      `this test needs Python with fastapi and uvicorn (Debian: apt-get install python3-fastapi python3-uvicorn; ` +
        `or set TALSTREAM_PYTHON). Tried: ${tried.join('; ')}`,
    );
  }
  dir = await mkdtemp(path.join(tmpdir(), 'talstream-fastapi-'));
  child = spawn(python, [app, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  origin = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`app.py did not start in 20 s: ${out}${err}`)), 20_000);
    child!.stdout!.on('data', (d) => {
      out += d;
      const m = /POST (http:\/\/127\.0\.0\.1:\d+)\/ask/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child!.on('exit', (code) => reject(new Error(`app.py exited (${code}): ${out}${err}`)));
  });
}, 30_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SDK against the FastAPI example server (uvicorn)', () => {
  it('talstream ask: the server hears 440 Hz for 3 s and echoes the exact uploaded samples', async () => {
    const out = path.join(dir, 'echo.wav');
    const io = captureIO();
    const code = await runCli(['ask', '--url', `${origin}/ask`, '--wav', fakeMic, '--out', out], io);
    expect(io.err()).toMatch(/^POST .*: 150 frames/);
    expect(code).toBe(0);
    const lines = io.out().split('\n');
    expect(lines[0]).toBe('question: heard 3.0 s of 16 kHz audio, about 440 Hz');
    expect(lines[1]).toBe('answer: You said 3.0 seconds of sound. Here it is back.');
    expect(lines[2]).toBe(`reply: 150 frames, 3.00 s of audio at 16000 Hz -> ${out}`);
    expect(lines[3]).toMatch(/^time to first byte: \d+\.\d ms, to first audio: \d+\.\d ms/);
    // What came back is what went up: the fake mic resampled to 16 kHz and quantised to int16.
    const mic = readWav(await readFile(fakeMic));
    const r = new Resampler(mic.sampleRate, 16000);
    const up = concat([new Uint8Array(r.process(mic.channels[0]!).buffer), new Uint8Array(r.flush().buffer)]);
    const sent = new Float32Array(up.buffer);
    const got = readWav(await readFile(out)).channels[0]!;
    expect(got.length).toBe(sent.length);
    // (+ 0 turns -0 into 0: both are the int16 sample 0.)
    let mismatches = 0;
    for (let i = 0; i < got.length; i++) {
      if (got[i]! + 0 !== Math.max(-32768, Math.min(32767, Math.round(sent[i]! * 32768))) / 32768 + 0) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('fetch + decodeFrames: seed-style reply (sign 1 then 2, no sign 3), tone at the heard pitch, captions', async () => {
    const body = concat(uploadFrames(sine(660, 1, 16000), 16000, { question: 'sing' }));
    const res = await fetch(`${origin}/ask?reply=tone`, { method: 'POST', body: body as BodyInit });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const headers: Record<string, unknown>[] = [];
    const audio: Float32Array[] = [];
    for await (const f of decodeFrames(res.body!)) {
      const { header, channels } = readTalAudio(f);
      headers.push(header);
      audio.push(channels[0]!);
    }
    expect(headers[0]!.question).toBe('sing (heard 1.0 s of 16 kHz audio, about 660 Hz)');
    expect(headers.map((h) => h.sign)).toEqual([1, ...Array(headers.length - 1).fill(2)]);
    expect(headers.map((h) => h.answer).join('')).toBe('Here is a 660 hertz tone.');
    const joined = new Float32Array(audio.reduce((n, a) => n + a.length, 0));
    audio.reduce((at, a) => (joined.set(a, at), at + a.length), 0);
    expect(joined.length).toBe(24000);
    expect(Math.abs(analyseTone(joined, 24000).peakHz! - 660)).toBeLessThan(1);
  });

  it('a bad upload gets 400 naming the byte offset', async () => {
    const good = concat(uploadFrames(sine(440, 0.04, 16000), 16000).slice(0, 2));
    const bad = new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0]);
    const io = captureIO();
    const res = await fetch(`${origin}/ask`, { method: 'POST', body: concat([good, bad]) as BodyInit });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(`bad upload: at byte ${good.length}: total 4 < 8 + header length 0\n`);
    expect(await runCli(['ask', '--url', `${origin}/ask?pace=warp`, '--question', 'x'], io)).toBe(1);
    expect(io.err().split('\n').slice(1, 3)).toEqual(['error: HTTP 400 Bad Request', 'bad query: reply must be echo|tone, pace burst|realtime']);
  });
});

describe('the browser client (script-tag build) against the FastAPI server', () => {
  it('the demo page served by FastAPI asks with a WAV file: captions arrive and the whole echo plays', async () => {
    if (!existsSync(path.join(root, 'dist/talstream.iife.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${origin}/demo/`);
      // The first gesture builds the page's client; then tap its output node.
      await page.locator('#typed').fill('');
      await page.setInputFiles('#wav', fakeMic);
      await installDemoTap(page);
      await page.waitForFunction(() => /^Done: /.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 30_000 });
      expect(await page.locator('#question').textContent()).toBe('heard 3.0 s of 16 kHz audio, about 440 Hz');
      expect(await page.locator('#answer').textContent()).toBe('You said 3.0 seconds of sound. Here it is back.');
      expect(await page.locator('#stat-first-audio').textContent()).toMatch(/^\d+ ms$/);
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
      expect(played).toBeGreaterThan(2.9);
      expect(played).toBeLessThanOrEqual(3.05); // partial windows at the edges and around a gap
      expect(Math.abs(peakHz - 440)).toBeLessThan(3);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
