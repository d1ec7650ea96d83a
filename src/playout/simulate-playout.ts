/**
 * Replays an arrival trace through the real PlayoutCore in simulated time (render quanta of 128
 * samples), the same code the AudioWorklet runs. Used by the playout benchmark and tests.
 */
import { TalStreamError } from '../errors';
import { PlayoutCore } from './playout-core';
import { newEventRecord } from './playout-events';
import { RATE_BANDS } from './rate-policy';
import type { JitterOptions, PlayoutPolicy, ResamplerFactory } from './types';

/** An arrival trace: `atMs` relative to each reply's first frame; replies are consecutive answers. */
export interface PlayoutTrace {
  /** Sample rate of the traced frames, Hz (`samples` are counted at this rate). */
  sampleRate: number;
  /**
   * The replies of one session, in order. `arrivals`: one entry per frame, in arrival order;
   * `atMs` is when the frame arrived, ms after the reply's first frame (so the first is usually 0);
   * `samples` is the frame's audio length in samples at `sampleRate`. A reply without arrivals is
   * skipped (it gets no result).
   */
  replies: { arrivals: { atMs: number; samples: number }[] }[];
}

/** Options of {@link simulatePlayout}. */
export interface SimulatePlayoutOptions {
  /** Output rate of the simulated context. Default: the trace's rate. */
  outputRate?: number;
  /** Policy (baselines are options of the same core). Default: `jitter.policy`, else `'adaptive'`. */
  policy?: PlayoutPolicy;
  /** Other jitter tuning. */
  jitter?: JitterOptions;
  /** Simulated pause between the end of one reply's playback and the next reply's first frame. Default 1000 ms. */
  gapMs?: number;
  /** Resampler factory (default talstream's Resampler). */
  createResampler?: ResamplerFactory;
}

/** Outcome of one reply. */
export interface SimulatedReply {
  /** First frame arrival to first sample out, ms. */
  startDelayMs: number;
  /** Last sample played minus (first arrival + the reply's audio length), ms. */
  endDelayMs: number;
  /** Underruns during this reply (the buffer ran dry after the reply had started). */
  underruns: number;
  /** Silence those underruns caused, ms. */
  underrunMs: number;
  /** The target depth the policy had when the reply began, ms. */
  targetMs: number;
  /** Audio length of the reply, ms. */
  audioMs: number;
  /** Slowest rate the reply played at (1 when it was not time-scaled). */
  minRate: number;
  /** Fastest rate the reply played at (1 when it was not time-scaled). */
  maxRate: number;
  /** Output time spent per rate band, ms: `'<0.95'`, `'0.95-1'`, `'1'`, `'1-1.05'`, `'>1.05'`. */
  rateMs: Record<RateBandName, number>;
}

/** Names of the rate bands of {@link SimulatedReply.rateMs}. */
export type RateBandName = (typeof RATE_BANDS)[number];

const QUANTUM = 128;

/** Replays `trace` through one PlayoutCore (one session) and reports each reply. */
export function simulatePlayout(trace: PlayoutTrace, options: SimulatePlayoutOptions = {}): SimulatedReply[] {
  if (!trace || !(trace.sampleRate > 0) || !Array.isArray(trace.replies)) throw new TalStreamError('bad-argument', 'simulatePlayout: trace needs sampleRate and replies');
  const outRate = options.outputRate ?? trace.sampleRate;
  const core = new PlayoutCore({
    sampleRate: outRate,
    jitter: { ...options.jitter, policy: options.policy ?? options.jitter?.policy ?? 'adaptive' },
    createResampler: options.createResampler,
  });
  const gapMs = options.gapMs ?? 1000;
  const out = [new Float32Array(QUANTUM)];
  const ev = newEventRecord();
  const quantumMs = (QUANTUM * 1000) / outRate;
  const results: SimulatedReply[] = [];
  let sample = 0; // output samples rendered so far (the simulated clock)
  const msAt = (s: number) => (s * 1000) / outRate;
  let replyId = 0;
  for (const reply of trace.replies) {
    replyId++;
    const arrivals = reply.arrivals;
    if (arrivals.length === 0) continue;
    const t0 = msAt(sample);
    let audioMs = 0;
    for (const a of arrivals) audioMs += (a.samples * 1000) / trace.sampleRate;
    const targetMs = (core.begin(replyId), core.stats().targetMs);
    let next = 0;
    let order = 0;
    let firstOut = NaN;
    let lastOut = NaN;
    let underruns = 0;
    const underrunMsBefore = core.stats().underrunMs;
    const bandsBefore = Array.from(core.bandSamples);
    let minRate = 1;
    let maxRate = 1;
    let done = false;
    while (!done) {
      const now = msAt(sample);
      // Frames that arrived by the start of this quantum (the worklet sees messages between quanta).
      while (next < arrivals.length && t0 + arrivals[next]!.atMs <= now + 1e-9) {
        const a = arrivals[next++]!;
        core.push({ channels: [new Float32Array(a.samples).fill(0.25)], sampleRate: trace.sampleRate, order: ++order }, replyId, now);
        if (next === arrivals.length) core.end(replyId);
      }
      core.render(out, now);
      while (core.nextEvent(ev)) {
        const at = msAt(sample + ev.atSample);
        if (ev.type === 'audio-start') firstOut = at;
        else if (ev.type === 'underrun') underruns++;
        else if (ev.type === 'ended') {
          lastOut = at;
          minRate = ev.minRate;
          maxRate = ev.maxRate;
          done = true;
        }
      }
      sample += QUANTUM;
      if (now - t0 > 3_600_000) throw new TalStreamError('bad-argument', 'simulatePlayout: reply did not finish within an hour of simulated time');
    }
    results.push({
      startDelayMs: firstOut - t0,
      endDelayMs: lastOut - (t0 + audioMs),
      underruns,
      underrunMs: core.stats().underrunMs - underrunMsBefore,
      targetMs,
      audioMs,
      minRate,
      maxRate,
      rateMs: Object.fromEntries(RATE_BANDS.map((b, k) => [b, ((core.bandSamples[k]! - bandsBefore[k]!) * 1000) / outRate])) as Record<RateBandName, number>,
    });
    sample += Math.ceil(gapMs / quantumMs) * QUANTUM;
  }
  return results;
}

/** D*: the smallest constant start delay with no underrun, max over frames of (arrival - audio before it). */
export function oracleDelayMs(arrivals: { atMs: number; samples: number }[], sampleRate: number): number {
  let before = 0;
  let d = -Infinity;
  for (const a of arrivals) {
    d = Math.max(d, a.atMs - (before * 1000) / sampleRate);
    before += a.samples;
  }
  return d;
}
