// Registers 'talstream-playback': runs the pure PlayoutCore (src/playout) on the audio clock.
// Frames come from a SharedArrayBuffer ring (cross-origin isolated pages; drained at the start of
// every quantum and before every command) or as transferred Float32Arrays; only acked commands
// and failures are answered. Events (audio-start, underrun, resume, ended) are posted when they
// happen; stats at most every statsIntervalMs (default 100 ms). process() allocates nothing in
// steady state: the core renders in place, events are polled into one reusable record, an empty
// ring is one Atomics.load (a frame read from it is copied out: one allocation per frame, as a
// message would be).
import { FrameRing, RING_BEGIN, RING_END, RING_FRAME, type RingRecordType, type RingSink } from '../src/playout/frame-ring';
import { PlayoutCore } from '../src/playout/playout-core';
import { newEventRecord } from '../src/playout/playout-events';
import {
  PLAYBACK_PROCESSOR,
  type PlaybackCommand,
  type PlaybackMessage,
  type PlaybackProcessorOptions,
} from '../src/playout/playback-protocol';

class PlaybackProcessor extends AudioWorkletProcessor {
  private readonly core: PlayoutCore;
  private readonly ev = newEventRecord();
  private readonly statsEveryMs: number;
  private lastStatsMs = -Infinity;
  private lastState = '';
  private alive = true;
  private readonly persist: boolean;
  // Output tap (onPcm): blocks from a pool the main thread refills; none allocated here.
  private pcmOn = false;
  private pcmBlock = 0;
  private readonly pcmPool: Float32Array[] = [];
  private pcmBuf: Float32Array | null = null;
  private pcmFill = 0;
  private pcmStartMs = 0;
  private pcmDropped = 0;
  private readonly ring: FrameRing | null;
  private readonly sink: RingSink;
  /** seq of the last command handled: ring records written after a later message wait for it. */
  private seenSeq = 0;

  constructor(options: { processorOptions?: PlaybackProcessorOptions }) {
    super(options);
    const o = options.processorOptions ?? { channels: 1 };
    this.core = new PlayoutCore({ sampleRate, channels: o.channels, jitter: o.jitter, volume: o.volume, fadeMs: o.fadeMs, memory: o.memory });
    this.persist = o.persist === true;
    this.statsEveryMs = o.statsIntervalMs ?? 100;
    this.ring = o.ring ? new FrameRing(o.ring) : null;
    this.sink = { record: (type, replyId, order, rate, channels) => this.stream(type, replyId, order, rate, channels) };
    this.port.onmessage = (e: MessageEvent<PlaybackCommand>) => this.command(e.data);
  }

  /**
   * The streaming path (a ring record, or a quiet begin/frame/end message): applied without an
   * answer unless it fails.
   */
  private stream(type: RingRecordType, replyId: number, order: number, rate: number, channels: Float32Array[] | null): void {
    try {
      if (type === RING_BEGIN) this.core.begin(replyId);
      else if (type === RING_END) this.core.end(replyId);
      else {
        const result = this.core.push({ channels: channels!, sampleRate: rate, order }, replyId, currentTime * 1000);
        if (result === 'overflow') this.post({ type: 'refused', replyId, order, result });
      }
    } catch (err) {
      this.post({ type: 'refused', replyId, order, error: describe(err) });
    }
  }

  private post(msg: PlaybackMessage): void {
    this.port.postMessage(msg);
  }

