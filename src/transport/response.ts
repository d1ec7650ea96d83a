// From a fetch Response to frames: HTTP status, wrong content (HTML, text, empty), network and
// abort failures each become a TalStreamError; a good body streams through decodeFrames.
import { TalStreamError, TalStreamHttpError } from '../errors';
import { DEFAULT_MAX_FRAME_BYTES, decodeFrames } from '../protocol/frame-decoder';
import type { Frame } from '../protocol/frame-codec';

/** How many bytes of a failed response body are kept for the error. */
export const ERROR_BODY_BYTES = 500;

/** Options of {@link responseFrames}. */
export interface ResponseFramesOptions {
  /** Largest frame accepted, in bytes (default 16 MiB). */
  maxFrameBytes?: number;
  /** Aborting stops reading with a TalStreamError `aborted` and cancels the body. */
  signal?: AbortSignal;
  /** Called once, when the first byte of the body arrives (for time-to-first-byte). */
  onFirstByte?: () => void;
}

/**
 * Turns a Response into its frames.
 *
 * - non-2xx: a {@link TalStreamHttpError} with the status and the first 500 bytes of the body;
 * - `Content-Type: text/html`, or a body whose first length word exceeds `maxFrameBytes` while its
 *   first bytes are printable text (an HTML page, a JSON error, a proxy's text): a `bad-header`
 *   error at offset 0 quoting the start of the body, instead of an opaque `frame-too-large`;
 * - an empty body: `truncated` at offset 0 (a reply has at least one frame);
 * - a failed read: `network` (with the cause), or `aborted` when `signal` fired;
 * - anything else in the bytes: the decoder's own error with its offset, after every good frame.
 */
export async function* responseFrames(response: Response, options: ResponseFramesOptions = {}): AsyncGenerator<Frame, void, undefined> {
  const { signal } = options;
  if (!response.ok) throw await httpError(response, signal);
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const contentType = (response.headers.get('content-type') ?? '').toLowerCase();
  if (!response.body) throw new TalStreamError('truncated', `the ${response.status} response has no body (a reply holds at least one frame)`, { offset: 0 });
  const reader = response.body.getReader();
  yield* decodeFrames(checkedChunks(reader, { contentType, maxFrameBytes, signal, onFirstByte: options.onFirstByte }), {
    maxFrameBytes,
    signal,
  });
}

/** Reads up to `ERROR_BODY_BYTES` of a failed response and builds the HTTP error. */
export async function httpError(response: Response, signal?: AbortSignal): Promise<TalStreamHttpError> {
  let body = '';
  try {
    if (response.body) {
      const reader = response.body.getReader();
      const head = await readHead(reader, ERROR_BODY_BYTES, signal);
      body = new TextDecoder().decode(head);
    }
  } catch {
    // The status is the news; a body that fails to arrive only loses the detail.
  }
  const reason = response.statusText ? ` ${response.statusText}` : '';
  return new TalStreamHttpError(response.status, body, `HTTP ${response.status}${reason}${body ? `: ${body.slice(0, 200)}` : ''}`);
}

/**
 * Maps a failed `read()` to a TalStreamError: `aborted` when our signal fired, else `network`
 * with `offset` = the bytes of the body received before the connection broke (when known).
 */
export function readError(cause: unknown, signal?: AbortSignal, received?: number): TalStreamError {
  if (cause instanceof TalStreamError) return cause;
  if (signal?.aborted || (cause as { name?: string })?.name === 'AbortError') {
    return new TalStreamError('aborted', 'the response was aborted', { cause: signal?.reason ?? cause });
  }
  const at = received === undefined ? '' : ` after ${received} bytes`;
  return new TalStreamError('network', `the connection failed while reading the response${at}: ${(cause as Error)?.message ?? cause}`, {
    cause,
    offset: received,
  });
}

interface CheckOptions {
  contentType: string;
  maxFrameBytes: number;
  signal?: AbortSignal;
  onFirstByte?: () => void;
}

