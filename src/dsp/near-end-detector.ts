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
 * smaller prediction and the noise floor by margins, both in the speech band and in the whole band
 * (see NearEndDetector). With nothing played in the window it is a plain energy detector on the
 * cleaned signal's speech band with an adaptive noise floor (rolling minimum).
 *
 * BargeInDetector (barge-in-detector.ts) turns the verdicts into "barge-in now; the speech began at
 * sample X". Both are allocation-free per frame.
 */
import { TalStreamError } from '../errors';
import { BLOCK_MS, ResidueModel, type ModelTiming } from './echo-residue';
import { SpeechBand } from './speech-band';

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
  /** How far the output must exceed the noise floor to be the user's voice, in the speech band (100-2000 Hz), dB. Default 9. */
  snrDb?: number;
  /** Frames whose speech band (100-2000 Hz) is quieter than this are never speech, dBFS. Default -70. */
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

/** @throws TalStreamError `bad-argument` unless 1000..192000 Hz. */
export function checkRate(sampleRate: number): void {
  if (typeof sampleRate !== 'number' || !Number.isFinite(sampleRate) || sampleRate < 1000 || sampleRate > 192000) {
    throw new TalStreamError('bad-argument', `sampleRate must be 1000..192000 Hz, got ${String(sampleRate)}`);
  }
}

const db = (x: number): number => Math.pow(10, x / 10);
/** Delay before a frame's residue is learned, ms (see ResidueModel.learn). */
const LEARN_MS = 200;

/** How far a default `EchoCanceller`'s output lags the mic: its rule (power of two <= 8 ms, >= 16),
 * repeated (a test checks they agree) so the detector does not pull the canceller into a bundle. */
export function cancellerLatency(sampleRate: number): number {
  let b = 16;
  while (b * 2 <= sampleRate * 0.008) b *= 2;
  return b;
}

/**
 * Per-frame near-end speech detector. Feed it the mic, the reference and the canceller's output,
 * either whole frames ({@link NearEndDetector.classify}) or streams of any chunk size
 * ({@link NearEndDetector.process}). The output is taken to lag the mic by `outputLag` samples
 * (default: a default `EchoCanceller`'s latency at this rate), or not at all when it is the mic's
 * own array (no canceller); the mic so delayed minus the output is the canceller's echo estimate.
 *
 * It decides in two bands at once. In the speech band (100-2000 Hz) a voice has most of its power
 * and a mic's flat noise a fraction of it (a quarter at 16 kHz, a twelfth at 48 kHz), so a quiet
 * user stands `snrDb` over the noise there long before they do over the whole band (at -30 dB echo,
 * a user 6 dB under it speaks ~4 dB over the mic's noise: missed on the whole band). The speech
 * band's residue model alone lets the canceller's low-frequency residue through after double talk;
 * so a frame is speech only when it also stands `marginDb` over the whole band's predicted residue.
 */
export class NearEndDetector {
  /** Samples per frame. */
  readonly frameSize: number;
  /** Verdict of the last completed frame. */
  verdict: NearEndVerdict = 'silence';

  private readonly margin: number;
  private readonly snr: number;
  private readonly minLevel: number;
  private readonly wide: ResidueModel;
  private readonly band: ResidueModel;
  private readonly micBand: SpeechBand;
  private readonly refBand: SpeechBand;
  private readonly outBand: SpeechBand;
  private readonly learnFrames: number;
  private frame = 0;
  private lastSpeech = -1e9;
  /** The last `outputLag` mic samples (the output's alignment), whole band and speech band. */
  private readonly micLag: Float32Array;
  private readonly micLagBand: Float32Array;
  private lagPos = 0;
  // Streaming sums of the frame being filled: reference, output, echo estimate; whole band, then speech band.
  private sr = 0;
  private se = 0;
  private sy = 0;
  private srb = 0;
  private seb = 0;
  private syb = 0;
  private filled = 0;

