#!/usr/bin/env node
// `npm start`: builds dist/ when it is missing or older than the sources, then runs the reference
// server (`talstream serve`) with the demo at http://127.0.0.1:8080 (PORT to change).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = ['dist/talstream.iife.js', 'dist/talstream.hands-free.js', 'dist/talstream.mjs', 'dist/cli.mjs'].map((p) => path.join(root, p));
const inputs = ['src', 'worklets', 'rollup.config.mjs', 'package.json', 'tsconfig.json'].map((p) => path.join(root, p));

/** Newest modification time under `p` (a file or a folder, recursively). */
function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(p)) t = Math.max(t, newest(path.join(p, name)));
  return t;
}

function needsBuild() {
  if (outputs.some((o) => !existsSync(o))) return 'dist/ is missing';
  const built = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  const changed = Math.max(...inputs.map(newest));
  return changed > built ? 'sources changed since the last build' : '';
}

const why = needsBuild();
if (why) {
  console.log(`talstream: building (${why}) ...`);
  const rollup = path.join(root, 'node_modules', 'rollup', 'dist', 'bin', 'rollup');
  const r = existsSync(rollup)
    ? spawnSync(process.execPath, [rollup, '-c'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npx', ['rollup', '-c'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error('talstream: the build failed (see above); run `npm ci` first if node_modules is missing.');
    process.exit(r.status ?? 1);
  }
}

const port = process.env.PORT ?? '8080';
const child = spawn(process.execPath, [path.join(root, 'dist', 'cli.mjs'), 'serve', '--port', port], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group; SIGTERM (e.g. from a supervisor)
// is passed on explicitly.
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => {});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
