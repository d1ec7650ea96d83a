// AnbJson frames: a JSON object header and a second UTF-8 JSON value as the payload.
import { TalStreamError } from '../errors';
import { decodeUtf8Strict, encodeFrame, jsonBytes, payloadOffset, type Frame } from './frame-codec';

/**
 * Writes one AnbJson frame (the seed's `AnbJsonStreamCoder.encode(header, obj)`): `header` as the
 * frame header and `value` as compact UTF-8 JSON in the payload.
 *
 * @throws TalStreamError `bad-argument` when the header is not an object or either is not JSON-serialisable.
 */
export function encodeJsonFrame(header: object, value: unknown): Uint8Array {
  return encodeFrame(header, jsonBytes(value, 'AnbJson value'));
}

/**
 * Reads an AnbJson frame: its header and its payload parsed as UTF-8 JSON (any JSON value).
 * As with headers, `__proto__` keys become own data properties and pollute nothing.
 *
 * @throws TalStreamError `bad-payload` (offset: the payload's first byte in the stream) when the
 *   payload is not UTF-8 JSON.
 */
export function readJsonFrame(frame: Frame): { header: Record<string, unknown>; value: unknown } {
  let text: string;
  try {
    text = decodeUtf8Strict(frame.payload);
  } catch (cause) {
    throw new TalStreamError('bad-payload', 'AnbJson payload is not valid UTF-8', { offset: payloadOffset(frame), cause });
  }
  try {
    return { header: frame.header, value: JSON.parse(text) };
  } catch (cause) {
    throw new TalStreamError('bad-payload', `AnbJson payload is not JSON: ${(cause as Error).message}`, {
      offset: payloadOffset(frame),
      cause,
    });
  }
}
