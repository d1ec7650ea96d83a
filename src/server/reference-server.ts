// The reference server behind `npm start` and `talstream serve`: `POST /ask` speaks the protocol
// (see ask-handler.ts), `/demo/` is the demo page and `/dist/` the built bundles. Node only; binds
// loopback by default. With `tls` it is an HTTP/2 server (HTTP/1.1 still accepted), which is what
// Chromium needs for streaming request bodies.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { handleAsk, type AskHandlerOptions } from './ask-handler';
import { packageRoot, serveStatic } from './static-files';

/** Options of {@link startReferenceServer}. */
export interface ReferenceServerOptions extends AskHandlerOptions {
  /** TCP port (default 0: any free port; see the returned `port`). */
  port?: number;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** Folder holding demo/ and dist/ (default: the talstream package this module belongs to). */
  root?: string;
  /** PEM key and certificate: serve HTTP/2 over TLS (HTTP/1.1 allowed too) instead of plain HTTP/1.1. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Path of the ask endpoint (default `/ask`). */
  askPath?: string;
}

/** A running reference server. */
export interface ReferenceServer {
  /** e.g. `http://127.0.0.1:8080` (https with `tls`). */
  readonly origin: string;
  /** The bound port. */
  readonly port: number;
  /** Stops listening and closes open connections; calling it again is harmless. */
  close(): Promise<void>;
}

/** Starts the reference server; resolves once it listens. */
export async function startReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const host = options.host ?? '127.0.0.1';
  const root = options.root ?? packageRoot();
  const askPath = options.askPath ?? '/ask';
  const mounts: Record<string, string> = root ? { '/demo/': path.join(root, 'demo'), '/dist/': path.join(root, 'dist') } : {};

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const fail = (e: unknown) => {
      options.log?.(`${req.method} ${url.pathname} 500 ${(e as Error)?.message ?? e}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('internal error\n');
      else res.destroy();
    };
    if (url.pathname === askPath) {
      handleAsk(req, res, url, options).catch(fail);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (url.pathname === '/' || url.pathname === '/demo') {
      res.writeHead(302, { location: '/demo/' + url.search }).end();
      return;
    }
    serveStatic(req, res, url, mounts)
      .then((served) => {
        if (!served) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${url.pathname}\n`);
      })
      .catch(fail);
  };

  const server = options.tls
    ? http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true }, onRequest as never)
    : http.createServer({ noDelay: true }, onRequest);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    origin: `${options.tls ? 'https' : 'http'}://${shownHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
