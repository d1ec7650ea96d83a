// TimeScaler (src/dsp/time-scaler.ts): pitch kept, no splice steps, durations, exact positions,
// chunking invariance, no allocation. The oracles are written here from first principles (zero
// crossings, a sinusoid annihilator, a ramp whose values are their own source index), never taken
// from the code under test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TimeScaler, type TimeScalerOptions } from '../../src/dsp/time-scaler';
import { readWav } from '../../src/protocol/wav';

const root = path.resolve(__dirname, '../..');
const speech = (name: string): Float32Array => readWav(readFileSync(path.join(root, 'test/fixtures/speech-tsm', name))).channels[0]!;
const db = (v: number): number => 20 * Math.log10(v);

/** Deterministic PRNG (mulberry32) so every run tests the same random chunkings. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tone(sr: number, hz: number, seconds: number, amp = 0.9): Float32Array {
  const x = new Float32Array(Math.round(sr * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / sr);
  return x;
}

/**
 * Largest |consumed - sum(n x rate)| while input remains, at rates within 1 +- dr: a splice is forced
 * once the drift reaches maxPeriod, and a splice holds off the next for up to 2 x maxPeriod outputs
 * (its fade, then one period of copy), during which the drift moves by dr per output.
 */
const driftBound = (ts: TimeScaler, dr: number): number => ts.maxPeriod * (1 + 2 * dr) + 1;

interface Run {
  y: Float32Array;
  /** Sum over calls of samples rendered x rate: the input the rates asked for. */
  ideal: number;
  ts: TimeScaler;
  /** Largest |consumed - ideal| seen after a call while input remained. */
  maxDrift: number;
}

/**
 * Streams x through a TimeScaler: per call, `rate(call)` and `block(call)` output samples. Input is
 * pushed either to fill the ring ('fill', or all at once when it is big enough) or just up to
 * `needed(n, rate)` ('needed', the least the scaler says it must have).
 */
function stretch(
  x: Float32Array,
  sr: number,
  rate: (call: number) => number,
  block: (call: number) => number = () => 128,
  mode: 'fill' | 'needed' = 'fill',
  opts?: TimeScalerOptions,
): Run {
  const ts = new TimeScaler(sr, opts);
  const y = new Float32Array(Math.ceil(x.length * 2.1) + 4096);
  let pushed = 0;
  let len = 0;
  let ideal = 0;
  let maxDrift = 0;
  for (let call = 0; ; call++) {
    const n = block(call);
    const r = rate(call);
    if (mode === 'fill') pushed += ts.push(x, pushed, x.length - pushed);
    else {
      const want = ts.needed(n, r) - ts.available;
      if (want > 0) pushed += ts.push(x, pushed, Math.min(want, x.length - pushed));
      if (pushed < x.length) expect(ts.available).toBeGreaterThanOrEqual(ts.needed(n, r));
    }
    const got = ts.render(y, len, n, r);
    len += got;
    ideal += got * r;
    if (pushed < x.length) {
      expect(got).toBe(n); // never short while input remains
      maxDrift = Math.max(maxDrift, Math.abs(ts.consumed - ideal));
    }
    if (got < n) break;
  }
  expect(pushed).toBe(x.length);
  return { y: y.slice(0, len), ideal, ts, maxDrift };
}

/** Frequency from rising zero crossings (linearly interpolated) in y[lo, hi). */
function zeroCrossingHz(y: Float32Array, sr: number, lo: number, hi: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = lo; i + 1 < hi; i++) {
    if (y[i]! < 0 && y[i + 1]! >= 0) {
      const t = i + y[i]! / (y[i]! - y[i + 1]!);
      if (first < 0) first = t;
      last = t;
      count++;
    }
  }
  return ((count - 1) * sr) / (last - first);
}

/**
 * Largest |y[n+1] - 2cos(w) y[n] + y[n-1]|: this 3-tap filter annihilates any sinusoid at w (any
 * amplitude and phase), so what it leaves is the splicing. A step of height s between two samples
 * leaves about s (and (2cos(w) - 1) s at the next sample); a phase or amplitude drift of d per
 * sample leaves only about 2 w d. So a maximum below 0.01 means no step reaches -40 dBFS.
 */
