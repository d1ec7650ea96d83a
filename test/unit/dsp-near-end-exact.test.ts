import { describe, expect, it } from 'vitest';
import { BargeInDetector } from '../../src/dsp/barge-in-detector';
import { NearEndDetector, cancellerLatency, resolveBargeInOptions, type BargeInOptions, type NearEndVerdict } from '../../src/dsp/near-end-detector';
import { TalStreamError } from '../../src/errors';

// Fast exact tests of the near-end detector's decision and the barge-in rule (the simulations of
// room echo are in dsp-near-end-detector.test.ts). Signals here are steady tones whose frame
// energies are known by hand: a 500 Hz tone at 16 kHz has 32 samples per period, so a 10 ms frame
// (160 samples) holds exactly 5 periods and its mean square is A^2 / 2; the speech band (100-2000
// Hz) passes 500 Hz at -0.02 dB (dsp-speech-band.test.ts checks the band against the analytic
// Butterworth response). Thresholds are probed 1 dB either side, after the band's transient.

const RATE = 16000;
const F = 160; // 10 ms frames

/** A 500 Hz tone whose mean square per frame is `ms` for each frame of `levels` (phase continuous). */
function tone(levels: number[], hz = 500): Float32Array {
  const x = new Float32Array(levels.length * F);
  for (let i = 0; i < x.length; i++) x[i] = Math.sqrt(2 * levels[Math.floor(i / F)]!) * Math.sin((2 * Math.PI * hz * i) / RATE);
  return x;
}

const db = (x: number): number => Math.pow(10, x / 10);

/** Verdicts of a detector streaming mic / ref / out (out = mic when omitted: no canceller). */
function verdicts(mic: Float32Array, ref: Float32Array, options: BargeInOptions = {}, out = mic): NearEndVerdict[] {
  const det = new NearEndDetector(RATE, options);
  const v: NearEndVerdict[] = [];
  const frames = det.process(mic, ref, out, mic.length, { push: (x) => v.push(x) });
  expect(frames).toBe(v.length);
  return v;
}

const repeat = <T,>(v: T, n: number): T[] => new Array<T>(n).fill(v);

