// A 30-minute reply through the decoder and the playout core in simulated time: 90,000 frames of
// 20 ms arrive with seeded network jitter and two multi-second stalls, cut at random byte
// boundaries, through FrameDecoder -> readTalAudio -> PlayoutCore, rendered quantum by quantum
// on the output's own clock. Checks: exact sample accounting at every simulated minute (arrived =
// played + queued, played only grows by what was rendered), the end position, bounded buffers,
// and a heap that does not grow with the length of the reply.
import { describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { encodeTalAudio, readTalAudio } from '../../src/protocol/tal-audio';
import { PlayoutCore } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import { rng } from '../support/reply-fuzz.mjs';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const QUANTUM = 128;
const FRAME_MS = 20;

interface Outcome {
  frames: number;
  arrivedIn: number;
  playedOut: number;
  expectedOut: number;
  underruns: number;
  resumes: number;
  maxBufferedMs: number;
  maxDecoderBytes: number;
  /** Slowest and fastest rate seen in stats (the time-scaler engaged). */
  rates: [number, number];
  accountingErrors: string[];
  /** Ideal output samples (arrived x ratio) minus produced, at each simulated minute. */
  lags: number[];
  end: { order: number; sampleOffset: number; interrupted: boolean };
  heapMb: number[];
}

function simulate(inRate: number, outRate: number, minutes: number, seed: number): Outcome {
  const r = rng(seed);
  const spf = (inRate * FRAME_MS) / 1000;
  const total = (minutes * 60_000) / FRAME_MS;
  const samples = new Float32Array(spf);
  // Arrival times: real-time pacing, 0..60 ms jitter, bursts of 300 ms delay now and then, and
  // two stalls of 4 s (at 1/4 and 3/4 of the reply); TCP keeps them in order.
  const arrival = (i: number, prev: number) => {
    let t = i * FRAME_MS + r() * 60;
    if (r() < 0.002) t += 300;
    if (i === Math.floor(total / 4) || i === Math.floor((3 * total) / 4)) t += 4000;
    return Math.max(prev, t);
  };
  // The default policy: adaptive, time-scaled.
  const core = new PlayoutCore({ sampleRate: outRate });
  const maxSplice = Math.ceil((15 * outRate) / 1000);
  const decoder = new FrameDecoder();
  core.begin(1);
  const out = [new Float32Array(QUANTUM)];
  const ev = newEventRecord();
  const o: Outcome = {
    frames: 0,
    arrivedIn: 0,
    playedOut: 0,
    expectedOut: 0,
    underruns: 0,
    resumes: 0,
    maxBufferedMs: 0,
    maxDecoderBytes: 0,
    rates: [1, 1],
    accountingErrors: [],
    lags: [],
    end: { order: 0, sampleOffset: 0, interrupted: true },
    heapMb: [],
  };
  let next = 0;
  let nextAt = arrival(0, 0);
  let ended = false;
  let lastPlayed = 0;
  let nextCheck = 60_000;
  for (let q = 0; !ended; q++) {
    const now = (q * QUANTUM * 1000) / outRate;
    while (next < total && nextAt <= now) {
      for (let k = 0; k < spf; k++) samples[k] = 0.5 * Math.sin((2 * Math.PI * 330 * (next * spf + k)) / inRate);
      const bytes = encodeTalAudio({ sampleRate: inRate, order: next + 1, sign: next === 0 ? 1 : 2, answer: next % 50 === 0 ? `sentence ${next / 50}` : '' }, samples);
      // The bytes arrive in 1..3 pieces cut anywhere (length words, header, payload).
      const cut1 = Math.floor(r() * bytes.length);
      const cut2 = cut1 + Math.floor(r() * (bytes.length - cut1));
      for (const piece of [bytes.subarray(0, cut1), bytes.subarray(cut1, cut2), bytes.subarray(cut2)]) {
        if (piece.length === 0) continue;
        for (const frame of decoder.push(piece)) {
          const { channels, header } = readTalAudio(frame);
          core.push({ channels, sampleRate: header.sampleRate, order: header.order }, 1, now);
          o.frames++;
          o.arrivedIn += channels[0]!.length;
        }
        o.maxDecoderBytes = Math.max(o.maxDecoderBytes, decoder.bufferedBytes);
      }
      next++;
      if (next === total) {
        decoder.end();
        core.end(1);
      } else nextAt = arrival(next, nextAt);
    }
    core.render(out, now);
    while (core.nextEvent(ev)) {
      if (ev.type === 'underrun') o.underruns++;
      if (ev.type === 'resume') o.resumes++;
      if (ev.type === 'ended') {
        ended = true;
        o.end = { order: ev.order, sampleOffset: ev.sampleOffset, interrupted: ev.interrupted };
      }
    }
    const s = core.stats();
    const played = Math.round((s.playedMs * outRate) / 1000);
    const queued = Math.round((s.bufferedMs * outRate) / 1000);
    // Played never goes backwards, and grows per quantum by at most the quantum plus one splice of
    // the time-scaler (an accelerate skips up to its longest period, 15 ms, at one sample).
    if (played < lastPlayed || played - lastPlayed > QUANTUM + maxSplice) o.accountingErrors.push(`quantum ${q}: played ${lastPlayed} -> ${played}`);
    lastPlayed = played;
    o.rates = [Math.min(o.rates[0], s.rate), Math.max(o.rates[1], s.rate)];
    o.maxBufferedMs = Math.max(o.maxBufferedMs, s.bufferedMs);
    if (now >= nextCheck) {
      nextCheck += 60_000;
      // Every input sample that arrived is either played or queued (output samples, exact);
      // resampled output lags its input by the converter's delay only: a constant, checked below.
      const producedOut = played + queued;
      o.lags.push((o.arrivedIn * outRate) / inRate - producedOut);
      if (Math.round(now / 60_000) % 5 === 0) {
        gc();
        o.heapMb.push(process.memoryUsage().heapUsed / 2 ** 20);
      }
    }
    if (q > ((minutes + 2) * 60 * outRate) / QUANTUM) throw new Error('the reply did not end within 2 simulated minutes of its length');
  }
  o.playedOut = Math.round((core.stats().playedMs * outRate) / 1000);
  o.expectedOut = (o.arrivedIn * outRate) / inRate;
  return o;
}

describe('a 30-minute reply in simulated time', () => {
  it('24 kHz frames on a 24 kHz output, 30 minutes: every sample accounted for, buffers bounded, heap flat', () => {
    const o = simulate(24000, 24000, 30, 1);
    expect(o.frames).toBe(90_000);
    expect(o.arrivedIn).toBe(90_000 * 480);
    expect(o.accountingErrors).toEqual([]);
    // Arrived = played + queued, to the sample, at every minute.
    expect(o.lags).toEqual(new Array(30).fill(0));
    // Everything that arrived played, to the sample.
    expect(o.playedOut).toBe(o.arrivedIn);
    expect(o.end).toEqual({ order: 90_000, sampleOffset: 480, interrupted: false });
    // The two 4 s stalls were rebuffered and resumed; the time-scaler played slower and faster
    // (slower to grow the cushion, faster to drain the catch-up after a stall), to its limits.
    expect(o.underruns).toBeGreaterThanOrEqual(2);
    expect(o.rates).toEqual([0.9, 1.1]);
    expect(o.resumes).toBe(o.underruns);
    // Bounded: the queue never holds more than a stall's catch-up plus the largest target; the
    // decoder at most about one frame.
    expect(o.maxBufferedMs).toBeLessThan(8000);
    expect(o.maxDecoderBytes).toBeLessThan(2 * 480 + 200);
    // Heap after GC at minutes 5, 10, ... 30: flat within 1 MiB while 25 minutes of audio (about
    // 140 MB as float32 through the decoder and the queue) went through.
    expect(o.heapMb.length).toBe(6);
    const growth = Math.max(...o.heapMb) - o.heapMb[0]!;
    expect(growth, `heap MiB at each 5 minutes: ${o.heapMb.map((x) => x.toFixed(2)).join(', ')}`).toBeLessThan(1);
  });

  it('24 kHz frames on a 48 kHz output, 6 minutes: resampled output lags by a constant, nothing drifts', () => {
    const o = simulate(24000, 48000, 6, 2);
    expect(o.frames).toBe(18_000);
    expect(o.accountingErrors).toEqual([]);
    // The converter's delay is the same number of samples at every minute: no drift.
    expect(o.lags.length).toBe(6);
    expect(new Set(o.lags).size).toBe(1);
    expect(o.lags[0]).toBeGreaterThan(0);
    expect(o.lags[0]).toBeLessThan(200);
    // At the end its tail is flushed: exactly twice the input played.
    expect(o.playedOut).toBe(2 * o.arrivedIn);
    expect(o.end).toEqual({ order: 18_000, sampleOffset: 480, interrupted: false });
    expect(o.resumes).toBe(o.underruns);
    expect(o.underruns).toBeGreaterThanOrEqual(2);
  });
});
