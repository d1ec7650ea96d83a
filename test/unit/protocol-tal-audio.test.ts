import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  TAL_AUDIO_DEFAULTS,
  encodeJsonFrame,
  encodeTalAudio,
  readJsonFrame,
  readTalAudio,
  talAudioDurationMs,
  writeWav,
  encodeFrame,
  FrameDecoder,
  type Frame,
} from '../../src/protocol/index';
import { caught, concat, decodeChunks, sha256, talwirePy } from './protocol-helpers';

const one = (bytes: Uint8Array): Frame => decodeChunks([bytes])[0]!;
function le16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  values.forEach((v, i) => new DataView(b.buffer).setInt16(i * 2, v, true));
  return b;
}
function le32(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(b.buffer).setInt32(i * 4, v, true));
  return b;
}

describe('TAL_AUDIO_DEFAULTS', () => {
  it('are the seed TALAudio() defaults', () => {
    expect(TAL_AUDIO_DEFAULTS).toEqual({
      audioType: 'int16', bitDepth: 16, sampleRate: 16000, channels: 1, audioFormat: 'wav',
      question: '', answer: '', url: '', sign: 1, order: 1,
    });
  });
});

describe('readTalAudio', () => {
  it('reads int16 mono exactly (x / 32768)', () => {
    const f = one(encodeFrame({ ...TAL_AUDIO_DEFAULTS }, le16([0, 1, -1, 16384, -32768, 32767])));
    const { header, channels } = readTalAudio(f);
    expect(header.sampleRate).toBe(16000);
    expect(channels).toHaveLength(1);
    expect(Array.from(channels[0]!)).toEqual([0, 1 / 32768, -1 / 32768, 0.5, -1, 32767 / 32768]);
  });

  it('reads int32 exactly (x / 2^31, as float32)', () => {
    const f = one(encodeFrame({ ...TAL_AUDIO_DEFAULTS, audioType: 'int32', bitDepth: 32 }, le32([0, 1 << 30, -2147483648, 65536])));
    expect(Array.from(readTalAudio(f).channels[0]!)).toEqual([0, 0.5, -1, 65536 / 2147483648]);
  });

  it('de-interleaves stereo', () => {
    const f = one(encodeFrame({ ...TAL_AUDIO_DEFAULTS, channels: 2 }, le16([1, -1, 2, -2, 3, -3])));
    const { channels } = readTalAudio(f);
    expect(channels.map((c) => Array.from(c, (x) => x * 32768))).toEqual([[1, 2, 3], [-1, -2, -3]]);
  });

  it('reads payload views at odd byte offsets (int16 and int32)', () => {
    for (const [type, bytes, vals] of [
      ['int16', le16([100, -200, 300]), [100 / 32768, -200 / 32768, 300 / 32768]],
      ['int32', le32([1 << 20, -(1 << 24)]), [(1 << 20) / 2 ** 31, -(1 << 24) / 2 ** 31]],
    ] as const) {
      const header = { ...TAL_AUDIO_DEFAULTS, audioType: type, bitDepth: type === 'int16' ? 16 : 32 };
      const size = type === 'int16' ? 2 : 4;
      for (let pad = 1; pad < size; pad++) {
        if (pad % 2 === 0 && size === 2) continue;
        const buffer = new Uint8Array(pad + bytes.length);
        buffer.set(bytes, pad);
        const payload = buffer.subarray(pad);
        expect(payload.byteOffset % size).not.toBe(0);
        expect(Array.from(readTalAudio({ header, payload, offset: 0 }).channels[0]!)).toEqual(vals);
      }
    }
    // and as the decoder hands it over: a payload view at an odd position of a chunk
    const tal = encodeFrame({ ...TAL_AUDIO_DEFAULTS }, le16([-5, 6]));
    const prefix = [encodeFrame({ a: 1 }), encodeFrame({ ab: 1 })].find((p) => (p.length + tal.length - 4) % 2 === 1)!;
    const f = decodeChunks([concat([prefix, tal])])[1]!;
    expect(f.payload.byteOffset % 2).toBe(1);
    expect(Array.from(readTalAudio(f).channels[0]!, (x) => x * 32768)).toEqual([-5, 6]);
  });

  it('reads misaligned Node Buffer payloads (Buffer.slice does not copy) and the decoder hands out plain views', () => {
    const tal = encodeFrame({ ...TAL_AUDIO_DEFAULTS }, le16([7, -8, 9]));
    const pad = (tal.length - 6) % 2 === 0 ? 1 : 2; // puts the payload at an odd offset
    const buf = Buffer.alloc(tal.length + pad);
    buf.set(tal, pad);
    const f = decodeChunks([buf.subarray(pad)])[0]!;
    expect(f.payload.constructor).toBe(Uint8Array);
    expect(f.payload.byteOffset % 2).toBe(1);
    expect(Array.from(readTalAudio(f).channels[0]!, (x) => x * 32768)).toEqual([7, -8, 9]);
    const raw = buf.subarray(buf.length - 6);
    expect(Array.from(readTalAudio({ header: { ...TAL_AUDIO_DEFAULTS }, payload: raw, offset: 0 }).channels[0]!, (x) => x * 32768)).toEqual([7, -8, 9]);
  });

  it('merges defaults under missing fields and keeps unknown fields', () => {
    const f = one(encodeFrame({ sampleRate: 24000, mood: { happy: true }, tags: ['a'] }, le16([5])));
    const { header } = readTalAudio(f);
    expect(header).toEqual({ ...TAL_AUDIO_DEFAULTS, sampleRate: 24000, mood: { happy: true }, tags: ['a'] });
  });

  it('reads a RIFF/WAVE payload from its data chunk, with the WAV rate and channels', () => {
    const wav = writeWav([new Float32Array([0.5, -0.25]), new Float32Array([-0.5, 0.25])], 22050, { format: 'int16' });
    const f = one(encodeFrame({ ...TAL_AUDIO_DEFAULTS }, wav));
    const { header, channels } = readTalAudio(f);
    expect(header.sampleRate).toBe(22050);
    expect(header.channels).toBe(2);
    expect(channels.map((c) => Array.from(c))).toEqual([[0.5, -0.25], [-0.5, 0.25]]);
  });

  it('a RIFF payload that is not a readable WAV -> bad-payload at the payload', () => {
    const junk = concat([new TextEncoder().encode('RIFF\x10\0\0\0WAVE'), new Uint8Array(4)]);
    const prefix = encodeFrame({ x: 1 });
    const frames = decodeChunks([concat([prefix, encodeFrame({ ...TAL_AUDIO_DEFAULTS }, junk)])]);
    const e = caught(() => readTalAudio(frames[1]!));
    expect(e.code).toBe('bad-payload');
    // At the payload's byte 12, right after 'RIFF' <size> 'WAVE': where the fmt chunk must start
    // (4 bytes remain, not even a chunk header).
    expect(e.message).toMatch(/no fmt chunk/);
    expect(e.offset).toBe(frames[1]!.offset + frames[1]!.byteLength! - junk.length + 12);
  });

  describe('header validation -> bad-header at frame.offset', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['unknown audioType', { audioType: 'float32', bitDepth: 32 }],
      ['audioType not a string', { audioType: 16 }],
      ['bitDepth disagrees (int16/32)', { audioType: 'int16', bitDepth: 32 }],
      ['bitDepth disagrees (int32/16)', { audioType: 'int32', bitDepth: 16 }],
      ['sampleRate below 1000', { sampleRate: 999 }],
      ['sampleRate above 384000', { sampleRate: 384001 }],
      ['sampleRate not an integer', { sampleRate: 16000.5 }],
      ['sampleRate a string', { sampleRate: '16000' }],
      ['channels 0', { channels: 0 }],
      ['channels 33', { channels: 33 }],
    ];
    it.each(cases)('%s', (_, fields) => {
      const prefix = encodeFrame({ a: 1 }, new Uint8Array(3));
      const frames = decodeChunks([concat([prefix, encodeFrame({ ...TAL_AUDIO_DEFAULTS, ...fields }, new Uint8Array(8))])]);
      const e = caught(() => readTalAudio(frames[1]!));
      expect([e.code, e.offset]).toEqual(['bad-header', prefix.length]);
    });
    it('accepts the bounds 1000 and 384000 Hz and 32 channels', () => {
      for (const fields of [{ sampleRate: 1000 }, { sampleRate: 384000 }, { channels: 32 }]) {
        expect(() => readTalAudio(one(encodeFrame({ ...TAL_AUDIO_DEFAULTS, ...fields }, new Uint8Array(64))))).not.toThrow();
      }
    });
  });

  it('payload not a multiple of channels x bytes -> bad-payload at the payload start', () => {
    for (const [fields, len] of [[{}, 3], [{ channels: 2 }, 6], [{ audioType: 'int32', bitDepth: 32 }, 6]] as const) {
      const prefix = encodeFrame({ a: 1 });
      const frame = encodeFrame({ ...TAL_AUDIO_DEFAULTS, ...fields }, new Uint8Array(len));
      const f = decodeChunks([concat([prefix, frame])])[1]!;
      const e = caught(() => readTalAudio(f));
      expect([e.code, e.offset]).toEqual(['bad-payload', prefix.length + frame.length - len]);
    }
  });
});

