// TALAudio frames: a JSON header describing raw little-endian PCM in the payload.
import { TalStreamError } from '../errors';
import { allocateFrame, jsonBytes, payloadOffset, type Frame } from './frame-codec';
import { floatToInt, isRiffWave, readWav } from './wav';

/** The TALAudio header (PROTOCOL.md). Unknown fields are kept as they are. */
export interface TalAudioHeader {
  /** Sample type of the payload. */
  audioType: 'int16' | 'int32';
  /** Bits per sample; must match `audioType` (16 or 32). */
  bitDepth: 16 | 32;
  /** Samples per second per channel, an integer in {@link TAL_SAMPLE_RATE_MIN}..{@link TAL_SAMPLE_RATE_MAX}. */
  sampleRate: number;
  /** Interleaved channel count, an integer in 1..{@link TAL_MAX_CHANNELS}. */
  channels: number;
  /** Always "wav" in the seed, although the payload is raw PCM. */
  audioFormat: string;
  /** The user's query text (a server puts its ASR transcript here). */
  question: string;
  /** The reply text that goes with this frame's audio. */
  answer: string;
  /** Application-defined action URL: data for the app, never followed by the SDK. */
  url: string;
  /** 1 start, 2 middle, 3 end. */
  sign: number;
  /** 1, 2, 3, ... within one stream. */
  order: number;
  /** Application fields, kept untouched. */
  [extra: string]: unknown;
}

/** The seed's `TALAudio()` defaults. */
export const TAL_AUDIO_DEFAULTS: TalAudioHeader = Object.freeze({
  audioType: 'int16',
  bitDepth: 16,
  sampleRate: 16000,
  channels: 1,
  audioFormat: 'wav',
  question: '',
  answer: '',
  url: '',
  sign: 1,
  order: 1,
}) as TalAudioHeader;

/** Lowest accepted `sampleRate` in Hz. */
export const TAL_SAMPLE_RATE_MIN = 1000;
/** Highest accepted `sampleRate` in Hz. */
export const TAL_SAMPLE_RATE_MAX = 384000;
/** Highest accepted `channels`. */
export const TAL_MAX_CHANNELS = 32;

const BYTES: Record<string, number> = { int16: 2, int32: 4 };
const SCALE16 = 32768;
const SCALE32 = 2147483648;
// Pure computation, no globals: lets reads take the typed-array fast path on little-endian hosts.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Checks a merged header; returns the problem or undefined. Shared by reading (`bad-header`) and
 * writing (`bad-argument`).
 */
function headerProblem(h: Record<string, unknown>): string | undefined {
  const t = h.audioType;
  if (t !== 'int16' && t !== 'int32') return `unknown audioType ${JSON.stringify(t)} (expected "int16" or "int32")`;
  if (h.bitDepth !== BYTES[t]! * 8) return `bitDepth ${JSON.stringify(h.bitDepth)} disagrees with audioType "${t}"`;
  const r = h.sampleRate;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < TAL_SAMPLE_RATE_MIN || r > TAL_SAMPLE_RATE_MAX) {
    return `sampleRate ${JSON.stringify(r)} outside ${TAL_SAMPLE_RATE_MIN}..${TAL_SAMPLE_RATE_MAX}`;
  }
  const c = h.channels;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > TAL_MAX_CHANNELS) {
    return `channels ${JSON.stringify(c)} outside 1..${TAL_MAX_CHANNELS}`;
  }
  return undefined;
}

/**
 * Milliseconds of audio in a payload of `payloadBytes` raw PCM bytes described by `header`
 * (NaN when the header does not describe a sample size, rate and channel count).
 */
export function talAudioDurationMs(header: TalAudioHeader, payloadBytes: number): number {
  const bytes = BYTES[header.audioType as string] ?? (typeof header.bitDepth === 'number' ? header.bitDepth / 8 : NaN);
  return (payloadBytes / (bytes * header.channels) / header.sampleRate) * 1000;
}

/**
 * Writes one TALAudio frame.
 *
 * The header is `header` over {@link TAL_AUDIO_DEFAULTS}; extra fields are written as given. When
 * `audioType` is not given it follows `bitDepth`, else the samples (Int32Array -> int32); a missing
 * `bitDepth` follows `audioType`. Samples:
 * - Int16Array / Int32Array: interleaved integers, converted when the header's type differs
 *   (int16 -> int32 scales by 65536; int32 -> int16 rounds and clips);
 * - Float32Array: interleaved floats, clipped to [-1, 1] and scaled by 2^(bits-1), rounded;
 * - Float32Array[]: one array per channel (equal lengths), interleaved on write; sets `channels`.
 *
 * @throws TalStreamError `bad-argument` for an invalid header or samples that do not fit it.
 */
