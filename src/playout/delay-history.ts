/**
 * The arrival history the adaptive policy learns from: the frame arrivals of the last few replies
 * of a session, in fixed-size typed arrays (bounded memory), and a counterfactual replay that says
 * how many underruns a given start/resume depth would have caused on them.
 */

/** Frames recorded per reply; later frames of a longer reply are not recorded (bounded memory). */
export const MAX_RECORDED_FRAMES = 4096;

class ReplyRecord {
  readonly at = new Float64Array(MAX_RECORDED_FRAMES);
  readonly ms = new Float32Array(MAX_RECORDED_FRAMES);
  count = 0;
  audioMs = 0;
}

export class DelayHistory {
  private readonly records: ReplyRecord[] = [];
  /** Slot the next finished reply goes into: the oldest one once the ring is full. */
  private head = 0;
  /**
   * The reply being recorded is written apart from the ring and swapped in by end(): a reply
   * that is dropped (under two frames, or never ended) must not cost the oldest one kept.
   */
  private spare: ReplyRecord | null = null;
  private current: ReplyRecord | null = null;
  private t0 = 0;
  /** One value per held reply, for medians (allocation-free: this runs inside render quanta). */
  private readonly scratch: Float64Array;

  constructor(readonly capacity: number) {
    this.scratch = new Float64Array(capacity);
  }

  /** Number of finished replies held. */
  get replies(): number {
    return this.records.length;
  }

  /** Minutes of audio over the finished replies held. */
  get minutes(): number {
    let ms = 0;
    for (let i = 0; i < this.records.length; i++) ms += this.records[i]!.audioMs;
    return ms / 60000;
  }

  /** Starts recording a reply (apart from those held); its first arrival defines time 0. */
  begin(): void {
    const r = (this.spare ??= new ReplyRecord());
    r.count = 0;
    r.audioMs = 0;
    this.current = r;
  }

  /** Records one arrival of `audioMs` of audio at `nowMs`. */
  arrival(nowMs: number, audioMs: number): void {
    const r = this.current;
    if (!r) return;
    if (r.count === 0) this.t0 = nowMs;
    if (r.count < MAX_RECORDED_FRAMES) {
      r.at[r.count] = nowMs - this.t0;
      r.ms[r.count] = audioMs;
      r.count++;
      r.audioMs += audioMs;
    }
  }

  /**
   * Ends the reply being recorded: it replaces the oldest held once `capacity` are. False when it
   * had fewer than two frames (it teaches nothing and is dropped; what was held stays).
   */
  end(): boolean {
    const r = this.current;
    this.current = null;
    if (!r || r.count < 2) return false;
    // The slot it replaces becomes the next spare (its arrays reused: no allocation per reply).
    this.spare = this.records[this.head] ?? null;
    this.records[this.head] = r;
    this.head = (this.head + 1) % this.capacity;
    return true;
  }

  /** The finished replies held, oldest first, as plain arrays (for `jitter.persist`). */
  export(): { at: number[]; ms: number[] }[] {
    const out: { at: number[]; ms: number[] }[] = [];
    for (let k = 0; k < this.capacity; k++) {
      const r = this.records[(this.head + k) % this.capacity];
      if (!r) continue;
      const at: number[] = [];
      const ms: number[] = [];
      for (let i = 0; i < r.count; i++) {
        at.push(Math.round(r.at[i]! * 10) / 10);
        ms.push(Math.round(r.ms[i]! * 1000) / 1000);
      }
      out.push({ at, ms });
    }
    return out;
  }

  /** Records replies saved by `export` as finished ones (the newest `capacity` of them). */
  load(replies: { at: number[]; ms: number[] }[]): void {
    for (const rep of replies.slice(-this.capacity)) {
      const n = Math.min(rep.at.length, rep.ms.length, MAX_RECORDED_FRAMES);
      this.begin();
      for (let i = 0; i < n; i++) {
        const at = Number(rep.at[i]);
        const ms = Number(rep.ms[i]);
        if (Number.isFinite(at) && ms > 0 && ms < 60000) this.arrival(at, ms);
      }
      this.end();
    }
  }

  /**
   * When `depthMs` of audio had arrived (ms after the reply's first frame; the last arrival if the
   * reply was shorter): when stop-and-wait at that depth would have started. Median over the
   * finished replies held; 0 with none.
   */
  fillTimeMs(depthMs: number): number {
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      let sum = r.ms[0]!;
      let k = 0;
      while (sum < depthMs - 1e-9 && k < r.count - 1) sum += r.ms[++k]!;
      this.scratch[i] = r.at[k]!;
    }
    return this.median();
  }

  /**
   * How fast the server delivers: audio ms per ms from a reply's first frame to the end of its
   * last (a paced server about 1, less on a link that stalls; a burst server 2-4). Median over the
   * finished replies held; 0 with none.
   */
  speed(): number {
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      this.scratch[i] = r.audioMs / Math.max(1, r.at[r.count - 1]! + r.ms[r.count - 1]!);
    }
    return this.median();
  }

  /** Median of the scratch's first `replies` values, one per held reply (sorts them in place). */
  private median(): number {
    const n = this.records.length;
    if (n === 0) return 0;
    const t = this.scratch;
    for (let i = 1; i < n; i++) {
      const v = t[i]!;
      let j = i - 1;
      for (; j >= 0 && t[j]! > v; j--) t[j + 1] = t[j]!;
      t[j + 1] = v;
    }
    return n % 2 ? t[n >> 1]! : (t[(n >> 1) - 1]! + t[n >> 1]!) / 2;
  }

  /**
   * Underruns that "start once `depthMs` is queued, resume once `depthMs` is queued again" would
   * have had over the finished replies held (audio drains at real time between arrivals).
   */
  underrunsAt(depthMs: number): number {
    // Indexed loops: this runs inside render quanta (via DelayManager.step), where iterators could allocate.
    let total = 0;
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      total += replay(r.at, r.ms, r.count, depthMs);
    }
    return total;
  }
}

/** Event-driven replay of one reply: the number of underruns at a fixed depth. */
export function replay(at: Float64Array, ms: Float32Array, n: number, depth: number): number {
  let now = 0;
  let k = 0;
  let buf = 0;
  let underruns = 0;
  let playing = false;
  for (;;) {
    while (k < n && at[k]! <= now + 1e-9) buf += ms[k++]!;
    const allIn = k === n;
    if (!playing) {
      if (buf >= depth - 1e-9 || allIn) playing = true;
      else {
        now = at[k]!;
        continue;
      }
    }
    const next = allIn ? Infinity : at[k]!;
    if (now + buf <= next) {
      if (allIn) return underruns;
      underruns++;
      playing = false;
      buf = 0;
      now = next;
    } else {
      buf -= next - now;
      now = next;
    }
  }
}
