// The PlayoutCore's gain per output sample: fades that are straight lines reaching their end on
// the sample they promise, and a volume that glides instead of stepping. Expected values are the
// ramps written out (fade length 4: steps of 1/4).
import { describe, expect, it } from 'vitest';
import { GainEnvelope } from '../../src/playout/gain-envelope';
import { TalStreamError } from '../../src/errors';

const take = (env: GainEnvelope, n: number) => Array.from({ length: n }, () => env.next());

describe('GainEnvelope', () => {
  it('starts silent; start() rises to full over the fade length and stays', () => {
    const env = new GainEnvelope(4);
    expect([env.audible, env.next(), env.audible]).toEqual([false, 0, false]);
    env.start();
    expect(take(env, 6)).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
    expect(env.audible).toBe(true);
  });

  it('fadeOut(n) from full reaches exactly 0 on the n-th sample, also where n does not divide evenly', () => {
    const env = new GainEnvelope(4);
    env.start();
    take(env, 4);
    env.fadeOut(4);
    expect(take(env, 5)).toEqual([0.75, 0.5, 0.25, 0, 0]);
    expect(env.audible).toBe(false);
    env.start();
    take(env, 4);
    env.fadeOut(3);
    const out = take(env, 4);
    expect(out.slice(0, 2).map((g) => Math.round(g * 1e12) / 1e12)).toEqual([0.666666666667, 0.333333333333]);
    expect(out.slice(2)).toEqual([0, 0]); // the rounding residue snapped to 0
  });

  it('fadeOut from part way up falls from there; fadeIn() turns it round from where it is', () => {
    const env = new GainEnvelope(4);
    env.start();
    take(env, 2); // 0.5
    env.fadeOut(2);
    expect(take(env, 1)).toEqual([0.25]);
    env.fadeIn();
    expect(take(env, 4)).toEqual([0.5, 0.75, 1, 1]);
  });

  it('mute() is silence at once, and start() after it rises from 0', () => {
    const env = new GainEnvelope(4);
    env.start();
    take(env, 4);
    env.mute();
    expect([env.audible, ...take(env, 2)]).toEqual([false, 0, 0]);
    env.start();
    expect(take(env, 2)).toEqual([0.25, 0.5]);
  });

  it('a volume change glides by 1/fadeLen per sample, down and up, and multiplies the fade', () => {
    const env = new GainEnvelope(4, 0.5);
    expect(env.volume).toBe(0.5);
    env.start();
    expect(take(env, 4)).toEqual([0.125, 0.25, 0.375, 0.5]);
    env.volume = 0;
    expect(env.volume).toBe(0);
    expect(take(env, 3)).toEqual([0.25, 0, 0]);
    env.volume = 1.5;
    expect(take(env, 7)).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.5]);
  });

  it('refuses a volume that is negative, NaN or infinite, by name', () => {
    const env = new GainEnvelope(4);
    for (const v of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let e: unknown;
      try {
        env.volume = v;
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(TalStreamError);
      expect([(e as TalStreamError).code, (e as TalStreamError).message]).toEqual(['bad-argument', `volume must be a finite number >= 0, got ${v}`]);
    }
    expect(env.volume).toBe(1);
  });
});
