// Test doubles for the Reply's orchestration tests: a manual clock with timers, a Response whose
// body the test feeds chunk by chunk, and a fake of the *player interface* (not of Web Audio:
// these tests check the event logic; the real Player is tested in Chromium).
import type { PlayedPosition, ReplyPlayer } from '../../src/types';

export { concat as concatBytes } from '../support/chunking.mjs';

/** A clock the test moves by hand, with the timers the caption timeline uses. */
export class ManualTime {
  t = 0;
  /** Timers fired so far. */
  fired = 0;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  readonly clock = { now: () => this.t };
  readonly timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = ++this.seq;
      this.pending.set(id, { at: this.t + ms, fn });
      return id;
    },
    clearTimeout: (id: unknown) => {
      this.pending.delete(id as number);
    },
  };
  /** Moves time forward, firing due timers in time order, then lets promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.fired++;
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets every queued promise job run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** A 200 (or other) Response whose body the test pushes into. */
export function feedResponse(init: { status?: number; contentType?: string; statusText?: string } = {}) {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
    },
    cancel() {
      cancelled = true;
    },
  });
  const response = new Response(body, {
    status: init.status ?? 200,
    statusText: init.statusText,
    headers: { 'content-type': init.contentType ?? 'application/octet-stream' },
  });
  return {
    response,
    push: (bytes: Uint8Array) => ctrl.enqueue(bytes),
    close: () => ctrl.close(),
    fail: (e: unknown) => ctrl.error(e),
    get cancelled() {
      return cancelled;
    },
  };
}

/** What a fake reply reports at its end (by default without rates, like an app's own player). */
type Figures = Awaited<ReturnType<ReplyPlayer['whenEnded']>>;

interface FakeReply {
  frames: { order: number; sampleRate: number; samples: number; first: number }[];
  ended: boolean;
  finish: (r: Figures) => void;
  whenEnded: Promise<Figures>;
}

/**
 * Records what the Reply hands over and lets the test drive the output side: `emit('audio-start', …)`,
 * `finish(id)`. `auto` mode starts audio on the first enqueue and finishes right after `endReply`.
 */
export class FakePlayer implements ReplyPlayer {
  replies = new Map<number, FakeReply>();
  calls: string[] = [];
  interruptResult: PlayedPosition = { order: 0, sampleOffset: 0, playedMs: 0 };
  destroyed = 0;
  private nextId = 1;
  private listeners = new Map<string, Set<(p: any) => void>>();

  /**
   * @param mode 'auto' plays by itself (see above)
   * @param autoFigures what an 'auto' reply reports as played (default: the sum of its frames)
   */
  constructor(
    private readonly mode: 'manual' | 'auto' = 'manual',
    private readonly autoFigures?: Figures,
  ) {}

  startReply(): number {
    const id = this.nextId++;
    let finish!: FakeReply['finish'];
    const whenEnded = new Promise<Figures>((r) => (finish = r));
    this.replies.set(id, { frames: [], ended: false, finish, whenEnded });
    this.calls.push(`start ${id}`);
    return id;
  }
  enqueue(replyId: number, f: { channels: Float32Array[]; sampleRate: number; order: number }): void {
    const r = this.replies.get(replyId)!;
    r.frames.push({ order: f.order, sampleRate: f.sampleRate, samples: f.channels[0]!.length, first: f.channels[0]![0]! });
    this.calls.push(`enqueue ${replyId}:${f.order}`);
    if (this.mode === 'auto' && r.frames.length === 1) queueMicrotask(() => this.emit('audio-start', { replyId }));
  }
  endReply(replyId: number): void {
    this.replies.get(replyId)!.ended = true;
    this.calls.push(`end ${replyId}`);
    if (this.mode === 'auto') queueMicrotask(() => this.finish(replyId, this.autoFigures));
  }
  whenEnded(replyId: number) {
    return this.replies.get(replyId)!.whenEnded;
  }
  async interrupt(): Promise<PlayedPosition> {
    this.calls.push('interrupt');
    return this.interruptResult;
  }
  on(event: string, listener: (p: any) => void): () => void {
    let s = this.listeners.get(event);
    if (!s) this.listeners.set(event, (s = new Set()));
    s.add(listener);
    return () => s!.delete(listener);
  }
  emit(event: string, payload: unknown): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) l(payload);
  }
  /** Ends reply `id` as if its last sample played; playedMs defaults to the sum of its frames. */
  finish(id: number, figures?: Figures): void {
    const r = this.replies.get(id)!;
    const playedMs = r.frames.reduce((ms, f) => ms + (f.samples / f.sampleRate) * 1000, 0);
    r.finish(figures ?? { playedMs, underruns: 0 });
  }
  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
  destroy(): void {
    this.destroyed++;
  }
}
