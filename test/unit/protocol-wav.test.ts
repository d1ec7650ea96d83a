import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav, writeWav, type WavFormat } from '../../src/protocol/index';
import { caught, repoRoot } from './protocol-helpers';

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

  it('bad files -> bad-wav', () => {
    expect(caught(() => readWav(new Uint8Array(10))).code).toBe('bad-wav');
    const base = writeWav([new Float32Array([0.5])], 16000);
    const noData = base.slice(0, 36);
    expect(caught(() => readWav(noData)).code).toBe('bad-wav');
    const eightBit = base.slice();
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    expect(caught(() => readWav(eightBit)).code).toBe('bad-wav');
    const alaw = base.slice();
    new DataView(alaw.buffer).setUint16(20, 6, true);
    expect(caught(() => readWav(alaw)).code).toBe('bad-wav');
    const noChannels = base.slice();
    new DataView(noChannels.buffer).setUint16(22, 0, true);
    expect(caught(() => readWav(noChannels)).code).toBe('bad-wav');
  });

  it('writeWav rejects bad arguments', () => {
    expect(caught(() => writeWav([], 16000)).code).toBe('bad-argument');
    expect(caught(() => writeWav([new Float32Array(1), new Float32Array(2)], 16000)).code).toBe('bad-argument');
    expect(caught(() => writeWav([new Float32Array(1)], 0)).code).toBe('bad-argument');
  });
});
