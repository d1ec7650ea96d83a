/**
 * Double-talk detection for barge-in: is the user talking, or is what the mic hears the echo of
 * the assistant's answer (or nothing)?
 *
 * Works per frame (10 ms by default) on energies only, so it does not matter that the canceller's
 * output lags the mic by a block. The echo that can reach the mic now was played within the last
 * `echoWindowMs` (device latency + room tail); its residue after the canceller is bounded by a gain
 * times the loudest reference frame of that window. The detector tracks that gain as the upper
 * envelope of what the residue has been on frames it judged echo (a rolling maximum over the last
 * ~2 s of played reference, plus a slower decaying memory), starts from a pessimistic prior (the
 * residue may be as loud as the reference itself, as it is before the canceller converges), and
 * calls a frame the user's speech only when the output exceeds both that prediction and the noise
 * floor by a margin. With nothing played in the window it is a plain energy detector on the
 * cleaned signal with an adaptive noise floor (rolling minimum).
 *
 * {@link BargeInDetector} turns the verdicts into "barge-in now; the speech began at sample X".
 * Both are allocation-free per frame.
 */
import { TalStreamError } from '../errors';

/** A frame's verdict: the user's voice, echo (residue of what was played), or neither. */
export type NearEndVerdict = 'speech' | 'echo' | 'silence';

/** The knobs of barge-in detection; every field optional, defaults below. */
export interface BargeInOptions {
  /** Speech needed, from the first speech frame of a run (short gaps included), before a barge-in, ms. Default 120. */
  minSpeechMs?: number;
  /** Longest run of non-speech frames tolerated inside one speech run, ms. Default 40. */
  maxGapMs?: number;
  /** How far the output must exceed the predicted echo residue to be the user's voice, dB. Default 8. */
  marginDb?: number;
  /** How far the output must exceed the noise floor to be the user's voice, dB. Default 9. */
  snrDb?: number;
  /** Frames quieter than this are never speech, dBFS. Default -70. */
  minLevelDb?: number;
  /** Frame length of the verdicts, ms. Default 10. */
  frameMs?: number;
  /** How long played audio can keep echoing (device latency + room tail), ms. Default 600. */
  echoWindowMs?: number;
  /**
   * Residue gain assumed before any has been measured, dB relative to the loudest reference frame
   * of the window: the echo path's largest plausible gain (an uncancelled echo at 0 dB, its early
   * reflections adding in phase, measures up to ~+3 dB on a frame). It holds for `echoWindowMs` of
   * played audio (the first echo cannot arrive sooner), then fades at 10 dB/s. Default 6.
   */
  priorGainDb?: number;
  /** Non-speech needed after a barge-in before another can fire, ms. Default 300. */
  rearmMs?: number;
}

/** Receives one verdict per frame, e.g. a {@link BargeInDetector}. */
export interface VerdictSink {
  push(verdict: NearEndVerdict): unknown;
}

type Resolved = Required<BargeInOptions>;

const DEFAULTS: Resolved = {
  minSpeechMs: 120,
  maxGapMs: 40,
  marginDb: 8,
  snrDb: 9,
  minLevelDb: -70,
  frameMs: 10,
  echoWindowMs: 600,
  priorGainDb: 6,
  rearmMs: 300,
};

/** Validates barge-in options and fills in the defaults. @throws TalStreamError `bad-argument`. */
export function resolveBargeInOptions(options: BargeInOptions = {}): Readonly<Resolved> {
  const out = { ...DEFAULTS };
  const ranges: Record<keyof Resolved, [number, number]> = {
    minSpeechMs: [0, 5000],
    maxGapMs: [0, 1000],
    marginDb: [0, 40],
    snrDb: [0, 40],
    minLevelDb: [-120, 0],
    frameMs: [1, 100],
    echoWindowMs: [0, 5000],
    priorGainDb: [-60, 20],
    rearmMs: [0, 10000],
  };
  for (const key of Object.keys(ranges) as (keyof Resolved)[]) {
    const v = options[key];
    if (v === undefined) continue;
    const [lo, hi] = ranges[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw new TalStreamError('bad-argument', `bargeIn.${key} must be a number in ${lo}..${hi}, got ${String(v)}`);
    }
    out[key] = v;
  }
  return Object.freeze(out);
}