function annihilatorMax(y: Float32Array, sr: number, hz: number): number {
  const c = 2 * Math.cos((2 * Math.PI * hz) / sr);
  let m = 0;
  for (let i = 1; i + 1 < y.length; i++) m = Math.max(m, Math.abs(y[i + 1]! - c * y[i]! + y[i - 1]!));
  return m;
}

function maxJump(x: Float32Array): number {
  let m = 0;
  for (let i = 1; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - x[i - 1]!));
  return m;
}

function rms(x: Float32Array, lo: number, hi: number): number {
  let s = 0;
  for (let i = lo; i < hi; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, hi - lo));
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

const RATES = [16000, 24000, 44100, 48000];
type RateCase = [string, (call: number) => number];
const varying = (seed: number): ((call: number) => number) => {
  // A new rate each quantum, uniform in 0.9..1.1 (memoised so the run is reproducible).
  const r = rng(seed);
  const rates: number[] = [];
  return (call) => (rates[call] ??= 0.9 + 0.2 * r());
};
const CASES: RateCase[] = [
  ['0.9', () => 0.9],
  ['1.1', () => 1.1],
  ['0.9..1.1 per quantum', varying(7)],
];

describe('TimeScaler on a 440 Hz tone', () => {
  for (const sr of RATES) {
    for (const [name, rate] of CASES) {
      it(`${sr} Hz, rate ${name}: pitch 440 +-2 Hz in every 100 ms, no splice step >= -40 dBFS, duration follows the rate`, () => {
        const x = tone(sr, 440, 1.5);
        const { y, ideal, ts, maxDrift } = stretch(x, sr, rate);
        // It really scaled: consumed input follows the requested rates within one splice (and at
        // the end, where the last 30 ms cannot be spliced for want of lookahead, within 0.1 x that).
        expect(maxDrift).toBeLessThanOrEqual(driftBound(ts, 0.1));
        expect(Math.abs(ts.consumed - ideal)).toBeLessThanOrEqual(driftBound(ts, 0.1) + 0.1 * 2 * ts.maxPeriod);
        if (name !== '0.9..1.1 per quantum') expect(Math.abs(y.length / x.length - 1 / rate(0))).toBeLessThan(0.01);
        const win = Math.round(sr * 0.1);
        let worst = 0;
        for (let lo = Math.round(sr * 0.01); lo + win <= y.length - Math.round(sr * 0.01); lo += win) {
          worst = Math.max(worst, Math.abs(zeroCrossingHz(y, sr, lo, lo + win) - 440));
        }
        const whole = zeroCrossingHz(y, sr, 0, y.length) - 440;
        const step = annihilatorMax(y, sr, 440);
        console.log(`tone ${sr} Hz rate ${name}: worst 100 ms window ${worst.toFixed(3)} Hz, whole ${whole.toFixed(4)} Hz, annihilator max ${db(step).toFixed(1)} dBFS (pure tone ${db(annihilatorMax(x, sr, 440)).toFixed(1)})`);
        expect(worst).toBeLessThanOrEqual(2);
        expect(Math.abs(whole)).toBeLessThanOrEqual(0.5);
        expect(step).toBeLessThan(0.01);
      });
    }
  }
});

