/**
 * End of turn: an energy voice-activity detector and the gate that turns its per-chunk decisions
 * into "start sending" (with pre-roll, so the first syllable is not cut) and "stop the take"
 * (after a hangover of silence). Pure logic: no Web Audio, no timers; time is counted in samples.
 */
import { TalStreamError } from '../errors';

/** A per-chunk decision: `true` or 'speech' for voice. */
export type VadDecision = 'speech' | 'silence' | boolean;

/**
 * Classifies one chunk (a frame of `frameMs` at the take's rate). Plug any detector here, e.g. a
 * WebRTC VAD or a Silero model run on the chunk.
 */
export type VadClassifier = (chunk: Float32Array, sampleRate: number) => VadDecision;

/**
 * An outside source of "the user stopped talking", such as @ricky0123/vad-web's `onSpeechEnd`.
 * The take subscribes when it starts and stops itself when `callback` fires. Returns an
 * unsubscribe function (optional).
 */
export interface EndOfTurnSource {
  onSpeechEnd(callback: () => void): (() => void) | void;
}

/** Options of the voice gate (and of `vad` on a take). */
export interface VadOptions {
  /** Energy detector threshold: a chunk whose RMS is above this many dBFS is speech. Default -45. */
  thresholdDb?: number;
  /** Consecutive speech needed to count as the start of speech, ms. Default 60. */
  minSpeechMs?: number;
  /** Silence after speech that ends the turn, ms. Default 800. */
  hangoverMs?: number;
  /** Audio sent from before the detected start of speech, ms. Default 300. */
  preRollMs?: number;
  /**
   * When true (default), audio before speech (less the pre-roll) is not sent; when false, every
   * chunk is sent and the detector only decides when to stop.
   */
  waitForSpeech?: boolean;
  /** Stop the take when no speech has started after this long, ms. 0 (default) waits forever. */
  noSpeechTimeoutMs?: number;
  /** Replaces the energy detector. */
  classify?: VadClassifier;
}

/** The energy detector: RMS of the chunk above `thresholdDb` dBFS. */
export function energyClassifier(thresholdDb = -45): VadClassifier {
  const threshold = Math.pow(10, thresholdDb / 20);
  const t2 = threshold * threshold;
  return (chunk) => {
    if (chunk.length === 0) return 'silence';
    let sum = 0;
    for (let i = 0; i < chunk.length; i++) sum += chunk[i]! * chunk[i]!;
    return sum / chunk.length > t2 ? 'speech' : 'silence';
  };
}

/** What {@link VoiceGate.push} decided for one chunk. */
export interface GateStep {
  /** Chunks to send now, in order (pre-roll first at the start of speech). */
  emit: Float32Array[];
  /** Set on the chunk where speech was confirmed or where the turn ended. */
  event?: 'speechstart' | 'speechend';
  /** Set when the take should stop: 'speech-end' (hangover elapsed) or 'no-speech' (timeout). */
  end?: 'speech-end' | 'no-speech';
}

type GateState = 'waiting' | 'speaking' | 'ended';

/**
 * Turns per-chunk voice decisions into what to send and when to stop. Chunks pushed must be owned
 * by the gate (it may hold them for the pre-roll): pass copies.
 */
export class VoiceGate {
  private readonly sampleRate: number;
  private readonly classify: VadClassifier;
  private readonly minSpeech: number;
  private readonly hangover: number;
  private readonly preRoll: number;
  private readonly waitForSpeech: boolean;
  private readonly noSpeechTimeout: number;
  private state: GateState = 'waiting';
  /** Held chunks while waiting: the pre-roll plus any speech run not yet long enough. */
  private held: Float32Array[] = [];
  private heldSamples = 0;
  private speechRun = 0;
  private silenceRun = 0;
  private elapsed = 0;