  private command(cmd: PlaybackCommand): void {
    // What the main thread put in the ring before posting this command comes first. (seq 0: the
    // unordered recycling of tap buffers.)
    if (cmd.seq > 0) {
      if (this.ring) this.ring.read(this.sink, cmd.seq - 1);
      this.seenSeq = cmd.seq;
    }
    if ((cmd.type === 'begin' || cmd.type === 'frame' || cmd.type === 'end') && cmd.quiet) {
      if (cmd.type === 'frame') this.stream(RING_FRAME, cmd.replyId, cmd.order, cmd.sampleRate, cmd.channels);
      else this.stream(cmd.type === 'begin' ? RING_BEGIN : RING_END, cmd.replyId, 0, 0, null);
      return;
    }
    try {
      switch (cmd.type) {
        case 'begin':
          this.core.begin(cmd.replyId);
          this.post({ type: 'ack', seq: cmd.seq });
          break;
        case 'frame': {
          const result = this.core.push(cmd, cmd.replyId, currentTime * 1000);
          this.post({ type: 'ack', seq: cmd.seq, result });
          break;
        }
        case 'end':
          this.core.end(cmd.replyId);
          this.post({ type: 'ack', seq: cmd.seq });
          break;
        case 'interrupt': {
          const position = this.core.interrupt();
          this.post({ type: 'ack', seq: cmd.seq, position });
          break;
        }
        case 'volume':
          this.core.volume = cmd.value;
          this.post({ type: 'ack', seq: cmd.seq });
          break;
        case 'stats':
          this.post({ type: 'ack', seq: cmd.seq, stats: this.core.stats() });
          break;
        case 'pcm':
          this.pcmOn = cmd.on;
          this.pcmBlock = cmd.blockSize;
          for (const b of cmd.pool) if (b.length === cmd.blockSize) this.pcmPool.push(b);
          this.pcmBuf = null;
          this.pcmFill = 0;
          this.post({ type: 'ack', seq: cmd.seq });
          break;
        case 'recycle':
          if (cmd.buffer.length === this.pcmBlock) this.pcmPool.push(cmd.buffer);
          break;
        case 'destroy':
          this.alive = false;
          this.post({ type: 'ack', seq: cmd.seq });
          this.port.onmessage = null;
          break;
      }
    } catch (err) {
      this.post({ type: 'ack', seq: cmd.seq, error: describe(err) });
    }
  }

  /** Copies one quantum into the current PCM block and posts (transfers) full blocks. */
  private tapPcm(x: Float32Array, nowMs: number): void {
    let i = 0;
    while (i < x.length) {
      if (!this.pcmBuf) {
        const next = this.pcmPool.pop();
        if (!next) {
          // The main thread has not given blocks back yet: drop rather than allocate.
          this.pcmDropped += x.length - i;
          return;
        }
        this.pcmBuf = next;
        this.pcmFill = 0;
        this.pcmStartMs = nowMs + (i * 1000) / sampleRate;
      }
      const n = Math.min(x.length - i, this.pcmBuf.length - this.pcmFill);
      const buf = this.pcmBuf;
      // A plain loop: subarray() would allocate a view per quantum.
      for (let k = 0; k < n; k++) buf[this.pcmFill + k] = x[i + k]!;
      this.pcmFill += n;
      i += n;
      if (this.pcmFill === this.pcmBuf.length) {
        const buffer = this.pcmBuf;
        this.pcmBuf = null;
        this.port.postMessage({ type: 'pcm', buffer, timeMs: this.pcmStartMs, dropped: this.pcmDropped } satisfies PlaybackMessage, [buffer.buffer]);
      }
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (!this.alive) return false;
    const out = outputs[0];
    if (!out || out.length === 0) return true;
    if (this.ring) this.ring.read(this.sink, this.seenSeq);
    const nowMs = currentTime * 1000;
    this.core.render(out, nowMs);
    if (this.pcmOn) this.tapPcm(out[0]!, nowMs);
    const ev = this.ev;
    while (this.core.nextEvent(ev)) {
      const timeMs = nowMs + (ev.atSample * 1000) / sampleRate;
      if (ev.type === 'ended') {
        this.post({
          type: 'event',
          event: 'ended',
          replyId: ev.replyId,
          timeMs,
          position: { order: ev.order, sampleOffset: ev.sampleOffset, playedMs: ev.playedMs },
          underruns: ev.underruns,
          interrupted: ev.interrupted,
          minRate: ev.minRate,
          maxRate: ev.maxRate,
        });
      } else {
        this.post({ type: 'event', event: ev.type, replyId: ev.replyId, timeMs });
      }
    }
    // What was learned, once per reply, for the Player's jitter.persist.
    if (this.persist && this.core.memoryPending) {
      const memory = this.core.takeMemory();
      if (memory) this.post({ type: 'memory', memory });
    }
    // Stats: on a state change, else at most every statsEveryMs while something is open.
    const state = this.core.openReplies > 0 ? 'busy' : 'idle';
    if (state !== this.lastState || (state === 'busy' && nowMs - this.lastStatsMs >= this.statsEveryMs)) {
      this.lastState = state;
      this.lastStatsMs = nowMs;
      this.post({ type: 'stats', stats: this.core.stats() });
    }
    return true;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
}

registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
