// The event plumbing of a Reply: typed listeners, async iteration with a bounded replay buffer,
// and the guarantee that nothing is delivered after the terminal event.
import type { ReplyEvent, ReplyEventOf, ReplyEventType } from './types';

/** Default number of events kept for an iterator created after the reply started. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 1024;

interface IteratorState {
  queue: ReplyEvent[];
  wake: (() => void) | null;
  done: boolean;
}

/**
 * Delivers events to `on()` listeners and to async iterators.
 *
 * Buffering: from creation until the first iterator is created, events are kept in a history of
 * at most `maxBuffered` (oldest dropped first, counted in `dropped`), so `for await` started a
 * little late still sees the start of the reply, while a reply that is never iterated holds a
 * bounded amount. The first iterator takes that history over; later iterators see events from
 * their creation on. Once an iterator exists, its queue holds whatever it has not consumed yet
 * (consuming is the app's job; `break` out of the loop releases it).
 */
export class ReplyEventChannel {
  private listeners = new Map<ReplyEventType, Set<(ev: any) => void>>();
  private history: ReplyEvent[] | null = [];
  private iterators = new Set<IteratorState>();
  private closed = false;
  /** Events dropped from the pre-iteration history because it was full. */
  dropped = 0;

  constructor(
    private readonly maxBuffered: number,
    /** Called with whatever a listener threw (never for `error` listeners, see `emit`). */
    private readonly onListenerError: (err: unknown, ev: ReplyEvent) => void,
  ) {}

  /** True once the terminal event went out. */
  get isClosed(): boolean {
    return this.closed;
  }

  on<T extends ReplyEventType>(type: T, listener: (ev: ReplyEventOf<T>) => void): () => void {
    // Nothing can come after the end: hold no reference to the listener.
    if (this.closed) return () => {};
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry = (ev: ReplyEventOf<T>) => listener(ev);
    set.add(entry);
    return () => {
      set!.delete(entry);
    };
  }

  /** Number of listeners (leak tests). */
  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  /**
   * Delivers one event. Ignored after `close()`. `terminal` closes the channel after delivery.
   * A throwing listener is reported through `onListenerError`, except a throwing `error`
   * listener (that would loop), which is re-thrown asynchronously so it still reaches the console.
   */
  emit(ev: ReplyEvent, terminal = false): void {
    if (this.closed) return;
    if (terminal) this.closed = true;
    if (this.history) {
      this.history.push(ev);
      if (this.history.length > this.maxBuffered) {
        this.history.shift();
        this.dropped++;
      }
    }
    for (const it of this.iterators) {
      it.queue.push(ev);
      if (terminal) it.done = true;
      const wake = it.wake;
      it.wake = null;
      wake?.();
    }
    const set = this.listeners.get(ev.type);
    if (set && set.size > 0) {
      for (const listener of [...set]) {
        try {
          listener(ev);
        } catch (err) {
          if (ev.type === 'error' || this.closed) {
            queueMicrotask(() => {
              throw err;
            });
          } else {
            this.onListenerError(err, ev);
          }
        }
      }
    }
    // Nothing can follow the terminal event: drop the listeners (the history, if no iterator
    // took it yet, stays for one that comes later, still bounded).
    if (terminal) this.listeners.clear();
  }

  /** An async iterator over the events (see the class doc for what it replays). */
  iterate(): AsyncIterableIterator<ReplyEvent> {
    const state: IteratorState = { queue: [], wake: null, done: this.closed };
    if (this.history) {
      state.queue = this.history;
      this.history = null;
    }
    if (!this.closed) this.iterators.add(state);
    const release = () => {
      this.iterators.delete(state);
      state.queue = [];
      state.done = true;
      const wake = state.wake;
      state.wake = null;
      wake?.();
    };
    const iterator: AsyncIterableIterator<ReplyEvent> = {
      next: async (): Promise<IteratorResult<ReplyEvent>> => {
        for (;;) {
          const ev = state.queue.shift();
          if (ev) return { value: ev, done: false };
          if (state.done) {
            this.iterators.delete(state);
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => (state.wake = resolve));
        }
      },
      return: async (): Promise<IteratorResult<ReplyEvent>> => {
        release();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