describe('NearEndDetector decisions on steady tones (exact)', () => {
  it('with nothing played, is speech exactly when the band stands snrDb over the noise floor', () => {
    // 40 frames at -50 dBFS (the floor; the first two frames are not taken for it), then 20
    // frames 10 dB over it, 20 frames 8 dB over it, 20 at 10 dB again. snrDb is 9.
    const floor = 1e-5;
    const levels = [...repeat(floor, 40), ...repeat(floor * db(10), 20), ...repeat(floor * db(8), 20), ...repeat(floor * db(10), 20)];
    const v = verdicts(tone(levels), new Float32Array(levels.length * F));
    // Two frames after each step are the band's transient: not checked.
    const check = (from: number, to: number, want: NearEndVerdict): void => expect(v.slice(from, to)).toEqual(repeat(want, to - from));
    check(0, 40, 'silence');
    check(42, 60, 'speech');
    check(62, 80, 'silence');
    check(82, 100, 'speech');
    // A larger snrDb (12) makes the 10 dB frames silence too; a smaller one (7) the 8 dB frames speech.
    expect(verdicts(tone(levels), new Float32Array(levels.length * F), { snrDb: 12 }).filter((x) => x === 'speech')).toEqual([]);
    const low = verdicts(tone(levels), new Float32Array(levels.length * F), { snrDb: 7 });
    expect(low.slice(62, 80)).toEqual(repeat('speech', 18));
    expect(low.slice(0, 40)).toEqual(repeat('silence', 40));
  });

  it('the floor starts at -40 dBFS: a steady -35 dBFS tone from the start is silence, one at -25 speech', () => {
    // With no quieter frame seen, the floor is its start value, 1e-4: -35 dBFS is 5 dB over it
    // (under snrDb 9), -25 is 15 dB over; a steady tone never lowers the floor under itself.
    const n = 50;
    expect(verdicts(tone(repeat(db(-35), n)), new Float32Array(n * F)).slice(2)).toEqual(repeat('silence', n - 2));
    expect(verdicts(tone(repeat(db(-25), n)), new Float32Array(n * F)).slice(2)).toEqual(repeat('speech', n - 2));
  });

  it('frames quieter than minLevelDb are never speech, however far over the floor', () => {
    // Floor at -100 dBFS (1e-10 is digital silence; 2e-10 is a level), then a tone at -75 dBFS:
    // 25 dB over the floor; minLevelDb -70 forbids it, -80 allows it.
    const levels = [...repeat(2e-10, 30), ...repeat(db(-75), 20)];
    const ref = new Float32Array(levels.length * F);
    expect(verdicts(tone(levels), ref).slice(32)).toEqual(repeat('silence', 18));
    expect(verdicts(tone(levels), ref, { minLevelDb: -80 }).slice(32)).toEqual(repeat('speech', 18));
  });

  it('while something plays, is speech only marginDb over the prior residue, else echo (or silence when quiet)', () => {
    // The reference: a -20 dBFS tone (1e-2). Before any residue is learned the prediction is the
    // prior gain (priorGainDb 0: 1) x the loudest reference frame of the window (1e-2), for the
    // first echoWindowMs of played audio. marginDb 8: a mic 9 dB over the reference is speech,
    // 7 dB over is echo. The floor stays at its start (1e-4: nothing quieter is heard).
    const n = 40;
    const ref = tone(repeat(1e-2, n));
    const o = { priorGainDb: 0 };
    expect(verdicts(tone(repeat(1e-2 * db(9), n)), ref, o).slice(2)).toEqual(repeat('speech', n - 2));
    expect(verdicts(tone(repeat(1e-2 * db(7), n)), ref, o).slice(2)).toEqual(repeat('echo', n - 2));
    // The default prior is 6 dB: 9 dB over the reference is then under the 8 dB margin.
    expect(verdicts(tone(repeat(1e-2 * db(9), n)), ref).slice(2)).toEqual(repeat('echo', n - 2));
    expect(verdicts(tone(repeat(1e-2 * db(15), n)), ref).slice(2)).toEqual(repeat('speech', n - 2));
    // A smaller margin (6 dB) makes 7 dB over speech.
    expect(verdicts(tone(repeat(1e-2 * db(7), n)), ref, { ...o, marginDb: 6 }).slice(2)).toEqual(repeat('speech', n - 2));
    // A mic under snrDb over the floor while playing: silence, not echo (nothing is heard).
    expect(verdicts(tone(repeat(1e-4 * db(5), n)), ref, o).slice(2)).toEqual(repeat('silence', n - 2));
  });

  it('the echo window: played audio can echo for echoWindowMs after it stops, then the detector is plain again', () => {
    // The reference plays for frames 0-19 (the mic hears nothing: digital zeros); the user speaks
    // at the reference's level from frame 20. echoWindowMs 100 = 10 frames: frames 20-28 still
    // have frame 19 in their window (prediction 4 x 1e-2: the user is echo), frame 29 has not
    // (nothing plays: 1e-2 over the 1e-4 floor is speech).
    const ref = tone([...repeat(1e-2, 20), ...repeat(0, 20)]);
    const mic = tone([...repeat(0, 20), ...repeat(1e-2, 20)], 700);
    const v = verdicts(mic, ref, { echoWindowMs: 100 });
    expect(v.slice(20, 29)).toEqual(repeat('echo', 9));
    expect(v.slice(29)).toEqual(repeat('speech', 11));
    // echoWindowMs 200: the window ends 10 frames later.
    const w = verdicts(mic, ref, { echoWindowMs: 200 });
    expect(w.slice(20, 39)).toEqual(repeat('echo', 19));
    expect(w[39]).toBe('speech');
  });

  it('learns the echo\'s residue gain from echo frames, never from the frames around speech', () => {
    // priorGainDb 0, echoWindowMs 100: the prior (1) holds for 10 played frames, then fades at
    // 10 dB/s (0.1 dB per frame). The echo is half the reference (-6 dB: 2.5e-3 against 1e-2), the
    // floor at its start (1e-4) for the first 2 s (200 frames). The echo's frames teach the gain
    // (2.5e-3 - 2e-4) / 1e-2 = 0.23 (committed 20 frames later when no speech is within 20
    // frames): the prediction stays at 0.23 x 1e-2 after the prior has faded, and the echo stays
    // echo. (A detector that learned nothing would call it speech once the prior fell under
    // (2.5e-3 - 1e-4) / (6.31 x 1e-2) = 0.038, -14 dB: ~140 frames after the hold, before frame 200.)
    // From frame 200 the start value has left the floor's 2 s memory: the floor is the echo's
    // own level (it never stops), so the echo is silence (not 9 dB over it), and it teaches a gain
    // of 0 (under twice the floor); the 0.23 is held for 2 s.
    // Then a user (a 700 Hz tone: a frame holds whole periods of 200 Hz, so the tones' powers
    // add) at 4e-2: 4.25e-2 is 12 dB over the floor and over 2.5e-3 + 6.31 x 0.23e-2: speech.
    // Then their soft tail, 1.5e-2 for 10 frames: 1.75e-2 is under 9 dB over the floor (silence);
    // it is within 200 ms of speech when its residue would be committed, so it is not learned.
    // Learned, its gain (1.75e-2 - 5e-3) / 1e-2 = 1.25 would hold the prediction at 1.25e-2 for
    // 2 s, and the user at 4e-2 again, 100 frames later, would be under 2.5e-3 + 6.31 x 1.25e-2.
    const n = 490;
    const ref = tone(repeat(1e-2, n));
    const user = tone([...repeat(0, 300), ...repeat(4e-2, 40), ...repeat(1.5e-2, 10), ...repeat(0, 100), ...repeat(4e-2, 40)], 700);
    const mic = ref.map((v, i) => 0.5 * v + user[i]!);
    const v = verdicts(mic, ref, { priorGainDb: 0, echoWindowMs: 100 });
    expect(v.slice(2, 200)).toEqual(repeat('echo', 198));
    expect(v.slice(210, 300)).toEqual(repeat('silence', 90));
    expect(v.slice(302, 340)).toEqual(repeat('speech', 38));
    expect(v.slice(342, 450)).toEqual(repeat('silence', 108));
    expect(v.slice(452, 490)).toEqual(repeat('speech', 38));
  });

  it('takes the canceller\'s output for the decision, and the mic minus it (aligned by outputLag) as the echo estimate', () => {
    // The mic is a loud tone (+15 dB over the reference: speech without a canceller); the
    // "canceller" output is the same tone 20 dB down. Decided on the output: 5 dB under the
    // reference, echo. The estimate (mic - output) does not lower the prediction before the
    // estimate's gain is learned.
    const n = 40;
    const ref = tone(repeat(1e-2, n));
    const mic = tone(repeat(1e-2 * db(15), n));
    expect(verdicts(mic, ref).slice(2)).toEqual(repeat('speech', n - 2));
    const out = mic.map((v) => v * 0.1);
    expect(verdicts(mic, ref, {}, out).slice(2)).toEqual(repeat('echo', n - 2));
  });

  it('at an echo onset, predicts up to 0.005 x the canceller\'s echo estimate (mic aligned by the latency, minus the output)', () => {
    // The reference plays at 1e-2 with a prior of -60 dB (1e-8 predicted from it). The mic is a
    // tone of mean square 1, the "canceller" output 0.1 x the mic. A 500 Hz tone repeats every 32
    // samples, so the mic 128 samples ago (the default latency at 16 kHz) is the mic now: the echo
    // estimate is 0.9 x the mic, mean square 0.81, the output's 0.01. For the first 2 x LEARN_MS
    // (40 frames) of a heard estimate, and for 40 frames after a speech frame, the residue may be
    // 0.005 x 0.81 = 4e-3: the output (0.01) is not 8 dB over it, echo. Otherwise, with the
    // estimate's gain not yet learned in all its blocks (100 frames), the prediction is the
    // prior's: speech. Frame 1 (index 0): the mic delay line still holds zeros for 128 of its 160
    // samples, the estimate is (128 x 0.01 + 32 x 0.81) / 160 = 0.17, 0.005 x that is under the
    // output by more than 8 dB: speech. So: speech at frame 1, the onset's 40 frames and the 40
    // after frame 1's speech overlap (frames 2-41: echo), speech at frame 42, echo for the 40
    // frames after it, speech at frame 83.
    const n = 90;
    const ref = tone(repeat(1e-2, n));
    const mic = tone(repeat(1, n));
    const out = mic.map((v) => 0.1 * v);
    const v = verdicts(mic, ref, { priorGainDb: -60 }, out);
    expect(v[0]).toBe('speech');
    expect(v.slice(1, 41)).toEqual(repeat('echo', 40));
    expect(v[41]).toBe('speech');
    expect(v.slice(42, 82)).toEqual(repeat('echo', 40));
    expect(v[82]).toBe('speech');
    // Without a canceller (out = mic) there is no estimate: speech from the start.
    expect(verdicts(out, ref, { priorGainDb: -60 }).slice(2)).toEqual(repeat('speech', n - 2));
  });

  it('process() returns the frames completed per call and classify() decides whole frames at an offset', () => {
    const mic = tone(repeat(db(-25), 6));
    const ref = new Float32Array(mic.length);
    const det = new NearEndDetector(RATE);
    expect(det.frameSize).toBe(F);
    expect(det.process(mic, ref, mic, 250)).toBe(1); // 250 samples: one frame and 90 of the next
    expect(det.process(mic.subarray(250), ref, mic.subarray(250), 70)).toBe(1); // 320: two
    expect(det.process(mic.subarray(320), ref, mic.subarray(320), 159)).toBe(0);
    const other = new NearEndDetector(RATE);
    const got: NearEndVerdict[] = [];
    for (let f = 0; f < 6; f++) got.push(other.classify(mic, ref, mic, f * F));
    const streamed = verdicts(mic, ref);
    expect(got).toEqual(streamed);
    expect(other.verdict).toBe(streamed[5]);
    // reset(): as new.
    other.reset();
    expect(other.verdict).toBe('silence');
    const again: NearEndVerdict[] = [];
    for (let f = 0; f < 6; f++) again.push(other.classify(mic, ref, mic, f * F));
    expect(again).toEqual(streamed);
    // Frame length from frameMs at the rate, rounded: 10 ms at 44.1 kHz is 441 samples; 1 ms at 1 kHz is 1.
    expect(new NearEndDetector(44100).frameSize).toBe(441);
    expect(new NearEndDetector(1000, { frameMs: 1 }).frameSize).toBe(1);
    expect(new NearEndDetector(16000, { frameMs: 20 }).frameSize).toBe(320);
  });
});

