// The Kaiser-windowed sinc design (src/dsp/filter-design.ts) on hand-worked values and published
// constants: a wrong window, cutoff or normalisation shows here directly, not only as a few dB in
// the resampler's quality sweep.
import { describe, expect, it } from 'vitest';
import { besselI0, buildPhaseTable, kaiserBeta, kaiserLength, kernelAt } from '../../src/dsp/filter-design';

describe('filter design', () => {
  it('besselI0 matches reference values (scipy.special.i0)', () => {
    expect(besselI0(0)).toBe(1);
    expect(besselI0(1)).toBeCloseTo(1.2660658777520082, 14);
    expect(besselI0(-1)).toBeCloseTo(1.2660658777520082, 14);
    expect(besselI0(5) / 27.239871823604442 - 1).toBeCloseTo(0, 14);
    // I0(20) = 4.3558282559553534e7: far from the first terms, needs the series' tail.
    expect(besselI0(20) / 43558282.559553534 - 1).toBeCloseTo(0, 13);
  });

  it("kaiserBeta follows Kaiser's three ranges", () => {
    expect(kaiserBeta(90)).toBeCloseTo(0.1102 * 81.3, 12);
    expect(kaiserBeta(50.5)).toBeCloseTo(0.1102 * 41.8, 12);
    // 29^0.4 = 3.845557: 0.5842 * 3.845557 + 0.07886 * 29 = 4.533514 (the upper formula would give 4.551)
    expect(kaiserBeta(50)).toBeCloseTo(4.533514, 5);
    expect(kaiserBeta(22)).toBeCloseTo(0.5842 + 0.07886, 12);
    expect(kaiserBeta(21)).toBe(0);
    expect(kaiserBeta(20.9)).toBe(0);
  });

  it('kaiserLength: ceil((A - 7.95) / (14.36 width)) + 1', () => {
    expect(kaiserLength(90, 0.05)).toBe(116); // 82.05 / 0.718 = 114.28
    expect(kaiserLength(21.31, 0.1)).toBe(11); // 13.36 / 1.436 = 9.30
  });

  it('kernelAt: 2 fc sinc(2 fc t) under the Kaiser window, zero from |t| = half on', () => {
    const d = { cutoff: 0.25, half: 4, beta: 0 };
    expect(kernelAt(d, 0)).toBe(0.5);
    expect(kernelAt(d, 1)).toBeCloseTo(1 / Math.PI, 15); // 0.5 * sin(pi/2) / (pi/2)
    expect(kernelAt(d, -1)).toBeCloseTo(1 / Math.PI, 15);
    expect(kernelAt(d, 3)).toBeCloseTo(-1 / (3 * Math.PI), 15);
    expect([kernelAt(d, 4), kernelAt(d, -4), kernelAt(d, 5)]).toEqual([0, 0, 0]);
    expect(kernelAt(d, 3.999)).not.toBe(0);
    // beta 5 at t = 2 of half 4: 2 fc = 1/4, sinc(1/2) = 2/pi, window I0(5 sqrt(3/4)) / I0(5) = I0(4.330127) / I0(5).
    const w = 15.059611344057249 / 27.239871823604442; // scipy.special.i0
    expect(kernelAt({ cutoff: 0.125, half: 4, beta: 5 }, 2) / (0.25 * (2 / Math.PI) * w)).toBeCloseTo(1, 12);
  });

  it('buildPhaseTable: rows at p / phases, taps in input order, each row summing to 1', () => {
    const d = { cutoff: 0.25, half: 2, beta: 0 };
    const t = buildPhaseTable(d, 2, 3);
    expect(t.length).toBe(12);
    // Row 0 (frac 0): inputs at distances 1, 0, -1, -2 -> 1/pi, 1/2, 1/pi, 0 over their sum.
    const s0 = 0.5 + 2 / Math.PI;
    const row0 = [1 / Math.PI / s0, 0.5 / s0, 1 / Math.PI / s0, 0];
    // Row 1 (frac 1/2): distances 1.5, 0.5, -0.5, -1.5; the window is rectangular (beta 0).
    const far = Math.sin(0.75 * Math.PI) / (0.75 * Math.PI), near = Math.sin(0.25 * Math.PI) / (0.25 * Math.PI);
    const s1 = 2 * (far + near);
    const row1 = [far / s1, near / s1, near / s1, far / s1];
    // Row 2 (frac 1): row 0 one input later.
    const row2 = [Math.sin(Math.PI) / Math.PI / s0, 1 / Math.PI / s0, 0.5 / s0, 1 / Math.PI / s0];
    [...row0, ...row1, ...row2].forEach((v, i) => expect(t[i]).toBeCloseTo(v, 7));
    // Cutoff at Nyquist, 2 taps: frac 0 is the input itself, frac 1/2 the mean of the two.
    expect(Array.from(buildPhaseTable({ cutoff: 0.5, half: 1, beta: 0 }, 2, 2))).toEqual([1, 0, 0.5, 0.5]);
  });
});
