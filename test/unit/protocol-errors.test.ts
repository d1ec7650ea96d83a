// Every error the codec throws, by input: its code, byte offset and whole message, written out here
// (the messages are what an app's log shows a developer; a wrong number or a lost field name in one
// is a bug). The inputs are built byte by byte in this file, not by the encoders under test, where
// the encoders are not the subject.
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { allocateFrame, assembleFrame } from '../../src/protocol/frame-codec';
import {
  FrameDecoder,
  TAL_AUDIO_DEFAULTS,
  decodeFrames,
  encodeFrame,
  encodeJsonFrame,
  encodeTalAudio,
  readJsonFrame,
  readTalAudio,
  readWav,
  writeWav,
  type Frame,
} from '../../src/protocol/index';
import { caught, concat, rawFrame, riff, wavChunk as chunk, wavFmt as fmt } from './protocol-helpers';

const text = (s: string) => new TextEncoder().encode(s);
/** JSON.parse's own message for `s` (the platform's, quoted after ours). */
const parseMessage = (s: string) => {
  try {
    JSON.parse(s);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${s} parses`);
};
/** The one frame in `bytes`, decoded after the frames in `before` (pushed first, so an error in `bytes` throws at once). */
const decodeAt = (bytes: Uint8Array, before: Uint8Array = new Uint8Array(0)): Frame => {
  const d = new FrameDecoder();
  d.push(before);
  return d.push(bytes)[0]!;
};
/** A frame with the given header JSON text and payload, written by hand. */
const handFrame = (header: string, payload: Uint8Array = new Uint8Array(0)) => {
  const h = text(header);
  return rawFrame(8 + h.length + payload.length, h.length, concat([h, payload]));
};
const expectError = (e: TalStreamError, code: string, offset: number | undefined, message: string) => {
  expect({ code: e.code, offset: e.offset, message: e.message }).toEqual({ code, offset, message });
};

describe('writing frames: bad-argument', () => {
  it('a header that is not a JSON object', () => {
    for (const h of [null, [], 'x', 3]) {
      expectError(caught(() => encodeFrame(h as object)), 'bad-argument', undefined, 'frame header must be a JSON object');
    }
  });

  it('a header or value JSON cannot carry: BigInt (the TypeError kept as cause), undefined, a function', () => {
    const big = caught(() => encodeFrame({ n: 1n }));
    expectError(big, 'bad-argument', undefined, 'frame header is not serialisable as JSON');
    expect(big.cause).toBeInstanceOf(TypeError);
    for (const v of [undefined, () => 1]) {
      const e = caught(() => encodeJsonFrame({}, v));
      expectError(e, 'bad-argument', undefined, 'AnbJson value is not serialisable as JSON');
      expect(e.cause).toBeUndefined();
    }
    expectError(caught(() => encodeJsonFrame({}, { n: 2n })), 'bad-argument', undefined, 'AnbJson value is not serialisable as JSON');
    expectError(caught(() => encodeTalAudio({ n: 3n } as object)), 'bad-argument', undefined, 'TALAudio header is not serialisable as JSON');
  });

  it('a frame longer than a u32 length word can say (lengths only: nothing that size is allocated)', () => {
    const huge = { length: 2 ** 32 } as Uint8Array;
    expectError(caught(() => assembleFrame(new Uint8Array(2), huge)), 'bad-argument', undefined, 'frame of 4294967306 bytes does not fit a u32 length');
    expectError(caught(() => allocateFrame(new Uint8Array(2), 2 ** 32 - 10)), 'bad-argument', undefined, 'frame of 4294967296 bytes does not fit a u32 length');
  });
});

describe('reading frames: the decoder', () => {
  it('maxFrameBytes below 8 or not a number', () => {
    for (const max of [7, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectError(caught(() => new FrameDecoder({ maxFrameBytes: max })), 'bad-argument', undefined, 'maxFrameBytes must be a number >= 8');
    }
  });

  it('lengths: too large for maxFrameBytes, and total < 8 + H, at the frame after a good one', () => {
    const good = handFrame('{"a":1}'); // 15 bytes
    const big = new FrameDecoder({ maxFrameBytes: 64 });
    expect(big.push(good)).toHaveLength(1);
    expectError(caught(() => big.push(rawFrame(65, 2))), 'frame-too-large', 15, 'frame declares 65 bytes, more than maxFrameBytes 64');
    const short = new FrameDecoder();
    short.push(good);
    expectError(caught(() => short.push(rawFrame(9, 2, '{}'))), 'bad-length', 15, 'frame total 9 < 8 + header length 2');
  });

  it('a frame of exactly maxFrameBytes is read', () => {
    const f = handFrame('{}', new Uint8Array(54)); // 64 bytes
    const frames = new FrameDecoder({ maxFrameBytes: 64 }).push(f);
    expect(frames.map((x) => [x.byteLength, x.payload.length])).toEqual([[64, 54]]);
  });

  it('header bytes that are not UTF-8: the TextDecoder TypeError as cause', () => {
    const e = caught(() => decodeAt(rawFrame(10, 2, new Uint8Array([0x7b, 0xff])), handFrame('{}')));
    expectError(e, 'bad-header', 10, 'frame header is not valid UTF-8');
    expect(e.cause).toBeInstanceOf(TypeError);
  });

  it('header text that is not JSON, JSON.parse\'s message after ours; a UTF-8 BOM is not skipped (Python json.loads refuses it too)', () => {
    const e = caught(() => decodeAt(handFrame('{"a":')));
    expectError(e, 'bad-header', 0, `frame header is not JSON: ${parseMessage('{"a":')}`);
    expect(e.cause).toBeInstanceOf(SyntaxError);
    const bom = caught(() => decodeAt(handFrame('\ufeff{}')));
    expectError(bom, 'bad-header', 0, `frame header is not JSON: ${parseMessage('\ufeff{}')}`);
  });

  it('header JSON that is not an object names what it is', () => {
    const cases: [string, string][] = [['null', 'null'], ['[1]', 'array'], ['3', 'number'], ['"s"', 'string'], ['true', 'boolean']];
    for (const [json, what] of cases) {
      expectError(caught(() => decodeAt(handFrame(json))), 'bad-header', 0, `frame header is JSON ${what}, not an object`);
    }
  });

  it('the stream ending inside the length words or inside the frame: how much came of how much', () => {
    const inPrefix = new FrameDecoder();
    inPrefix.push(concat([handFrame('{}'), new Uint8Array(3)]));
    expectError(caught(() => inPrefix.end()), 'truncated', 10, 'stream ended inside a frame: 3 of at least 8 bytes received');
    const inBody = new FrameDecoder();
    inBody.push(handFrame('{}', new Uint8Array(10)).subarray(0, 10));
    expectError(caught(() => inBody.end()), 'truncated', 0, 'stream ended inside a frame: 10 of 20 bytes received');
  });

  it('decodeFrames aborted: its message, and the signal\'s reason as cause', async () => {
    const ac = new AbortController();
    const reason = new Error('user left');
    ac.abort(reason);
    const it = decodeFrames((async function* () {})(), { signal: ac.signal });
    const e = await it.next().then(() => undefined, (x: unknown) => x as TalStreamError);
    expectError(e!, 'aborted', undefined, 'frame decoding was aborted');
    expect(e!.cause).toBe(reason);
  });
});

describe('reading AnbJson payloads: bad-payload at the payload', () => {
  it('not UTF-8 (TypeError as cause), not JSON (SyntaxError), at the payload\'s first byte', () => {
    const notUtf8 = decodeAt(handFrame('{"k":1}', new Uint8Array([0xc3])), handFrame('{}'));
    const e = caught(() => readJsonFrame(notUtf8));
    expectError(e, 'bad-payload', 10 + 15, 'AnbJson payload is not valid UTF-8');
    expect(e.cause).toBeInstanceOf(TypeError);
    const notJson = decodeAt(handFrame('{}', text('nope')));
    const j = caught(() => readJsonFrame(notJson));
    expectError(j, 'bad-payload', 10, `AnbJson payload is not JSON: ${parseMessage('nope')}`);
    expect(j.cause).toBeInstanceOf(SyntaxError);
  });

  it('a frame made by hand (no byteLength) reports its own offset', () => {
    expect(caught(() => readJsonFrame({ header: {}, payload: text('{'), offset: 7 })).offset).toBe(7);
    expect(caught(() => readTalAudio({ header: { ...TAL_AUDIO_DEFAULTS }, payload: new Uint8Array(3), offset: 9 })).offset).toBe(9);
  });
});

describe('TALAudio', () => {
  const headerCases: [Record<string, unknown>, string][] = [
    [{ audioType: 'float32', bitDepth: 32 }, 'unknown audioType "float32" (expected "int16" or "int32")'],
    [{ audioType: 16 }, 'unknown audioType 16 (expected "int16" or "int32")'],
    [{ audioType: 'int16', bitDepth: 24 }, 'bitDepth 24 disagrees with audioType "int16"'],
    [{ audioType: 'int32', bitDepth: '32' }, 'bitDepth "32" disagrees with audioType "int32"'],
    [{ sampleRate: 999 }, 'sampleRate 999 outside 1000..384000'],
    [{ sampleRate: 384001 }, 'sampleRate 384001 outside 1000..384000'],
    [{ sampleRate: 16000.5 }, 'sampleRate 16000.5 outside 1000..384000'],
    [{ sampleRate: '16000' }, 'sampleRate "16000" outside 1000..384000'],
    [{ channels: 0 }, 'channels 0 outside 1..32'],
    [{ channels: 33 }, 'channels 33 outside 1..32'],
    [{ channels: 1.5 }, 'channels 1.5 outside 1..32'],
    [{ channels: '2' }, 'channels "2" outside 1..32'],
  ];

  it.each(headerCases)('reading %j -> bad-header at the frame: %s', (fields, problem) => {
    const f = decodeAt(handFrame(JSON.stringify({ ...TAL_AUDIO_DEFAULTS, ...fields })), handFrame('{}'));
    expectError(caught(() => readTalAudio(f)), 'bad-header', 10, `TALAudio header: ${problem}`);
  });

  it.each(headerCases)('writing %j -> bad-argument: %s', (fields, problem) => {
    expectError(caught(() => encodeTalAudio(fields as object)), 'bad-argument', undefined, `TALAudio header: ${problem}`);
  });

  it('samples that do not fit the header', () => {
    expectError(caught(() => encodeTalAudio({ channels: 3 }, [new Float32Array(2), new Float32Array(2)])), 'bad-argument', undefined,
      'header says 3 channels but 2 arrays were given');
    for (const chans of [[new Float32Array(2), new Float32Array(3)], [new Float32Array(2), new Int16Array(2) as unknown as Float32Array]]) {
      expectError(caught(() => encodeTalAudio({}, chans)), 'bad-argument', undefined, 'per-channel samples must be Float32Arrays of equal length');
    }
    expectError(caught(() => encodeTalAudio({ channels: 2 }, new Int16Array(5))), 'bad-argument', undefined, '5 interleaved samples do not divide into 2 channels');
  });

  it('a payload that is not whole sample frames, and an unreadable WAV payload, at the payload (+ the WAV\'s own offset)', () => {
    const odd = decodeAt(handFrame(JSON.stringify({ ...TAL_AUDIO_DEFAULTS, channels: 2 }), new Uint8Array(6)));
    const payloadAt = odd.byteLength! - 6;
    expectError(caught(() => readTalAudio(odd)), 'bad-payload', payloadAt, 'TALAudio payload of 6 bytes is not a multiple of 2 channels x 2 bytes');
    const wav = concat([text('RIFF'), new Uint8Array(4), text('WAVE'), text('data'), new Uint8Array(4)]);
    const f = decodeAt(handFrame(JSON.stringify(TAL_AUDIO_DEFAULTS), wav));
    const e = caught(() => readTalAudio(f));
    expectError(e, 'bad-payload', f.byteLength! - wav.length + 12, 'TALAudio payload is a WAV file that cannot be read: data chunk before fmt chunk');
    expect((e.cause as TalStreamError).code).toBe('bad-wav');
  });
});

describe('WAV files: bad-wav at the place in the file, bad-argument when writing', () => {
  const data = chunk('data', new Uint8Array(4));

  it.each([
    ['not RIFF/WAVE', text('RIFX\0\0\0\0WAVE'), 0, 'not a RIFF/WAVE file'],
    ['fmt chunk of 14 bytes', riff(chunk('fmt ', new Uint8Array(14)), data), 12, 'fmt chunk too short'],
    ['fmt chunk cut by the end of the file', riff(chunk('fmt ', new Uint8Array(14), 16)), 12, 'fmt chunk too short'],
    ['WAVE_FORMAT_EXTENSIBLE fmt of 24 bytes', riff(chunk('fmt ', concat([fmt(0xfffe, 1, 8000, 16), new Uint8Array(8)])), data), 12,
      'WAVE_FORMAT_EXTENSIBLE fmt chunk too short'],
    ['WAVE_FORMAT_EXTENSIBLE fmt cut before its sub-format', riff(chunk('fmt ', concat([fmt(0xfffe, 1, 8000, 16), new Uint8Array(8)]), 40)), 12,
      'WAVE_FORMAT_EXTENSIBLE fmt chunk too short'],
    ['data before fmt', riff(data, chunk('fmt ', fmt(1, 1, 8000, 16))), 12, 'data chunk before fmt chunk'],
    ['no fmt chunk', riff(chunk('LIST', new Uint8Array(3))), 24, 'no fmt chunk'],
    ['no data chunk', riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('LIST', new Uint8Array(2))), 46, 'no data chunk'],
    ['8-bit PCM', riff(chunk('fmt ', fmt(1, 1, 8000, 8)), data), 12, 'unsupported WAV sample format (tag 1, 8 bits)'],
    ['16-bit float', riff(chunk('fmt ', fmt(3, 1, 8000, 16)), data), 12, 'unsupported WAV sample format (tag 3, 16 bits)'],
    ['24-bit float', riff(chunk('fmt ', fmt(3, 1, 8000, 24)), data), 12, 'unsupported WAV sample format (tag 3, 24 bits)'],
    ['64-bit float', riff(chunk('fmt ', fmt(3, 1, 8000, 64)), data), 12, 'unsupported WAV sample format (tag 3, 64 bits)'],
    ['A-law (tag 6)', riff(chunk('fmt ', fmt(6, 1, 8000, 32)), data), 12, 'unsupported WAV sample format (tag 6, 32 bits)'],
    ['no channels', riff(chunk('fmt ', fmt(1, 0, 8000, 16)), data), 12, 'unsupported channel count 0'],
    ['33 channels', riff(chunk('fmt ', fmt(1, 33, 8000, 16)), data), 12, 'unsupported channel count 33'],
    ['rate 0', riff(chunk('fmt ', fmt(1, 1, 0, 16)), data), 12, 'bad sample rate 0'],
  ])('%s', (_name, bytes, offset, message) => {
    expectError(caught(() => readWav(bytes)), 'bad-wav', offset, message);
  });

  it('writeWav: channels 0 or 33, a rate that is not a positive integer, unequal lengths', () => {
    const one = new Float32Array(2);
    expectError(caught(() => writeWav([], 8000)), 'bad-argument', undefined, 'writeWav needs 1..32 channels, got 0');
    expectError(caught(() => writeWav(Array.from({ length: 33 }, () => one), 8000)), 'bad-argument', undefined, 'writeWav needs 1..32 channels, got 33');
    for (const rate of [0, 1.5, -8000]) expectError(caught(() => writeWav([one], rate)), 'bad-argument', undefined, `bad sample rate ${rate}`);
    expectError(caught(() => writeWav([one, new Float32Array(3)], 8000)), 'bad-argument', undefined, 'channels differ in length');
  });
});
