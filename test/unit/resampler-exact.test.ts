// The Resampler sample by sample against a direct windowed-sinc convolution written here from the
// textbook (Kaiser 1974), on short signals at small rate ratios: a few rows of a hundred taps, so
// that the test stays fast once instrumented (the `dsp-resampler` mutation area runs it per
// mutant; resampler-quality/-stream sweep real rates for seconds of audio and take minutes there).
import { describe, expect, it } from 'vitest';
import { Resampler, type ResamplerOptions } from '../../src/dsp/resampler';
import { TalStreamError } from '../../src/errors';
import { noise } from './resampler-noise';

/** I0 by its series sum_k ((x/2)^k / k!)^2, summed to double precision. */
function i0(x: number): number {
  let t = 1;
  let s = 1;
  for (let k = 1; k < 300; k++) {
    t *= x / 2 / k;
    s += t * t;
    if (t * t < s * 1e-18) break;
  }
  return s;
}

/** Kaiser's beta for A dB (the three ranges of his formula). */
function beta(a: number): number {
  if (a > 50) return 0.1102 * (a - 8.7);
  if (a >= 21) return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21);
  return 0;
}

interface Oracle { up: number; down: number; half: number; cutoff: number; beta: number; rows: number }

/**
 * The documented design: low-pass at the middle of passband..stopband of the lower Nyquist, Kaiser
 * length (A - 7.95) / (14.36 width) + 1 taps rounded up to an even count; `rows` > 0 tabulates
 * that many phases and interpolates linearly between them (maxPhases exceeded).
 */
function design(up: number, down: number, o: ResamplerOptions = {}, half?: number): Oracle {
  const pass = o.passband ?? 0.875, stop = o.stopband ?? 1, a = o.attenuationDb ?? 90;
  const nyq = Math.min(up, down) / 2 / down;
  const width = (stop - pass) * nyq;
  const h = half ?? Math.max(2, Math.ceil((Math.ceil((a - 7.95) / (14.36 * width)) + 1) / 2));
  const rows = up > (o.maxPhases ?? 1024) ? (o.maxPhases ?? 1024) : 0;
  return { up, down, half: h, cutoff: ((pass + stop) / 2) * nyq, beta: beta(a), rows };
}

/** Weights of the 2*half inputs around an output `frac` input samples after input i, summing to 1. */
function weights(d: Oracle, frac: number): number[] {
  const w: number[] = [];
  for (let k = 0; k < 2 * d.half; k++) {
    const t = d.half - 1 - k + frac; // distance of input i - half + 1 + k from the output instant
    const r = t / d.half;
    const x = 2 * d.cutoff * t;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    w.push(Math.abs(r) >= 1 ? 0 : sinc * i0(d.beta * Math.sqrt(1 - r * r)));
  }
  const sum = w.reduce((s, v) => s + v, 0);
  return w.map((v) => v / sum);
}

/** ceil(N * up / down) outputs; output n is the input convolved at n * down / up input samples. */
function oracle(d: Oracle, x: Float32Array): number[] {
  const y: number[] = [];
  const at = (j: number) => (j >= 0 && j < x.length ? x[j]! : 0);
  for (let n = 0; n < Math.ceil((x.length * d.up) / d.down); n++) {
    const i = Math.floor((n * d.down) / d.up);
    const phase = (n * d.down) % d.up;
    const conv = (w: number[]) => w.reduce((s, v, k) => s + v * at(i - d.half + 1 + k), 0);
    if (d.rows === 0) {
      y.push(conv(weights(d, phase / d.up)));
    } else {
      const q = (phase * d.rows) / d.up, r = Math.floor(q);
      const a0 = conv(weights(d, r / d.rows)), a1 = conv(weights(d, (r + 1) / d.rows));
      y.push(a0 + (q - r) * (a1 - a0));
    }
  }
  return y;
}

/** Every call's output and the flush's, joined. */
function run(r: Resampler, x: Float32Array, chunks: number[] = [x.length]): number[] {
  const y: number[] = [];
  let o = 0;
  for (let k = 0; o < x.length; k++) {
    const n = Math.min(chunks[k % chunks.length]!, x.length - o);
    y.push(...r.process(x.subarray(o, o + n)));
    o += n;
  }
  return [...y, ...r.flush()];
}

