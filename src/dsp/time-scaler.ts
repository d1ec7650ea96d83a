/**
 * TimeScaler: streaming, pitch-preserving time-scale modification for the jitter buffer (play a
 * little faster to drain it, a little slower to fill it), like WebRTC NetEq's accelerate and
 * preemptive expand. Mono, any sample rate, pure code (no Web Audio), nothing allocated after the
 * constructor, so it runs inside the AudioWorklet's render quantum.
 *
 * Design: a pitch-period splicer, not WSOLA. The output is the input, copied verbatim, until the
 * drift between the requested rate and what was played reaches the shortest period (2.5 ms). Then
 * it finds the lag P (2.5..15 ms: a pitch period or a multiple of one) at which the signal is most
 * like itself (normalised cross-correlation, first on a grid decimated to about 8 kHz, then to the
 * sample around the best point) and cross-fades over P samples into the copy P ahead (accelerate:
 * P input samples are skipped) or P behind (expand: P samples play twice). A poor match
 * (correlation < 0.5: an onset, a plosive) is put off, retried every 2.5 ms, until the drift
 * reaches half the longest period (on speech this halves the loud splices at a poor match; more
 * patience would halve them again but let the position wander further from the rate asked for);
 * after a splice at least P samples are copied before the next one.
 * Why not WSOLA:
 * - at the rates the buffer uses (0.9..1.1) about 80-90% of the output is untouched input; WSOLA
 *   overlap-adds every hop, which smears transients and costs a search per hop;
 * - rate 1 is a plain copy: bit exact, zero latency, no lookahead. Lookahead (<= 2 periods + the
 *   correlation window, 30 ms by default) is needed only while a splice is due;
 * - positions are exact and simple: between splices output sample j plays input j + offset, and
 *   each splice moves the offset by +-P at one known sample.
 *
 * Rate is input consumed per output sample (1.1: 10% faster, the buffer drains; 0.9: slower, it
 * fills). It may change on every call; a splice that has begun finishes at its own length.
 *
 * Positions. Input and output samples are counted from construction or `reset()`. The source index
 * of output sample j is the input sample it plays (during a cross-fade, the side weighing >= 1/2),
 * made monotonic: while an expand replays samples already heard it stays at the newest one heard.
 * `consumed` (the input played, for the buffer's accounting and `playedMs`) is the source index of
 * the last output sample + 1; `sourceIndex` maps any recent or future output sample.
 */

/** Tuning of a {@link TimeScaler}; the defaults suit speech at 8..48 kHz. */
export interface TimeScalerOptions {
  /** Shortest splice (lag and cross-fade), ms: the highest pitch matched. Default 2.5 (400 Hz). */
  minPeriodMs?: number;
  /** Longest splice, ms: the lowest pitch matched. Default 15 (67 Hz). */
  maxPeriodMs?: number;
  /** Correlation window of the lag search, ms. Default 10. */
  windowMs?: number;
  /** Input the ring holds ahead of the read position, ms (at least the lookahead). Default 80. */
  capacityMs?: number;
}

/** Splices remembered for `sourceIndex` (each covers >= one period of output). */
const LOG = 16;
/** Fields of a log entry: first output index, read index, signed lag, half fade, frontier - 1. */
const F = 5;

/** Streaming pitch-period splicer: see the file header for the design and the position semantics. */
export class TimeScaler {
  /** Sample rate of the audio, Hz (only converts the ms options). */
  readonly sampleRate: number;
  /** Shortest and longest splice, samples. */
  readonly minPeriod: number;
  readonly maxPeriod: number;
  /** Most input the ring can hold ahead of the read position (the largest `available`), samples. */
  readonly capacity: number;
  private readonly win: number;
  /** Step of the coarse lag search: decimates it to about 8 kHz whatever the rate. */
  private readonly dec: number;
  /** Input needed ahead of the read position to start an accelerate / an expand. */
  private readonly aheadAcc: number;
  private readonly aheadExp: number;
  private readonly buf: Float32Array;
  private readonly mask: number;
  private readonly log = new Float64Array(LOG * F);
  private logN = 0;
  /** Next input index the output copies (moves by the lag when a cross-fade ends). */
  private rd = 0;
  private wr = 0;
  private outN = 0;
  /** Input that should have been consumed minus input that was: > 0 is due for skipping. */
  private drift = 0;
  /** Cross-fade in progress: samples left, length, and offset of the side faded into. */
  private left = 0;
  private fade = 0;
  private alt = 0;
  /** Samples to copy before the next lag search (after a splice, or a poor match turned down). */
  private hold = 0;
  private leader: TimeScaler | null = null;

