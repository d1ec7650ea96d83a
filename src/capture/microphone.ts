/**
 * The microphone: getUserMedia -> MediaStreamAudioSourceNode -> capture worklet -> Takes.
 *
 * One AudioWorkletNode lives as long as the Microphone; sources come and go in front of it, so a
 * device switch (by the app or after an unplug) never interrupts a take: the new stream is
 * connected before the old one is disconnected.
 */
import { Emitter } from '../emitter';
import { TalStreamError } from '../errors';
import { CaptureNode } from './capture-node';
import { Take, type TakeOptions } from './take';
import { Listening } from '../conversation/listening';
import { microphoneError, openStream, release, stopStream, type Feed } from './media-stream';

export { microphoneError } from './media-stream';

/** Options of {@link Microphone.create} (`client.microphone(options)`). */
export interface MicrophoneOptions {
  /** The device to open (`MediaDeviceInfo.deviceId`); default: the browser's default microphone. */
  deviceId?: string;
  /** Browser echo cancellation. Default true. */
  echoCancellation?: boolean;
  /** Browser noise suppression. Default true. */
  noiseSuppression?: boolean;
  /** Browser automatic gain control. Default true. */
  autoGainControl?: boolean;
  /** Rate of the takes' frames, Hz. Default 16000. The AudioContext keeps its own rate. */
  sampleRate?: number;
  /** Sample type of the takes' frames. Default 'int16'. */
  audioType?: 'int16' | 'int32';
  /** Audio per frame, ms. Default 20. */
  frameMs?: number;
  /** Minimum time between `level` events, ms. Default 100 (at most 10 a second). */
  levelIntervalMs?: number;
  /** Self-hosted dist/talstream.worklet.js for pages whose CSP forbids blob: and data:. */
  workletUrl?: string;
  /** Injected `navigator.mediaDevices` (tests, embedded browsers). */
  mediaDevices?: MediaDevices;
  /**
   * How long `create` waits for the device's first audio, ms. Default 5000. `create` resolves only
   * once the input flows (a device may start seconds after getUserMedia: a sound server waking up,
   * a Bluetooth headset changing profile), so a take begun then loses nothing; none within this
   * time rejects with `no-device`. With the context not running (before `unlock()`) there is no
   * audio thread to wait on, and `create` resolves at once.
   */
  startTimeoutMs?: number;
}

/** Events of a {@link Microphone}. */
export interface MicrophoneEvents {
  /** Input level, linear 0..1 (RMS and peak over the interval), at most ~10 a second. */
  level: { rms: number; peak: number };
  /** The list of audio inputs changed (a device was plugged or unplugged). */
  devicechange: { devices: MediaDeviceInfo[] };
  /**
   * The device in use disappeared (unplugged or revoked) and the microphone switched to the
   * default device (`deviceId` is the new one's), without interrupting a take.
   */
  fallback: { lostDeviceId: string; deviceId: string };
  /**
   * The capture moved to another device (`setDevice` or a fallback). `takeMs`: where in the
   * current take the new device's audio begins, or null when no take was recording.
   */
  switch: { deviceId: string; takeMs: number | null };
  /** The track in use ended (unplugged, permission revoked). A fallback is attempted next. */
  ended: { deviceId: string };
  /** Something failed outside a call (e.g. no device left after an unplug: `no-device`). */
  error: TalStreamError;
}

/** How long a new device must deliver audio without a hole before a switch moves to it, ms. */
const SWITCH_SETTLE_MS = 200;

export class Microphone extends Emitter<MicrophoneEvents> {
  /** The context the capture runs in (at its own rate). */
  readonly context: AudioContext;
  /** Rate of the takes' frames, Hz. */
  readonly sampleRate: number;

  private readonly options: MicrophoneOptions;
  private readonly media: MediaDevices;
  private readonly capture: CaptureNode;
  private stream: MediaStream;
  private source: MediaStreamAudioSourceNode;
  /** Between the source and the capture node: set to 0 to park a replaced source without a graph change. */
  private gain: GainNode;
  private take: Take | null = null;
  /** Sources and streams replaced by a device switch during the current take, released when it ends. */
  private retired: Feed[] = [];
  private isMuted = false;
  private destroyed = false;
  private switching: Promise<void> = Promise.resolve();
  /** The conversation listening through this microphone, if any. */
  private listener: Listening | null = null;
  private readonly onDeviceChange = () => void this.handleDeviceChange();
  private readonly onTrackEnded = () => void this.handleTrackEnded();

  private constructor(context: AudioContext, options: MicrophoneOptions, media: MediaDevices, capture: CaptureNode, stream: MediaStream) {
    super();
    this.context = context;
    this.options = options;
    this.media = media;
    this.capture = capture;
    this.sampleRate = capture.sampleRate;
    this.stream = stream;
    this.source = context.createMediaStreamSource(stream);
    this.gain = new GainNode(context, { gain: 1 });
    this.source.connect(this.gain).connect(capture.node, 0, capture.activeInput);
    this.watchTrack(stream);
    capture.onLevel = (rms, peak) => this.emit('level', { rms, peak });
    media.addEventListener?.('devicechange', this.onDeviceChange);
  }

