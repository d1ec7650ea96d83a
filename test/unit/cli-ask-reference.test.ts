// `talstream ask` against the reference server and against servers that misbehave.
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run';
import { runServe } from '../../src/cli/serve';
import { startReferenceServer, type ReferenceServer } from '../../src/server/reference-server';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { encodeTalAudio, readTalAudio } from '../../src/protocol/tal-audio';
import { readWav } from '../../src/protocol/wav';
import { analyseTone } from '../../src/server/tone-analysis';
import { concat } from './server-test-helpers';
import { captureIO } from './cli-helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fakeMic = path.join(root, 'test/fixtures/fake-mic-440hz.wav');

let server: ReferenceServer;
let dir: string;
beforeAll(async () => {
  server = await startReferenceServer({ port: 0 });
  dir = await mkdtemp(path.join(tmpdir(), 'talstream-ask-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** `talstream ask ARGS` through the CLI's own dispatcher. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO();
  const code = await runCli(['ask', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

/** A one-shot server answering every request with `status` and `body`. */
async function fixedServer(status: number, body: Uint8Array | string): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/octet-stream' }).end(body));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as { port: number }).port}/ask`,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

describe('talstream ask', () => {
  it('sends the WAV, prints what the server heard and answered, writes the reply WAV and the timings', async () => {
    const out = path.join(dir, 'reply.wav');
    const r = await run(['--url', `${server.origin}/ask?pace=burst`, '--wav', fakeMic, '--out', out]);
    expect(r.err).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/ask\?pace=burst: 150 frames \(3\.00 s at 48000 Hz resampled to 16000 Hz\), \d+ bytes\n$/);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('question: heard 3.0 s of 16 kHz audio, 440 Hz peak');
    expect(lines[1]).toBe('answer: Here is what you said: 3.0 seconds of sound, played back to you at 24 kilohertz.');
    expect(lines[2]).toBe(`reply: 151 frames, 3.00 s of audio at 24000 Hz -> ${out}`);
    expect(lines[3]).toMatch(/^time to first byte: \d+\.\d ms, to first audio: \d+\.\d ms \(from request start\)$/);
    const wav = readWav(await readFile(out));
    expect(wav.sampleRate).toBe(24000);
    expect(wav.channels).toHaveLength(1);
    expect(wav.channels[0]!.length).toBe(72000);
    expect(Math.abs(analyseTone(wav.channels[0]!, 24000).peakHz! - 440)).toBeLessThan(0.5);
  });

  it('--keep-rate uploads at the WAV\'s own rate', async () => {
    const r = await run(['--url', `${server.origin}/ask?pace=burst`, '--wav', fakeMic, '--keep-rate', '--question', 'hello']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/: 150 frames \(3\.00 s at 48000 Hz\), \d+ bytes\n$/);
    expect(r.out.split('\n')[0]).toBe('question: hello (heard 3.0 s of 48 kHz audio, 440 Hz peak)');
  });

  it('asks with typed text only', async () => {
    const r = await run(['--url', `${server.origin}/ask?pace=burst`, '--question', 'are you there?']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').slice(0, 3)).toEqual([
      'question: are you there?',
      'answer: You asked: are you there?. This is the talstream reference server; here is a 440 hertz tone.',
      'reply: 76 frames, 1.50 s of audio at 24000 Hz',
    ]);
  });

  it('on a non-2xx answer prints the status and the first 500 bytes of the body, exit 1', async () => {
    const r = await run(['--url', `${server.origin}/ask?pace=warp`, '--question', 'x']);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').slice(1)).toEqual(['error: HTTP 400 Bad Request', 'bad query: pace must be one of burst, realtime (got "warp")', '']);
    const big = await fixedServer(503, 'y'.repeat(2000));
    try {
      const b = await run(['--url', big.url, '--question', 'x']);
      expect(b.code).toBe(1);
      expect(b.err.split('\n').slice(1)).toEqual(['error: HTTP 503 Service Unavailable', 'y'.repeat(500), '']);
    } finally {
      await big.close();
    }
  });

  it('prints the frames that were good, then the decoder error with its byte offset, exit 1', async () => {
    const good = encodeTalAudio({ sampleRate: 24000, question: 'q1', answer: 'partial ' }, new Float32Array(480).fill(0.25));
    const bad = new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0]);
    const srv = await fixedServer(200, concat([good, bad]));
    const out = path.join(dir, 'partial.wav');
    try {
      const r = await run(['--url', srv.url, '--question', 'x', '--out', out]);
      expect(r.code).toBe(1);
      expect(r.out.split('\n').slice(0, 3)).toEqual(['question: q1', 'answer: partial ', `reply: 1 frames, 0.02 s of audio at 24000 Hz -> ${out}`]);
      expect(r.err.split('\n')[1]).toMatch(new RegExp(`^error: bad-length at byte ${good.length}: `));
      const wav = readWav(await readFile(out));
      expect(Array.from(wav.channels[0]!.subarray(0, 3))).toEqual([0.25, 0.25, 0.25]);
    } finally {
      await srv.close();
    }
  });

  it('reports a network failure and usage errors', async () => {
    const dead = await fixedServer(200, '');
    await dead.close();
    const n = await run(['--url', dead.url, '--question', 'x']);
    expect(n.code).toBe(1);
    expect(n.err).toMatch(/\nerror: network: /);
    expect((await run(['--wav', fakeMic])).code).toBe(2);
    expect((await run(['--url', 'http://127.0.0.1:1/'])).err).toMatch(/^error: give --wav FILE and\/or --question TEXT\n/);
    expect((await run(['--url', 'x', '--question', 'q', '--bogus'])).code).toBe(2);
    expect((await run(['--url', 'x', '--question', 'q', '--header', 'nocolon'])).err).toMatch(/^error: --header must look like "Name: value"/);
    const missing = await run(['--url', `${server.origin}/ask`, '--wav', path.join(dir, 'nope.wav')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: cannot read .*nope\.wav: /);
  });

  it('sends extra headers', async () => {
    let seen: string | undefined;
    const s2 = http.createServer((req, res) => {
      seen = req.headers.authorization;
      req.resume();
      req.on('end', () => res.writeHead(401).end('no'));
    });
    await new Promise<void>((r) => s2.listen(0, '127.0.0.1', r));
    try {
      const r = await run(['--url', `http://127.0.0.1:${(s2.address() as { port: number }).port}/`, '--question', 'q', '--header', 'Authorization: Bearer abc']);
      expect(r.code).toBe(1);
      expect(seen).toBe('Bearer abc');
      expect(r.err.split('\n').slice(1, 3)).toEqual(['error: HTTP 401 Unauthorized', 'no']);
    } finally {
      await new Promise<void>((r) => s2.close(() => r()));
    }
  });
});

describe('talstream serve', () => {
  it('serves /ask and the demo until stopped', async () => {
    const ac = new AbortController();
    const io = captureIO();
    let origin = '';
    const done = runServe(['--port', '0', '--quiet'], io, { signal: ac.signal, onListening: (s) => (origin = s.origin) });
    await new Promise<void>((r) => {
      const t = setInterval(() => origin && (clearInterval(t), r()), 5);
    });
    expect(io.out()).toBe(`talstream reference server: ${origin}/  (demo)  POST ${origin}/ask\n`);
    const r = await run(['--url', `${origin}/ask?pace=burst`, '--question', 'ping']);
    expect(r.out.split('\n')[0]).toBe('question: ping');
    expect((await fetch(`${origin}/demo/`)).status).toBe(200);
    ac.abort();
    expect(await done).toBe(0);
    await expect(fetch(`${origin}/demo/`)).rejects.toThrow();
  });

  it('rejects a bad port through the CLI dispatcher', async () => {
    const io = captureIO();
    expect(await runCli(['serve', '--port', 'abc'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: --port must be an integer 0\.\.65535, got "abc"\n/);
  });
});