  constructor(sampleRate: number, options: VadOptions = {}) {
    const ms = (name: keyof VadOptions, v: number | undefined, dflt: number): number => {
      const x = v ?? dflt;
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
        throw new TalStreamError('bad-argument', `vad.${name} must be a number of ms >= 0, got ${String(v)}`);
      }
      return Math.round((x * sampleRate) / 1000);
    };
    this.sampleRate = sampleRate;
    this.minSpeech = ms('minSpeechMs', options.minSpeechMs, 60);
    this.hangover = ms('hangoverMs', options.hangoverMs, 800);
    this.preRoll = ms('preRollMs', options.preRollMs, 300);
    this.noSpeechTimeout = ms('noSpeechTimeoutMs', options.noSpeechTimeoutMs, 0);
    this.waitForSpeech = options.waitForSpeech ?? true;
    if (options.thresholdDb !== undefined && !Number.isFinite(options.thresholdDb)) {
      throw new TalStreamError('bad-argument', `vad.thresholdDb must be a number, got ${String(options.thresholdDb)}`);
    }
    this.classify = options.classify ?? energyClassifier(options.thresholdDb);
  }

  /** True once speech has been confirmed (and not yet ended). */
  get speaking(): boolean {
    return this.state === 'speaking';
  }

  /** Feeds one chunk; returns what to send and whether the turn is over. */
  push(chunk: Float32Array): GateStep {
    if (this.state === 'ended') return { emit: [] };
    const d = this.classify(chunk, this.sampleRate);
    const speech = d === true || d === 'speech';
    this.elapsed += chunk.length;
    if (this.state === 'waiting') {
      this.speechRun = speech ? this.speechRun + chunk.length : 0;
      if (!this.waitForSpeech) {
        const step: GateStep = { emit: [chunk] };
        if (this.speechRun > 0 && this.speechRun >= this.minSpeech) this.startSpeaking(step);
        return this.checkTimeout(step);
      }
      this.hold(chunk);
      if (this.speechRun > 0 && this.speechRun >= this.minSpeech) {
        const step: GateStep = { emit: this.held };
        this.held = [];
        this.heldSamples = 0;
        this.startSpeaking(step);
        return step;
      }
      return this.checkTimeout({ emit: [] });
    }
    // Speaking: everything is sent, trailing silence included, until the hangover elapses.
    this.silenceRun = speech ? 0 : this.silenceRun + chunk.length;
    if (this.silenceRun >= this.hangover) {
      this.state = 'ended';
      return { emit: [chunk], event: 'speechend', end: 'speech-end' };
    }
    return { emit: [chunk] };
  }

  private startSpeaking(step: GateStep): void {
    this.state = 'speaking';
    this.silenceRun = 0;
    step.event = 'speechstart';
  }

  private checkTimeout(step: GateStep): GateStep {
    if (this.noSpeechTimeout > 0 && this.elapsed >= this.noSpeechTimeout) {
      this.state = 'ended';
      step.end = 'no-speech';
    }
    return step;
  }

  /** Keeps the pre-roll plus the current speech run; drops older chunks. */
  private hold(chunk: Float32Array): void {
    this.held.push(chunk);
    this.heldSamples += chunk.length;
    const keep = this.preRoll + this.speechRun;
    while (this.held.length > 1 && this.heldSamples - this.held[0]!.length >= keep) {
      this.heldSamples -= this.held.shift()!.length;
    }
  }
}

/**
 * An {@link EndOfTurnSource} you trigger yourself, e.g. from @ricky0123/vad-web:
 * `MicVAD.new({ onSpeechEnd: () => turn.trigger() })` and `mic.record({ endOfTurn: turn })`.
 */
export class EndOfTurnSignal implements EndOfTurnSource {
  private readonly callbacks = new Set<() => void>();

  /** Subscribes; returns the unsubscribe function. */
  onSpeechEnd(callback: () => void): () => void {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  }

  /** Signals the end of the user's turn to every subscribed take. */
  trigger(): void {
    for (const cb of [...this.callbacks]) cb();
  }
}
