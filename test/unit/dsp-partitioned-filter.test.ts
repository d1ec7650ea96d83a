import { describe, expect, it } from 'vitest';
import { RealFft } from '../../src/dsp/fft';
import { PartitionedFilter } from '../../src/dsp/partitioned-filter';
import { rng } from './dsp-echo-sim';

// Exact tests of the two-path partitioned-block frequency-domain filter on a tiny filter (B = 16
// taps per partition, M = 3 partitions: 48 taps). The oracles are written here, independent of
// the code: a naive DFT for the gradient step the class documents (W_j += prop_j mu conj(X_j) E,
// then the time-domain constraint), and a direct time-domain convolution for the estimate.

const B = 16;
const N = 2 * B;
const M = 3;

/** Naive unscaled DFT of a real sequence: bins 0..N/2 (the same convention as RealFft). */
function dft(x: ArrayLike<number>): { re: number[]; im: number[] } {
  const n = x.length;
  const re: number[] = [];
  const im: number[] = [];
  for (let k = 0; k <= n / 2; k++) {
    let r = 0;
    let i = 0;
    for (let t = 0; t < n; t++) {
      r += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      i -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    re.push(r);
    im.push(i);
  }
  return { re, im };
}

/** Naive inverse (1/n) of a Hermitian spectrum given by its bins 0..n/2. */
function idft(re: ArrayLike<number>, im: ArrayLike<number>, n: number): number[] {
  const x: number[] = [];
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let k = 0; k < n; k++) {
      const kk = k <= n / 2 ? k : n - k;
      const sign = k <= n / 2 ? 1 : -1; // X[n-k] = conj(X[k])
      const a = (2 * Math.PI * k * t) / n;
      s += re[kk]! * Math.cos(a) - sign * im[kk]! * Math.sin(a);
    }
    x.push(s / n);
  }
  return x;
}

/** 2B samples with a 1 at `at`, zeros elsewhere. */
const impulse = (at: number): Float64Array => {
  const t = new Float64Array(N);
  t[at] = 1;
  return t;
};

/** The spectrum of an error block: [0 (B), e (B)], as the canceller forms it. */
function errorSpectrum(e: ArrayLike<number>): { eRe: Float64Array; eIm: Float64Array } {
  const buf = new Float64Array(N);
  for (let i = 0; i < B; i++) buf[B + i] = e[i]!;
  const { re, im } = dft(buf);
  return { eRe: Float64Array.from(re), eIm: Float64Array.from(im) };
}

const randomBlock = (r: () => number): number[] => Array.from({ length: B }, () => 2 * r() - 1);

/**
 * The expected time-domain update of one partition whose reference block is `x` (2B samples): the
 * inverse of p mu(k) conj(X(k)) E(k), a circular cross-correlation weighted per bin; with
 * `constrained`, its second half zeroed (no circular wrap).
 */
function expectedUpdate(x: ArrayLike<number>, e: ArrayLike<number>, mu: ArrayLike<number>, p: number, constrained: boolean): number[] {
  const X = dft(x);
  const buf = new Float64Array(N);
  for (let i = 0; i < B; i++) buf[B + i] = e[i]!;
  const E = dft(buf);
  const gr: number[] = [];
  const gi: number[] = [];
  for (let k = 0; k <= B; k++) {
    // conj(X) E
    gr.push(p * mu[k]! * (X.re[k]! * E.re[k]! + X.im[k]! * E.im[k]!));
    gi.push(p * mu[k]! * (X.re[k]! * E.im[k]! - X.im[k]! * E.re[k]!));
  }
  const w = idft(gr, gi, N);
  if (constrained) for (let i = B; i < N; i++) w[i] = 0;
  return w;
}

/**
 * The proportionate shares after an update, from the partitions' time-domain responses: the
 * norm of each partition's spectrum over bins 0..B, plus 0.1 x the largest and 1e-12, scaled to
 * sum to 0.99 (the rule the class documents).
 */
function shares(ws: number[][]): number[] {
  const norms = ws.map((w) => {
    const W = dft(w);
    let s = 0;
    for (let k = 0; k <= B; k++) s += W.re[k]! ** 2 + W.im[k]! ** 2;
    return Math.sqrt(s);
  });
  const max = Math.max(...norms);
  const raw = norms.map((v) => v + 0.1 * max + 1e-12);
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((v) => (0.99 * v) / total);
}

/** Direct convolution y[n] = sum_i h[i] x[n - i] (x zero before its start). */
function convolve(x: ArrayLike<number>, h: ArrayLike<number>): number[] {
  const y: number[] = [];
  for (let n = 0; n < x.length; n++) {
    let s = 0;
    for (let i = 0; i < h.length && i <= n; i++) s += h[i]! * x[n - i]!;
    y.push(s);
  }
  return y;
}

