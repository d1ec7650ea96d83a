import type { BargeInOptions } from '../dsp/near-end-detector';

/**
 * Messages between the main thread and the 'talstream-capture' AudioWorkletProcessor. Types only
 * (plus the processor's name), shared by both sides so they cannot drift apart.
 */

/** The name `worklets/capture-processor.ts` registers. */
export const CAPTURE_PROCESSOR = 'talstream-capture';

/** `processorOptions` of the capture node. */
export interface CaptureProcessorOptions {
  /** Rate of the chunks posted back, in Hz (the context's own rate means no resampling). */
  targetRate: number;
  /** Samples per posted chunk at `targetRate` (20 ms at 16 kHz = 320). */
  chunkSamples: number;
  /** Minimum time between two `level` messages, in ms (100 = at most 10 a second). */
  levelIntervalMs: number;
  /** Chunk buffers the processor allocates up front; more are allocated only if the main thread holds them all. */
  poolSize: number;
}

/** Main thread -> processor. Commands carry an `id` the processor acknowledges. */
export type CaptureCommand =
  /** Start a take: clears the resampler and the partial chunk, then posts chunks. */
  | { type: 'start'; id: number }
  /** End the take: flushes the resampler tail, posts the last (partial) chunk with `final`, then acks. */
  | { type: 'stop'; id: number }
  /** Posts the partial chunk now (not final), then acks. */
  | { type: 'flush'; id: number }
  /** Mute: while muted the processor sends zeros in place of the input, so timing is kept. */
  | { type: 'mute'; id: number; muted: boolean }
  /**
   * Device switch without a gap: take audio from input `input` (0 or 1) once it has carried audio
   * (a non-zero sample in every block) for `settleMs` (0: from its first audio), or after
   * `timeoutMs`; then ack with the take position of the switch. Until then the old input is used,
   * so nothing is lost while the new device starts.
   */
  | { type: 'switch'; id: number; input: number; settleMs: number; timeoutMs: number }
  /**
   * Listening (a hands-free conversation): chunks flow without a take, from now until `on: false`,
   * the echo of input 2 (the player's output, when connected) removed, each with a speech verdict.
   * Acks once applied. Exclusive with a take.
   */
  | { type: 'listen'; id: number; on: boolean; settings: ListenSettings | null }
  /** Returns a chunk buffer to the processor's pool (transferred). */
  | { type: 'recycle'; buffer: Float32Array }
  /** The node is being destroyed: the processor stops (its `process` returns false). */
  | { type: 'close' };

/** Processor -> main thread. */
export type CaptureEvent =
  /**
   * `length` samples of `buffer` (transferred; send it back with `recycle`) are the next audio of
   * the take; `final` marks the take's last chunk (posted before the `stop` ack).
   */
  | { type: 'chunk'; buffer: Float32Array; length: number; final: boolean; verdict?: ChunkVerdict }
  /** Input level over the last interval, linear (0..1), measured on the input before mute. */
  | { type: 'level'; rms: number; peak: number }
  /**
   * Acknowledges the command with this `id`, once its effects have been posted. A `switch` ack
   * carries `position`: output samples of the current take before the switch (-1 when not recording)
   * and `live`: whether the input carried audio (false: the wait timed out). A `listen` ack carries
   * `error` when the processor could not listen (the hands-free module is not loaded).
   */
  | { type: 'ack'; id: number; position?: number; live?: boolean; error?: string };

/** A listening chunk's verdict: 0 silence, 1 echo of the reference (or its residue), 2 the user's speech. */
export type ChunkVerdict = 0 | 1 | 2;

/** How the processor listens (see the 'listen' command). */
export interface ListenSettings {
  /** Remove the echo of input 2 (the reference) before the audio goes out. */
  cancelEcho: boolean;
  /** Tuning of the near-end speech detector (its frames are the chunks). */
  detector: Omit<BargeInOptions, 'frameMs'>;
}