  /**
   * Asks for the microphone and sets up capture in `context`. Rejects with `permission-denied`,
   * `no-device`, `unsupported`, `worklet-load` or `bad-argument` TalStreamErrors.
   */
  static async create(context: AudioContext, options: MicrophoneOptions = {}): Promise<Microphone> {
    if (!context || typeof (context as AudioContext).createMediaStreamSource !== 'function') {
      throw new TalStreamError('bad-argument', 'Microphone.create needs an AudioContext (not an OfflineAudioContext)');
    }
    const media = options.mediaDevices ?? (typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined);
    if (!media || typeof media.getUserMedia !== 'function') {
      throw new TalStreamError('unsupported', 'navigator.mediaDevices.getUserMedia is not available (it needs a secure context: https or localhost)');
    }
    const startTimeoutMs = options.startTimeoutMs ?? 5000;
    if (!(startTimeoutMs > 0)) throw new TalStreamError('bad-argument', `startTimeoutMs must be > 0, got ${startTimeoutMs}`);
    const capture = await CaptureNode.create(context, {
      sampleRate: options.sampleRate,
      frameMs: options.frameMs,
      levelIntervalMs: options.levelIntervalMs,
      workletUrl: options.workletUrl,
    });
    let stream: MediaStream;
    try {
      stream = await openStream(media, options, options.deviceId);
    } catch (e) {
      capture.destroy();
      throw e;
    }
    const mic = new Microphone(context, options, media, capture, stream);
    if (context.state === 'running' && !(await capture.waitForInput(startTimeoutMs))) {
      mic.destroy();
      throw new TalStreamError('no-device', `The microphone opened but delivered no audio within ${startTimeoutMs} ms`);
    }
    return mic;
  }

  /** Length of the takes' frames (and of a conversation's chunks), ms. */
  get frameMs(): number {
    return (this.capture.chunkSamples / this.capture.sampleRate) * 1000;
  }

  /** The device in use (from the track's settings), or '' when the browser does not say. */
  get deviceId(): string {
    return this.stream.getAudioTracks()[0]?.getSettings().deviceId ?? '';
  }

  /** The MediaStream in use (changes on a device switch). */
  get mediaStream(): MediaStream {
    return this.stream;
  }

  /** True while muted: takes receive zeros in place of the input, so their timing is kept. */
  get muted(): boolean {
    return this.isMuted;
  }

  /** The current take, if one is recording. */
  get recording(): Take | null {
    return this.take;
  }

  /**
   * Mutes or unmutes. While muted the worklet sends zeros (a take keeps running with silence and
   * its duration keeps counting); the level meter still shows the real input so a UI can say
   * "you are muted". Resolves once the worklet applies it.
   */
  async setMuted(muted: boolean): Promise<void> {
    this.assertAlive();
    this.isMuted = muted;
    await this.capture.setMuted(muted);
  }

  /** The audio input devices (labels are empty until the user has granted the microphone). */
  async devices(): Promise<MediaDeviceInfo[]> {
    const all = await this.media.enumerateDevices();
    return all.filter((d) => d.kind === 'audioinput');
  }

  /**
   * Switches to another device (undefined: the default) without losing audio: the new stream is
   * connected first, and the capture moves over once it delivers audio. During a take the old
   * device is released (disconnected, tracks stopped) when the take ends, as releasing it earlier
   * can glitch a capture device the browser shares between them; otherwise at once. Rejects with `permission-denied`/`no-device` and keeps the
   * old device then.
   */
  setDevice(deviceId: string | undefined): Promise<void> {
    this.assertAlive();
    const run = this.switching.then(() => this.switchTo(deviceId));
    this.switching = run.catch(() => {});
    return run;
  }

  private async switchTo(deviceId: string | undefined): Promise<void> {
    if (this.destroyed) return;
    const stream = await openStream(this.media, this.options, deviceId);
    if (this.destroyed) {
      stopStream(stream);
      return;
    }
    // The new device goes to the idle input (where only parked, silenced sources may sit); the
    // worklet moves over once it delivers audio.
    const input = 1 - this.capture.activeInput;
    const source = this.context.createMediaStreamSource(stream);
    const gain = new GainNode(this.context, { gain: 1 });
    source.connect(gain).connect(this.capture.node, 0, input);
    // While the old device still delivers, wait until the new one has run smoothly for a while (a
    // starting device may underrun once or twice); when the old one is dead, take the new one's
    // first audio.
    const oldLive = this.stream.getAudioTracks().some((t) => t.readyState === 'live' && !t.muted);
    const { position } = await this.capture.switchInput(input, oldLive ? SWITCH_SETTLE_MS : 0);
    if (this.destroyed) {
      source.disconnect();
      gain.disconnect();
      stopStream(stream);
      return;
    }
    const old = { source: this.source, gain: this.gain, stream: this.stream };
    this.source = source;
    this.gain = gain;
    this.stream = stream;
    this.watchTrack(stream);
    this.unwatchTrack(old.stream);
    // Disconnecting a source or stopping a track can make Chromium reconfigure a capture device it
    // shares with the new track (e.g. 'default' and that same mic by id), dropping a few ms of the
    // new track's input. So during a take the old source is only silenced (a gain change, not a
    // graph change: the idle input is then clean for another switch) and released when the take ends.
    if (this.take) {
      old.gain.gain.value = 0;
      this.retired.push(old);
    } else release(old);
    this.emit('switch', { deviceId: this.deviceId, takeMs: position >= 0 && this.take ? (position / this.sampleRate) * 1000 : null });
  }

