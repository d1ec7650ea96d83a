/**
 * The hands-free conversation's turn-taking, as a pure state machine: events in (the user's speech
 * confirmed, the end of a turn, the answer's first sound and end, pause/resume/stop), a new state and
 * the actions to take out. No audio, no timers: every time is in ms of the capture's audio clock
 * (the wiring stamps player events with the capture time they happened at), so tests drive it with
 * plain numbers and the same sequence always gives the same actions.
 *
 * ```
 *   listening --speech--> user-speaking --turn-end--> thinking --audio-start--> speaking --reply-end--> listening
 *                               ^                        |                          |
 *                               |  speech within falseEndMs of the turn's end:      |
 *                               +---- continue-turn (the pending ask is aborted) ---+ speech (barge-in):
 *                               +---- interrupt + open-turn(interrupted) ------------+ the answer is cut
 * ```
 */

/** What the conversation is doing. */
export type ConversationState = 'listening' | 'user-speaking' | 'thinking' | 'speaking' | 'paused' | 'stopped';

/** An input of the {@link TurnMachine}. Times are ms on the capture's audio clock. */
export type TurnEvent =
  /** User speech (not echo) was confirmed at `atMs`; it began at `onsetMs` (earlier: detection takes time). */
  | { type: 'speech'; onsetMs: number; atMs: number }
  /** The user's turn is over (the VAD's hangover, an endOfTurn source, maxDurationMs). */
  | { type: 'turn-end'; atMs: number }
  /** The answer's first sample played. */
  | { type: 'audio-start'; atMs: number }
  /** The answer is over: played out, failed, or cut. */
  | { type: 'reply-end'; atMs: number }
  /** The app paused, resumed or stopped the conversation (a time may come along; only the order counts). */
  | { type: 'pause' | 'resume' | 'stop'; atMs?: number };

/** What the wiring must do, in order. */
export type TurnAction =
  /**
   * Begin a turn's audio at `onsetMs` (the wiring adds its pre-roll before it). `interrupted`: this
   * turn cut an answer; its first frame carries the position reached.
   */
  | { type: 'open-turn'; onsetMs: number; interrupted: boolean }
  /** End the turn's audio and send it (the ask). */
  | { type: 'send-turn' }
  /** A false end of turn: abort the pending ask; the same turn goes on and is sent again, whole. */
  | { type: 'continue-turn' }
  /** Barge-in: cut the answer (fade) and note where; abort its ask if it is still arriving. */
  | { type: 'interrupt'; onsetMs: number }
  /** Drop the turn being recorded, unsent (pause or stop while the user speaks). */
  | { type: 'drop-turn' }
  /** Stop the answer and its ask (stop() only). */
  | { type: 'abort-reply' };

/** Tuning of the {@link TurnMachine}. */
export interface TurnMachineOptions {
  /** Cut the answer when the user speaks over it. `false`: half-duplex. */
  bargeIn: boolean;
  /** User speech this soon after the turn ended, before any answer audio, continues the turn, ms. */
  falseEndMs: number;
  /** Half-duplex (`bargeIn: false`): speech that began within this long after the answer ended is ignored, ms. */
  tailMs: number;
}

/** One transition's result. */
export interface TurnStep {
  state: ConversationState;
  previous: ConversationState;
  actions: TurnAction[];
}

export class TurnMachine {
  private s: ConversationState = 'listening';
  /** Capture time the last turn ended at (for a false end of turn). */
  private turnEndedAt = -Infinity;
  /** Capture time the last answer ended at (half-duplex tail). */
  private replyEndedAt = -Infinity;
  /** What the answer is doing, also while paused (resume() returns to it). */
  private answer: 'none' | 'pending' | 'playing' = 'none';

  constructor(private readonly options: TurnMachineOptions) {}

  get state(): ConversationState {
    return this.s;
  }

  /**
   * Which speech rule the wiring should apply now: 'turn' (the VAD that starts a turn), 'barge-in'
   * (the stricter, echo-aware rule while an answer is pending or playing), or 'none' (deaf).
   */
  get listeningFor(): 'turn' | 'barge-in' | 'none' {
    switch (this.s) {
      case 'listening':
        return 'turn';
      case 'thinking':
        return 'barge-in';
      case 'speaking':
        return this.options.bargeIn ? 'barge-in' : 'none';
      default:
        return 'none';
    }
  }

  /** Feeds one event; returns the new state and what to do. Events that do not apply change nothing. */
  feed(ev: TurnEvent): TurnStep {
    const previous = this.s;
    const actions: TurnAction[] = [];
    const go = (state: ConversationState): TurnStep => {
      this.s = state;
      return { state, previous, actions };
    };
    const stay = (): TurnStep => ({ state: this.s, previous, actions });
    if (this.s === 'stopped') return stay();
    // The answer's progress is followed in every state, so that resume() lands where it is.
    if (ev.type === 'audio-start' && this.answer === 'pending') this.answer = 'playing';
    if (ev.type === 'reply-end') {
      this.answer = 'none';
      this.replyEndedAt = ev.atMs;
    }
    if (ev.type === 'stop') {
      if (this.s === 'user-speaking') actions.push({ type: 'drop-turn' });
      if (this.s === 'thinking' || this.s === 'speaking') actions.push({ type: 'abort-reply' });
      return go('stopped');
    }
    switch (this.s) {
      case 'paused':
        if (ev.type === 'resume') return go(this.answer === 'playing' ? 'speaking' : this.answer === 'pending' ? 'thinking' : 'listening');
        return stay();
      case 'listening':
        if (ev.type === 'pause') return go('paused');
        if (ev.type === 'speech') {
          // Half-duplex: speech that began in the answer's tail is its echo, not the user.
          if (!this.options.bargeIn && ev.onsetMs < this.replyEndedAt + this.options.tailMs) return stay();
          actions.push({ type: 'open-turn', onsetMs: ev.onsetMs, interrupted: false });
          return go('user-speaking');
        }
        return stay();
      case 'user-speaking':
        if (ev.type === 'pause') {
          actions.push({ type: 'drop-turn' });
          return go('paused');
        }
        if (ev.type === 'turn-end') {
          this.turnEndedAt = ev.atMs;
          this.answer = 'pending';
          actions.push({ type: 'send-turn' });
          return go('thinking');
        }
        return stay();
      case 'thinking':
        if (ev.type === 'pause') return go('paused');
        if (ev.type === 'audio-start') return go('speaking');
        // An answer without audio (text only, or it failed): the floor is the user's again.
        if (ev.type === 'reply-end') return go('listening');
        if (ev.type === 'speech') {
          if (ev.onsetMs <= this.turnEndedAt + this.options.falseEndMs) {
            this.answer = 'none';
            actions.push({ type: 'continue-turn' });
            return go('user-speaking');
          }
          if (!this.options.bargeIn) return stay();
          this.answer = 'none';
          // Nothing of the answer was heard yet, but it was asked for: cut it like a barge-in so the
          // server knows none of it reached the user.
          actions.push({ type: 'interrupt', onsetMs: ev.onsetMs }, { type: 'open-turn', onsetMs: ev.onsetMs, interrupted: true });
          return go('user-speaking');
        }
        return stay();
      case 'speaking':
        if (ev.type === 'pause') return go('paused');
        if (ev.type === 'reply-end') return go('listening');
        if (ev.type === 'speech' && this.options.bargeIn) {
          this.answer = 'none';
          actions.push({ type: 'interrupt', onsetMs: ev.onsetMs }, { type: 'open-turn', onsetMs: ev.onsetMs, interrupted: true });
          return go('user-speaking');
        }
        return stay();
    }
  }
}
