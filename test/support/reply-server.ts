// A loopback server that answers POSTs with the golden reply vectors (../shared/protocol/vectors),
// cut into chunks and paced, so browser tests run the client over a real fetch. Also a few
// wrong answers (HTML, status codes, a connection cut mid-reply). 127.0.0.1 only.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = path.resolve(root, '..', 'shared', 'protocol', 'vectors');

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
 * GET /last-upload: the frames of the last POST body, as JSON.
 */
export async function startReplyServer(): Promise<{ origin: string; close(): Promise<void> }> {
  let lastUpload: { bytes: number; frames: { header: Record<string, unknown>; payloadBytes: number }[] } | null = null;
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
    // Read the whole upload first: the answer says how many bytes arrived.
    const parts: Buffer[] = [];
    for await (const chunk of req) parts.push(chunk as Buffer);
    const upload = Buffer.concat(parts);
    const received = upload.length;
    lastUpload = { bytes: received, frames: frameHeaders(upload) };
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