describe('TimeScaler on speech (espeak-ng, test/fixtures/speech-tsm)', () => {
  for (const file of ['speech-m.wav', 'speech-f.wav']) {
    for (const rate of [0.9, 1.1]) {
      it(`${file} at ${rate}x: duration ratio within 1%, no jump beyond the input's, envelope follows the time-warped original`, () => {
        const x = speech(file);
        const sr = 16000;
        const { y, ts } = stretch(x, sr, () => rate);
        // Whole file: output length / input consumed against 1 / rate.
        const ratio = y.length / ts.consumed;
        const ratioErr = ratio * rate - 1;
        // Largest sample-to-sample jump: a splice without a cross-fade would add one as big as the
        // signal; a linear cross-fade over P samples can add at most |a - b| / (P + 1).
        const jumpIn = maxJump(x);
        const jumpOut = maxJump(y);
        // 10 ms RMS envelopes: output frame k against the input span the rate maps it to (the ideal
        // linear warp, not the scaler's own positions).
        const fr = 160;
        const eo: number[] = [];
        const ei: number[] = [];
        for (let k = 0; (k + 1) * fr <= y.length && Math.ceil((k + 1) * fr * rate) <= x.length; k++) {
          eo.push(rms(y, k * fr, (k + 1) * fr));
          ei.push(rms(x, Math.round(k * fr * rate), Math.round((k + 1) * fr * rate)));
        }
        const corr = pearson(eo, ei);
        // Unwarped comparison (output frame k against input frame k), to show the warp matters.
        const common = Math.min(eo.length, Math.floor(x.length / fr));
        const plain = pearson(eo.slice(0, common), eo.slice(0, common).map((_, k) => rms(x, k * fr, (k + 1) * fr)));
        console.log(`${file} ${rate}x: ratio error ${(ratioErr * 100).toFixed(3)}%, max jump out ${jumpOut.toFixed(4)} / in ${jumpIn.toFixed(4)}, envelope r ${corr.toFixed(4)} (unwarped ${plain.toFixed(4)})`);
        expect(Math.abs(ratioErr)).toBeLessThan(0.01);
        expect(jumpOut).toBeLessThanOrEqual(jumpIn * 1.05);
        // The warp is the ideal one; the scaler's position sits within one splice (<= 15 ms) of it,
        // so 10 ms frames straddle slightly different audio around each splice: r stays < 1.
        expect(corr).toBeGreaterThan(0.95);
      });
    }
  }
});

