import { describe, expect, it } from 'vitest';
import { EchoCanceller, type EchoCancellerOptions } from '../../src/dsp/echo-canceller';
import { TalStreamError } from '../../src/errors';
import { noise, ratioDb, rng, runCanceller } from './dsp-echo-sim';

// Fast exact tests of the echo canceller (the room and speech simulations are in
// dsp-echo-canceller.test.ts): its sizes and option checks, the delay it reports, and short
// synthetic echo paths at 8 kHz (a pure delay and gain, two taps) on a white reference, with no
// noise: the filter can model such a path exactly, so it converges, and the largest tap of the
// converged filter is the path's largest tap, to the sample.

const R8 = 8000;
/** Blocks of 64, 4 partitions, the echo's delay known (50 ms = 400 samples). */
const FIXED_8: EchoCancellerOptions = { blockMs: 8, filterMs: 32, delayMs: 50 };

/** `ref` through the taps [delay, gain], no noise. */
function echo(ref: Float32Array, taps: [number, number][]): Float32Array {
  const m = new Float32Array(ref.length);
  for (const [d, g] of taps) for (let i = d; i < m.length; i++) m[i] = m[i]! + g * ref[i - d]!;
  return m;
}

/** The canceller over whole signals, 100-sample calls by default. */
const run = (ec: EchoCanceller, mic: Float32Array, ref: Float32Array, chunk = 100): Float32Array => runCanceller(ec, mic, ref, chunk);

/** Mic energy over the echo left in the output (re-aligned by the latency) over [lo, hi) s, dB. */
function erle(mic: Float32Array, out: Float32Array, latency: number, lo: number, hi: number): number {
  let a = 0;
  let b = 0;
  for (let i = lo * R8; i < hi * R8 - latency; i++) {
    a += mic[i]! ** 2;
    b += out[i + latency]! ** 2;
  }
  return 10 * Math.log10(a / b);
}

describe('EchoCanceller sizes and options', () => {
  it('blocks are the power of two <= blockMs (at least 16); partitions cover filterMs', () => {
    // [rate, options, latency, partitions]: 8 ms is 128 samples at 16 kHz, 384 at 48 kHz (256),
    // 352.8 at 44.1 kHz (256), 64 at 8 kHz; 160 ms over the block: 2560 / 128 = 20, 7680 / 256 =
    // 30, 7056 / 256 = 27.6 (28), 1280 / 64 = 20.
    const cases: [number, EchoCancellerOptions, number, number][] = [
      [16000, {}, 128, 20], [48000, {}, 256, 30], [44100, {}, 256, 28], [8000, {}, 64, 20],
      [16000, { blockMs: 4 }, 64, 40], [16000, { blockMs: 0 }, 16, 160], [16000, { blockMs: 64 }, 1024, 3],
      [16000, { filterMs: 0 }, 128, 1], [16000, { filterMs: 1000 }, 128, 125], [4000, {}, 32, 20],
    ]; // prettier-ignore
    for (const [rate, o, latency, parts] of cases) {
      const ec = new EchoCanceller(rate, o);
      expect([ec.sampleRate, ec.latency, ec.partitions]).toEqual([rate, latency, parts]);
    }
  });

  it('rejects options outside their ranges with TalStreamError bad-argument, accepts their ends', () => {
    const ranges: [keyof EchoCancellerOptions, number][] = [['filterMs', 1000], ['maxDelayMs', 2000], ['blockMs', 64], ['delayMs', 2000]];
    for (const [key, max] of ranges) {
      expect(() => new EchoCanceller(8000, { [key]: 0 })).not.toThrow();
      expect(() => new EchoCanceller(8000, { [key]: max })).not.toThrow();
      for (const bad of [-0.5, max + 0.5, NaN, Infinity, '5']) {
        let err: unknown;
        try {
          new EchoCanceller(8000, { [key]: bad } as EchoCancellerOptions);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TalStreamError);
        expect((err as TalStreamError).code).toBe('bad-argument');
        expect((err as Error).message).toBe(`EchoCanceller: ${key} must be a number of ms in 0..${max}, got ${String(bad)}`);
      }
    }
    expect(() => new EchoCanceller(4000)).not.toThrow();
    expect(() => new EchoCanceller(192000)).not.toThrow();
    for (const bad of [3999, 192001, NaN, Infinity, '16000']) {
      expect(() => new EchoCanceller(bad as number)).toThrow(TalStreamError);
      expect(() => new EchoCanceller(bad as number)).toThrow(`EchoCanceller: sampleRate must be 4000..192000 Hz, got ${String(bad)}`);
    }
  });

  it('with a known delayMs, starts the filter a headroom (12 ms in whole blocks) before it', () => {
    // 16 kHz: blocks of 128, headroom ceil(192 / 128) = 2 blocks = 256. bulk = the multiple of
    // the block under (delay - headroom), clamped to 0..maxDelay; until converged, delay() is
    // bulk + headroom.
    const cases: [EchoCancellerOptions, number][] = [
      [{ delayMs: 100 }, 1280], // (1600 - 256) / 128 = 10.5: 10 blocks
      [{ delayMs: 50 }, 512], // (800 - 256) / 128 = 4.25
      [{ delayMs: 0 }, 0], // negative: 0
      [{ delayMs: 2000 }, 31744], // over maxDelayMs (300): a known delay is not clamped by it
      [{ delayMs: 250, maxDelayMs: 100 }, 3712], // (4000 - 256) / 128 = 29.25
    ];
    for (const [o, bulk] of cases) {
      const ec = new EchoCanceller(16000, o);
      expect(ec.bulkDelay).toBe(bulk);
      expect(ec.delay).toBe(bulk + 256);
      ec.reset();
      expect(ec.bulkDelay).toBe(bulk);
    }
    // Estimated: nothing yet.
    const est = new EchoCanceller(16000);
    expect([est.delay, est.bulkDelay, est.erleDb, est.converged]).toEqual([-1, 0, 0, false]);
  });
});

