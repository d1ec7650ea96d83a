// PlayoutCore.interrupt in the cases around the plain one (playout-core.test.ts has that): nothing
// open, a second interrupt during the fade, other replies queued behind the one playing, a reply
// not started yet after an earlier one played, nothing audible, less audio left than the fade,
// and a reply opened after the interrupt. Expected positions are counted by hand: at rate 1 output
// sample k of a reply plays its source sample k, so a fade of L samples starting after P heard
// ends at source sample P + L: frame ceil((P+L)/480), (P+L) - 480 x (order - 1) into it.
import { describe, expect, it } from 'vitest';
import { PlayoutCore, type PlayoutCoreOptions } from '../../src/playout/playout-core';
import { runQuanta } from './playout-core-run';

const RATE = 48000;
const IF = 384; // interruptFadeMs 8 at 48 kHz

const core = (extra: Partial<PlayoutCoreOptions> = {}) =>
  new PlayoutCore({ sampleRate: RATE, fadeMs: 1, interruptFadeMs: 8, jitter: { policy: 'on-arrival' }, ...extra });
const frame = (order: number, v: number, n = 480) => ({ channels: [new Float32Array(n).fill(v)], sampleRate: RATE, order });

/** Renders `quanta` mono quanta of 128; returns the samples and the events (`at`: output sample). */
const run = (c: PlayoutCore, quanta: number) => runQuanta(c, quanta, RATE);

/** Position after `heard` source samples of a reply of 480-sample frames. */
const position = (heard: number) => {
  const order = Math.ceil(heard / 480);
  return { order, sampleOffset: heard - 480 * (order - 1), playedMs: (heard * 1000) / RATE };
};

/** Fails unless `xs` is v x the interrupt fade of `len` samples from gain 1 (1 - (j+1)/len), then 0. */
function expectFade(xs: number[], v: number, len: number) {
  for (let j = 0; j < xs.length; j++) {
    const want = j < len ? v * (1 - (j + 1) / len) : 0;
    if (!(Math.abs(xs[j]! - want) <= 1e-7)) expect.fail(`sample ${j}: ${xs[j]} instead of ${want}`);
  }
}

/** A reply of four 480-sample frames at 0.8, 640 samples of it heard (full gain since sample 48). */
function playing(extra: Partial<PlayoutCoreOptions> = {}) {
  const c = core(extra);
  for (let k = 1; k <= 4; k++) c.push(frame(k, 0.8), 1, 0);
  run(c, 5);
  return c;
}

