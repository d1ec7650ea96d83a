/**
 * The audio of one reply on its way to the output: reordering by `order`, channel mapping,
 * sample-rate conversion with state carried across frames, the queue of converted samples, and the
 * map from played output samples back to (frame order, offset in the frame's own rate).
 *
 * Everything that allocates happens in `push`/`end` (message time); `feed` allocates nothing.
 */
import type { TimeScaler } from '../dsp/time-scaler';
import type { ChannelResampler, PlayoutFrame, ResamplerFactory } from './types';

/** Frames held back waiting for a missing `order` before the gap is skipped. */
const REORDER_WINDOW = 4;

export type PushResult = 'queued' | 'held' | 'duplicate' | 'late';

export class ReplyQueue {
  /** Converted samples waiting to play: chunks of per-output-channel arrays. */
  private chunks: Float32Array[][] = [];
  private chunkHead = 0;
  private readOffset = 0;
  /** Output samples queued (not yet read). */
  queued = 0;
  /** Output samples read so far (handed to the time-scaler; it says which of them were heard). */
  played = 0;
  /** Output samples produced so far (played + queued). */
  private produced = 0;

  // Reordering.
  private expected = -1;
  private readonly pending: PlayoutFrame[] = [];

  // Resampling (one per output channel) for the current input rate.
  private resamplers: ChannelResampler[] = [];
  private inRate = 0;
  /** Output index where the current input-rate segment began, and input samples fed into it. */
  private segOutBase = 0;
  private segIn = 0;

  // Frame map: order, input rate, input length and ideal output start of each queued frame.
  private readonly mapOrder: number[] = [];
  private readonly mapRate: number[] = [];
  private readonly mapLen: number[] = [];
  private readonly mapOut: number[] = [];
  private mapCursor = 0;

  ended = false;

  constructor(
    readonly id: number,
    private readonly outRate: number,
    private readonly outChannels: number,
    private readonly createResampler: ResamplerFactory,
  ) {}

