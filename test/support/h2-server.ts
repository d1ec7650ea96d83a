// Upload test servers on 127.0.0.1: HTTP/2 over TLS (streamed request bodies work in Chromium),
// HTTPS over HTTP/1.1 (Chromium refuses a streamed body: the 'auto' fallback) and plain HTTP/1.1.
// Each decodes the request body frame by frame with the SDK's FrameDecoder as bytes arrive and
// records what it got, so tests can ask "what reached the server, and when?".
//
// POST /upload?id=ID[&status=CODE]  body: TALAudio frames. Answers after the body ends with JSON
//   (an attempt record, below) or, with `status`, that status and a text body.
// GET  /received?id=ID              JSON { attempts: Attempt[] } so far (also while uploading).
// OPTIONS *                         CORS preflight (a streamed body is never a "simple" request).
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FrameDecoder } from '../../src/protocol/frame-decoder';

/** One frame as the server saw it. */
export interface ReceivedFrame {
  order: unknown;
  sign: unknown;
  sampleRate: unknown;
  audioType: unknown;
  question: unknown;
  payloadBytes: number;
  /** SHA-256 (hex) of the whole frame's bytes. */
  sha256: string;
  /** ms since the request started when the frame's last byte arrived. */
  atMs: number;
}

/** One POST. */
export interface Attempt {
  httpVersion: string;
  contentType: string;
  authorization: string;
  frames: ReceivedFrame[];
  /** The body ended (all bytes received). */
  complete: boolean;
  /** A decoding error, if the body was malformed or cut. */
  error?: string;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** A self-signed certificate for 127.0.0.1 (the openssl CLI; Chromium runs with --ignore-certificate-errors). */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'talstream-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } catch (cause) {
    throw new Error('test/support/h2-server: the openssl CLI is needed to make a self-signed certificate', { cause });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cors(req: Req): Record<string, string> {
  return {
    'access-control-allow-origin': String(req.headers.origin ?? '*'),
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'content-type'),
    'access-control-max-age': '600',
    'cache-control': 'no-store',
  };
}

function handler(sessions: Map<string, Attempt[]>) {
  return (req: Req, res: Res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const id = url.searchParams.get('id') ?? '';
    const headers = cors(req);
    if (req.method === 'OPTIONS') {
      (res as http.ServerResponse).writeHead(204, headers).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/received') {
      (res as http.ServerResponse).writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ attempts: sessions.get(id) ?? [] }));
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/upload') {
      (res as http.ServerResponse).writeHead(404, headers).end('not found');
      return;
    }
    const attempt: Attempt = {
      httpVersion: req.httpVersion,
      contentType: String(req.headers['content-type'] ?? ''),
      authorization: String(req.headers.authorization ?? ''),
      frames: [],
      complete: false,
    };
    if (!sessions.has(id)) sessions.set(id, []);
    sessions.get(id)!.push(attempt);
    const t0 = performance.now();
    const decoder = new FrameDecoder();
    const take = (frames: ReturnType<FrameDecoder['push']>, bytesOf: (f: (typeof frames)[number]) => Uint8Array) => {
      for (const f of frames) {
        attempt.frames.push({
          order: f.header.order,
          sign: f.header.sign,
          sampleRate: f.header.sampleRate,
          audioType: f.header.audioType,
          question: f.header.question,
          payloadBytes: f.payload.length,
          sha256: createHash('sha256').update(bytesOf(f)).digest('hex'),
          atMs: performance.now() - t0,
        });
      }
    };
    // Frames returned by push() are views of the pushed chunk (or a copy for spanning frames);
    // rebuild each frame's bytes from its offset within everything received so far.
    const all: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      all.push(chunk);
      total += chunk.length;
      try {
        const frames = decoder.push(new Uint8Array(chunk));
        if (frames.length) {
          const joined = Buffer.concat(all, total);
          take(frames, (f) => joined.subarray(f.offset, f.offset + (f.byteLength ?? 0)));
        }
      } catch (e) {
        attempt.error = (e as Error).message;
      }
    });
    req.on('end', () => {
      try {
        decoder.end();
      } catch (e) {
        attempt.error ??= (e as Error).message;
      }
      attempt.complete = true;
      const status = Number(url.searchParams.get('status') ?? 200);
      if (status !== 200) {
        (res as http.ServerResponse).writeHead(status, { ...headers, 'content-type': 'text/plain' }).end(`server says no (${status}) ` + 'x'.repeat(600));
        return;
      }
      (res as http.ServerResponse).writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(attempt));
    });
    req.on('error', (e) => {
      attempt.error ??= (e as Error).message;
    });
  };
}

export interface UploadServers {
  /** https://127.0.0.1:PORT, HTTP/2 (h2 via ALPN). */
  h2Origin: string;
  /** https://127.0.0.1:PORT, HTTP/1.1 only. */
  h1sOrigin: string;
  /** http://127.0.0.1:PORT, HTTP/1.1. */
  h1Origin: string;
  close(): Promise<void>;
}

function listen(server: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => unknown }): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

export async function startUploadServers(): Promise<UploadServers> {
  const { key, cert } = selfSigned();
  const sessions = new Map<string, Attempt[]>();
  const h = handler(sessions);
  const h2 = http2.createSecureServer({ key, cert, allowHTTP1: true }, h);
  const h1s = https.createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, h);
  const h1 = http.createServer(h);
  const sockets = new Set<{ destroy(): void }>();
  for (const s of [h2, h1s, h1]) s.on('connection', (sock: { destroy(): void; on(e: string, f: () => void): void }) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  const [p2, p1s, p1] = await Promise.all([listen(h2), listen(h1s), listen(h1)]);
  return {
    h2Origin: `https://127.0.0.1:${p2}`,
    h1sOrigin: `https://127.0.0.1:${p1s}`,
    h1Origin: `http://127.0.0.1:${p1}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([h2, h1s, h1].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
