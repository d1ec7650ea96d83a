// Caption timing: a frame's `answer` text is shown when that frame's audio starts playing, not
// when it arrives (replies arrive faster than real time, so arrival-time captions run ahead).
import type { Clock } from './types';

interface Entry {
  order: number;
  text: string;
  /** Milliseconds of this reply's audio queued before this frame. */
  startMs: number;
}

/** Timer functions, injectable for tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Tracks where playback is in a reply and emits each caption when the playhead reaches its
 * frame. The position is exact at the anchors the player reports (`audioStarted` = 0, an
 * `underrun` = everything queued so far has played, `positionAt` from player stats or a
 * frame-start notification) and advances with the clock between them, capped at what was
 * queued, since the player cannot play what it does not have. So a caption is late by at most
 * the player's reporting delay, never early by more than clock drift between two anchors.
 */
export class CaptionTimeline {
  private entries: Entry[] = [];
  private queuedMs = 0;
  private started = false;
  private running = false;
  private anchorPos = 0;
  private anchorAt = 0;
  private timer: unknown = null;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly emit: (text: string, order: number) => void,
    private readonly timers: Timers = {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    },
  ) {}

  /** A frame of `durationMs` audio was queued (after every earlier one). Empty `text` only advances time. */
  add(order: number, durationMs: number, text: string): void {
    if (this.closed) return;
    if (text) this.entries.push({ order, text, startMs: this.queuedMs });
    this.queuedMs += durationMs;
    this.update();
  }

  /**
   * The player's first sample of this reply went out; `atMs` is when, on this timeline's clock,
   * if the player said (its report reaches the main thread a little later).
   */
  audioStarted(atMs?: number): void {
    this.started = true;
    this.anchor(0, true, atMs);
  }

  /** The buffer ran dry: everything queued has played; the playhead waits. */
  underrun(): void {
    if (!this.started) return;
    this.anchor(this.queuedMs, false);
  }

  /** Playback resumed after an underrun (at `atMs` on this timeline's clock, if known). */
  resumed(atMs?: number): void {
    if (!this.started) return;
    this.anchor(this.position(), true, atMs);
  }

  /** An exact position report from the player (ms of this reply played now). */
  positionAt(playedMs: number): void {
    if (!this.started) this.started = true;
    this.anchor(Math.min(playedMs, this.queuedMs), true);
  }

  /** Playback ended normally: every caption left is due now. */
  flush(): void {
    if (this.closed) return;
    this.started = true;
    this.anchor(this.queuedMs, false);
    this.emitDue(Infinity);
    this.close();
  }

  /** Interrupted or failed: captions not reached are never shown. */
  close(): void {
    this.closed = true;
    this.entries = [];
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Estimated ms of this reply played by now. */
  position(): number {
    if (!this.running) return this.anchorPos;
    return Math.min(this.queuedMs, this.anchorPos + (this.clock.now() - this.anchorAt));
  }

  private anchor(pos: number, running: boolean, atMs?: number): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.anchorPos = pos;
    // A reported event time is used when it is plausible (not in the future of this clock).
    this.anchorAt = atMs !== undefined && Number.isFinite(atMs) && atMs <= now ? atMs : now;
    this.running = running;
    this.update();
  }

  private update(fromTimer = false): void {
    if (this.closed || !this.started) return;
    const pos = this.position();
    this.emitDue(pos);
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const next = this.entries[0];
    if (next && this.running && !this.closed) {
      let delay = Math.max(0, next.startMs - pos);
      // The playhead did not move between two timer checks (a suspended context freezes its
      // clock): back off to 100 ms instead of polling at frame rate while it lasts.
      if (fromTimer && pos === this.polledAt) delay = Math.min(100, Math.max(delay, this.pollDelay * 2));
      this.polledAt = pos;
      this.pollDelay = delay;
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        this.update(true);
      }, delay);
    }
  }

  private polledAt = -1;
  private pollDelay = 0;

  private emitDue(pos: number): void {
    // A caption exactly at the playhead shows only while audio flows: after an underrun the
    // playhead sits at the end of what was queued, and the next frame's caption must wait for
    // the player to resume, not show on arrival. Entries are in queue order.
    while (!this.closed && this.entries.length > 0 && (this.entries[0]!.startMs < pos || (this.running && this.entries[0]!.startMs <= pos))) {
      const e = this.entries.shift()!;
      this.emit(e.text, e.order);
    }
  }
}