describe('encodeTalAudio', () => {
  it('writes Int16Array samples as little-endian int16 with the merged header', () => {
    const f = one(encodeTalAudio({ sampleRate: 24000, answer: 'hi', sign: 2, order: 7, extra: [1, { deep: 'ü' }] }, new Int16Array([1, -2, 32767])));
    expect(f.header).toEqual({ ...TAL_AUDIO_DEFAULTS, sampleRate: 24000, answer: 'hi', sign: 2, order: 7, extra: [1, { deep: 'ü' }] });
    expect(Array.from(f.payload)).toEqual(Array.from(le16([1, -2, 32767])));
  });

  it('clips and converts floats: x * 32768 rounded, clipped to [-32768, 32767]', () => {
    const f = one(encodeTalAudio({}, new Float32Array([0, 0.5, -0.5, 1, -1, 2, -2, NaN, 1 / 32768])));
    expect(Array.from(new Int16Array(f.payload.slice().buffer))).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 1]);
  });

  it('writes int32 from floats and infers int32 from an Int32Array', () => {
    const f = one(encodeTalAudio({ audioType: 'int32' }, new Float32Array([0.5, -1, 1])));
    expect(f.header.bitDepth).toBe(32);
    expect(Array.from(new Int32Array(f.payload.slice().buffer))).toEqual([1 << 30, -2147483648, 2147483647]);
    const g = one(encodeTalAudio({}, new Int32Array([7, -7])));
    expect([g.header.audioType, g.header.bitDepth]).toEqual(['int32', 32]);
    expect(Array.from(new Int32Array(g.payload.slice().buffer))).toEqual([7, -7]);
  });

  it('converts between integer types when the header says so', () => {
    const up = one(encodeTalAudio({ audioType: 'int32' }, new Int16Array([1, -32768])));
    expect(Array.from(new Int32Array(up.payload.slice().buffer))).toEqual([65536, -2147483648]);
    const down = one(encodeTalAudio({ audioType: 'int16' }, new Int32Array([65536, -2147483648, 2147483647])));
    expect(Array.from(new Int16Array(down.payload.slice().buffer))).toEqual([1, -32768, 32767]);
  });

  it('interleaves per-channel Float32Arrays and sets channels', () => {
    const f = one(encodeTalAudio({}, [new Float32Array([0.25, 0.5]), new Float32Array([-0.25, -0.5])]));
    expect(f.header.channels).toBe(2);
    expect(Array.from(new Int16Array(f.payload.slice().buffer))).toEqual([8192, -8192, 16384, -16384]);
    const back = readTalAudio(f).channels.map((c) => Array.from(c));
    expect(back).toEqual([[0.25, 0.5], [-0.25, -0.5]]);
  });

  it('rejects samples or headers that do not fit with bad-argument', () => {
    expect(caught(() => encodeTalAudio({ channels: 2 }, new Int16Array(3))).code).toBe('bad-argument');
    expect(caught(() => encodeTalAudio({ channels: 3 }, [new Float32Array(1), new Float32Array(1)])).code).toBe('bad-argument');
    expect(caught(() => encodeTalAudio({}, [new Float32Array(1), new Float32Array(2)])).code).toBe('bad-argument');
    expect(caught(() => encodeTalAudio({ sampleRate: 500 }, new Int16Array(1))).code).toBe('bad-argument');
    expect(caught(() => encodeTalAudio({ audioType: 'int16', bitDepth: 32 }, new Int16Array(1))).code).toBe('bad-argument');
  });

  it('an end frame with no audio is legal', () => {
    const f = one(encodeTalAudio({ sign: 3, order: 4 }));
    expect(f.payload.length).toBe(0);
    expect(readTalAudio(f).channels[0]!.length).toBe(0);
  });
});

