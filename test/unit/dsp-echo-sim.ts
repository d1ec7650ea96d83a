// Echo simulation shared by the echo canceller and near-end detector tests: the speech fixtures
// (test/fixtures/speech, made by make.sh), a room response, FFT convolution, seeded noise.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EchoCanceller } from '../../src/dsp/echo-canceller';
import { RealFft } from '../../src/dsp/fft';
import { readWav } from '../../src/protocol/wav';

export const RATE = 16000;
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/speech');

/** A fixture, scaled so that its RMS over the loud 10 ms frames (within 40 dB of the peak) is `dbfs`. */
export function speech(name: string, dbfs: number): Float32Array {
  return atLevel(readWav(readFileSync(path.join(dir, name))).channels[0]!, dbfs);
}

/** Seeded uniform [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
}

/** The five assistant sentences in turn, 0.4 s apart, at -20 dBFS, for `seconds`. */
export function assistant(seconds: number): Float32Array {
  const s = [1, 2, 3, 4, 5].map((i) => speech(`assistant-${i}.wav`, -20));
  const out = new Float32Array(Math.round(seconds * RATE));
  let p = 0;
  for (let k = 0; p < out.length; k++) {
    const x = s[k % s.length]!;
    out.set(x.subarray(0, Math.min(x.length, out.length - p)), p);
    p += x.length + 0.4 * RATE;
  }
  return out;
}

/**
 * A room: direct path (the strongest tap) at 0, four early reflections (3-15 ms, 0.25-0.45), a
 * diffuse tail decaying with an RT60 of 250 ms over 200 ms; scaled to a total energy gain of `db`.
 */
export function room(db: number, seed = 1): Float64Array {
  const r = rng(seed);
  const n = Math.round(0.2 * RATE);
  const h = new Float64Array(n);
  h[0] = 1;
  for (let k = 0; k < 4; k++) h[Math.round((3 + 12 * r()) * RATE / 1000)] += (r() < 0.5 ? -1 : 1) * (0.25 + 0.2 * r());
  for (let i = Math.round(0.005 * RATE); i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
    h[i] += 0.06 * g * Math.exp((-6.9 * i) / (0.25 * RATE));
  }
  let e = 0;
  for (const v of h) e += v * v;
  const g = Math.pow(10, db / 20) / Math.sqrt(e);
  return h.map((v) => v * g);
}

/**
 * The room of a field report: the direct path h[0] = 1, then a diffuse tail a u(i) exp(-i / 30 ms)
 * for 150 ms (u uniform in [-1, 1), seeded), `a` such that the tail holds half the direct path's
 * energy. Unscaled: the caller scales the echo.
 */
export function tailRoom(seed: number): Float64Array {
  const r = rng(seed);
  const h = new Float64Array(Math.round(0.15 * RATE));
  let e = 0;
  for (let i = 1; i < h.length; i++) {
    h[i] = (2 * r() - 1) * Math.exp(-i / (0.03 * RATE));
    e += h[i]! * h[i]!;
  }
  const a = Math.sqrt(0.5 / e);
  for (let i = 1; i < h.length; i++) h[i] = h[i]! * a;
  h[0] = 1;
  return h;
}

/** `x` scaled so that its active RMS (as {@link speech} measures it) is `dbfs`. */
export function atLevel(x: Float32Array, dbfs: number): Float32Array {
  const f = RATE / 100;
  const p: number[] = [];
  for (let i = 0; i + f <= x.length; i += f) {
    let s = 0;
    for (let j = i; j < i + f; j++) s += x[j]! * x[j]!;
    p.push(s / f);
  }
  const max = Math.max(...p);
  const act = p.filter((v) => v > max * 1e-4);
  const g = Math.pow(10, dbfs / 20) / Math.sqrt(act.reduce((a, b) => a + b, 0) / act.length);
  return x.map((v) => v * g);
}

