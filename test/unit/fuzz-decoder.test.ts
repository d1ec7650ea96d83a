// Fuzz: 20,000 damaged replies (bit flips, truncation, insertions, random length words, broken
// header JSON, out-of-range TALAudio fields, payloads that fit no sample size) through
// decodeFrames at random chunkings. The checks live in test/support/reply-fuzz.mjs (shared with
// the reliability bench, which runs them on dist/).
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { decodeFrames } from '../../src/protocol/index';
import { fuzz, type FuzzCodec } from '../support/reply-fuzz.mjs';
import { codec } from './fuzz-codec';

const DECODER_CODES = ['bad-header', 'bad-length', 'bad-payload', 'frame-too-large', 'truncated'];

describe('fuzz: damaged replies through decodeFrames', () => {
  // Four blocks of 5,000 seeds (20,000 cases in all), each well inside the test timeout. Under
  // `npm run mutate` (MUTATE_AREA set) the first block only: every mutant that survives runs the
  // whole fuzz, instrumented; the score is then, if anything, low.
  const blocks = process.env.MUTATE_AREA ? 1 : 4;
  for (let block = 0; block < blocks; block++) {
    const first = 1 + block * 5000;
    it(`seeds ${first}..${first + 4999}: only TalStreamErrors, every frame before the damage intact and in order`, async () => {
      const s = await fuzz(codec, 5000, first);
      expect(s.failures).toEqual([]);
      expect(s.failed).toBe(0);
      // The generator really reaches every error path (a fuzz that only hits one proves little).
      for (const code of DECODER_CODES) expect(s.byCode[code] ?? 0, code).toBeGreaterThan(100);
      expect(Object.keys(s.byKind).sort()).toEqual(['bad-field', 'bit-flip', 'broken-header', 'insert', 'length-word', 'odd-payload', 'truncate']);
      // Frames did come out before the damage: the intact-prefix check was exercised.
      expect(s.framesOut).toBeGreaterThan(5000);
    });
  }
});

describe('fuzz: the checker catches broken decoders', () => {
  // Each sabotaged codec must be caught, or the fuzz above could pass vacuously.
  const sabotage = async (patch: Partial<FuzzCodec>) => (await fuzz({ ...codec, ...patch }, 300, 777)).failed;

  it('a decoder that drops a good frame', async () => {
    async function* dropping(...args: Parameters<typeof decodeFrames>) {
      let i = 0;
      for await (const f of decodeFrames(...args)) if (i++ !== 1) yield f;
    }
    expect(await sabotage({ decodeFrames: dropping as typeof decodeFrames })).toBeGreaterThan(10);
  });

  it('a decoder that throws a plain Error', async () => {
    async function* plain(...args: Parameters<typeof decodeFrames>) {
      try {
        yield* decodeFrames(...args);
      } catch (e) {
        throw new Error(String(e));
      }
    }
    expect(await sabotage({ decodeFrames: plain as typeof decodeFrames })).toBeGreaterThan(10);
  });

  it('a decoder that alters a payload byte', async () => {
    async function* altering(...args: Parameters<typeof decodeFrames>) {
      for await (const f of decodeFrames(...args)) {
        if (f.payload.length > 0) f.payload = Uint8Array.from(f.payload, (x, i) => (i === 0 ? x ^ 1 : x));
        yield f;
      }
    }
    expect(await sabotage({ decodeFrames: altering as typeof decodeFrames })).toBeGreaterThan(10);
  });

  it('a decoder that reports an error before the damaged frame', async () => {
    async function* early(...args: Parameters<typeof decodeFrames>) {
      try {
        yield* decodeFrames(...args);
      } catch (e) {
        const err = e as TalStreamError;
        throw new TalStreamError(err.code, err.message, { offset: Math.max(0, (err.offset ?? 0) - 8) });
      }
    }
    expect(await sabotage({ decodeFrames: early as typeof decodeFrames })).toBeGreaterThan(10);
  });
});