function checkRate(sampleRate: number): void {
  if (typeof sampleRate !== 'number' || !Number.isFinite(sampleRate) || sampleRate < 1000 || sampleRate > 192000) {
    throw new TalStreamError('bad-argument', `sampleRate must be 1000..192000 Hz, got ${String(sampleRate)}`);
  }
}

const db = (x: number): number => Math.pow(10, x / 10);
/** Reference frames quieter than this (-70 dBFS mean square) play nothing that could echo. */
const REF_ACTIVE = 1e-7;
/** Blocks of the rolling extrema, and their length in ms: ~2 s of memory. */
const BLOCKS = 8;
const BLOCK_MS = 250;
/** Start value of the noise floor (-40 dBFS): it falls to the truth on the first quiet frame. */
const FLOOR_START = 1e-4;
/** Mean square of digital silence (-100 dBFS). */
const SILENCE = 1e-10;
/** Delay before a frame's residue is learned, ms (see decide()). */
const LEARN_MS = 200;

/**
 * Per-frame near-end speech detector. Feed it the mic, the reference and the canceller's output,
 * either whole frames ({@link NearEndDetector.classify}) or streams of any chunk size
 * ({@link NearEndDetector.process}).
 */
export class NearEndDetector {
  /** Samples per frame. */
  readonly frameSize: number;
  /** Verdict of the last completed frame. */
  verdict: NearEndVerdict = 'silence';

  private readonly margin: number;
  private readonly snr: number;
  private readonly minLevel: number;
  private readonly prior0: number;
  private readonly priorDecay: number;
  private readonly longDecay: number;
  private readonly blockFrames: number;
  private readonly refPow: Float64Array;
  private refIdx = 0;
  private readonly floorBlk = new Float64Array(BLOCKS);
  private floorCount = 0;
  private floorCur = 0;
  private readonly resBlk = new Float64Array(BLOCKS);
  private resCount = 0;
  private resCur = 0;
  private prior = 0;
  private gLong = 0;
  private readonly pending: Float64Array;
  private frame = 0;
  private played = 0;
  private lastSpeech = -1e9;
  // Streaming sums of the frame being filled.
  private sm = 0;
  private sr = 0;
  private se = 0;
  private filled = 0;

  constructor(sampleRate: number, options: BargeInOptions = {}) {
    checkRate(sampleRate);
    const o = resolveBargeInOptions(options);
    this.frameSize = Math.max(1, Math.round((o.frameMs * sampleRate) / 1000));
    const frameMs = (this.frameSize * 1000) / sampleRate;
    this.margin = db(o.marginDb);
    this.snr = db(o.snrDb);
    this.minLevel = db(o.minLevelDb);
    this.prior0 = db(o.priorGainDb);
    // The prior fades at 10 dB per second of played audio, after a hold: by then the rolling
    // maximum holds what the residue really is (frames judged echo under the prior fed it).
    this.priorDecay = db((-10 * frameMs) / 1000);
    // The long memory fades at 6 dB per second of played audio.
    this.longDecay = db((-6 * frameMs) / 1000);
    this.blockFrames = Math.max(1, Math.round(BLOCK_MS / frameMs));
    this.refPow = new Float64Array(Math.max(1, Math.ceil(o.echoWindowMs / frameMs)));
    this.pending = new Float64Array(Math.max(1, Math.round(LEARN_MS / frameMs)));
    this.reset();
  }

  /** Forgets the learned floor and echo gains (a new device, a new session). */
  reset(): void {
    this.verdict = 'silence';
    this.refPow.fill(0);
    this.refIdx = 0;
    this.floorBlk.fill(FLOOR_START);
    this.floorCount = 0;
    this.floorCur = 0;
    this.resBlk.fill(0);
    this.resCount = 0;
    this.resCur = 0;
    this.prior = this.prior0;
    this.gLong = 0;
    this.pending.fill(-1);
    this.frame = 0;
    this.played = 0;
    this.lastSpeech = -1e9;
    this.sm = 0;
    this.sr = 0;
    this.se = 0;
    this.filled = 0;
  }