/**
 * The body's chunks, read with `reader`, after a look at the first bytes. `return()` (the
 * decoder stopping early) cancels the body.
 */
function checkedChunks(reader: ReadableStreamDefaultReader<Uint8Array>, o: CheckOptions): AsyncIterable<Uint8Array> {
  let finished = false;
  let head: Uint8Array[] | null = [];
  let headBytes = 0;
  let sniffed = false;
  let received = 0;
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    try {
      const r = await reader.read();
      if (!r.done) received += r.value.length;
      return r;
    } catch (cause) {
      // Where the body broke: the bytes that did arrive (frames before it were delivered).
      throw readError(cause, o.signal, received);
    }
  };
  const iterator: AsyncIterator<Uint8Array> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      // Hold the first chunks until 4 bytes are in: the first length word decides the sniff.
      while (!sniffed) {
        const r = await read();
        if (r.done) {
          sniffed = true;
          if (headBytes === 0) {
            finished = true;
            throw new TalStreamError('truncated', 'the response body is empty (a reply holds at least one frame)', { offset: 0 });
          }
          break;
        }
        if (r.value.length === 0) continue;
        if (headBytes === 0) o.onFirstByte?.();
        head!.push(r.value);
        headBytes += r.value.length;
        if (headBytes >= 4 || o.contentType.startsWith('text/html')) {
          sniffed = true;
          await rejectText(concat(head!), o, reader);
        }
      }
      if (head) {
        const first = concat(head);
        head = null;
        return { done: false, value: first };
      }
      for (;;) {
        const r = await read();
        if (r.done) {
          finished = true;
          return { done: true, value: undefined };
        }
        if (r.value.length > 0) return { done: false, value: r.value };
      }
    },
    async return() {
      if (!finished) {
        finished = true;
        // Not awaited: a cancel can wait on a pending read of a stalled connection.
        reader.cancel().catch(() => {});
      }
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

/** Throws when the start of the body is text (HTML, JSON, plain) rather than a frame. */
async function rejectText(start: Uint8Array, o: CheckOptions, reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const html = o.contentType.startsWith('text/html');
  const total = start.length >= 4 ? (start[0]! | (start[1]! << 8) | (start[2]! << 16)) + start[3]! * 0x100_0000 : 0;
  // A real frame's first word is its length; text read as a length is hundreds of MiB. Only
  // call it text when that length could not be a frame anyway, so no valid reply is refused.
  const texty = total > o.maxFrameBytes && looksLikeText(start.subarray(0, 16));
  if (!html && !texty) return;
  let excerptBytes = start;
  if (excerptBytes.length < ERROR_BODY_BYTES) {
    try {
      const more = await readHead(reader, ERROR_BODY_BYTES - excerptBytes.length, o.signal);
      excerptBytes = concat([excerptBytes, more]);
    } catch {
      // Keep what we have.
    }
  }
  reader.cancel().catch(() => {});
  const excerpt = new TextDecoder().decode(excerptBytes.subarray(0, ERROR_BODY_BYTES)).replace(/\s+/g, ' ').trim();
  const what = html || excerpt.startsWith('<') ? 'an HTML page' : 'text';
  throw new TalStreamError(
    'bad-header',
    `the server answered with ${what}${o.contentType ? ` (Content-Type: ${o.contentType})` : ''}, not talstream frames; ` +
      `is the URL right? The body starts: ${excerpt.slice(0, 200)}`,
    { offset: 0 },
  );
}

function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) {
    const printable = (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d || b >= 0x80;
    if (!printable) return false;
  }
  return true;
}

/** Reads up to `limit` bytes from `reader` (fewer if the body ends), then cancels the rest. */
async function readHead(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number, signal?: AbortSignal): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < limit && !signal?.aborted) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      n += r.value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return concat(parts).subarray(0, limit);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
