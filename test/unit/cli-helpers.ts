// CliIOs for running CLI commands inside tests: in memory, or the real outside world with the
// output captured (not a test file itself).
import { readFile, writeFile } from 'node:fs/promises';
import type { CliIO } from '../../src/cli/io';
import { concat } from './protocol-helpers';

export interface MemoryIO extends CliIO {
  out(): string;
  outBytes(): Uint8Array;
  err(): string;
  files: Map<string, Uint8Array>;
}

/** stdout/stderr captured; files from `files` (falling back to the real disk); stdin from `stdin`. */
export function memoryIO(opts: { stdin?: Uint8Array[]; files?: Record<string, Uint8Array>; fetch?: typeof fetch; tty?: boolean } = {}): MemoryIO {
  const out: Uint8Array[] = [];
  const err: string[] = [];
  const files = new Map(Object.entries(opts.files ?? {}));
  const enc = new TextEncoder();
  const load = async (p: string) => files.get(p) ?? new Uint8Array(await readFile(p));
  return {
    stdout: { isTTY: opts.tty ?? false, write: (d) => void out.push(typeof d === 'string' ? enc.encode(d) : d.slice()) },
    stderr: { write: (d) => void err.push(typeof d === 'string' ? d : new TextDecoder().decode(d)) },
    stdin: (async function* () {
      for (const c of opts.stdin ?? []) yield c;
    })(),
    fetch: opts.fetch ?? (() => Promise.reject(new Error('no fetch in this test'))),
    readFile: load,
    openRead: (p) =>
      (async function* () {
        const all = await load(p);
        for (let i = 0; i < all.length; i += 7) yield all.subarray(i, i + 7); // small chunks on purpose
      })(),
    writeFile: async (p, d) => void files.set(p, d.slice()),
    now: () => 0,
    out: () => new TextDecoder().decode(concat(out)),
    outBytes: () => concat(out),
    err: () => err.join(''),
    files,
  };
}

/** The JSON lines of a captured stdout. */
export const jsonLines = (text: string): Record<string, any>[] =>
  text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** The real outside world (fetch, files, clock), with stdout and stderr captured as text. */
export function captureIO(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const text = (d: string | Uint8Array) => (typeof d === 'string' ? d : new TextDecoder().decode(d));
  return {
    stdout: { write: (d) => void (out += text(d)) },
    stderr: { write: (d) => void (err += text(d)) },
    stdin: (async function* () {})(),
    fetch: (...a) => fetch(...a),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    openRead: () => {
      throw new Error('not used');
    },
    writeFile: (p, d) => writeFile(p, d),
    now: () => performance.now(),
    out: () => out,
    err: () => err,
  };
}