  /**
   * Streams `n` samples of mic, reference and canceller output (the output may lag the other two
   * by the canceller's latency). Each completed frame's verdict is stored in {@link verdict} and,
   * when given, pushed to `sink`. Returns the number of frames completed.
   */
  process(mic: Float32Array, ref: Float32Array, out: Float32Array, n: number, sink?: VerdictSink): number {
    let frames = 0;
    for (let i = 0; i < n; i++) {
      const m = mic[i]!;
      const r = ref[i]!;
      const e = out[i]!;
      this.sm += m * m;
      this.sr += r * r;
      this.se += e * e;
      if (++this.filled === this.frameSize) {
        const f = this.frameSize;
        this.decide(this.sm / f, this.sr / f, this.se / f);
        this.sm = this.sr = this.se = 0;
        this.filled = 0;
        frames++;
        if (sink) sink.push(this.verdict);
      }
    }
    return frames;
  }

  /** Classifies one whole frame: `frameSize` samples from `offset` of each array. */
  classify(mic: Float32Array, ref: Float32Array, out: Float32Array, offset = 0): NearEndVerdict {
    let sm = 0;
    let sr = 0;
    let se = 0;
    for (let i = offset; i < offset + this.frameSize; i++) {
      sm += mic[i]! * mic[i]!;
      sr += ref[i]! * ref[i]!;
      se += out[i]! * out[i]!;
    }
    const f = this.frameSize;
    return this.decide(sm / f, sr / f, se / f);
  }

  /** The decision on one frame's mean squares (mic, reference, output). */
  private decide(pm: number, pr: number, pe: number): NearEndVerdict {
    void pm; // the mic's own power says nothing the output does not, once the echo is predicted
    // Loudest reference frame that can still be echoing.
    this.refPow[this.refIdx] = pr;
    this.refIdx = (this.refIdx + 1) % this.refPow.length;
    let prWin = 0;
    for (let i = 0; i < this.refPow.length; i++) if (this.refPow[i]! > prWin) prWin = this.refPow[i]!;
    // Noise floor: rolling minimum of the output over ~2 s.
    // Digital silence (a muted or starting device) and the first frames (the canceller's output
    // starts with one block of zeros) say nothing about the room's noise: a floor taken from them
    // would make the noise itself look like speech for the next 2 s.
    if (pe > SILENCE && this.frame >= 2 && pe < this.floorBlk[this.floorCur]!) this.floorBlk[this.floorCur] = pe;
    let floor = Infinity;
    for (let b = 0; b < BLOCKS; b++) if (this.floorBlk[b]! < floor) floor = this.floorBlk[b]!;
    if (++this.floorCount === this.blockFrames) {
      this.floorCount = 0;
      this.floorCur = (this.floorCur + 1) % BLOCKS;
      this.floorBlk[this.floorCur] = Infinity;
    }
    const excess = Math.max(0, pe - floor);
    const playing = prWin > REF_ACTIVE;
    let gain = 0;
    if (playing) {
      let rmax = 0;
      for (let b = 0; b < BLOCKS; b++) if (this.resBlk[b]! > rmax) rmax = this.resBlk[b]!;
      gain = Math.max(this.prior, rmax, this.gLong);
    }
    const speech = pe > this.snr * floor && pe > this.minLevel && excess > this.margin * gain * prWin;
    // Learn the residue's gain from frames explained as echo, but only once it is clear they were
    // not part of the user's speech: a frame is committed LEARN_FRAMES later, if no speech frame
    // came within LEARN_FRAMES either side. Learning at once would let the soft onset and tail of
    // the user's own voice (frames just under the threshold) ratchet the threshold up.
    this.frame++;
    if (speech) this.lastSpeech = this.frame;
    const slot = this.frame % this.pending.length;
    const old = this.pending[slot]!;
    // What is learned is the residue above the noise's own frame-to-frame spread (3 dB over the
    // floor, the floor being a minimum), and only while the reference is louder than that floor:
    // otherwise noise divided by a near-silent reference would teach a huge "echo gain".
    this.pending[slot] = playing && !speech && prWin > floor ? Math.max(0, pe - 2 * floor) / prWin : -1;
    if (old >= 0 && this.frame - this.lastSpeech > 2 * this.pending.length) {
      if (old > this.resBlk[this.resCur]!) this.resBlk[this.resCur] = old;
      if (old > this.gLong) this.gLong = old;
    }
    if (playing) {
      // Time runs only while something plays, so the memory survives the pauses between answers.
      if (++this.played > this.refPow.length) this.prior *= this.priorDecay;
      this.gLong *= this.longDecay;
      if (++this.resCount === this.blockFrames) {
        this.resCount = 0;
        this.resCur = (this.resCur + 1) % BLOCKS;
        this.resBlk[this.resCur] = 0;
      }
    }
    this.verdict = speech ? 'speech' : playing && pe > this.snr * floor ? 'echo' : 'silence';
    return this.verdict;
  }
}