export function encodeTalAudio(
  header: Partial<TalAudioHeader>,
  samples: Int16Array | Int32Array | Float32Array | Float32Array[] = new Int16Array(0),
): Uint8Array {
  const h: Record<string, unknown> = { ...TAL_AUDIO_DEFAULTS, ...header };
  if (header.audioType === undefined) {
    if (header.bitDepth === 32 || (header.bitDepth === undefined && samples instanceof Int32Array)) h.audioType = 'int32';
  }
  if (header.bitDepth === undefined && (h.audioType === 'int16' || h.audioType === 'int32')) h.bitDepth = BYTES[h.audioType]! * 8;
  if (Array.isArray(samples)) {
    if (header.channels !== undefined && header.channels !== samples.length) {
      throw new TalStreamError('bad-argument', `header says ${header.channels} channels but ${samples.length} arrays were given`);
    }
    h.channels = samples.length;
  }
  const problem = headerProblem(h);
  if (problem) throw new TalStreamError('bad-argument', `TALAudio header: ${problem}`);
  const nch = h.channels as number;
  const is32 = h.audioType === 'int32';
  const bytesPer = is32 ? 4 : 2;
  let count: number;
  if (Array.isArray(samples)) {
    const n = samples[0]!.length;
    if (samples.some((c) => !(c instanceof Float32Array) || c.length !== n)) {
      throw new TalStreamError('bad-argument', 'per-channel samples must be Float32Arrays of equal length');
    }
    count = n * nch;
  } else {
    if (samples.length % nch !== 0) {
      throw new TalStreamError('bad-argument', `${samples.length} interleaved samples do not divide into ${nch} channels`);
    }
    count = samples.length;
  }
  const { bytes, payloadStart } = allocateFrame(jsonBytes(h, 'TALAudio header'), count * bytesPer);
  const view = new DataView(bytes.buffer, payloadStart, count * bytesPer);
  const put = is32
    ? (i: number, v: number) => view.setInt32(i * 4, v, true)
    : (i: number, v: number) => view.setInt16(i * 2, v, true);
  if (Array.isArray(samples)) {
    const scale = is32 ? SCALE32 : SCALE16;
    const frames = count / nch;
    for (let c = 0; c < nch; c++) {
      const src = samples[c]!;
      for (let i = 0; i < frames; i++) put(i * nch + c, floatToInt(src[i]!, scale));
    }
  } else if (samples instanceof Float32Array) {
    const scale = is32 ? SCALE32 : SCALE16;
    for (let i = 0; i < count; i++) put(i, floatToInt(samples[i]!, scale));
  } else if (samples instanceof Int16Array) {
    for (let i = 0; i < count; i++) put(i, is32 ? samples[i]! * 65536 : samples[i]!);
  } else {
    for (let i = 0; i < count; i++) put(i, is32 ? samples[i]! : Math.max(-32768, Math.min(32767, Math.round(samples[i]! / 65536))));
  }
  return bytes;
}

/**
 * Reads a TALAudio frame: its header over the seed's defaults, validated, and its audio as one
 * Float32Array per channel with samples in [-1, 1] (int16 / 32768, int32 / 2^31; a float32 rounds the largest int32 to 1).
 *
 * Handles int16 and int32, any interleaved channel count, payload views at odd byte offsets (read
 * through a DataView, not copied), and a payload that is a whole RIFF/WAVE file: its `data`
 * chunk is used, and the returned header's `sampleRate` and `channels` are the WAV's own.
 *
 * Header checks (`bad-header`, offset = `frame.offset`): `audioType` "int16" or "int32";
 * `bitDepth` 16 or 32 matching it; `sampleRate` an integer in {@link TAL_SAMPLE_RATE_MIN}
 * (1000)..{@link TAL_SAMPLE_RATE_MAX} (384000); `channels` an integer in 1..32.
 * Payload checks (`bad-payload`, offset = the payload's first byte in the stream): length a
 * multiple of `channels * bitDepth / 8`; an embedded WAV that cannot be read.
 */
export function readTalAudio(frame: Frame): { header: TalAudioHeader; channels: Float32Array[] } {
  const h: Record<string, unknown> = { ...TAL_AUDIO_DEFAULTS, ...frame.header };
  const problem = headerProblem(h);
  if (problem) throw new TalStreamError('bad-header', `TALAudio header: ${problem}`, { offset: frame.offset });
  const header = h as TalAudioHeader;
  const payload = frame.payload;
  if (isRiffWave(payload)) {
    let wav;
    try {
      wav = readWav(payload);
    } catch (cause) {
      const at = (cause as TalStreamError).offset ?? 0;
      throw new TalStreamError('bad-payload', `TALAudio payload is a WAV file that cannot be read: ${(cause as Error).message}`, {
        offset: payloadOffset(frame) + at,
        cause,
      });
    }
    header.sampleRate = wav.sampleRate;
    header.channels = wav.channels.length;
    return { header, channels: wav.channels };
  }
  const nch = header.channels;
  const is32 = header.audioType === 'int32';
  const bytesPer = is32 ? 4 : 2;
  if (payload.length % (nch * bytesPer) !== 0) {
    throw new TalStreamError(
      'bad-payload',
      `TALAudio payload of ${payload.length} bytes is not a multiple of ${nch} channels x ${bytesPer} bytes`,
      { offset: payloadOffset(frame) },
    );
  }
  const frames = payload.length / (nch * bytesPer);
  const channels = Array.from({ length: nch }, () => new Float32Array(frames));
  const inv = 1 / (is32 ? SCALE32 : SCALE16);
  if (LITTLE_ENDIAN && payload.byteOffset % bytesPer === 0) {
    // Fast path: a typed array over the payload itself (it needs an aligned offset).
    const ints = is32
      ? new Int32Array(payload.buffer, payload.byteOffset, payload.length / 4)
      : new Int16Array(payload.buffer, payload.byteOffset, payload.length / 2);
    for (let c = 0; c < nch; c++) {
      const out = channels[c]!;
      for (let i = 0, p = c; i < frames; i++, p += nch) out[i] = ints[p]! * inv;
    }
  } else {
    // A view into a chunk may start at any byte (and a big-endian host must swap): read through a
    // DataView, without copying the payload.
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const step = nch * bytesPer;
    for (let c = 0; c < nch; c++) {
      const out = channels[c]!;
      for (let i = 0, p = c * bytesPer; i < frames; i++, p += step) {
        out[i] = (is32 ? view.getInt32(p, true) : view.getInt16(p, true)) * inv;
      }
    }
  }
  return { header, channels };
}
