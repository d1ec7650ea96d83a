// A loopback server that answers POSTs with the golden reply vectors (../shared/protocol/vectors),
// cut into chunks and paced, so browser tests run the client over a real fetch. Also a few
// wrong answers (HTML, status codes, a connection cut mid-reply). 127.0.0.1 only.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { readWav } from '../../src/protocol/wav';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = path.resolve(root, '..', 'shared', 'protocol', 'vectors');
const speech = path.resolve(root, 'test', 'fixtures', 'speech');

/** A speech fixture as a spoken reply: 20 ms int16 TALAudio frames (sign 1, 2..., an empty 3), captioned. */
async function speechReply(name: string, maxMs: number, gain: number): Promise<Buffer> {
  const wav = readWav(await readFile(path.join(speech, name)));
  const rate = wav.sampleRate;
  const audio = wav.channels[0]!.slice(0, Math.min(wav.channels[0]!.length, Math.round((maxMs * rate) / 1000))).map((v) => v * gain);
  const per = Math.round(rate / 50);
  const frames: Uint8Array[] = [];
  let order = 1;
  for (let i = 0; i < audio.length; i += per, order++) {
    frames.push(encodeTalAudio({ sampleRate: rate, sign: order === 1 ? 1 : 2, order, answer: order === 1 ? name : '' }, audio.subarray(i, i + per)));
  }
  frames.push(encodeTalAudio({ sampleRate: rate, sign: 3, order }, new Float32Array(0)));
  return Buffer.concat(frames);
}

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-expose-headers': 'x-request-bytes',
};

/** Headers and payload sizes of the frames of a request body (a plain walk of the length words). */
function frameHeaders(body: Buffer): { header: Record<string, unknown>; payloadBytes: number }[] {
  const out: { header: Record<string, unknown>; payloadBytes: number }[] = [];
  for (let at = 0; at + 8 <= body.length; ) {
    const total = body.readUInt32LE(at);
    const h = body.readUInt32LE(at + 4);
    if (total < 8 + h || at + total > body.length) break;
    out.push({ header: JSON.parse(body.subarray(at + 8, at + 8 + h).toString('utf8')), payloadBytes: total - 8 - h });
    at += total;
  }
  return out;
}

/**
 * Routes: POST /vector/<file>.bin?chunk=N&pace=MS&cut=BYTES, POST /html, POST /status/<code>;
 * POST /speech/<fixture>.wav?ms=MAX&delay=MS&gain=G: a speech fixture (test/fixtures/speech)
 * spoken back (its first MAX ms, times G), after `delay` ms; GET /last-upload: the frames of the last POST body, as JSON; GET /uploads: the
 * headers of the uploads kept (the last 50) as `{ first, uploads }`, `first` the number of the first
 * (uploads are numbered from 0 since the server started); GET /upload-audio?n=K: the int16 PCM of
 * upload K, its payloads joined.
 */
export async function startReplyServer(): Promise<{ origin: string; close(): Promise<void> }> {
  let lastUpload: { bytes: number; frames: { header: Record<string, unknown>; payloadBytes: number }[] } | null = null;
  const bodies: Buffer[] = [];
  /** Uploads dropped from the front of `bodies`: upload numbers stay absolute. */
  let dropped = 0;
  const server = http.createServer(async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/last-upload') {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(lastUpload));
      return;
    }
    if (url.pathname === '/uploads') {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify({ first: dropped, uploads: bodies.map((b) => frameHeaders(b).map((f) => f.header)) }));
      return;
    }
    if (url.pathname === '/upload-audio') {
      const body = bodies[Number(url.searchParams.get('n') ?? 0) - dropped];
      if (!body) {
        res.writeHead(404, cors).end('no such upload');
        return;
      }
      const pcm: Buffer[] = [];
      for (let at = 0; at + 8 <= body.length; ) {
        const total = body.readUInt32LE(at);
        if (total < 8 || at + total > body.length) break;
        pcm.push(body.subarray(at + 8 + body.readUInt32LE(at + 4), at + total));
        at += total;
      }
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' }).end(Buffer.concat(pcm));
      return;
    }
    // Read the whole upload first: the answer says how many bytes arrived.
    const parts: Buffer[] = [];
    for await (const chunk of req) parts.push(chunk as Buffer);
    const upload = Buffer.concat(parts);
    const received = upload.length;
    lastUpload = { bytes: received, frames: frameHeaders(upload) };
    bodies.push(upload);
    if (bodies.length > 50) {
      bodies.shift();
      dropped++;
    }
    const spoken = /^\/speech\/([\w-]+\.wav)$/.exec(url.pathname);
    if (spoken) {
      let bytes: Buffer;
      try {
        bytes = await speechReply(spoken[1]!, Number(url.searchParams.get('ms') ?? 60_000), Number(url.searchParams.get('gain') ?? 1));
      } catch {
        res.writeHead(404, cors).end('no such speech fixture');
        return;
      }
      const delay = Number(url.searchParams.get('delay') ?? 0);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' }).end(bytes);
      return;
    }
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      res.writeHead(Number(status[1]), { ...cors, 'content-type': 'text/plain' }).end(`failure ${status[1]}: ` + 'x'.repeat(600));
      return;
    }
    if (url.pathname === '/html') {
      res.writeHead(200, { ...cors, 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Sign in</title><p>Please sign in</p>');
      return;
    }
    const vector = /^\/vector\/([\w-]+\.bin)$/.exec(url.pathname);
    if (!vector) {
      res.writeHead(404, cors).end('no such route');
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(vectors, vector[1]!));
    } catch {
      res.writeHead(404, cors).end('no such vector');
      return;
    }
    const chunk = Math.max(1, Number(url.searchParams.get('chunk') ?? bytes.length));
    const pace = Number(url.searchParams.get('pace') ?? 0);
    const cut = url.searchParams.has('cut') ? Number(url.searchParams.get('cut')) : bytes.length;
    res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'x-request-bytes': String(received) });
    for (let at = 0; at < cut; at += chunk) {
      res.write(bytes.subarray(at, Math.min(at + chunk, cut)));
      if (pace > 0) await new Promise((r) => setTimeout(r, pace));
    }
    if (cut < bytes.length) res.destroy();
    else res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
