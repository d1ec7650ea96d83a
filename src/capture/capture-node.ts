/**
 * The main-thread side of the 'talstream-capture' AudioWorkletProcessor: creates the node, sends
 * commands and waits for their acknowledgements, hands chunks to one consumer and recycles their
 * buffers. Used by {@link Microphone} and by MediaStream sources.
 */
import { TalStreamError } from '../errors';
import { loadHandsFree, loadWorklet } from '../audio/worklet-loader';
import {
  CAPTURE_PROCESSOR,
  type CaptureCommand,
  type CaptureEvent,
  type CaptureProcessorOptions,
  type ChunkVerdict,
  type ListenSettings,
} from './capture-protocol';

/** Options of a {@link CaptureNode}. */
export interface CaptureNodeOptions {
  /** Rate of the captured audio, Hz (default 16000). The context keeps its own rate. */
  sampleRate?: number;
  /** Length of each chunk (and so of each TALAudio frame), ms (default 20). */
  frameMs?: number;
  /** Minimum time between `level` reports, ms (default 100: at most 10 a second). */
  levelIntervalMs?: number;
  /** Self-hosted copy of dist/talstream.worklet.js, for pages whose CSP forbids blob: and data:. */
  workletUrl?: string;
  /** How long to wait for the processor to acknowledge a command before giving up, ms (default 2000). */
  commandTimeoutMs?: number;
}

type Ack = Extract<CaptureEvent, { type: 'ack' }>;

/**
 * Receives each chunk; `samples` is only valid during the call (its buffer goes back to the pool).
 * `verdict`: while listening, the processor's speech verdict for the chunk.
 */
export type ChunkHandler = (samples: Float32Array, final: boolean, verdict?: ChunkVerdict) => void;

/** The input of the capture node that takes the echo reference (the player's output). */
export const REFERENCE_INPUT = 2;

export class CaptureNode {
  /** The AudioWorkletNode: connect sources to it. */
  readonly node: AudioWorkletNode;
  /** Rate of the chunks, Hz. */
  readonly sampleRate: number;
  /** Samples per chunk. */
  readonly chunkSamples: number;
  /** Called for each chunk while set. */
  onChunk: ChunkHandler | null = null;
  /** Called with each level report (linear RMS and peak of the input). */
  onLevel: ((rms: number, peak: number) => void) | null = null;

  private nextId = 1;
  private active = 0;
  /** Resolvers of commands awaiting their ack (null: no ack, timed out or destroyed). */
  private readonly pending = new Map<number, (ack: Ack | null) => void>();
  private readonly timeoutMs: number;
  private readonly workletUrl: string | undefined;
  private destroyed = false;

  private constructor(node: AudioWorkletNode, sampleRate: number, chunkSamples: number, timeoutMs: number, workletUrl: string | undefined) {
    this.node = node;
    this.sampleRate = sampleRate;
    this.chunkSamples = chunkSamples;
    this.timeoutMs = timeoutMs;
    this.workletUrl = workletUrl;
    node.port.onmessage = (e: MessageEvent<CaptureEvent>) => this.message(e.data);
  }

