// Hands-free barge-in, simulated: the assistant's answer plays, leaks back into the mic through a
// device delay and a room, the user cuts in; the echo canceller + near-end detector decide when
// the user spoke. Printed beside the same figures for a client without a reference (the plain
// energy VoiceGate on the raw mic). One run over a grid of echo delay x echo level x user level.
// Run with `npm run bench:barge-in` (no build needed: the cores are bundled from src/ by load-ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTs } from './load-ts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const t0 = performance.now();
const { EchoCanceller, NearEndDetector, BargeInDetector, RealFft, readWav, VoiceGate, resolveBargeInOptions } = await loadTs([
  'src/dsp/echo-canceller.ts',
  'src/dsp/near-end-detector.ts',
  'src/dsp/barge-in-detector.ts',
  'src/dsp/fft.ts',
  'src/protocol/wav.ts',
  'src/capture/vad.ts',
]);

const RATE = 16000;
const DELAYS_MS = [20, 120, 250];
const ECHO_DB = [-30, -20, -10, 0];
const USER_DB = [-6, 0, 6, 10];
const ECHO_ONLY_S = 200; // per delay and echo level: 3 x 200 s = 10 min per echo level
const WARMUP_S = 6; // assistant speech before the first cut-in of a barge-in session
const TRIALS = 8; // cut-ins per (delay, echo level, user level)
const NOISE_DBFS = -60;
const REF_DBFS = -20; // active speech level of the answer as played
// What ships: the worklet's detector gives one verdict per 20 ms chunk; the main thread's barge-in
// rule (src/conversation/turn-taking.ts) has the BargeInOptions defaults and rearmMs 0.
// TALSTREAM_BARGE_IN='{"maxGapMs":100}' measures other options (tuning), printed in the header.
const FRAME_MS = 20;
const TUNED = JSON.parse(process.env.TALSTREAM_BARGE_IN ?? '{}');
const OPTS = resolveBargeInOptions({ ...TUNED, frameMs: FRAME_MS });
const MIN_SPEECH_MS = OPTS.minSpeechMs; // ours and the VoiceGate's, the same
const RULE = { frameMs: FRAME_MS, minSpeechMs: MIN_SPEECH_MS, maxGapMs: OPTS.maxGapMs, rearmMs: 0 };
const SKIP_S = 10; // ERLE "after convergence": from this second of each echo-only run on

// --- seeded randomness -----------------------------------------------------------------------
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), seed / 2 ** 32);
const gauss = () => Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
const dbToAmp = (d) => Math.pow(10, d / 20);

// --- fixtures ---------------------------------------------------------------------------------
const load = (name) => readWav(readFileSync(path.join(here, '../fixtures/speech', name))).channels[0];
/** RMS over the 10 ms frames within 40 dB of the loudest: the level of the speech, not the pauses. */
function activeRms(x) {
  const f = RATE / 100;
  const p = [];
  for (let i = 0; i + f <= x.length; i += f) {
    let s = 0;
    for (let j = i; j < i + f; j++) s += x[j] * x[j];
    p.push(s / f);
  }
  const max = Math.max(...p);
  const act = p.filter((v) => v > max * 1e-4);
  return Math.sqrt(act.reduce((a, b) => a + b, 0) / act.length);
}
const normalize = (x, dbfs) => {
  const g = dbToAmp(dbfs) / activeRms(x);
  return x.map((v) => v * g);
};
const ASSISTANT = [1, 2, 3, 4, 5].map((i) => normalize(load(`assistant-${i}.wav`), REF_DBFS));
// The users cutting in: user-1..4 (what the defaults were tuned on) or, with
// TALSTREAM_BARGE_USERS=held, held-1..6 (other voices and words, never tuned on).
const HELD = process.env.TALSTREAM_BARGE_USERS === 'held';
const USER_FILES = HELD ? [1, 2, 3, 4, 5, 6].map((i) => `held-${i}.wav`) : [1, 2, 3, 4].map((i) => `user-${i}.wav`);
const USER = USER_FILES.map((f) => normalize(load(f), 0)); // active RMS 1, scaled later

/** True onset of a user utterance, from the clean signal alone: first 10 ms frame above -40 dBFS
 * with the utterance at -20 dBFS active RMS (20 dB under its own level). */
function trueOnset(u) {
  const f = RATE / 100;
  for (let i = 0; i + f <= u.length; i += f) {
    let s = 0;
    for (let j = i; j < i + f; j++) s += u[j] * u[j];
    if (s / f > 0.01) return i; // u has an active RMS of 1: 0.01 is -20 dB under it
  }
  return 0;
}

