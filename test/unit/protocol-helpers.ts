// Shared helpers of the protocol and CLI unit tests (not a test file itself).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { FrameDecoder, type Frame } from '../../src/protocol/index';

import { concat } from '../support/chunking.mjs';

export { concat, randomSplit, rng } from '../support/chunking.mjs';

/** The repository root. */
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

/** A RIFF chunk written by hand: id, declared size (default: the body's), body, pad byte to even length. */
export function wavChunk(id: string, body: Uint8Array, size = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, size, true);
  out.set(body, 8);
  return out;
}

/** 'RIFF' <size, left 0: readers ignore it> 'WAVE' and the chunks. */
export function riff(...chunks: Uint8Array[]): Uint8Array {
  const head = new Uint8Array(12);
  head.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  head.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  return concat([head, ...chunks]);
}

/** The 16 bytes of a fmt chunk's body (WAVEFORMAT): tag, channels, rate, byte rate, block align, bits. */
export function wavFmt(tag: number, channels: number, rate: number, bits: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, (rate * channels * bits) / 8, true);
  v.setUint16(12, (channels * bits) / 8, true);
  v.setUint16(14, bits, true);
  return b;
}
