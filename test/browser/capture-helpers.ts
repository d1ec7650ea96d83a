// Helpers shared by the capture/upload browser tests: decode frames, measure a tone.
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';

export interface DecodedFrame {
  header: Record<string, unknown>;
  samples: Float32Array;
}

/** Decodes whole frames (each Uint8Array one frame, or any chunking) with the SDK's decoder. */
export function decodeAll(chunks: Uint8Array[]): DecodedFrame[] {
  const dec = new FrameDecoder();
  const out: DecodedFrame[] = [];
  for (const c of chunks) for (const f of dec.push(c)) {
    const { header, channels } = readTalAudio(f);
    out.push({ header, samples: channels[0]! });
  }
  dec.end();
  return out;
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Frequency from upward zero crossings (interpolated) over x[lo..hi). */
export function zeroCrossingHz(x: Float32Array, rate: number, lo = 0, hi = x.length): number {
  let first = -1, last = -1, n = 0;
  for (let i = lo + 1; i < hi; i++) {
    if (x[i - 1]! < 0 && x[i]! >= 0) {
      const t = i - 1 + -x[i - 1]! / (x[i]! - x[i - 1]!);
      if (first < 0) first = t;
      last = t;
      n++;
    }
  }
  return n < 2 ? 0 : ((n - 1) * rate) / (last - first);
}

export function rms(x: Float32Array, lo = 0, hi = x.length): number {
  let s = 0;
  for (let i = lo; i < hi; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, hi - lo));
}

/** Least-squares sine at `freq` over x[lo..hi): amplitude and residual RMS (gaps, glitches, noise). */
export function fitSine(x: Float32Array, rate: number, freq: number, lo: number, hi: number): { amp: number; residual: number } {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  const w = (2 * Math.PI * freq) / rate;
  for (let i = lo; i < hi; i++) {
    const s = Math.sin(w * i), c = Math.cos(w * i);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i]! * s; xc += x[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  let res = 0;
  for (let i = lo; i < hi; i++) {
    const e = x[i]! - (a * Math.sin(w * i) + b * Math.cos(w * i));
    res += e * e;
  }
  return { amp: Math.hypot(a, b), residual: Math.sqrt(res / (hi - lo)) };
}

/**
 * The frequency in [lo, hi] (steps of `step` Hz) whose least-squares sine over x[from..to) is
 * strongest: the fundamental of a tone that is not a pure sine (harmonics and beeps mixed in),
 * where zero crossings would count the harmonics too.
 */
export function strongestHz(x: Float32Array, rate: number, lo: number, hi: number, step: number, from = 0, to = x.length): number {
  let best = lo, bestAmp = -1;
  for (let f = lo; f <= hi + 1e-9; f += step) {
    const { amp } = fitSine(x, rate, f, from, to);
    if (amp > bestAmp) { bestAmp = amp; best = f; }
  }
  return best;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits until `ms` of audio time have passed on `ctx`: the clock takes and playback count in.
 * A loaded WebKit runs its audio in bursts (engine note 5), so a wall-clock sleep there may cover
 * far less audio than it says (a 700 ms sleep gave too short a take to measure).
 */
export async function audioSleep(ctx: BaseAudioContext, ms: number): Promise<void> {
  const end = ctx.currentTime + ms / 1000;
  while (ctx.currentTime < end) await sleep(10);
}

/** Longest run of exact zeros (a gap in the audio). */
export function longestZeroRun(x: Float32Array): number {
  let best = 0, run = 0;
  for (let i = 0; i < x.length; i++) {
    run = x[i] === 0 ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}
