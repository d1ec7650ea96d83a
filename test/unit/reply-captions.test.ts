// Caption timing against the playhead: exact at the player's anchors, advancing with the output
// clock in between, capped at what was queued, paused with the clock.
import { describe, expect, it } from 'vitest';
import { CaptionTimeline } from '../../src/captions';
import { ManualTime } from './reply-fakes';

function timeline() {
  const time = new ManualTime();
  const shown: [string, number, number][] = [];
  const t = new CaptionTimeline(time.clock, (text, order) => shown.push([text, order, time.t]), time.timers);
  return { time, shown, t };
}

describe('CaptionTimeline', () => {
  it('shows nothing before audio starts, then each caption when the playhead reaches its frame', async () => {
    const { time, shown, t } = timeline();
    t.add(1, 20, 'a');
    t.add(2, 20, '');
    t.add(3, 20, 'c');
    await time.advance(50);
    expect(shown).toEqual([]);
    t.audioStarted();
    expect(shown).toEqual([['a', 1, 50]]);
    await time.advance(100);
    expect(shown).toEqual([
      ['a', 1, 50],
      ['c', 3, 90],
    ]);
  });

  it('anchors on a reported start time: a late report shows the captions already due at once', async () => {
    const { time, shown, t } = timeline();
    for (let i = 1; i <= 5; i++) t.add(i, 20, `p${i}`);
    await time.advance(100);
    t.audioStarted(55); // started at 55, reported at 100: 45 ms played
    expect(shown.map((s) => s[0])).toEqual(['p1', 'p2', 'p3']);
    await time.advance(15); // 60 ms played
    expect(shown.map((s) => [s[0], s[2]])).toEqual([
      ['p1', 100],
      ['p2', 100],
      ['p3', 100],
      ['p4', 115],
    ]);
  });

  it('a start time from the future of the clock is not trusted', async () => {
    const { time, shown, t } = timeline();
    t.add(1, 20, 'a');
    t.add(2, 20, 'b');
    await time.advance(10);
    t.audioStarted(500);
    await time.advance(20);
    expect(shown.map((s) => [s[0], s[2]])).toEqual([
      ['a', 10],
      ['b', 30],
    ]);
  });

  it('never runs past what was queued, and waits through an underrun for the resume', async () => {
    const { time, shown, t } = timeline();
    t.add(1, 20, 'a');
    t.audioStarted();
    await time.advance(100); // only 20 ms were queued: the playhead sits at 20
    expect(t.position()).toBe(20);
    t.underrun();
    t.add(2, 20, 'b'); // arrives during the underrun: starts at 20, shown only on resume
    await time.advance(50);
    expect(shown.map((s) => s[0])).toEqual(['a']);
    t.resumed();
    expect(shown.map((s) => [s[0], s[2]])).toEqual([
      ['a', 0],
      ['b', 150],
    ]);
  });

  it('a frozen clock (suspended context) holds the captions', async () => {
    const time = new ManualTime();
    let audioMs = 0;
    const shown: string[] = [];
    const t = new CaptionTimeline({ now: () => audioMs }, (text) => shown.push(text), time.timers);
    t.add(1, 20, 'a');
    t.add(2, 20, 'b');
    t.audioStarted();
    await time.advance(1000); // wall time passes, the audio clock does not
    expect(shown).toEqual(['a']);
    expect(time.fired).toBeLessThanOrEqual(12); // at 20, 60, 140, then every 100 ms
    audioMs = 20;
    // While frozen the check backs off to every 100 ms: the caption shows within that.
    await time.advance(100);
    expect(shown).toEqual(['a', 'b']);
  });

  it('flush() shows what is left at the end; close() drops it', async () => {
    const a = timeline();
    a.t.add(1, 20, 'x');
    a.t.add(2, 20, 'y');
    a.t.flush();
    expect(a.shown.map((s) => s[0])).toEqual(['x', 'y']);
    a.t.add(3, 20, 'late');
    expect(a.shown.length).toBe(2);

    const b = timeline();
    b.t.add(1, 20, 'x');
    b.t.add(2, 20, 'y');
    b.t.audioStarted();
    b.t.close();
    await b.time.advance(100);
    expect(b.shown.map((s) => s[0])).toEqual(['x']);
  });
});
