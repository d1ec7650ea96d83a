/**
 * A streaming sample-rate converter: Kaiser-windowed sinc, polyphase, any rational ratio.
 *
 * One design serves capture (the context's native rate down to 16 kHz) and playback (the reply's
 * rate up to the context's). Pure code: it runs on the main thread, in Node and inside AudioWorklets.
 */
import { TalStreamError } from '../errors';
import { buildPhaseTable, kaiserBeta, kaiserLength, type SincDesign } from './filter-design';

/** Design options of a {@link Resampler}. The defaults meet talstream's quality goals. */
export interface ResamplerOptions {
  /**
   * End of the passband as a fraction of the lower of the two Nyquist frequencies. Default 0.875
   * (7 kHz when one side is 16 kHz).
   */
  passband?: number;
  /**
   * Start of the stopband as a fraction of the lower Nyquist frequency. Default 1.0: nothing above
   * the output's Nyquist frequency survives to alias back, and no image of a band-limited input is
   * left above the input's.
   */
  stopband?: number;
  /** Stopband attenuation the Kaiser window is designed for, in dB. Default 90. */
  attenuationDb?: number;
  /**
   * Largest number of exact polyphase rows to tabulate. Ratios whose reduced numerator is larger
   * (e.g. 44100 -> 47999) use this many rows and interpolate linearly between adjacent ones
   * (error about -120 dB at the default). Default 1024.
   */
  maxPhases?: number;
}

/**
 * Dot product of `n` samples from x[xo] and h[ho]. Four independent accumulators let the
 * CPU overlap the multiply-adds; the summation order is fixed, so results never depend on how the
 * input was chunked.
 */
function dot(x: Float32Array, xo: number, h: Float32Array, ho: number, n: number): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    a += x[xo + k]! * h[ho + k]!;
    b += x[xo + k + 1]! * h[ho + k + 1]!;
    c += x[xo + k + 2]! * h[ho + k + 2]!;
    d += x[xo + k + 3]! * h[ho + k + 3]!;
  }
  for (; k < n; k++) a += x[xo + k]! * h[ho + k]!;
  return a + b + (c + d);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Reduces from/to to integers L/M (to/from), accepting non-integer rates to 1/1000 Hz. */
function ratio(fromRate: number, toRate: number): { up: number; down: number } {
  let a = fromRate;
  let b = toRate;
  if (!Number.isInteger(a) || !Number.isInteger(b)) {
    a = Math.round(a * 1000);
    b = Math.round(b * 1000);
  }
  const g = gcd(a, b);
  return { up: b / g, down: a / g };
}

function checkRate(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 1_536_000) {
    throw new TalStreamError('bad-argument', `Resampler: ${name} must be a sample rate in Hz (1..1536000), got ${String(v)}`);
  }
  return v;
}

/**
 * Converts a mono Float32 stream from `fromRate` to `toRate`.
 *
 * Output sample `n` is the band-limited input evaluated at time `n * fromRate / toRate` input
 * samples: the filter's delay is compensated, so N input samples give `ceil(N * toRate / fromRate)`
 * output samples once {@link Resampler.flush} has been called. State carries across calls, and
 * the output of many small calls is bit-identical to one call with all the input.
 *
 * For allocation-free use (AudioWorklets) call {@link Resampler.processInto} with a buffer of at
 * least {@link Resampler.maxOutput} samples.
 */
export class Resampler {
  /** Input rate in Hz. */
  readonly fromRate: number;
  /** Output rate in Hz. */
  readonly toRate: number;
  /** Taps per output sample (the filter's length in input samples); 0 when the rates are equal. */
  readonly taps: number;
  /** Delay, in input samples, before an input sample can affect an output (lookahead). */
  readonly latency: number;

