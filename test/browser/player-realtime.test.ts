// One real-time test: a reply streamed to the Player in a running AudioContext (frames sent on
// timers, paced at real time) plays end to end, seen through the player's tap() MediaStream.
import { afterEach, describe, expect, it } from 'vitest';
import { Player } from '../../src/playout/player';
import { concat, rms } from './capture-helpers';
import { PLAYOUT_MODES, sineFrame, soundMs, soundSpan, tapRecorder, until, upwardCrossings } from './reliability-helpers';
import { analyseTone } from '../../src/server/tone-analysis';
import { GAPS, engine } from './engine-support';

let ctx: AudioContext | undefined;
let player: Player | undefined;
afterEach(async () => {
  player?.destroy();
  player = undefined;
  await ctx?.close();
  ctx = undefined;
});

/** Records a MediaStream in the same context through a tiny worklet (every sample, not snapshots), with each block's context time. */
async function record(context: AudioContext, stream: MediaStream) {
  const src = `registerProcessor('player-test-rec', class extends AudioWorkletProcessor {
    process(inputs) {
      const ch = inputs[0] && inputs[0][0];
      this.port.postMessage({ t: currentTime, data: ch ? ch.slice(0) : new Float32Array(128) });
      return true;
    }
  });`;
  await context.audioWorklet.addModule(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
  const node = new AudioWorkletNode(context, 'player-test-rec', { numberOfInputs: 1, numberOfOutputs: 0 });
  context.createMediaStreamSource(stream).connect(node);
  const blocks: { t: number; data: Float32Array }[] = [];
  node.port.onmessage = (e) => blocks.push(e.data as { t: number; data: Float32Array });
  return blocks;
}

describe('Player in a real-time AudioContext', () => {
  for (const mode of PLAYOUT_MODES) it(`plays a streamed 24 kHz reply end to end; the tap carries it; stats and ended arrive; ${mode.name}`, async () => {
    ctx = new AudioContext();
    await ctx.resume();
    const out = await tapRecorder(ctx);
    player = await Player.create(ctx, { destination: out.node, jitter: mode.jitter });
    const blocks = await record(ctx, player.tap());
    const stats: number[] = [];
    const c0 = ctx.currentTime;
    player.on('stats', (s) => stats.push(s.playedMs));
    const started = new Promise<void>((r) => player!.once('audio-start', () => r()));
    const id = player.startReply();
    const ended = player.whenEnded(id);
    const amp = 0.5;
    const frames = 40; // 800 ms of a 440 Hz sine, 20 ms frames
    for (let k = 0; k < frames; k++) {
      player.enqueue(id, { channels: [sineFrame(k, 480, 24000, amp)], sampleRate: 24000, order: k + 1 });
      await new Promise((r) => setTimeout(r, 20));
    }
    player.endReply(id);
    await started;
    const end = await ended;
    expect(end.interrupted).toBe(false);
    expect(end.position).toEqual({ order: frames, sampleOffset: 480, playedMs: 800 });
    expect(end.playedMs).toBe(800);
    // The recorder hears the tap through a MediaStream, which comes back later than the player's
    // output (Chromium ~20 ms; WebKit 35 ms and growing, engine note 7): record 300 ms past the end.
    const c1 = ctx.currentTime;
    await until(() => (blocks.at(-1)?.t ?? -1) >= c1 + 0.3, 3000, 'the recorder past the end');
    // The output carried the reply: 800 ms of sound (samples above 1e-3: an underrun on a loaded
    // host would add silence, not sound; the 5 ms edge fades keep all but their first and last
    // few samples above it), at the sine's level (RMS 0.354) in the quanta that hold it whole.
    const direct = out.samples();
    expect(soundMs(direct, ctx.sampleRate)).toBeGreaterThan(800 / mode.fast - 3);
    expect(soundMs(direct, ctx.sampleRate)).toBeLessThan(800 / mode.slow + 3);
    // At the sine's pitch, stretched or not (resampled to 0.9x it would be 396 Hz).
    const span = soundSpan(direct);
    const body = direct.subarray(span.first + Math.round(0.01 * ctx.sampleRate), span.last - Math.round(0.01 * ctx.sampleRate));
    expect(Math.abs(analyseTone(body, ctx.sampleRate).peakHz! - 440)).toBeLessThanOrEqual(2);
    // At rate 1 each of the sine's 352 periods (800 ms at 440 Hz) played once: counted as upward
    // zero crossings, give or take one at each fade edge (start, end, and two per underrun that a
    // loaded host may cause); measured: 351-352. (Time-scaled, how many depends on when the frames
    // came, which timers do not fix: player-time-scale.test.ts feeds a reply slower than real time
    // for that.) No click, either way: no step above the sine's own largest (0.5 x 2 pi 440 / rate)
    // plus 0.01 (-40 dBFS), splices and fades included.
    if (mode.slow === 1) expect(Math.abs(upwardCrossings(direct.subarray(span.first, span.last + 1)) - 352)).toBeLessThanOrEqual(2 + 2 * end.underruns);
    expect(span.maxStep).toBeLessThanOrEqual((amp * 2 * Math.PI * 440) / ctx.sampleRate + 0.01);
    const full = out.blocks.map((b) => rms(b.data, 0, b.data.length)).filter((r) => r > 0.3);
    expect(Math.abs(full.sort((a, b) => a - b)[full.length >> 1]! - amp / Math.SQRT2)).toBeLessThan(0.01);
    // The tap() stream carries the same: a MediaStream hop may lose a quantum or two of a loaded
    // host's audio (measured: 10 ms once in Chromium), never add sound. WebKit's same-context
    // MediaStream loop stretches and drops audio itself (engine note 7, GAPS.steadyStreamLoop;
    // measured in CI: 770 and 810 ms heard of 800): there the tap is only checked to carry the
    // reply's sound, most of it.
    const tapped = soundMs(concat(blocks.map((b) => b.data)), ctx.sampleRate);
    if (GAPS.steadyStreamLoop.engines.includes(engine)) {
      expect(tapped).toBeGreaterThan(600);
      expect(tapped).toBeLessThan(1000);
    } else {
      expect(tapped).toBeGreaterThan(800 / mode.fast - 12);
      expect(tapped).toBeLessThan(800 / mode.slow + 3);
    }
    expect(stats.length).toBeGreaterThan(3);
    // At most 10 stats messages a second of audio (plus the idle/busy edges), counted on the
    // audio clock: a loaded WebKit delivers messages in bursts (engine note 5).
    expect(stats.length).toBeLessThanOrEqual(Math.ceil((c1 - c0) * 10) + 3);
    expect(Math.max(...stats)).toBeGreaterThanOrEqual(700);
  });
});
