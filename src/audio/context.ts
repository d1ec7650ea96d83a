// One AudioContext per client: created lazily, resumed from a user gesture (`unlock()`), watched
// so that a context that leaves 'running' (autoplay policy, iOS 'interrupted' after a call,
// device loss, a 'closed' context) is reported and brought back instead of left dead.
import { Emitter } from '../emitter';
import { TalStreamError } from '../errors';
import { watchOutput } from './output-watch';

/** A context state, including Safari's non-standard 'interrupted'. */
export type ContextState = AudioContextState | 'interrupted';

/** Options of {@link AudioContextHost}. */
export interface AudioContextHostOptions {
  /**
   * Use this context instead of creating one (an OfflineAudioContext works for tests). The host
   * never closes a context it did not create, and cannot replace it if it gets closed.
   */
  audioContext?: BaseAudioContext;
  /** The AudioContext constructor (default: `globalThis.AudioContext`, read when first needed). */
  AudioContext?: new (options?: AudioContextOptions) => AudioContext;
  /** Options for a context the host creates (`latencyHint`, `sampleRate`, `sinkId`...). */
  contextOptions?: AudioContextOptions;
  /**
   * Where user gestures are listened for to resume a suspended context (default:
   * `globalThis.document`, read when needed). `null` disables gesture recovery.
   */
  gestureTarget?: EventTarget | null;
  /** How long `unlock()` waits for `resume()` before failing, in ms (default 3000). */
  unlockTimeoutMs?: number;
  /**
   * Where output devices are listed, to notice that the device chosen with `setSinkId` is gone
   * (default: `navigator.mediaDevices`, read when a context is watched; `null`: not watched).
   */
  mediaDevices?: MediaDevices | null;
}

/** Events of {@link AudioContextHost}. */
export interface AudioContextHostEvents {
  /** The context's state changed. `recovering` is true while the host waits for a gesture or visibility to resume it. */
  state: { state: ContextState; previous: ContextState; recovering: boolean };
  /** A closed context the host owned was replaced by a new one (objects built on the old one are dead). */
  replaced: { context: AudioContext; previous: BaseAudioContext };
  /**
   * The output device the context played to (chosen with `setSinkId`) disappeared; it now plays to
   * the default device.
   */
  'output-lost': { lostSinkId: string };
  /** A recovery attempt failed (it is retried on the next gesture), or the output failed. */
  error: TalStreamError;
}

const GESTURES = ['pointerdown', 'keydown', 'touchend', 'mousedown'] as const;

function isOffline(ctx: BaseAudioContext): boolean {
  return typeof (ctx as OfflineAudioContext).startRendering === 'function';
}

/** Owns the client's AudioContext: creation, unlock, state monitoring and recovery, close. */
export class AudioContextHost extends Emitter<AudioContextHostEvents> {
  private ctx: BaseAudioContext | null;
  private readonly owned: boolean;
  private lastState: ContextState | null = null;
  private recovering = false;
  private detachRecovery: (() => void) | null = null;
  private detachState: (() => void) | null = null;
  private destroyed = false;

  constructor(private readonly options: AudioContextHostOptions = {}) {
    super();
    this.ctx = options.audioContext ?? null;
    this.owned = !options.audioContext;
    if (this.ctx) this.watch(this.ctx);
  }

  /** The current context, or null before one was needed (never creates one). */
  get context(): BaseAudioContext | null {
    return this.ctx;
  }

  /** The current context's state ('interrupted' on Safari), or null when there is none. */
  get state(): ContextState | null {
    return this.ctx ? (this.ctx.state as ContextState) : null;
  }

  /**
   * The context, created on first use. A context the host created that got closed is replaced
   * (a `replaced` event tells the owner to rebuild what lived on the old one).
   * @throws TalStreamError `destroyed`, `unsupported` (no Web Audio), `audio-context` (an injected context was closed)
   */
  ensure(): BaseAudioContext {
    if (this.destroyed) throw new TalStreamError('destroyed', 'the client was destroyed');
    const ctx = this.ctx;
    if (ctx && ctx.state !== 'closed') return ctx;
    if (ctx && !this.owned) {
      throw new TalStreamError('audio-context', 'the AudioContext passed as `audioContext` was closed; pass a new one');
    }
    const Ctor = this.options.AudioContext ?? (globalThis as { AudioContext?: AudioContextHostOptions['AudioContext'] }).AudioContext;
    if (!Ctor) throw new TalStreamError('unsupported', 'this browser has no AudioContext (Web Audio)');
    let created: AudioContext;
    try {
      created = new Ctor(this.options.contextOptions);
    } catch (cause) {
      throw new TalStreamError('audio-context', `could not create an AudioContext: ${(cause as Error)?.message ?? cause}`, { cause });
    }
    this.detachState?.();
    this.ctx = created;
    this.lastState = null;
    this.watch(created);
    if (ctx) this.emit('replaced', { context: created, previous: ctx });
    return created;
  }