describe('readTalAudio at every alignment of the payload', () => {
  // A payload view into a network chunk starts at any byte. Typed arrays need 2- or 4-byte aligned
  // offsets; the reader must give the same samples whichever way it reads them.
  const cases: [string, Record<string, unknown>, Uint8Array, number[][]][] = [
    ['int16 stereo', { channels: 2 }, le16([16384, -32768, 1, -1, 32767, 0]), [[0.5, 2 ** -15, 32767 / 32768], [-1, -(2 ** -15), 0]]],
    ['int32 stereo', { audioType: 'int32', bitDepth: 32, channels: 2 }, le32([2 ** 30, -(2 ** 31), 1, -1]), [[0.5, 2 ** -31], [-1, -(2 ** -31)]]],
    ['int32 mono', { audioType: 'int32', bitDepth: 32 }, le32([-(2 ** 29), 2 ** 31 - 1]), [[-0.25, Math.fround((2 ** 31 - 1) / 2 ** 31)]]],
    ['int16 3 channels', { channels: 3 }, le16([1, 2, 3, -4, -5, -6]), [[1, -4], [2, -5], [3, -6]].map((c) => c.map((x) => x / 32768))],
  ];
  it.each(cases)('%s', (_name, fields, payload, expected) => {
    const frame = encodeFrame({ ...TAL_AUDIO_DEFAULTS, ...fields }, payload);
    for (let shift = 0; shift < 4; shift++) {
      const buf = new Uint8Array(shift + frame.length);
      buf.set(frame, shift);
      const f = new FrameDecoder().push(buf.subarray(shift))[0]!;
      const { channels } = readTalAudio(f);
      expect(channels.map((c) => Array.from(c))).toEqual(expected);
    }
    // the four placements really were four alignments of the payload
    const offsets = [0, 1, 2, 3].map((shift) => (shift + frame.length - payload.length) % 4);
    expect(new Set(offsets).size).toBe(4);
  });
});