describe('EchoCanceller on short synthetic echo paths (8 kHz, white reference, no noise)', () => {
  // Blocks of 64 (8 ms), a 32 ms filter (4 partitions), headroom ceil(96 / 64) = 2 blocks = 128.
  const FIXED: EchoCancellerOptions = { blockMs: 8, filterMs: 32, delayMs: 50 };

  it('a pure delay and gain: converges, reports the delay to the sample, cancels >= 30 dB', () => {
    // delayMs 50 = 400 samples: bulk (400 - 128) / 64 = 4.25 blocks -> 256, the echo at tap 144.
    const ref = noise(2 * R8, -20, 5);
    const mic = echo(ref, [[400, 0.5]]);
    const ec = new EchoCanceller(R8, FIXED);
    expect(ec.delay).toBe(384); // bulk + headroom, before convergence
    const out = run(ec, mic, ref);
    expect(ec.bulkDelay).toBe(256);
    expect(ec.converged).toBe(true);
    expect(ec.delay).toBe(400);
    expect(ec.erleDb).toBeGreaterThan(10); // what converged means
    // The room test (dsp-echo-canceller) asks 30 dB of a room whose tail runs past the filter,
    // over -80 dBFS noise; an exactly modelled path with no noise must do at least as well.
    expect(erle(mic, out, ec.latency, 1.5, 2)).toBeGreaterThanOrEqual(30);
    // It learns: the first quarter second is far from that (the filter starts at zero).
    expect(erle(mic, out, ec.latency, 0, 0.25)).toBeLessThan(20);
  });

  it('two taps: the delay is the larger one\'s', () => {
    const ref = noise(2 * R8, -20, 6);
    for (const [taps, want] of [
      [[[400, 0.5], [405, -0.3]], 400],
      [[[400, 0.3], [407, -0.5]], 407],
    ] as [[number, number][], number][]) {
      const mic = echo(ref, taps);
      const ec = new EchoCanceller(R8, FIXED);
      const out = run(ec, mic, ref);
      expect(ec.converged).toBe(true);
      expect(ec.delay).toBe(want);
      expect(erle(mic, out, ec.latency, 1.5, 2)).toBeGreaterThanOrEqual(30);
    }
  });

  it('estimates the delay, moves the filter to it, and follows a change of delay', () => {
    // No delayMs: a 64 ms filter (8 partitions) starting at 0 (it holds the echo at 400 from the
    // start). The estimator finds 400: bulk (400 - 128) / 64 -> 4 blocks = 256. At 2 s the delay
    // becomes 800: bulk (800 - 128) / 64 = 10.5 -> 640, once two estimates agree.
    const ref = noise(4 * R8, -20, 7);
    const a = echo(ref, [[400, 0.5]]);
    const b = echo(ref, [[800, 0.5]]);
    const mic = a.map((v, i) => (i < 2 * R8 ? v : b[i]!));
    const ec = new EchoCanceller(R8, { blockMs: 8, filterMs: 64 });
    expect(ec.partitions).toBe(8);
    const out = run(ec, mic.subarray(0, 2 * R8), ref.subarray(0, 2 * R8));
    expect(ec.bulkDelay).toBe(256);
    expect(ec.converged).toBe(true);
    expect(ec.delay).toBe(400);
    expect(erle(mic, out, ec.latency, 1.5, 2)).toBeGreaterThanOrEqual(30);
    run(ec, mic.subarray(2 * R8), ref.subarray(2 * R8));
    expect(ec.bulkDelay).toBe(640);
    expect(ec.delay).toBe(800); // still converged: from the filter's largest tap, relearned
  });

  it('passes the mic through bit-identical, one block late, while nothing is played', () => {
    const mic = noise(R8 / 2, -30, 8);
    const ec = new EchoCanceller(R8, FIXED);
    const out = run(ec, mic, new Float32Array(mic.length), 37);
    for (let i = 0; i < 64; i++) expect(out[i]).toBe(0);
    for (let i = 0; i + 64 < mic.length; i++) expect(out[i + 64]).toBe(mic[i]);
    expect([ec.erleDb, ec.converged]).toEqual([0, false]);
  });

  it('gives the same output for any chunking, in place (out = mic), and after reset()', () => {
    const ref = noise(R8, -20, 9);
    const mic = echo(ref, [[100, 0.7]]);
    const whole = new Float32Array(mic.length);
    const ec = new EchoCanceller(R8, { blockMs: 8, filterMs: 32 });
    ec.process(mic, ref, whole, mic.length);
    const r = rng(4);
    ec.reset();
    const out = new Float32Array(mic.length);
    for (let s = 0; s < mic.length; ) {
      const n = Math.min(mic.length - s, Math.floor(r() * 200));
      ec.process(mic.subarray(s, s + n), ref.subarray(s, s + n), out.subarray(s, s + n), n);
      s += n;
    }
    expect(out).toEqual(whole);
    const inPlace = mic.slice();
    const fresh = new EchoCanceller(R8, { blockMs: 8, filterMs: 32 });
    fresh.process(inPlace, ref, inPlace, inPlace.length);
    expect(inPlace).toEqual(whole);
    // Not trivially equal to the mic: it cancelled.
    expect(erle(mic, whole, 64, 0.5, 1)).toBeGreaterThan(10);
  });
});

