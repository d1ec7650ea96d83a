// TimeScaler (src/dsp/time-scaler.ts) mechanics: exact positions, passthrough at rate 1, chunking
// invariance, no allocation. The oracles are written from first principles (a ramp whose values are
// their own source index; dsp-time-scaler-helpers.ts), never taken from the code under test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TimeScaler } from '../../src/dsp/time-scaler';
import { root, speech, rng, tone, driftBound, stretch } from './dsp-time-scaler-helpers';

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
