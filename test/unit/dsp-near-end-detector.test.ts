import { describe, expect, it } from 'vitest';
import { EchoCanceller } from '../../src/dsp/echo-canceller';
import { BargeInDetector } from '../../src/dsp/barge-in-detector';
import { NearEndDetector, cancellerLatency, resolveBargeInOptions, type BargeInOptions, type NearEndVerdict } from '../../src/dsp/near-end-detector';
import { TalStreamError } from '../../src/errors';
import { RATE, assistant, atLevel, countAllocations, echoOf, mix, noise, room, speech, tailRoom } from './dsp-echo-sim';

/** Canceller + detector + barge-in rule over whole signals, 128-sample calls (a 48 kHz quantum
 * resampled is ~43; 128 is the other end). Returns every barge-in as [detect, onset] samples. */
function session(mic: Float32Array, ref: Float32Array, rule?: BargeInOptions): { events: [number, number][]; verdicts: NearEndVerdict[] } {
  const ec = new EchoCanceller(RATE);
  const det = new NearEndDetector(RATE, rule && { frameMs: rule.frameMs });
  const bi = new BargeInDetector(RATE, rule);
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
      // Measured: onsets -10..+10 ms from the truth (one starts 10 ms early: its soft start is heard);
      // detections 90-110 ms after it. The rule confirms minSpeechMs (100) after the run's onset,
      // exactly (these runs have no gaps), so detection - truth is that plus the onset's error.
      expect(Math.abs(onset - truth[i]!)).toBeLessThanOrEqual(0.05 * RATE);
      expect(detect - onset).toBe(0.1 * RATE);
      expect(Math.abs(detect - truth[i]! - 0.1 * RATE)).toBeLessThanOrEqual(0.05 * RATE);
    });
  });

  it('finds a quiet user under a quiet echo: 6 dB under a -30 dB echo, 4 dB over the mic noise', () => {
    // The echo at -50 dBFS (the answer at -20, the path -30 dB), the mic's flat noise at -60, the
    // user at -56 dBFS: over the whole band the user is ~4 dB over the noise, under the 9 dB snrDb
    // (the whole-band detector found none of these eight); in the speech band (100-2000 Hz: a
    // quarter of the noise's power at 16 kHz, most of the voice's) they are ~9-10 dB over it.
    const ref = assistant(66);
    const echo = echoOf(ref, room(-30), 0.12 * RATE);
    const user = new Float32Array(ref.length);
    const truth: number[] = [];
    [1, 2, 3, 4, 1, 2, 3, 4].forEach((k, i) => {
      const u = speech(`user-${k}.wav`, -56);
      const at = (10 + 7 * i) * RATE;
      user.set(u, at);
      truth.push(at + onsetOf(u));
    });
    const { events } = session(mix(echo, user, noise(ref.length, -60)), ref, PRODUCT);
    const within = (d: number, t: number): boolean => d >= t - 0.1 * RATE && d <= t + 2 * RATE;
    expect(events.filter(([d]) => !truth.some((t) => within(d, t)))).toEqual([]);
    const found = truth.map((t) => events.find(([d]) => within(d, t)));
    // The goal at -6 dB is misses <= 10% (over the bench's grid), p50 <= 200 ms, p90 <= 350 ms.
    // Measured here: 7 of 8 found; the miss is the first (user-1 at 10 s: user-1 at a later place
    // in the answer is found); 1 of 8 is the bound a regression would cross. Latencies from the
    // true onset 140-200 ms, and 400 ms for both user-4s ("Actually, cancel that.": its first
    // frames stay under the margins at this level; measured, not explained), so: the median at the
    // p50 goal, and each within 450 ms (in the first word).
    expect(found.filter((ev) => ev === undefined).length).toBeLessThanOrEqual(1);
    const latency = found.flatMap((ev, i) => (ev ? [(ev[0] - truth[i]!) / RATE] : [])).sort((a, b) => a - b);
    expect(latency[Math.floor(latency.length / 2)]).toBeLessThanOrEqual(0.2);
    // The rule needs 100 ms of speech from the run's onset; the onset is at most 50 ms early.
    for (const l of latency) expect(l).toBeGreaterThanOrEqual(0.05);
    expect(latency[latency.length - 1]).toBeLessThanOrEqual(0.45);
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
    const out = new Float32Array(100); // a canceller's output: the aligned path (the mic itself: the other)
    let frames = 0;
    const count = countAllocations(() => {
      for (const [m, r] of chunks) frames += det.process(m, r, m, 100, bi) + det.process(m, r, out, 100, bi);
    });
    expect(count).toBe(0);
    expect(frames).toBe(Math.floor((2 * chunks.length * 100) / 160));
  });

  it('classify() on whole frames agrees with process() streaming (the mic as output, and a canceller\'s)', () => {
    const ref = assistant(3);
    const mic = mix(echoOf(ref, room(-10), 800), noise(ref.length, -60));
    const cleaned = new Float32Array(mic.length);
    new EchoCanceller(RATE).process(mic, ref, cleaned, mic.length);
    for (const out of [mic, cleaned]) {
      const a = new NearEndDetector(RATE);
      const b = new NearEndDetector(RATE);
      const got: NearEndVerdict[] = [];
      a.process(mic, ref, out, mic.length, { push: (v: NearEndVerdict) => got.push(v) });
      expect(got.filter((v) => v === 'echo').length).toBeGreaterThan(got.length / 4); // not trivial
      for (let f = 0; f < got.length; f++) expect(b.classify(mic, ref, out, f * b.frameSize)).toBe(got[f]);
    }
  });

  it("aligns the output by the default canceller's latency at every rate", () => {
    for (const rate of [8000, 16000, 22050, 44100, 48000, 96000]) expect(cancellerLatency(rate)).toBe(new EchoCanceller(rate).latency);
  });
});

