import { describe, expect, it } from 'vitest';
import { EchoCanceller } from '../../src/dsp/echo-canceller';
import { BargeInDetector, NearEndDetector, resolveBargeInOptions, type NearEndVerdict } from '../../src/dsp/near-end-detector';
import { TalStreamError } from '../../src/errors';
import { RATE, assistant, countAllocations, echoOf, mix, noise, room, speech } from './dsp-echo-sim';

/** Canceller + detector + barge-in rule over whole signals, 128-sample calls (a 48 kHz quantum
 * resampled is ~43; 128 is the other end). Returns every barge-in as [detect, onset] samples. */
function session(mic: Float32Array, ref: Float32Array): { events: [number, number][]; verdicts: NearEndVerdict[] } {
  const ec = new EchoCanceller(RATE);
  const det = new NearEndDetector(RATE);
  const bi = new BargeInDetector(RATE);
  const out = new Float32Array(128);
  const events: [number, number][] = [];
  const verdicts: NearEndVerdict[] = [];
  const sink = { push: (v: NearEndVerdict) => (verdicts.push(v), bi.push(v)) };
  for (let s = 0; s < mic.length; s += 128) {
    const n = Math.min(128, mic.length - s);
    const m = mic.subarray(s, s + n);
    const r = ref.subarray(s, s + n);
    ec.process(m, r, out, n);
    const before = bi.detectSample;
    det.process(m, r, out, n, sink);
    if (bi.detectSample !== before) events.push([bi.detectSample, bi.onsetSample]);
  }
  return { events, verdicts };
}

/** The true onset, from the clean utterance alone: its first 10 ms frame less than 20 dB under
 * its own active level (the RMS of its loud frames). */
function onsetOf(u: Float32Array): number {
  const frames: number[] = [];
  for (let i = 0; i + 160 <= u.length; i += 160) {
    let s = 0;
    for (let j = i; j < i + 160; j++) s += u[j]! * u[j]!;
    frames.push(s / 160);
  }
  const max = Math.max(...frames);
  const act = frames.filter((p) => p > max * 1e-4);
  const level = act.reduce((a, b) => a + b, 0) / act.length;
  return frames.findIndex((p) => p > level / 100) * 160;
}

describe('NearEndDetector + BargeInDetector', () => {
  for (const ms of [20, 120, 250]) {
    it(`no false barge-in on echo only at 0 dB, from the first sample (convergence included), ${ms} ms delay`, () => {
      const ref = assistant(40);
      const mic = mix(echoOf(ref, room(0, ms), (ms * RATE) / 1000), noise(ref.length, -60));
      const { events, verdicts } = session(mic, ref);
      expect(events).toEqual([]);
      // The echo is heard (and called echo), not silence: the detector is not simply deaf.
      expect(verdicts.filter((v) => v === 'echo').length).toBeGreaterThan(verdicts.length / 4);
    });
  }

  it('finds the user cutting in at 0 dB over the echo, onset within 50 ms of the truth', () => {
    const ref = assistant(40);
    const echo = echoOf(ref, room(0), 0.12 * RATE);
    const user = new Float32Array(ref.length);
    const truth: number[] = [];
    // Four cut-ins from 10 s on, 7 s apart, at the echo's level (-20 dBFS active, as the echo).
    [1, 2, 3, 4].forEach((k, i) => {
      const u = speech(`user-${k}.wav`, -20);
      const at = (10 + 7 * i) * RATE;
      user.set(u, at);
      truth.push(at + onsetOf(u));
    });
    const { events } = session(mix(echo, user, noise(ref.length, -60)), ref);
    // The first barge-in of each cut-in (a pause of more than rearmMs inside an utterance, as in
    // "Wait, stop please", may give it a second one: the rule re-arms; the app has interrupted by then).
    const first = truth.map((t) => events.find(([d]) => d >= t - 0.1 * RATE && d <= t + 2 * RATE));
    // Nothing outside the cut-ins.
    expect(events.filter(([d]) => !truth.some((t) => d >= t - 0.1 * RATE && d <= t + 2 * RATE))).toEqual([]);
    first.forEach((ev, i) => {
      expect(ev).toBeDefined();
      const [detect, onset] = ev!;
      // Measured: onsets 0-40 ms from the truth; detections 120-160 ms after it.
      expect(Math.abs(onset - truth[i]!)).toBeLessThanOrEqual(0.05 * RATE);
      expect(detect - truth[i]!).toBeGreaterThanOrEqual(0.12 * RATE);
      expect(detect - truth[i]!).toBeLessThanOrEqual(0.2 * RATE);
    });
  });

  it('is a plain energy detector while nothing plays: speech in noise found, noise alone not', () => {
    const u = speech('user-3.wav', -40);
    const n = noise(4 * RATE, -60);
    const mic = mix(n, new Float32Array(n.length).fill(0));
    mic.set(mix(mic.subarray(RATE, RATE + u.length), u), RATE);
    const ref = new Float32Array(mic.length);
    const det = new NearEndDetector(RATE);
    const bi = new BargeInDetector(RATE);
    det.process(mic, ref, mic, mic.length, bi);
    expect(bi.onsetSample).toBeGreaterThan(0);
    expect(Math.abs(bi.onsetSample - (RATE + onsetOf(u)))).toBeLessThanOrEqual(0.05 * RATE);
    const quiet = new NearEndDetector(RATE);
    const bi2 = new BargeInDetector(RATE);
    const only = noise(10 * RATE, -60, 3);
    quiet.process(only, ref, only, only.length, bi2);
    expect(bi2.onsetSample).toBe(-1);
  });

  it('allocates nothing per call or per frame', () => {
    const ref = assistant(3);
    const mic = mix(echoOf(ref, room(0), 1600), noise(ref.length, -60));
    const det = new NearEndDetector(RATE);
    const bi = new BargeInDetector(RATE);
    const chunks: [Float32Array, Float32Array][] = [];
    for (let s = 0; s + 100 <= mic.length; s += 100) chunks.push([mic.slice(s, s + 100), ref.slice(s, s + 100)]);
    let frames = 0;
    const count = countAllocations(() => {
      for (const [m, r] of chunks) frames += det.process(m, r, m, 100, bi);
    });
    expect(count).toBe(0);
    expect(frames).toBe(Math.floor((chunks.length * 100) / 160));
  });

  it('classify() on whole frames agrees with process() streaming', () => {
    const ref = assistant(3);
    const mic = mix(echoOf(ref, room(-10), 800), noise(ref.length, -60));
    const a = new NearEndDetector(RATE);
    const b = new NearEndDetector(RATE);
    const got: NearEndVerdict[] = [];
    a.process(mic, ref, mic, mic.length, { push: (v: NearEndVerdict) => got.push(v) });
    for (let f = 0; f < got.length; f++) expect(b.classify(mic, ref, mic, f * b.frameSize)).toBe(got[f]);
  });
});

