/**
 * Every kind of audio an app may ask with becomes the same TALAudio frame sequence: mono, resampled
 * to the target rate (unless `keepRate`), cut into `frameMs` frames by a {@link Take}, `order` from
 * 1, `sign` 1/2/3. A typed query (`null` audio) is one sign-3 frame carrying only `question`.
 */
import { TalStreamError } from '../errors';
import { Resampler } from '../dsp/resampler';
import { isRiffWave, readWav } from '../protocol/wav';
import { CaptureNode } from './capture-node';
import { Take } from './take';
import type { EndOfTurnSource, VadOptions } from './vad';

/** Audio to send. `null` sends only the question (a typed query). */
export type AudioSource =
  | Take
  | Blob
  | ArrayBuffer
  | Uint8Array
  | AudioBuffer
  | { samples: Float32Array; sampleRate: number }
  | MediaStream
  | AudioNode
  | null;

/** Options of {@link toFrameStream}. */
export interface FrameStreamOptions {
  /** Rate of the frames, Hz. Default 16000. A Take keeps its own. */
  sampleRate?: number;
  /** Sample type of the frames. Default 'int16'. */
  audioType?: 'int16' | 'int32';
  /** Audio per frame, ms. Default 20. */
  frameMs?: number;
  /** The query text, written in every frame's `question`. A Take keeps its own (set it in `record()`). */
  question?: string;
  /** Extra header fields written in every frame. */
  fields?: Record<string, unknown>;
  /** Keep the source's own rate instead of resampling (files, buffers, sample arrays). */
  keepRate?: boolean;
  /**
   * Needed for a MediaStream (an AudioContext to capture in) and for compressed files (decoded
   * with `decodeAudioData`); WAV files need none.
   */
  context?: BaseAudioContext;
  /** Self-hosted dist/talstream.worklet.js (live sources: MediaStream, AudioNode). */
  workletUrl?: string;
  /** Aborting stops the frames with an `aborted` TalStreamError (a live source stops capturing). */
  signal?: AbortSignal;
  /**
   * End of turn of a live source (MediaStream, AudioNode) by the built-in energy detector (true = defaults)
   * or {@link VadOptions} (as a Take's `vad`). Other sources ignore it.
   */
  vad?: boolean | VadOptions;
  /** End of turn of a live source from outside (e.g. @ricky0123/vad-web's onSpeechEnd). Other sources ignore it. */
  endOfTurn?: EndOfTurnSource;
  /** A live source stops itself after this much audio, ms (default 300000). Other sources ignore it. */
  maxDurationMs?: number;
  /**
   * Called with the take the frames come from as soon as it exists (every source), e.g. to end a
   * live source's turn with `take.stop()`.
   */
  onTake?: (take: Take) => void;
}

function isTake(s: unknown): s is Take {
  return s instanceof Take;
}

function isAudioBuffer(s: unknown): s is AudioBuffer {
  return !!s && typeof (s as AudioBuffer).getChannelData === 'function' && typeof (s as AudioBuffer).numberOfChannels === 'number';
}

function isMediaStream(s: unknown): s is MediaStream {
  return !!s && typeof (s as MediaStream).getAudioTracks === 'function';
}

function isSamples(s: unknown): s is { samples: Float32Array; sampleRate: number } {
  return !!s && (s as { samples?: unknown }).samples instanceof Float32Array;
}

/** Average of the channels (mono), the input itself when there is one. */
export function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]!;
  const k = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= k;
  return out;
}

/**
 * A finished take holding `samples` (mono at `rate`), resampled to the target rate unless
 * `keepRate`. The same frames a microphone take would give for the same audio.
 */
export function takeFromSamples(samples: Float32Array, rate: number, opts: FrameStreamOptions = {}): Take {
  if (!(Number.isFinite(rate) && rate > 0)) throw new TalStreamError('bad-argument', `sampleRate must be a positive number of Hz, got ${rate}`);
  const target = opts.keepRate ? Math.round(rate) : opts.sampleRate ?? 16000;
  let audio = samples;
  if (target !== rate) {
    const r = new Resampler(rate, target);
    const a = r.process(samples);
    const b = r.flush();
    audio = new Float32Array(a.length + b.length);
    audio.set(a);
    audio.set(b, a.length);
  }
  const take = new Take({ sampleRate: target, audioType: opts.audioType, frameMs: opts.frameMs, question: opts.question, fields: opts.fields, maxDurationMs: Infinity });
  take.write(audio);
  void take.stop();
  return take;
}

async function takeFromBytes(bytes: Uint8Array, opts: FrameStreamOptions): Promise<Take> {
  if (isRiffWave(bytes)) {
    const wav = readWav(bytes);
    return takeFromSamples(downmix(wav.channels), wav.sampleRate, opts);
  }
  if (!opts.context) {
    throw new TalStreamError('bad-wav', 'the audio is not a WAV file; pass `context` to decode other formats with decodeAudioData', { offset: 0 });
  }
  let buffer: AudioBuffer;
  try {
    // decodeAudioData detaches its argument: give it a copy.
    buffer = await opts.context.decodeAudioData(bytes.slice().buffer);
  } catch (cause) {
    throw new TalStreamError('bad-wav', `the browser could not decode the audio: ${(cause as Error)?.message}`, { cause, offset: 0 });
  }
  return takeFromAudioBuffer(buffer, opts);
}

function takeFromAudioBuffer(buffer: AudioBuffer, opts: FrameStreamOptions): Take {
  const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
  return takeFromSamples(downmix(channels), buffer.sampleRate, opts);
}

