/**
 * Double-talk detection for barge-in: is the user talking, or is what the mic hears the echo of
 * the assistant's answer (or nothing)?
 *
 * Works per frame (10 ms by default) on energies. The echo that can reach the mic now was played
 * within the last `echoWindowMs` (device latency + room tail); its residue after the canceller is
 * bounded by a gain times the loudest reference frame of that window. The detector tracks that gain
 * as the upper envelope of what the residue has been on frames it judged echo (a rolling maximum
 * over the last ~2 s of played reference, plus a slower decaying memory), starting from a
 * pessimistic prior (the residue may be as loud as the reference, as before the canceller
 * converges). A second bound is local in time: the canceller's own estimate of this frame's echo
 * (the mic, aligned with the output, minus the output) times the upper envelope of the residue's
 * ratio to it; the user's voice is not in that estimate, so it stands out of the residue even while
 * the canceller still converges. A frame is the user's speech only when the output exceeds the
 * smaller prediction and the noise floor by margins. With nothing played in the window it is a
 * plain energy detector on the cleaned signal with an adaptive noise floor (rolling minimum).
 *
 * {@link BargeInDetector} turns the verdicts into "barge-in now; the speech began at sample X".
 * Both are allocation-free per frame.
 */
import { TalStreamError } from '../errors';

/** A frame's verdict: the user's voice, echo (residue of what was played), or neither. */
export type NearEndVerdict = 'speech' | 'echo' | 'silence';

