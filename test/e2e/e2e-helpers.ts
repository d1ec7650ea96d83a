// Shared by the end-to-end tests: each drives whole pages from Node in the engine its project was
// given (`inject('engine')`), through test/support/engines.mjs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { launchEngine, type DrivenBrowser, type DrivenPage, type EngineName } from '../support/engines.mjs';
import { TEST_MICS } from '../support/test-mics.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The engine of this e2e project (test/vitest.config.ts). */
    engine: EngineName;
  }
}

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const engine: EngineName = inject('engine');
/** The microphone of this engine's pages (browser processing off). */
export const testMic = TEST_MICS[engine];

/** Launches this project's engine; fails when dist/ (which the pages load) is missing. */
export async function launch(): Promise<DrivenBrowser> {
  if (!existsSync(path.join(root, 'dist/talstream.iife.js'))) throw new Error('dist/talstream.iife.js is missing: run `npm run build` first');
  return launchEngine(engine);
}

/** The text of the element `sel`. */
export const text = (page: DrivenPage, sel: string): Promise<string> =>
  page.evaluate((s) => document.querySelector(s)?.textContent ?? '', sel);

/** Waits until the demo's status line matches `re`. */
export const waitForStatus = (page: DrivenPage, re: RegExp, timeout = 30_000) =>
  page.waitFor((src) => new RegExp(src).test(document.getElementById('status')?.textContent ?? ''), re.source, timeout);

/**
 * Once the demo page built its client (on the first gesture), records what reaches its output
 * node: `window.__tap = { blocks, rate }`, one Float32Array per render quantum, muted after the tap.
 */
export async function installDemoTap(page: DrivenPage): Promise<void> {
  await page.waitFor(() => Boolean((window as any).talstreamDemo?.output));
  await page.evaluate(async () => {
    const { context, output } = (window as any).talstreamDemo as { context: AudioContext; output: AudioNode };
    const code = `class DemoTap extends AudioWorkletProcessor {
      process(inputs) { const ch = inputs[0] && inputs[0][0]; if (ch) this.port.postMessage(ch.slice()); return true; }
    }
    registerProcessor('demo-tap', DemoTap);`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    await context.audioWorklet.addModule(url);
    const tap = new AudioWorkletNode(context, 'demo-tap', { channelCount: 1, channelCountMode: 'explicit' });
    const blocks: Float32Array[] = [];
    tap.port.onmessage = (e) => blocks.push(e.data);
    const mute = context.createGain();
    mute.gain.value = 0;
    output.connect(tap);
    tap.connect(mute).connect(context.destination);
    (window as any).__tap = { blocks, rate: context.sampleRate };
  });
}

/** The tapped output so far (16-bit rounded, taken out of the page), and its sample rate. */
export async function tapped(page: DrivenPage): Promise<{ samples: Float32Array; rate: number }> {
  // Quanta rendered before the reply's end reach the tap's port a little later.
  await new Promise((r) => setTimeout(r, 100));
  const { data, rate } = await page.evaluate(() => {
    const t = (window as any).__tap as { blocks: Float32Array[]; rate: number };
    const all: number[] = [];
    for (const b of t.blocks) for (let i = 0; i < b.length; i++) all.push(Math.round(b[i]! * 32767));
    t.blocks.length = 0;
    return { data: all, rate: t.rate };
  });
  return { samples: Float32Array.from(data, (v) => v / 32767), rate };
}
