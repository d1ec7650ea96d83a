// Serves the demo page and the built bundles (read-only, GET/HEAD, inside the given folders only).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.wav': 'audio/wav',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The talstream package folder: the nearest parent of this module holding a package.json named
 * `talstream` (src/server/ when run from source, dist/ when run from the built CLI).
 */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'talstream') return dir;
      } catch {
        // not ours; keep looking upwards
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Answers a GET/HEAD for `url.pathname` from `mounts` (URL prefix -> folder). Returns false when no
 * mount matches so that the caller can answer 404. Paths that climb out of a mount get 403.
 */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, url: URL, mounts: Record<string, string>): Promise<boolean> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad path encoding\n');
    return true;
  }
  for (const [prefix, folder] of Object.entries(mounts)) {
    if (!pathname.startsWith(prefix)) continue;
    const base = path.resolve(folder);
    let file = path.resolve(base, '.' + pathname.slice(prefix.length - 1));
    if (file !== base && !file.startsWith(base + path.sep)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden\n');
      return true;
    }
    try {
      if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': String(body.length),
        // A development server: always serve what is on disk now (after a rebuild, a reload sees it).
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${pathname}\n`);
    }
    return true;
  }
  return false;
}