  private readonly up: number;
  private readonly down: number;
  private readonly stepInt: number;
  private readonly stepFrac: number;
  private readonly half: number;
  private readonly table: Float32Array;
  /** Rows tabulated when interpolating (0 = exact: one row per phase). */
  private readonly interpRows: number;
  private readonly identity: boolean;

  // Streaming state. Input index `histBase` is hist[0]; the next output sits at `pos + phase/up`.
  private hist: Float32Array;
  private histLen = 0;
  private histBase = 0;
  private pos = 0;
  private phase = 0;
  /** Number of real input samples seen since the last reset (zeros of the flush excluded). */
  private received = 0;

  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    this.fromRate = checkRate('fromRate', fromRate);
    this.toRate = checkRate('toRate', toRate);
    const passband = options.passband ?? 0.875;
    const stopband = options.stopband ?? 1.0;
    const attenuation = options.attenuationDb ?? 90;
    const maxPhases = options.maxPhases ?? 1024;
    if (!(passband > 0 && stopband > passband && stopband <= 2)) {
      throw new TalStreamError('bad-argument', `Resampler: need 0 < passband < stopband <= 2, got ${passband}, ${stopband}`);
    }
    if (!(attenuation >= 20 && attenuation <= 200)) {
      throw new TalStreamError('bad-argument', `Resampler: attenuationDb must be 20..200, got ${attenuation}`);
    }
    if (!(Number.isInteger(maxPhases) && maxPhases >= 16 && maxPhases <= 65536)) {
      throw new TalStreamError('bad-argument', `Resampler: maxPhases must be an integer 16..65536, got ${maxPhases}`);
    }
    const { up, down } = ratio(fromRate, toRate);
    this.up = up;
    this.down = down;
    this.stepInt = Math.floor(down / up);
    this.stepFrac = down % up;
    this.identity = up === down;
    if (this.identity) {
      this.half = 0;
      this.taps = 0;
      this.latency = 0;
      this.table = new Float32Array(0);
      this.interpRows = 0;
      this.hist = new Float32Array(0);
      return;
    }
    // Work in cycles per input sample. The lower Nyquist is min(from, to)/2.
    const nyquist = Math.min(fromRate, toRate) / 2 / fromRate;
    const width = (stopband - passband) * nyquist;
    const cutoff = ((passband + stopband) / 2) * nyquist;
    const length = kaiserLength(attenuation, width);
    const half = Math.max(2, Math.ceil(length / 2));
    const design: SincDesign = { cutoff, half, beta: kaiserBeta(attenuation) };
    this.half = half;
    this.taps = 2 * half;
    this.latency = half;
    if (up <= maxPhases) {
      this.interpRows = 0;
      this.table = buildPhaseTable(design, up, up);
    } else {
      this.interpRows = maxPhases;
      this.table = buildPhaseTable(design, maxPhases, maxPhases + 1);
    }
    this.hist = new Float32Array(4 * this.taps + 1024);
    this.resetState();
  }

  /**
   * Most samples one call can write: `processInto` of `inputLength` samples, or a `flush`
   * (pass 0 for a flush alone).
   */
  maxOutput(inputLength: number): number {
    if (this.identity) return inputLength;
    return Math.ceil(((inputLength + this.half + 1) * this.up) / this.down) + 2;
  }

  /** Converts `input` and returns the output it completes (a new array; may be empty). */
  process(input: Float32Array): Float32Array {
    const out = new Float32Array(this.maxOutput(input.length));
    const n = this.processInto(input, out);
    return n === out.length ? out : out.slice(0, n);
  }

  /**
   * Converts `input`, writes the completed output into `output` from index 0 and returns how many
   * samples it wrote. Allocates nothing once the internal history has grown to the largest input
   * seen. Throws `bad-argument` when `output` is shorter than {@link Resampler.maxOutput}.
   */
  processInto(input: Float32Array, output: Float32Array): number {
    if (this.identity) {
      if (output.length < input.length) this.tooSmall(output.length, input.length);
      output.set(input);
      this.received += input.length;
      return input.length;
    }
    const need = this.maxOutput(input.length);
    if (output.length < need) this.tooSmall(output.length, need);
    this.append(input, input.length);
    this.received += input.length;
    return this.run(output, Infinity);
  }

  /**
   * Ends the stream: pads with silence to emit the last outputs (the tail the lookahead held
   * back), returns them, and resets for a new stream.
   */
  flush(): Float32Array {
    const out = new Float32Array(this.maxOutput(0));
    const n = this.flushInto(out);
    return n === out.length ? out : out.slice(0, n);
  }

  /** {@link Resampler.flush} into a caller buffer of at least `maxOutput(0)` samples; returns the count. */
  flushInto(output: Float32Array): number {
    if (this.identity) {
      this.received = 0;
      return 0;
    }
    const need = this.maxOutput(0);
    if (output.length < need) this.tooSmall(output.length, need);
    // Every output whose instant lies before the end of the real input: pos < received.
    const limit = this.received;
    this.appendZeros(this.half + 1);
    const n = this.run(output, limit);
    this.resetState();
    return n;
  }

  /** Drops all state (history, position) as if newly constructed. */
  reset(): void {
    if (this.identity) {
      this.received = 0;
      return;
    }
    this.resetState();
  }

  private resetState(): void {
    // Input before the stream is silence: half-1 zeros of history precede index 0.
    this.hist.fill(0, 0, this.half - 1);
    this.histLen = this.half - 1;
    this.histBase = -(this.half - 1);
    this.pos = 0;
    this.phase = 0;
    this.received = 0;
  }

  private tooSmall(have: number, need: number): never {
    throw new TalStreamError('bad-argument', `Resampler: output buffer holds ${have} samples, needs ${need}`);
  }

  private reserve(extra: number): void {
    // Drop history no future output needs, then grow only if still short (rare: a bigger input).
    const keepFrom = this.pos - this.half + 1 - this.histBase;
    if (keepFrom > 0) {
      this.hist.copyWithin(0, keepFrom, this.histLen);
      this.histLen -= keepFrom;
      this.histBase += keepFrom;
    }
    if (this.histLen + extra > this.hist.length) {
      const grown = new Float32Array(Math.max(this.histLen + extra, this.hist.length * 2));
      grown.set(this.hist.subarray(0, this.histLen));
      this.hist = grown;
    }
  }

  private append(input: Float32Array, n: number): void {
    this.reserve(n);
    this.hist.set(n === input.length ? input : input.subarray(0, n), this.histLen);
    this.histLen += n;
  }

  private appendZeros(n: number): void {
    this.reserve(n);
    this.hist.fill(0, this.histLen, this.histLen + n);
    this.histLen += n;
  }

  /** Emits every output whose taps are all in the history and whose index is below `limit`. */
  private run(output: Float32Array, limit: number): number {
    const { hist, table, taps, half, up, stepInt, stepFrac, interpRows } = this;
    const end = this.histBase + this.histLen; // one past the last input index held
    let pos = this.pos;
    let phase = this.phase;
    let count = 0;
    while (pos + half < end && pos < limit) {
      const start = pos - half + 1 - this.histBase;
      let acc = 0;
      if (interpRows === 0) {
        acc = dot(hist, start, table, phase * taps, taps);
      } else {
        // Between tabulated rows r and r+1: blend their two dot products.
        const q = (phase * interpRows) / up;
        const r = Math.floor(q);
        const f = q - r;
        const a0 = dot(hist, start, table, r * taps, taps);
        const a1 = dot(hist, start, table, (r + 1) * taps, taps);
        acc = a0 + f * (a1 - a0);
      }
      output[count++] = acc;
      pos += stepInt;
      phase += stepFrac;
      if (phase >= up) {
        phase -= up;
        pos++;
      }
    }
    this.pos = pos;
    this.phase = phase;
    return count;
  }
}