describe('BargeInDetector (the rule alone)', () => {
  const S: NearEndVerdict = 'speech';
  const E: NearEndVerdict = 'echo';
  const feed = (b: BargeInDetector, vs: NearEndVerdict[]): number[] => vs.flatMap((v, i) => (b.push(v) ? [i] : []));

  it('fires on the frame completing minSpeechMs, onset at the run start', () => {
    const b = new BargeInDetector(16000, { minSpeechMs: 50, frameMs: 10, maxGapMs: 20 });
    // frames 0-2 echo, 3.. speech: fires at frame 7 (5 frames = 50 ms), onset = 3 * 160.
    expect(feed(b, [E, E, E, S, S, S, S, S, S, S])).toEqual([7]);
    expect(b.onsetSample).toBe(480);
    expect(b.detectSample).toBe(8 * 160);
  });

  it('bridges gaps up to maxGapMs, restarts the run after a longer one', () => {
    const b = new BargeInDetector(16000, { minSpeechMs: 50, maxGapMs: 20 });
    // S S E E S S S: gap of 2 frames (20 ms) bridged, run from 0, fires at frame 4.
    expect(feed(b, [S, S, E, E, S, S, S])).toEqual([4]);
    expect(b.onsetSample).toBe(0);
    const c = new BargeInDetector(16000, { minSpeechMs: 50, maxGapMs: 20 });
    // S S E E E S S S S S: the 30 ms gap ends the first run; the second starts at frame 5.
    expect(feed(c, [S, S, E, E, E, S, S, S, S, S])).toEqual([9]);
    expect(c.onsetSample).toBe(5 * 160);
  });

  it('needs half the run to be speech, and re-arms only after rearmMs without speech', () => {
    const b = new BargeInDetector(16000, { minSpeechMs: 60, maxGapMs: 20, rearmMs: 30 });
    // S E S E S E: 3 of 6 frames speech, exactly half: fires at frame 5? run frames at frame 4 = 5 < 6.
    expect(feed(b, [S, E, S, E, S, E, S])).toEqual([6]);
    expect(b.fired).toBe(true);
    // Speech right after does not fire again; 3 non-speech frames re-arm.
    expect(feed(b, [S, S, S, S, S, S, S, E, E, E])).toEqual([]);
    expect(b.fired).toBe(false);
    expect(feed(b, [S, S, S, S, S, S])).toEqual([5]);
  });

  it('validates options (TalStreamError bad-argument) and documents its defaults', () => {
    expect(resolveBargeInOptions()).toMatchObject({ minSpeechMs: 120, maxGapMs: 40, marginDb: 8, snrDb: 9, frameMs: 10 });
    for (const o of [{ minSpeechMs: -1 }, { marginDb: NaN }, { frameMs: 0 }, { echoWindowMs: 1e9 }, { snrDb: '6' }]) {
      expect(() => new BargeInDetector(16000, o as object)).toThrow(TalStreamError);
      expect(() => new NearEndDetector(16000, o as object)).toThrow(/bargeIn\./);
    }
    expect(() => new BargeInDetector(0)).toThrow(TalStreamError);
  });
});