  /**
   * Creates the context if needed and starts it. Call it from a user gesture (click, tap, key):
   * browsers start audio only then. Resolves with the state, 'running' on success (an
   * OfflineAudioContext is returned as it is: it runs only when rendered).
   * @throws TalStreamError `audio-context` when the context does not start within `unlockTimeoutMs`
   */
  async unlock(): Promise<ContextState> {
    const ctx = this.ensure();
    if (isOffline(ctx)) return ctx.state as ContextState;
    const live = ctx as AudioContext;
    if (live.state === 'running') return 'running';
    // Everything up to `resume()` runs synchronously inside the gesture. WebKit also wants a
    // sound started in the gesture before it lets the context out: one silent sample.
    this.primeSilently(live);
    const timeout = this.options.unlockTimeoutMs ?? 3000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        live.resume(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TalStreamError('audio-context', `the AudioContext did not start within ${timeout} ms: call unlock() from a user gesture (click, tap or key press)`)),
            timeout,
          );
        }),
      ]);
    } catch (cause) {
      if (cause instanceof TalStreamError) throw cause;
      throw new TalStreamError('audio-context', `could not resume the AudioContext: ${(cause as Error)?.message ?? cause}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    const state = live.state as ContextState;
    if (state !== 'running') {
      throw new TalStreamError('audio-context', `the AudioContext is '${state}' after resume(); call unlock() from a user gesture`);
    }
    this.onStateChange();
    return state;
  }

  /** Stops watching; closes the context only if the host created it. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stopRecovery();
    this.detachState?.();
    this.detachState = null;
    this.removeAllListeners();
    const ctx = this.ctx;
    if (ctx && this.owned && !isOffline(ctx) && ctx.state !== 'closed') {
      try {
        await (ctx as AudioContext).close();
      } catch {
        // Already closing or closed by someone else: nothing left to release.
      }
    }
  }

  private primeSilently(ctx: AudioContext): void {
    try {
      const src = ctx.createBufferSource();
      src.buffer = ctx.createBuffer(1, 1, ctx.sampleRate);
      src.connect(ctx.destination);
      src.start();
      src.onended = () => src.disconnect();
    } catch {
      // Only a help for WebKit; resume() below is what matters.
    }
  }

  /**
   * Plays the context to the output device `sinkId` ('' = the default), where the browser can
   * (`AudioContext.setSinkId`). If that device disappears later, the context moves back to the
   * default and `output-lost` is emitted.
   * @throws TalStreamError `unsupported` (no setSinkId), `audio-context` (the browser refused the id)
   */
  async setSinkId(sinkId: string): Promise<void> {
    const ctx = this.ensure() as AudioContext & { setSinkId?: (id: string) => Promise<void> };
    if (isOffline(ctx) || typeof ctx.setSinkId !== 'function') {
      throw new TalStreamError('unsupported', 'this browser cannot choose the audio output device (AudioContext.setSinkId)');
    }
    try {
      await ctx.setSinkId(sinkId);
    } catch (cause) {
      throw new TalStreamError('audio-context', `setSinkId('${sinkId}') failed: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  }

  private watch(ctx: BaseAudioContext): void {
    if (isOffline(ctx)) return;
    const handler = () => this.onStateChange();
    ctx.addEventListener('statechange', handler);
    const media =
      this.options.mediaDevices === undefined
        ? (globalThis as { navigator?: { mediaDevices?: MediaDevices } }).navigator?.mediaDevices
        : this.options.mediaDevices;
    const unwatchOutput = watchOutput(ctx, media, {
      lost: (lostSinkId) => this.emit('output-lost', { lostSinkId }),
      error: (e) => this.emit('error', e),
    });
    this.detachState = () => {
      ctx.removeEventListener('statechange', handler);
      unwatchOutput();
    };
    this.lastState = ctx.state as ContextState;
    // A context born suspended (autoplay policy) starts on the first gesture, without the app
    // having to wire every button to unlock().
    if (ctx.state !== 'running') this.startRecovery();
  }

  private onStateChange(): void {
    const ctx = this.ctx;
    if (!ctx || this.destroyed) return;
    const state = ctx.state as ContextState;
    const previous = this.lastState ?? state;
    if (state === previous && state !== 'running') return;
    this.lastState = state;
    if (state === 'running') {
      this.stopRecovery();
    } else if (state === 'closed') {
      this.stopRecovery();
    } else {
      this.startRecovery();
    }
    if (state !== previous) this.emit('state', { state, previous, recovering: this.recovering });
    // A closed context never comes back: replace one we own at once (it starts suspended outside
    // a gesture and then recovers like any other), so the next reply has somewhere to play.
    if (state === 'closed' && this.owned && this.ctx === ctx) {
      try {
        this.ensure();
      } catch (err) {
        this.emit('error', err as TalStreamError);
      }
    }
  }

  /** Resume on the next gesture or when the page becomes visible again (iOS after a call). */
  private startRecovery(): void {
    if (this.recovering || this.destroyed) return;
    const target =
      this.options.gestureTarget === undefined ? (globalThis as { document?: Document }).document ?? null : this.options.gestureTarget;
    const doc = (globalThis as { document?: Document }).document;
    this.recovering = true;
    const attempt = () => {
      const ctx = this.ctx;
      if (!ctx || isOffline(ctx) || ctx.state === 'running' || ctx.state === 'closed') return;
      (ctx as AudioContext).resume().then(
        () => this.onStateChange(),
        (cause) => this.emit('error', new TalStreamError('audio-context', `resuming the AudioContext failed: ${(cause as Error)?.message ?? cause}`, { cause })),
      );
    };
    const onVisible = () => {
      if (doc?.visibilityState === 'visible') attempt();
    };
    for (const g of GESTURES) target?.addEventListener(g, attempt, { capture: true, passive: true });
    doc?.addEventListener('visibilitychange', onVisible);
    this.detachRecovery = () => {
      for (const g of GESTURES) target?.removeEventListener(g, attempt, { capture: true });
      doc?.removeEventListener('visibilitychange', onVisible);
    };
  }

  private stopRecovery(): void {
    this.recovering = false;
    this.detachRecovery?.();
    this.detachRecovery = null;
  }
}