  constructor(sampleRate: number, options: BargeInOptions = {}, outputLag?: number) {
    // Checked before the default lag is worked out: cancellerLatency(Infinity) would never return.
    checkRate(sampleRate);
    outputLag ??= cancellerLatency(sampleRate);
    const o = resolveBargeInOptions(options);
    this.frameSize = Math.max(1, Math.round((o.frameMs * sampleRate) / 1000));
    const frameMs = (this.frameSize * 1000) / sampleRate;
    this.margin = db(o.marginDb);
    this.snr = db(o.snrDb);
    this.minLevel = db(o.minLevelDb);
    this.learnFrames = Math.max(1, Math.round(LEARN_MS / frameMs));
    const timing: ModelTiming = {
      prior0: db(o.priorGainDb),
      // The prior fades at 10 dB per second of played audio, after a hold: by then the rolling
      // maximum holds what the residue really is (frames judged echo under the prior fed it).
      priorDecay: db((-10 * frameMs) / 1000),
      // The long memory fades at 6 dB per second of played audio.
      longDecay: db((-6 * frameMs) / 1000),
      // The echo estimate's envelope fades at 120 dB/s (RT60 500 ms): a residue outlasts its echo
      // by no more than the room's tail does.
      estDecay: db((-120 * frameMs) / 1000),
      blockFrames: Math.max(1, Math.round(BLOCK_MS / frameMs)),
      windowFrames: Math.max(1, Math.ceil(o.echoWindowMs / frameMs)),
      learnFrames: this.learnFrames,
    };
    this.wide = new ResidueModel(timing);
    this.band = new ResidueModel(timing);
    this.micBand = new SpeechBand(sampleRate);
    this.refBand = new SpeechBand(sampleRate);
    this.outBand = new SpeechBand(sampleRate);
    this.micLag = new Float32Array(Math.max(1, Math.round(outputLag)));
    this.micLagBand = new Float32Array(this.micLag.length);
    this.reset();
  }

  /** Forgets the learned floor and echo gains (a new device, a new session). */
  reset(): void {
    this.verdict = 'silence';
    this.wide.reset();
    this.band.reset();
    this.micBand.reset();
    this.refBand.reset();
    this.outBand.reset();
    this.micLag.fill(0);
    this.micLagBand.fill(0);
    this.frame = this.lagPos = 0;
    this.sr = this.se = this.sy = this.srb = this.seb = this.syb = this.filled = 0;
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
    const rb = this.refBand.step(r);
    const mb = this.micBand.step(m);
    // The mic as output (no canceller): its band is the mic's.
    const eb = same ? mb : this.outBand.step(e);
    if (!same) {
      const y = this.micLag[this.lagPos]! - e;
      const yb = this.micLagBand[this.lagPos]! - eb;
      this.micLag[this.lagPos] = m;
      this.micLagBand[this.lagPos] = mb;
      this.lagPos = (this.lagPos + 1) % this.micLag.length;
      this.sy += y * y;
      this.syb += yb * yb;
    }
    this.sr += r * r;
    this.se += e * e;
    this.srb += rb * rb;
    this.seb += eb * eb;
    if (++this.filled < this.frameSize) return false;
    const f = this.frameSize;
    this.decide(this.sr / f, this.se / f, this.sy / f, this.srb / f, this.seb / f, this.syb / f);
    this.sr = this.se = this.sy = this.srb = this.seb = this.syb = this.filled = 0;
    return true;
  }

  /** The decision on one frame's mean squares (reference, output, echo estimate), whole band then speech band. */
  private decide(pr: number, pe: number, py: number, prb: number, peb: number, pyb: number): NearEndVerdict {
    this.frame++;
    const afterSpeech = this.frame - this.lastSpeech <= 2 * this.learnFrames;
    this.wide.observe(pr, pe, py, this.frame, afterSpeech);
    this.band.observe(prb, peb, pyb, this.frame, afterSpeech);
    const loud = peb > this.snr * this.band.floor;
    const speech =
      loud && peb > this.minLevel && this.band.overResidue(peb, this.margin) && this.wide.overResidue(pe, this.margin) && pe > this.wide.floor;
    if (speech) this.lastSpeech = this.frame;
    const quietAround = this.frame - this.lastSpeech > 2 * this.learnFrames;
    this.wide.learn(pe, speech, quietAround, this.frame);
    this.band.learn(peb, speech, quietAround, this.frame);
    this.verdict = speech ? 'speech' : this.wide.playing && loud ? 'echo' : 'silence';
    return this.verdict;
  }
}
