// What the reference server "heard": duration, level and the dominant frequency of an upload.
// Pure code (no Node, no DOM) so it can be unit-tested on synthetic signals.

/** The result of {@link analyseTone}. */
export interface ToneAnalysis {
  /** Number of mono samples analysed. */
  samples: number;
  /** Their sample rate in Hz. */
  sampleRate: number;
  /** `samples / sampleRate` in milliseconds. */
  durationMs: number;
  /** Root mean square level of the whole signal, in [0, 1]. */
  rms: number;
  /** Largest absolute sample value. */
  peak: number;
  /**
   * The dominant frequency in Hz (to 0.1 Hz), or `null` when the signal is silent or too short
   * (fewer than 256 samples) to say.
   */
  peakHz: number | null;
}

/** Options of {@link analyseTone}. */
export interface ToneAnalysisOptions {
  /** Lowest frequency searched, Hz (default 50: below that is hum and DC, not voice). */
  minHz?: number;
  /** Highest frequency searched, Hz (default 0.95 × Nyquist). */
  maxHz?: number;
  /** RMS under which the signal counts as silence and `peakHz` is null (default 1e-3, about -60 dBFS). */
  silenceRms?: number;
  /** Largest FFT size (power of two, default 8192): sets the frequency resolution. */
  maxFftSize?: number;
  /** At most this many windows are averaged, spread over the signal (default 16): bounds the cost. */
  maxWindows?: number;
}

/**
 * Measures a mono signal: duration, RMS, peak and dominant frequency. The frequency comes from the
 * average Hann-windowed magnitude spectrum of up to `maxWindows` windows spread over the signal,
 * refined by a parabola through the log magnitudes around the peak bin (Hann's main lobe is close
 * to a Gaussian there, which makes that fit accurate to a small fraction of a bin).
 */
export function analyseTone(mono: Float32Array, sampleRate: number, options: ToneAnalysisOptions = {}): ToneAnalysis {
  const n = mono.length;
  let sumSq = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const v = mono[i]!;
    sumSq += v * v;
    const a = v < 0 ? -v : v;
    if (a > peak) peak = a;
  }
  const rms = n > 0 ? Math.sqrt(sumSq / n) : 0;
  const base = { samples: n, sampleRate, durationMs: (n / sampleRate) * 1000, rms, peak };
  const silenceRms = options.silenceRms ?? 1e-3;
  if (n < 256 || rms < silenceRms) return { ...base, peakHz: null };

  const maxFft = options.maxFftSize ?? 8192;
  let size = 256;
  while (size * 2 <= Math.min(n, maxFft)) size *= 2;
  const windows = Math.min(options.maxWindows ?? 16, Math.max(1, Math.floor(n / size)));
  const stride = windows > 1 ? Math.floor((n - size) / (windows - 1)) : 0;

  const hann = new Float64Array(size);
  for (let i = 0; i < size; i++) hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  const power = new Float64Array(size / 2 + 1);
  for (let w = 0; w < windows; w++) {
    const start = w * stride;
    for (let i = 0; i < size; i++) {
      re[i] = mono[start + i]! * hann[i]!;
      im[i] = 0;
    }
    fftInPlace(re, im);
    for (let k = 0; k <= size / 2; k++) power[k]! += re[k]! * re[k]! + im[k]! * im[k]!;
  }

  const binHz = sampleRate / size;
  const lo = Math.max(1, Math.ceil((options.minHz ?? 50) / binHz));
  const hi = Math.min(size / 2 - 1, Math.floor((options.maxHz ?? sampleRate * 0.475) / binHz));
  let best = -1;
  for (let k = lo; k <= hi; k++) if (best < 0 || power[k]! > power[best]!) best = k;
  if (best < 0) return { ...base, peakHz: null };
  // Parabolic interpolation on log power (a Gaussian fit of the main lobe).
  const a = Math.log(power[best - 1]! + 1e-30);
  const b = Math.log(power[best]! + 1e-30);
  const c = Math.log(power[best + 1]! + 1e-30);
  const denom = a - 2 * b + c;
  const delta = denom < 0 ? (0.5 * (a - c)) / denom : 0;
  const hz = (best + Math.max(-0.5, Math.min(0.5, delta))) * binHz;
  return { ...base, peakHz: Math.round(hz * 10) / 10 };
}

/** Iterative radix-2 complex FFT; `re.length` must be a power of two. */
function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    const half = len >> 1;
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const p = i + k;
        const q = p + half;
        const tr = re[q]! * cr - im[q]! * ci;
        const ti = re[q]! * ci + im[q]! * cr;
        re[q] = re[p]! - tr;
        im[q] = im[p]! - ti;
        re[p]! += tr;
        im[p]! += ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/**
 * The sentence the reference server puts in `question`: "heard 2.4 s of 16 kHz audio, 440 Hz peak"
 * (or "..., silence" when there was nothing above the silence threshold).
 */
export function describeHeard(t: ToneAnalysis): string {
  const secs = (t.durationMs / 1000).toFixed(1);
  const khz = t.sampleRate % 1000 === 0 ? String(t.sampleRate / 1000) : (t.sampleRate / 1000).toFixed(2);
  const what = t.peakHz === null ? 'silence' : `${Math.round(t.peakHz)} Hz peak`;
  return `heard ${secs} s of ${khz} kHz audio, ${what}`;
}