describe('TimeScaler positions and passthrough', () => {
  it('rate 1 is bit-exact passthrough with zero latency, for any chunking', () => {
    for (const sr of [8000, 16000, 44100, 48000]) {
      const x = speech('speech-f.wav'); // the samples; sr only sets the scaler's lag range
      for (const seed of [1, 2, 3]) {
        const r = rng(seed);
        const ts = new TimeScaler(sr);
        const y = new Float32Array(x.length);
        let pushed = 0;
        let len = 0;
        while (len < x.length) {
          // Push a random amount (at least what the next call needs), render a random chunk.
          const n = 1 + Math.floor(r() * 700);
          expect(ts.needed(n, 1)).toBe(n); // no lookahead at rate 1
          pushed += ts.push(x, pushed, Math.min(x.length - pushed, n + Math.floor(r() * 500)));
          const got = ts.render(y, len, Math.min(n, ts.available), 1);
          len += got;
          expect(ts.consumed).toBe(len);
          expect(ts.produced).toBe(len);
        }
        expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
        for (let j = 0; j < len; j += 97) expect(ts.sourceIndex(j)).toBe(j);
      }
    }
  });

  it('a ramp (each value its own index) shows the positions: consumed follows the rates, source index monotonic, exact outside cross-fades', () => {
    const sr = 16000;
    const x = new Float32Array(sr * 5);
    for (let i = 0; i < x.length; i++) x[i] = i; // exact in float32 below 2^24
    const r = rng(11);
    const rates: number[] = [];
    const blocks: number[] = [];
    const { y, ts, ideal, maxDrift } = stretch(
      x,
      sr,
      (c) => (rates[c] ??= 0.9 + 0.2 * r()),
      (c) => (blocks[c] ??= 1 + Math.floor(r() * 300)),
    );
    // consumed = sum(n x rate) within one splice.
    expect(maxDrift).toBeLessThanOrEqual(driftBound(ts, 0.1));
    expect(Math.abs(ts.consumed - ideal)).toBeLessThanOrEqual(driftBound(ts, 0.1) + 0.1 * 2 * ts.maxPeriod);
    let prev = -1;
    let exact = 0;
    let worst = 0;
    // Only the last 16 splices are remembered: walk the positions as the run goes instead, by
    // replaying it and sampling sourceIndex right after each call (see the next test for that).
    const t2 = new TimeScaler(sr);
    let pushed = 0;
    let len = 0;
    const y2 = new Float32Array(y.length);
    for (let c = 0; len < y.length; c++) {
      pushed += t2.push(x, pushed, x.length - pushed);
      const got = t2.render(y2, len, blocks[c]!, rates[c]!);
      for (let j = len; j < len + got; j++) {
        const s = t2.sourceIndex(j);
        expect(s).toBeGreaterThanOrEqual(prev);
        prev = s;
        // The value played is its (weighted) source position: the frontier is at most one lag ahead.
        const v = y2[j]!;
        worst = Math.max(worst, Math.abs(v - s));
        if (v === s) exact++;
      }
      len += got;
      expect(t2.sourceIndex(len - 1) + 1).toBe(t2.consumed);
    }
    expect(Buffer.from(y2.buffer).equals(Buffer.from(y.buffer))).toBe(true);
    expect(prev + 1).toBe(ts.consumed);
    console.log(`ramp: ${((exact / y.length) * 100).toFixed(1)}% of outputs exactly their source index, worst |value - index| ${worst.toFixed(1)} (maxPeriod ${ts.maxPeriod}), max |consumed - sum(n*rate)| ${maxDrift.toFixed(1)}`);
    expect(worst).toBeLessThanOrEqual(ts.maxPeriod);
    expect(exact / y.length).toBeGreaterThan(0.7);
  });

  it('sourceIndex predicts the positions of future samples at rate 1, also mid-splice', () => {
    const sr = 16000;
    const x = new Float32Array(sr * 2);
    for (let i = 0; i < x.length; i++) x[i] = i;
    for (const rate of [0.9, 1.1]) {
      for (let stop = 3000; stop < 3800; stop += 37) {
        const ts = new TimeScaler(sr);
        const y = new Float32Array(stop + 2000);
        let pushed = 0;
        let len = 0;
        while (len < stop) {
          pushed += ts.push(x, pushed);
          len += ts.render(y, len, Math.min(128, stop - len), rate);
        }
        const predicted: number[] = [];
        for (let j = len; j < len + 1000; j++) predicted.push(ts.sourceIndex(j));
        while (len < stop + 1000) {
          pushed += ts.push(x, pushed);
          len += ts.render(y, len, Math.min(128, stop + 1000 - len), 1);
        }
        for (let j = stop; j < stop + 1000; j++) expect(ts.sourceIndex(j)).toBe(predicted[j - stop]);
        // Once the fade is over (< maxPeriod), rate 1 plays exactly the predicted samples.
        for (let j = stop + ts.maxPeriod; j < stop + 1000; j++) expect(y[j]).toBe(predicted[j - stop]);
        expect(ts.consumed).toBe(predicted[999]! + 1);
      }
    }
  });

  it('reset forgets everything: counts restart and rate 1 is passthrough again', () => {
    const ts = new TimeScaler(16000);
    const a = speech('speech-f.wav');
    ts.push(a);
    const y = new Float32Array(4000);
    ts.render(y, 0, 4000, 1.1);
    ts.reset();
    expect([ts.written, ts.produced, ts.consumed, ts.available]).toEqual([0, 0, 0, 0]);
    expect(ts.push(a, 5000, 1500)).toBe(1500);
    expect(ts.render(y, 0, 4000, 1)).toBe(1500);
    expect(Buffer.from(y.buffer, 0, 6000).equals(Buffer.from(a.buffer, 20000, 6000))).toBe(true);
    expect(ts.sourceIndex(1499)).toBe(1499);
  });
});

