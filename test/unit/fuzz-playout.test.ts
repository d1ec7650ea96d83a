// Fuzz, second half: the frames a damaged reply still delivers play. Damaged replies (same
// mutations as fuzz-decoder) are decoded at random chunkings; the frames that come out before the
// first error (decoder or readTalAudio, where the client stops) go through the real PlayoutCore
// at their own rate, and the rendered output is compared sample by sample with the frames' audio.
import { describe, expect, it } from 'vitest';
import { TalStreamError } from '../../src/errors';
import { PlayoutCore } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import { decodeFrames, readTalAudio } from '../../src/protocol/index';
import { buildReply, chunks, mutate, rng, source } from '../support/reply-fuzz.mjs';
import { codec } from './fuzz-codec';

const RATES = [8000, 16000, 24000, 44100, 48000];
const QUANTUM = 128;
const FADE_MS = 5;

interface Played {
  expected: Float32Array;
  rendered: Float32Array;
  framesBeforeDamage: number;
  framesPlayed: number;
  fadeLen: number;
}

/** Decodes a damaged reply as the client does and plays what it got through a PlayoutCore. */
async function playDamaged(seed: number): Promise<Played> {
  const r = rng(seed);
  const rate = RATES[Math.floor(r() * RATES.length)]!;
  const reply = buildReply(r, codec, { sampleRate: rate, channels: 1 });
  const { bytes, damage } = mutate(r, reply, codec);
  const audio: Float32Array[] = [];
  const orders: number[] = [];
  try {
    for await (const frame of decodeFrames(source(r, chunks(r, bytes, [1, 7, 300, 1 << 16][Math.floor(r() * 4)]!)))) {
      const { header, channels } = readTalAudio(frame);
      // A later frame whose fields were damaged into another rate or channel count stops the
      // comparison (it would play resampled or mixed); everything before it is what we check.
      if (header.sampleRate !== rate || channels.length !== 1) break;
      audio.push(channels[0]!);
      orders.push(header.order as number);
    }
  } catch (e) {
    if (!(e instanceof TalStreamError)) throw e;
  }
  const core = new PlayoutCore({ sampleRate: rate, jitter: { policy: 'on-arrival' }, fadeMs: FADE_MS });
  core.begin(1);
  // Orders as damaged bytes left them: the core drops repeats and holds gaps; push the frames
  // whose order keeps rising, as the reply delivered them, and expect exactly those.
  const kept: Float32Array[] = [];
  let last = -Infinity;
  audio.forEach((a, i) => {
    if (!(orders[i]! > last) || !Number.isInteger(orders[i])) return;
    last = orders[i]!;
    if (core.push({ channels: [a], sampleRate: rate, order: orders[i]! }, 1, 0) === 'queued') kept.push(a);
  });
  core.end(1);
  const expected = new Float32Array(kept.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of kept) (expected.set(a, at), (at += a.length));
  const rendered = new Float32Array(expected.length + 2 * QUANTUM);
  const out = [new Float32Array(QUANTUM)];
  const ev = newEventRecord();
  let written = -1;
  let ended = false;
  for (let q = 0; !ended && q < expected.length / QUANTUM + 4; q++) {
    core.render(out, (q * QUANTUM * 1000) / rate);
    let from = written < 0 ? -1 : 0;
    let to = QUANTUM;
    while (core.nextEvent(ev)) {
      if (ev.type === 'audio-start') from = ev.atSample;
      if (ev.type === 'ended') (to = ev.atSample), (ended = true);
    }
    if (from >= 0) {
      if (written < 0) written = 0;
      rendered.set(out[0]!.subarray(from, to), written);
      written += to - from;
    }
  }
  const framesBeforeDamage = reply.frames.filter((f) => f.end <= damage).length;
  return { expected, rendered: rendered.subarray(0, Math.max(0, written)), framesBeforeDamage, framesPlayed: kept.length, fadeLen: Math.round((FADE_MS * rate) / 1000) };
}

describe('fuzz: what a damaged reply delivered plays, sample for sample', () => {
  it('600 damaged replies through decodeFrames -> readTalAudio -> PlayoutCore', async () => {
    let compared = 0;
    let samples = 0;
    for (let seed = 50_001; seed < 50_601; seed++) {
      const p = await playDamaged(seed);
      // Every frame wholly before the damage reached the player.
      expect(p.framesPlayed, `seed ${seed}`).toBeGreaterThanOrEqual(p.framesBeforeDamage);
      // Every sample played, no more, no fewer.
      expect(p.rendered.length, `seed ${seed}`).toBe(p.expected.length);
      // Between the start fade and the end fade (the reply's last ms fade to 0) the output is the
      // frames' samples exactly; inside the fades, never louder.
      for (let i = 0; i < p.expected.length; i++) {
        if (i >= p.fadeLen && i < p.expected.length - p.fadeLen) {
          if (p.rendered[i] !== p.expected[i]) expect.fail(`seed ${seed}: sample ${i} is ${p.rendered[i]}, expected ${p.expected[i]}`);
        } else if (Math.abs(p.rendered[i]!) > Math.abs(p.expected[i]!) + 1e-7) {
          expect.fail(`seed ${seed}: fade sample ${i} louder than the frame`);
        }
      }
      if (p.expected.length > 0) compared++;
      samples += p.expected.length;
    }
    // Over half the cases had audio to compare (the check above was not vacuous).
    expect(compared).toBeGreaterThan(300);
    expect(samples).toBeGreaterThan(50_000);
  });
});
