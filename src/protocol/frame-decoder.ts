// Incremental frame decoder: bytes in arbitrary chunks -> Frames, in linear time.
import { TalStreamError } from '../errors';
import { FRAME_PREFIX_BYTES, parseHeaderBytes, readU32LE, type Frame } from './frame-codec';

/** Options of {@link FrameDecoder} and {@link decodeFrames}. */
export interface FrameDecoderOptions {
  /**
   * The largest `total` a frame may declare, in bytes (default 16 MiB). A larger declared length
   * fails with `frame-too-large` as soon as its length word arrives, before anything is allocated,
   * so a hostile or corrupt length (up to 4 GiB in a u32) cannot exhaust memory.
   */
  maxFrameBytes?: number;
}

/** Pieces an unfinished frame may be held in before they are gathered into its final buffer. */
const MAX_PENDING_PIECES = 64;

/** Default {@link FrameDecoderOptions.maxFrameBytes}: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Splits a byte stream into frames, whatever the chunk boundaries (a chunk may end inside a length
 * word, a header or a payload, and may hold hundreds of frames).
 *
 * Cost is linear in the stream: a frame that lies inside one chunk is returned as a view of that
 * chunk (no copy); only a frame that spans chunks is copied, once, when its last byte arrives.
 * Pending chunks are kept as a list, never re-concatenated per push; a frame arriving in many tiny
 * pieces is gathered into its final buffer (its declared size, at most `maxFrameBytes`) and the
 * rest copied straight in. Because frames and pending bytes are views, a caller must not reuse or
 * overwrite a chunk buffer after pushing it.
 *
 * Errors: every malformed input raises a {@link TalStreamError} with a `code` and the stream
 * `offset` of the frame it concerns (`frame-too-large`, `bad-length`, `bad-header`: the frame's
 * first byte; `truncated`: the first byte of the unfinished frame). Good frames are never lost:
 * when a chunk holds good frames and then a malformed one, {@link FrameDecoder.push} returns the
 * good frames and throws the error on the NEXT call (`push` or `end`); if the malformed frame is
 * the first of the chunk, `push` throws at once. {@link FrameDecoder.error} shows a pending error
 * without another call. After an error the decoder stays failed (every call throws the same
 * error) until {@link FrameDecoder.reset}.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Pieces (views of pushed chunks) of the unfinished frame, in order. */
  private pending: Uint8Array[] = [];
  /** Bytes of the unfinished frame received so far (in `pending` or `assembly`). */
  private pendingBytes = 0;
  /**
   * The unfinished frame's final buffer, once it has arrived in more than
   * {@link MAX_PENDING_PIECES} pieces: from then on bytes are copied straight into it, so a
   * frame trickling in byte by byte costs one copy per byte, not one view object per byte.
   */
  private assembly: Uint8Array | undefined;
  /** `total` of the unfinished frame once its 8 length bytes are known, else 0. */
  private need = 0;
  /** First length bytes of the unfinished frame while fewer than 8 have arrived. */
  private readonly prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  /** Stream offset of the next frame's first byte. */
  private base = 0;
  private failure: TalStreamError | undefined;

  /** @param opts See {@link FrameDecoderOptions}. */
  constructor(opts: FrameDecoderOptions = {}) {
    const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isFinite(max) || max < FRAME_PREFIX_BYTES) {
      throw new TalStreamError('bad-argument', `maxFrameBytes must be a number >= ${FRAME_PREFIX_BYTES}`);
    }
    this.maxFrameBytes = max;
  }

  /** The error this decoder failed with, if any (also one not yet thrown because `push` returned good frames first). */
  get error(): TalStreamError | undefined {
    return this.failure;
  }

  /** Bytes received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Stream offset of the next byte to arrive (the total pushed so far). */
  get streamOffset(): number {
    return this.base + this.pendingBytes;
  }

  /**
   * Feeds the next chunk of the stream and returns the frames it completed, in order.
   *
   * @throws TalStreamError when the decoder has failed before (the same error again), or when the
   *   first frame this chunk completes or starts is malformed. An error found after good frames in
   *   the same chunk is thrown by the next call instead, so those frames are returned first.
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    // A Node Buffer's subarray/slice differ from Uint8Array's; hand out plain Uint8Array views.
    if (chunk.constructor !== Uint8Array) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Frame[] = [];
    try {
      this.pushInto(chunk, out);
    } catch (e) {
      this.failure = e as TalStreamError;
      if (out.length === 0) throw e;
    }
    return out;
  }

  /**
   * Declares the end of the stream.
   *
   * @throws TalStreamError `truncated` (offset: the unfinished frame's first byte) when the stream
   *   stopped inside a frame, or the decoder's earlier error.
   */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.pendingBytes > 0) {
      this.failure = new TalStreamError(
        'truncated',
        `stream ended inside a frame: ${this.pendingBytes} of ${this.need || 'at least 8'} bytes received`,
        { offset: this.base },
      );
      throw this.failure;
    }
  }

  /** Forgets buffered bytes and any error; the next byte pushed is stream offset 0 again. */
  reset(): void {
    this.pending = [];
    this.assembly = undefined;
    this.pendingBytes = 0;
    this.need = 0;
    this.base = 0;
    this.failure = undefined;
  }

  private pushInto(chunk: Uint8Array, out: Frame[]): void {
    const len = chunk.length;
    let pos = 0;
    if (this.pendingBytes > 0) {
      if (this.need === 0) {
        // Still collecting the 8 length bytes of the unfinished frame.
        const take = Math.min(FRAME_PREFIX_BYTES - this.pendingBytes, len);
        this.prefix.set(chunk.subarray(0, take), this.pendingBytes);
        this.pending.push(chunk.subarray(0, take));
        this.pendingBytes += take;
        pos = take;
        if (this.pendingBytes < FRAME_PREFIX_BYTES) return;
        this.need = this.checkLengths(this.prefix, 0, this.base);
      }
      const missing = this.need - this.pendingBytes;
      if (len - pos < missing) {
        if (len > pos) {
          // The whole chunk when nothing of it was used: no view to make on push()'s common path.
          const rest = pos === 0 ? chunk : chunk.subarray(pos);
          if (this.assembly) this.assembly.set(rest, this.pendingBytes);
          else this.pending.push(rest);
          this.pendingBytes += len - pos;
          if (!this.assembly && this.pending.length > MAX_PENDING_PIECES) this.assembly = this.gather();
        }
        return;
      }
      // The frame completes in this chunk: copy its pieces once into one buffer.
      const whole = this.assembly ?? this.gather();
      whole.set(chunk.subarray(pos, pos + missing), this.pendingBytes);
      pos += missing;
      const total = this.need;
      this.pending = [];
      this.assembly = undefined;
      this.pendingBytes = 0;
      this.need = 0;
      out.push(this.makeFrame(whole, 0, total, this.base));
      this.base += total;
    }
    // Fast path: frames wholly inside this chunk become views of it.
    while (len - pos >= FRAME_PREFIX_BYTES) {
      const total = this.checkLengths(chunk, pos, this.base);
      if (len - pos < total) {
        this.need = total;
        break;
      }
      out.push(this.makeFrame(chunk, pos, total, this.base));
      pos += total;
      this.base += total;
    }
    if (pos < len) {
      const rest = chunk.subarray(pos);
      if (this.need === 0) this.prefix.set(rest, 0);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
  }

  /** A buffer of the unfinished frame's full size holding the pending pieces (size bounded by maxFrameBytes). */
  private gather(): Uint8Array {
    const whole = new Uint8Array(this.need);
    let at = 0;
    for (const piece of this.pending) {
      whole.set(piece, at);
      at += piece.length;
    }
    this.pending = [];
    return whole;
  }

  /** Validates the two length words at `b[i..i+8)`; returns `total`. */
  private checkLengths(b: Uint8Array, i: number, offset: number): number {
    const total = readU32LE(b, i);
    const h = readU32LE(b, i + 4);
    if (total > this.maxFrameBytes) {
      throw new TalStreamError('frame-too-large', `frame declares ${total} bytes, more than maxFrameBytes ${this.maxFrameBytes}`, { offset });
    }
    if (total < FRAME_PREFIX_BYTES + h) {
      throw new TalStreamError('bad-length', `frame total ${total} < 8 + header length ${h}`, { offset });
    }
    return total;
  }

  private makeFrame(b: Uint8Array, i: number, total: number, offset: number): Frame {
    const h = readU32LE(b, i + 4);
    const headerEnd = i + FRAME_PREFIX_BYTES + h;
    const header = parseHeaderBytes(b.subarray(i + FRAME_PREFIX_BYTES, headerEnd), offset);
    return { header, payload: b.subarray(headerEnd, i + total), offset, byteLength: total };
  }
}

