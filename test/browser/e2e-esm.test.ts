// End to end in real Chromium, from ESM in a page: the built ES module (dist/talstream.mjs, as a
// site would import it) takes the test microphone (engine-support.ts) to the reference server and plays the
// answer, with a tap on the output; and an ask with a WAV Blob whose three tones must come out of
// the speakers in order.
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { realClick } from './real-click';
import { analyseTone } from '../../src/server/tone-analysis';
import { engine, testMic } from './engine-support';
import { isMicTone } from '../support/test-mics.mjs';
import { audibleSpan } from '../support/audible-span';
import type * as TalStreamModule from '../../src/index';
import { until } from './reliability-helpers';
import { audioSleep } from './capture-helpers';

const ref = inject('refOrigin');
let createClient: typeof TalStreamModule.createClient;
let writeWav: typeof TalStreamModule.writeWav;
beforeAll(async () => {
  // npm test builds dist/ first; the module is fetched cross-origin like any CDN import.
  const mod = (await import(/* @vite-ignore */ `${inject('staticOrigin')}/dist/talstream.mjs`)) as typeof TalStreamModule;
  ({ createClient, writeWav } = mod);
});

/**
 * Records whatever reaches `node` (an AudioWorklet that copies its input in 4096-sample blocks,
 * each stamped with the audio time at its end). `caughtUp()` waits until the blocks posted cover
 * the audio clock as it was at the call: everything played by then is in `take()`.
 */
