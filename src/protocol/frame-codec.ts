// The frame layout of PROTOCOL.md: u32le total | u32le H | H bytes of UTF-8 JSON header | payload.
import { TalStreamError } from '../errors';

/** One decoded frame. */
export interface Frame {
  /** The header JSON object, every field kept (unknown ones included). */
  header: Record<string, unknown>;
  /**
   * The payload bytes. When the frame lay inside one pushed chunk this is a view of that chunk
   * (no copy), so it may start at any byte offset of its buffer and must not be assumed aligned.
   */
  payload: Uint8Array;
  /** Byte offset of the frame's first byte (its `total` word) in the stream. */
  offset: number;
  /**
   * The whole frame's length in bytes (`total`). Set by the decoder; optional so that callers may
   * build a Frame by hand. The payload starts at `offset + byteLength - payload.length`.
   */
  byteLength?: number;
}

/** Bytes taken by the two u32 length words. */
export const FRAME_PREFIX_BYTES = 8;
/** The largest value a u32 length word can hold. */
const U32_MAX = 0xffff_ffff;

const utf8Encoder = new TextEncoder();
// `fatal` so that bytes that are not UTF-8 are an error instead of silently becoming U+FFFD.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly; throws a TypeError on invalid bytes. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/**
 * Serialises a value as JSON, rejecting what JSON cannot carry (undefined, functions, cycles,
 * BigInt) with a `bad-argument` error instead of writing a frame the other side cannot read.
 */
export function jsonBytes(value: unknown, what: string): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new TalStreamError('bad-argument', `${what} is not serialisable as JSON`, { cause });
  }
  if (text === undefined) throw new TalStreamError('bad-argument', `${what} is not serialisable as JSON`);
  return utf8Encoder.encode(text);
}

/**
 * Writes one frame: `total` and `H` as u32 little-endian, the header as compact UTF-8 JSON, then
 * the payload. The seed's decoder (Python `json.loads`) reads compact UTF-8 JSON back unchanged.
 *
 * @param header A plain JSON object; every own enumerable field is written.
 * @param payload The payload bytes (default: none, a legal empty payload).
 * @throws TalStreamError `bad-argument` when the header is not a JSON object or the frame would not fit a u32.
 */
export function encodeFrame(header: object, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new TalStreamError('bad-argument', 'frame header must be a JSON object');
  }
  const h = jsonBytes(header, 'frame header');
  return assembleFrame(h, payload);
}

/** Frame bytes from already-encoded header JSON and a payload. */
export function assembleFrame(headerJson: Uint8Array, payload: Uint8Array): Uint8Array {
  const total = FRAME_PREFIX_BYTES + headerJson.length + payload.length;
  if (total > U32_MAX) throw new TalStreamError('bad-argument', `frame of ${total} bytes does not fit a u32 length`);
  const out = new Uint8Array(total);
  writeU32LE(out, 0, total);
  writeU32LE(out, 4, headerJson.length);
  out.set(headerJson, FRAME_PREFIX_BYTES);
  out.set(payload, FRAME_PREFIX_BYTES + headerJson.length);
  return out;
}

/** Frame bytes with room for a payload of `payloadLength` bytes, which the caller fills at the returned index. */
export function allocateFrame(headerJson: Uint8Array, payloadLength: number): { bytes: Uint8Array; payloadStart: number } {
  const total = FRAME_PREFIX_BYTES + headerJson.length + payloadLength;
  if (total > U32_MAX) throw new TalStreamError('bad-argument', `frame of ${total} bytes does not fit a u32 length`);
  const bytes = new Uint8Array(total);
  writeU32LE(bytes, 0, total);
  writeU32LE(bytes, 4, headerJson.length);
  bytes.set(headerJson, FRAME_PREFIX_BYTES);
  return { bytes, payloadStart: FRAME_PREFIX_BYTES + headerJson.length };
}

/** Reads a u32 little-endian by byte math (independent of the host's byte order, no DataView per call). */
export function readU32LE(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 0x100_0000;
}

function writeU32LE(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

/**
 * Parses header bytes: strict UTF-8, then JSON, which must be an object.
 *
 * `JSON.parse` creates every key, `__proto__` and `constructor` included, as an own data
 * property, so a hostile header pollutes no prototype; callers must copy headers with spread or
 * `structuredClone`, never `Object.assign` (which would invoke the `__proto__` setter).
 *
 * @param offset Stream offset of the frame, reported in errors.
 * @throws TalStreamError `bad-header`
 */
export function parseHeaderBytes(bytes: Uint8Array, offset: number): Record<string, unknown> {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new TalStreamError('bad-header', 'frame header is not valid UTF-8', { offset, cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new TalStreamError('bad-header', `frame header is not JSON: ${(cause as Error).message}`, { offset, cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TalStreamError('bad-header', `frame header is JSON ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not an object`, { offset });
  }
  return value as Record<string, unknown>;
}

/** Stream offset of a frame's payload (falls back to the frame offset for hand-built frames). */
export function payloadOffset(frame: Frame): number {
  return frame.byteLength === undefined ? frame.offset : frame.offset + frame.byteLength - frame.payload.length;
}