  /**
   * @param sampleRate samples per second of the audio to scale (8000..48000 intended; any > 0).
   * @param options lag range, correlation window, ring size (ms).
   */
  constructor(sampleRate: number, options: TimeScalerOptions = {}) {
    const ms = (v: number | undefined, d: number): number => Math.max(1, Math.round(((v ?? d) * sampleRate) / 1000));
    this.sampleRate = sampleRate;
    this.minPeriod = ms(options.minPeriodMs, 2.5);
    this.maxPeriod = Math.max(this.minPeriod, ms(options.maxPeriodMs, 15));
    this.win = ms(options.windowMs, 10);
    this.dec = Math.max(1, Math.round(sampleRate / 8000));
    this.aheadExp = Math.max(this.win, this.maxPeriod);
    this.aheadAcc = this.maxPeriod + this.aheadExp;
    // The ring also keeps maxPeriod samples behind the read position: expand re-reads them.
    const want = Math.max(ms(options.capacityMs, 80), this.aheadAcc + 1) + this.maxPeriod;
    let size = 1;
    while (size < want) size *= 2;
    this.buf = new Float32Array(size);
    this.mask = size - 1;
    this.capacity = size - this.maxPeriod;
    this.reset();
  }

  /** Forgets all input, output, drift and any splice in progress; counts restart at 0. */
  reset(): void {
    this.rd = this.wr = this.outN = this.drift = this.left = this.fade = this.alt = this.hold = 0;
    // The initial "splice": output j plays input j.
    this.logN = 0;
    this.note(0, 0, 0, 0, -1);
  }

  /** Input samples pushed since the reset. */
  get written(): number {
    return this.wr;
  }

  /** Output samples rendered since the reset. */
  get produced(): number {
    return this.outN;
  }

  /** Input samples played (the source index of the last output sample + 1). Never decreases. */
  get consumed(): number {
    return this.outN > 0 ? this.sourceIndex(this.outN - 1) + 1 : 0;
  }

  /** Input pushed but not played yet (`written - consumed`). */
  get available(): number {
    return this.wr - this.consumed;
  }

  /**
   * Output samples the input already pushed yields if no further splice starts (rate 1 from now):
   * what is left to read, plus the lag a cross-fade in progress adds (expand) or skips (accelerate).
   * The playout fades out over exactly this many samples before the buffer runs dry.
   */
  get runway(): number {
    return this.wr - this.rd - (this.left > 0 ? this.alt : 0);
  }

  /**
   * Makes this scaler splice where `leader` spliced, by the same lag, instead of searching its own
   * signal: the second channel of a stereo output follows the first, so both stay aligned. Both
   * must get the same pushes and render calls, the leader's first.
   */
  follow(leader: TimeScaler | null): void {
    this.leader = leader;
  }

  /**
   * Forgets the rate drift and copies at least one longest period before the next splice, keeping
   * positions and counts: for a restart after a gap (an underrun), when the samples behind the read
   * position were faded out and must not be searched or replayed.
   */
  settle(): void {
    this.drift = 0;
    this.hold = Math.max(this.hold, this.maxPeriod);
  }

  /** Samples `push` accepts now. */
  get space(): number {
    return this.capacity - (this.wr - this.rd);
  }

