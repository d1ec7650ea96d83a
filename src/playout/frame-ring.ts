/**
 * A single-producer, single-consumer ring of playback records in a SharedArrayBuffer: the main
 * thread writes (begin / frame / end), the playback worklet reads once per render quantum. Used
 * where the page is cross-origin isolated, so streaming a reply costs no message in either
 * direction; elsewhere the Player falls back to transferred-buffer messages.
 *
 * Layout (32-bit words): [0] write index, [1] read index, [2] capacity (words of data), [3] spare,
 * then the data. A record is `[total words, type, replyId, order, sampleRate (float32), channels,
 * length, after]` followed by `channels * length` float32 samples, planar. Records never wrap: one
 * that does not fit before the end leaves a WRAP marker and starts again at 0. The write index never catches up
 * with the read index (that would read as empty), so at most capacity - 1 words are in use.
 *
 * Order with the port's messages: `after` is the seq of the last message the writer posted before
 * the record, and the reader takes a record only once it has handled that message (`read`'s
 * `maxAfter`), so ring records and messages are applied in the order they were sent even when a
 * message is slower than the ring (a frame that did not fit, an interrupt before the next reply).
 *
 * Memory: the writer fills the record, then publishes the index with Atomics.store; the reader
 * loads the index with Atomics.load before reading and publishes its own after. Nothing here
 * blocks or waits (an audio thread must not).
 */

export const RING_BEGIN = 1;
export const RING_FRAME = 2;
export const RING_END = 3;
const WRAP = -1;
const HEADER_WORDS = 8;
const CONTROL_WORDS = 4;
const W = 0;
const R = 1;

export type RingRecordType = typeof RING_BEGIN | typeof RING_FRAME | typeof RING_END;

/** What the reader hands each record to. `channels` are fresh copies (the consumer may keep them). */
export interface RingSink {
  record(type: RingRecordType, replyId: number, order: number, sampleRate: number, channels: Float32Array[] | null): void;
}

export class FrameRing {
  readonly buffer: SharedArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly ints: Int32Array;
  private readonly floats: Float32Array;
  private readonly cap: number;

  /** A ring with room for `dataWords` 32-bit words of records (default 2^18: 1 MiB). */
  static create(dataWords = 1 << 18): FrameRing {
    if (!(Number.isInteger(dataWords) && dataWords >= 64)) throw new RangeError(`FrameRing: dataWords must be an integer >= 64, got ${dataWords}`);
    const sab = new SharedArrayBuffer((CONTROL_WORDS + dataWords) * 4);
    new Int32Array(sab, 0, CONTROL_WORDS)[2] = dataWords;
    return new FrameRing(sab);
  }

  /** Either side of a ring made by {@link FrameRing.create} (the other thread passes its buffer). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.ctrl = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.cap = this.ctrl[2]!;
    if (!(this.cap >= 64 && (CONTROL_WORDS + this.cap) * 4 <= buffer.byteLength)) throw new RangeError('FrameRing: not a ring buffer');
    this.ints = new Int32Array(buffer, CONTROL_WORDS * 4, this.cap);
    this.floats = new Float32Array(buffer, CONTROL_WORDS * 4, this.cap);
  }

  /** Data words a record of `channels` x `length` samples takes. */
  static recordWords(channels: number, length: number): number {
    return HEADER_WORDS + channels * length;
  }

  /**
   * Writer: appends one record; false when it does not fit now (the ring is full, or the record is
   * larger than the ring), and then nothing was written.
   */
  write(type: RingRecordType, replyId: number, order: number, sampleRate: number, channels: readonly Float32Array[] | null, after = 0): boolean {
    const length = channels && channels.length > 0 ? channels[0]!.length : 0;
    const nch = channels ? channels.length : 0;
    const need = FrameRing.recordWords(nch, length);
    const cap = this.cap;
    const w = Atomics.load(this.ctrl, W);
    const r = Atomics.load(this.ctrl, R);
    let at: number;
    if (w >= r) {
      // Free: w..cap (the index may land on cap -> 0 only if the reader is not at 0), then 0..r-1.
      if (cap - w > need || (cap - w === need && r > 0)) at = w;
      else if (r > need) {
        this.ints[w] = WRAP;
        at = 0;
      } else return false;
    } else if (r - w > need) at = w;
    else return false;
    const ints = this.ints;
    ints[at] = need;
    ints[at + 1] = type;
    ints[at + 2] = replyId;
    ints[at + 3] = order;
    this.floats[at + 4] = sampleRate; // a float: rates need not be whole numbers
    ints[at + 5] = nch;
    ints[at + 6] = length;
    ints[at + 7] = after;
    let o = at + HEADER_WORDS;
    for (let c = 0; c < nch; c++) {
      this.floats.set(channels![c]!, o);
      o += length;
    }
    const next = at + need;
    Atomics.store(this.ctrl, W, next === cap ? 0 : next);
    return true;
  }

  /**
   * Reader: hands the complete records to `sink`, in order, up to the first one written after a
   * message seq above `maxAfter` (it waits for that message); returns how many were read.
   */
  read(sink: RingSink, maxAfter = Infinity): number {
    let r = Atomics.load(this.ctrl, R);
    const w = Atomics.load(this.ctrl, W);
    if (r === w) return 0; // the common case in process(): nothing new, nothing allocated
    const ints = this.ints;
    let n = 0;
    while (r !== w) {
      const total = ints[r]!;
      if (total === WRAP) {
        r = 0;
        continue;
      }
      if (ints[r + 7]! > maxAfter) break;
      const type = ints[r + 1]! as RingRecordType;
      const nch = ints[r + 5]!;
      const length = ints[r + 6]!;
      let channels: Float32Array[] | null = null;
      if (type === RING_FRAME) {
        channels = [];
        let o = r + HEADER_WORDS;
        for (let c = 0; c < nch; c++) {
          channels.push(this.floats.slice(o, o + length));
          o += length;
        }
      }
      const replyId = ints[r + 2]!;
      const order = ints[r + 3]!;
      const sampleRate = this.floats[r + 4]!;
      r += total;
      if (r === this.cap) r = 0;
      // Publish before the sink runs: a sink that throws must not make the record replay.
      Atomics.store(this.ctrl, R, r);
      n++;
      sink.record(type, replyId, order, sampleRate, channels);
    }
    return n;
  }

  /** Words not free for the writer: records waiting, and a skipped tail after a WRAP marker. */
  get usedWords(): number {
    const w = Atomics.load(this.ctrl, W);
    const r = Atomics.load(this.ctrl, R);
    return w >= r ? w - r : this.cap - r + w;
  }
}
