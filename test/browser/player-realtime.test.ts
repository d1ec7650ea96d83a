// One real-time test: a reply streamed to the Player in a running AudioContext (frames sent on
// timers, paced at real time) plays end to end, seen through the player's tap() MediaStream.
import { afterEach, describe, expect, it } from 'vitest';
import { Player } from '../../src/playout/player';

let ctx: AudioContext | undefined;
let player: Player | undefined;
afterEach(async () => {
  player?.destroy();
  player = undefined;
  await ctx?.close();
  ctx = undefined;
});

/** Records a MediaStream in the same context through a tiny worklet (every sample, not snapshots). */
async function record(context: AudioContext, stream: MediaStream) {
  const src = `registerProcessor('player-test-rec', class extends AudioWorkletProcessor {
    process(inputs) { const ch = inputs[0] && inputs[0][0]; if (ch) this.port.postMessage(ch.slice(0)); return true; }
  });`;
  await context.audioWorklet.addModule(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
  const node = new AudioWorkletNode(context, 'player-test-rec', { numberOfInputs: 1, numberOfOutputs: 0 });
  context.createMediaStreamSource(stream).connect(node);
  const blocks: Float32Array[] = [];
  node.port.onmessage = (e) => blocks.push(e.data as Float32Array);
  return blocks;
}

describe('Player in a real-time AudioContext', () => {
  it('plays a streamed 24 kHz reply end to end; the tap carries it; stats and ended arrive', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    player = await Player.create(ctx);
    const blocks = await record(ctx, player.tap());
    const stats: number[] = [];
    const t0 = performance.now();
    player.on('stats', (s) => stats.push(s.playedMs));
    const started = new Promise<void>((r) => player!.once('audio-start', () => r()));
    const id = player.startReply();
    const ended = player.whenEnded(id);
    const amp = 0.5;
    const frames = 40; // 800 ms of a 440 Hz sine, 20 ms frames
    for (let k = 0; k < frames; k++) {
      const f = new Float32Array(480);
      for (let i = 0; i < 480; i++) f[i] = amp * Math.sin((2 * Math.PI * 440 * (k * 480 + i)) / 24000);
      player.enqueue(id, { channels: [f], sampleRate: 24000, order: k + 1 });
      await new Promise((r) => setTimeout(r, 20));
    }
    player.endReply(id);
    await started;
    const end = await ended;
    expect(end.interrupted).toBe(false);
    expect(end.position).toEqual({ order: frames, sampleOffset: 480, playedMs: 800 });
    expect(end.playedMs).toBe(800);
    await new Promise((r) => setTimeout(r, 100));
    // The tap saw the tone: enough loud blocks for most of the 800 ms at the sine's RMS.
    const rate = ctx.sampleRate;
    let loud = 0;
    for (const b of blocks) {
      let s = 0;
      for (const v of b) s += v * v;
      if (Math.sqrt(s / b.length) > 0.3) loud += b.length;
    }
    expect(loud / rate).toBeGreaterThan(0.6);
    expect(loud / rate).toBeLessThan(0.85);
    expect(stats.length).toBeGreaterThan(3);
    // At most ~10 stats messages a second (plus the idle/busy edges).
    expect(stats.length).toBeLessThanOrEqual(Math.ceil(((performance.now() - t0) / 1000) * 10) + 3);
    expect(Math.max(...stats)).toBeGreaterThanOrEqual(700);
  });
});