/** The knobs of barge-in detection; every field optional, defaults below. */
export interface BargeInOptions {
  /** Speech needed, from the first speech frame of a run (short gaps included), before a barge-in, ms. Default 100. */
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

/** Per option: default, smallest and largest value. */
const SPEC: Record<keyof Resolved, [number, number, number]> = {
  minSpeechMs: [100, 0, 5000], maxGapMs: [40, 0, 1000], marginDb: [8, 0, 40],
  snrDb: [9, 0, 40], minLevelDb: [-70, -120, 0], frameMs: [10, 1, 100],
  echoWindowMs: [600, 0, 5000], priorGainDb: [6, -60, 20], rearmMs: [300, 0, 10000],
}; // prettier-ignore

/** Validates barge-in options and fills in the defaults. @throws TalStreamError `bad-argument`. */
export function resolveBargeInOptions(options: BargeInOptions = {}): Readonly<Resolved> {
  const out = {} as Resolved;
  for (const key of Object.keys(SPEC) as (keyof Resolved)[]) {
    const v = options[key];
    const [dflt, lo, hi] = SPEC[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)) {
      throw new TalStreamError('bad-argument', `bargeIn.${key} must be a number in ${lo}..${hi}, got ${String(v)}`);
    }
    out[key] = v ?? dflt;
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
/** Residue over the canceller's echo estimate: largest learned, smallest predicted at onsets. */
const MAX_GAIN = 1e3;
const MIN_LEAK = 0.005;
/** Blocks of the estimate's gain envelope (1 s: it follows a converging canceller). */
const EST_BLOCKS = 4;

/** How far a default `EchoCanceller`'s output lags the mic: its rule (power of two <= 8 ms, >= 16),
 * repeated (a test checks they agree) so the detector does not pull the canceller into a bundle. */
export function cancellerLatency(sampleRate: number): number {
  let b = 16;
  while (b * 2 <= sampleRate * 0.008) b *= 2;
  return b;
}

/** Rolling maximum over blocks (each block's starting at `empty`), with `fade` a decaying memory too. */
class Envelope {
  readonly blk: Float64Array;
  cur = 0;
  long = 0;
  constructor(blocks: number, private readonly empty: number, private readonly fade = false) {
    this.blk = new Float64Array(blocks);
  }
  reset(start = this.empty): void {
    this.blk.fill(start);
    this.cur = this.long = 0;
  }
  /** The envelope: the largest block and memory; Infinity if a past block is still empty (-1). */
  max(): number {
    let m = this.long;
    for (let b = 0; b < this.blk.length; b++) {
      if (this.blk[b]! < 0 && b !== this.cur) return Infinity;
      if (this.blk[b]! > m) m = this.blk[b]!;
    }
    return m;
  }
  learn(v: number): void {
    if (v > this.blk[this.cur]!) this.blk[this.cur] = v;
    if (this.fade && v > this.long) this.long = v;
  }
  tick(decay: number, rotate: boolean): void {
    this.long *= decay;
    if (rotate) this.blk[(this.cur = (this.cur + 1) % this.blk.length)] = this.empty;
  }
}

/**
 * Per-frame near-end speech detector. Feed it the mic, the reference and the canceller's output,
 * either whole frames ({@link NearEndDetector.classify}) or streams of any chunk size
 * ({@link NearEndDetector.process}). The output is taken to lag the mic by `outputLag` samples
 * (default: a default `EchoCanceller`'s latency at this rate), or not at all when it is the mic's
 * own array (no canceller); the mic so delayed minus the output is the canceller's echo estimate.
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
  private readonly estDecay: number;
  private readonly blockFrames: number;
  private readonly refPow: Float64Array;
  private refIdx = 0;
  /** Noise floor: the envelope of 1 / output power (a rolling minimum). */
  private readonly quiet = new Envelope(BLOCKS, 0);
  /** Residue over the loudest reference frame of the window, and over the echo estimate. */
  private readonly gRef = new Envelope(BLOCKS, 0, true);
  private readonly gEst = new Envelope(EST_BLOCKS, -1);
  private prior = 0;
  private est = 0;
  private onset = 0; // frames since the estimate was last inaudible
  private readonly pendRef: Float64Array;
  private readonly pendEst: Float64Array;
  private frame = 0;
  private played = 0;
  private lastSpeech = -1e9;
  /** The last `outputLag` mic samples (the output's alignment). */
  private readonly micLag: Float32Array;
  private lagPos = 0;
  // Streaming sums of the frame being filled: reference, output, echo estimate.
  private sr = 0;
  private se = 0;
  private sy = 0;
  private filled = 0;

  constructor(sampleRate: number, options: BargeInOptions = {}, outputLag = cancellerLatency(sampleRate)) {
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
    // The echo estimate's envelope fades at 120 dB/s (RT60 500 ms): a residue outlasts its echo
    // by no more than the room's tail does.
    this.estDecay = db((-120 * frameMs) / 1000);
    this.blockFrames = Math.max(1, Math.round(BLOCK_MS / frameMs));
    this.refPow = new Float64Array(Math.max(1, Math.ceil(o.echoWindowMs / frameMs)));
    this.pendRef = new Float64Array(Math.max(1, Math.round(LEARN_MS / frameMs)));
    this.pendEst = new Float64Array(this.pendRef.length);
    this.micLag = new Float32Array(Math.max(1, Math.round(outputLag)));
    this.reset();
  }

  /** Forgets the learned floor and echo gains (a new device, a new session). */
  reset(): void {
    this.verdict = 'silence';
    this.refPow.fill(0);
    this.quiet.reset(1 / FLOOR_START);
    this.gRef.reset();
    this.gEst.reset();
    this.pendRef.fill(-1);
    this.pendEst.fill(-1);
    this.micLag.fill(0);
    this.prior = this.prior0;
    this.refIdx = this.est = this.onset = this.frame = this.played = this.lagPos = 0;
    this.sr = this.se = this.sy = this.filled = 0;
    this.lastSpeech = -1e9;
  }

  /**
   * Streams `n` samples of mic, reference and canceller output (the output lagging the other two
   * by the canceller's latency, see the class). Each completed frame's verdict is stored in
   * {@link verdict} and, when given, pushed to `sink`. Returns the number of frames completed.
   */
  process(mic: Float32Array, ref: Float32Array, out: Float32Array, n: number, sink?: VerdictSink): number {
    let frames = 0;
    for (let i = 0; i < n; i++) {
      if (this.feed(mic[i]!, ref[i]!, out[i]!, out === mic)) {
        frames++;
        if (sink) sink.push(this.verdict);
      }
    }
    return frames;
  }

  /** Classifies one whole frame: `frameSize` samples from `offset` (as process() would, on frame bounds). */
  classify(mic: Float32Array, ref: Float32Array, out: Float32Array, offset = 0): NearEndVerdict {
    for (let i = offset; i < offset + this.frameSize; i++) this.feed(mic[i]!, ref[i]!, out[i]!, out === mic);
    return this.verdict;
  }

  /** One sample; true when it completes a frame (decided). */
  private feed(m: number, r: number, e: number, same: boolean): boolean {
    if (!same) {
      const y = this.micLag[this.lagPos]! - e;
      this.micLag[this.lagPos] = m;
      this.lagPos = (this.lagPos + 1) % this.micLag.length;
      this.sy += y * y;
    }
    this.sr += r * r;
    this.se += e * e;
    if (++this.filled < this.frameSize) return false;
    const f = this.frameSize;
    this.decide(this.sr / f, this.se / f, this.sy / f);
    this.sr = this.se = this.sy = this.filled = 0;
    return true;
  }

  /** The decision on one frame's mean squares (reference, output, echo estimate). */
  private decide(pr: number, pe: number, py: number): NearEndVerdict {
    this.refPow[this.refIdx] = pr; // the loudest reference frame that can still be echoing:
    this.refIdx = (this.refIdx + 1) % this.refPow.length;
    let prWin = 0;
    for (let i = 0; i < this.refPow.length; i++) if (this.refPow[i]! > prWin) prWin = this.refPow[i]!;
    // Noise floor: rolling minimum of the output over ~2 s. Digital silence (a muted or starting
    // device, a remote or synthetic track between its sounds) holds it where it was: taken as a
    // level, it would make a device's noise look like speech for 2 s; ignored, it would leave the
    // floor to the sounds themselves (bursts between zeros become the floor; with nothing else for
    // 2 s, an infinite floor: nothing is speech). So do the first frames (the canceller's zeros).
    this.frame++;
    this.quiet.learn(pe > SILENCE && this.frame > 2 ? 1 / pe : this.quiet.max());
    const floor = 1 / this.quiet.max();
    this.quiet.tick(1, this.frame % this.blockFrames === 0);
    const playing = prWin > REF_ACTIVE;
    // The residue predicted two ways, the smaller trusted (each an upper envelope): from the
    // loudest reference frame that can still echo (pessimistic in time: any of the window), and
    // from the canceller's estimate of this frame's echo (once learned, and heard over the noise:
    // the residue follows the echo it is left from, frame by frame; the user's voice is not in it).
    this.est = Math.max(py, this.est * this.estDecay);
    const heard = this.est > floor;
    this.onset = heard ? this.onset + 1 : 0;
    let pred = 0;
    if (playing) {
      pred = Math.max(this.prior, this.gRef.max()) * prWin;
      if (heard) pred = Math.min(pred, this.gEst.max() * this.est);
      // Where an echo resumes after a pause, its residue can exceed what was learned: for the
      // first 2 x LEARN_MS, up to ~-23 dB of the estimate (as the canceller itself assumes).
      if (this.onset <= 2 * this.pendRef.length) pred = Math.max(pred, MIN_LEAK * this.est);
    }
    const loud = pe > this.snr * floor;
    const speech = loud && pe > this.minLevel && pe - floor > this.margin * pred;
    // Learn the residue's gains from frames explained as echo, but only once it is clear they were
    // not part of the user's speech: a frame is committed LEARN_MS later, if no speech frame came
    // within LEARN_MS either side. Learning at once would let the soft onset and tail of the
    // user's own voice (frames just under the threshold) ratchet the threshold up.
    if (speech) this.lastSpeech = this.frame;
    const slot = this.frame % this.pendRef.length;
    if (this.frame - this.lastSpeech > 2 * this.pendRef.length) {
      this.gRef.learn(this.pendRef[slot]!); // -1 (nothing to learn) changes nothing
      this.gEst.learn(this.pendEst[slot]!);
    }
    // What is learned is the residue above the noise's own spread (3 dB over the floor, a minimum),
    // only while the reference is louder than the floor (noise over a near-silent reference would
    // teach a huge "echo gain"), and for the estimate only while it is heard.
    const learn = playing && !speech && prWin > floor;
    const res = Math.max(0, pe - 2 * floor);
    this.pendRef[slot] = learn ? res / prWin : -1;
    this.pendEst[slot] = learn && heard ? Math.min(MAX_GAIN, res / this.est) : -1;
    if (playing) {
      // Time runs only while something plays, so the memory survives the pauses between answers.
      const rotate = ++this.played % this.blockFrames === 0;
      if (this.played > this.refPow.length) this.prior *= this.priorDecay;
      this.gRef.tick(this.longDecay, rotate);
      this.gEst.tick(1, rotate);
    }
    this.verdict = speech ? 'speech' : playing && loud ? 'echo' : 'silence';
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
    this.onsetSample = this.detectSample = this.runStart = -1;
    this.pos = this.runSpeech = this.gap = this.quiet = 0;
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
