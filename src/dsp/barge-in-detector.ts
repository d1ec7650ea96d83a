// The barge-in rule on a stream of per-frame verdicts (of the NearEndDetector, or any classifier).
// Apart from the detector: it runs on the main thread (the conversation's turn rules), the detector
// in the capture worklet.
import { checkRate, resolveBargeInOptions, type BargeInOptions, type NearEndVerdict, type VerdictSink } from './near-end-detector';

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
