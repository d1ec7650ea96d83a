/**
 * Kaiser-windowed sinc design for the polyphase resampler. Pure math: no DOM, no allocation after
 * the tables are built. Used by {@link Resampler} on the main thread, in Node and in the worklets.
 */

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
export function besselI0(x: number): number {
  // The series converges for every x; 1e-16 relative is below float64 resolution for the betas used.
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/** Kaiser's beta for a stopband attenuation of `attenuationDb` (Kaiser 1974; valid for every A). */
export function kaiserBeta(attenuationDb: number): number {
  const a = attenuationDb;
  if (a > 50) return 0.1102 * (a - 8.7);
  if (a >= 21) return 0.5842 * Math.pow(a - 21, 0.4) + 0.07886 * (a - 21);
  return 0;
}

/**
 * Kaiser's length estimate: taps needed for `attenuationDb` with a transition `width` given in
 * cycles per sample (0..0.5).
 */
export function kaiserLength(attenuationDb: number, width: number): number {
  return Math.ceil((attenuationDb - 7.95) / (14.36 * width)) + 1;
}

/** The parameters of one low-pass design, in units of the resampler's input sample rate. */
export interface SincDesign {
  /** Cutoff (the -6 dB point) in cycles per input sample. */
  cutoff: number;
  /** Half the filter's support in input samples: the kernel is zero for |t| >= half. */
  half: number;
  /** Kaiser beta. */
  beta: number;
}

/** The windowed-sinc kernel at `t` input samples from its centre (unnormalised). */
export function kernelAt(design: SincDesign, t: number): number {
  const { cutoff, half, beta } = design;
  const r = t / half;
  if (r <= -1 || r >= 1) return 0;
  const x = 2 * cutoff * t;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  return 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / besselI0(beta));
}

/**
 * Builds `phases` rows of `2 * half` taps each. Row `p` holds the taps that produce an output at
 * `p / phases` of an input sample after input index `i`; tap `k` multiplies input `i - half + 1 + k`.
 * Each row is normalised to sum to exactly 1 so DC passes unchanged whatever the phase (no DC ripple
 * from the rows' tiny truncation differences). `rows` is `phases` or `phases + 1` (the extra row,
 * phase 1.0, lets the interpolating path read row p+1 without a wrap).
 */
export function buildPhaseTable(design: SincDesign, phases: number, rows: number): Float32Array {
  const taps = 2 * design.half;
  const table = new Float32Array(rows * taps);
  const row = new Float64Array(taps);
  for (let p = 0; p < rows; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      // Distance from the output instant (i + frac) to input (i - half + 1 + k).
      const v = kernelAt(design, design.half - 1 - k + frac);
      row[k] = v;
      sum += v;
    }
    const scale = sum !== 0 ? 1 / sum : 0;
    for (let k = 0; k < taps; k++) table[p * taps + k] = row[k]! * scale;
  }
  return table;
}
