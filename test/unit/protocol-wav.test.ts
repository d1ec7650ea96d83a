import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav, writeWav, type WavFormat } from '../../src/protocol/index';
import { floatToInt, isRiffWave } from '../../src/protocol/wav';
import { concat, repoRoot, riff, wavChunk, wavFmt } from './protocol-helpers';

/** Values every format represents exactly: k / 2^15 in [-1, 1). */
const exact = [0, 0.5, -0.5, -1, 32767 / 32768, -1 / 32768, 0.25, 1 / 32768];

describe('WAV write/read round trips', () => {
  it.each(['int16', 'int24', 'int32', 'float32'] as WavFormat[])('%s mono and stereo, exact values', (format) => {
    for (const nch of [1, 2]) {
      const chans = Array.from({ length: nch }, (_, c) => Float32Array.from(c ? [...exact].reverse() : exact));
      const bytes = writeWav(chans, 44100, { format });
      const bytesPer = format === 'int16' ? 2 : format === 'int24' ? 3 : 4;
      expect(bytes.length).toBe(44 + ((exact.length * nch * bytesPer + 1) & ~1));
      const back = readWav(bytes);
      expect(back.format).toBe(format);
      expect(back.sampleRate).toBe(44100);
      expect(back.channels.map((c) => Array.from(c))).toEqual(chans.map((c) => Array.from(c)));
    }
  });

  it('writes the exact canonical header and int16 samples', () => {
    const bytes = writeWav([new Float32Array([0.5, -1])], 16000);
    const v = new DataView(bytes.buffer);
    const ascii = (i: number) => String.fromCharCode(...bytes.subarray(i, i + 4));
    expect([ascii(0), v.getUint32(4, true), ascii(8), ascii(12), v.getUint32(16, true)]).toEqual(['RIFF', 40, 'WAVE', 'fmt ', 16]);
    expect([v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true)])
      .toEqual([1, 1, 16000, 32000, 2, 16]);
    expect([ascii(36), v.getUint32(40, true), v.getInt16(44, true), v.getInt16(46, true)]).toEqual(['data', 4, 16384, -32768]);
  });

  it('clips out-of-range floats for integer formats', () => {
    const back = readWav(writeWav([new Float32Array([2, -2, 1])], 8000, { format: 'int24' }));
    expect(Array.from(back.channels[0]!)).toEqual([8388607 / 8388608, -1, 8388607 / 8388608]);
  });

  it('reads any rate, an ArrayBuffer, and keeps float values as stored', () => {
    const bytes = writeWav([new Float32Array([1.5, -0.125])], 7350, { format: 'float32' });
    const back = readWav(bytes.buffer as ArrayBuffer);
    expect(back.sampleRate).toBe(7350);
    expect(Array.from(back.channels[0]!)).toEqual([1.5, -0.125]);
  });

  it('reads the repo fixture (48 kHz mono 440 Hz, amplitude 0.5)', () => {
    const wav = readWav(new Uint8Array(readFileSync(path.join(repoRoot, 'test/fixtures/fake-mic-440hz.wav'))));
    expect(wav.sampleRate).toBe(48000);
    expect(wav.channels).toHaveLength(1);
    const peak = wav.channels[0]!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak).toBeGreaterThan(0.49);
    expect(peak).toBeLessThanOrEqual(0.5);
  });

  it('skips unknown chunks (odd-sized, padded), reads WAVE_FORMAT_EXTENSIBLE, clamps an oversized data size', () => {
    const base = writeWav([new Float32Array([0.5, -0.5])], 16000);
    // insert a 3-byte LIST chunk (+1 pad byte) between fmt and data
    const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]);
    const withList = new Uint8Array(base.length + list.length);
    withList.set(base.subarray(0, 36));
    withList.set(list, 36);
    withList.set(base.subarray(36), 36 + list.length);
    expect(Array.from(readWav(withList).channels[0]!)).toEqual([0.5, -0.5]);

    // WAVE_FORMAT_EXTENSIBLE: fmt of 40 bytes, tag 0xfffe, sub-format 1 (PCM)
    const ext = new Uint8Array(44 + 24 + 4);
    const v = new DataView(ext.buffer);
    ext.set(base.subarray(0, 16));
    v.setUint32(16, 40, true);
    ext.set(base.subarray(20, 36), 20);
    v.setUint16(20, 0xfffe, true);
    v.setUint16(36, 22, true);
    v.setUint16(44, 1, true); // sub-format GUID begins with the format tag
    ext.set(base.subarray(36, 48), 60);
    v.setUint32(64, 0xffffffff, true); // streaming writers leave the data size unknown
    expect(Array.from(readWav(ext).channels[0]!)).toEqual([0.5, -0.5]);
  });
});

