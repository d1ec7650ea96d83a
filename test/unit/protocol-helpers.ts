// Shared helpers of the protocol and CLI unit tests (not a test file itself).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { FrameDecoder, type Frame } from '../../src/protocol/index';

export { concat, randomSplit, rng } from '../support/chunking.mjs';

/** The repository root. (node:path, not `new URL`: happy-dom replaces the URL global.) */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The read-only shared material beside the repo (../shared from /work/main). */
export const sharedDir = path.resolve(repoRoot, '../shared');
export const vectorsDir = path.join(sharedDir, 'protocol/vectors');
export const talwirePy = path.join(sharedDir, 'protocol/talwire.py');

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Runs `fn` and returns the TalStreamError it throws (fails the test if it throws nothing or something else). */
export function caught(fn: () => unknown): TalStreamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TalStreamError);
    return e as TalStreamError;
  }
  throw new Error('expected a TalStreamError, nothing was thrown');
}

/** Decodes all chunks then ends the stream. */
export function decodeChunks(chunks: Uint8Array[], opts?: { maxFrameBytes?: number }): Frame[] {
  const d = new FrameDecoder(opts);
  const out: Frame[] = [];
  for (const c of chunks) out.push(...d.push(c));
  d.end();
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
