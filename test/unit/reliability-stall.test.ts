// A stall of several seconds mid-reply, and an interrupt mid-play, through the real PlayoutCore in
// simulated time (the exact test behind the browser's event checks). A reply of 20 ms frames of a
// known ramp arrives in real time, then nothing for 3 s, then the rest in a burst. Checks, sample
// by sample: the output is the input in order with nothing lost or repeated; the edge before the
// silence fades to 0 and the resume fades in (no step bigger than the signal's own); the silence
// is true silence; the events come in order at the samples where the output changes.
import { describe, expect, it } from 'vitest';
import { PlayoutCore } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';

const RATE = 24000;
const SPF = 480; // 20 ms
const QUANTUM = 128;
const FADE_MS = 5;
const FADE = (FADE_MS * RATE) / 1000;

/** Input sample k of the reply: a slow sine, never 0 except at k = 0 (so silence is recognisable). */
const input = (k: number) => 0.5 * Math.sin((2 * Math.PI * 200 * (k + 0.5)) / RATE);

function frame(i: number): Float32Array {
  return Float32Array.from({ length: SPF }, (_, k) => input(i * SPF + k));
}

interface Run {
  out: Float32Array;
  events: { type: string; at: number }[];
  pushed: number;
}

/** Frames 0..n-1; frame i arrives at i*20 ms, plus `stallMs` from frame `at` on. */
function play(n: number, at: number, stallMs: number, opts: { interruptAtMs?: number } = {}): Run & { position?: unknown } {
  const core = new PlayoutCore({ sampleRate: RATE, fadeMs: FADE_MS, interruptFadeMs: 8, jitter: { policy: { prebufferMs: 60 } } });
  core.begin(1);
  const outs: Float32Array[] = [];
  const events: { type: string; at: number }[] = [];
  const ev = newEventRecord();
  const buf = [new Float32Array(QUANTUM)];
  let next = 0;
  let position: unknown;
  let interrupted = false;
  for (let q = 0; q < 100_000; q++) {
    const now = (q * QUANTUM * 1000) / RATE;
    while (next < n && (next < at ? next * 20 : next * 20 + stallMs) <= now) {
      core.push({ channels: [frame(next)], sampleRate: RATE, order: next + 1 }, 1, now);
      next++;
      if (next === n) core.end(1);
    }
    if (opts.interruptAtMs !== undefined && !interrupted && now >= opts.interruptAtMs) {
      interrupted = true;
      position = core.interrupt();
    }
    core.render(buf, now);
    outs.push(buf[0]!.slice());
    let ended = false;
    while (core.nextEvent(ev)) {
      events.push({ type: ev.type, at: q * QUANTUM + ev.atSample });
      if (ev.type === 'ended') ended = true;
    }
    if (ended) break;
  }
  const out = new Float32Array(outs.length * QUANTUM);
  outs.forEach((o, i) => out.set(o, i * QUANTUM));
  return { out, events, pushed: next, position };
}

