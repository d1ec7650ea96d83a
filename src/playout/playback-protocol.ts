/**
 * Messages between the main-thread Player and the 'talstream-playback' AudioWorklet processor.
 * Data messages carry transferred buffers and are acknowledged (`ack` with the same `seq`), so a
 * test on an OfflineAudioContext can wait until the processor has queued them before rendering.
 */
import type { JitterOptions, PlayedPosition, PlayerStats, PlayoutEventType } from './types';

export const PLAYBACK_PROCESSOR = 'talstream-playback';

/** processorOptions of the playback node. */
export interface PlaybackProcessorOptions {
  channels: 1 | 2;
  jitter?: JitterOptions;
  volume?: number;
  fadeMs?: number;
  /** Minimum interval between stats messages, ms of audio time. */
  statsIntervalMs?: number;
}

export type PlaybackCommand =
  | { type: 'begin'; seq: number; replyId: number }
  | { type: 'frame'; seq: number; replyId: number; order: number; sampleRate: number; channels: Float32Array[] }
  | { type: 'end'; seq: number; replyId: number }
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
    }
  | { type: 'stats'; stats: PlayerStats }
  /** A block of output (first channel), `timeMs` of its first sample on the context clock. */
  | { type: 'pcm'; buffer: Float32Array; timeMs: number; dropped: number };