describe('near-end detector options and rates', () => {
  it('has these defaults, accepts each option at both ends of its range and rejects past them', () => {
    expect(resolveBargeInOptions()).toEqual({
      minSpeechMs: 100, maxGapMs: 40, marginDb: 8, snrDb: 9, minLevelDb: -70, frameMs: 10, echoWindowMs: 600, priorGainDb: 6, rearmMs: 300,
    });
    expect(Object.isFrozen(resolveBargeInOptions())).toBe(true);
    const range: Record<string, [number, number]> = {
      minSpeechMs: [0, 5000], maxGapMs: [0, 1000], marginDb: [0, 40], snrDb: [0, 40], minLevelDb: [-120, 0],
      frameMs: [1, 100], echoWindowMs: [0, 5000], priorGainDb: [-60, 20], rearmMs: [0, 10000],
    }; // prettier-ignore
    for (const [key, [lo, hi]] of Object.entries(range)) {
      expect(resolveBargeInOptions({ [key]: lo })[key as keyof BargeInOptions]).toBe(lo);
      expect(resolveBargeInOptions({ [key]: hi })[key as keyof BargeInOptions]).toBe(hi);
      for (const bad of [lo - 0.5, hi + 0.5, NaN, Infinity, String(lo)]) {
        let err: unknown;
        try {
          resolveBargeInOptions({ [key]: bad } as BargeInOptions);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TalStreamError);
        expect((err as TalStreamError).code).toBe('bad-argument');
        expect((err as Error).message).toContain(`bargeIn.${key} must be a number in ${lo}..${hi}`);
      }
    }
  });

  it('takes sample rates 1000..192000 Hz only', () => {
    for (const ok of [1000, 192000]) {
      expect(new NearEndDetector(ok).frameSize).toBe(Math.round(ok / 100));
      expect(new BargeInDetector(ok).frameSize).toBe(Math.round(ok / 100));
    }
    for (const bad of [999, 192001, NaN, Infinity, '16000']) {
      for (const make of [() => new NearEndDetector(bad as number), () => new BargeInDetector(bad as number)]) {
        expect(make).toThrow(TalStreamError);
        expect(make).toThrow(/sampleRate must be 1000\.\.192000 Hz/);
      }
    }
  });

  it('aligns the output by a default canceller\'s latency: the power of two <= 8 ms, at least 16', () => {
    // 8 ms is 64 samples at 8 kHz, 128 at 16 kHz, 352.8 at 44.1 kHz (256), 384 at 48 kHz (256),
    // 768 at 96 kHz (512), 8 at 1 kHz (16, the minimum).
    const want: [number, number][] = [[8000, 64], [16000, 128], [44100, 256], [48000, 256], [96000, 512], [1000, 16], [2000, 16], [4000, 32]]; // prettier-ignore
    for (const [rate, b] of want) expect(cancellerLatency(rate)).toBe(b);
  });
});