describe('EchoCanceller: when the filter moves, learns and reports (8 kHz, white reference)', () => {
  // A 64 ms filter (8 partitions of 64) from bulk 0, maxDelayMs 300: the delay estimator (4 kHz
  // inside, 1024-sample window, 1202 lags) makes its first estimate once 1024 + 1202 decimated
  // samples (4452 input samples: the block ending at 4480) are in, then one every 512 decimated
  // samples (1024 input samples). The filter moves only when two estimates in a row agree.
  const MOVING: EchoCancellerOptions = { blockMs: 8, filterMs: 64 };

  function blocks(ec: EchoCanceller, mic: Float32Array, ref: Float32Array): { out: Float32Array; moves: [number, number][] } {
    const out = new Float32Array(mic.length);
    const moves: [number, number][] = [];
    for (let s = 0; s < mic.length; s += 64) {
      const before = ec.bulkDelay;
      ec.process(mic.subarray(s, s + 64), ref.subarray(s, s + 64), out.subarray(s, s + 64), 64);
      if (ec.bulkDelay !== before) moves.push([s + 64, ec.bulkDelay]);
    }
    return { out, moves };
  }

  it('moves on the second agreeing estimate, and keeps cancelling across the move (taps and history moved together)', () => {
    const ref = noise(2 * R8, -20, 7);
    const mic = echo(ref, [[400, 0.5]]);
    const ec = new EchoCanceller(R8, MOVING);
    const { out, moves } = blocks(ec, mic, ref);
    // One move, at the second estimate (the block ending at 4480 + 1024), to (400 - 128) / 64 -> 256.
    expect(moves).toEqual([[5504, 256]]);
    // The echo was at tap 400 of the filter, now at 144: the taps moved 4 partitions and every
    // partition's reference spectrum was re-read at the new delay, so the blocks right after the
    // move cancel as well as those right before (within 3 dB); stale spectra would leave the echo.
    const at = 5504 / 64;
    const before = erle(mic.subarray((at - 8) * 64), out.subarray((at - 8) * 64), 64, 0, 8 * 64 / R8);
    const after = erle(mic.subarray(at * 64), out.subarray(at * 64), 64, 0, 8 * 64 / R8);
    expect(before).toBeGreaterThan(15);
    expect(after).toBeGreaterThanOrEqual(before - 3);
  });

  it('does not move while the echo is where the filter wants it: headroom / 2 .. headroom + 3 blocks in', () => {
    // From bulk 0 the sweet spot is 64..320 samples: an echo at 300 stays at bulk 0 (though
    // (300 - 128) / 64 would be 128); at 340 the filter moves to (340 - 128) / 64 -> 192.
    // With a known delayMs (0 here) nothing moves, whatever the echo.
    const ref = noise(1.5 * R8, -20, 7);
    for (const [d, o, bulk] of [
      [300, MOVING, 0],
      [340, MOVING, 192],
      [400, { ...MOVING, delayMs: 0 }, 0],
    ] as [number, EchoCancellerOptions, number][]) {
      const ec = new EchoCanceller(R8, o);
      run(ec, echo(ref, [[d, 0.5]]), ref);
      expect(ec.bulkDelay).toBe(bulk);
      expect(ec.delay).toBe(d);
    }
  });

  it('moves earlier when the echo comes sooner than headroom / 2 into the filter', () => {
    // 400 for 1.5 s (bulk 256), then 300: 300 - 256 = 44 < 64 samples into the filter, out of
    // the sweet spot: the filter moves to (300 - 128) / 64 -> 128.
    const ref = noise(3 * R8, -20, 7);
    const a = echo(ref, [[400, 0.5]]);
    const b = echo(ref, [[300, 0.5]]);
    const mic = a.map((v, i) => (i < 1.5 * R8 ? v : b[i]!));
    const ec = new EchoCanceller(R8, MOVING);
    run(ec, mic.subarray(0, 1.5 * R8), ref.subarray(0, 1.5 * R8));
    expect(ec.bulkDelay).toBe(256);
    run(ec, mic.subarray(1.5 * R8), ref.subarray(1.5 * R8));
    expect(ec.bulkDelay).toBe(128);
  });

  it('keeps the ERLE statistic while nothing plays (it is over the blocks where the reference plays)', () => {
    // Converged, then the reference stops at 1.5 s and the near-end speaks (noise at -30 dBFS).
    // The filter sees the reference through the bulk delay (256) and a 2-block window: from
    // 1.5 s + 384 samples nothing plays for it, and the statistic is frozen from then on.
    const ref = noise(2.5 * R8, -20, 5);
    ref.fill(0, 1.5 * R8);
    const mic = echo(ref, [[400, 0.5]]);
    mic.set(noise(R8, -30, 4), 1.5 * R8);
    const ec = new EchoCanceller(R8, FIXED_8);
    const cut = 1.5 * R8 + 384 + 64;
    run(ec, mic.subarray(0, cut), ref.subarray(0, cut), 64);
    const erleBefore = ec.erleDb;
    run(ec, mic.subarray(cut), ref.subarray(cut));
    expect(ec.erleDb).toBe(erleBefore);
    expect(ec.erleDb).toBeGreaterThan(0); // not the "nothing yet" 0
  });

  it('keeps the reference history a long known delay needs (287.5 ms: bulk 2112, maxDelayMs 0)', () => {
    // delayMs 287.5 = 2300 samples: bulk (2300 - 128) / 64 -> 33 blocks = 2112; the history ring
    // must hold 2112 + 2 blocks even though maxDelayMs is 0.
    const ref = noise(2 * R8, -20, 5);
    const mic = echo(ref, [[2300, 0.5]]);
    const ec = new EchoCanceller(R8, { blockMs: 8, filterMs: 32, delayMs: 287.5, maxDelayMs: 0 });
    const out = run(ec, mic, ref);
    expect(ec.bulkDelay).toBe(2112);
    expect(ec.delay).toBe(2300);
    expect(erle(mic, out, ec.latency, 1.5, 2)).toBeGreaterThanOrEqual(30);
  });

  it('leaves a reference under -70 dBFS alone: the output is the mic, bit-identical', () => {
    // -76 dBFS white noise (mean square 2.5e-8 < 1e-7) and its echo: nothing is learned, no ERLE.
    const ref = noise(R8, -76, 3);
    const mic = echo(ref, [[100, 0.5]]);
    const ec = new EchoCanceller(R8, { blockMs: 8, filterMs: 32 });
    const out = run(ec, mic, ref);
    for (let i = 0; i + 64 < mic.length; i++) expect(out[i + 64]).toBe(mic[i]);
    expect([ec.erleDb, ec.converged]).toEqual([0, false]);
    // A mic of zeros under a loud reference: nothing in, nothing out; ERLE 0 (not 0/0).
    const z = new EchoCanceller(R8, FIXED_8);
    run(z, new Float32Array(R8 / 2), noise(R8 / 2, -20, 3));
    expect(z.erleDb).toBe(0);
  });

  it('is not converged while the ERLE statistic is under 10 dB (its ~0.5 s average starts at 0 dB)', () => {
    // The filter starts at zero (output = mic: 0 dB) and the statistic averages over ~0.5 s: at
    // 0.2 s it is still under 10 dB, so not converged, though the start-up rate is left by then.
    const ref = noise(R8, -20, 5);
    const mic = echo(ref, [[400, 0.5]]);
    const ec = new EchoCanceller(R8, FIXED_8);
    run(ec, mic.subarray(0, 0.2 * R8), ref.subarray(0, 0.2 * R8));
    expect(ec.erleDb).toBeLessThan(10);
    expect(ec.converged).toBe(false);
    run(ec, mic.subarray(0.2 * R8), ref.subarray(0.2 * R8));
    expect(ec.converged).toBe(true);
  });

  it('does not diverge through double talk: a near-end 10 dB over the echo for 0.5 s', () => {
    // Converged on a pure delay for 1.5 s, then the near-end (white noise at -16 dBFS against
    // the echo's -26) for 0.5 s. Valin's rule lowers the step when the error is mostly the
    // near-end, and the two-path filter keeps a disturbed background out of the output: the echo
    // left in the output (output - near-end) after the burst is within 3 dB of before it.
    const ref = noise(3 * R8, -20, 5);
    const e = echo(ref, [[400, 0.5]]);
    const near = noise(3 * R8, -16, 12).map((v, i) => (i >= 1.5 * R8 && i < 2 * R8 ? v : 0));
    const ec = new EchoCanceller(R8, FIXED_8);
    const out = run(ec, e.map((v, i) => v + near[i]!), ref);
    const left = out.map((v, i) => (i >= 64 ? v - near[i - 64]! : v));
    const before = erle(e, left, 64, 1, 1.5);
    expect(before).toBeGreaterThanOrEqual(30);
    expect(erle(e, left, 64, 1.5, 2)).toBeGreaterThanOrEqual(before - 3);
    expect(erle(e, left, 64, 2.5, 3)).toBeGreaterThanOrEqual(before - 3);
  });
});