/**
 * Streams `x` (a whole number of blocks) through the filter as the canceller does (each block's
 * 2B window [previous block, this block] pushed, then the estimate), after M blocks of zeros that
 * flush whatever history the filter had; returns the estimate's output samples for `x` (the
 * second half of each inverse), block after block.
 */
function stream(f: PartitionedFilter, signal: ArrayLike<number>, foreground: boolean): number[] {
  const x = [...new Array<number>(M * B).fill(0), ...Array.from(signal)];
  const out = new Float64Array(N);
  const y: number[] = [];
  for (let s = 0; s < x.length; s += B) {
    const t = new Float64Array(N);
    for (let i = 0; i < N; i++) t[i] = s - B + i >= 0 ? x[s - B + i]! : 0;
    f.pushReference(t);
    f.estimate(foreground, out);
    if (s >= M * B) for (let i = 0; i < B; i++) y.push(out[B + i]!);
  }
  return y;
}

// The reference spectra are held in Float32 (7 digits): outputs agree to ~1e-7 of their size (at
// most ~1 here); a wrong tap, partition or bin is off by 1e-3 or more.
const expectClose = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-6): void => {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(tol);
};

/** Puts reference window `t` in partition j and zeros in every other (pushes, then reloads). */
function place(f: PartitionedFilter, j: number, t: Float64Array): void {
  f.pushReference(t);
  for (let z = 0; z < j; z++) f.pushReference(new Float64Array(N));
  for (let z = j + 1; z < M; z++) f.reloadReference(z, new Float64Array(N));
}

/**
 * Three gradient steps from zero, each on a random reference window in one partition only, so
 * step s writes partition s; the error blocks are random and mu varies per bin (a mu read from
 * the wrong bin shows; a random window has a complex spectrum, so X for conj(X) shows). The
 * update, a circular correlation, spills into the second half (circular wrap), so whether a
 * partition was constrained shows. The documented
 * constraint: partition 0 and partition 1 + block % (M - 1) after every step (block = step here:
 * partition 1 at steps 0 and 2, partition 2 at step 1, before it is written). Returns the filter
 * and the expected 2B-sample response of each partition.
 */
function trained(seed = 5): { f: PartitionedFilter; parts: number[][]; mu: Float64Array } {
  const r = rng(seed);
  const f = new PartitionedFilter(new RealFft(N), M);
  const mu = Float64Array.from({ length: B + 1 }, (_, k) => 0.5 + k / B);
  const parts: number[][] = [0, 1, 2].map(() => new Array<number>(N).fill(0));
  let prop = [0.99 / M, 0.99 / M, 0.99 / M]; // the documented start: equal shares summing to 0.99
  const t = new Float64Array(N);
  for (let step = 0; step < M; step++) {
    const x = Float64Array.from({ length: N }, () => 2 * r() - 1);
    place(f, step, x);
    const e = randomBlock(r);
    const { eRe, eIm } = errorSpectrum(e);
    const u = expectedUpdate(x, e, mu, prop[step]!, false);
    parts[step] = parts[step]!.map((v, i) => v + u[i]!);
    for (const j of [0, 1 + (step % (M - 1))]) for (let i = B; i < N; i++) parts[j]![i] = 0;
    f.adapt(eRe, eIm, mu, step, t);
    prop = shares(parts);
  }
  return { f, parts, mu };
}

