// The reference server over real loopback HTTP: uploads, replies, pacing, errors, static files.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceServer, type ReferenceServer } from '../../src/server/reference-server';
import { analyseTone } from '../../src/server/tone-analysis';
import { encodeFrame } from '../../src/protocol/frame-codec';
import { frameSchedule } from '../../src/server/pacing';
import { ask, concat, joinSamples, sine, uploadFrames } from './server-test-helpers';

let server: ReferenceServer;
const logs: string[] = [];
beforeAll(async () => {
  server = await startReferenceServer({ port: 0, log: (l) => logs.push(l) });
});
afterAll(async () => {
  await server.close();
  await server.close(); // twice is harmless
});

/** Raw HTTP/1.1 POST that writes `parts` one by one and can leave the body open. */
function rawPost(path: string, parts: Uint8Array[], endBody: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode!, body });
        req.destroy();
      });
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    if (endBody) req.end();
  });
}

describe('POST /ask', () => {
  it("reports a conversation turn's `interrupted` (first frame only counts; a malformed one is ignored)", async () => {
    const upload = uploadFrames(sine(440, 0.4, 16000), 16000);
    const withCut = (first: Uint8Array, interrupted: unknown) => {
      const h = new DataView(first.buffer, first.byteOffset).getUint32(4, true);
      const header = JSON.parse(new TextDecoder().decode(first.subarray(8, 8 + h)));
      return encodeFrame({ ...header, interrupted }, first.subarray(8 + h));
    };
    const cut = { order: 7, sampleOffset: 100, playedMs: 124.2 };
    const good = await ask(`${server.origin}/ask?pace=burst`, concat([withCut(upload[0]!, cut), ...upload.slice(1)]));
    expect(good.frames[0]!.header.interrupted).toEqual(cut);
    expect(good.frames[0]!.header.question).toBe('heard 0.4 s of 16 kHz audio, 440 Hz peak; you cut my last answer after 0.12 s (frame 7, sample 100)');
    // On the second frame it is not the turn's: ignored. Malformed: ignored like any extra field.
    const late = await ask(`${server.origin}/ask?pace=burst`, concat([upload[0]!, withCut(upload[1]!, cut), ...upload.slice(2)]));
    const bad = await ask(`${server.origin}/ask?pace=burst`, concat([withCut(upload[0]!, { order: 'x', sampleOffset: 1, playedMs: 2 }), ...upload.slice(1)]));
    for (const r of [late, bad]) {
      expect(r.status).toBe(200);
      expect(r.frames[0]!.header.interrupted).toBeUndefined();
      expect(r.frames[0]!.header.question).toBe('heard 0.4 s of 16 kHz audio, 440 Hz peak');
    }
  });

  it('says what it heard and echoes the audio at 24 kHz in 20 ms frames with captions', async () => {
    const upload = sine(440, 2.4, 16000);
    const { status, frames } = await ask(`${server.origin}/ask?pace=burst`, concat(uploadFrames(upload, 16000)));
    expect(status).toBe(200);
    const headers = frames.map((f) => f.header);
    expect(headers[0]!.question).toBe('heard 2.4 s of 16 kHz audio, 440 Hz peak');
    expect(headers.every((h) => h.question === headers[0]!.question && h.sampleRate === 24000 && h.audioType === 'int16')).toBe(true);
    expect(headers.map((h) => h.sign)).toEqual([1, ...Array(frames.length - 2).fill(2), 3]);
    expect(headers.map((h) => h.order)).toEqual(frames.map((_, i) => i + 1));
    expect(headers[0]!.heard).toMatchObject({ durationMs: 2400, sampleRate: 16000, frames: 121 });
    expect(Math.abs((headers[0]!.heard as { peakHz: number }).peakHz - 440)).toBeLessThan(0.5);
    expect(headers[0]).toMatchObject({ reply: 'echo', pace: 'burst', jitter: 'none' });
    expect(headers.map((h) => h.answer).join('')).toBe(
      'Here is what you said: 2.4 seconds of sound, played back to you at 24 kilohertz.',
    );
    // Every audio frame is 20 ms; the closing one is empty.
    expect(frames.slice(0, -1).every((f) => f.samples.length === 480)).toBe(true);
    expect(frames.at(-1)!.samples.length).toBe(0);
    // The audio is the upload at 24 kHz: against the 440 Hz sine itself (not the server's
    // resampler), sample for sample away from the cut ends (4 ms, where the sine starts and stops
    // abruptly), within 1.5 LSB of int16: the upload's rounding (0.5 LSB) through the filter and
    // the reply's own (0.5 LSB), plus the resampler's passband ripple (1e-5 of 0.5).
    const got = joinSamples(frames);
    expect(got.length).toBe(57600);
    let maxErr = 0;
    for (let i = 96; i < got.length - 96; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - 0.5 * Math.sin((2 * Math.PI * 440 * i) / 24000)));
    expect(maxErr).toBeLessThanOrEqual(1.5 / 32768);
  });

  it('answers a typed question without audio with a tone and the question text', async () => {
    const body = encodeFrame({ question: 'what time is it?', sign: 3, order: 1 });
    const { status, frames } = await ask(`${server.origin}/ask?pace=burst`, body);
    expect(status).toBe(200);
    expect(frames[0]!.header.question).toBe('what time is it?');
    expect(frames[0]!.header.heard).toBeNull();
    expect(frames.map((f) => f.header.answer).join('')).toBe(
      'You asked: what time is it?. This is the talstream reference server; here is a 440 hertz tone.',
    );
    const audio = joinSamples(frames);
    expect(audio.length).toBe(36000); // 1.5 s at 24 kHz
    expect(Math.abs(analyseTone(audio, 24000).peakHz! - 440)).toBeLessThan(0.5);
  });

  it('?url= puts an action URL on the first frame only, as data', async () => {
    const action = 'javascript:alert(1)';
    const { frames } = await ask(`${server.origin}/ask?pace=burst&url=${encodeURIComponent(action)}`, encodeFrame({ question: 'go' }));
    expect(frames.map((f) => f.header.url)).toEqual([action, ...Array(frames.length - 1).fill('')]);
  });

  it('reply=tone plays the heard frequency for the heard duration; typed text joins the transcript', async () => {
    const body = concat(uploadFrames(sine(660, 1, 16000), 16000, { question: 'sing' }));
    const { frames } = await ask(`${server.origin}/ask?pace=burst&reply=tone`, body);
    expect(frames[0]!.header.question).toBe('sing (heard 1.0 s of 16 kHz audio, 660 Hz peak)');
    const audio = joinSamples(frames);
    expect(audio.length).toBe(24000);
    expect(Math.abs(analyseTone(audio, 24000).peakHz! - 660)).toBeLessThan(0.5);
  });

  it('realtime pacing never sends a frame before its time', async () => {
    const body = concat(uploadFrames(sine(440, 0.5, 16000), 16000));
    const { frames } = await ask(`${server.origin}/ask?pace=realtime`, body);
    expect(frames).toHaveLength(26);
    // Frame k leaves the server no earlier than k * 20 ms after the reply started, which is after
    // the request was sent (atMs counts from there).
    for (let k = 1; k < frames.length; k++) expect(frames[k]!.atMs).toBeGreaterThanOrEqual(k * 20);
  });

  it('jitter follows the seeded schedule: no frame arrives before it', async () => {
    const body = concat(uploadFrames(sine(440, 0.6, 16000), 16000));
    const { frames } = await ask(`${server.origin}/ask?pace=burst&jitter=congested&seed=5`, body);
    const plan = frameSchedule(frames.length, { pace: 'burst', jitter: 'congested', seed: 5 });
    expect(plan.at(-1)!).toBeGreaterThan(0);
    for (let k = 1; k < frames.length; k++) expect(frames[k]!.atMs).toBeGreaterThanOrEqual(plan[k]!);
  });

  it('reads the upload as it arrives: a bad frame gets 400 before the body ends', async () => {
    const good = uploadFrames(sine(440, 0.1, 16000), 16000).slice(0, 3);
    const goodBytes = concat(good).length;
    const badHeader = new TextEncoder().encode('{"sign": 2,');
    const bad = concat([u32pair(8 + badHeader.length, badHeader.length), badHeader]);
    // The body stays open: only streaming decoding can answer now.
    const { status, body } = await rawPost('/ask', [...good, bad], false);
    expect(status).toBe(400);
    expect(body).toMatch(new RegExp(`^bad upload: bad-header at byte ${goodBytes}: `));
  });

  it('names the code and byte offset of bad uploads', async () => {
    const good = concat(uploadFrames(sine(440, 0.1, 16000), 16000).slice(0, 2));
    const cases: [Uint8Array, number, RegExp][] = [
      [concat([good, u32pair(4, 0)]), 400, new RegExp(`^bad upload: bad-length at byte ${good.length}: `)],
      [concat([good, u32pair(0xffffffff, 2)]), 413, new RegExp(`^bad upload: frame-too-large at byte ${good.length}: `)],
      [concat([good, good.subarray(0, 30)]), 400, new RegExp(`^bad upload: truncated at byte ${good.length}: `)],
      [
        concat([good, encodeFrame({ sampleRate: 16000, audioType: 'int16' }, new Uint8Array(3))]),
        400,
        new RegExp(`^bad upload: bad-payload at byte ${good.length + 8 + JSON.stringify({ sampleRate: 16000, audioType: 'int16' }).length}: `),
      ],
      [concat([good, encodeFrame({ audioType: 'float64' })]), 400, new RegExp(`^bad upload: bad-header at byte ${good.length}: `)],
      [concat([good, encodeFrame({ sampleRate: 48000 }, new Uint8Array(4))]), 400, new RegExp(`^bad upload: bad-header at byte ${good.length}: sampleRate changed from 16000 to 48000`)],
      [new Uint8Array(0), 400, /^bad upload: empty body \(expected TALAudio frames\)/],
      [encodeFrame({ sign: 3 }), 400, /^bad upload: no audio and no question text/],
    ];
    for (const [body, code, text] of cases) {
      const res = await fetch(`${server.origin}/ask`, { method: 'POST', body: body as BodyInit });
      expect(res.status).toBe(code);
      expect(await res.text()).toMatch(text);
    }
  });

  it('refuses a body over maxUploadBytes with 413 as soon as it is too large', async () => {
    const small = await startReferenceServer({ port: 0, maxUploadBytes: 4000 });
    try {
      const body = concat(uploadFrames(sine(440, 0.5, 16000), 16000));
      expect(body.length).toBeGreaterThan(4000);
      const res = await fetch(`${small.origin}/ask`, { method: 'POST', body: body as BodyInit });
      expect(res.status).toBe(413);
      expect(await res.text()).toBe('bad upload: body larger than 4000 bytes\n');
    } finally {
      await small.close();
    }
  });

  it('rejects bad query values and other methods, and answers CORS preflights', async () => {
    const bad = await fetch(`${server.origin}/ask?pace=warp`, { method: 'POST', body: encodeFrame({ question: 'x' }) as BodyInit });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('bad query: pace must be one of burst, realtime (got "warp")\n');
    const badReply = await fetch(`${server.origin}/ask?reply=song`, { method: 'POST', body: encodeFrame({ question: 'x' }) as BodyInit });
    expect(await badReply.text()).toBe('bad query: reply must be echo or tone (got "song")\n');
    const get = await fetch(`${server.origin}/ask`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    const pre = await fetch(`${server.origin}/ask`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
  });

  it('survives a client that hangs up mid-reply and serves the next one', async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.origin}/ask?pace=realtime`, { method: 'POST', body: encodeFrame({ question: 'long' }) as BodyInit, signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.read().catch(() => undefined);
    const { status, frames } = await ask(`${server.origin}/ask?pace=burst`, encodeFrame({ question: 'again' }));
    expect(status).toBe(200);
    expect(frames.at(-1)!.header.sign).toBe(3);
  });
});

describe('static files', () => {
  it('redirects / to the demo and serves demo/ and dist/ files', async () => {
    const root = await fetch(`${server.origin}/?pace=burst`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/demo/?pace=burst');
    const page = await fetch(`${server.origin}/demo/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script src="../dist/talstream.iife.js"></script>');
    // npm test builds first, so dist/ is there.
    const iife = await fetch(`${server.origin}/dist/talstream.iife.js`);
    expect(iife.status).toBe(200);
    expect(iife.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await iife.text()).toContain('TalStream');
  });

  it('refuses paths that climb out of a mount and 404s the rest', async () => {
    const out = await fetch(`${server.origin}/dist/..%2fpackage.json`);
    expect(out.status).toBe(403);
    expect((await fetch(`${server.origin}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${server.origin}/demo/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.origin}/demo/`, { method: 'DELETE' })).status).toBe(405);
  });

  it('logs one line per ask: path, status, what it heard, frames sent, pacing', async () => {
    const before = logs.length;
    await ask(`${server.origin}/ask?pace=burst`, concat(uploadFrames(sine(440, 0.4, 16000), 16000)));
    await ask(`${server.origin}/ask?pace=realtime&jitter=4g`, encodeFrame({ question: 'hi', sign: 3 }));
    expect(logs.slice(before)).toEqual([
      'POST /ask 200 "heard 0.4 s of 16 kHz audio, 440 Hz peak" -> 21 frames, burst',
      'POST /ask 200 "hi" -> 76 frames, realtime + 4g',
    ]);
  });
});

