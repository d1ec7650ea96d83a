// `npm run bench:client`: time to first audio of the script-tag client in real Chromium against the
// reference server on loopback (burst pacing), and the gzipped size of dist/talstream.iife.js.
//
// Time to first audio = first response byte -> first non-silent sample leaving the page's audio
// graph (seen by a tap worklet on the client's output node), so the device's outputLatency is not
// in it. The SDK's own figure (summary.firstAudioMs) is printed beside it.
// Goals (issue 5): p50 < 40 ms; gzip < 15 KB.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright';
import { chromiumLaunchOptions } from '../support/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ASKS = Number(process.env.ASKS ?? 20);

const iife = path.join(root, 'dist/talstream.iife.js');
if (!existsSync(iife) || !existsSync(path.join(root, 'dist/cli.mjs'))) {
  console.error('dist/ is missing: run `npm run build` (npm run bench:client does)');
  process.exit(1);
}

/** The reference server, from the built CLI, on a free loopback port. */
async function startServer() {
  const child = spawn(process.execPath, [path.join(root, 'dist/cli.mjs'), 'serve', '--port', '0', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`talstream serve exited (${code}): ${out}`)));
  });
  return { origin, stop: () => child.kill('SIGTERM') };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const f1 = (v) => (typeof v === 'number' ? v.toFixed(1) : String(v));

const server = await startServer();
const browser = await chromium.launch(chromiumLaunchOptions());
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.origin}/demo/`);
  const results = await page.evaluate(async (asks) => {
    const TS = window.TalStream;
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    const tapCode = `class BenchTap extends AudioWorkletProcessor {
      constructor() { super(); this.armed = false; this.port.onmessage = () => { this.armed = true; }; }
      process(inputs) {
        const ch = inputs[0] && inputs[0][0];
        if (this.armed && ch) for (let i = 0; i < ch.length; i++) {
          if (Math.abs(ch[i]) > 1e-3) { this.armed = false; this.port.postMessage(currentTime + i / sampleRate); break; }
        }
        return true;
      }
    }
    registerProcessor('bench-tap', BenchTap);`;
    const url = URL.createObjectURL(new Blob([tapCode], { type: 'text/javascript' }));
    await ctx.audioWorklet.addModule(url);
    const out = ctx.createGain();
    out.connect(ctx.destination);
    const tap = new AudioWorkletNode(ctx, 'bench-tap', { channelCount: 1, channelCountMode: 'explicit' });
    const mute = ctx.createGain();
    mute.gain.value = 0;
    out.connect(tap);
    tap.connect(mute).connect(ctx.destination);

    let firstByteAt;
    let soundAt;
    tap.port.onmessage = () => (soundAt ??= performance.now());
    // Stamps the first body chunk as it comes off the network, before the SDK sees it.
    const stampingFetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!res.body) return res;
      const stamp = new TransformStream({
        transform(chunk, c) {
          firstByteAt ??= performance.now();
          c.enqueue(chunk);
        },
      });
      return new Response(res.body.pipeThrough(stamp), { status: res.status, statusText: res.statusText, headers: res.headers });
    };
    const client = TS.createClient({ url: '/ask?pace=burst', audioContext: ctx, destination: out, fetch: stampingFetch });
    await client.unlock();
    // The question: 0.5 s of 440 Hz at 16 kHz, as a WAV Blob; the answer is its echo (0.5 s).
    const rate = 16000;
    const pcm = new Float32Array(rate / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
    const wav = new Blob([TS.writeWav([pcm], rate)], { type: 'audio/wav' });
    const runs = [];
    for (let k = 0; k <= asks; k++) {
      firstByteAt = undefined;
      soundAt = undefined;
      tap.port.postMessage('arm');
      const t0 = performance.now();
      const reply = client.ask(wav);
      const s = await reply.done;
      await new Promise((r) => setTimeout(r, 30));
      runs.push({
        tap: soundAt !== undefined && firstByteAt !== undefined ? soundAt - firstByteAt : null,
        sdk: s.firstAudioMs,
        firstByte: firstByteAt !== undefined ? firstByteAt - t0 : null,
        sdkFirstByte: s.firstByteMs,
        underruns: s.underruns,
        playedMs: s.playedMs,
      });
    }
    const info = { rate: ctx.sampleRate, baseLatency: ctx.baseLatency, outputLatency: ctx.outputLatency };
    await client.destroy();
    await ctx.close();
    return { runs, info };
  }, ASKS);

  const [warm, ...runs] = results.runs;
  const tapMs = runs.map((r) => r.tap).filter((v) => v !== null);
  const sdkMs = runs.map((r) => r.sdk).filter((v) => v !== null);
  const fb = runs.map((r) => r.firstByte).filter((v) => v !== null);
  console.log(`client time to first audio: ${runs.length} asks (+1 warm-up) of a 0.5 s WAV, echo reply, pace=burst, loopback`);
  console.log(`  AudioContext ${results.info.rate} Hz, baseLatency ${f1(results.info.baseLatency * 1000)} ms, outputLatency ${f1(results.info.outputLatency * 1000)} ms (excluded)`);
  console.log(`  first response byte -> first non-silent sample out (tap): p50 ${f1(pct(tapMs, 50))} ms, p90 ${f1(pct(tapMs, 90))} ms, min ${f1(Math.min(...tapMs))}, max ${f1(Math.max(...tapMs))}  (goal p50 < 40 ms)`);
  console.log(`  SDK summary.firstAudioMs:                              p50 ${f1(pct(sdkMs, 50))} ms, p90 ${f1(pct(sdkMs, 90))} ms`);
  console.log(`  request -> first response byte:                        p50 ${f1(pct(fb, 50))} ms, p90 ${f1(pct(fb, 90))} ms`);
  console.log(`  warm-up ask (worklet load, first player): tap ${f1(warm.tap)} ms, SDK ${f1(warm.sdk)} ms; underruns in all asks: ${runs.reduce((n, r) => n + r.underruns, 0)}`);
  if (tapMs.length !== runs.length) console.log(`  (${runs.length - tapMs.length} asks without a tap reading)`);
} finally {
  await browser.close();
  server.stop();
}

const bytes = readFileSync(iife);
const gz = gzipSync(bytes, { level: 9 });
console.log(`dist/talstream.iife.js: ${bytes.length} bytes, gzip -9 ${gz.length} bytes (${(gz.length / 1024).toFixed(2)} KiB; goal < 15 KB)`);
