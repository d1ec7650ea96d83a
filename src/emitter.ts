/**
 * A small typed event emitter. `on()` returns its own unsubscribe function.
 *
 * A listener that throws never breaks the emitter or the SDK code that emitted: the throw is
 * reported as an `error` event (when the event map has one and the failing listener was not itself
 * an `error` listener), else re-thrown asynchronously so it still reaches the console.
 */
export type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private listeners = new Map<keyof Events, Set<Listener<any>>>();

  /** Subscribe; returns a function that unsubscribes (idempotent). */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Subscribe for one call only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener);
  }

  /** Number of listeners, over all events or for one (used by leak tests). */
  listenerCount(event?: keyof Events): number {
    if (event !== undefined) return this.listeners.get(event)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    // Copy: a listener may unsubscribe itself (or others) while we iterate.
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (err) {
        this.listenerFailed(event, err);
      }
    }
  }

  /** Report a listener's throw as an `error` event, never into the emitting code path. */
  private listenerFailed(event: keyof Events, err: unknown): void {
    if (event !== 'error' && (this.listeners.get('error' as keyof Events)?.size ?? 0) > 0) {
      this.emit('error' as keyof Events, err as Events[keyof Events]);
    } else {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Drop every listener. */
  removeAllListeners(): void {
    this.listeners.clear();
  }
}
