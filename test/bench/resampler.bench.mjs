// Resampler quality and speed, printed (never asserted here: the unit tests assert the quality).
// Run with `npm run bench:resampler` (builds dist/ first). Keep it short: the machine is shared.
import { Resampler } from '../../dist/talstream.mjs';

const SINE_RMS = Math.SQRT1_2;
const db = (v) => 20 * Math.log10(v);

function sine(rate, freq, seconds) {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

function run(from, to, x) {
  const r = new Resampler(from, to);
  const a = r.process(x);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function rms(x, lo, hi) {
  let s = 0;
  for (let i = lo; i < hi; i++) s += x[i] * x[i];
  return Math.sqrt(s / (hi - lo));
}

/** Least-squares amplitude of a sine at freq in x[lo..hi), and the RMS of the rest. */
function fit(x, rate, freq, lo, hi) {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  const w = (2 * Math.PI * freq) / rate;
  for (let i = lo; i < hi; i++) {
    const s = Math.sin(w * i), c = Math.cos(w * i);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  let res = 0;
  for (let i = lo; i < hi; i++) {
    const e = x[i] - (a * Math.sin(w * i) + b * Math.cos(w * i));
    res += e * e;
  }
  return { amp: Math.hypot(a, b), residualRms: Math.sqrt(res / (hi - lo)) };
}

function quality(from, to) {
  const edge = 200;
  let alias = -Infinity, aliasAt = 0;
  const nyq = Math.min(from, to) / 2;
  if (from > to) {
    for (let f = 8500 * (to / 16000); f < from / 2; f += 125) {
      const y = run(from, to, sine(from, f, 0.25));
      const d = db(rms(y, edge, y.length - edge) / SINE_RMS);
      if (d > alias) { alias = d; aliasAt = f; }
    }
  }
  let ripple = 0, residual = -Infinity;
  const fmax = nyq * 0.875;
  for (let f = 50; f <= fmax; f += nyq / 32) {
    const y = run(from, to, sine(from, f, 0.25));
    const r = fit(y, to, f, edge, y.length - edge);
    ripple = Math.max(ripple, Math.abs(db(r.amp)));
    residual = Math.max(residual, db(r.residualRms / SINE_RMS));
  }
  return { alias, aliasAt, ripple, residual, fmax };
}

function speed(from, to) {
  const seconds = 20;
  const x = sine(from, 440, seconds);
  const r = new Resampler(from, to);
  const out = new Float32Array(r.maxOutput(128));
  // Warm up, then time the worklet's pattern: 128-sample blocks into a reused buffer.
  for (let o = 0; o + 128 <= 48000; o += 128) r.processInto(x.subarray(o, o + 128), out);
  r.reset();
  // CPU time of this thread's process ("on one core"), beside wall time: on a shared machine the
  // wall clock also counts time other processes held the core.
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let o = 0; o + 128 <= x.length; o += 128) r.processInto(x.subarray(o, o + 128), out);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  return { xrt: (seconds * 1000) / cpuMs, wallXrt: (seconds * 1000) / ms, taps: r.taps };
}

const pairs = [[48000, 16000], [44100, 16000], [22050, 16000], [16000, 48000], [16000, 44100], [24000, 48000], [24000, 44100]];
console.log('Resampler (Kaiser-windowed sinc, polyphase, defaults: passband 0.875, stopband 1.0 x lower Nyquist, 90 dB design)');
console.log('goal: 48k/44.1k -> 16k worst alias <= -60 dB, passband within 0.5 dB to 7 kHz, >= 50x real time');
for (const [from, to] of pairs) {
  const q = quality(from, to);
  const s = speed(from, to);
  const alias = from > to ? `worst alias ${q.alias.toFixed(1)} dB (at ${q.aliasAt} Hz)` : 'upsampling (images in residual)';
  console.log(
    `${String(from).padStart(5)} -> ${String(to).padStart(5)}: ${alias}; passband ripple ${q.ripple.toFixed(4)} dB to ${q.fmax} Hz; ` +
      `residual ${q.residual.toFixed(1)} dB; ${s.taps} taps; speed ${s.xrt.toFixed(0)}x real time (CPU time; wall clock ${s.wallXrt.toFixed(0)}x)`,
  );
}
