// `talstream serve [--port N]`: the reference server (demo page + POST /ask) from the CLI; the same
// server `npm start` runs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startReferenceServer, type ReferenceServer } from '../server/reference-server';
import { packageRoot } from '../server/static-files';

/** Where the command writes; `signal` stops the server (default: SIGINT / SIGTERM). */
export interface ServeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Stops the server when aborted; without it the server runs until SIGINT or SIGTERM. */
  signal?: AbortSignal;
  /** Called once the server listens (tests use it to learn the port). */
  onListening?: (server: ReferenceServer) => void;
}

export const SERVE_USAGE = `usage: talstream serve [--port N] [--host 127.0.0.1] [--tls-key key.pem --tls-cert cert.pem] [--quiet]
  Serves the demo at http://127.0.0.1:PORT/ and the reference endpoint POST /ask
  (?pace=burst|realtime, ?jitter=wifi|4g|congested, ?reply=echo|tone, ?seed=N).
  PORT defaults to $PORT, else 8080. With --tls-key/--tls-cert it speaks HTTP/2 over TLS.`;

/** Runs `talstream serve`; resolves with the exit code once the server has stopped. */
export async function serveCommand(argv: string[], io: ServeIo): Promise<number> {
  let values: { port?: string; host?: string; 'tls-key'?: string; 'tls-cert'?: string; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-cert': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr(`error: ${(e as Error).message}\n${SERVE_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(SERVE_USAGE + '\n');
    return 0;
  }
  const portText = values.port ?? process.env.PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr(`error: port must be an integer 0..65535 (got ${JSON.stringify(portText)})\n`);
    return 2;
  }
  if (!values['tls-key'] !== !values['tls-cert']) {
    io.stderr('error: --tls-key and --tls-cert go together\n');
    return 2;
  }
  const tls =
    values['tls-key'] && values['tls-cert']
      ? { key: await readFile(values['tls-key']), cert: await readFile(values['tls-cert']) }
      : undefined;
  let server: ReferenceServer;
  try {
    server = await startReferenceServer({
      port,
      host: values.host ?? '127.0.0.1',
      tls,
      log: values.quiet ? undefined : (line) => io.stdout(`${new Date().toISOString().slice(11, 23)} ${line}\n`),
    });
  } catch (e) {
    io.stderr(`error: cannot listen on ${values.host ?? '127.0.0.1'}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const root = packageRoot();
  io.stdout(`talstream reference server: ${server.origin}/  (demo)  POST ${server.origin}/ask\n`);
  if (!root || !existsSync(path.join(root, 'dist', 'talstream.iife.js'))) {
    io.stderr('note: dist/talstream.iife.js is missing: run `npm run build` (or `npm start`) for the demo page\n');
  }
  io.onListening?.(server);
  await new Promise<void>((resolve) => {
    if (io.signal) {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