  /**
   * Appends up to `n` samples of `src` from `offset` to the input; returns how many fit (`space`).
   */
  push(src: Float32Array, offset = 0, n = src.length - offset): number {
    const c = Math.max(0, Math.min(n, this.space));
    for (let i = 0; i < c; i++) this.buf[(this.wr + i) & this.mask] = src[offset + i]!;
    this.wr += c;
    return c;
  }

  /**
   * Input that must be `available` for `render(…, n, rate)` to produce all `n` samples exactly as
   * it would with unlimited input (no splice put off for want of lookahead). `n` at rate 1 with no
   * splice in progress; otherwise an upper bound: n x rate + at most one lag of overshoot + the
   * lookahead of a splice that may fall due (2 x maxPeriod to accelerate, maxPeriod to expand).
   */
  needed(n: number, rate: number): number {
    const d = step(rate);
    const end = this.drift + d * n;
    let x = this.rd - this.consumed + n + (this.left > 0 && this.alt > 0 ? this.alt : 0);
    if (d > 0 && end >= this.minPeriod) x += end + this.maxPeriod + this.aheadAcc;
    else if (d < 0 && end <= -this.minPeriod) x += this.aheadExp;
    return Math.ceil(x);
  }

  /**
   * Renders up to `n` samples into `out` from `offset`, consuming input at `rate` (clamped to
   * 0.5..1.5; NaN plays at 1). Returns how many were written: fewer than `n` only when the input ran
   * out. Rate 1 copies the input bit exact (after a splice has finished). A splice that falls due
   * without its lookahead in the ring is put off (the output stays a copy) until the input is there.
   */
  render(out: Float32Array, offset: number, n: number, rate: number): number {
    const d = step(rate);
    const b = this.buf;
    const m = this.mask;
    let i = 0;
    if (d === 0 && this.left === 0) {
      // Pass-through: nothing is due at rate 1 (the drift keeps for the next rate change).
      const c = Math.min(n, this.wr - this.rd);
      for (; i < c; i++) out[offset + i] = b[(this.rd + i) & m]!;
      this.rd += c;
      this.hold -= c; // as the per-sample path would: no state may depend on the chunking
    } else {
      for (; i < n; i++) {
        const rd = this.rd;
        if (
          this.left === 0 &&
          this.hold <= 0 &&
          (d > 0
            ? this.drift >= this.minPeriod && this.wr - rd >= this.aheadAcc
            : d < 0 && this.drift <= -this.minPeriod && rd >= this.maxPeriod && this.wr - rd >= this.aheadExp)
        )
          this.splice(d > 0 ? 1 : -1, this.outN + i);
        if (this.left > 0) {
          // Linear cross-fade (the two sides are correlated, so it keeps the amplitude).
          const a = b[rd & m]!;
          out[offset + i] = a + ((this.fade - this.left + 1) / (this.fade + 1)) * (b[(rd + this.alt) & m]! - a);
          this.rd = --this.left === 0 ? rd + 1 + this.alt : rd + 1;
        } else if (rd < this.wr) {
          out[offset + i] = b[rd & m]!;
          this.rd = rd + 1;
          this.hold--;
        } else break;
        this.drift += d;
      }
    }
    this.outN += i;
    return i;
  }

  /**
   * The input sample output sample `j` plays (see the file header): monotonic in `j`, `j` itself
   * at rate 1 from a reset. Past samples are known back to the 16th-latest splice (NaN before
   * that); future ones (j >= produced) as they will be if no further splice starts, i.e. at rate 1
   * (a cross-fade in progress finishes): what an interrupt that plays a fade-out at rate 1 ends at.
   * -1 for j < 0.
   */
  sourceIndex(j: number): number {
    if (j < 0) return -1;
    const L = this.log;
    for (let k = this.logN - 1; k >= 0 && k > this.logN - 1 - LOG; k--) {
      const e = (k % LOG) * F;
      const t = j - L[e]!;
      if (t < 0) continue;
      const r = L[e + 1]!;
      const h = L[e + 3]!;
      // Before the half-way point the old side dominates; after it the new one, offset by the lag;
      // an expand's new side lags behind what was already heard, hence the maximum.
      return t < h ? Math.max(L[e + 4]!, r + t) : Math.max(L[e + 4]!, r + h - 1, r + L[e + 2]! + t);
    }
    return NaN;
  }