/** Options of {@link decodeFrames}. */
export interface DecodeFramesOptions extends FrameDecoderOptions {
  /** Aborting stops the iteration with a TalStreamError `aborted` and cancels the stream. */
  signal?: AbortSignal;
}

/**
 * Decodes frames from a byte stream (a `ReadableStream`, e.g. `response.body`, or any async
 * iterable of chunks). Good frames are yielded before any error; then the iteration throws the
 * {@link TalStreamError} (the stream is cancelled). A stream ending inside a frame throws
 * `truncated`. Breaking out of the loop cancels the stream.
 */
export async function* decodeFrames(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: DecodeFramesOptions = {},
): AsyncGenerator<Frame, void, undefined> {
  const decoder = new FrameDecoder(opts);
  const { signal } = opts;
  const aborted = () => new TalStreamError('aborted', 'frame decoding was aborted', { cause: signal?.reason });
  if (signal?.aborted) throw aborted();
  const iterator: AsyncIterator<Uint8Array> = isReadableStream(source)
    ? readerIterator(source.getReader())
    : source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const abortPromise = signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(aborted());
        signal.addEventListener('abort', onAbort, { once: true });
      })
    : undefined;
  abortPromise?.catch(() => {}); // observed below; avoid an unhandled rejection when never awaited
  let finished = false;
  try {
    for (;;) {
      const next = abortPromise ? await Promise.race([iterator.next(), abortPromise]) : await iterator.next();
      if (next.done) {
        finished = true;
        decoder.end();
        return;
      }
      const chunk = next.value;
      const frames = decoder.push(chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBufferLike));
      for (const frame of frames) {
        yield frame;
        if (signal?.aborted) throw aborted();
      }
      if (decoder.error) throw decoder.error;
    }
  } finally {
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    if (!finished) {
      // Early exit (error, abort, break): stop the source; ignore a failing cancel.
      // Not awaited after an abort: an async generator's return() queues behind its pending
      // next(), which could hang here forever.
      const done = iterator.return?.();
      if (done) {
        const quiet = Promise.resolve(done).catch(() => {
          /* the source's own cancel error is less useful than ours */
        });
        if (!signal?.aborted) await quiet;
      }
    }
  }
}

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof (x as ReadableStream | undefined)?.getReader === 'function';
}

/** An iterator over a stream reader whose `return()` cancels the stream and releases the lock. */
function readerIterator(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterator<Uint8Array> {
  return {
    async next() {
      const r = await reader.read();
      if (r.done) {
        reader.releaseLock();
        return { done: true, value: undefined };
      }
      return { done: false, value: r.value };
    },
    async return() {
      try {
        await reader.cancel();
      } finally {
        reader.releaseLock();
      }
      return { done: true, value: undefined };
    },
  };
}
