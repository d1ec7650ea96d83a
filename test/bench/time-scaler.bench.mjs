// TimeScaler (src/dsp/time-scaler.ts) cost, printed as x real time (never asserted: the unit tests
// assert quality). The core is not a public export yet, so it is bundled from src/ by load-ts.
// Run: node test/bench/time-scaler.bench.mjs   (no build needed; keep it short: the machine is shared)
// TSM_WAV_DIR=/some/dir also writes the speech fixtures stretched at 0.9x and 1.1x there, to listen to.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadTs } from './load-ts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { TimeScaler, readWav, writeWav } = await loadTs(['src/dsp/time-scaler.ts', 'src/protocol/wav.ts']);
const fixture = (name) => readWav(readFileSync(path.join(here, '../fixtures/speech-tsm', name))).channels[0];
const speech = [fixture('speech-m.wav'), fixture('speech-f.wav')];

/** `seconds` of the speech fixtures back to back, taken as samples at any rate (cost does not depend on pitch). */
function input(rate, seconds) {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0, k = 0, j = 0; i < x.length; i++) {
    x[i] = speech[k][j];
    if (++j === speech[k].length) (j = 0), (k = (k + 1) % speech.length);
  }
  return x;
}

/** Renders x in 128-sample quanta at rate(call), pushing what needed() asks; returns timings. */
function run(sr, x, rate) {
  const ts = new TimeScaler(sr);
  const out = new Float32Array(128);
  let pushed = 0;
  let produced = 0;
  const times = [];
  let total = 0;
  for (let c = 0; ; c++) {
    const r = rate(c);
    const want = ts.needed(128, r) - ts.available;
    if (want > 0) pushed += ts.push(x, pushed, Math.min(want, x.length - pushed));
    const t0 = performance.now();
    const got = ts.render(out, 0, 128, r);
    const dt = performance.now() - t0;
    total += dt;
    if (c > 100) times.push(dt); // after JIT warm-up
    produced += got;
    if (got < 128) break;
  }
  times.sort((a, b) => a - b);
  // The maximum includes preemption by other processes and GC of the bench itself; p99.9 is the
  // render's own worst case (a quantum with a lag search).
  return { total, p999: times[Math.floor(times.length * 0.999)], worst: times[times.length - 1], produced, consumed: ts.consumed };
}

const RATES = [
  ['1 (copy)', () => 1],
  ['0.9', () => 0.9],
  ['1.1', () => 1.1],
  ['0.9..1.1 per quantum', (c) => 0.9 + 0.2 * hash(c)],
];

/** A fixed pseudo-random number in [0, 1) per quantum (integer hash), the same on every run. */
function hash(c) {
  let t = Math.imul(c ^ 0x9e3779b9, 0x85ebca6b);
  t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
  return ((t ^ (t >>> 16)) >>> 0) / 4294967296;
}
const SECONDS = 20;
console.log(`TimeScaler: ${SECONDS} s of speech per case, 128-sample quanta (cost = CPU time / audio time; lower is better)`);
for (const sr of [48000, 16000]) {
  const x = input(sr, SECONDS);
  run(sr, x.subarray(0, sr * 2), () => 1.1); // warm the JIT
  for (const [name, rate] of RATES) {
    const { total, p999, worst, produced, consumed } = run(sr, x, rate);
    const audioMs = (produced * 1000) / sr;
    const quantumMs = (128 * 1000) / sr;
    console.log(
      `  ${String(sr).padStart(5)} Hz rate ${name.padEnd(21)} ${(total / audioMs).toExponential(2)} x real time` +
        ` (${((1000 * total) / audioMs).toFixed(2)} ms per s), quantum p99.9 ${(p999 * 1000).toFixed(0)} us` +
        ` = ${((100 * p999) / quantumMs).toFixed(1)}% of its ${quantumMs.toFixed(2)} ms (max ${(worst * 1000).toFixed(0)} us),` +
        ` out/in ${(produced / consumed).toFixed(4)}`,
    );
  }
}

if (process.env.TSM_WAV_DIR) {
  for (const [k, name] of ['speech-m', 'speech-f'].entries()) {
    for (const rate of [0.9, 1.1]) {
      const x = speech[k];
      const ts = new TimeScaler(16000);
      const y = new Float32Array(Math.ceil(x.length / 0.85));
      let pushed = 0;
      let len = 0;
      for (;;) {
        pushed += ts.push(x, pushed, x.length - pushed);
        const got = ts.render(y, len, 128, rate);
        len += got;
        if (got < 128) break;
      }
      const file = path.join(process.env.TSM_WAV_DIR, `${name}-${rate}x.wav`);
      writeFileSync(file, writeWav([y.subarray(0, len)], 16000));
      console.log(`  wrote ${file}`);
    }
  }
}