describe('TimeScaler chunking invariance', () => {
  for (const rate of [0.9, 0.95, 1.05, 1.1]) {
    it(`rate ${rate}: random render chunks, and pushing only what needed() asks, give the output of one big call`, () => {
      const x = speech('speech-m.wav');
      const sr = 16000;
      const big = { capacityMs: 4000 }; // the whole file fits: one call renders it all
      const one = stretch(x, sr, () => rate, () => 1 << 20, 'fill', big);
      const r = rng(Math.round(rate * 100));
      const sizes: number[] = [];
      const rand = (c: number): number => (sizes[c] ??= 1 + Math.floor(r() * 400));
      const chunked = stretch(x, sr, () => rate, rand, 'fill', big);
      const ring = stretch(x, sr, () => rate, rand, 'fill');
      const lean = stretch(x, sr, () => rate, rand, 'needed');
      const same = (a: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(one.y.buffer));
      expect(one.y.length).toBeGreaterThan(x.length * 0.85);
      expect(same(chunked.y)).toBe(true);
      expect(same(ring.y)).toBe(true);
      expect(same(lean.y)).toBe(true);
      expect(lean.ts.consumed).toBe(one.ts.consumed);
    });
  }
  it('a rate schedule that changes (1 included) gives the same output however each segment is split', () => {
    const x = speech('speech-m.wav');
    const sr = 16000;
    // Short segments, so a rate change often falls while a splice or its hold-off is running.
    const seg: number[] = [];
    for (let k = 0; k < 80; k++) seg.push([1.1, 1, 0.9, 1, 1.05, 0.92][k % 6]!);
    const segLen = 500;
    const render = (split: (left: number) => number): Float32Array => {
      const ts = new TimeScaler(sr, { capacityMs: 4000 }); // one call can render a whole segment
      const y = new Float32Array(seg.length * segLen);
      let pushed = 0;
      let len = 0;
      for (const rate of seg) {
        for (let left = segLen; left > 0; ) {
          const n = split(left);
          pushed += ts.push(x, pushed, x.length - pushed);
          expect(ts.render(y, len, n, rate)).toBe(n);
          len += n;
          left -= n;
        }
      }
      return y;
    };
    const whole = render((left) => left);
    for (let seed = 1; seed <= 10; seed++) {
      const r = rng(seed);
      const y = render((left) => Math.min(left, 1 + Math.floor(r() * 200)));
      expect(Buffer.from(y.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    }
  });
});

describe('TimeScaler allocates nothing per render', () => {
  it('no typed array is constructed, sliced or viewed during render/push/needed/sourceIndex', () => {
    const sr = 48000;
    const x = tone(sr, 440, 2);
    const ts = new TimeScaler(sr);
    const out = new Float32Array(128);
    let made = 0;
    const saved: [object, string, PropertyDescriptor][] = [];
    const patch = (obj: object, key: string, fn: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void => {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      saved.push([obj, key, d]);
      Object.defineProperty(obj, key, { ...d, value: fn(d.value as (...a: unknown[]) => unknown) });
    };
    const g = globalThis as unknown as Record<string, unknown>;
    for (const name of ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array', 'Array', 'ArrayBuffer']) {
      const C = g[name] as new (...a: unknown[]) => unknown;
      saved.push([globalThis, name, Object.getOwnPropertyDescriptor(globalThis, name)!]);
      g[name] = new Proxy(C, {
        construct(target, args, nt) {
          made++;
          return Reflect.construct(target, args, nt);
        },
      });
    }
    const TA = Object.getPrototypeOf(Float32Array.prototype) as object;
    for (const key of ['subarray', 'slice', 'map', 'filter']) {
      patch(TA, key, (orig) =>
        function (this: unknown, ...a: unknown[]) {
          made++;
          return orig.apply(this, a);
        },
      );
    }
    let pushed = 0;
    let calls = 0;
    try {
      // Control: the patches do see an allocation and a view.
      new Float32Array(4).subarray(1);
      expect(made).toBe(2);
      made = 0;
      for (let c = 0; c < 700; c++) {
        const rate = c < 250 ? 1.1 : c < 500 ? 0.9 : 1;
        pushed += ts.push(x, pushed, Math.max(0, Math.min(x.length - pushed, ts.needed(128, rate) - ts.available)));
        ts.render(out, 0, 128, rate);
        ts.sourceIndex(ts.produced + 5);
        calls++;
      }
    } finally {
      for (const [obj, key, d] of saved.reverse()) Object.defineProperty(obj, key, d);
    }
    expect(calls).toBe(700);
    expect(ts.produced).toBe(700 * 128);
    expect(made).toBe(0);
  });

  it('the source after the constructor has no allocating construct (static check)', () => {
    const src = readFileSync(path.join(root, 'src/dsp/time-scaler.ts'), 'utf8');
    const body = src.slice(src.indexOf('  reset(): void'));
    const code = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\bnew\b|=>|\bfunction\s*\(|\.(subarray|slice|map|filter|concat|from)\(|[=(,]\s*\[|[=(,]\s*\{/);
  });
});
