import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../../src/protocol/index';
import { decodeChunks, randomSplit, rng, sha256, vectorsDir } from './protocol-helpers';

interface ManifestFrame { byteLength: number; header: Record<string, unknown>; payloadLength: number; payloadSha256: string }
interface ManifestCase { name: string; kind: string; file: string; totalBytes: number; sha256: string; frames: ManifestFrame[] }
const manifest = JSON.parse(readFileSync(path.join(vectorsDir, 'manifest.json'), 'utf8')) as { cases: ManifestCase[] };

function expectMatches(frames: Frame[], c: ManifestCase): void {
  expect(frames.length).toBe(c.frames.length);
  let offset = 0;
  c.frames.forEach((m, i) => {
    const f = frames[i]!;
    expect(f.header).toEqual(m.header);
    expect(f.payload.length).toBe(m.payloadLength);
    expect(sha256(f.payload)).toBe(m.payloadSha256);
    expect(f.offset).toBe(offset);
    expect(f.byteLength).toBe(m.byteLength);
    offset += m.byteLength;
  });
}

describe('golden vectors (seed-written frames)', () => {
  it('lists the cases we expect, each with its file', () => {
    expect(manifest.cases.map((c) => [c.name, c.file])).toEqual(
      ['tal-default-20ms', 'tal-reply-stream', 'tal-unicode-text', 'tal-empty-audio', 'tal-int32-stereo-48k', 'anb-json-three-answers'].map((n) => [n, `${n}.bin`]),
    );
  });
  for (const c of manifest.cases) {
    describe(c.name, () => {
      const bytes = new Uint8Array(readFileSync(path.join(vectorsDir, c.file)));
      it('file matches the manifest', () => {
        expect(bytes.length).toBe(c.totalBytes);
        expect(sha256(bytes)).toBe(c.sha256);
      });
      it('decodes fed whole', () => {
        expectMatches(decodeChunks([bytes]), c);
      });
      it('decodes fed byte by byte', () => {
        const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
        expectMatches(decodeChunks(chunks), c);
      });
      it('decodes at random split points (50 seeds)', () => {
        for (let seed = 1; seed <= 50; seed++) {
          const r = rng(seed);
          const chunks = randomSplit(bytes, r, seed % 2 ? 16 : 2000);
          expectMatches(decodeChunks(chunks), c);
        }
      });
      it('re-encodes each frame to one that decodes back the same', () => {
        const frames = decodeChunks([bytes]);
        for (const f of frames) {
          const again = decodeChunks([encodeFrame(f.header, f.payload)]);
          expect(again.length).toBe(1);
          expect(again[0]!.header).toEqual(f.header);
          expect(sha256(again[0]!.payload)).toBe(sha256(f.payload));
        }
      });
    });
  }
});