describe('WAV edges, files written by hand', () => {
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const le = (bits: 16 | 32, values: number[]) => {
    const b = new Uint8Array((values.length * bits) / 8);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => (bits === 16 ? v.setInt16(i * 2, x, true) : v.setInt32(i * 4, x, true)));
    return b;
  };

  it('isRiffWave: 12 bytes of RIFF <size> WAVE are one; a byte short, RIFX or WAVX are not', () => {
    expect(isRiffWave(ascii('RIFF\0\0\0\0WAVE'))).toBe(true);
    expect(isRiffWave(ascii('RIFF\0\0\0\0WAV'))).toBe(false);
    expect(isRiffWave(ascii('RIFX\0\0\0\0WAVE'))).toBe(false);
    expect(isRiffWave(ascii('RIFF\0\0\0\0WAVX'))).toBe(false);
  });

  it('int32 PCM and 32-bit float, plain and as WAVE_FORMAT_EXTENSIBLE (sub-format 1 or 3)', () => {
    const ints = le(32, [2 ** 30, -(2 ** 31), 1]);
    const floats = new Uint8Array(new Float32Array([0.75, -1.5, 1e-3]).buffer);
    const extensible = (sub: number, bits: number) => concat([wavFmt(0xfffe, 1, 16000, bits), new Uint8Array([22, 0, bits, 0, 0, 0, 0, 0, sub, 0]), new Uint8Array(14)]);
    const cases: [Uint8Array, string, number[]][] = [
      [riff(wavChunk('fmt ', wavFmt(1, 1, 16000, 32)), wavChunk('data', ints)), 'int32', [0.5, -1, 2 ** -31]],
      [riff(wavChunk('fmt ', extensible(1, 32)), wavChunk('data', ints)), 'int32', [0.5, -1, 2 ** -31]],
      [riff(wavChunk('fmt ', wavFmt(3, 1, 16000, 32)), wavChunk('data', floats)), 'float32', [0.75, -1.5, Math.fround(1e-3)]],
      [riff(wavChunk('fmt ', extensible(3, 32)), wavChunk('data', floats)), 'float32', [0.75, -1.5, Math.fround(1e-3)]],
    ];
    for (const [bytes, format, values] of cases) {
      const w = readWav(bytes);
      expect([w.format, w.sampleRate, w.channels.length, Array.from(w.channels[0]!)]).toEqual([format, 16000, 1, values]);
    }
  });

  it('32 channels and a rate of 1 Hz, written and read back', () => {
    const chans = Array.from({ length: 32 }, (_, c) => new Float32Array([(c + 1) / 64, -(c + 1) / 64]));
    const w = readWav(writeWav(chans, 1));
    expect([w.sampleRate, w.channels.length]).toEqual([1, 32]);
    expect(w.channels.map((c) => Array.from(c))).toEqual(chans.map((c) => Array.from(c)));
    // and by hand: 32 channels of int16, one frame
    const hand = readWav(riff(wavChunk('fmt ', wavFmt(1, 32, 1, 16)), wavChunk('data', le(16, Array.from({ length: 32 }, (_, c) => c * 1024)))));
    expect(hand.channels.map((c) => c[0])).toEqual(Array.from({ length: 32 }, (_, c) => c / 32));
  });

  it('a data chunk of 0 bytes that ends the file: no frames; a file ending right after its fmt chunk: no data chunk', () => {
    const empty = readWav(riff(wavChunk('fmt ', wavFmt(1, 2, 8000, 16)), wavChunk('data', new Uint8Array(0))));
    expect(empty.channels.map((c) => c.length)).toEqual([0, 0]);
    const fmtOnly = riff(wavChunk('fmt ', wavFmt(1, 1, 8000, 16)));
    expect(() => readWav(fmtOnly)).toThrow(/^no data chunk$/);
  });

  it('a WAVE_FORMAT_EXTENSIBLE fmt cut after its sub-format tag (26 of 40 bytes) is read that far: no data chunk, at 60', () => {
    const cut = riff(wavChunk('fmt ', concat([wavFmt(0xfffe, 1, 8000, 16), new Uint8Array([22, 0, 16, 0, 0, 0, 0, 0, 1, 0])]), 40));
    expect(cut.length).toBe(12 + 8 + 26);
    expect(() => readWav(cut)).toThrow(/^no data chunk$/);
  });

  it('floatToInt: x * scale rounded, clipped to [-scale, scale - 1], NaN -> 0', () => {
    const s = 32768;
    const cases: [number, number][] = [[0.5, 16384], [1, 32767], [-1, -32768], [-2, -32768], [2, 32767], [1e-5, 0], [-0.6 / s, -1], [0.6 / s, 1], [Number.NaN, 0]];
    expect(cases.map(([x]) => floatToInt(x, s))).toEqual(cases.map(([, y]) => y));
    expect(Object.is(floatToInt(Number.NaN, s), 0)).toBe(true);
    expect([floatToInt(-1, 8388608), floatToInt(1, 2147483648)]).toEqual([-8388608, 2147483647]);
  });
});
