// RIFF/WAVE reading and writing: PCM 16/24/32-bit integer and 32-bit float, any rate and channel count.
import { TalStreamError } from '../errors';

/** Sample formats a WAV file may hold here. */
export type WavFormat = 'int16' | 'int24' | 'int32' | 'float32';

/** A decoded WAV file. */
export interface WavAudio {
  /** Samples per second per channel. */
  sampleRate: number;
  /** One array per channel, samples in [-1, 1) (float files: as stored). */
  channels: Float32Array[];
  /** The file's sample format. */
  format: WavFormat;
}

/** Options of {@link writeWav}. */
export interface WriteWavOptions {
  /** Sample format written (default `int16`). Floats are clipped to [-1, 1] for integer formats. */
  format?: WavFormat;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** What the fmt chunk says (its blockAlign and byte rate are not needed: both follow from these). */
interface WavFmt {
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
}

function fourcc(b: Uint8Array, i: number): string {
  return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
}

/** True when the bytes start with a RIFF/WAVE header. */
export function isRiffWave(b: Uint8Array): boolean {
  return b.length >= 12 && fourcc(b, 0) === 'RIFF' && fourcc(b, 8) === 'WAVE';
}

function badWav(message: string, offset: number): TalStreamError {
  return new TalStreamError('bad-wav', message, { offset });
}

/**
 * Reads a .wav file: PCM 16/24/32-bit integer (format 1) or 32-bit IEEE float (format 3), also in
 * WAVE_FORMAT_EXTENSIBLE form, at any rate and with any channel count (1..32). Unknown chunks are
 * skipped. A `data` chunk whose size runs past the end of the file (as streaming writers leave it)
 * is read up to the last whole sample frame.
 *
 * @throws TalStreamError `bad-wav` (offset: where in the file the problem is) for anything else.
 */
export function readWav(data: Uint8Array | ArrayBuffer): WavAudio {
  const b = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (!isRiffWave(b)) throw badWav('not a RIFF/WAVE file', 0);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 12;
  let fmt: WavFmt | undefined;
  while (pos + 8 <= b.length) {
    const id = fourcc(b, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > b.length) throw badWav('fmt chunk too short', pos);
      let tag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        // The sub-format GUID's first two bytes are the real format tag.
        if (size < 40 || body + 26 > b.length) throw badWav('WAVE_FORMAT_EXTENSIBLE fmt chunk too short', pos);
        tag = view.getUint16(body + 24, true);
      }
      fmt = { tag, channels, sampleRate, bits };
    } else if (id === 'data') {
      if (!fmt) throw badWav('data chunk before fmt chunk', pos);
      return decodeData(b, view, body, Math.min(size, b.length - body), fmt);
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw badWav(fmt ? 'no data chunk' : 'no fmt chunk', pos);
}

function decodeData(
  b: Uint8Array,
  view: DataView,
  start: number,
  size: number,
  fmt: WavFmt,
): WavAudio {
  const { tag, channels: nch, sampleRate, bits } = fmt;
  let format: WavFormat;
  if (tag === WAVE_FORMAT_PCM && bits === 16) format = 'int16';
  else if (tag === WAVE_FORMAT_PCM && bits === 24) format = 'int24';
  else if (tag === WAVE_FORMAT_PCM && bits === 32) format = 'int32';
  else if (tag === WAVE_FORMAT_IEEE_FLOAT && bits === 32) format = 'float32';
  else throw badWav(`unsupported WAV sample format (tag ${tag}, ${bits} bits)`, 12);
  if (nch < 1 || nch > 32) throw badWav(`unsupported channel count ${nch}`, 12);
  if (sampleRate < 1) throw badWav(`bad sample rate ${sampleRate}`, 12);
  const bytesPer = bits / 8;
  const frameBytes = bytesPer * nch;
  const frames = Math.floor(size / frameBytes);
  const channels = Array.from({ length: nch }, () => new Float32Array(frames));
  for (let c = 0; c < nch; c++) {
    const out = channels[c]!;
    let p = start + c * bytesPer;
    switch (format) {
      case 'int16':
        for (let i = 0; i < frames; i++, p += frameBytes) out[i] = view.getInt16(p, true) / 32768;
        break;
      case 'int24':
        for (let i = 0; i < frames; i++, p += frameBytes) {
          const v = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) << 8 >> 8; // sign-extend 24 bits
          out[i] = v / 8388608;
        }
        break;
      case 'int32':
        for (let i = 0; i < frames; i++, p += frameBytes) out[i] = view.getInt32(p, true) / 2147483648;
        break;
      case 'float32':
        for (let i = 0; i < frames; i++, p += frameBytes) out[i] = view.getFloat32(p, true);
        break;
    }
  }
  return { sampleRate, channels, format };
}

/** Float sample -> integer of `bits`, scaled by 2^(bits-1), rounded, clipped to the type's range. */
export function floatToInt(x: number, scale: number): number {
  const v = Math.round((x !== x ? 0 : x) * scale); // NaN -> 0
  return v >= scale ? scale - 1 : v < -scale ? -scale : v;
}

/**
 * Writes a .wav file (canonical 44-byte header, then interleaved little-endian samples).
 *
 * @param channels One Float32Array per channel, all the same length.
 * @param sampleRate Samples per second (positive integer).
 * @throws TalStreamError `bad-argument` for no channels, unequal lengths or a bad rate.
 */
export function writeWav(channels: Float32Array[], sampleRate: number, opts: WriteWavOptions = {}): Uint8Array {
  const format = opts.format ?? 'int16';
  const nch = channels.length;
  if (nch < 1 || nch > 32) throw new TalStreamError('bad-argument', `writeWav needs 1..32 channels, got ${nch}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new TalStreamError('bad-argument', `bad sample rate ${sampleRate}`);
  const frames = channels[0]!.length;
  if (channels.some((c) => c.length !== frames)) throw new TalStreamError('bad-argument', 'channels differ in length');
  const bytesPer = format === 'int16' ? 2 : format === 'int24' ? 3 : 4;
  const blockAlign = bytesPer * nch;
  const dataBytes = frames * blockAlign;
  const out = new Uint8Array(44 + dataBytes + (dataBytes & 1));
  const view = new DataView(out.buffer);
  const ascii = (i: number, s: string) => {
    for (let k = 0; k < 4; k++) out[i + k] = s.charCodeAt(k);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, format === 'float32' ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, nch, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bytesPer * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let c = 0; c < nch; c++) {
    const src = channels[c]!;
    let p = 44 + c * bytesPer;
    switch (format) {
      case 'int16':
        for (let i = 0; i < frames; i++, p += blockAlign) view.setInt16(p, floatToInt(src[i]!, 32768), true);
        break;
      case 'int24':
        for (let i = 0; i < frames; i++, p += blockAlign) {
          const v = floatToInt(src[i]!, 8388608);
          out[p] = v & 0xff;
          out[p + 1] = (v >> 8) & 0xff;
          out[p + 2] = (v >> 16) & 0xff;
        }
        break;
      case 'int32':
        for (let i = 0; i < frames; i++, p += blockAlign) view.setInt32(p, floatToInt(src[i]!, 2147483648), true);
        break;
      case 'float32':
        for (let i = 0; i < frames; i++, p += blockAlign) view.setFloat32(p, src[i]!, true);
        break;
    }
  }
  return out;
}