/** Equal sample for sample to float32 rounding of the taps and of the output (|x| <= 1; seen: 6e-8). */
function expectClose(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(2e-7);
}

describe('Resampler against a direct windowed-sinc convolution', () => {
  it('3:2 down at the defaults: 140 taps (hand-worked), every output sample', () => {
    // nyquist 1/3 cycle/sample, width 0.125/3: ceil(82.05 / 0.5983) + 1 = 139 -> half 70.
    const r = new Resampler(48000, 32000);
    expect([r.taps, r.latency]).toEqual([140, 70]);
    const x = noise(300, 1);
    expectClose(run(r, x), oracle(design(2, 3, {}, 70), x));
  });

  it('2:3 up, 1:2 down and a 3-phase up at other options, chunked as the worklet does', () => {
    const cases: Array<[number, number, number, number, ResamplerOptions]> = [
      [16000, 24000, 3, 2, {}],
      [16000, 8000, 1, 2, { attenuationDb: 40 }],
      [8000, 24000, 3, 1, { passband: 0.5, stopband: 1.5, attenuationDb: 20 }],
      [24000, 16000, 2, 3, { attenuationDb: 50 }], // Kaiser's middle formula at its end
    ];
    for (const [from, to, up, down, o] of cases) {
      const d = design(up, down, o);
      const x = noise(257, from + to);
      expect(new Resampler(from, to, o).taps).toBe(2 * d.half);
      expectClose(run(new Resampler(from, to, o), x), oracle(d, x));
      expectClose(run(new Resampler(from, to, o), x, [128, 1, 0, 37]), oracle(d, x));
    }
  });

  it('more phases than maxPhases: linear between tabulated rows (17:16 on 16 rows)', () => {
    const o = { maxPhases: 16 };
    const x = noise(200, 7);
    expectClose(run(new Resampler(16000, 17000, o), x, [50, 3]), oracle(design(17, 16, o), x));
  });

  it('one input far larger than the history buffer, then small ones: history kept and dropped right', () => {
    // The history starts at 4 x taps + 1024 = 1584 samples; 5000 at once makes it grow past twice that.
    const x = noise(5600, 3);
    expectClose(run(new Resampler(48000, 32000), x, [5000, 5, 300]), oracle(design(2, 3, {}, 70), x));
  });

  it('a flush or reset starts the next stream from silence: history zeroed, positions at 0', () => {
    const a = noise(150, 4), b = noise(90, 5);
    const want = oracle(design(2, 3, {}, 70), b);
    const r = new Resampler(48000, 32000);
    run(r, a);
    expectClose(run(r, b), want);
    r.process(a);
    r.reset();
    expectClose(run(r, b), want);
    expect(r.flush()).toEqual(new Float32Array(0)); // nothing was pending
  });

  it('non-integer rates are reduced to 1/1000 Hz: 16000.1 -> 8000.05 is 2:1, 3 -> 1.1 is 11:30', () => {
    const x = noise(120, 6);
    expectClose(run(new Resampler(16000.1, 8000.05), x), oracle(design(1, 2), x));
    // Either side alone non-integer (a float remainder chain would give no such ratio).
    expectClose(run(new Resampler(3, 1.1), x), oracle(design(11, 30), x));
    expectClose(run(new Resampler(1.1, 3), x), oracle(design(30, 11), x));
  });

  it('processInto and flushInto write into caller buffers of exactly maxOutput', () => {
    const x = noise(400, 8);
    const r = new Resampler(16000, 24000);
    const y: number[] = [];
    for (let o = 0; o < x.length; o += 100) {
      const buf = new Float32Array(r.maxOutput(100));
      const n = r.processInto(x.subarray(o, o + 100), buf);
      y.push(...buf.subarray(0, n));
    }
    const tail = new Float32Array(r.maxOutput(0));
    y.push(...tail.subarray(0, r.flushInto(tail)));
    expectClose(y, oracle(design(3, 2), x));
    expect(() => r.processInto(x, new Float32Array(r.maxOutput(x.length) - 1))).toThrow(/output buffer holds \d+ samples, needs \d+/);
    expect(() => r.flushInto(new Float32Array(r.maxOutput(0) - 1))).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    // The bound is tight: the outputs of the input and the lookahead, and a little slack.
    expect(r.maxOutput(100)).toBeLessThanOrEqual(Math.ceil(((100 + r.latency) * 3) / 2) + 3);
  });

  it('processInto allocates nothing once the history has grown (the capture worklet calls it per quantum)', () => {
    const r = new Resampler(48000, 32000);
    const x = noise(128, 10);
    const out = new Float32Array(r.maxOutput(128));
    for (let c = 0; c < 4; c++) r.processInto(x, out);
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = g.Float32Array;
    let made = 0;
    g.Float32Array = new Proxy(Float32Array, {
      construct(target, args, nt) {
        made++;
        return Reflect.construct(target, args, nt) as object;
      },
    });
    try {
      new Float32Array(1); // control: the proxy sees a construction
      expect(made).toBe(1);
      made = 0;
      for (let c = 0; c < 300; c++) r.processInto(x, out);
    } finally {
      g.Float32Array = saved;
    }
    expect(made).toBe(0);
  });

  it('equal rates copy: no filter, no latency, flush and reset empty', () => {
    const r = new Resampler(1536000, 1536000);
    const x = noise(50, 9);
    expect([r.taps, r.latency, r.maxOutput(50)]).toEqual([0, 0, 50]);
    expect(r.process(x)).toEqual(x);
    const out = new Float32Array(50);
    expect(r.processInto(x, out)).toBe(50);
    expect(out).toEqual(x);
    expect(() => r.processInto(x, new Float32Array(49))).toThrow(/holds 49 samples, needs 50/);
    expect(r.flush()).toEqual(new Float32Array(0));
    r.process(x);
    const tail = new Float32Array(8).fill(2);
    expect(r.flushInto(tail)).toBe(0);
    expect(tail).toEqual(new Float32Array(8).fill(2));
    r.reset();
    expect(r.process(x)).toEqual(x);
    expect(new Resampler(1, 1).process(x)).toEqual(x);
  });

  it('rejects rates outside 1..1536000 and options outside their ranges, saying which', () => {
    const bad = (f: () => unknown, msg: RegExp) => {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(TalStreamError);
      expect((err as TalStreamError).code).toBe('bad-argument');
      expect((err as Error).message).toMatch(msg);
    };
    bad(() => new Resampler(0.999, 8000), /fromRate must be a sample rate in Hz \(1\.\.1536000\), got 0\.999/);
    bad(() => new Resampler(8000, 1536001), /toRate must be .* got 1536001/);
    bad(() => new Resampler('8000' as unknown as number, 8000), /fromRate .* got 8000/);
    bad(() => new Resampler(NaN, 8000), /fromRate .* got NaN/);
    bad(() => new Resampler(8000, Infinity), /toRate .* got Infinity/);
    const opts: Array<[ResamplerOptions, RegExp]> = [
      [{ passband: 0 }, /need 0 < passband < stopband <= 2, got 0, 1/],
      [{ passband: 1 }, /got 1, 1/],
      [{ passband: NaN }, /passband < stopband/],
      [{ stopband: 2.01 }, /got 0\.875, 2\.01/],
      [{ attenuationDb: 19.9 }, /attenuationDb must be 20\.\.200, got 19\.9/],
      [{ attenuationDb: 200.1 }, /got 200\.1/],
      [{ maxPhases: 15 }, /maxPhases must be an integer 16\.\.65536, got 15/],
      [{ maxPhases: 65537 }, /got 65537/],
      [{ maxPhases: 16.5 }, /got 16\.5/],
    ];
    for (const [o, msg] of opts) bad(() => new Resampler(16000, 8000, o), msg);
    // The ends of each range are accepted.
    for (const o of [{ stopband: 2 }, { attenuationDb: 20 }, { attenuationDb: 200 }, { maxPhases: 16 }, { maxPhases: 65536 }]) {
      expect(new Resampler(16000, 8000, o).taps).toBeGreaterThan(0);
    }
  });
});