describe('EchoCanceller: an echo beyond the filter\'s first reach', () => {
  it('learns from scratch after a move that leaves no tap (before: stuck at 0 dB for good)', () => {
    // A 32 ms filter (4 partitions of 64) from bulk 0 reaches 256 samples; the echo is at 400.
    // The start-up rate is left on what the filter learns of the unreachable echo (nothing
    // useful), then the move to bulk 256 shifts all 4 partitions out: an all-zero filter. With
    // the leakage-driven step, a zero filter has a zero echo estimate, hence a zero step: it
    // never learned again (measured before the fix: 0.0 dB after 10 s). After such a move the
    // filter starts over at the start-up rate, as a new one would: it converges as with a known delay.
    const ref = noise(3 * R8, -20, 5);
    for (const [d, o] of [
      [400, { blockMs: 8, filterMs: 32 }],
      [2300, { blockMs: 8, filterMs: 64, maxDelayMs: 300 }], // 287.5 ms: bulk (2300 - 128) / 64 -> 2112
    ] as [number, EchoCancellerOptions][]) {
      const mic = echo(ref, [[d, 0.5]]);
      const ec = new EchoCanceller(R8, o);
      const out = run(ec, mic, ref);
      expect(ec.converged).toBe(true);
      expect(ec.delay).toBe(d);
      expect(erle(mic, out, ec.latency, 2.5, 3)).toBeGreaterThanOrEqual(30);
    }
  });
});

describe('EchoCanceller at other rates (moved here from dsp-echo-canceller: no room, 0.4 s)', () => {
  it('works at other rates (8, 44.1, 48 kHz): block sizes and ERLE', () => {
    for (const rate of [8000, 44100, 48000]) {
      const ec = new EchoCanceller(rate);
      expect(ec.latency).toBe(rate === 8000 ? 64 : 256);
      // White-noise reference through a pure 30 ms delay at -6 dB: an easy case, at any rate.
      const n = rate * 4;
      const ref = noise(n, -20, rate);
      const d = Math.round(0.03 * rate);
      const mic = new Float32Array(n);
      for (let i = d; i < n; i++) mic[i] = 0.5 * ref[i - d]!;
      const out = run(ec, mic, ref, 128);
      const res = new Float32Array(n);
      res.set(out.subarray(ec.latency)); // the output re-aligned with the mic: all of it is echo
      // Measured 46.7 / 48.3 / 48.4 dB.
      expect(ratioDb(mic, res, 3 * rate, n - ec.latency)).toBeGreaterThan(44);
    }
  });
});
