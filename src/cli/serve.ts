// `talstream serve [--port N]`: the reference server (demo page + POST /ask) from the CLI; the same
// server `npm start` runs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startReferenceServer, type ReferenceServer } from '../server/reference-server';
import { packageRoot } from '../server/static-files';
import { parseCommandArgs, UsageError } from './args';
import type { CliCommand } from './command';
import type { CliIO } from './io';

/** Test hooks of {@link runServe}. */
export interface ServeHooks {
  /** Stops the server when aborted; without it the server runs until SIGINT or SIGTERM. */
  signal?: AbortSignal;
  /** Called once the server listens (tests use it to learn the port). */
  onListening?: (server: ReferenceServer) => void;
}

const usage = `usage: talstream serve [--port N] [options]

Runs the reference server (the same one \`npm start\` runs): the demo page at http://127.0.0.1:PORT/
and the reference endpoint POST /ask, which decodes the uploaded TALAudio frames, answers with what
it heard ("heard 2.4 s of 16 kHz audio, 440 Hz peak") and streams back your audio (or a tone) as
20 ms TALAudio frames with captions. Query options of /ask:
  ?pace=realtime|burst   one frame per 20 ms like a TTS server (default), or everything at once
  ?jitter=wifi|4g|congested   imitate that network's delivery gaps (seeded; ?seed=N)
  ?reply=echo|tone       your own audio resampled to 24 kHz (default), or a tone at your pitch

options:
  --port N             TCP port (default: $PORT, else 8080; 0 = any free port)
  --host ADDR          interface to bind (default 127.0.0.1, loopback only)
  --tls-key FILE       PEM key   } both: HTTP/2 over TLS (HTTP/1.1 still accepted), which
  --tls-cert FILE      PEM cert  } Chromium needs for streaming request bodies
  --quiet              no request log
  -h, --help           this text
`;

/** Runs `talstream serve`; resolves with the exit code once the server has stopped. */
export async function runServe(argv: string[], io: CliIO, hooks: ServeHooks = {}): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-cert': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const portText = values.port ?? process.env.PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer 0..65535, got "${portText}"`);
  if (!values['tls-key'] !== !values['tls-cert']) throw new UsageError('--tls-key and --tls-cert go together');
  const tls =
    values['tls-key'] && values['tls-cert']
      ? { key: Buffer.from(await io.readFile(values['tls-key'])), cert: Buffer.from(await io.readFile(values['tls-cert'])) }
      : undefined;
  const host = values.host ?? '127.0.0.1';
  let server: ReferenceServer;
  try {
    server = await startReferenceServer({
      port,
      host,
      tls,
      log: values.quiet ? undefined : (line) => void io.stdout.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`),
    });
  } catch (e) {
    await io.stderr.write(`error: cannot listen on ${host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const root = packageRoot();
  await io.stdout.write(`talstream reference server: ${server.origin}/  (demo)  POST ${server.origin}/ask\n`);
  if (!root || !existsSync(path.join(root, 'dist', 'talstream.iife.js'))) {
    await io.stderr.write('note: dist/talstream.iife.js is missing: run `npm run build` (or `npm start`) for the demo page\n');
  }
  hooks.onListening?.(server);
  await new Promise<void>((resolve) => {
    const { signal } = hooks;
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
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

const serve: CliCommand = {
  summary: 'run the reference server: the demo page and POST /ask (echo or tone replies, pacing, jitter)',
  usage,
  run: (argv, io) => runServe(argv, io),
};

export default serve;
