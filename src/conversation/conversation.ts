/**
 * Conversation: the hands-free loop. One capture runs for the whole conversation (the mic opens
 * once) and delivers the echo-cancelled audio in chunks with a speech verdict per chunk;
 * {@link TurnTaking} decides, and this class carries the decisions out: a Take per turn (from a ring
 * of recent audio, so a turn begins at the speech onset less the pre-roll, however late the
 * detection), one ask per turn, the answer cut on a barge-in with its position in the next turn's
 * first frame (`interrupted`), a falsely ended turn re-sent whole.
 */
import type { EndOfTurnSource } from '../capture/vad';
import { Take } from '../capture/take';
import { Emitter } from '../emitter';
import { TalStreamError } from '../errors';
import type { Reply } from '../reply';
import type { PlayedPosition } from '../types';
import { TurnMachine, type ConversationState, type TurnAction, type TurnStep } from './turn-machine';
import type { SpeechVerdict, TurnTaking } from './turn-taking';

export type { ConversationState } from './turn-machine';
export type { SpeechVerdict } from './turn-taking';

/** The capture a conversation listens through (see conversation-input.ts). */
export interface ConversationInput {
  /** Rate of the chunks, Hz. */
  readonly sampleRate: number;
  /** Receives each chunk (valid only during the call) and its verdict, in order, without gaps. */
  onChunk: ((samples: Float32Array, verdict: SpeechVerdict) => void) | null;
  /** Reports a failure of the capture (e.g. the microphone lost with no fallback). */
  onError: ((error: TalStreamError) => void) | null;
  /** Releases what the input opened (idempotent). */
  destroy(): void;
}

/** Events of a {@link Conversation}. */
export interface ConversationEvents {
  /** The state changed. */
  state: { state: ConversationState; previous: ConversationState };
  /**
   * A turn was sent: `take` holds its frames, `reply` is what `ask()` returned. A turn that ended
   * falsely (the user went on before any answer played) is sent again, whole, under the same `index`.
   */
  turn: { index: number; take: Take; reply: Reply };
  /**
   * The user cut the answer. `position`: how much of it was heard (also sent as the next turn's
   * `interrupted`); `atMs`: when the barge-in was decided, `onsetMs`: when the user's speech began,
   * both in ms of the conversation's capture clock.
   */
  'barge-in': { position: PlayedPosition; atMs: number; onsetMs: number };
  /** A failure that did not stop the conversation (an answer that failed, the capture's trouble). */
  error: TalStreamError;
}

/** Timing and framing of a {@link Conversation} (resolved from `converse()` options). */
export interface ConversationSettings {
  bargeIn: boolean;
  minSpeechMs: number;
  /** The barge-in rule: speech over `minSpeechMs` with gaps up to `maxGapMs`. */
  bargeInRule: { minSpeechMs: number; maxGapMs: number };
  hangoverMs: number;
  preRollMs: number;
  falseEndMs: number;
  tailMs: number;
  maxDurationMs: number;
  frameMs: number;
  audioType: 'int16' | 'int32';
  question?: string;
  fields?: Record<string, unknown> | ((turnIndex: number) => Record<string, unknown>);
  endOfTurn?: EndOfTurnSource;
}

interface Turn {
  index: number;
  /** Everything the user said in this turn, from the pre-roll on (copies). */
  chunks: Float32Array[];
  /** Capture time the turn was sent at (its end of turn), ms; -1 while the user speaks. */
  endedMs: number;
  take: Take | null;
  reply: Reply | null;
  /** Still gathering audio (while the user speaks, and in the false-end window after). */
  collecting: boolean;
  /** Where the answer it cut stopped (barge-in turns), for its first frame. */
  interrupted: Promise<PlayedPosition> | null;
}

const NOTHING: PlayedPosition = { order: 0, sampleOffset: 0, playedMs: 0 };

/** The class of the turn rules: given at once, or loaded with the hands-free module. */
export type TurnTakingClass = typeof TurnTaking;

export class Conversation extends Emitter<ConversationEvents> {
  private readonly machine: TurnMachine;
  /** The turn rules on the capture clock; null until loaded (no chunk flows before). */
  private turns: TurnTaking | null = null;
  private readonly ring: { at: number; samples: Float32Array }[] = [];
  private readonly ringSamples: number;
  private turn: Turn | null = null;
  /** Turns sent whose answers may still be cut (the latest one only). */
  private answering: Turn | null = null;
  private count = 0;
  private readonly offs: (() => void)[] = [];
  private stopP: Promise<void> | null = null;
  private readonly settled: Promise<unknown>[] = [];
  /** Where the answer cut by the latest barge-in stopped, for the turn that follows. */
  private pendingInterrupt: Promise<PlayedPosition> | null = null;

  /** Resolves once the conversation listens (the microphone is open); rejects when it cannot. */
  readonly ready: Promise<void>;