/** A slightly varied copy of a sentence: gain +-3 dB, speed +-4% (linear interpolation). */
function vary(x) {
  const g = dbToAmp((rnd() * 2 - 1) * 3);
  const speed = 1 + (rnd() * 2 - 1) * 0.04;
  const n = Math.floor((x.length - 1) / speed);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * speed;
    const k = Math.floor(p);
    y[i] = g * (x[k] + (x[k + 1] - x[k]) * (p - k));
  }
  return y;
}

/** The assistant talking for `seconds`: sentences in random order, pauses 0.25-1.2 s. Also returns
 * the sentence spans (where a user can cut in "during assistant speech"). */
function answer(seconds) {
  const n = Math.round(seconds * RATE);
  const ref = new Float32Array(n);
  const spans = [];
  let p = Math.round(0.2 * RATE);
  while (p < n) {
    const s = vary(ASSISTANT[Math.floor(rnd() * ASSISTANT.length)]);
    for (let i = 0; i < s.length && p + i < n; i++) ref[p + i] = s[i];
    spans.push([p, Math.min(n, p + s.length)]);
    p += s.length + Math.round((0.25 + 0.95 * rnd()) * RATE);
  }
  return { ref, spans };
}

/** A room: direct path, a few early reflections, an exponentially decaying diffuse tail (RT60
 * 200-300 ms, 200 ms long), scaled to the echo level (total energy gain). */
function room(levelDb) {
  const n = Math.round(0.2 * RATE);
  const h = new Float64Array(n);
  h[0] = 1;
  for (let r = 0; r < 5; r++) h[Math.round((2 + rnd() * 18) * RATE / 1000)] += (rnd() < 0.5 ? -1 : 1) * (0.2 + 0.4 * rnd());
  const rt60 = 0.2 + 0.1 * rnd();
  for (let i = Math.round(0.005 * RATE); i < n; i++) h[i] += 0.06 * gauss() * Math.exp((-6.9 * i) / (rt60 * RATE));
  let e = 0;
  for (const v of h) e += v * v;
  const g = dbToAmp(levelDb) / Math.sqrt(e);
  return h.map((v) => v * g);
}

/** y = (x * h) delayed by `delay` samples: FFT overlap-add. */
function echoOf(x, h, delay) {
  const N = 16384;
  const hop = N - h.length;
  const f = new RealFft(N);
  const b = N / 2 + 1;
  const hr = new Float64Array(b), hi = new Float64Array(b), buf = new Float64Array(N);
  buf.set(h);
  f.forward(buf, hr, hi);
  const xr = new Float64Array(b), xi = new Float64Array(b);
  const y = new Float32Array(x.length);
  for (let s = 0; s < x.length; s += hop) {
    buf.fill(0);
    for (let i = 0; i < hop && s + i < x.length; i++) buf[i] = x[s + i];
    f.forward(buf, xr, xi);
    for (let k = 0; k < b; k++) {
      const r = xr[k] * hr[k] - xi[k] * hi[k];
      xi[k] = xr[k] * hi[k] + xi[k] * hr[k];
      xr[k] = r;
    }
    f.inverse(xr, xi, buf);
    for (let i = 0; i < N; i++) if (s + i + delay < y.length) y[s + i + delay] += buf[i];
  }
  return y;
}

const noiseOf = (n) => {
  const a = dbToAmp(NOISE_DBFS);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = a * gauss();
  return x;
};

let cpuMs = 0;
let cpuSamples = 0;

/** Runs canceller + detector + barge-in rule over a session, in worklet-sized random chunks.
 * Returns the cleaned output and every barge-in (detect sample, onset sample). */
function runOurs(mic, ref) {
  const ec = new EchoCanceller(RATE);
  const det = new NearEndDetector(RATE, { ...TUNED, frameMs: FRAME_MS });
  const bi = new BargeInDetector(RATE, RULE);
  const out = new Float32Array(mic.length);
  const events = [];
  const start = performance.now();
  for (let s = 0; s < mic.length; ) {
    const n = Math.min(mic.length - s, 40 + Math.floor(rnd() * 89));
    const m = mic.subarray(s, s + n), r = ref.subarray(s, s + n), o = out.subarray(s, s + n);
    ec.process(m, r, o, n);
    const before = bi.detectSample;
    det.process(m, r, o, n, bi);
    if (bi.detectSample !== before) events.push([bi.detectSample, bi.onsetSample]);
    s += n;
  }
  cpuMs += performance.now() - start;
  cpuSamples += mic.length;
  return { out, events, latency: ec.latency };
}

/** The client without a reference: VoiceGate (energy, defaults) on the raw mic, 10 ms chunks;
 * a fresh gate after each end of speech, as a new turn would. Returns the speech-start samples. */