function u32pair(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, a, true);
  v.setUint32(4, b, true);
  return out;
}

describe('over HTTP/2 with TLS (what Chromium needs for streaming uploads)', () => {
  it('answers a request body streamed in pieces, frame by frame', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const pathMod = await import('node:path');
    const http2 = await import('node:http2');
    const dir = mkdtempSync(pathMod.join(tmpdir(), 'talstream-ref-tls-'));
    let tlsServer: ReferenceServer | undefined;
    let client: import('node:http2').ClientHttp2Session | undefined;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', pathMod.join(dir, 'key.pem'), '-out', pathMod.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      tlsServer = await startReferenceServer({
        port: 0,
        tls: { key: readFileSync(pathMod.join(dir, 'key.pem')), cert: readFileSync(pathMod.join(dir, 'cert.pem')) },
      });
      expect(tlsServer.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      client = http2.connect(tlsServer.origin, { rejectUnauthorized: false });
      const req = client.request({ ':method': 'POST', ':path': '/ask?pace=burst', 'content-type': 'application/octet-stream' });
      const parts = uploadFrames(sine(440, 1, 16000), 16000);
      const chunks: Buffer[] = [];
      const status = new Promise<number>((r) => req.on('response', (h) => r(Number(h[':status']))));
      req.on('data', (d: Buffer) => chunks.push(d));
      const ended = new Promise<void>((r) => req.on('end', () => r()));
      // The body goes out frame by frame with pauses: a streamed upload.
      for (const p of parts) {
        req.write(p);
        if (p === parts[10]) await new Promise((r) => setTimeout(r, 20));
      }
      req.end();
      expect(await status).toBe(200);
      await ended;
      const { FrameDecoder } = await import('../../src/protocol/frame-decoder');
      const frames = new FrameDecoder().push(concat(chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.length))));
      expect(frames[0]!.header.question).toBe('heard 1.0 s of 16 kHz audio, 440 Hz peak');
      expect(frames).toHaveLength(51);
      expect(frames.at(-1)!.header.sign).toBe(3);
    } finally {
      client?.close();
      await tlsServer?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