  /** Adds a frame; holds it when it is ahead of a missing order; drops duplicates and late frames. */
  push(frame: PlayoutFrame): PushResult {
    if (this.expected >= 0 && frame.order < this.expected) return this.mapOrder.includes(frame.order) ? 'duplicate' : 'late';
    for (const p of this.pending) if (p.order === frame.order) return 'duplicate';
    if (this.expected < 0 || frame.order === this.expected) {
      this.accept(frame);
      this.releasePending(0);
      return 'queued';
    }
    // Ahead of a gap: keep it sorted until the gap fills or too many wait.
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.order > frame.order) i--;
    this.pending.splice(i, 0, frame);
    if (this.pending.length > REORDER_WINDOW) this.releasePending(1);
    return this.pending.includes(frame) ? 'held' : 'queued';
  }

  /** No more frames: plays what is held and the resamplers' tails. */
  end(): void {
    if (this.ended) return;
    this.releasePending(Infinity);
    this.flushResamplers();
    this.ended = true;
  }

  /** Drops everything queued (interrupt). */
  clear(): void {
    this.chunks = [];
    this.chunkHead = 0;
    this.readOffset = 0;
    this.queued = 0;
    this.pending.length = 0;
  }

  /**
   * Moves up to `max` queued samples into the time-scalers (one per output channel, same samples
   * to each) and returns how many moved. Allocation-free: it copies from the queued chunks.
   */
  feed(scalers: readonly TimeScaler[], max: number): number {
    let moved = 0;
    while (moved < max && this.queued > 0) {
      const chunk = this.chunks[this.chunkHead]!;
      const n = Math.min(max - moved, chunk[0]!.length - this.readOffset);
      for (let c = 0; c < scalers.length; c++) scalers[c]!.push(chunk[c]!, this.readOffset, n);
      moved += n;
      this.queued -= n;
      this.played += n;
      this.readOffset += n;
      if (this.readOffset >= chunk[0]!.length) {
        this.chunks[this.chunkHead] = EMPTY;
        this.chunkHead++;
        this.readOffset = 0;
      }
    }
    return moved;
  }

  /** The frame and offset (in its own rate) that `playedSamples` output samples reach. */
  positionAt(playedSamples: number, out: { order: number; sampleOffset: number }): void {
    out.order = 0;
    out.sampleOffset = 0;
    if (playedSamples <= 0 || this.mapOrder.length === 0) return;
    const last = playedSamples - 1;
    let i = Math.min(this.mapCursor, this.mapOrder.length - 1);
    while (i > 0 && this.mapOut[i]! > last) i--;
    while (i + 1 < this.mapOrder.length && this.mapOut[i + 1]! <= last) i++;
    const rate = this.mapRate[i]!;
    const offset = Math.round(((playedSamples - this.mapOut[i]!) * rate) / this.outRate);
    out.order = this.mapOrder[i]!;
    out.sampleOffset = Math.max(0, Math.min(this.mapLen[i]!, offset));
  }

  /**
   * Moves the map cursor to the frame holding sample `heard - 1` (keeps positionAt O(1) in practice;
   * frames before the cursor may be forgotten, so it must not pass what was actually heard).
   */
  syncCursor(heard: number): void {
    const last = heard - 1;
    while (this.mapCursor + 1 < this.mapOrder.length && this.mapOut[this.mapCursor + 1]! <= last) this.mapCursor++;
  }

  /**
   * Hands on the held frames that are next in order, jumping at most `gaps` missing orders (those
   * frames are lost, or dropped as late if they still come). A full window jumps one gap and stops
   * at the next: a frame of that second gap may still arrive in time. `end()` jumps them all.
   */
  private releasePending(gaps: number): void {
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (next.order !== this.expected) {
        if (gaps === 0) break;
        gaps--;
      }
      this.pending.shift();
      this.accept(next);
    }
  }

  private accept(frame: PlayoutFrame): void {
    this.expected = frame.order + 1;
    // Forget the map of frames long played (bounded memory on a long reply); keep the current one.
    if (this.mapCursor > 1024) {
      const n = this.mapCursor - 1;
      this.mapOrder.splice(0, n);
      this.mapRate.splice(0, n);
      this.mapLen.splice(0, n);
      this.mapOut.splice(0, n);
      this.mapCursor -= n;
    }
    const mixed = mixChannels(frame.channels, this.outChannels);
    const len = mixed[0]!.length;
    if (frame.sampleRate !== this.inRate) {
      this.flushResamplers();
      this.inRate = frame.sampleRate;
      this.segOutBase = this.produced;
      this.segIn = 0;
      this.resamplers = [];
      for (let c = 0; c < this.outChannels; c++) this.resamplers.push(this.createResampler(frame.sampleRate, this.outRate));
    }
    this.mapOrder.push(frame.order);
    this.mapRate.push(frame.sampleRate);
    this.mapLen.push(len);
    this.mapOut.push(this.segOutBase + (this.segIn * this.outRate) / frame.sampleRate);
    this.segIn += len;
    const out: Float32Array[] = [];
    for (let c = 0; c < this.outChannels; c++) out.push(this.resamplers[c]!.process(mixed[c]!));
    this.append(out);
  }

  private flushResamplers(): void {
    if (this.resamplers.length === 0) return;
    const out: Float32Array[] = [];
    for (const r of this.resamplers) out.push(r.flush());
    this.resamplers = [];
    this.inRate = 0;
    this.append(out);
  }

  private append(out: Float32Array[]): void {
    const n = Math.min(...out.map((a) => a.length));
    if (n === 0) return;
    // Compact the consumed head now and then (here, at message time, never in render).
    if (this.chunkHead > 64) {
      this.chunks = this.chunks.slice(this.chunkHead);
      this.chunkHead = 0;
    }
    this.chunks.push(out.map((a) => (a.length === n ? a : a.subarray(0, n))));
    this.queued += n;
    this.produced += n;
  }
}

const EMPTY: Float32Array[] = [];

/** Maps source channels to `outChannels`: mono goes to every output, more channels to mono average. */
export function mixChannels(channels: Float32Array[], outChannels: number): Float32Array[] {
  const n = channels.length;
  if (n === outChannels) return channels;
  const len = channels[0]!.length;
  const out: Float32Array[] = [];
  if (n === 1) {
    for (let c = 0; c < outChannels; c++) out.push(channels[0]!);
    return out;
  }
  if (outChannels === 1) {
    const m = new Float32Array(len);
    for (const ch of channels) for (let i = 0; i < len; i++) m[i]! += ch[i]!;
    for (let i = 0; i < len; i++) m[i]! /= n;
    return [m];
  }
  // More source channels than outputs (e.g. 4 -> 2): keep the first ones.
  for (let c = 0; c < outChannels; c++) out.push(channels[Math.min(c, n - 1)]!);
  return out;
}
