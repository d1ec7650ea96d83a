/**
 * A fixed-size queue of playout events (typed arrays: nothing is allocated per event), filled by
 * the core during `render` and polled by its driver (the worklet posts them; the simulator reads them).
 */
import type { PlayoutEventRecord, PlayoutEventType } from './types';

const TYPES: PlayoutEventType[] = ['audio-start', 'underrun', 'resume', 'ended'];
const CAPACITY = 64;

export class PlayoutEventQueue {
  private readonly type = new Uint8Array(CAPACITY);
  private readonly num = new Float64Array(CAPACITY * 9);
  private head = 0;
  private size = 0;
  /** Events lost because the driver did not poll in time. */
  dropped = 0;

  push(
    type: PlayoutEventType,
    replyId: number,
    atSample: number,
    order = 0,
    sampleOffset = 0,
    playedMs = 0,
    underruns = 0,
    interrupted = false,
    minRate = 1,
    maxRate = 1,
  ): void {
    if (this.size === CAPACITY) {
      this.dropped++;
      return;
    }
    const i = (this.head + this.size) % CAPACITY;
    this.type[i] = TYPES.indexOf(type);
    const o = i * 9;
    this.num[o] = replyId;
    this.num[o + 1] = atSample;
    this.num[o + 2] = order;
    this.num[o + 3] = sampleOffset;
    this.num[o + 4] = playedMs;
    this.num[o + 5] = underruns;
    this.num[o + 6] = interrupted ? 1 : 0;
    this.num[o + 7] = minRate;
    this.num[o + 8] = maxRate;
    this.size++;
  }

  /** Fills `out` with the oldest event and removes it; false when there is none. */
  next(out: PlayoutEventRecord): boolean {
    if (this.size === 0) return false;
    const i = this.head;
    const o = i * 9;
    out.type = TYPES[this.type[i]!]!;
    out.replyId = this.num[o]!;
    out.atSample = this.num[o + 1]!;
    out.order = this.num[o + 2]!;
    out.sampleOffset = this.num[o + 3]!;
    out.playedMs = this.num[o + 4]!;
    out.underruns = this.num[o + 5]!;
    out.interrupted = this.num[o + 6] === 1;
    out.minRate = this.num[o + 7]!;
    out.maxRate = this.num[o + 8]!;
    this.head = (this.head + 1) % CAPACITY;
    this.size--;
    return true;
  }

  get length(): number {
    return this.size;
  }
}

/** A blank record to poll into. */
export function newEventRecord(): PlayoutEventRecord {
  return { type: 'audio-start', replyId: 0, atSample: 0, order: 0, sampleOffset: 0, playedMs: 0, underruns: 0, interrupted: false, minRate: 1, maxRate: 1 };
}
