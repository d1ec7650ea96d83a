// The reference server's reply as TALAudio frames: audio cut into 20 ms frames, the server's
// transcript in `question` on every frame (as the seed does), the answer sentence spread word by
// word over the frames as `answer` captions, and a closing `sign: 3` frame without audio.
import { encodeTalAudio } from '../protocol/tal-audio';

/** What the server answers. */
export interface ReplyPlan {
  /** The server's transcript of the query, sent as `question` on every frame. */
  question: string;
  /** The reply sentence; its words become the frames' `answer` captions, in order. */
  answer: string;
  /**
   * Mono reply audio in [-1, 1): one array, or chunks of any size produced on demand (so that the
   * first frame can leave before the rest is computed). With chunks, give `audioLength`.
   */
  audio: Float32Array | Iterable<Float32Array>;
  /** Total samples the chunks hold (needed to spread the captions); default `audio.length`. */
  audioLength?: number;
  /** Its sample rate, Hz. */
  sampleRate: number;
  /** Extra header fields for the first frame (applications may add their own fields). */
  extra?: Record<string, unknown>;
  /** An action URL for the first frame's `url` field (data for the app; default none). */
  url?: string;
}

/** Options of {@link replyFrames}. */
export interface ReplyFrameOptions {
  /** Audio per frame, ms (default 20). */
  frameMs?: number;
}

/** How many frames {@link replyFrames} yields for `samples` of audio (the closing frame included). */
export function replyFrameCount(samples: number, sampleRate: number, frameMs = 20): number {
  return Math.ceil(samples / Math.max(1, Math.round((sampleRate * frameMs) / 1000))) + 1;
}

/**
 * Cuts the reply into encoded frames, lazily: `order` 1, 2, ...; `sign` 1 on the first, 2 on the
 * middle ones, and a last empty frame with `sign` 3. Audio is written as int16 mono.
 * Concatenating every frame's `answer` gives back `plan.answer` exactly.
 */
export function* replyFrames(plan: ReplyPlan, options: ReplyFrameOptions = {}): Generator<Uint8Array, void, undefined> {
  const frameMs = options.frameMs ?? 20;
  const perFrame = Math.max(1, Math.round((plan.sampleRate * frameMs) / 1000));
  const whole = plan.audio instanceof Float32Array ? plan.audio : undefined;
  const length = plan.audioLength ?? whole?.length ?? 0;
  const audioFrames = Math.ceil(length / perFrame);
  const captions = spreadWords(plan.answer, Math.max(1, audioFrames));
  const base = {
    audioType: 'int16' as const,
    bitDepth: 16 as const,
    sampleRate: plan.sampleRate,
    channels: 1,
    audioFormat: 'wav',
    question: plan.question,
    url: '',
  };
  let order = 0;
  const frame = (samples: Float32Array): Uint8Array => {
    const k = order++;
    const first = k === 0 ? { ...plan.extra, url: plan.url ?? '' } : {};
    return encodeTalAudio({ ...base, answer: captions[k] ?? '', sign: k === 0 ? 1 : 2, order: k + 1, ...first }, samples);
  };
  // Gather chunks into whole frames; only the last frame may be short.
  const pending = new Float32Array(perFrame);
  let filled = 0;
  let sent = 0;
  for (const chunk of whole ? [whole] : (plan.audio as Iterable<Float32Array>)) {
    let at = 0;
    while (at < chunk.length && sent < length) {
      if (filled === 0 && chunk.length - at >= perFrame && length - sent >= perFrame) {
        yield frame(chunk.subarray(at, at + perFrame));
        at += perFrame;
        sent += perFrame;
        continue;
      }
      const n = Math.min(perFrame - filled, chunk.length - at, length - sent);
      pending.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      sent += n;
      if (filled === perFrame) {
        yield frame(pending);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield frame(pending.subarray(0, filled));
  // With no audio at all (nothing to say), the whole answer rides on the closing frame.
  const closing = {
    ...base,
    answer: order === 0 ? plan.answer : captions.slice(order).join(''),
    sign: 3,
    order: order + 1,
    ...(order === 0 ? { ...plan.extra, url: plan.url ?? '' } : {}),
  };
  yield encodeTalAudio(closing, new Int16Array(0));
}

/** All frames of {@link replyFrames} at once. */
export function buildReplyFrames(plan: ReplyPlan, options: ReplyFrameOptions = {}): Uint8Array[] {
  return [...replyFrames(plan, options)];
}

/**
 * Spreads the words of `text` over `slots` captions: word i goes to slot floor(i * slots / words),
 * each word keeping the space that follows it, so that joining the slots gives `text` back.
 */
export function spreadWords(text: string, slots: number): string[] {
  const out: string[] = new Array(slots).fill('');
  const words = text.match(/\S+\s*/g) ?? [];
  const lead = text.match(/^\s*/)?.[0] ?? '';
  words.forEach((w, i) => {
    const slot = Math.min(slots - 1, Math.floor((i * slots) / words.length));
    out[slot] += i === 0 ? lead + w : w;
  });
  if (words.length === 0 && slots > 0) out[0] = text;
  return out;
}

/**
 * A sine tone with 5 ms raised-cosine fades at both ends (no clicks), amplitude `amplitude`.
 */
export function synthTone(hz: number, durationMs: number, sampleRate: number, amplitude = 0.5): Float32Array {
  const n = Math.max(0, Math.round((durationMs * sampleRate) / 1000));
  const out = new Float32Array(n);
  const fade = Math.min(Math.round(sampleRate * 0.005), n >> 1);
  for (let i = 0; i < n; i++) {
    let g = amplitude;
    if (i < fade) g *= 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
    else if (i >= n - fade) g *= 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / fade);
    out[i] = g * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  }
  return out;
}
