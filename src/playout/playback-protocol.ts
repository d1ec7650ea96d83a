/**
 * Messages between the main-thread Player and the 'talstream-playback' AudioWorklet processor.
 * Data messages carry transferred buffers. Commands are acknowledged (`ack` with the same `seq`)
 * unless sent `quiet`: the streaming path (begin, frames, end of a reply) is quiet, so a reply costs
 * no message back per frame; a quiet command that fails is reported once as `refused`. The acked
 * variants let a test on an OfflineAudioContext wait until the processor has queued a frame.
 * Where the page is cross-origin isolated the streaming path goes through a SharedArrayBuffer
 * ring (frame-ring.ts) instead; the processor drains the ring before every command, so ring
 * records and messages stay in the order the main thread sent them.
 */
import type { JitterMemory, JitterOptions, PlayedPosition, PlayerStats, PlayoutEventType } from './types';

export const PLAYBACK_PROCESSOR = 'talstream-playback';

/** processorOptions of the playback node. */
export interface PlaybackProcessorOptions {
  channels: 1 | 2;
  jitter?: JitterOptions;
  volume?: number;
  fadeMs?: number;
  /** Minimum interval between stats messages, ms of audio time. */
  statsIntervalMs?: number;
  /** The SharedArrayBuffer of a FrameRing (frame-ring.ts) the main thread writes begin/frame/end records into. */
  ring?: SharedArrayBuffer;
  /** What a previous visit learned (`jitter.persist`, read by the Player). */
  memory?: JitterMemory | null;
  /** Post a `memory` message after each learned reply (the Player stores it). */
  persist?: boolean;
}

export type PlaybackCommand =
  | { type: 'begin'; seq: number; replyId: number; quiet?: boolean }
  | { type: 'frame'; seq: number; replyId: number; order: number; sampleRate: number; channels: Float32Array[]; quiet?: boolean }
  | { type: 'end'; seq: number; replyId: number; quiet?: boolean }
  | { type: 'interrupt'; seq: number }
  | { type: 'volume'; seq: number; value: number }
  | { type: 'stats'; seq: number }
  /** Start/stop copying the output to the main thread in blocks (pooled buffers, see `recycle`). */
  | { type: 'pcm'; seq: number; on: boolean; blockSize: number; pool: Float32Array[] }
  /** Gives a PCM block buffer back to the processor's pool. */
  | { type: 'recycle'; seq: number; buffer: Float32Array }
  | { type: 'destroy'; seq: number };

export type PlaybackMessage =
  /** The command `seq` was applied; `result` for frames ('queued', 'duplicate', 'closed', ...). */
  | { type: 'ack'; seq: number; result?: string; position?: PlayedPosition; stats?: PlayerStats; error?: string }
  | {
      type: 'event';
      event: PlayoutEventType;
      replyId: number;
      /** Audio time of the event in ms (context time of the quantum plus the sample index). */
      timeMs: number;
      position?: PlayedPosition;
      underruns?: number;
      interrupted?: boolean;
      /** For 'ended': the slowest and fastest rates the reply played at. */
      minRate?: number;
      maxRate?: number;
    }
  | { type: 'stats'; stats: PlayerStats }
  /** A quiet command or ring record failed: `result` 'overflow' (queue full), or `error`. */
  | { type: 'refused'; replyId: number; order: number; result?: string; error?: string }
  /** What the adaptive policy learned, after a reply (only with `persist`): the Player stores it. */
  | { type: 'memory'; memory: JitterMemory }
  /** A block of output (first channel), `timeMs` of its first sample on the context clock. */
  | { type: 'pcm'; buffer: Float32Array; timeMs: number; dropped: number };