async function tapOutput(ctx: AudioContext, node: AudioNode): Promise<{ take(): Float32Array; caughtUp(): Promise<void>; stop(): void }> {
  const code = `
    class E2eTap extends AudioWorkletProcessor {
      constructor() { super(); this.buf = new Float32Array(4096); this.n = 0; }
      process(inputs) {
        const ch = inputs[0] && inputs[0][0];
        if (ch) for (let i = 0; i < ch.length; i++) {
          this.buf[this.n++] = ch[i];
          if (this.n === this.buf.length) { this.port.postMessage({ t: currentTime + 128 / sampleRate, data: this.buf }, [this.buf.buffer]); this.buf = new Float32Array(4096); this.n = 0; }
        }
        return true;
      }
    }
    registerProcessor('e2e-tap', E2eTap);`;
  const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  const tap = new AudioWorkletNode(ctx, 'e2e-tap', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
  const blocks: Float32Array[] = [];
  let coveredTo = -1;
  tap.port.onmessage = (e) => {
    const { t, data } = e.data as { t: number; data: Float32Array };
    blocks.push(data);
    coveredTo = t;
  };
  const mute = ctx.createGain();
  mute.gain.value = 0;
  node.connect(tap);
  tap.connect(mute).connect(ctx.destination); // pulled by the graph, heard by no one
  return {
    take() {
      const out = new Float32Array(blocks.reduce((n, b) => n + b.length, 0));
      blocks.reduce((at, b) => (out.set(b, at), at + b.length), 0);
      return out;
    },
    async caughtUp() {
      const t = ctx.currentTime;
      await until(() => coveredTo >= t, 5000, 'the tap to reach the audio clock'); // a guard against a hang
    },
    stop() {
      node.disconnect(tap);
      tap.disconnect();
      tap.port.onmessage = null;
    },
  };
}

/** A button in the test page whose click (a real one, through the driver) runs `fn`: a user gesture. */
async function clickTo<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const button = document.createElement('button');
  button.textContent = label;
  document.body.append(button);
  const result = new Promise<T>((resolve, reject) => button.addEventListener('click', () => fn().then(resolve, reject), { once: true }));
  await realClick(button);
  button.remove();
  return result;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A client of the reference server (burst pacing) on a fresh AudioContext, playing into a gain node
 * that is tapped on its way to the speakers; all three are undone after the test.
 */
async function tappedClient() {
  const ctx = new AudioContext();
  cleanups.push(() => ctx.close());
  const out = ctx.createGain();
  out.connect(ctx.destination);
  const client = createClient({ url: `${ref}/ask?pace=burst`, audioContext: ctx, destination: out });
  cleanups.push(() => client.destroy());
  const tap = await tapOutput(ctx, out);
  cleanups.push(() => tap.stop());
  return { ctx, client, tap };
}

describe('e2e from the ESM build: microphone -> reference server -> speakers', () => {
  it(`the server hears the test mic (${testMic.hz} Hz, as long as we held), the answer plays through to the end`, async () => {
    const { ctx, client, tap } = await tappedClient();

    const mic = await clickTo('talk', async () => {
      await client.unlock();
      return client.microphone({ echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    });
    const take = mic.record();
    const events: string[] = [];
    const texts: string[] = [];
    let question = '';
    const reply = client.ask(take);
    reply.on('question', (e) => {
      events.push('question');
      question = e.text;
    });
    reply.on('text', (e) => texts.push(e.text));
    reply.on('audio-start', () => events.push('audio-start'));
    reply.on('end', () => events.push('end'));
    // The hold is timed on the audio clock, which the take counts in (measured 0-40 ms apart in
    // all three engines; 150 ms allowed, as in capture-microphone.test.ts). WebKit may deliver the
    // mic in bursts (engine note 5): once in four runs on an idle machine its take fell 560 ms
    // short of the hold (what was in flight at stop()), so there the take may be 600 ms short.
    const held0 = ctx.currentTime;
    await audioSleep(ctx, 1500);
    const takeResult = await take.stop();
    const heldMs = (ctx.currentTime - held0) * 1000;
    const summary = await reply.done;

    // What the server heard: the fake mic's tone, and as much audio as the take recorded.
    const m = /^heard (\d+\.\d) s of 16 kHz audio, (\d+) Hz peak$/.exec(question);
    expect(m, question).not.toBeNull();
    expect(isMicTone(testMic, Number(m![2]), 2), `${m![2]} Hz`).toBe(true);
    expect(Math.abs(Number(m![1]) * 1000 - takeResult.durationMs)).toBeLessThanOrEqual(50);
    expect(takeResult.durationMs).toBeLessThan(heldMs + 150);
    expect(takeResult.durationMs).toBeGreaterThan(heldMs - (engine === 'webkit' ? 600 : 150));
    expect(events).toEqual(['question', 'audio-start', 'end']);
    expect(texts.join('')).toBe(`Here is what you said: ${m![1]} seconds of sound, played back to you at 24 kilohertz.`);
    expect(summary.question).toBe(question);
    expect(summary.interrupted).toBe(false);
    expect(summary.firstAudioMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(summary.playedMs - takeResult.durationMs)).toBeLessThan(25);

    // What reached the speakers: the whole echo, at the mic's pitch.
    await tap.caughtUp();
    const heard = tap.take();
    const span = audibleSpan(heard);
    expect(span.start).toBeGreaterThanOrEqual(0);
    const playedMs = ((span.end - span.start + 1) / ctx.sampleRate) * 1000;
    expect(Math.abs(playedMs - takeResult.durationMs)).toBeLessThan(60);
    const body = heard.subarray(span.start + Math.round(ctx.sampleRate * 0.05), span.end - Math.round(ctx.sampleRate * 0.05));
    const playedHz = analyseTone(body, ctx.sampleRate).peakHz!;
    expect(isMicTone(testMic, playedHz, 2), `${playedHz} Hz`).toBe(true);
  });

  it('ask with a WAV Blob: three tones come out of the speakers in order, without gaps', async () => {
    const { ctx, client, tap } = await tappedClient();
    await clickTo('unlock', () => client.unlock());

    const rate = 16000;
    const tones = [300, 600, 900];
    const seg = 0.4 * rate;
    const pcm = new Float32Array(seg * tones.length);
    tones.forEach((hz, k) => {
      for (let i = 0; i < seg; i++) pcm[k * seg + i] = 0.4 * Math.sin((2 * Math.PI * hz * (k * seg + i)) / rate);
    });
    const blob = new Blob([writeWav([pcm], rate) as BlobPart], { type: 'audio/wav' });
    const reply = client.ask(blob, { question: 'three tones' });
    const summary = await reply.done;
    expect(summary.question).toMatch(/^three tones \(heard 1\.2 s of 16 kHz audio, \d+ Hz peak\)$/);
    expect(summary.underruns).toBe(0);

    await tap.caughtUp();
    const heard = tap.take();
    const span = audibleSpan(heard);
    const total = span.end - span.start + 1;
    expect(Math.abs((total / ctx.sampleRate) * 1000 - 1200)).toBeLessThan(40);
    const third = Math.round(total / 3);
    const margin = Math.round(ctx.sampleRate * 0.05);
    const found = tones.map((_, k) =>
      Math.round(analyseTone(heard.subarray(span.start + k * third + margin, span.start + (k + 1) * third - margin), ctx.sampleRate).peakHz!),
    );
    found.forEach((hz, k) => expect(Math.abs(hz - tones[k]!)).toBeLessThanOrEqual(3));
    // No gap: every 10 ms window inside the span carries sound.
    const win = Math.round(ctx.sampleRate * 0.01);
    for (let i = span.start; i + win <= span.end; i += win) {
      let peak = 0;
      for (let j = i; j < i + win; j++) peak = Math.max(peak, Math.abs(heard[j]!));
      expect(peak, `silence at ${(((i - span.start) / ctx.sampleRate) * 1000).toFixed(0)} ms`).toBeGreaterThan(0.1);
    }
  });
});