  /**
   * @param rules the turn rules' class, or its load: the input must not deliver chunks before
   * it has resolved (converse() opens the microphone after it)
   * @param ready resolves once the input listens
   */
  constructor(
    private readonly input: ConversationInput,
    private readonly ask: (take: Take) => Reply,
    private readonly settings: ConversationSettings,
    rules: TurnTakingClass | Promise<TurnTakingClass>,
    ready: Promise<void> = Promise.resolve(),
  ) {
    super();
    this.ready = ready;
    ready.catch(() => {});
    const rate = input.sampleRate;
    this.machine = new TurnMachine(settings);
    const attach = (Rules: TurnTakingClass): void => {
      this.turns = new Rules({ ...settings, sampleRate: rate }, this.machine);
    };
    if (typeof rules === 'function') attach(rules);
    else {
      const tryAttach = (Rules: TurnTakingClass): void => {
        try {
          attach(Rules);
        } catch (e) {
          this.fail(asError(e));
        }
      };
      rules.then(tryAttach, () => {}); // a failed load fails `ready` (converse() waits for it)
    }
    // The pre-roll plus the longest detection delay, and a second at least.
    const ringMs = Math.max(1000, settings.preRollMs + Math.max(settings.minSpeechMs, 4 * settings.bargeInRule.minSpeechMs) + 200);
    this.ringSamples = Math.round((ringMs * rate) / 1000);
    input.onChunk = (samples, verdict) => this.onChunk(samples, verdict);
    input.onError = (e) => this.emit('error', e);
    const eot = settings.endOfTurn;
    if (eot) {
      const off = eot.onSpeechEnd(() => this.apply(this.event('turn-end')));
      if (typeof off === 'function') this.offs.push(off);
    }
  }

  /** What the conversation is doing now. */
  get state(): ConversationState {
    return this.machine.state;
  }

  /** Capture time now, ms (0 before the rules are loaded: no audio was heard yet). */
  private get nowMs(): number {
    return this.turns ? this.turns.nowMs : 0;
  }

  /** An event from elsewhere, stamped with the capture time now. */
  private event(type: 'audio-start' | 'reply-end' | 'turn-end' | 'pause' | 'resume' | 'stop'): TurnStep {
    return this.turns ? this.turns.event(type) : this.machine.feed({ type, atMs: 0 });
  }

  /** Reports `error` and ends the conversation (it cannot go on: e.g. no microphone). */
  fail(error: TalStreamError): void {
    if (this.stopP) return;
    this.emit('error', error);
    void this.stop();
  }

  /** Stops listening: a turn being spoken is dropped, an answer playing goes on. */
  pause(): void {
    this.apply(this.event('pause'));
  }

  /** Listens again (back to whatever the answer is doing). */
  resume(): void {
    this.apply(this.event('resume'));
  }

  /**
   * Ends the conversation: the turn being spoken is dropped, the answer cut, and what `converse()`
   * opened (the microphone) released. Resolves once all of it is done. Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopP) return this.stopP;
    this.apply(this.event('stop'));
    this.stopP = (async () => {
      for (const off of this.offs.splice(0)) off();
      this.input.onChunk = null;
      this.input.onError = null;
      this.input.destroy();
      await Promise.allSettled(this.settled);
      this.removeAllListeners();
    })();
    return this.stopP;
  }

  private onChunk(samples: Float32Array, verdict: SpeechVerdict): void {
    const turns = this.turns;
    if (this.stopP || !turns) return;
    const copy = samples.slice();
    const at = Math.round((turns.nowMs * this.input.sampleRate) / 1000);
    this.ring.push({ at, samples: copy });
    let held = 0;
    for (const c of this.ring) held += c.samples.length;
    while (this.ring.length > 1 && held - this.ring[0]!.samples.length >= this.ringSamples) held -= this.ring.shift()!.samples.length;
    const t = this.turn;
    if (t?.collecting) {
      t.chunks.push(copy);
      // Only while the user has the floor: the chunk that ends the turn is the take's last.
      if (this.state === 'user-speaking') t.take?.write(copy);
      // A turn sent and awaiting its answer gathers for the false-end window only (bounded memory):
      // speech that continues it begins within falseEndMs and is confirmed at most twice the
      // barge-in rule's minSpeechMs later (a run may be half gaps).
      const s = this.settings;
      if (t.endedMs >= 0 && turns.nowMs - t.endedMs > s.falseEndMs + 2 * s.bargeInRule.minSpeechMs + 200) t.collecting = false;
    }
    for (const step of turns.chunk(samples.length, verdict)) this.apply(step);
  }

  private apply(step: TurnStep): void {
    for (const action of step.actions) this.act(action);
    if (step.state !== step.previous) this.emit('state', { state: step.state, previous: step.previous });
  }

  private act(a: TurnAction): void {
    switch (a.type) {
      case 'open-turn':
        this.openTurn(a.onsetMs, a.interrupted);
        return;
      case 'send-turn': {
        const t = this.turn;
        if (!t) return;
        t.endedMs = this.nowMs;
        if (t.take) void t.take.end('speech-end');
        return;
      }
      case 'continue-turn': {
        const t = this.turn;
        if (!t) return;
        // Nothing of the answer was heard: drop it quietly and send the whole turn again.
        this.cut(t);
        t.collecting = true;
        t.endedMs = -1;
        this.launch(t);
        return;
      }
      case 'interrupt': {
        const cut = this.answering;
        const atMs = this.nowMs;
        const position = cut?.reply ? this.cut(cut) : Promise.resolve({ ...NOTHING });
        this.pendingInterrupt = position;
        this.track(position.then((p) => this.emit('barge-in', { position: p, atMs, onsetMs: a.onsetMs })));
        return;
      }
      case 'drop-turn': {
        const t = this.turn;
        this.turn = null;
        if (t) {
          if (t.reply) this.cut(t);
          t.take?.abort();
        }
        return;
      }
      case 'abort-reply':
        if (this.answering?.reply) this.cut(this.answering);
        return;
    }
  }

  /** Cuts a turn's answer; resolves with where it stopped. Its later end no longer counts. */
  private cut(t: Turn): Promise<PlayedPosition> {
    const reply = t.reply;
    if (this.answering === t) this.answering = null;
    t.reply = null;
    if (!reply) return Promise.resolve({ ...NOTHING });
    const p = reply.interrupt().then(
      (pos) => pos ?? { ...NOTHING },
      () => ({ ...NOTHING }),
    );
    this.track(p);
    return p;
  }