/** Options of a live capture ({@link recordMediaStream}, {@link recordAudioNode}). */
export type LiveCaptureOptions = Omit<FrameStreamOptions, 'context' | 'keepRate' | 'onTake'>;

/**
 * Captures a live MediaStream (e.g. a WebRTC track or an element's captureStream()) in `context`:
 * a take that ends when every audio track ends, when you call `take.stop()`, or by its `vad` /
 * `endOfTurn` / `maxDurationMs`.
 */
export async function recordMediaStream(context: BaseAudioContext, stream: MediaStream, opts: LiveCaptureOptions = {}): Promise<Take> {
  if (typeof (context as AudioContext).createMediaStreamSource !== 'function') {
    throw new TalStreamError('bad-argument', 'a MediaStream source needs an AudioContext in `context`');
  }
  if (stream.getAudioTracks().length === 0) throw new TalStreamError('bad-argument', 'the MediaStream has no audio track');
  return recordLive(context, (context as AudioContext).createMediaStreamSource(stream), stream.getAudioTracks(), opts);
}

/**
 * Captures what an AudioNode of your graph outputs (e.g. a MediaElementAudioSourceNode, or a mix
 * you built) in the node's own context: a take that ends when you call `take.stop()`, or by its
 * `vad` / `endOfTurn` / `maxDurationMs`. Your node is left connected to whatever else it feeds.
 */
export async function recordAudioNode(node: AudioNode, opts: LiveCaptureOptions = {}): Promise<Take> {
  if (typeof AudioNode === 'undefined' || !(node instanceof AudioNode)) throw new TalStreamError('bad-argument', 'recordAudioNode needs an AudioNode');
  if (node.numberOfOutputs === 0) throw new TalStreamError('bad-argument', 'the AudioNode has no output to capture');
  return recordLive(node.context, node, [], opts);
}

/** A take of what `source` outputs, ended also when every one of `tracks` (if any) ends. */
async function recordLive(context: BaseAudioContext, source: AudioNode, tracks: MediaStreamTrack[], opts: LiveCaptureOptions): Promise<Take> {
  const capture = await CaptureNode.create(context, { sampleRate: opts.sampleRate, frameMs: opts.frameMs, workletUrl: opts.workletUrl });
  source.connect(capture.node);
  const onEnded = () => {
    if (tracks.every((t) => t.readyState === 'ended')) void take.end('source-ended');
  };
  const release = () => {
    for (const t of tracks) t.removeEventListener('ended', onEnded);
    // An app's node may feed others too: undo only our connection.
    source.disconnect(capture.node);
    capture.destroy();
  };
  let take: Take;
  try {
    take = new Take(
      {
        sampleRate: capture.sampleRate,
        frameMs: (capture.chunkSamples / capture.sampleRate) * 1000,
        audioType: opts.audioType,
        question: opts.question,
        fields: opts.fields,
        signal: opts.signal,
        vad: opts.vad,
        endOfTurn: opts.endOfTurn,
        maxDurationMs: opts.maxDurationMs,
      },
      {
        stop: async () => {
          await started;
          await capture.stop();
        },
        release,
      },
    );
  } catch (e) {
    // Bad take options (maxDurationMs, vad): release the capture built for it.
    release();
    throw e;
  }
  for (const t of tracks) t.addEventListener('ended', onEnded);
  capture.onChunk = (samples) => take.write(samples);
  const started = capture.start();
  await started;
  return take;
}

async function* fromTake(take: Take, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array, void, undefined> {
  const onAbort = () => take.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    yield* take;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Turns any {@link AudioSource} into TALAudio frames (each item one whole frame). Errors: `bad-wav`
 * (unreadable file), `bad-argument` (unknown source, bad options), `aborted`.
 */
export async function* toFrameStream(source: AudioSource, opts: FrameStreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  if (opts.signal?.aborted) throw new TalStreamError('aborted', 'aborted before sending', { cause: opts.signal.reason });
  let take: Take;
  if (source === null || source === undefined) {
    take = new Take({ sampleRate: opts.sampleRate, audioType: opts.audioType, frameMs: opts.frameMs, question: opts.question, fields: opts.fields });
    void take.stop();
  } else if (isTake(source)) {
    take = source;
  } else if (source instanceof Uint8Array) {
    take = await takeFromBytes(source, opts);
  } else if (source instanceof ArrayBuffer) {
    take = await takeFromBytes(new Uint8Array(source), opts);
  } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
    take = await takeFromBytes(new Uint8Array(await source.arrayBuffer()), opts);
  } else if (isAudioBuffer(source)) {
    take = takeFromAudioBuffer(source, opts);
  } else if (isSamples(source)) {
    take = takeFromSamples(source.samples, source.sampleRate, opts);
  } else if (isMediaStream(source)) {
    if (!opts.context) throw new TalStreamError('bad-argument', 'a MediaStream source needs `context` (an AudioContext)');
    take = await recordMediaStream(opts.context, source, opts);
  } else if (typeof AudioNode !== 'undefined' && source instanceof AudioNode) {
    take = await recordAudioNode(source, opts);
  } else if (source instanceof Float32Array) {
    // Guessing a rate would send audio at the wrong pitch and speed: ask for it instead.
    throw new TalStreamError('bad-argument', 'a bare Float32Array has no sample rate: pass `{ samples, sampleRate }` instead');
  } else {
    throw new TalStreamError('bad-argument', 'unknown audio source: expected a Take, Blob, ArrayBuffer, Uint8Array, AudioBuffer, {samples, sampleRate}, MediaStream, AudioNode or null');
  }
  opts.onTake?.(take);
  yield* fromTake(take, opts.signal);
}
