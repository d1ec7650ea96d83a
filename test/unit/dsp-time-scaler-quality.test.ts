// TimeScaler (src/dsp/time-scaler.ts) quality: pitch kept on a tone, no splice steps, speech
// durations and continuity. The oracles are written from first principles
// (dsp-time-scaler-helpers.ts), never taken from the code under test.
import { describe, expect, it } from 'vitest';
import { speech, db, tone, driftBound, stretch, zeroCrossingHz, annihilatorMax, maxJump, rms, pearson, RATES, CASES } from './dsp-time-scaler-helpers';

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
