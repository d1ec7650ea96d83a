// A loopback server that answers asks badly on purpose, for reliability tests and the bench.
// Binds 127.0.0.1; CORS-open (browser tests run on another origin). Every request is recorded per
// `id` so a test can ask what the server saw: how many requests, and whether the client closed
// the connection before the answer was finished (an aborted fetch).
//
// POST /reply?id=ID&frames=N&rate=HZ&ms=MS&pace=MS&fault=KIND&at=K&stallMs=MS&failFirst=F&failMode=M&delayMs=MS
//   Reads the request body, waits `delayMs` (before any header: "before the response" tests),
//   then answers N TALAudio frames of `ms` ms at `rate` Hz (int16 mono, a 440 Hz sine at 0.5,
//   phase-continuous, captions "w1 ".."wN "), one every `pace` ms (0 = burst), with the fault
//   KIND at frame index K (default: N/2, rounded down):
//     none          a good reply
//     drop          K good frames, half of the next, then the TCP connection is destroyed
//     truncate      K good frames, half of the next, then the body ends cleanly
//     stall         K good frames, `stallMs` (default 3000) of silence, then the rest
//     not-object    frame K's header JSON is `[1,2,3]`
//     bad-json      frame K's header is `{"audioType": "int16", ` (cut JSON)
//     huge          frame K's total says 0xFFFFFFFF (4 GiB)
//     bad-length    frame K's total is smaller than 8 + H
//     odd-payload   frame K's payload has one byte more than whole samples
//     audio-type    frame K says audioType "float32"
//     rate-0 | rate-10m | channels-0 | channels-300   frame K with that field
//     hostile       every frame's header also carries `__proto__`, `constructor`, `prototype`
//                   keys, a `url` to /never?id=ID on this server and an HTML `answer`
//   `failFirst=F`: the first F requests of this id fail (`failMode`: `reset` destroys the socket
//   before any byte, `503` answers 503 with a body, `mid` sends one good frame then resets).
// POST /status?code=C[&body=TEXT]   that status, with the text body or an empty one.
// POST /html                        200 text/html with a small page.
// POST /empty                       200 application/octet-stream with no body.
// POST /json-error                  200 application/json {"detail":"Not authenticated"}.
// ANY  /never?id=ID                 counts as a request (the `url` field must never be fetched).
// GET  /stats?id=ID                 JSON { requests: RequestRecord[] }.
import http from 'node:http';
import type { Socket } from 'node:net';
import { encodeFrame, encodeTalAudio } from '../../src/protocol/index';
import { faultHeader as header, faultReplySamples } from './fault-frames';

/** What the server saw of one request. */
export interface RequestRecord {
  path: string;
  fault: string;
  /** Bytes of the request body received. */
  bodyBytes: number;
  /** Frames (whole) written to the response. */
  framesSent: number;
  /** The response was completely written. */
  finished: boolean;
  /** The client closed the connection before the response was finished. */
  clientClosed: boolean;
  /** ms from the request's arrival to the close, when the client closed. */
  closedAtMs?: number;
  /** The server cut the connection itself (faults `drop`, `failMode` reset/mid). */
  serverDropped: boolean;
}

export interface FaultServer {
  origin: string;
  records(id: string): RequestRecord[];
  /** The request bodies of `id`, in order (bodies over 64 KiB are not kept: an empty array then). */
  bodies(id: string): Uint8Array[];
  close(): Promise<void>;
}

export { faultReplySamples, faultFrame } from './fault-frames';

function setU32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v, true);
}

/** A frame of header text `json` (sent as is, even if it is no valid header) and `payload`. */
function rawFrame(json: string, payload: Uint8Array): Uint8Array {
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + payload.length);
  setU32(out, 0, out.length);
  setU32(out, 4, hb.length);
  out.set(hb, 8);
  out.set(payload, 8 + hb.length);
  return out;
}

