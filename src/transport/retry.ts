// Retrying an ask's request. A POST is not idempotent in general, so by default a request is sent
// again only when nothing of an answer came back: the fetch failed on the network (connection
// refused or reset before the response) or the server said it was momentarily unable (502, 503,
// 504). Once a 2xx response arrived, its body is the reply: a failure while reading it is never
// retried (the audio already played cannot be unplayed, and the server may have acted on the ask).
import { TalStreamError, isTalStreamError } from '../errors';
import { FramePump } from './frame-pump';

/** When and how often a failed request is sent again (the `retry` option of the client). */
export interface RetryOptions {
  /** Further attempts after the first (default 2; 0 turns retrying off). */
  retries?: number;
  /** Wait before the first retry, ms (default 250); doubles on each later one (exponential backoff). */
  delayMs?: number;
  /** Longest wait between attempts, ms (default 4000). */
  maxDelayMs?: number;
  /** HTTP statuses that mean "try again" (default [502, 503, 504]). */
  statuses?: number[];
}

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: Required<RetryOptions> = Object.freeze({ retries: 2, delayMs: 250, maxDelayMs: 4000, statuses: [502, 503, 504] });

/** One attempt: POST the frames (read from the given iterable, from the first one). */
export type RequestAttempt = (frames: AsyncIterable<Uint8Array>, attempt: number) => Promise<Response>;

/** Options of {@link requestWithRetry}. */
export interface RequestWithRetryOptions extends RetryOptions {
  /** The request body's frames; read once, kept until a response arrives so a retry can re-send them. */
  frames: AsyncIterable<Uint8Array>;
  /** Aborting stops retrying (and the wait between attempts) with an `aborted` error. */
  signal?: AbortSignal;
  /** Timers (tests). */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
  /** Told of each retry before its wait: the attempt number (2, 3, ...), the error, the wait. */
  onRetry?: (info: { attempt: number; error: TalStreamError; delayMs: number }) => void;
}

/** True when `error` came before any byte of an answer and is worth another try. */
export function isRetryable(error: unknown, statuses: readonly number[] = DEFAULT_RETRY.statuses): boolean {
  if (!isTalStreamError(error)) return false;
  if (error.code === 'network') return true;
  return error.code === 'http' && statuses.includes((error as { status?: number }).status ?? -1);
}

/**
 * Calls `attempt` until it resolves with a Response, retrying only {@link isRetryable} failures
 * (up to `retries` more times, with backoff). Each attempt reads the same frames from the start:
 * they are kept (not re-read from the source) until the first response arrives, then released.
 *
 * @throws the last attempt's error; TalStreamError `aborted` when `signal` fires.
 */
export async function requestWithRetry(attempt: RequestAttempt, opts: RequestWithRetryOptions): Promise<Response> {
  const retries = Math.max(0, Math.floor(opts.retries ?? DEFAULT_RETRY.retries));
  const statuses = opts.statuses ?? DEFAULT_RETRY.statuses;
  const base = opts.delayMs ?? DEFAULT_RETRY.delayMs;
  const max = opts.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const { signal } = opts;
  // Without retries there is nothing to keep: hand the frames straight through.
  if (retries === 0) return attempt(opts.frames, 1);
  const pump = new FramePump(opts.frames, true);
  const replay = (): AsyncIterable<Uint8Array> => ({
    async *[Symbol.asyncIterator]() {
      for (let i = 0; ; i++) {
        const f = await pump.get(i);
        if (f === null) return;
        yield f;
      }
    },
  });
  try {
    for (let n = 1; ; n++) {
      try {
        const response = await attempt(replay(), n);
        return response;
      } catch (error) {
        if (signal?.aborted || n > retries || !isRetryable(error, statuses)) throw error;
        const delayMs = Math.min(max, base * 2 ** (n - 1));
        opts.onRetry?.({ attempt: n + 1, error: error as TalStreamError, delayMs });
        await wait(delayMs, signal, opts);
      }
    }
  } finally {
    pump.release(pump.count);
  }
}

function wait(ms: number, signal: AbortSignal | undefined, t: Pick<RequestWithRetryOptions, 'setTimeout' | 'clearTimeout'>): Promise<void> {
  const set = t.setTimeout ?? ((fn: () => void, d: number) => setTimeout(fn, d));
  const clear = t.clearTimeout ?? ((id: unknown) => clearTimeout(id as ReturnType<typeof setTimeout>));
  return new Promise<void>((resolve, reject) => {
    const aborted = () => new TalStreamError('aborted', 'the request was aborted while waiting to retry', { cause: signal?.reason });
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clear(id);
      reject(aborted());
    };
    const id = set(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