function runEnergy(mic) {
  const f = RATE / 100;
  let gate = new VoiceGate(RATE, { minSpeechMs: MIN_SPEECH_MS });
  const starts = [];
  for (let s = 0; s + f <= mic.length; s += f) {
    const step = gate.push(mic.slice(s, s + f));
    if (step.event === 'speechstart') starts.push(s + f);
    if (step.end) gate = new VoiceGate(RATE, { minSpeechMs: MIN_SPEECH_MS });
  }
  return starts;
}

const pct = (a, q) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(q * a.length))] : NaN);
const ms = (samples) => (samples * 1000) / RATE;
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '  -');

// --- 1. echo only: false barge-ins and ERLE after convergence ---------------------------------
const echoOnly = new Map();
for (const level of ECHO_DB) {
  const row = { seconds: 0, ours: 0, energy: 0, echoE: 0, resE: 0 };
  for (const delayMs of DELAYS_MS) {
    const { ref } = answer(ECHO_ONLY_S);
    const echo = echoOf(ref, room(level), Math.round((delayMs * RATE) / 1000));
    const noise = noiseOf(ref.length);
    const mic = echo.map((v, i) => v + noise[i]);
    const { out, events, latency } = runOurs(mic, ref);
    row.ours += events.length;
    row.energy += runEnergy(mic).length;
    row.seconds += ECHO_ONLY_S;
    for (let i = SKIP_S * RATE; i + latency < out.length; i++) {
      const res = out[i + latency] - noise[i];
      row.echoE += echo[i] * echo[i];
      row.resE += res * res;
    }
  }
  echoOnly.set(level, row);
}

// --- 2. barge-in: the user cuts in during assistant speech -------------------------------------
const byUser = new Map(USER_DB.map((u) => [u, { trials: 0, lat: [], miss: 0, eLat: [], eMiss: 0, falseOurs: 0 }]));
const missByEcho = new Map(ECHO_DB.map((l) => [l, new Map(USER_DB.map((u) => [u, [0, 0]]))]));
const byUtterance = USER.map(() => []); // latencies of users at >= 0 dB, per utterance
const dtErle = new Map(ECHO_DB.map((l) => [l, { echoE: 0, resE: 0 }]));
for (const delayMs of DELAYS_MS) {
  for (const level of ECHO_DB) {
    for (const userDb of USER_DB) {
      const { ref, spans } = answer(WARMUP_S + TRIALS * 5 + 2);
      const echo = echoOf(ref, room(level), Math.round((delayMs * RATE) / 1000));
      const echoRms = dbToAmp(REF_DBFS + level); // active level of the echo at the mic
      const user = new Float32Array(ref.length);
      const trials = [];
      let t = WARMUP_S * RATE;
      for (let k = 0; k < TRIALS; k++) {
        // Cut in somewhere inside the next sentence that starts after t.
        const span = spans.find(([a, b]) => b - a > RATE && a >= t);
        if (!span) break;
        const at = span[0] + Math.floor(rnd() * (span[1] - span[0] - 0.5 * RATE));
        const u = USER[Math.floor(rnd() * USER.length)];
        const g = echoRms * dbToAmp(userDb);
        for (let i = 0; i < u.length && at + i < user.length; i++) user[at + i] = g * u[i];
        trials.push({ onset: at + trueOnset(u), start: at, end: at + u.length, u });
        t = at + u.length + 2 * RATE;
      }
      const noise = noiseOf(ref.length);
      const mic = echo.map((v, i) => v + noise[i] + user[i]);
      const { out, events, latency } = runOurs(mic, ref);
      const energy = runEnergy(mic);
      const row = byUser.get(userDb);
      const dt = dtErle.get(level);
      const used = new Set();
      for (const tr of trials) {
        row.trials++;
        const hi = tr.end + 0.5 * RATE;
        // From the first sample of the utterance: a loud user's breathy start can be heard before
        // the oracle's onset (20 dB under the utterance's level); that latency is then negative.
        const ev = events.find(([d]) => d >= tr.start && d <= hi);
        if (ev) {
          row.lat.push(ms(ev[0] - tr.onset));
          if (userDb >= 0) byUtterance[USER.indexOf(tr.u)].push(ms(ev[0] - tr.onset));
          used.add(ev);
        } else row.miss++;
        const mb = missByEcho.get(level).get(userDb);
        mb[1]++;
        if (!ev) mb[0]++;
        const en = energy.find((d) => d >= tr.start && d <= hi);
        if (en !== undefined) row.eLat.push(ms(en - tr.onset));
        else row.eMiss++;
        for (let i = tr.start; i < tr.end && i + latency < out.length; i++) {
          const res = out[i + latency] - noise[i] - user[i];
          dt.echoE += echo[i] * echo[i];
          dt.resE += res * res;
        }
      }
      // Barge-ins that match no cut-in (an early one just before the true onset counts here too).
      row.falseOurs += events.filter((e) => !used.has(e) && !trials.some((tr) => e[0] >= tr.start && e[0] <= tr.end + 0.5 * RATE)).length;
    }
  }
}

