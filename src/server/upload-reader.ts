// Reads an uploaded query (TALAudio frames) as its bytes arrive: decodes each chunk at once, keeps
// the audio as mono floats and the typed `question` text, and stops with a TalStreamError (code and
// byte offset) at the first bad byte or when the upload outgrows its limit.
import { TalStreamError } from '../errors';
import { FrameDecoder } from '../protocol/frame-decoder';
import { readTalAudio } from '../protocol/tal-audio';

/** Options of {@link UploadReader}. */
export interface UploadReaderOptions {
  /** Largest single frame accepted, bytes (default 4 MiB). */
  maxFrameBytes?: number;
  /** Most audio accepted, seconds at the upload's own rate (default 120). */
  maxSeconds?: number;
}

/** What an upload held, once complete. */
export interface Upload {
  /** All audio, mixed down to mono, in upload order. */
  mono: Float32Array;
  /** Its sample rate (that of the first frame with audio; 16000 when there was no audio). */
  sampleRate: number;
  /** Typed question text: the non-empty `question` fields, in order, without repeats. */
  question: string;
  /** Number of frames read. */
  frames: number;
  /** Whether a `sign: 3` frame closed the upload. */
  ended: boolean;
  /**
   * The first frame's `interrupted` (a conversation turn that cut the previous answer: how much of
   * it the user heard), when it is a well-formed one; null otherwise.
   */
  interrupted: { order: number; sampleOffset: number; playedMs: number } | null;
}

export class UploadReader {
  private readonly decoder: FrameDecoder;
  private readonly maxSeconds: number;
  private readonly chunks: Float32Array[] = [];
  private samples = 0;
  private rate = 0;
  private readonly texts: string[] = [];
  private frames = 0;
  private ended = false;
  private interrupted: Upload['interrupted'] = null;

  constructor(options: UploadReaderOptions = {}) {
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes ?? 4 * 1024 * 1024 });
    this.maxSeconds = options.maxSeconds ?? 120;
  }

  /**
   * Feeds the next bytes of the body. Throws a TalStreamError at the first malformed frame; frames
   * before it have been taken in.
   */
  push(chunk: Uint8Array): void {
    for (const frame of this.decoder.push(chunk)) {
      this.frames++;
      const { header, channels } = readTalAudio(frame);
      if (this.frames === 1) this.interrupted = readInterrupted((header as Record<string, unknown>).interrupted);
      const text = typeof header.question === 'string' ? header.question : '';
      if (text && this.texts[this.texts.length - 1] !== text) this.texts.push(text);
      if (header.sign === 3) this.ended = true;
      const length = channels[0]?.length ?? 0;
      if (length === 0) continue;
      const rate = Number(header.sampleRate);
      if (this.rate === 0) this.rate = rate;
      else if (rate !== this.rate) {
        throw new TalStreamError('bad-header', `sampleRate changed from ${this.rate} to ${rate} within one upload`, {
          offset: frame.offset,
        });
      }
      if (this.samples + length > this.maxSeconds * this.rate) {
        throw new TalStreamError('frame-too-large', `upload longer than ${this.maxSeconds} s of audio`, { offset: frame.offset });
      }
      this.chunks.push(mixDown(channels, length));
      this.samples += length;
    }
    // The decoder hands good frames over first and holds a following error for the next call;
    // the server wants to refuse at once, having kept the good frames above.
    const pending = this.decoder.error;
    if (pending) throw pending;
  }

  /** The body ended: checks it did not stop inside a frame and returns what it held. */
  finish(): Upload {
    this.decoder.end();
    const mono = new Float32Array(this.samples);
    let at = 0;
    for (const c of this.chunks) {
      mono.set(c, at);
      at += c.length;
    }
    this.chunks.length = 0;
    return { mono, sampleRate: this.rate || 16000, question: this.texts.join(' '), frames: this.frames, ended: this.ended, interrupted: this.interrupted };
  }
}

/** `{order, sampleOffset, playedMs}` of non-negative finite numbers, or null (absent or malformed: ignored, like any extra field). */
function readInterrupted(v: unknown): Upload['interrupted'] {
  if (!v || typeof v !== 'object') return null;
  const { order, sampleOffset, playedMs } = v as Record<string, unknown>;
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  return ok(order) && ok(sampleOffset) && ok(playedMs) ? { order, sampleOffset, playedMs } : null;
}

function mixDown(channels: Float32Array[], length: number): Float32Array {
  if (channels.length === 1) return channels[0]!.slice();
  const out = new Float32Array(length);
  for (const ch of channels) for (let i = 0; i < length; i++) out[i]! += ch[i]! / channels.length;
  return out;
}