/** Frame `i` of the reply, damaged according to `fault` when `i` is the fault index. */
function frameBytes(i: number, n: number, rate: number, samples: number, fault: string, isFault: boolean, id: string, origin: string): Uint8Array {
  const pcm = faultReplySamples(i, samples, rate);
  if (fault === 'hostile') {
    // Raw JSON text: `__proto__` must be an own key on the wire, which an object literal cannot express.
    const json = JSON.stringify(header(i, n, rate, { url: `${origin}/never?id=${encodeURIComponent(id)}`, answer: `<img src=x onerror="window.__pwned=1">w${i + 1} ` }))
      .replace(/^\{/, '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "prototype": {"polluted": "yes"}, ');
    const good = encodeTalAudio(header(i, n, rate, {}), pcm);
    return rawFrame(json, good.subarray(8 + new DataView(good.buffer).getUint32(4, true)));
  }
  if (!isFault) return encodeTalAudio(header(i, n, rate, {}), pcm);
  const good = encodeTalAudio(header(i, n, rate, {}), pcm);
  const payload = good.subarray(8 + new DataView(good.buffer).getUint32(4, true));
  const raw = (json: string) => rawFrame(json, payload);
  const withFields = (fields: Record<string, unknown>) => encodeFrame({ audioType: 'int16', bitDepth: 16, channels: 1, ...header(i, n, rate, fields) }, payload);
  switch (fault) {
    case 'not-object':
      return raw('[1,2,3]');
    case 'bad-json':
      return raw('{"audioType": "int16", ');
    case 'huge': {
      const b = good.slice();
      setU32(b, 0, 0xffffffff);
      return b;
    }
    case 'bad-length': {
      const b = good.slice();
      setU32(b, 0, 8 + new DataView(good.buffer).getUint32(4, true) - 1);
      return b;
    }
    case 'odd-payload':
      return encodeFrame({ audioType: 'int16', bitDepth: 16, channels: 1, ...header(i, n, rate, {}) }, new Uint8Array([...payload, 7]));
    case 'audio-type':
      return withFields({ audioType: 'float32' });
    case 'rate-0':
      return withFields({ sampleRate: 0 });
    case 'rate-10m':
      return withFields({ sampleRate: 10_000_000 });
    case 'channels-0':
      return withFields({ channels: 0 });
    case 'channels-300':
      return withFields({ channels: 300 });
    default:
      return good;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startFaultServer(): Promise<FaultServer> {
  const log = new Map<string, RequestRecord[]>();
  const bodies = new Map<string, Uint8Array[]>();
  const sockets = new Set<Socket>();
  let origin = '';

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = (k: string, d: number) => (url.searchParams.has(k) ? Number(url.searchParams.get(k)) : d);
    const id = url.searchParams.get('id') ?? '';
    const cors = {
      'access-control-allow-origin': String(req.headers.origin ?? '*'),
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'content-type'),
      'access-control-max-age': '600',
      'cache-control': 'no-store',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    if (url.pathname === '/stats') {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify({ requests: log.get(id) ?? [] }));
      return;
    }
    const fault = url.searchParams.get('fault') ?? 'none';
    const rec: RequestRecord = { path: url.pathname, fault, bodyBytes: 0, framesSent: 0, finished: false, clientClosed: false, serverDropped: false };
    if (!log.has(id)) log.set(id, []);
    const mine = log.get(id)!;
    mine.push(rec);
    const attempt = mine.length;
    const t0 = performance.now();
    res.on('close', () => {
      if (!res.writableFinished && !rec.serverDropped) {
        rec.clientClosed = true;
        rec.closedAtMs = performance.now() - t0;
      }
    });
    res.on('finish', () => (rec.finished = true));
    const closed = () => rec.clientClosed || res.destroyed;
    // Read the whole request body first, as the reference server does.
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      rec.bodyBytes += (chunk as Buffer).length;
      if (rec.bodyBytes <= 65536) chunks.push(chunk as Buffer);
    }
    if (!bodies.has(id)) bodies.set(id, []);
    bodies.get(id)!.push(rec.bodyBytes <= 65536 ? new Uint8Array(Buffer.concat(chunks)) : new Uint8Array(0));

    const send = (status: number, type: string | null, body: string | Uint8Array = '') => {
      const h: Record<string, string> = { ...cors };
      if (type) h['content-type'] = type;
      res.writeHead(status, h).end(body);
    };
    switch (url.pathname) {
      case '/never':
        return send(200, 'text/plain', 'this must never be fetched');
      case '/status':
        return send(q('code', 500), url.searchParams.has('body') ? 'text/plain' : null, url.searchParams.get('body') ?? '');
      case '/html':
        return send(200, 'text/html; charset=utf-8', '<!doctype html><html><head><title>Login</title></head><body><h1>Please sign in</h1></body></html>');
      case '/empty':
        return send(200, 'application/octet-stream');
      case '/json-error':
        return send(200, 'application/json', JSON.stringify({ detail: 'Not authenticated' }));
      case '/reply':
        break;
      default:
        return send(404, 'text/plain', 'not found');
    }

    const n = q('frames', 10);
    const rate = q('rate', 24000);
    const samples = Math.round((rate * q('ms', 20)) / 1000);
    const pace = q('pace', 0);
    const at = q('at', Math.floor(n / 2));
    const failFirst = q('failFirst', 0);
    const failMode = url.searchParams.get('failMode') ?? 'reset';
    await sleep(q('delayMs', 0));
    if (closed()) return;
    if (attempt <= failFirst) {
      if (failMode === '503') return send(503, 'text/plain', 'busy, try again');
      if (failMode === 'mid') {
        res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' });
        res.write(frameBytes(0, n, rate, samples, 'none', false, id, origin));
        rec.framesSent = 1;
        await sleep(30);
      }
      rec.serverDropped = true;
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' });
    res.flushHeaders();
    for (let i = 0; i < n; i++) {
      if (closed()) return;
      const bytes = frameBytes(i, n, rate, samples, fault, i === at, id, origin);
      if (i === at && (fault === 'drop' || fault === 'truncate')) {
        res.write(bytes.subarray(0, bytes.length >> 1));
        await sleep(30); // let the half frame leave before the connection goes
        if (fault === 'drop') {
          rec.serverDropped = true;
          req.socket.destroy();
        }
        else res.end();
        return;
      }
      if (i === at && fault === 'stall') await sleep(q('stallMs', 3000));
      if (closed()) return;
      res.write(bytes);
      rec.framesSent++;
      if (pace > 0) await sleep(pace);
    }
    res.end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    records: (id) => log.get(id) ?? [],
    bodies: (id) => bodies.get(id) ?? [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