describe('a 3 s stall mid-reply, in simulated time', () => {
  const n = 100;
  const { out, events } = play(n, 40, 3000);
  const at = (t: string) => events.filter((e) => e.type === t).map((e) => e.at);

  it('events: audio-start, one underrun, one resume, ended, in that order', () => {
    expect(events.map((e) => e.type)).toEqual(['audio-start', 'underrun', 'resume', 'ended']);
  });

  it('the output is the input, every sample, in order (scaled only inside the fades)', () => {
    const [start] = at('audio-start');
    const [under] = at('underrun');
    const [resume] = at('resume');
    const [end] = at('ended');
    // Played segments: [start, under) and [resume, end); their lengths add up to the whole reply.
    expect(under! - start! + (end! - resume!)).toBe(n * SPF);
    const played = Float32Array.from([...out.subarray(start, under), ...out.subarray(resume, end)]);
    for (let k = 0; k < played.length; k++) {
      const x = input(k);
      const y = played[k]!;
      // Same sign and never louder: at most a gain in [0, 1] was applied, to this very sample.
      if (!(Math.sign(y) === Math.sign(x) || y === 0) || Math.abs(y) > Math.abs(x) + 1e-6) expect.fail(`sample ${k}: ${y} vs input ${x}`);
    }
    // Outside the fade regions (start, into the underrun, out of it, the reply's last ms), exactly
    // the input (gain 1).
    const firstPart = under! - start!;
    const exact = (k: number) => (k >= FADE && k < firstPart - FADE) || (k >= firstPart + FADE && k < played.length - FADE);
    let checked = 0;
    for (let k = 0; k < played.length; k++) {
      if (!exact(k)) continue;
      checked++;
      if (Math.abs(played[k]! - input(k)) > 1e-7) expect.fail(`sample ${k} altered: ${played[k]} vs ${input(k)}`);
    }
    expect(checked).toBe(n * SPF - 4 * FADE);
    // The reply's very end fades out too, reaching 0 at its last sample.
    expect(Math.abs(played.at(-1)!)).toBeLessThan((2 / FADE) * Math.abs(input(n * SPF - 1)));
  });

  it('fades: the edge into the silence ramps to 0, the resume ramps up, the silence is silent', () => {
    const [under] = at('underrun');
    const [resume] = at('resume');
    // The gain (output / input) falls to 0 over the last FADE samples before the underrun ...
    const before = Array.from(out.subarray(under! - FADE, under)).map((y, j) => Math.abs(y) / Math.abs(input(40 * SPF - FADE + j)));
    for (let j = 1; j < before.length; j++) expect(before[j]!).toBeLessThanOrEqual(before[j - 1]! + 1e-6);
    expect(before.at(-1)!).toBeLessThan(2 / FADE);
    // ... the silence holds nothing (about 3 s less what was buffered) ...
    expect(out.subarray(under, resume).every((y) => y === 0)).toBe(true);
    expect((resume! - under!) / RATE).toBeGreaterThan(2.8);
    // ... and rises again over FADE samples from the resume.
    const after = Array.from(out.subarray(resume, resume! + FADE)).map((y, j) => Math.abs(y) / Math.abs(input(40 * SPF + j)));
    for (let j = 1; j < after.length; j++) expect(after[j]!).toBeGreaterThanOrEqual(after[j - 1]! - 1e-6);
    expect(after[0]!).toBeLessThan(2 / FADE);
    // No step anywhere bigger than the 200 Hz sine's own largest step (plus the fade's share).
    let maxStep = 0;
    for (let i = 1; i < out.length; i++) maxStep = Math.max(maxStep, Math.abs(out[i]! - out[i - 1]!));
    expect(maxStep).toBeLessThan(0.5 * ((2 * Math.PI * 200) / RATE) + 0.5 / FADE);
  });
});

describe('interrupt mid-play, in simulated time', () => {
  it('fades to silence over exactly 8 ms and reports the exact position reached', () => {
    const { out, events, position } = play(100, 100, 0, { interruptAtMs: 500 });
    // Derived from the setup, not read from the core: the 60 ms prebuffer holds once frame 3
    // arrives (40 ms), so audio starts at the first quantum at or after 40 ms; interrupt() comes
    // before the first quantum at or after 500 ms, and its fade (interruptFadeMs 8: 192 samples)
    // starts there, reaching gain 0 on its last sample.
    const quantumAt = (ms: number) => Math.ceil((ms * RATE) / 1000 / QUANTUM) * QUANTUM;
    const start = quantumAt(40), cutAt = quantumAt(500), fadeEnd = cutAt + (8 * RATE) / 1000;
    expect(events.filter((e) => e.type === 'audio-start').map((e) => e.at)).toEqual([start]);
    expect(events.find((e) => e.type === 'ended')!.at).toBe(fadeEnd);
    let last = out.length - 1;
    while (last > 0 && out[last] === 0) last--;
    expect(last).toBe(fadeEnd - 2);
    // The fade: output / input falls by 1/192 a sample from 1 at the cut.
    for (let i = cutAt; i < fadeEnd; i++) expect(out[i]! / input(i - start)).toBeCloseTo(1 - (i - cutAt + 1) / 192, 5);
    // Position: the input sample reached, in frame order and offset.
    const playedSamples = fadeEnd - start;
    expect(position).toEqual({
      order: Math.floor((playedSamples - 1) / SPF) + 1,
      sampleOffset: playedSamples - Math.floor((playedSamples - 1) / SPF) * SPF,
      playedMs: (playedSamples * 1000) / RATE,
    });
  });
});