/** What ships: the worklet's 20 ms verdicts, turn-taking's barge-in rule. */
const PRODUCT: BargeInOptions = { frameMs: 20, minSpeechMs: 100, maxGapMs: 40, rearmMs: 0 };

describe('NearEndDetector on digital silence (remote, muted and synthetic tracks)', () => {
  const F = 320; // 20 ms
  const verdictsOf = (mic: Float32Array): NearEndVerdict[] => {
    const det = new NearEndDetector(RATE, { frameMs: 20 });
    const v: NearEndVerdict[] = [];
    det.process(mic, new Float32Array(mic.length), mic, mic.length, { push: (x: NearEndVerdict) => v.push(x) });
    return v;
  };

  it('finds every tone burst between exact zeros, and nothing else', () => {
    // A 150 ms 440 Hz tone at -13 dBFS RMS every 2.5 s from 1 s on, exact zeros between (2.35 s:
    // longer than the floor's 2 s memory), nothing played.
    const mic = new Float32Array(11 * RATE);
    const A = Math.SQRT2 * Math.pow(10, -13 / 20);
    const starts = [0, 1, 2, 3].map((k) => (1 + 2.5 * k) * RATE);
    for (const s of starts) for (let i = 0; i < 0.15 * RATE; i++) mic[s + i] = A * Math.sin((2 * Math.PI * 440 * i) / RATE);
    // Exact oracle: each burst covers frames s/F .. s/F + 7 (7 whole frames and half of one, that
    // half still at -16 dBFS); those are speech, every other frame is silence.
    const want: NearEndVerdict[] = new Array<NearEndVerdict>(mic.length / F).fill('silence');
    for (const s of starts) for (let f = 0; f < 8; f++) want[s / F + f] = 'speech';
    expect(verdictsOf(mic)).toEqual(want);
  });

  it("does not take a device's noise after digital silence for speech, and finds speech after it", () => {
    // 3 s of zeros (a device starting), 3 s of its noise at -45 dBFS, then a word at -25 dBFS.
    const u = speech('user-3.wav', -25);
    const mic = new Float32Array(6 * RATE + u.length);
    mic.set(noise(mic.length - 3 * RATE, -45, 11), 3 * RATE);
    for (let i = 0; i < u.length; i++) mic[6 * RATE + i] = mic[6 * RATE + i]! + u[i]!;
    const v = verdictsOf(mic);
    expect(v.slice(0, (6 * RATE) / F).filter((x) => x === 'speech')).toEqual([]);
    const bi = new BargeInDetector(RATE, PRODUCT);
    const fired = v.findIndex((x) => bi.push(x));
    // Found within the word: its true onset is onsetOf(u) into it; detection 100-180 ms later.
    const lat = fired * F + F - (6 * RATE + onsetOf(u));
    expect(lat).toBeGreaterThanOrEqual(0.1 * RATE);
    expect(lat).toBeLessThanOrEqual(0.18 * RATE);
  });
});

