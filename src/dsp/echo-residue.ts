/**
 * The echo residue of one band, as the near-end detector models it (see NearEndDetector): a noise
 * floor, and an upper envelope of the residue the echo canceller leaves, predicted from what was
 * played and from the canceller's own echo estimate. Allocation-free per frame.
 */

/** Reference frames quieter than this (-70 dBFS mean square) play nothing that could echo. */
const REF_ACTIVE = 1e-7;
/** Blocks of the rolling extrema, and their length in ms: ~2 s of memory. */
const BLOCKS = 8;
export const BLOCK_MS = 250;
/** Start value of the noise floor (-40 dBFS): it falls to the truth on the first quiet frame. */
const FLOOR_START = 1e-4;
/** Mean square of digital silence (-100 dBFS). */
const SILENCE = 1e-10;
/** Residue over the canceller's echo estimate: largest learned, smallest predicted at onsets. */
const MAX_GAIN = 1e3;
const MIN_LEAK = 0.005;
/** Blocks of the estimate's gain envelope (1 s: it follows a converging canceller). */
const EST_BLOCKS = 4;

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

/** Time constants of a {@link ResidueModel}, derived once from the options and the frame length. */
export interface ModelTiming {
  readonly prior0: number;
  readonly priorDecay: number;
  readonly longDecay: number;
  readonly estDecay: number;
  readonly blockFrames: number;
  readonly windowFrames: number;
  readonly learnFrames: number;
}

/**
 * One band's account of a frame: its noise floor, and the echo residue it predicts from what was
 * played and from the canceller's estimate; it learns the residue's gains from frames that were
 * not speech. The detector keeps two: the whole band and the speech band (see NearEndDetector).
 */
export class ResidueModel {
  /** Noise floor and predicted residue of the last frame (mean squares). */
  floor = 0;
  pred = 0;
  /** Something played within the echo window (as of the last frame). */
  playing = false;

  private readonly refPow: Float64Array;
  private refIdx = 0;
  private prWin = 0;
  /** Noise floor: the envelope of 1 / output power (a rolling minimum). */
  private readonly quiet = new Envelope(BLOCKS, 0);
  /** Residue over the loudest reference frame of the window, and over the echo estimate. */
  private readonly gRef = new Envelope(BLOCKS, 0, true);
  private readonly gEst = new Envelope(EST_BLOCKS, -1);
  private prior = 0;
  private est = 0;
  private heard = false;
  private onset = 0; // frames since the estimate was last inaudible
  private readonly pendRef: Float64Array;
  private readonly pendEst: Float64Array;
  private played = 0;

  constructor(private readonly t: ModelTiming) {
    this.refPow = new Float64Array(t.windowFrames);
    this.pendRef = new Float64Array(t.learnFrames);
    this.pendEst = new Float64Array(t.learnFrames);
  }

  reset(): void {
    this.refPow.fill(0);
    this.quiet.reset(1 / FLOOR_START);
    this.gRef.reset();
    this.gEst.reset();
    this.pendRef.fill(-1);
    this.pendEst.fill(-1);
    this.prior = this.t.prior0;
    this.refIdx = this.prWin = this.est = this.onset = this.played = 0;
    this.floor = this.pred = 0;
    this.heard = this.playing = false;
  }

  /**
   * Floor and prediction for a frame's mean squares (reference, output, echo estimate); `frame`
   * counts from 1; `afterSpeech`: speech was heard within the last 2 x LEARN_MS.
   */
  observe(pr: number, pe: number, py: number, frame: number, afterSpeech: boolean): void {
    this.refPow[this.refIdx] = pr; // the loudest reference frame that can still be echoing:
    this.refIdx = (this.refIdx + 1) % this.refPow.length;
    let prWin = 0;
    for (let i = 0; i < this.refPow.length; i++) if (this.refPow[i]! > prWin) prWin = this.refPow[i]!;
    this.prWin = prWin;
    // Noise floor: rolling minimum of the output over ~2 s. Digital silence (a muted or starting
    // device, a remote or synthetic track between its sounds) holds it where it was: taken as a
    // level, it would make a device's noise look like speech for 2 s; ignored, it would leave the
    // floor to the sounds themselves (bursts between zeros become the floor; with nothing else for
    // 2 s, an infinite floor: nothing is speech). So do the first frames (the canceller's zeros).
    this.quiet.learn(pe > SILENCE && frame > 2 ? 1 / pe : this.quiet.max());
    const floor = (this.floor = 1 / this.quiet.max());
    this.quiet.tick(1, frame % this.t.blockFrames === 0);
    this.playing = prWin > REF_ACTIVE;
    // The residue predicted two ways, the smaller trusted (each an upper envelope): from the
    // loudest reference frame that can still echo (pessimistic in time: any of the window), and
    // from the canceller's estimate of this frame's echo (once learned, and heard over the noise:
    // the residue follows the echo it is left from, frame by frame; the user's voice is not in it).
    this.est = Math.max(py, this.est * this.t.estDecay);
    this.heard = this.est > floor;
    this.onset = this.heard ? this.onset + 1 : 0;
    let pred = 0;
    if (this.playing) {
      pred = Math.max(this.prior, this.gRef.max()) * prWin;
      if (this.heard) pred = Math.min(pred, this.gEst.max() * this.est);
      // Where an echo resumes after a pause, its residue can exceed what was learned: for the
      // first 2 x LEARN_MS, up to ~-23 dB of the estimate (as the canceller itself assumes). So
      // can it after double talk (the filter was disturbed by the user's voice), while learning
      // is still held back.
      if (this.onset <= 2 * this.pendRef.length || afterSpeech) pred = Math.max(pred, MIN_LEAK * this.est);
    }
    this.pred = pred;
  }

  /** Whether the frame's output `pe` stands `margin` over the predicted residue (floor removed). */
  overResidue(pe: number, margin: number): boolean {
    return pe - this.floor > margin * this.pred;
  }

  /**
   * Learns from the frame observed last, given the verdict. A frame's residue is committed
   * LEARN_MS later, and only if no speech frame came within LEARN_MS either side (`quietAround`):
   * learning at once would let the soft onset and tail of the user's own voice (frames just
   * under the threshold) ratchet the threshold up.
   */
  learn(pe: number, speech: boolean, quietAround: boolean, frame: number): void {
    const slot = frame % this.pendRef.length;
    if (quietAround) {
      this.gRef.learn(this.pendRef[slot]!); // -1 (nothing to learn) changes nothing
      this.gEst.learn(this.pendEst[slot]!);
    }
    // What is learned is the residue above the noise's own spread (3 dB over the floor, a minimum),
    // only while the reference is louder than the floor (noise over a near-silent reference would
    // teach a huge "echo gain"), and for the estimate only while it is heard.
    const learn = this.playing && !speech && this.prWin > this.floor;
    const res = Math.max(0, pe - 2 * this.floor);
    this.pendRef[slot] = learn ? res / this.prWin : -1;
    this.pendEst[slot] = learn && this.heard ? Math.min(MAX_GAIN, res / this.est) : -1;
    if (this.playing) {
      // Time runs only while something plays, so the memory survives the pauses between answers.
      const rotate = ++this.played % this.t.blockFrames === 0;
      if (this.played > this.refPow.length) this.prior *= this.t.priorDecay;
      this.gRef.tick(this.t.longDecay, rotate);
      this.gEst.tick(1, rotate);
    }
  }
}
