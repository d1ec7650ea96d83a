/**
 * Uploads TALAudio frames with fetch: buffered (one Blob after the take ends, works everywhere) or
 * streamed (a ReadableStream body with `duplex: 'half'`, frames leave while the user speaks).
 *
 * Chromium streams request bodies only over HTTP/2 (over HTTP/1.1 the fetch rejects with
 * ERR_ALPN_NEGOTIATION_FAILED); Firefox and Safari not at all; a cross-origin streaming upload
 * needs a CORS preflight. 'auto' streams where it can and otherwise, or when the streaming fetch
 * rejects, sends every frame again in one buffered request: no audio is lost.
 */
import { TalStreamError } from '../errors';
import { FramePump } from './frame-pump';
import { httpError } from './response';

/**
 * How the request body is sent: `'stream'` (frames leave while the user speaks; Chromium over
 * HTTP/2 only), `'buffered'` (one body after the take ends; works everywhere) or `'auto'` (stream
 * where possible, else, or when the streaming fetch rejects, send everything buffered).
 */
export type UploadMode = 'auto' | 'stream' | 'buffered';

/** lib.dom's RequestInit lacks `duplex` (needed for a ReadableStream body). */
type StreamingRequestInit = RequestInit & { duplex?: 'half' };

/** Options of {@link postFrames}. */
export interface PostFramesOptions {
  /** Where to POST. */
  url: string;
  /** The frames (e.g. a Take, or `toFrameStream(source)`); read once. */
  frames: AsyncIterable<Uint8Array>;
  /** 'auto' (default), 'stream' or 'buffered'; see the module comment. */
  upload?: UploadMode;
  /** Request headers, or a function (maybe async) returning them, called for each attempt (fresh tokens). */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** fetch's `credentials` (cookies on cross-origin requests: 'include'). */
  credentials?: RequestCredentials;
  /** Aborting fails the upload with `aborted` and stops reading the frames. */
  signal?: AbortSignal;
  /** Injected fetch (default: the global one). */
  fetch?: typeof fetch;
  /** Told which body each attempt uses ('stream' then 'buffered' when 'auto' falls back). */
  onAttempt?: (mode: 'stream' | 'buffered') => void;
}

let streamSupport: boolean | undefined;

/**
 * True when this browser can send a ReadableStream request body (Chromium 105+): the standard
 * feature test (a streamed body gets no Content-Type, and `duplex` is read).
 */
export function supportsRequestStreams(): boolean {
  if (streamSupport !== undefined) return streamSupport;
  try {
    let duplexRead = false;
    const init = {
      body: new ReadableStream(),
      method: 'POST',
      get duplex() {
        duplexRead = true;
        return 'half';
      },
    };
    const hasType = new Request('data:a/a;charset=utf-8,', init as StreamingRequestInit).headers.has('Content-Type');
    streamSupport = duplexRead && !hasType;
  } catch {
    streamSupport = false;
  }
  return streamSupport;
}

/** Whether 'auto' should try streaming to `url`: a browser that can, and https (HTTP/2 needs TLS). */
function streamingWorthTrying(url: string): boolean {
  if (!supportsRequestStreams()) return false;
  try {
    const base = typeof location !== 'undefined' ? location.href : undefined;
    return new URL(url, base).protocol === 'https:';
  } catch {
    return false;
  }
}

function abortError(signal: AbortSignal | undefined): TalStreamError {
  return new TalStreamError('aborted', 'the upload was aborted', { cause: signal?.reason });
}