describe('a reply shorter than the echo window (product settings)', () => {
  // 6 s of answer (the canceller converges), 2 s of nothing, then a 150 ms reply; the user (at the
  // reply's level) 100 ms after its end. The echo path is known from the answer by then: the
  // canceller's estimate says how much of the reply can still echo, not the 600 ms window's prior.
  for (const level of [0, -10, -20]) {
    it(`finds the user in the reply's echo window, never the echo alone (echo ${level} dB)`, () => {
      const ref = new Float32Array(12 * RATE);
      ref.set(assistant(6));
      const a = speech('assistant-2.wav', -20);
      const from = a.findIndex((v) => Math.abs(v) > 0.01);
      ref.set(a.subarray(from, from + 0.15 * RATE), 8 * RATE);
      const echo = echoOf(ref, room(level, 3), 0.12 * RATE);
      const n = noise(ref.length, -60);
      expect(session(mix(echo, n), ref, PRODUCT).events).toEqual([]);
      const u = speech('user-3.wav', -20);
      const user = new Float32Array(ref.length);
      user.set(u, 8.25 * RATE);
      const truth = 8.25 * RATE + onsetOf(u);
      const { events } = session(mix(echo, n, user), ref, PRODUCT);
      // Measured 130-150 ms after the true onset (a fresh detector: ~550 ms, when the 150 ms reply leaves the window).
      expect(events.length).toBeGreaterThan(0);
      expect(events[0]![0] - truth).toBeGreaterThanOrEqual(0.12 * RATE - 2 * 320);
      expect(events[0]![0] - truth).toBeLessThanOrEqual(0.2 * RATE);
    });
  }
});

describe('barge-in in the room of a field report (product settings)', () => {
  // The answer (assistant-5) plays from 0; its echo comes back through the player's 120 ms and the
  // browser's MediaStream path (10-40 ms), in a room with a strong diffuse tail (tailRoom), at the
  // user's level: the echo's active RMS is -20 dBFS at the mic, as is the user's (user-3, cutting in
  // 2.5 s into the answer, while the canceller is still converging: ~15 dB).
  for (const [delayMs, seed] of [
    [130, 1],
    [150, 2],
    [160, 3],
  ] as const) {
    it(`finds the user at 0 dB within the latency goal, never the echo alone (${delayMs} ms, room ${seed})`, () => {
      const ref = new Float32Array(10 * RATE);
      ref.set(speech('assistant-5.wav', -20));
      const echo = atLevel(echoOf(ref, tailRoom(seed), (delayMs * RATE) / 1000), -20);
      const n = noise(ref.length, -60, seed);
      expect(session(mix(echo, n), ref, PRODUCT).events).toEqual([]);
      const u = speech('user-3.wav', -20);
      const user = new Float32Array(ref.length);
      user.set(u, 2.5 * RATE);
      const truth = 2.5 * RATE + onsetOf(u);
      const { events } = session(mix(echo, n, user), ref, PRODUCT);
      expect(events.length).toBeGreaterThan(0);
      const [detect, onset] = events[0]!;
      // The goal is p90 <= 350 ms; measured 140-160 ms (before: none in 10 s). Onset within 2 frames
      // of the truth: measured 20-40 ms late (the soft start's first frames are under the residue).
      expect(detect - truth).toBeGreaterThanOrEqual(0.12 * RATE - 2 * 320);
      expect(detect - truth).toBeLessThanOrEqual(0.35 * RATE);
      expect(Math.abs(onset - truth)).toBeLessThanOrEqual(2 * 320);
    });
  }
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
    expect(resolveBargeInOptions()).toMatchObject({ minSpeechMs: 100, maxGapMs: 40, marginDb: 8, snrDb: 9, frameMs: 10 });
    for (const o of [{ minSpeechMs: -1 }, { marginDb: NaN }, { frameMs: 0 }, { echoWindowMs: 1e9 }, { snrDb: '6' }]) {
      expect(() => new BargeInDetector(16000, o as object)).toThrow(TalStreamError);
      expect(() => new NearEndDetector(16000, o as object)).toThrow(/bargeIn\./);
    }
    expect(() => new BargeInDetector(0)).toThrow(TalStreamError);
    // An infinite rate: the default output lag (cancellerLatency) was worked out before the rate
    // was checked, and its doubling loop never ended (the test hung).
    expect(() => new NearEndDetector(Infinity)).toThrow(TalStreamError);
  });
});