describe('BargeInDetector rule on hand-made verdicts', () => {
  const S: NearEndVerdict = 'speech';
  const E: NearEndVerdict = 'echo';
  const Q: NearEndVerdict = 'silence';
  const feed = (b: BargeInDetector, vs: NearEndVerdict[]): number[] => vs.flatMap((v, i) => (b.push(v) ? [i] : []));

  it('counts frames by rounding ms to frames; minSpeechMs 0 fires on the first speech frame', () => {
    // 25 ms of 10 ms frames rounds to 3 frames (Math.round(2.5)).
    const b = new BargeInDetector(RATE, { minSpeechMs: 25 });
    expect(feed(b, [Q, S, S, S, S])).toEqual([3]);
    expect(b.onsetSample).toBe(F);
    expect(b.detectSample).toBe(4 * F);
    const z = new BargeInDetector(RATE, { minSpeechMs: 0 });
    expect(feed(z, [E, E, S])).toEqual([2]);
    expect([z.onsetSample, z.detectSample]).toEqual([2 * F, 3 * F]);
    // At 44.1 kHz a 10 ms frame is 441 samples: the samples count in those.
    const c = new BargeInDetector(44100, { minSpeechMs: 20 });
    expect(feed(c, [Q, S, S])).toEqual([2]);
    expect([c.onsetSample, c.detectSample]).toEqual([441, 3 * 441]);
  });

  it('counts gaps (echo and silence alike) inside a run: S E E S fires at 40 ms, half of it speech', () => {
    // minSpeechMs 40 = 4 frames, maxGapMs 20 = 2: the run S E E S is 4 frames, 2 of them speech
    // (exactly half: enough).
    const b = new BargeInDetector(RATE, { minSpeechMs: 40, maxGapMs: 20 });
    expect(feed(b, [S, Q, E, S])).toEqual([3]);
    expect(b.onsetSample).toBe(0);
    // S E E E S S S: the third non-speech frame ends the run; a new one from frame 4 fires at 7.
    const c = new BargeInDetector(RATE, { minSpeechMs: 40, maxGapMs: 20 });
    expect(feed(c, [S, E, E, E, S, S, S, S])).toEqual([7]);
    expect(c.onsetSample).toBe(4 * F);
    // Less than half speech: with minSpeechMs 60 (6 frames), S E E S E E S is 7 frames with 3
    // speech: no barge-in; one more S makes 4 of 8, half: it fires.
    const d = new BargeInDetector(RATE, { minSpeechMs: 60, maxGapMs: 20 });
    expect(feed(d, [S, E, E, S, E, E, S, S])).toEqual([7]);
  });

  it('does not fire again while fired; re-arms after rearmMs of non-speech, the run going on across it', () => {
    // rearmMs 10 = 1 frame, maxGapMs 20: after the first barge-in, one echo frame re-arms, and
    // the run (gap 1 <= 2) goes on: the next speech frame fires again, onset still the run's start.
    const b = new BargeInDetector(RATE, { minSpeechMs: 30, maxGapMs: 20, rearmMs: 10 });
    expect(feed(b, [S, S, S, S, S])).toEqual([2]);
    expect(b.fired).toBe(true);
    expect(feed(b, [E])).toEqual([]);
    expect(b.fired).toBe(false);
    expect(feed(b, [S])).toEqual([0]);
    expect([b.onsetSample, b.detectSample]).toEqual([0, 7 * F]);
    // rearmMs 0 re-arms on the first non-speech frame too (0 frames needed, counted after one).
    const z = new BargeInDetector(RATE, { minSpeechMs: 10, rearmMs: 0 });
    expect(feed(z, [S, S, E, S])).toEqual([0, 3]);
    // rearmMs 30: speech in between starts the count again (S E E S E E E: re-armed at the last).
    const c = new BargeInDetector(RATE, { minSpeechMs: 10, maxGapMs: 0, rearmMs: 30 });
    expect(feed(c, [S, E, E, S, E, E])).toEqual([0]);
    expect(c.fired).toBe(true);
    expect(feed(c, [E])).toEqual([]);
    expect(c.fired).toBe(false);
    expect(feed(c, [S])).toEqual([0]);
    expect(c.onsetSample).toBe(7 * F); // maxGap 0: the run began at this frame
  });

  it('reset() forgets the run, the firing and the sample count', () => {
    const b = new BargeInDetector(RATE, { minSpeechMs: 30 });
    // -1 before any barge-in, as documented, from construction on.
    expect([b.fired, b.onsetSample, b.detectSample]).toEqual([false, -1, -1]);
    feed(b, [Q, S, S, S]);
    expect(b.fired).toBe(true);
    b.reset();
    expect([b.fired, b.onsetSample, b.detectSample]).toEqual([false, -1, -1]);
    // A half-built run is forgotten too: S S then reset then S fires only after three more.
    const c = new BargeInDetector(RATE, { minSpeechMs: 30 });
    feed(c, [S, S]);
    c.reset();
    expect(feed(c, [S, S, S])).toEqual([2]);
    expect(c.onsetSample).toBe(0);
  });
});
