/**
 * An allocation-free real FFT for power-of-two sizes, the workhorse of the frequency-domain echo
 * canceller and of the delay estimator.
 *
 * A real signal of n samples is transformed with one complex FFT of n/2 points (even samples as
 * the real part, odd samples as the imaginary part) and a split step, which halves the work of a
 * plain complex FFT. Twiddles and the bit-reversal permutation are tabulated in the constructor;
 * `forward` and `inverse` only read and write preallocated arrays, so they may run on the audio
 * thread.
 */
import { TalStreamError } from '../errors';

/**
 * Real FFT of a fixed power-of-two size `n` (2 .. 2^20).
 *
 * Spectra are held as two arrays of `n/2 + 1` bins (DC .. Nyquist): `re` and `im`. The forward
 * transform is unscaled, `X[k] = sum x[t] e^(-2 pi i k t / n)`; the inverse divides by `n`, so
 * `inverse(forward(x)) == x` up to rounding.
 */
export class RealFft {
  /** Transform size in real samples. */
  readonly size: number;
  /** Number of spectrum bins: `size / 2 + 1`. */
  readonly bins: number;

  private readonly half: number;
  /** Bit-reversal permutation of the n/2-point complex FFT. */
  private readonly rev: Uint32Array;
  /** cos/sin of -2 pi k / (n/2), k < n/4: twiddles of the complex FFT. */
  private readonly cosC: Float64Array;
  private readonly sinC: Float64Array;
  /** cos/sin of -2 pi k / n, k <= n/2: twiddles of the split step. */
  private readonly cosS: Float64Array;
  private readonly sinS: Float64Array;
  /** Scratch of the complex FFT: n/2 complex values. Float64 keeps the rounding far below -100 dB. */
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0) {
      throw new TalStreamError('bad-argument', `RealFft: size must be a power of two 2..2^20, got ${String(n)}`);
    }
    this.size = n;
    this.half = n >> 1;
    this.bins = this.half + 1;
    const h = this.half;
    this.rev = new Uint32Array(h);
    let bits = 0;
    while (1 << bits < h) bits++;
    for (let i = 0; i < h; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
      this.rev[i] = r;
    }
    const q = Math.max(1, h >> 1);
    this.cosC = new Float64Array(q);
    this.sinC = new Float64Array(q);
    for (let k = 0; k < q; k++) {
      this.cosC[k] = Math.cos((-2 * Math.PI * k) / h);
      this.sinC[k] = Math.sin((-2 * Math.PI * k) / h);
    }
    this.cosS = new Float64Array(h + 1);
    this.sinS = new Float64Array(h + 1);
    for (let k = 0; k <= h; k++) {
      this.cosS[k] = Math.cos((-2 * Math.PI * k) / n);
      this.sinS[k] = Math.sin((-2 * Math.PI * k) / n);
    }
    this.zr = new Float64Array(h);
    this.zi = new Float64Array(h);
  }

  /**
   * Forward transform of `input[offset .. offset + size)` into `re`/`im` (each at least `bins`
   * long). `input` may be any numeric typed array.
   */
  forward(input: Float32Array | Float64Array, re: Float32Array | Float64Array, im: Float32Array | Float64Array, offset = 0): void {
    const h = this.half;
    const zr = this.zr;
    const zi = this.zi;
    const rev = this.rev;
    // Pack even/odd samples as one complex sequence, already in bit-reversed order.
    for (let i = 0; i < h; i++) {
      const j = rev[i]!;
      zr[j] = input[offset + 2 * i]!;
      zi[j] = input[offset + 2 * i + 1]!;
    }
    this.complexFft(1);
    // Split: Fe[k] = (Z[k] + conj Z[h-k]) / 2, Fo[k] = (Z[k] - conj Z[h-k]) / 2i,
    // X[k] = Fe[k] + W^k Fo[k] with W = e^(-2 pi i / n).
    re[0] = zr[0]! + zi[0]!;
    im[0] = 0;
    re[h] = zr[0]! - zi[0]!;
    im[h] = 0;
    for (let k = 1; k < h; k++) {
      const ar = zr[k]!;
      const ai = zi[k]!;
      const br = zr[h - k]!;
      const bi = -zi[h - k]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      // (a - b) / 2i = (ai - bi)/2 - i (ar - br)/2
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const c = this.cosS[k]!;
      const s = this.sinS[k]!;
      re[k] = er + (or * c - oi * s);
      im[k] = ei + (or * s + oi * c);
    }
  }

  /**
   * Inverse transform of the `bins` bins in `re`/`im` into `output[offset .. offset + size)`,
   * scaled by 1/size. The imaginary parts of DC and Nyquist are ignored (a real signal has none).
   */
  inverse(re: Float32Array | Float64Array, im: Float32Array | Float64Array, output: Float32Array | Float64Array, offset = 0): void {
    const h = this.half;
    const zr = this.zr;
    const zi = this.zi;
    const rev = this.rev;
    // Undo the split: Fe[k] = (X[k] + conj X[h-k]) / 2, Fo[k] = (X[k] - conj X[h-k]) / (2 W^k),
    // Z[k] = Fe[k] + i Fo[k]; written straight into bit-reversed order.
    for (let k = 0; k < h; k++) {
      const ar = re[k]!;
      const ai = k === 0 ? 0 : im[k]!;
      const br = re[h - k]!;
      const bi = k === 0 ? 0 : -im[h - k]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const dr = 0.5 * (ar - br);
      const di = 0.5 * (ai - bi);
      // divide by W^k = multiply by conj(W^k) = (c, -s)
      const c = this.cosS[k]!;
      const s = this.sinS[k]!;
      const or = dr * c + di * s;
      const oi = di * c - dr * s;
      const j = rev[k]!;
      zr[j] = er - oi;
      zi[j] = ei + or;
    }
    this.complexFft(-1);
    const scale = 1 / h;
    for (let i = 0; i < h; i++) {
      output[offset + 2 * i] = zr[i]! * scale;
      output[offset + 2 * i + 1] = zi[i]! * scale;
    }
  }

  /** In-place radix-2 FFT of zr/zi (already bit-reversed); `sign` -1 conjugates the twiddles. */
  private complexFft(sign: 1 | -1): void {
    const h = this.half;
    const zr = this.zr;
    const zi = this.zi;
    for (let len = 2; len <= h; len <<= 1) {
      const halfLen = len >> 1;
      const step = h / len;
      for (let start = 0; start < h; start += len) {
        for (let k = 0; k < halfLen; k++) {
          const c = this.cosC[k * step]!;
          const s = sign * this.sinC[k * step]!;
          const a = start + k;
          const b = a + halfLen;
          const tr = zr[b]! * c - zi[b]! * s;
          const ti = zr[b]! * s + zi[b]! * c;
          zr[b] = zr[a]! - tr;
          zi[b] = zi[a]! - ti;
          zr[a] = zr[a]! + tr;
          zi[a] = zi[a]! + ti;
        }
      }
    }
  }
}
