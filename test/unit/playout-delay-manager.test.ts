// The DelayManager step by step (playout-policy.test.ts judges it over whole traces): the targets of
// each policy, the start and resume rules, growth on underrun, the gap floor's quantile and the
// memory it exports and imports. Expected values are worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { DelayManager } from '../../src/playout/delay-manager';
import type { JitterMemory } from '../../src/playout/types';

/** Frames of 20 ms arriving every `gapMs`, from `t0`. */
function arrivals(dm: DelayManager, count: number, gapMs: number, t0 = 0): number {
  let t = t0;
  for (let k = 0; k < count; k++, t += gapMs) dm.arrival(t, 20);
  return t - gapMs;
}

describe('DelayManager', () => {
  it('targets: adaptive starts at initialTargetMs (default 150, clamped to min..max); the baselines say theirs', () => {
    expect(new DelayManager().targetMs).toBe(150);
    expect(new DelayManager({ initialTargetMs: 5 }).targetMs).toBe(20);
    expect(new DelayManager({ initialTargetMs: 5000, maxTargetMs: 800 }).targetMs).toBe(800);
    expect(new DelayManager({ minTargetMs: 60, initialTargetMs: 40 }).targetMs).toBe(60);
    expect(new DelayManager({ policy: 'on-arrival' }).targetMs).toBe(0);
    expect(new DelayManager({ policy: { prebufferMs: 80 } }).targetMs).toBe(80);
    expect(new DelayManager({ policy: { fixedStartMs: 120 } }).targetMs).toBe(120);
  });

  it('each underrun multiplies the depth by underrunGrowth, up to maxTargetMs; the next reply starts from what was learned', () => {
    const dm = new DelayManager({ maxTargetMs: 300 });
    const seen = [];
    for (let k = 0; k < 5; k++) dm.underrun(), seen.push(Math.round(dm.targetMs * 1000) / 1000);
    expect(seen).toEqual([180, 216, 259.2, 300, 300]);
    dm.beginReply();
    expect(dm.targetMs).toBe(150);
    const slow = new DelayManager({ underrunGrowth: 2 });
    slow.underrun();
    expect(slow.targetMs).toBe(300);
  });

  it('start and resume: adaptive at the target (times startFraction), prebuffer at its depth, fixedStart by time; an ended reply goes at once', () => {
    const adaptive = new DelayManager();
    expect([adaptive.shouldStart(149.9, 0, false), adaptive.shouldStart(150, 0, false), adaptive.shouldResume(149.9, false), adaptive.shouldResume(150, false)]).toEqual([false, true, false, true]);
    adaptive.startFraction = 0.5;
    expect([adaptive.shouldStart(74.9, 0, false), adaptive.shouldStart(75, 0, false), adaptive.shouldResume(75, false)]).toEqual([false, true, true]);
    const pre = new DelayManager({ policy: { prebufferMs: 80 } });
    pre.startFraction = 0.5; // only the adaptive policy scales
    expect([pre.shouldStart(79, 0, false), pre.shouldStart(80, 0, false), pre.shouldResume(79, false)]).toEqual([false, true, false]);
    const fixed = new DelayManager({ policy: { fixedStartMs: 120 } });
    expect([fixed.shouldStart(500, 119, false), fixed.shouldStart(1, 120, false), fixed.shouldStart(0, 500, false), fixed.shouldResume(1, false), fixed.shouldResume(0, false)])
      .toEqual([false, true, false, true, false]);
    const onArrival = new DelayManager({ policy: 'on-arrival' });
    expect([onArrival.shouldStart(0, 0, false), onArrival.shouldStart(1, 0, false), onArrival.shouldResume(0, false)]).toEqual([false, true, false]);
    for (const dm of [adaptive, pre, fixed, onArrival]) expect([dm.shouldStart(0, 0, true), dm.shouldResume(0, true)]).toEqual([true, true]);
  });

  it('the gap floor: the upper edge of the 5 ms bin holding the 99% quantile, one outlier ignored, two not', () => {
    const dm = new DelayManager();
    expect(dm.gapQuantile()).toBe(0);
    // 100 gaps of 20 ms (bin 4): want = 100 - max(1, 1) = 99, reached in bin 4 -> 25 ms.
    const t = arrivals(dm, 101, 20);
    expect(dm.gapQuantile()).toBe(25);
    // One 3 s gap (bin 600): want = 101 - max(1.01, 1) = 99.99, still reached in bin 4.
    dm.arrival(t + 3000, 20);
    expect(dm.gapQuantile()).toBe(25);
    // A second: want = 102 - 1.02 = 100.98 > 100 in bin 4 -> bin 600's upper edge, 3005 ms.
    dm.arrival(t + 6000, 20);
    expect(dm.gapQuantile()).toBe(3005);
    // Early in a session: 10 gaps of 20 ms and one of 3 s. 1% of 11 gaps is less than one gap, so
    // the one gap's weight kept above the floor decides: want = 11 - max(0.11, 1) = 10 -> 25 ms.
    const early = new DelayManager();
    early.arrival(3000 + arrivals(early, 11, 20), 20);
    expect(early.gapQuantile()).toBe(25);
  });

  it('exports the gap histogram decayed by 0.85 per reply, and the memory imports into a new manager unchanged', () => {
    const dm = new DelayManager();
    dm.beginReply();
    arrivals(dm, 11, 20); // 10 gaps in bin 4
    dm.endReply();
    const m = dm.exportMemory();
    expect([m.v, m.replies, m.gaps]).toEqual([1, 1, [[4, 8.5]]]);
    expect(m.history).toHaveLength(1);
    expect(m.history[0]!.ms).toEqual(new Array(11).fill(20));
    const fresh = new DelayManager();
    expect(fresh.importMemory(JSON.parse(JSON.stringify(m)) as JitterMemory)).toBe(true);
    expect(fresh.exportMemory()).toEqual(m);
    expect(fresh.gapQuantile()).toBe(25);
  });

  it('a malformed memory is refused and changes nothing; bad gap entries are skipped', () => {
    const dm = new DelayManager();
    for (const bad of [null, undefined, { v: 2, replies: 1, history: [], gaps: [] }, { v: 1, replies: 1, history: {}, gaps: [] }, { v: 1, replies: 1, history: [], gaps: {} }]) {
      expect(dm.importMemory(bad as unknown as JitterMemory)).toBe(false);
    }
    expect([dm.targetMs, dm.learnedReplies, dm.exportMemory()]).toEqual([150, 0, { v: 1, replies: 0, history: [], gaps: [] }]);
    const ok = dm.importMemory({ v: 1, replies: 3, history: [], gaps: [[4, 2], [-1, 1], [1000, 1], [2.5, 1], [5, 0], [6, Number.NaN], 'x' as unknown as [number, number], [7, 1]] });
    expect(ok).toBe(true);
    expect(dm.exportMemory()).toEqual({ v: 1, replies: 3, history: [], gaps: [[4, 2], [7, 1]] });
  });
});