  /** Loads the worklet module (once per context) and creates the node, connected to the destination (silent). */
  static async create(context: BaseAudioContext, options: CaptureNodeOptions = {}): Promise<CaptureNode> {
    const sampleRate = options.sampleRate ?? 16000;
    const frameMs = options.frameMs ?? 20;
    const levelIntervalMs = options.levelIntervalMs ?? 100;
    if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384000) {
      throw new TalStreamError('bad-argument', `sampleRate must be an integer 1000..384000 Hz, got ${sampleRate}`);
    }
    const chunkSamples = Math.round((sampleRate * frameMs) / 1000);
    if (!(frameMs > 0) || chunkSamples < 1 || frameMs > 1000) {
      throw new TalStreamError('bad-argument', `frameMs must be in (0, 1000] and give at least one sample, got ${frameMs}`);
    }
    if (!(levelIntervalMs >= 20)) throw new TalStreamError('bad-argument', `levelIntervalMs must be >= 20, got ${levelIntervalMs}`);
    await loadWorklet(context, { workletUrl: options.workletUrl });
    const processorOptions: CaptureProcessorOptions = { targetRate: sampleRate, chunkSamples, levelIntervalMs, poolSize: 8 };
    let node: AudioWorkletNode;
    try {
      node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
        // Two microphone inputs: a new device connects to the idle one, and the processor moves
        // over when the new device's first audio arrives (see 'switch'), so a device change leaves
        // no gap. The third is the echo reference of a conversation (REFERENCE_INPUT).
        numberOfInputs: 3,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        // Mono in: the node downmixes a stereo device for us.
        channelCount: 1,
        channelCountMode: 'explicit',
        channelInterpretation: 'speakers',
        processorOptions,
      });
    } catch (cause) {
      throw new TalStreamError('audio-context', `Could not create the capture node: ${(cause as Error)?.message}`, { cause });
    }
    // Connected so the graph pulls it; it outputs silence.
    node.connect(context.destination);
    return new CaptureNode(node, sampleRate, chunkSamples, options.commandTimeoutMs ?? 2000, options.workletUrl);
  }

  /** Starts a take in the processor (resampler and partial chunk cleared). */
  async start(): Promise<boolean> {
    return (await this.command({ type: 'start' })) !== null;
  }

  /**
   * Ends the take: resolves once the last chunk (flagged `final`) has been handed to `onChunk`.
   * Resolves `false` when the processor did not answer in time (context suspended or closed).
   */
  async stop(): Promise<boolean> {
    return (await this.command({ type: 'stop' })) !== null;
  }

  /** Input (0 or 1) the processor takes audio from. */
  get activeInput(): number {
    return this.active;
  }

  /**
   * Moves the processor to `input` once that input has carried audio for `settleMs` (or after
   * `timeoutMs`): connect the new source to it first, disconnect the old one after this resolves.
   * Resolves with the take position of the switch in samples (-1 when not recording or unknown)
   * and whether the input carried audio (`live`: false when the wait timed out). Switching to the
   * active input itself waits for its first audio: see {@link CaptureNode.waitForInput}.
   */
  async switchInput(input: number, settleMs: number, timeoutMs = 1000): Promise<{ position: number; live: boolean }> {
    const ack = await this.command({ type: 'switch', input, settleMs, timeoutMs }, timeoutMs + this.timeoutMs);
    this.active = input;
    return { position: ack?.position ?? -1, live: ack?.live ?? false };
  }

  /**
   * Resolves true once the active input delivers its first non-zero sample to the processor, false
   * when none came within `timeoutMs` of audio-thread time (or the processor did not answer).
   */
  async waitForInput(timeoutMs: number): Promise<boolean> {
    return (await this.switchInput(this.active, 0, timeoutMs)).live;
  }

  /** Hands the partial chunk to `onChunk` now (not final); resolves once it has been. */
  async flush(): Promise<boolean> {
    return (await this.command({ type: 'flush' })) !== null;
  }

  /**
   * Listening on (`settings`) or off (null): chunks flow continuously with a verdict each, echo of
   * the reference input removed. Resolves once the processor applied it (false: it did not answer).
   * Listening first adds the hands-free module to the context (once).
   * @throws TalStreamError `worklet-load` when the hands-free module cannot be loaded
   */
  async listen(settings: ListenSettings | null): Promise<boolean> {
    if (settings) await loadHandsFree(this.node.context, { workletUrl: this.workletUrl });
    const ack = await this.command({ type: 'listen', on: settings !== null, settings });
    if (ack?.error) throw new TalStreamError('worklet-load', ack.error);
    return ack !== null;
  }

  /** Sends zeros in place of the input while `muted` (timing kept). */
  async setMuted(muted: boolean): Promise<boolean> {
    return (await this.command({ type: 'mute', muted })) !== null;
  }

  private command(
    cmd:
      | { type: 'start' }
      | { type: 'stop' }
      | { type: 'flush' }
      | { type: 'mute'; muted: boolean }
      | { type: 'listen'; on: boolean; settings: ListenSettings | null }
      | { type: 'switch'; input: number; settleMs: number; timeoutMs: number },
    timeoutMs = this.timeoutMs,
  ): Promise<Ack | null> {
    if (this.destroyed) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise<Ack | null>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      this.node.port.postMessage({ ...cmd, id } as CaptureCommand);
    });
  }

  private message(msg: CaptureEvent): void {
    if (this.destroyed) return;
    if (msg.type === 'chunk') {
      try {
        this.onChunk?.(msg.buffer.subarray(0, msg.length), msg.final, msg.verdict);
      } finally {
        // Back to the processor's pool: steady state allocates nothing on the audio thread.
        this.node.port.postMessage({ type: 'recycle', buffer: msg.buffer } as CaptureCommand, [msg.buffer.buffer]);
      }
    } else if (msg.type === 'level') {
      this.onLevel?.(msg.rms, msg.peak);
    } else if (msg.type === 'ack') {
      const done = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      done?.(msg);
    }
  }

  /** Stops the processor and disconnects the node. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const done of this.pending.values()) done(null);
    this.pending.clear();
    this.onChunk = null;
    this.onLevel = null;
    try {
      this.node.port.postMessage({ type: 'close' } as CaptureCommand);
    } catch {
      // A closed context's port may refuse: nothing left to stop.
    }
    this.node.port.onmessage = null;
    this.node.disconnect();
  }
}