  private openTurn(onsetMs: number, interrupted: boolean): void {
    const rate = this.input.sampleRate;
    // Over the answer's echo the first syllable is masked: the detector's onset is later than the
    // user's by up to about the barge-in rule's length, so such a turn reaches back that much more.
    const preRoll = this.settings.preRollMs + (interrupted ? 2 * this.settings.bargeInRule.minSpeechMs : 0);
    const from = Math.max(0, Math.round(((onsetMs - preRoll) * rate) / 1000));
    // Whole chunks from the one that holds the pre-roll's first sample on.
    const chunks = this.ring.filter((c) => c.at + c.samples.length > from).map((c) => c.samples);
    const t: Turn = {
      index: ++this.count,
      chunks,
      endedMs: -1,
      take: null,
      reply: null,
      collecting: true,
      interrupted: interrupted ? (this.pendingInterrupt ?? Promise.resolve({ ...NOTHING })) : null,
    };
    this.pendingInterrupt = null;
    this.turn = t;
    this.launch(t);
  }

  /**
   * Makes the turn's take from all it gathered so far, asks, and follows the answer. A turn that
   * cut an answer waits for the fade to say where it stopped: its first frame carries that.
   */
  private launch(t: Turn): void {
    this.track(this.launchAsync(t));
  }

  private async launchAsync(t: Turn): Promise<void> {
    const position = t.interrupted ? await t.interrupted : null;
    if (this.turn !== t || this.stopP) return;
    const s = this.settings;
    const fields = typeof s.fields === 'function' ? s.fields(t.index) : s.fields;
    let take: Take;
    try {
      take = new Take({
        sampleRate: this.input.sampleRate,
        audioType: s.audioType,
        frameMs: s.frameMs,
        question: s.question,
        fields,
        firstFrameFields: position ? { interrupted: { ...position } } : undefined,
        maxDurationMs: s.maxDurationMs,
      });
    } catch (e) {
      this.emit('error', e instanceof TalStreamError ? e : new TalStreamError('bad-argument', String(e)));
      return;
    }
    const old = t.take;
    t.take = take;
    // A take still recording is replaced (its reply was cut, so nobody reads it any more).
    if (old?.status === 'recording') old.abort();
    for (const c of t.chunks) take.write(c);
    take.on('end', (r) => {
      // maxDurationMs: the turn is over even though the user may still be talking.
      if (r.reason === 'max-duration' && this.turn === t && this.state === 'user-speaking') this.apply(this.event('turn-end'));
    });
    if (this.state !== 'user-speaking') void take.end('speech-end');
    const reply = this.ask(take);
    t.reply = reply;
    this.answering = t;
    reply.on('audio-start', () => {
      if (this.answering === t && t.reply === reply) {
        t.collecting = false;
        this.apply(this.event('audio-start'));
      }
    });
    const ended = reply.done.then(
      () => undefined,
      (e: unknown) => {
        if (t.reply === reply && !(e instanceof TalStreamError && e.code === 'aborted')) this.emit('error', asError(e));
      },
    );
    this.track(
      ended.then(() => {
        if (this.answering === t && t.reply === reply) {
          this.answering = null;
          t.reply = null;
          t.collecting = false;
          this.apply(this.event('reply-end'));
        }
      }),
    );
    this.emit('turn', { index: t.index, take, reply });
  }

  /** Keeps a promise for stop() to wait on, dropping it once settled (bounded over long conversations). */
  private track(p: Promise<unknown>): void {
    this.settled.push(p);
    const drop = () => {
      const i = this.settled.indexOf(p);
      if (i >= 0) this.settled.splice(i, 1);
    };
    p.then(drop, drop);
  }
}

function asError(e: unknown): TalStreamError {
  return e instanceof TalStreamError ? e : new TalStreamError('network', (e as Error)?.message ?? String(e), { cause: e });
}