// --- report ------------------------------------------------------------------------------------
const goals = [];
const goal = (name, ok) => goals.push(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
console.log(`barge-in bench: ${RATE} Hz, echo delays ${DELAYS_MS.join('/')} ms, mic noise ${NOISE_DBFS} dBFS, answer at ${REF_DBFS} dBFS, ${FRAME_MS} ms verdicts, rule minSpeechMs ${RULE.minSpeechMs} maxGapMs ${RULE.maxGapMs} rearmMs ${RULE.rearmMs}${process.env.TALSTREAM_BARGE_IN ? `, tuning ${process.env.TALSTREAM_BARGE_IN}` : ''}, users ${HELD ? 'held-1..6 (held out)' : 'user-1..4'}\n`);
console.log('echo only (assistant speech, nobody cuts in)');
console.log('echo level | minutes | false barge-ins /10 min: AEC+detector | energy VAD on raw mic | ERLE after convergence (dB)');
for (const [level, r] of echoOnly) {
  const per10 = (x) => (x * 600) / r.seconds;
  const erle = 10 * Math.log10(r.echoE / r.resE);
  console.log(`${String(level).padStart(6)} dB | ${(r.seconds / 60).toFixed(1).padStart(7)} | ${fmt(per10(r.ours), 1).padStart(36)} | ${fmt(per10(r.energy), 1).padStart(21)} | ${fmt(erle, 1).padStart(6)}`);
  goal(`0 false barge-ins in ${(r.seconds / 60).toFixed(0)} min at echo ${level} dB (got ${r.ours})`, r.ours === 0);
  goal(`ERLE >= 20 dB after convergence at echo ${level} dB (got ${erle.toFixed(1)})`, erle >= 20);
}
console.log('\nuser cutting in during assistant speech (all delays and echo levels; latency from the true onset)');
console.log('user vs echo | trials | AEC+detector p50 / p90 ms, misses | energy VAD p50 / p90 ms, misses | unmatched barge-ins (ours)');
for (const [u, r] of byUser) {
  const missP = (100 * r.miss) / r.trials;
  const eMissP = (100 * r.eMiss) / r.trials;
  const p50 = pct(r.lat, 0.5), p90 = pct(r.lat, 0.9);
  console.log(`${String(u).padStart(9)} dB | ${String(r.trials).padStart(6)} | ${fmt(p50).padStart(8)} / ${fmt(p90).padStart(4)}, ${missP.toFixed(1).padStart(5)}% | ${fmt(pct(r.eLat, 0.5)).padStart(10)} / ${fmt(pct(r.eLat, 0.9)).padStart(4)}, ${eMissP.toFixed(1).padStart(5)}% | ${r.falseOurs}`);
  const maxMiss = u >= 0 ? 2 : 10;
  goal(`user ${u} dB: p50 <= 200 ms (${fmt(p50)}), p90 <= 350 ms (${fmt(p90)}), misses <= ${maxMiss}% (${missP.toFixed(1)}%)`, p50 <= 200 && p90 <= 350 && missP <= maxMiss);
}
console.log(`latency by utterance, users >= 0 dB, p50 / p90 ms: ${byUtterance.map((l, i) => `${USER_FILES[i].replace('.wav', '')} ${fmt(pct(l, 0.5))} / ${fmt(pct(l, 0.9))}`).join(', ')}`);
console.log('\nmisses by echo level (AEC+detector), user -6 / 0 / +6 / +10 dB:');
for (const [level, m] of missByEcho) console.log(`  echo ${String(level).padStart(3)} dB: ${[...m.values()].map(([a, b]) => `${a}/${b}`).join('  ')}`);
console.log('\nERLE during double talk (echo component of the output, over the cut-ins)');
for (const [level, r] of dtErle) console.log(`  echo ${String(level).padStart(3)} dB: ${(10 * Math.log10(r.echoE / r.resE)).toFixed(1)} dB`);
const msPerS = cpuMs / (cpuSamples / RATE);
console.log(`\naudio-thread cost, canceller + detector: ${msPerS.toFixed(2)} ms CPU per s of audio (${(1000 / msPerS).toFixed(0)}x real time) over ${(cpuSamples / RATE / 60).toFixed(1)} min`);
console.log('energy VAD cost: negligible (one sum of squares per 10 ms)\n');
for (const g of goals) console.log(g);
console.log(`\n(bench wall time ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
