import { describe, expect, it } from 'vitest';
import { SpeechBand } from '../../src/dsp/speech-band';

/**
 * The oracle: a second-order Butterworth section made by the bilinear transform with its cutoff
 * prewarped has, at digital frequency f, the analog magnitude at W = tan(pi f / fs) / tan(pi fc / fs):
 * |H|^2 = 1 / (1 + W^4) for the low-pass and W^4 / (1 + W^4) for the high-pass (Q = 1/sqrt 2:
 * (1 - W^2)^2 + 2 W^2 = 1 + W^4). The band is a 100 Hz high-pass then a 2000 Hz low-pass; a
 * section whose cutoff is at or above 0.45 fs is left out (a pass-through).
 */
function expectedDb(f: number, fs: number): number {
  const t = (x: number): number => Math.tan((Math.PI * x) / fs);
  let p = 1;
  const hp = Math.pow(t(f) / t(100), 4);
  p *= hp / (1 + hp);
  if (2000 < 0.45 * fs) p *= 1 / (1 + Math.pow(t(f) / t(2000), 4));
  return 10 * Math.log10(p);
}

/** Gain of the band on a unit sine at f, dB: RMS out over RMS in, over the last half second of 1.5 s. */
function measuredDb(f: number, fs: number): number {
  const band = new SpeechBand(fs);
  const n = Math.round(1.5 * fs);
  let si = 0;
  let so = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.sin((2 * Math.PI * f * i) / fs);
    const y = band.step(x);
    if (i >= n - fs / 2) {
      si += x * x;
      so += y * y;
    }
  }
  return 10 * Math.log10(so / si);
}

describe('SpeechBand (the near-end detector\'s 100-2000 Hz band-pass)', () => {
  for (const fs of [16000, 44100, 48000]) {
    it(`has the Butterworth response at ${fs} Hz: -3 dB at both cutoffs, flat between, 12 dB/octave outside`, () => {
      for (const f of [25, 50, 100, 200, 500, 1000, 2000, 4000, 7000]) {
        // Within 0.02 dB: the window holds a whole number of periods only approximately.
        expect(Math.abs(measuredDb(f, fs) - expectedDb(f, fs))).toBeLessThan(0.02);
      }
      // Spot values of the oracle itself, by hand: -3.01 dB at a cutoff (the other section adds
      // < 0.01 dB there), 10 log10(1/17) = -12.3 dB an octave under the high-pass (W ~ 1/2).
      expect(Math.abs(expectedDb(100, fs) + 3.01)).toBeLessThan(0.01);
      expect(Math.abs(expectedDb(2000, fs) + 3.01)).toBeLessThan(fs === 16000 ? 0.02 : 0.01);
      expect(Math.abs(expectedDb(50, fs) + 12.3)).toBeLessThan(0.05);
    });
  }

  it('leaves the low-pass out where 2000 Hz is over 0.45 x the rate (4400 Hz: a 2100 Hz tone passes whole)', () => {
    // With the low-pass, 2100 Hz would be an octave-ish over its (warped) cutoff: -12 dB.
    expect(Math.abs(measuredDb(2100, 4400))).toBeLessThan(0.01);
    expect(Math.abs(measuredDb(2100, 4400) - expectedDb(2100, 4400))).toBeLessThan(0.02);
  });

  it('reset() forgets the state: the same input gives the same output again', () => {
    const band = new SpeechBand(16000);
    const x = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i * 0.3) + (i === 7 ? 1 : 0));
    const first = x.map((v) => band.step(v));
    band.reset();
    const again = x.map((v) => band.step(v));
    expect(Array.from(again)).toEqual(Array.from(first));
    // A band-pass passes no DC: a step settles to 0.
    band.reset();
    let y = 1;
    for (let i = 0; i < 16000; i++) y = band.step(1);
    expect(Math.abs(y)).toBeLessThan(1e-6);
  });
});