describe('PlayoutCore.interrupt: edge cases', () => {
  it('with nothing open: position 0, no event', () => {
    const c = core();
    expect(c.interrupt()).toEqual({ order: 0, sampleOffset: 0, playedMs: 0 });
    expect(run(c, 1).events).toEqual([]);
  });

  it('a second interrupt during the fade changes nothing: the first fade ends where it said', () => {
    const c = playing();
    expect(c.interrupt()).toEqual(position(640 + IF));
    const a = run(c, 1); // 128 of the 384
    expect(c.interrupt()).toEqual({ order: 0, sampleOffset: 0, playedMs: 0 }); // nothing more to stop
    const b = run(c, 4);
    expectFade([...a.out, ...b.out], 0.8, IF);
    expect(b.events.map((e) => [e.type, e.at + 128, e.interrupted, e.order, e.sampleOffset])).toEqual([['ended', IF, true, 3, 64]]);
  });

  it('replies queued behind the one playing end at once, unheard; the one playing fades out', () => {
    const c = core();
    for (let k = 1; k <= 4; k++) c.push(frame(k, 0.8), 1, 0);
    c.end(1);
    c.push(frame(1, 0.3), 2, 0);
    c.push(frame(2, 0.3), 2, 0);
    c.push(frame(1, 0.4), 3, 0);
    run(c, 5);
    expect(c.stats().bufferedMs).toBe(((1920 - 640 + 960 + 480) * 1000) / RATE);
    expect(c.interrupt()).toEqual(position(640 + IF));
    const { out, events } = run(c, 10);
    expectFade(out, 0.8, IF); // reply 1's fade, then nothing: replies 2 and 3 never play
    // Newest first (the queue is emptied from its end), each at 0 samples heard.
    expect(events.map((e) => [e.type, e.replyId, e.at, e.interrupted, e.order, e.sampleOffset, e.playedMs])).toEqual([
      ['ended', 3, 0, true, 0, 0, 0],
      ['ended', 2, 0, true, 0, 0, 0],
      ['ended', 1, IF, true, 3, 64, ((640 + IF) * 1000) / RATE],
    ]);
    expect([c.openReplies, c.stats().bufferedMs, c.stats().state]).toEqual([0, 0, 'idle']);
  });

  it('a reply not started yet reports position 0 even though an earlier reply was heard to its end', () => {
    const c = core({ jitter: { policy: { prebufferMs: 100 } } });
    c.push(frame(1, 0.5), 1, 0);
    c.end(1); // ended: it starts whatever the prebuffer
    c.push(frame(1, 0.5), 2, 0); // 10 of 100 ms: waits
    const a = run(c, 5);
    expect(a.events.map((e) => [e.type, e.replyId, e.at])).toEqual([['audio-start', 1, 0], ['ended', 1, 480]]);
    expect(c.interrupt()).toEqual({ order: 0, sampleOffset: 0, playedMs: 0 });
    const b = run(c, 1);
    expect(b.events.map((e) => [e.type, e.replyId, e.at, e.order, e.sampleOffset, e.playedMs])).toEqual([['ended', 2, 0, 0, 0, 0]]);
    expect(b.out.every((v) => v === 0)).toBe(true);
  });

  it('nothing audible (a reply shorter than its fade plays silent): it stops at once, at what was consumed', () => {
    const c = core({ fadeMs: 5 }); // fade 240 > the 200 samples: the whole reply is at gain 0
    c.push(frame(1, 0.5, 200), 1, 0);
    expect(run(c, 1).out.every((v) => v === 0)).toBe(true);
    expect(c.stats().state).toBe('playing');
    expect(c.interrupt()).toEqual({ order: 1, sampleOffset: 128, playedMs: (128 * 1000) / RATE });
    const { events } = run(c, 1);
    expect(events.map((e) => [e.type, e.at, e.interrupted, e.sampleOffset])).toEqual([['ended', 0, true, 128]]);
  });

  it('less audio left than the fade: it fades over what is left and reports the reply heard to its end', () => {
    const c = core();
    c.push(frame(1, 0.8), 1, 0);
    c.push(frame(2, 0.8, 300), 1, 0); // 780 samples in all
    run(c, 5); // 640 heard, 140 left: 140 < 384
    expect(c.interrupt()).toEqual({ order: 2, sampleOffset: 300, playedMs: (780 * 1000) / RATE });
    const { out, events } = run(c, 3);
    expectFade(out, 0.8, 140);
    expect(events.map((e) => [e.type, e.at, e.interrupted, e.underruns])).toEqual([['ended', 140, true, 0]]);
  });

  it('a little more audio left than the fade: the interrupt fade is not taken over by the dry fade near the end', () => {
    // 1044 samples, 640 heard: 404 left, the fade is 384. The dry fade (48) would begin 48 before
    // the audio ends (sample 356 of the fade) and end 20 samples after it: it must not.
    const c = core();
    c.push(frame(1, 0.8), 1, 0);
    c.push(frame(2, 0.8), 1, 0);
    c.push(frame(3, 0.8, 84), 1, 0);
    run(c, 5);
    expect(c.interrupt()).toEqual(position(640 + IF));
    const { out, events } = run(c, 4);
    expectFade(out, 0.8, IF);
    expect(events.map((e) => [e.type, e.at])).toEqual([['ended', IF]]);
  });

  it('a reply opened during the fade plays after it; one opened and ended empty just ends, never starts', () => {
    const c = playing();
    c.interrupt();
    c.begin(2);
    c.end(2);
    c.push(frame(1, 0.5), 3, 0);
    c.end(3);
    const { out, events } = run(c, 10);
    expect(events.map((e) => [e.type, e.replyId, e.at, e.interrupted])).toEqual([
      ['ended', 1, IF, true],
      ['ended', 2, IF, false],
      ['audio-start', 3, IF, false],
      ['ended', 3, IF + 480, false],
    ]);
    // Reply 3 from silence: its own fade in (k+1)/48 and out, from its own first sample.
    for (let k = 0; k < 480; k++) expect(out[IF + k]).toBeCloseTo(0.5 * Math.min((k + 1) / 48, 1, (479 - k) / 48), 7);
  });
});
