// A tap on the demo page's output, for the Playwright-driven tests of demo/ (reference server and
// FastAPI): what the page plays is recorded in the page and read back by the test.
import type { Page } from 'playwright';

/**
 * Once the page built its client (on the first gesture), records what reaches its output node:
 * `window.__tap = { blocks, rate }`, one Float32Array per render quantum, muted after the tap.
 */
export async function installDemoTap(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).talstreamDemo?.output);
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
