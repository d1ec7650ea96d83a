// The SDK against demo/fastapi/app.py, a FastAPI server on the seed protocol run by uvicorn
// (test/support/fastapi-server.ts); the browser client against it is test/e2e/fastapi-page.test.ts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run';
import { decodeFrames } from '../../src/protocol/frame-decoder';
import { encodeTalAudio, readTalAudio } from '../../src/protocol/tal-audio';
import { readWav } from '../../src/protocol/wav';
import { Resampler } from '../../src/dsp/resampler';
import { analyseTone } from '../../src/server/tone-analysis';
import { concat, sine, uploadFrames } from './server-test-helpers';
import { captureIO } from './cli-helpers';
import { startFastapi, type FastapiServer } from '../support/fastapi-server';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fakeMic = path.join(root, 'test/fixtures/fake-mic-440hz.wav');

let server: FastapiServer | undefined;
let origin = '';
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'talstream-fastapi-'));
  server = await startFastapi();
  origin = server.origin;
}, 30_000);
afterAll(async () => {
  await server?.close();
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

  it("reads a conversation turn's `interrupted` (first frame) and says how much of its last answer was heard", async () => {
    const frames = uploadFrames(sine(440, 1, 16000), 16000);
    frames[0] = encodeTalAudio({ sampleRate: 16000, sign: 1, order: 1, interrupted: { order: 12, sampleOffset: 240, playedMs: 1230 } }, sine(440, 0.02, 16000));
    const res = await fetch(`${origin}/ask`, { method: 'POST', body: concat(frames) as BodyInit });
    expect(res.status).toBe(200);
    const first = readTalAudio((await decodeFrames(res.body!)[Symbol.asyncIterator]().next()).value!).header;
    expect(first.question).toBe('heard 1.0 s of 16 kHz audio, about 440 Hz; you heard 1.23 s of my last answer');
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
