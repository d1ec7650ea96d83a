// The PlayoutCore's options and bookkeeping, outside the render loop: what the constructor accepts
// (each range edge written out), the defaults an explicit 0 must not fall back to, what push
// refuses and counts, which reply the delay manager records and when its memory is handed out,
// and the state/bufferedMs the stats report. Expected values are worked out here from the
// options (samples = ms x rate / 1000), not read back from the core.
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { PlayoutCore, type PlayoutCoreOptions } from '../../src/playout/playout-core';
import { runQuanta } from './playout-core-run';

const RATE = 48000;
const Q = 128;

const core = (extra: Partial<PlayoutCoreOptions> = {}) => new PlayoutCore({ sampleRate: RATE, fadeMs: 1, jitter: { policy: 'on-arrival' }, ...extra });
const frame = (order: number, v: number, n = 480, sampleRate = RATE) => ({ channels: [new Float32Array(n).fill(v)], sampleRate, order });

/** Renders `quanta` mono quanta (clock: the output position); returns the samples and the events (`at`: output sample). */
const run = (c: PlayoutCore, quanta: number) => runQuanta(c, quanta, RATE);

/** The TalStreamError a constructor call throws: its code and message (undefined when none). */
function refusal(options: PlayoutCoreOptions): [string, string] | undefined {
  try {
    new PlayoutCore(options);
  } catch (e) {
    expect(e).toBeInstanceOf(TalStreamError);
    return [(e as TalStreamError).code, (e as Error).message];
  }
  return undefined;
}

describe('PlayoutCore constructor', () => {
  it('sampleRate: 3000 and 768000 are the inclusive edges; outside them, or NaN, bad-argument naming the rate', () => {
    for (const rate of [3000, 768000]) expect(refusal({ sampleRate: rate })).toBeUndefined();
    for (const rate of [2999, 768001, Number.NaN]) expect(refusal({ sampleRate: rate })).toEqual(['bad-argument', `PlayoutCore: sampleRate ${rate} out of range`]);
  });

  it('channels: 1 (the default) or 2; anything else is bad-argument naming the value', () => {
    expect(core().channels).toBe(1);
    expect(core({ channels: 2 }).channels).toBe(2);
    for (const ch of [0, 3]) expect(refusal({ sampleRate: RATE, channels: ch as 1 })).toEqual(['bad-argument', `PlayoutCore: channels must be 1 or 2, got ${ch}`]);
  });

  it('no jitter options at all: the adaptive defaults (target 150 ms), no store to read', () => {
    const c = new PlayoutCore({ sampleRate: RATE });
    expect(c.stats()).toMatchObject({ state: 'idle', targetMs: 150, rate: 1 });
    expect(c.takeMemory()).toBeNull();
  });

  it('volume: 1 by default; an explicit 0 is silence (not the default), 0.5 halves every sample', () => {
    expect(core().volume).toBe(1);
    const mute = core({ volume: 0 });
    expect(mute.volume).toBe(0);
    mute.push(frame(1, 0.5), 1, 0);
    mute.end(1);
    const silent = run(mute, 5);
    expect(silent.out.every((v) => v === 0)).toBe(true);
    expect(silent.events.map((e) => e.type)).toEqual(['audio-start', 'ended']); // it did play, inaudibly
    const half = core({ volume: 0.5 });
    half.push(frame(1, 0.5), 1, 0);
    // Past the 48-sample fade-in the gain is 1 x volume 0.5: 0.5 x 0.5 = 0.25, exact in float32.
    expect(run(half, 2).out.slice(48, 256).every((v) => v === 0.25)).toBe(true);
  });

  it('interruptFadeMs: an explicit 0 is a one-sample fade, not the 8 ms default; more than 10 ms is cut to 10', () => {
    for (const [ms, fadeLen] of [[0, 1], [20, 480]] as const) {
      const c = core({ interruptFadeMs: ms });
      for (let k = 1; k <= 4; k++) c.push(frame(k, 0.8), 1, 0);
      run(c, 5); // 640 samples heard
      // The fade ends fadeLen samples on: 641 = frame 2 (480..959), 161 in; 1120 = frame 3, 160 in.
      const heard = 640 + fadeLen;
      const order = Math.ceil(heard / 480);
      expect(c.interrupt()).toEqual({ order, sampleOffset: heard - (order - 1) * 480, playedMs: (heard * 1000) / RATE });
      const { out, events } = run(c, 5);
      expect(events.map((e) => [e.type, e.at, e.interrupted])).toEqual([['ended', fadeLen, true]]);
      // Linear fade from gain 1: sample j of it has gain 1 - (j+1)/fadeLen, the last one 0.
      expect(out[0]).toBeCloseTo(0.8 * (1 - 1 / fadeLen), 6);
      expect(out[fadeLen - 1]).toBe(0);
    }
  });
});