  /** Signed lag of the splice that began at output index o (0: none began there). */
  private lagAt(o: number): number {
    const L = this.log;
    for (let k = this.logN - 1; k > 0 && k > this.logN - 1 - LOG; k--) {
      const e = (k % LOG) * F;
      if (L[e] === o) return L[e + 2]!;
      if (L[e]! < o) break;
    }
    return 0;
  }

  /** Splices at the read index for output index o (s = +1 accelerate, -1 expand), or puts it off. */
  private splice(s: number, o: number): void {
    const r = this.rd;
    if (this.leader) {
      const lag = this.leader.lagAt(o);
      if (lag === 0) {
        this.hold = this.minPeriod;
        return;
      }
      this.begin(o, r, lag);
      return;
    }
    const lo = this.minPeriod;
    const hi = this.maxPeriod;
    const D = this.dec;
    let p = lo;
    let best = -Infinity;
    // Coarse: every D-th lag and product; then every lag within D of the best.
    for (let q = lo; q <= hi; q += D) {
      const c = this.corr(r, r + s * q, D);
      if (c > best) (best = c), (p = q);
    }
    const a = Math.max(lo, p - D + 1);
    const z = Math.min(hi, p + D - 1);
    best = -Infinity;
    for (let q = a; q <= z; q++) {
      const c = this.corr(r, r + s * q, 1);
      if (c > best) (best = c), (p = q);
    }
    // A poor match (a transient, an onset) is put off while the drift is small: a better place
    // usually comes within a few periods; noise never does and is spliced anyway.
    // (corr(r, r) is the window's own norm, so best / it is the normalised correlation.)
    if (best < 0.5 * this.corr(r, r, 1) && Math.abs(this.drift) < this.maxPeriod / 2) {
      this.hold = this.minPeriod;
      return;
    }
    this.begin(o, r, s * p);
  }

  /** Starts a cross-fade of signed lag `lag` at read index r, output index o. */
  private begin(o: number, r: number, lag: number): void {
    const p = Math.abs(lag);
    const front = this.sourceIndex(o - 1);
    this.alt = lag;
    this.left = this.fade = p;
    // Copy at least one period before the next splice: two expands back to back would replay the
    // same period twice over (a buzz), two accelerates would leave a fade without its context.
    this.hold = p;
    this.drift -= this.alt;
    // Fade weights are (k+1)/(p+1): the new side weighs >= 1/2 from k = p >> 1 on.
    this.note(o, r, this.alt, p >> 1, front);
  }

  /** Correlation of the window at ia with the one at ib, normalised by the energy at ib. */
  private corr(ia: number, ib: number, st: number): number {
    const b = this.buf;
    const m = this.mask;
    let xy = 0;
    let yy = 1e-30;
    for (let i = 0; i < this.win; i += st) {
      const y = b[(ib + i) & m]!;
      xy += b[(ia + i) & m]! * y;
      yy += y * y;
    }
    return xy / Math.sqrt(yy);
  }

  /** Logs a splice (or the reset's identity map) for `sourceIndex`, overwriting the oldest. */
  private note(o: number, r: number, lag: number, h: number, front: number): void {
    const e = (this.logN++ % LOG) * F;
    const L = this.log;
    L[e] = o;
    L[e + 1] = r;
    L[e + 2] = lag;
    L[e + 3] = h;
    L[e + 4] = front;
  }
}

/**
 * rate - 1, clamped to the rates the splicer can follow (NaN -> 0): each splice of P is followed
 * by P of copy, so at most 3P in per 2P out (1.5) and at least P in per 2P out (0.5).
 */
function step(rate: number): number {
  return rate >= 0.5 ? (rate <= 1.5 ? rate - 1 : 0.5) : rate < 0.5 ? -0.5 : 0;
}