/** (x * h) delayed by `delay` samples, same length as x. */
export function echoOf(x: Float32Array, h: Float64Array, delay: number): Float32Array {
  const N = 16384;
  const hop = N - h.length;
  const f = new RealFft(N);
  const b = N / 2 + 1;
  const hr = new Float64Array(b);
  const hi = new Float64Array(b);
  const buf = new Float64Array(N);
  buf.set(h);
  f.forward(buf, hr, hi);
  const xr = new Float64Array(b);
  const xi = new Float64Array(b);
  const y = new Float32Array(x.length);
  for (let s = 0; s < x.length; s += hop) {
    buf.fill(0);
    for (let i = 0; i < hop && s + i < x.length; i++) buf[i] = x[s + i]!;
    f.forward(buf, xr, xi);
    for (let k = 0; k < b; k++) {
      const re = xr[k]! * hr[k]! - xi[k]! * hi[k]!;
      xi[k] = xr[k]! * hi[k]! + xi[k]! * hr[k]!;
      xr[k] = re;
    }
    f.inverse(xr, xi, buf);
    for (let i = 0; i < N; i++) if (s + i + delay < y.length) y[s + i + delay] = y[s + i + delay]! + buf[i]!;
  }
  return y;
}

/** Seeded white noise at `dbfs` RMS. */
export function noise(n: number, dbfs: number, seed = 7): Float32Array {
  const r = rng(seed);
  const a = Math.pow(10, dbfs / 20);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = a * Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
  return x;
}

/** Sum of arrays of equal length. */
export function mix(...xs: Float32Array[]): Float32Array {
  const y = new Float32Array(xs[0]!.length);
  for (const x of xs) for (let i = 0; i < y.length; i++) y[i] = y[i]! + x[i]!;
  return y;
}

/** Energy ratio a/b over [lo, hi), dB. */
export function ratioDb(a: Float32Array, b: Float32Array, lo: number, hi: number): number {
  let ea = 0;
  let eb = 0;
  for (let i = lo; i < hi; i++) {
    ea += a[i]! * a[i]!;
    eb += b[i]! * b[i]!;
  }
  return 10 * Math.log10(ea / eb);
}

/**
 * Runs `fn` while counting typed-array and Array constructions and the typed-array methods that
 * create arrays (subarray, slice, map, filter); returns the count.
 */
export function countAllocations(fn: () => void): number {
  const g = globalThis as unknown as Record<string, unknown>;
  const names = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint32Array', 'Array'];
  const saved = names.map((k) => g[k]);
  const protos = [Float32Array.prototype, Float64Array.prototype] as unknown as Record<string, (...a: unknown[]) => unknown>[];
  const methods = ['subarray', 'slice', 'map', 'filter'];
  const savedMethods = protos.map((p) => methods.map((m) => p[m]!));
  let count = 0;
  try {
    for (const k of names) {
      g[k] = new Proxy(g[k] as object, {
        construct(target, args) {
          count++;
          return Reflect.construct(target as new (...a: unknown[]) => object, args);
        },
      });
    }
    protos.forEach((p, i) =>
      methods.forEach((m, j) => {
        const orig = savedMethods[i]![j]!;
        p[m] = function (this: unknown, ...a: unknown[]) {
          count++;
          return orig.apply(this, a);
        };
      }),
    );
    fn();
  } finally {
    names.forEach((k, i) => (g[k] = saved[i]));
    protos.forEach((p, i) => methods.forEach((m, j) => (p[m] = savedMethods[i]![j]!)));
  }
  return count;
}

/** Runs an echo canceller over whole signals in calls of `chunk` samples; returns its output. */
export function runCanceller(ec: EchoCanceller, mic: Float32Array, ref: Float32Array, chunk: number): Float32Array {
  const out = new Float32Array(mic.length);
  for (let s = 0; s < mic.length; s += chunk) {
    const n = Math.min(chunk, mic.length - s);
    ec.process(mic.subarray(s, s + n), ref.subarray(s, s + n), out.subarray(s, s + n), n);
  }
  return out;
}