  /** Releases what device switches replaced during the take that just ended. */
  private releaseRetired(): void {
    for (const r of this.retired.splice(0)) release(r);
  }

  /**
   * Starts a take: frames of this microphone's rate and type. Only one take records at a time
   * (`bad-argument` otherwise). Resumes a suspended context (call it from a user gesture).
   */
  record(options: Omit<TakeOptions, 'sampleRate' | 'frameMs'> = {}): Take {
    this.assertAlive();
    if (this.take) throw new TalStreamError('bad-argument', 'a take is already recording: stop it first');
    if (this.listener) throw new TalStreamError('bad-argument', 'a conversation is listening through this microphone: stop it first');
    const capture = this.capture;
    const take: Take = new Take(
      { audioType: this.options.audioType, ...options, sampleRate: capture.sampleRate, frameMs: (capture.chunkSamples / capture.sampleRate) * 1000 },
      {
        stop: async () => {
          await started;
          await capture.stop();
        },
        release: () => {
          if (this.take === take) this.take = null;
          this.releaseRetired();
          if (capture.onChunk === onChunk) capture.onChunk = null;
          // After an abort the worklet may still be recording: tell it to stop (no one waits).
          if (take.status === 'ended') void capture.stop();
        },
      },
    );
    const onChunk = (samples: Float32Array) => take.write(samples);
    this.take = take;
    capture.onChunk = onChunk;
    if (this.context.state === 'suspended') void this.context.resume().catch(() => {});
    const started = capture.start();
    return take;
  }

  /**
   * Hands the capture to a conversation (`client.converse()` does this): audio flows continuously
   * to it, and takes are refused, until the returned input is destroyed.
   */
  listen(): Listening {
    this.assertAlive();
    if (this.take || this.listener) throw new TalStreamError('bad-argument', 'this microphone is busy (a take or a conversation)');
    const l: Listening = new Listening(this.capture, () => {
      if (this.listener === l) this.listener = null;
    });
    this.listener = l;
    return l;
  }

  private watchTrack(stream: MediaStream): void {
    for (const t of stream.getAudioTracks()) t.addEventListener('ended', this.onTrackEnded);
  }

  private unwatchTrack(stream: MediaStream): void {
    for (const t of stream.getAudioTracks()) t.removeEventListener('ended', this.onTrackEnded);
  }

  private async handleTrackEnded(): Promise<void> {
    if (this.destroyed) return;
    const lost = this.deviceId;
    this.emit('ended', { deviceId: lost });
    await this.fallBack(lost);
  }

  private async handleDeviceChange(): Promise<void> {
    if (this.destroyed) return;
    let devices: MediaDeviceInfo[];
    try {
      devices = await this.devices();
    } catch {
      return;
    }
    if (this.destroyed) return;
    this.emit('devicechange', { devices });
    const current = this.deviceId;
    const live = this.stream.getAudioTracks().some((t) => t.readyState === 'live');
    if (current && devices.length > 0 && devices.every((d) => d.deviceId !== current)) await this.fallBack(current);
    else if (!live) await this.fallBack(current);
  }

  /** Opens the default device in place of `lost` (once per loss), or reports `no-device`. */
  private async fallBack(lost: string): Promise<void> {
    // Already replaced (the 'ended' and 'devicechange' of one unplug both land here)?
    if (this.destroyed || this.stream.getAudioTracks().some((t) => t.readyState === 'live' && t.getSettings().deviceId !== lost)) return;
    try {
      await this.setDevice(undefined);
      this.emit('fallback', { lostDeviceId: lost, deviceId: this.deviceId });
    } catch (e) {
      this.emit('error', microphoneError(e));
    }
  }

  private assertAlive(): void {
    if (this.destroyed) throw new TalStreamError('destroyed', 'this Microphone was destroyed');
  }

  /** Aborts a recording take, stops the tracks, disconnects the nodes. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.take?.abort(new TalStreamError('aborted', 'the microphone was destroyed'));
    this.listener?.destroy();
    this.destroyed = true;
    this.media.removeEventListener?.('devicechange', this.onDeviceChange);
    this.unwatchTrack(this.stream);
    release({ source: this.source, gain: this.gain, stream: this.stream });
    this.releaseRetired();
    this.capture.destroy();
    this.removeAllListeners();
  }
}
