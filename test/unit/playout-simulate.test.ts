// simulatePlayout as a harness: what it refuses, what it reports per reply, the one-hour limit per
// reply, and that the pause between replies changes nothing. Traces run at 8 kHz (a quantum of 128
// samples is exactly 16 ms, so every time below is exact) with the 'on-arrival' policy (start and
// resume as soon as audio is queued, rate 1, no learned depth), so the expected numbers can be
// worked out by hand from the arrivals.
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { simulatePlayout, type PlayoutTrace, type SimulatedReply } from '../../src/playout/simulate-playout';

const RATE = 8000;
const HOUR_MS = 3_600_000;

/** What simulatePlayout throws for `trace`, or null. */
function thrown(trace: unknown, gapMs?: number): unknown {
  try {
    simulatePlayout(trace as PlayoutTrace, { policy: 'on-arrival', gapMs });
    return null;
  } catch (e) {
    return e;
  }
}
function expectError(e: unknown, message: string): void {
  expect(e).toBeInstanceOf(TalStreamError);
  expect((e as TalStreamError).code).toBe('bad-argument');
  expect((e as TalStreamError).message).toBe(message);
}

/** 8 ms of audio (64 samples) at 0, 8 ms more at `secondAtMs`. */
const twoFrames = (secondAtMs: number) => ({
  arrivals: [
    { atMs: 0, samples: 64 },
    { atMs: secondAtMs, samples: 64 },
  ],
});

/**
 * The result of `twoFrames(secondAtMs)` worked out by hand, `secondAtMs` a multiple of 16 ms: frame
 * 1 plays at once and runs dry at 8 ms (one underrun); frame 2 is seen by the quantum that starts
 * at `secondAtMs`, plays at once and ends 8 ms later. Silence: secondAtMs - 8 ms. Last sample out
 * at secondAtMs + 8 against 16 ms of audio. All 128 samples play at rate 1: 16 ms in band '1'.
 */
const byHand = (secondAtMs: number): SimulatedReply => ({
  startDelayMs: 0,
  endDelayMs: secondAtMs + 8 - 16,
  underruns: 1,
  underrunMs: secondAtMs - 8,
  targetMs: 0, // 'on-arrival' keeps no depth
  audioMs: 16,
  minRate: 1,
  maxRate: 1,
  rateMs: { '<0.95': 0, '0.95-1': 0, '1': 16, '1-1.05': 0, '>1.05': 0 },
});

describe('simulatePlayout: argument checks', () => {
  it('refuses a trace without a positive sampleRate or a replies array, with bad-argument', () => {
    const bad: unknown[] = [
      null,
      undefined,
      {},
      { replies: [] },
      { sampleRate: 0, replies: [] }, // 0 is not > 0 (the core would refuse it with its own message)
      { sampleRate: -RATE, replies: [] },
      { sampleRate: Number.NaN, replies: [] },
      { sampleRate: RATE },
      { sampleRate: RATE, replies: {} },
      { sampleRate: RATE, replies: 'x' },
    ];
    for (const t of bad) expectError(thrown(t), 'simulatePlayout: trace needs sampleRate and replies');
  });

  it('returns nothing for no replies, and skips a reply without arrivals', () => {
    expect(simulatePlayout({ sampleRate: RATE, replies: [] })).toEqual([]);
    const r = twoFrames(48);
    const res = simulatePlayout({ sampleRate: RATE, replies: [r, { arrivals: [] }, r] }, { policy: 'on-arrival' });
    expect(res).toEqual([byHand(48), byHand(48)]);
  });
});

describe('simulatePlayout: per-reply results', () => {
  it('reports each reply\'s own underruns and silence, not the session\'s running totals', () => {
    // Frame 2 arrives at 40 ms: the first quantum to see it starts at 48 ms (quanta at 0, 16, 32, 48).
    const res = simulatePlayout({ sampleRate: RATE, replies: [twoFrames(40), twoFrames(40), twoFrames(40)] }, { policy: 'on-arrival' });
    expect(res).toEqual([byHand(48), byHand(48), byHand(48)]);
  });

  it('gives the same results whatever the pause between replies', () => {
    // The policy learns only from times relative to each reply's first frame, so a longer pause
    // (with no frames and no rendering) cannot change what any reply does. Adaptive policy, with a
    // reply of 200 ms gaps between smooth ones, so that what it learns shapes the later replies.
    const paced = (stepMs: number) => ({
      arrivals: Array.from({ length: 20 }, (_, k) => ({ atMs: k * stepMs, samples: (RATE * stepMs) / 1000 })),
    });
    const trace: PlayoutTrace = { sampleRate: RATE, replies: [paced(20), paced(200), paced(20), paced(20)] };
    const base = simulatePlayout(trace, { gapMs: 0 });
    expect(base).toHaveLength(4);
    expect(base[1]!.underruns).toBeGreaterThan(0); // the gappy reply did teach it something
    for (const gapMs of [1000, 5000]) expect(simulatePlayout(trace, { gapMs })).toEqual(base);
  });
});

describe('simulatePlayout: one hour of simulated time per reply', () => {
  it('accepts a reply that ends in the quantum starting exactly one hour after its first frame', () => {
    // 3,600,000 ms / 16 ms = 225,000 quanta: the last frame is seen by the quantum at exactly 1 h.
    expect(simulatePlayout({ sampleRate: RATE, replies: [twoFrames(HOUR_MS)] }, { policy: 'on-arrival' })).toEqual([byHand(HOUR_MS)]);
  });

  it('throws bad-argument for a reply still running in the next quantum', () => {
    // A frame at 1 h + 1 ms is first seen at 1 h + 16 ms: past the hour, even though it then ends.
    expectError(thrown({ sampleRate: RATE, replies: [twoFrames(HOUR_MS + 1)] }), 'simulatePlayout: reply did not finish within an hour of simulated time');
  });

  it('counts the hour from each reply\'s first frame, not from the start of the session', () => {
    // An hour-long pause puts the second reply more than an hour into the session: still fine.
    const res = simulatePlayout({ sampleRate: RATE, replies: [twoFrames(48), twoFrames(48)] }, { policy: 'on-arrival', gapMs: HOUR_MS });
    expect(res).toEqual([byHand(48), byHand(48)]);
  });
});
