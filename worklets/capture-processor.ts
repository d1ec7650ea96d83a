// Registers 'talstream-capture': microphone (or any node) at the context's own rate -> Resampler ->
// fixed-size chunks at the target rate, posted as transferred Float32Arrays.
//
// Runs at the context's native rate on purpose: Firefox refuses a microphone in a context whose
// rate differs from the device's, so talstream never creates a 16 kHz context and resamples here.
// Steady state allocates nothing: the resampler writes into a scratch buffer and chunks come from a
// pool the main thread refills by sending each buffer back ('recycle').
import { Resampler } from '../src/dsp/resampler';
import { CAPTURE_PROCESSOR, type CaptureCommand, type CaptureEvent, type CaptureProcessorOptions } from '../src/capture/capture-protocol';
import type { EchoListener } from './echo-listener';
import { echoPlugin } from './echo-plugin';

/** The input that carries the echo reference (the player's output) while listening. */
const REFERENCE = 2;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly resampler: Resampler;
  private readonly chunkSamples: number;
  private scratch: Float32Array;
  private zeros: Float32Array;
  private readonly pool: Float32Array[] = [];
  private chunk: Float32Array | null = null;
  private fill = 0;
  private recording = false;
  private muted = false;
  private closed = false;
  /** The input (0 or 1) audio is taken from; the other one receives the next device. */
  private active = 0;
  private switchId = 0;
  private switchTo = -1;
  private switchBlocksLeft = 0;
  private switchLive = 0;
  private switchSettle = 0;
  /** Input samples of the current take so far (for a switch's position). */
  private inputCount = 0;
  // Level meter: sums over the current interval of the raw input.
  private readonly levelEvery: number;
  private levelCount = 0;
  private levelSumSq = 0;
  private levelPeak = 0;
  /** Listening (a conversation): the mic without the echo of the reference, a verdict per chunk. */
  private listener: EchoListener | null = null;

  constructor(options: { processorOptions?: CaptureProcessorOptions }) {
    super(options);
    const o = options.processorOptions!;
    this.resampler = new Resampler(sampleRate, o.targetRate);
    this.chunkSamples = o.chunkSamples;
    this.scratch = new Float32Array(this.resampler.maxOutput(128));
    this.zeros = new Float32Array(128);
    for (let i = 0; i < o.poolSize; i++) this.pool.push(new Float32Array(o.chunkSamples));
    this.levelEvery = Math.max(1, Math.round((sampleRate * o.levelIntervalMs) / 1000));
    this.port.onmessage = (e: MessageEvent<CaptureCommand>) => this.command(e.data);
  }

  private post(msg: CaptureEvent, transfer?: Transferable[]): void {
    if (transfer) this.port.postMessage(msg, transfer);
    else this.port.postMessage(msg);
  }

  private command(cmd: CaptureCommand): void {
    switch (cmd.type) {
      case 'recycle':
        if (cmd.buffer.length === this.chunkSamples) this.pool.push(cmd.buffer);
        return;
      case 'start':
        this.resampler.reset();
        this.fill = 0;
        this.inputCount = 0;
        this.recording = true;
        this.post({ type: 'ack', id: cmd.id });
        return;
      case 'flush':
        if (this.recording) this.postChunk(false);
        this.post({ type: 'ack', id: cmd.id });
        return;
      case 'stop':
        if (this.recording) {
          const n = this.resampler.flushInto(this.scratch);
          this.append(this.scratch, n);
          this.postChunk(true);
          this.recording = false;
        }
        this.post({ type: 'ack', id: cmd.id });
        return;
      case 'switch':
        if (this.switchTo >= 0) this.post({ type: 'ack', id: this.switchId, position: -1, live: false }); // superseded
        this.switchId = cmd.id;
        this.switchTo = cmd.input;
        this.switchLive = 0;
        this.switchSettle = Math.max(1, Math.round((sampleRate * cmd.settleMs) / 1000));
        this.switchBlocksLeft = Math.max(1, Math.ceil((sampleRate * cmd.timeoutMs) / 1000 / 128));
        return;
      case 'listen': {
        // Listening starts afresh (allocation happens here, on a command, never in process()).
        const echo = echoPlugin();
        if (cmd.on && !echo) {
          this.post({ type: 'ack', id: cmd.id, error: 'talstream.hands-free.js is not loaded in this context' });
          return;
        }
        const rate = this.resampler.toRate;
        this.listener =
          cmd.on && cmd.settings
            ? new echo!.EchoListener(new Resampler(sampleRate, rate), new Resampler(sampleRate, rate), this.chunkSamples, cmd.settings)
            : null;
        this.fill = 0;
        this.recording = false;
        this.post({ type: 'ack', id: cmd.id });
        return;
      }
      case 'mute':
        this.muted = cmd.muted;
        this.post({ type: 'ack', id: cmd.id });
        return;
      case 'close':
        this.closed = true;
        this.recording = false;
        this.port.onmessage = null;
        return;
    }
  }

  /** Posts the partial chunk (possibly empty when `final`), transferring its buffer. */
  private postChunk(final: boolean): void {
    if (this.fill === 0 && !final) return;
    const buf = this.chunk ?? this.take();
    const msg: CaptureEvent = { type: 'chunk', buffer: buf, length: this.fill, final };
    if (this.listener) msg.verdict = this.listener.verdict;
    this.post(msg, [buf.buffer]);
    this.chunk = null;
    this.fill = 0;
  }

  private take(): Float32Array {
    // Allocates only when the main thread holds every pooled buffer (it is not recycling).
    return this.pool.pop() ?? new Float32Array(this.chunkSamples);
  }

  /** Appends resampled samples to the current chunk, posting each chunk that fills up. */
  private append(src: Float32Array, n: number): void {
    let i = 0;
    while (i < n) {
      if (!this.chunk) this.chunk = this.take();
      const chunk = this.chunk;
      const k = Math.min(n - i, this.chunkSamples - this.fill);
      // A plain loop: `set(src.subarray(...))` would allocate a view per block.
      for (let j = 0, f = this.fill; j < k; j++) chunk[f + j] = src[i + j]!;
      this.fill += k;
      i += k;
      if (this.fill === this.chunkSamples) this.postChunk(false);
    }
  }

  private meter(input: Float32Array | undefined, frames: number): void {
    if (input) {
      let sum = this.levelSumSq;
      let peak = this.levelPeak;
      for (let i = 0; i < frames; i++) {
        const v = input[i]!;
        sum += v * v;
        const a = v < 0 ? -v : v;
        if (a > peak) peak = a;
      }
      this.levelSumSq = sum;
      this.levelPeak = peak;
    }
    this.levelCount += frames;
    if (this.levelCount >= this.levelEvery) {
      this.post({ type: 'level', rms: Math.sqrt(this.levelSumSq / this.levelCount), peak: this.levelPeak });
      this.levelCount = 0;
      this.levelSumSq = 0;
      this.levelPeak = 0;
    }
  }

  /**
   * Switches inputs once the new one has carried audio (a non-zero sample in every block) for the
   * settle time, or when the wait times out. A new source starts with silence and may underrun
   * once or twice while its device settles; switching at its first sample would put those holes in
   * the take while the old device still had good audio.
   */
  private checkSwitch(inputs: Float32Array[][]): void {
    const next = inputs[this.switchTo]?.[0];
    let live = false;
    if (next) {
      for (let i = 0; i < next.length; i++) {
        if (next[i] !== 0) {
          live = true;
          break;
        }
      }
    }
    this.switchLive = live ? this.switchLive + (next ? next.length : 0) : 0;
    const settled = this.switchLive >= this.switchSettle;
    if (settled || --this.switchBlocksLeft <= 0) {
      this.active = this.switchTo;
      this.switchTo = -1;
      // Where in the take the new input's audio begins (output samples, the resampler's delay compensated).
      const position = this.recording ? Math.round((this.inputCount * this.resampler.toRate) / sampleRate) : -1;
      this.post({ type: 'ack', id: this.switchId, position, live: settled });
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.closed) return false;
    // A disconnected input has no channels: count it as silence so a take keeps its timing
    // (e.g. while the microphone is being switched).
    if (this.switchTo >= 0) this.checkSwitch(inputs);
    const input = inputs[this.active]?.[0];
    const frames = input ? input.length : 128;
    this.meter(input, frames);
    if (this.listener) {
      if (this.zeros.length < frames) this.zeros = new Float32Array(frames);
      const silence = frames === this.zeros.length ? this.zeros : this.zeros.subarray(0, frames);
      const ref = inputs[REFERENCE]?.[0];
      const n = this.listener.process(this.muted || !input ? silence : input, ref && ref.length === frames ? ref : silence);
      this.append(this.listener.out, n);
      return true;
    }
    if (!this.recording) return true;
    this.inputCount += frames;
    let src = input;
    if (this.muted || !src) {
      if (this.zeros.length < frames) this.zeros = new Float32Array(frames);
      src = frames === this.zeros.length ? this.zeros : this.zeros.subarray(0, frames);
    }
    const need = this.resampler.maxOutput(frames);
    if (this.scratch.length < need) this.scratch = new Float32Array(need);
    const n = this.resampler.processInto(src, this.scratch);
    this.append(this.scratch, n);
    return true;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor as never);
