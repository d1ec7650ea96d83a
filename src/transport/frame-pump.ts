/**
 * Reads an async iterable of frames once and lets readers take them by index, each at its own
 * pace. The upload uses it so a streaming attempt and a buffered fallback see the same frames:
 * nothing the first attempt consumed is lost to the second.
 */
export class FramePump {
  private readonly frames: Array<Uint8Array | undefined> = [];
  private finished = false;
  private failure: { error: unknown } | null = null;
  private waiters: Array<() => void> = [];
  private started = false;
  private retain: boolean;
  private readonly source: AsyncIterable<Uint8Array>;
  private iterator: AsyncIterator<Uint8Array> | null = null;

  /** `retain`: keep every frame (for a possible re-send) until {@link FramePump.release}. */
  constructor(source: AsyncIterable<Uint8Array>, retain: boolean) {
    this.source = source;
    this.retain = retain;
  }

  /** Starts reading the source (idempotent). */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      this.iterator = this.source[Symbol.asyncIterator]();
      for (;;) {
        const r = await this.iterator.next();
        if (r.done) break;
        this.frames.push(r.value);
        this.notify();
      }
      this.finished = true;
    } catch (error) {
      this.failure = { error };
    }
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The error the source failed with, if it did. */
  get error(): { error: unknown } | null {
    return this.failure;
  }

  /** Frames read so far. */
  get count(): number {
    return this.frames.length;
  }

  /**
   * Frame `i`, waiting for it; `null` after the last frame. Throws the source's error. Without
   * `retain`, a frame is dropped once handed out.
   */
  async get(i: number): Promise<Uint8Array | null> {
    this.start();
    for (;;) {
      if (i < this.frames.length) {
        const f = this.frames[i]!;
        if (!this.retain) this.frames[i] = undefined;
        return f;
      }
      if (this.failure) throw this.failure.error;
      if (this.finished) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Every frame, once the source has ended (needs `retain`). Throws the source's error. */
  async all(): Promise<Uint8Array[]> {
    this.start();
    while (!this.finished) {
      if (this.failure) throw this.failure.error;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure.error;
    return this.frames as Uint8Array[];
  }

  /**
   * Stops retaining (no re-send will be needed): frames below `handedOut` (those a reader already
   * took) are dropped now, later ones once taken.
   */
  release(handedOut: number): void {
    this.retain = false;
    // Keep the length (indices stay valid); drop the bytes.
    for (let i = 0; i < Math.min(handedOut, this.frames.length); i++) this.frames[i] = undefined;
  }

  /** Stops reading the source (tells it via `return()`, e.g. a take aborts). */
  cancel(): void {
    if (!this.finished && !this.failure) {
      this.failure = { error: new Error('cancelled') };
      void this.iterator?.return?.();
      this.notify();
    }
  }
}
