/**
 * The one error type talstream throws, rejects with and emits.
 *
 * `code` says what went wrong; `offset` is the byte offset in the stream where bytes are
 * involved (decoder errors), `undefined` otherwise. HTTP failures use the
 * {@link TalStreamHttpError} subclass, which adds the status and the start of the body, so this
 * base type does not carry a bag of fields that only one code uses.
 */
export type TalStreamErrorCode =
  /** A frame's length words are inconsistent (`total < 8 + H`). */
  | 'bad-length'
  /** Header bytes are not UTF-8 JSON, or the JSON is not an object, or a TALAudio field is out of range. */
  | 'bad-header'
  /** A frame declares more bytes than `maxFrameBytes`. */
  | 'frame-too-large'
  /** The stream ended inside a frame. */
  | 'truncated'
  /** A payload does not fit its header (length, sample type, WAV data). */
  | 'bad-payload'
  /** A WAV file that cannot be read. */
  | 'bad-wav'
  /** The server answered with a non-2xx status ({@link TalStreamHttpError}). */
  | 'http'
  /** The request failed on the network (DNS, reset, HTTP/2 required, ...). */
  | 'network'
  /** The operation was aborted (AbortSignal, interrupt, destroy). */
  | 'aborted'
  /** The user or the browser refused the microphone. */
  | 'permission-denied'
  /** No microphone (or the chosen one) exists. */
  | 'no-device'
  /** The AudioWorklet module could not be loaded (CSP, network). */
  | 'worklet-load'
  /** The AudioContext could not be created, resumed or was closed. */
  | 'audio-context'
  /** The browser lacks a needed feature. */
  | 'unsupported'
  /** An argument given to the SDK is invalid. */
  | 'bad-argument'
  /** The component was used after `destroy()`. */
  | 'destroyed'
  /** An application listener threw; the SDK reported it and carried on (`cause` holds the throw). */
  | 'listener';

export class TalStreamError extends Error {
  override readonly name: string = 'TalStreamError';
  /** What went wrong; stable, switch on it. */
  readonly code: TalStreamErrorCode;
  /** Byte offset in the stream where the problem was found, when bytes are involved. */
  readonly offset: number | undefined;

  constructor(code: TalStreamErrorCode, message: string, options: { offset?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.offset = options.offset;
    // Keep `cause` visible even where the runtime ignores the ErrorOptions argument.
    if (options.cause !== undefined && (this as { cause?: unknown }).cause === undefined) {
      (this as { cause?: unknown }).cause = options.cause;
    }
  }
}

/** A non-2xx HTTP answer: `status` and up to the first 500 bytes of the body as text. */
export class TalStreamHttpError extends TalStreamError {
  override readonly name: string = 'TalStreamHttpError';
  /** The HTTP status code. */
  readonly status: number;
  /** The first bytes of the response body (at most 500), decoded as UTF-8. */
  readonly body: string;

  constructor(status: number, body: string, message?: string) {
    super('http', message ?? `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.status = status;
    this.body = body;
  }
}

/** True when `e` is a TalStreamError (works across bundle copies via the name check). */
export function isTalStreamError(e: unknown): e is TalStreamError {
  return e instanceof TalStreamError || (e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && /^TalStream/.test(e.name));
}