describe('encodeTalAudio fills in what the header leaves out', () => {
  /** The header JSON and the payload's integers, read back by hand (not by the decoder under test). */
  const parse = (bytes: Uint8Array) => {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    const h = v.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + h)));
    const body = new DataView(bytes.buffer, bytes.byteOffset + 8 + h);
    const ints = [];
    for (let p = 0; p < body.byteLength; p += header.bitDepth / 8) ints.push(header.bitDepth === 32 ? body.getInt32(p, true) : body.getInt16(p, true));
    return { audioType: header.audioType, bitDepth: header.bitDepth, channels: header.channels, ints };
  };
  it.each([
    ['nothing, Int16Array', {}, new Int16Array([3, -3]), { audioType: 'int16', bitDepth: 16, channels: 1, ints: [3, -3] }],
    ['nothing, Int32Array: int32', {}, new Int32Array([65536, -1]), { audioType: 'int32', bitDepth: 32, channels: 1, ints: [65536, -1] }],
    ['bitDepth 32, Int16Array: int32, x 65536', { bitDepth: 32 }, new Int16Array([1, -2]), { audioType: 'int32', bitDepth: 32, channels: 1, ints: [65536, -131072] }],
    ['bitDepth 16, Int32Array: int16, rounded', { bitDepth: 16 }, new Int32Array([65536, 98304, -(2 ** 31)]), { audioType: 'int16', bitDepth: 16, channels: 1, ints: [1, 2, -32768] }],
    ['audioType int32, Int16Array: bitDepth 32', { audioType: 'int32' }, new Int16Array([2]), { audioType: 'int32', bitDepth: 32, channels: 1, ints: [131072] }],
    ['audioType int16, Int32Array: bitDepth 16', { audioType: 'int16' }, new Int32Array([-65536]), { audioType: 'int16', bitDepth: 16, channels: 1, ints: [-1] }],
    ['per-channel floats: channels from the arrays', {}, [new Float32Array([0.5]), new Float32Array([-0.5]), new Float32Array([1])], { audioType: 'int16', bitDepth: 16, channels: 3, ints: [16384, -16384, 32767] }],
    ['per-channel floats, channels stated and agreeing', { channels: 2 }, [new Float32Array([0.25]), new Float32Array([-0.25])], { audioType: 'int16', bitDepth: 16, channels: 2, ints: [8192, -8192] }],
    ['per-channel floats, int32', { audioType: 'int32' }, [new Float32Array([0.5, -1]), new Float32Array([-0.25, 1])], { audioType: 'int32', bitDepth: 32, channels: 2, ints: [2 ** 30, -(2 ** 29), -(2 ** 31), 2 ** 31 - 1] }],
  ] as [string, object, Int16Array | Int32Array | Float32Array[], object][])('%s', (_name, header, samples, expected) => {
    expect(parse(encodeTalAudio(header, samples))).toEqual(expected);
  });
});

