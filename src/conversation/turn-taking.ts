/**
 * Turn-taking on the capture's clock: per-chunk speech verdicts (from the capture worklet's
 * echo-aware detector, or a plugged classifier) become confirmed speech with its onset, and
 * silence after a turn becomes its end; both feed the {@link TurnMachine}. Pure: time is counted
 * in samples of the capture, so a test or the benchmark drives it with arrays of verdicts.
 */
import { BargeInDetector } from '../dsp/barge-in-detector';
import type { BargeInOptions } from '../dsp/near-end-detector';
import type { TurnMachine, TurnMachineOptions, TurnStep } from './turn-machine';

/** A chunk's verdict: the user's voice, echo of the answer (or its residue), or neither. */
export type SpeechVerdict = 'speech' | 'echo' | 'silence';

/** Timing of turn-taking, in ms of audio. */
export interface TurnTakingOptions extends TurnMachineOptions {
  /** Rate of the capture (the chunks' samples), Hz. */
  sampleRate: number;
  /** Length of every chunk, ms: the verdicts' frame. */
  frameMs: number;
  /** Speech that must run unbroken to start a turn while listening. */
  minSpeechMs: number;
  /**
   * The rule that confirms speech while an answer is awaited or plays (a barge-in): speech over
   * `minSpeechMs`, gaps up to `maxGapMs` allowed (the rest of the options are the detector's).
   */
  bargeInRule: Pick<BargeInOptions, 'minSpeechMs' | 'maxGapMs'>;
  /** Silence after the user's speech that ends the turn. */
  hangoverMs: number;
}

/**
 * Loaded with the hands-free module when a conversation starts (see worklets/echo-plugin.ts), so
 * the script tag does not carry it: the {@link TurnMachine} it drives is the conversation's, made
 * at once (its state is the conversation's from the start).
 */
export class TurnTaking {
  readonly machine: TurnMachine;
  private readonly rate: number;
  /** Confirms the start of a turn (speech unbroken for minSpeechMs). */
  private readonly turnRule: BargeInDetector;
  /** Confirms a barge-in (the same rule the barge-in benchmark measures). */
  private readonly bargeInRule: BargeInDetector;
  private readonly hangover: number;
  /** Samples of capture seen so far. */
  private pos = 0;
  private silence = 0;

  constructor(options: TurnTakingOptions, machine: TurnMachine) {
    this.machine = machine;
    this.rate = options.sampleRate;
    const frameMs = options.frameMs;
    // rearmMs 0: after firing, a rule is ready again at the first frame that is not speech.
    this.turnRule = new BargeInDetector(options.sampleRate, { frameMs, minSpeechMs: options.minSpeechMs, maxGapMs: 0, rearmMs: 0 });
    this.bargeInRule = new BargeInDetector(options.sampleRate, { ...options.bargeInRule, frameMs, rearmMs: 0 });
    this.hangover = Math.round((options.hangoverMs * options.sampleRate) / 1000);
  }

  /** Capture time now, ms. */
  get nowMs(): number {
    return (this.pos / this.rate) * 1000;
  }

  /** Capture time of a sample position, ms. */
  msAt(samples: number): number {
    return (samples / this.rate) * 1000;
  }

  /**
   * Feeds the verdict of the next chunk of `n` samples (every chunk but a last partial one is one
   * frame of `frameMs`); returns the transitions it caused (often none).
   */
  chunk(n: number, verdict: SpeechVerdict): TurnStep[] {
    this.pos += n;
    const steps: TurnStep[] = [];
    const rule = this.machine.listeningFor;
    // Both rules see every chunk, so either is in step whichever the state asks for next.
    const turn = this.turnRule.push(verdict);
    const barge = this.bargeInRule.push(verdict);
    const fired = rule === 'turn' ? turn && this.turnRule : rule === 'barge-in' ? barge && this.bargeInRule : null;
    if (fired) steps.push(this.machine.feed({ type: 'speech', onsetMs: this.msAt(fired.onsetSample), atMs: this.nowMs }));
    if (verdict === 'speech') this.silence = 0;
    else {
      this.silence += n;
      if (this.machine.state === 'user-speaking' && this.silence >= this.hangover) steps.push(this.machine.feed({ type: 'turn-end', atMs: this.nowMs }));
    }
    // Only the changes: speech and turn-end act only where they change the state.
    return steps.filter((s) => s.state !== s.previous);
  }

  /**
   * Feeds an event from elsewhere (the answer's start and end, an outside end of turn, pause,
   * resume, stop), stamped with the capture time now.
   */
  event(type: 'audio-start' | 'reply-end' | 'turn-end' | 'pause' | 'resume' | 'stop'): TurnStep {
    // (No hangover to restart after a turn ended from outside: the next turn starts with speech,
    // which restarts it.)
    return this.machine.feed({ type, atMs: this.nowMs });
  }
}