/** A fetch rejection as a TalStreamError: aborted when the signal fired, else network. */
function fetchError(cause: unknown, signal: AbortSignal | undefined): TalStreamError {
  if (cause instanceof TalStreamError) return cause;
  if (signal?.aborted || (cause as { name?: string })?.name === 'AbortError') return abortError(signal);
  return new TalStreamError('network', `the upload failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}

/** The source's own error (a take aborted) wins over what fetch made of it. */
function sourceError(pump: FramePump): TalStreamError | null {
  const e = pump.error?.error;
  if (e === undefined) return null;
  return e instanceof TalStreamError ? e : new TalStreamError('aborted', `the audio source failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

async function buildHeaders(opts: PostFramesOptions): Promise<Headers> {
  const h = new Headers(typeof opts.headers === 'function' ? await opts.headers() : opts.headers);
  if (!h.has('Content-Type')) h.set('Content-Type', 'application/octet-stream');
  return h;
}

/**
 * POSTs the frames and resolves with the Response once its headers arrive (read the reply with
 * `responseFrames`). Rejects with a TalStreamError: `http` ({@link TalStreamHttpError}: status and
 * the first 500 bytes of the body) for a non-2xx answer, `network`, `aborted`, or the frame
 * source's own error.
 */
export async function postFrames(opts: PostFramesOptions): Promise<Response> {
  const doFetch = opts.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
  if (!doFetch) throw new TalStreamError('unsupported', 'fetch is not available');
  if (typeof opts.url !== 'string' || !opts.url) throw new TalStreamError('bad-argument', 'postFrames needs a url');
  const mode = opts.upload ?? 'auto';
  if (mode !== 'auto' && mode !== 'stream' && mode !== 'buffered') {
    throw new TalStreamError('bad-argument', `upload must be 'auto', 'stream' or 'buffered', got ${String(mode)}`);
  }
  // A browser without request streams (Firefox, Safari) would send a ReadableStream body as the
  // text "[object ReadableStream]": refuse, rather than upload that.
  if (mode === 'stream' && !supportsRequestStreams()) {
    throw new TalStreamError('unsupported', "upload: 'stream' needs fetch with a ReadableStream body (duplex: 'half'), which this browser lacks: use 'auto' or 'buffered'");
  }
  const { signal } = opts;
  if (signal?.aborted) throw abortError(signal);
  const stream = mode === 'stream' || (mode === 'auto' && streamingWorthTrying(opts.url));
  const pump = new FramePump(opts.frames, mode === 'auto');
  const onAbort = () => pump.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let response: Response | undefined;
    if (stream) {
      try {
        response = await streamed(doFetch, opts, pump);
      } catch (e) {
        const own = sourceError(pump);
        if (signal?.aborted) throw abortError(signal);
        if (own) throw own;
        if (mode === 'stream') throw fetchError(e, signal);
        // 'auto': streaming is not possible on this connection; re-send everything buffered.
      }
    }
    if (!response) response = await buffered(doFetch, opts, pump);
    if (!response.ok) throw await httpError(response, signal);
    return response;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function streamed(doFetch: typeof fetch, opts: PostFramesOptions, pump: FramePump): Promise<Response> {
  opts.onAttempt?.('stream');
  const headers = await buildHeaders(opts);
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const frame = await pump.get(next);
          if (frame === null) controller.close();
          else {
            next++;
            controller.enqueue(frame);
          }
        } catch (e) {
          controller.error(e);
        }
      },
      cancel() {
        // fetch gave up on the body (failure or abort); the pump keeps reading for a fallback.
      },
    },
    { highWaterMark: 0 },
  );
  const init: StreamingRequestInit = { method: 'POST', headers, body, duplex: 'half', credentials: opts.credentials, signal: opts.signal };
  pump.start();
  const response = await doFetch(opts.url, init);
  // The server answered: no re-send can happen any more.
  pump.release(next);
  return response;
}

async function buffered(doFetch: typeof fetch, opts: PostFramesOptions, pump: FramePump): Promise<Response> {
  let frames: Uint8Array[];
  try {
    frames = await pump.all();
  } catch (e) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    throw sourceError(pump) ?? fetchError(e, opts.signal);
  }
  opts.onAttempt?.('buffered');
  const headers = await buildHeaders(opts);
  const body = new Blob(frames as BlobPart[], { type: headers.get('Content-Type') ?? 'application/octet-stream' });
  try {
    return await doFetch(opts.url, { method: 'POST', headers, body, credentials: opts.credentials, signal: opts.signal });
  } catch (e) {
    throw fetchError(e, opts.signal);
  }
}
