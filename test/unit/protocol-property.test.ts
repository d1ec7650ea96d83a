import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { FrameDecoder, encodeFrame, encodeTalAudio, readTalAudio } from '../../src/protocol/index';
import { concat } from './protocol-helpers';

/** Splits bytes at the given cut points (any number, any positions, duplicates allowed). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const header = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 12 }), jsonValue, { maxKeys: 6 });

describe('property: frames round-trip at random chunkings', () => {
  it('random headers (unicode, nested, extra fields) and payloads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 300 })), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cuts) => {
          const bytes = concat(frames.map(([h, p]) => encodeFrame(h, p)));
          const d = new FrameDecoder();
          const got = split(bytes, cuts).flatMap((c) => d.push(c));
          d.end();
          expect(got.length).toBe(frames.length);
          let offset = 0;
          got.forEach((f, i) => {
            // JSON normalises -0 to 0; compare with what JSON itself round-trips to
            expect(f.header).toEqual(JSON.parse(JSON.stringify(frames[i]![0])));
            expect(Array.from(f.payload)).toEqual(Array.from(frames[i]![1]));
            expect(f.offset).toBe(offset);
            offset += f.byteLength!;
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('TALAudio header fields and samples survive encode -> chunked decode -> readTalAudio', () => {
    fc.assert(
      fc.property(
        fc.record({
          sampleRate: fc.integer({ min: 1000, max: 384000 }),
          question: fc.string({ unit: 'grapheme' }),
          answer: fc.string({ unit: 'grapheme' }),
          order: fc.nat(),
          sign: fc.constantFrom(1, 2, 3),
          custom: jsonValue,
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (h, nch, ints, cuts) => {
          const samples = Int16Array.from(ints.slice(0, ints.length - (ints.length % nch)));
          const bytes = encodeTalAudio({ ...h, channels: nch }, samples);
          const d = new FrameDecoder();
          const [f] = split(bytes, cuts).flatMap((c) => d.push(c));
          d.end();
          const { header: back, channels } = readTalAudio(f!);
          // The expected header: PROTOCOL.md's table of the seed's defaults, written out here (not
          // taken from the codec), overridden by the fields given; `custom` as JSON carries it.
          const seedDefaults = { audioType: 'int16', bitDepth: 16, sampleRate: 16000, channels: 1, audioFormat: 'wav', question: '', answer: '', url: '', sign: 1, order: 1 };
          expect(back).toEqual(JSON.parse(JSON.stringify({ ...seedDefaults, ...h, channels: nch })));
          for (let c = 0; c < nch; c++) {
            expect(Array.from(channels[c]!, (x) => x * 32768)).toEqual(Array.from(samples.filter((_, i) => i % nch === c)));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('property: random bytes never throw anything but TalStreamError', () => {
  it('at random chunkings, with push and end', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          // plausible-looking frames with random corruption, so deeper paths are reached
          fc.tuple(header, fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([h, p, at, v]) => {
            const b = encodeFrame(h, p);
            b[at % b.length] = v;
            return b;
          }),
        ),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 8, max: 300 }),
        (bytes, cuts, max) => {
          const d = new FrameDecoder({ maxFrameBytes: max });
          try {
            for (const c of split(bytes, cuts)) d.push(c);
            d.end();
          } catch (e) {
            expect(e).toBeInstanceOf(TalStreamError);
            expect(typeof (e as TalStreamError).offset).toBe('number');
            expect((e as TalStreamError).offset).toBeLessThanOrEqual(bytes.length);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
