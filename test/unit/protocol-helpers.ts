// Shared helpers of the protocol and CLI unit tests (not a test file itself).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameDecoder, type Frame } from '../../src/protocol/index';

/** The repository root. (node:path, not `new URL`: happy-dom replaces the URL global.) */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The read-only shared material beside the repo (../shared from /work/main). */
export const sharedDir = path.resolve(repoRoot, '../shared');
export const vectorsDir = path.join(sharedDir, 'protocol/vectors');
export const talwirePy = path.join(sharedDir, 'protocol/talwire.py');

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Deterministic PRNG (mulberry32) so a failing split is reproducible from its seed. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts bytes into chunks of 1..maxChunk bytes chosen by `r`. */
export function randomSplit(bytes: Uint8Array, r: () => number, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(r() * maxChunk));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

/** Decodes all chunks then ends the stream. */
export function decodeChunks(chunks: Uint8Array[], opts?: { maxFrameBytes?: number }): Frame[] {
  const d = new FrameDecoder(opts);
  const out: Frame[] = [];
  for (const c of chunks) out.push(...d.push(c));
  d.end();
  return out;
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Frame bytes with the given raw length words and body (for malformed input). */
export function rawFrame(total: number, h: number, body: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const b = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const out = new Uint8Array(8 + b.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, total, true);
  v.setUint32(4, h, true);
  out.set(b, 8);
  return out;
}