describe('PlayoutCore.push: what it refuses and counts', () => {
  it('a frame older than one played past is late and dropped (counted), like a duplicate', () => {
    const c = core();
    expect(c.push(frame(5, 0.1), 1, 0)).toBe('queued');
    expect(c.push(frame(3, 0.1), 1, 0)).toBe('late'); // order 3 < 6 expected, never queued
    expect(c.push(frame(5, 0.1), 1, 0)).toBe('duplicate');
    expect(c.dropped).toBe(2);
    expect(c.stats().bufferedMs).toBe(10); // only frame 5's 480 samples
  });

  it('maxQueuedMs: a frame that would pass it is refused, one that reaches it exactly is queued', () => {
    // 50 ms at 48 kHz = 2400 samples; 4 x 480 = 1920 queued first.
    const c = core({ maxQueuedMs: 50, jitter: { policy: { prebufferMs: 1000 } } });
    for (let k = 1; k <= 4; k++) expect(c.push(frame(k, 0.1), 1, 0)).toBe('queued');
    expect(c.push(frame(5, 0.1, 960), 1, 0)).toBe('overflow'); // 2880 > 2400
    expect(c.push(frame(5, 0.1, 480), 1, 0)).toBe('queued'); // 2400: at the limit, not past it
    expect(c.push(frame(6, 0.1, 1), 1, 0)).toBe('overflow');
    expect(c.dropped).toBe(2);
  });

  it('maxQueuedMs counts a frame at its output-rate length (a 24 kHz sample is two at 48 kHz)', () => {
    // A factory that repeats each 24 kHz sample (48 kHz ones pass as they are): the queued count
    // is then exactly the output-rate length, with no filter delay.
    const repeat = (from: number, to: number) => ({
      process: (x: Float32Array) => Float32Array.from({ length: (x.length * to) / from }, (_, i) => x[Math.floor((i * from) / to)]!),
      flush: () => new Float32Array(0),
    });
    const c = core({ maxQueuedMs: 50, createResampler: repeat, jitter: { policy: { prebufferMs: 1000 } } });
    for (let k = 1; k <= 4; k++) c.push(frame(k, 0.1), 1, 0); // 1920 at 48 kHz
    expect(c.push(frame(5, 0.1, 481, 24000), 1, 0)).toBe('overflow'); // 962 > 480 left
    expect(c.push(frame(5, 0.1, 240, 24000), 1, 0)).toBe('queued'); // 480: exactly the room left
    expect(c.stats().bufferedMs).toBe(50);
  });

  it('end() of an unknown reply, or twice, is a no-op', () => {
    const c = core();
    expect(() => c.end(7)).not.toThrow();
    c.push(frame(1, 0.1), 1, 0);
    c.end(1);
    expect(() => c.end(1)).not.toThrow();
    expect(c.openReplies).toBe(1);
    expect(run(c, 5).events.map((e) => e.type)).toEqual(['audio-start', 'ended']);
  });
});