describe('PartitionedFilter (two-path MDF, exact on a 3 x 16-tap filter)', () => {
  it('starts with equal proportionate shares summing to 0.99: weightedPower of an impulse in one partition', () => {
    const f = new PartitionedFilter(new RealFft(N), M);
    expect(f.B).toBe(B);
    expect(f.bins).toBe(B + 1);
    // An impulse anywhere in the window has |X(k)| = 1 in every bin: px(k) = share of its partition.
    f.pushReference(impulse(B + 3));
    const px = new Float64Array(B + 1);
    f.weightedPower(px);
    for (const v of px) expect(v).toBeCloseTo(0.99 / M, 6);
    // Two impulses (partitions 0 and 1): two shares; an amplitude-2 impulse: 4 x a share.
    f.pushReference(impulse(5));
    f.weightedPower(px);
    for (const v of px) expect(v).toBeCloseTo((2 * 0.99) / M, 6);
    const t = impulse(B);
    t[B] = 2;
    f.pushReference(t); // partitions 0 (amplitude 2), 1, 2
    f.weightedPower(px);
    for (const v of px) expect(v).toBeCloseTo((6 * 0.99) / M, 6);
  });

  it('each gradient step writes p_j mu(k) conj(X_j) E into its partition, constrained on 0 and one other in turn', () => {
    const { f, parts } = trained();
    // The response of partition j, read through the estimate: an impulse at t[0] in partition j
    // (and nothing in the others) gives out[B..2B) = w_j[B..2B) (the second half, where the
    // constraint acts); at t[B], out[B..2B) = w_j[0..B).
    const out = new Float64Array(N);
    for (let j = 0; j < M; j++) {
      for (const [at, from] of [
        [B, 0],
        [0, B],
      ] as const) {
        place(f, j, impulse(at));
        f.estimate(false, out);
        expectClose(out.subarray(B), parts[j]!.slice(from, from + B));
      }
    }
    // Not a vacuous check of the second halves: partition 2 kept its circular wrap (it was
    // written at block 2, when partitions 0 and 1 were constrained).
    const wrap = (w: number[]): number => Math.max(...w.slice(B).map(Math.abs));
    expect(wrap(parts[2]!)).toBeGreaterThan(1e-3);
  });

  it('updates the proportionate shares from the partitions\' energies (weightedPower reads them back)', () => {
    const { f, parts } = trained();
    const want = shares(parts);
    const px = new Float64Array(B + 1);
    for (let j = 0; j < M; j++) {
      place(f, j, impulse(B));
      f.weightedPower(px);
      for (const v of px) expect(v).toBeCloseTo(want[j]!, 6);
    }
    // Unequal now (partition 0 had the largest share when it learned): the rule is not a no-op.
    expect(Math.abs(want[0]! - want[2]!)).toBeGreaterThan(0.01);
  });

  it('estimates as a direct convolution with the 48-tap response; the foreground only after choose() copies it', () => {
    const { f, parts, mu } = trained();
    // A fourth step with a zero error at block 1 constrains partition 2 (and 0) without changing
    // anything else: now every partition is a B-tap response.
    const t = new Float64Array(N);
    f.adapt(new Float64Array(B + 1), new Float64Array(B + 1), mu, 1, t);
    const h = parts.flatMap((w) => w.slice(0, B));
    const r = rng(77);
    const x = Array.from({ length: 8 * B }, () => 2 * r() - 1);
    const y = stream(f, x, false);
    expectClose(y, convolve(x, h));
    // The foreground is still zero: nothing has been chosen.
    const fg = stream(f, x, true);
    expect(Math.max(...fg.map(Math.abs))).toBe(0);
    // Background 10% better than foreground is not enough (strictly more is needed): sff - see = 2
    // against 0.1 x (sff + see) = 2, after one step both averages are 0.1 x those.
    f.choose(9, 11);
    expect(Math.max(...stream(f, x, true).map(Math.abs))).toBe(0);
    // A clear win copies the background forward.
    f.choose(0, 10);
    expectClose(stream(f, x, true), convolve(x, h));
  });

  it('restores the background from the foreground when it does clearly worse, not at exactly -50%', () => {
    const { f } = trained();
    const x = Array.from({ length: 4 * B }, (_, i) => Math.sin(i * 0.7));
    const before = stream(f, x, false);
    // sff - see = -2, 0.5 x (sff + see) = 2: exactly at the bound, no restore.
    f.choose(3, 1);
    expect(stream(f, x, false)).toEqual(before);
    // Clearly worse: the background becomes the (zero) foreground.
    const g = trained().f;
    g.choose(3.1, 1);
    expect(Math.max(...stream(g, x, false).map(Math.abs))).toBe(0);
  });

  it('choose() smooths over blocks and starts over after a copy', () => {
    const x = Array.from({ length: 4 * B }, (_, i) => Math.cos(i * 0.3));
    const zero = (f: PartitionedFilter): boolean => Math.max(...stream(f, x, true).map(Math.abs)) === 0;
    // Alone, a block 12% better copies: 0.1 x 2.4 = 0.24 > 0.1 x (0.1 x 20) = 0.2.
    const alone = trained().f;
    alone.choose(8.8, 11.2);
    expect(zero(alone)).toBe(false);
    // After a block 5% worse it does not: the averages are 0.9 x (-0.1) + 0.24 = 0.15 against
    // 0.1 x (0.9 x 2 + 2) = 0.38 (and the worse block alone restores nothing: -0.1 > -0.5 x 2).
    const f = trained().f;
    f.choose(10.5, 9.5);
    f.choose(8.8, 11.2);
    expect(zero(f)).toBe(true);
    // After a copy the difference average starts from 0: choose(0, 10) copies (1 > 0.1), then a
    // block 10% better copies nothing (0.1 against 0.1 x (0.9 x 1 + 1) = 0.19; a difference
    // average left at 1 would be 1 x 0.9 + 0.1 = 1 > 0.19). Seen by changing the background first.
    f.choose(0, 10);
    const fgBefore = stream(f, x, true);
    const { eRe, eIm } = errorSpectrum(randomBlock(rng(3)));
    place(f, 0, impulse(B));
    f.adapt(eRe, eIm, new Float64Array(B + 1).fill(1), 0, new Float64Array(N));
    f.choose(4.5, 5.5);
    expect(stream(f, x, true)).toEqual(fgBefore);
    expect(stream(f, x, false)).not.toEqual(fgBefore); // the background did change
  });

  it('works with one partition (constrained at every step, no other in turn)', () => {
    const f = new PartitionedFilter(new RealFft(N), 1);
    const r = rng(8);
    const x = Float64Array.from({ length: N }, () => 2 * r() - 1);
    const e = randomBlock(r);
    const { eRe, eIm } = errorSpectrum(e);
    const mu = new Float64Array(B + 1).fill(0.7);
    f.pushReference(x);
    f.adapt(eRe, eIm, mu, 5, new Float64Array(N));
    const w = expectedUpdate(x, e, mu, 0.99, true); // the one partition's share: 0.99
    const out = new Float64Array(N);
    f.pushReference(impulse(B));
    f.estimate(false, out);
    expectClose(out.subarray(B), w.slice(0, B));
  });

  it('peakTap() is the largest tap of the constrained partitions, in samples from the filter start', () => {
    const f = new PartitionedFilter(new RealFft(N), M);
    expect(f.peakTap()).toBe(0);
    // An impulse at t[B] in partition 1, error with its peak at sample 5 (flat mu): the update of
    // partition 1 is prop_1 x e (the correlation of an impulse with e), its peak at tap 5; block
    // 0 constrains partitions 0 and 1, so the peak is noted: 1 x B + 5.
    const e = new Array<number>(B).fill(0.1);
    e[5] = -0.9;
    const { eRe, eIm } = errorSpectrum(e);
    f.pushReference(impulse(B));
    f.pushReference(new Float64Array(N));
    f.adapt(eRe, eIm, new Float64Array(B + 1).fill(1), 0, new Float64Array(N));
    expect(f.peakTap()).toBe(B + 5);
    // Moving the filter one partition earlier (the bulk delay grew by a block) moves the peak too.
    f.shift(1);
    expect(f.peakTap()).toBe(5);
    f.shift(-2);
    expect(f.peakTap()).toBe(2 * B + 5);
    // Out of the far end: nothing left.
    f.shift(-1);
    expect(f.peakTap()).toBe(0);
  });

  it('shift(k) moves both filters k partitions (zeros where nothing moves in); reset() zeroes all', () => {
    const { f, parts, mu } = trained();
    f.adapt(new Float64Array(B + 1), new Float64Array(B + 1), mu, 1, new Float64Array(N));
    f.choose(0, 10); // foreground = background
    const r = rng(11);
    const x = Array.from({ length: 8 * B }, () => 2 * r() - 1);
    const resp = (js: (number | null)[]): number[] => js.flatMap((j) => (j === null ? new Array<number>(B).fill(0) : parts[j]!.slice(0, B)));
    f.shift(1); // partition j takes j + 1's taps, the last is zeroed
    for (const fg of [false, true]) expectClose(stream(f, x, fg), convolve(x, resp([1, 2, null])));
    f.shift(-2); // partition j takes j - 2's: only partition 2 has a source (0, which held 1)
    for (const fg of [false, true]) expectClose(stream(f, x, fg), convolve(x, resp([null, null, 1])));
    f.reset();
    for (const fg of [false, true]) expect(Math.max(...stream(f, x, fg).map(Math.abs))).toBe(0);
  });

  it('reloadReference(j) replaces only partition j\'s spectrum', () => {
    const { f, parts, mu } = trained();
    f.adapt(new Float64Array(B + 1), new Float64Array(B + 1), mu, 1, new Float64Array(N));
    const out = new Float64Array(N);
    // All partitions empty, then an impulse reloaded into partition 1 only: the estimate is
    // partition 1's response alone.
    for (let z = 0; z < M; z++) f.pushReference(new Float64Array(N));
    f.reloadReference(1, impulse(B));
    f.estimate(false, out);
    expectClose(out.subarray(B), parts[1]!.slice(0, B));
    // After one more push, what was partition 1 is partition 2 (the slots rotate with the head).
    f.pushReference(new Float64Array(N));
    f.estimate(false, out);
    expectClose(out.subarray(B), parts[2]!.slice(0, B));
  });
});