/**
 * The barge-in rule: a run of speech frames (gaps up to `maxGapMs` bridged, at least half of it
 * speech) lasting `minSpeechMs` is the user talking. {@link BargeInDetector.push} returns true on
 * the frame that confirms it; {@link onsetSample} is where the run began (in samples of the
 * verdicts' stream, counted from construction or `reset`), earlier than {@link detectSample}.
 * After a barge-in, `rearmMs` without speech must pass before the next one.
 */
export class BargeInDetector implements VerdictSink {
  /** Samples per verdict frame. */
  readonly frameSize: number;
  /** True from a barge-in until re-armed. */
  fired = false;
  /** First sample of the speech run of the last barge-in; -1 before any. */
  onsetSample = -1;
  /** Sample just after the frame that confirmed the last barge-in; -1 before any. */
  detectSample = -1;

  private readonly minSpeech: number;
  private readonly maxGap: number;
  private readonly rearm: number;
  private pos = 0;
  private runStart = -1;
  private runSpeech = 0;
  private gap = 0;
  private quiet = 0;

  constructor(sampleRate: number, options: BargeInOptions = {}) {
    checkRate(sampleRate);
    const o = resolveBargeInOptions(options);
    this.frameSize = Math.max(1, Math.round((o.frameMs * sampleRate) / 1000));
    const frames = (ms: number): number => Math.round((ms * sampleRate) / 1000 / this.frameSize);
    this.minSpeech = Math.max(1, frames(o.minSpeechMs));
    this.maxGap = frames(o.maxGapMs);
    this.rearm = frames(o.rearmMs);
  }

  /** Back to the start: no run, armed, sample count 0. */
  reset(): void {
    this.fired = false;
    this.onsetSample = -1;
    this.detectSample = -1;
    this.pos = 0;
    this.runStart = -1;
    this.runSpeech = 0;
    this.gap = 0;
    this.quiet = 0;
  }

  /** One frame's verdict; true when this frame confirms a barge-in. */
  push(verdict: NearEndVerdict): boolean {
    const start = this.pos;
    this.pos += this.frameSize;
    if (verdict !== 'speech') {
      if (this.runStart >= 0 && ++this.gap > this.maxGap) this.runStart = -1;
      if (this.fired && ++this.quiet >= this.rearm) this.fired = false;
      return false;
    }
    this.quiet = 0;
    if (this.runStart < 0) {
      this.runStart = start;
      this.runSpeech = 0;
    }
    this.gap = 0;
    this.runSpeech++;
    const runFrames = (this.pos - this.runStart) / this.frameSize;
    if (!this.fired && runFrames >= this.minSpeech && 2 * this.runSpeech >= runFrames) {
      this.fired = true;
      this.onsetSample = this.runStart;
      this.detectSample = this.pos;
      return true;
    }
    return false;
  }
}