describe('PlayoutCore: which reply is recorded, and the memory handed out', () => {
  // A reply of two 10 ms frames arriving at 0 and 20 ms teaches: history at [0, 20] ms with 10 ms
  // each, one 20 ms gap (5 ms bin 4) decayed once (x 0.85) when the reply is learned.
  const learned = { v: 1, replies: 1, history: [{ at: [0, 20], ms: [10, 10] }], gaps: [[4, 0.85]] };

  it('nothing before a reply is learned; once per learned reply, then null again', () => {
    const c = core();
    expect(c.takeMemory()).toBeNull();
    c.push(frame(1, 0.1), 1, 0);
    c.push(frame(2, 0.1), 1, 20);
    expect(c.takeMemory()).toBeNull(); // not ended yet
    c.end(1);
    expect(c.takeMemory()).toEqual(learned);
    expect(c.takeMemory()).toBeNull();
  });

  it('a reply begun while another is recorded is not recorded: neither its arrivals nor its end', () => {
    const c = core();
    c.push(frame(1, 0.1), 1, 0);
    c.push(frame(1, 0.2), 2, 5); // reply 2 opens while reply 1 records
    c.push(frame(2, 0.1), 1, 20);
    c.push(frame(2, 0.2), 2, 50);
    c.end(1);
    expect(c.takeMemory()).toEqual(learned);
    c.end(2);
    expect(c.takeMemory()).toBeNull();
    // The next reply opened after that is recorded again: its own arrivals, from its first frame.
    c.push(frame(1, 0.3), 3, 100);
    c.push(frame(2, 0.3), 3, 130);
    c.end(3);
    const m = c.takeMemory()!;
    expect([m.replies, m.history]).toEqual([2, [{ at: [0, 20], ms: [10, 10] }, { at: [0, 30], ms: [10, 10] }]]);
  });
});

describe('PlayoutCore.stats', () => {
  it('state: idle, buffering, playing, draining (ended, still playing), underrun, idle', () => {
    const c = core({ jitter: { policy: { prebufferMs: 20 } } });
    expect(c.stats().state).toBe('idle');
    c.push(frame(1, 0.1), 1, 0);
    run(c, 1);
    expect(c.stats().state).toBe('buffering');
    c.push(frame(2, 0.1), 1, 0);
    run(c, 1);
    expect(c.stats().state).toBe('playing');
    run(c, 7); // 8 x 128 = 1024 > 960: ran dry
    expect(c.stats().state).toBe('underrun');
    c.push(frame(3, 0.1, 1920), 1, 0);
    run(c, 1);
    expect(c.stats().state).toBe('playing');
    c.end(1);
    expect(c.stats().state).toBe('draining');
    run(c, 20);
    expect(c.stats().state).toBe('idle');
  });

  it('bufferedMs sums every open reply once: what is queued and what the scalers hold', () => {
    const c = core();
    c.push(frame(1, 0.1, 960), 1, 0);
    c.push(frame(1, 0.2, 480), 2, 0);
    run(c, 1);
    // Reply 1: 960 - 128 played = 832 left; reply 2: 480, not started.
    expect(c.stats().bufferedMs).toBe(((832 + 480) * 1000) / RATE);
  });

  it('underrunMs counts the silence of underruns only, not the wait before the start', () => {
    const c = core({ jitter: { policy: { prebufferMs: 20 } } });
    c.push(frame(1, 0.1), 1, 0);
    run(c, 3); // buffering: 384 samples of waiting
    expect(c.stats().underrunMs).toBe(0);
    c.push(frame(2, 0.1), 1, 0);
    const { events } = run(c, 10);
    // Starts at the next quantum (0), runs dry after 960 samples: quantum 7 at 64. Silence until
    // the end of quantum 9: 1280 - 960 = 320 samples.
    expect(events.map((e) => [e.type, e.at])).toEqual([['audio-start', 0], ['underrun', 960]]);
    expect(c.stats().underrunMs).toBe((320 * 1000) / RATE);
  });
});