describe('talAudioDurationMs', () => {
  it('computes ms from bytes, type, channels and rate', () => {
    expect(talAudioDurationMs({ ...TAL_AUDIO_DEFAULTS }, 640)).toBe(20);
    expect(talAudioDurationMs({ ...TAL_AUDIO_DEFAULTS, sampleRate: 24000 }, 960)).toBe(20);
    expect(talAudioDurationMs({ ...TAL_AUDIO_DEFAULTS, audioType: 'int32', bitDepth: 32, channels: 2, sampleRate: 48000 }, 7680)).toBe(20);
  });
  it('an audioType it does not know: the sample size from bitDepth, else NaN', () => {
    expect(talAudioDurationMs({ ...TAL_AUDIO_DEFAULTS, audioType: 'float32' as 'int16', bitDepth: 32, sampleRate: 1000 }, 400)).toBe(100);
    expect(talAudioDurationMs({ ...TAL_AUDIO_DEFAULTS, audioType: 'int8' as 'int16', bitDepth: 8 as 16, channels: 2, sampleRate: 8000 }, 160)).toBe(10);
    expect(talAudioDurationMs({ ...TAL_AUDIO_DEFAULTS, audioType: 'x' as 'int16', bitDepth: 'x' as unknown as 16 }, 640)).toBeNaN();
  });
});

describe('AnbJson', () => {
  it('round-trips header and value', () => {
    const f = one(encodeJsonFrame({ status: 'success', reason: 'none' }, { answer: 'ok ✓', source: ['x', 1, null] }));
    expect(readJsonFrame(f)).toEqual({ header: { status: 'success', reason: 'none' }, value: { answer: 'ok ✓', source: ['x', 1, null] } });
  });
  it('payload not JSON -> bad-payload at the payload start', () => {
    const prefix = encodeFrame({ a: 1 });
    const frame = encodeFrame({ status: 'x' }, new TextEncoder().encode('{oops'));
    const f = decodeChunks([concat([prefix, frame])])[1]!;
    const e = caught(() => readJsonFrame(f));
    expect([e.code, e.offset]).toEqual(['bad-payload', prefix.length + frame.length - 5]);
    const bad = one(encodeFrame({}, new Uint8Array([0xc3])));
    expect(caught(() => readJsonFrame(bad)).code).toBe('bad-payload');
  });
});

describe('a Python server reads what we write (talwire.py, the seed-compatible reader)', () => {
  it('decodes encodeTalAudio and encodeJsonFrame output with the same headers and payloads', () => {
    const frames = [
      encodeTalAudio({ question: 'wie spät ist es? 你好 🎙', order: 1, sign: 1, app: { k: [1, 2] } }, new Float32Array([0.1, -0.2, 0.3])),
      encodeTalAudio({ audioType: 'int32', sampleRate: 48000, channels: 2, order: 2, sign: 2 }, new Int32Array([1, -1, 2, -2])),
      encodeTalAudio({ order: 3, sign: 3 }),
      encodeJsonFrame({ status: 'success', reason: 'none' }, { answer: 'é' }),
    ];
    const out = execFileSync('python3', [talwirePy, 'decode'], { input: concat(frames) }).toString('utf8');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    const ours = decodeChunks([concat(frames)]);
    expect(lines).toHaveLength(4);
    lines.forEach((line, i) => {
      expect(line.header).toEqual(ours[i]!.header);
      expect(line.payloadBytes).toBe(ours[i]!.payload.length);
      expect(line.payloadSha256).toBe(sha256(ours[i]!.payload));
    });
    expect(lines[0].header.question).toBe('wie spät ist es? 你好 🎙');
    expect(lines[0].header.app).toEqual({ k: [1, 2] });
  });
});
