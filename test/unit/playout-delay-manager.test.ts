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
    // Time-scaling (the core sets both): an early start also needs minRate x the gap floor queued.
    // Gaps of 100 ms put the floor at 105 ms (the upper edge of their bin): 0.9 x 105 = 94.5.
    const scaled = new DelayManager();
    scaled.startFraction = 0.5;
    scaled.minRate = 0.9;
    for (let k = 0; k <= 100; k++) scaled.arrival(k * 100, 20);
    expect(scaled.gapQuantile()).toBe(105);
    expect([scaled.shouldStart(75, 0, false), scaled.shouldStart(94.4, 0, false), scaled.shouldStart(94.6, 0, false), scaled.shouldResume(94.4, false), scaled.shouldResume(94.6, false)])
      .toEqual([false, false, true, false, true]);
    // A floor above the target: the whole target queued is enough (the floor only guards an early start).
    for (let k = 101; k <= 300; k++) scaled.arrival(10000 + (k - 100) * 400, 20);
    expect(scaled.gapQuantile()).toBeGreaterThan(150 / 0.9);
    expect([scaled.shouldStart(149.9, 0, false), scaled.shouldStart(150, 0, false), scaled.shouldResume(150, false)]).toEqual([false, true, true]);
    const onArrival = new DelayManager({ policy: 'on-arrival' });
    expect([onArrival.shouldStart(0, 0, false), onArrival.shouldStart(1, 0, false), onArrival.shouldResume(0, false)]).toEqual([false, true, false]);
    for (const dm of [adaptive, pre, fixed, onArrival]) expect([dm.shouldStart(0, 0, true), dm.shouldResume(0, true)]).toEqual([true, true]);
  });

  it('startCap: an early start waits for at most that fraction of the depth stop-and-wait learns from the same replies', () => {
    // One minute of paced 20 ms frames: every 3 s a frame comes 100 ms late (20 hiccups), and at
    // 30 s a 300 ms stall. The candidate depths are 20 x 1.08^i. The shallowest that rides out the
    // hiccups is 20 x 1.08^24 = 126.83, the shallowest that also rides out the stall 20 x 1.08^37 =
    // 344.9. At 225 ms an underrun (the time-scaled cost) the stall is worth covering (126.83 + 225
    // = 351.83 > 344.9); at 150 (stop-and-wait's) it is not (126.83 + 150 = 276.83 < 344.9). Both
    // are widened by 1.5 after one reply. The gap floor stays at 25 (the late frames are 0.7% of
    // the gaps), 22.5 at 0.9x.
    const scaled = new DelayManager();
    scaled.startFraction = 0.4;
    scaled.minRate = 0.9;
    scaled.startCap = 0.5;
    const uncapped = new DelayManager();
    uncapped.startFraction = 0.4;
    uncapped.minRate = 0.9;
    const wait = new DelayManager({ timeScale: false });
    for (const dm of [scaled, uncapped, wait]) {
      dm.beginReply();
      let last = 0;
      for (let k = 0; k < 3000; k++) {
        const t = Math.max(last, k * 20 + (k % 150 === 75 ? 100 : 0) + (k === 1500 ? 300 : 0));
        dm.arrival(t, 20);
        last = t;
      }
      dm.endReply();
      dm.relearn();
      dm.beginReply();
    }
    const deep = 20 * 1.08 ** 37 * 1.5;
    const shallow = 20 * 1.08 ** 24 * 1.5;
    expect([scaled.targetMs, wait.targetMs, scaled.gapQuantile()]).toEqual([expect.closeTo(deep, 9), expect.closeTo(shallow, 9), 25]);
    // min(0.4 x 517.37, 0.5 x 190.24) = 95.12: the cap, not the fraction (206.95) nor the floor.
    const at = 0.5 * shallow;
    expect([scaled.shouldStart(at - 0.01, 0, false), scaled.shouldStart(at + 0.01, 0, false), scaled.shouldResume(at - 0.01, false), scaled.shouldResume(at + 0.01, false)])
      .toEqual([false, true, false, true]);
    expect([uncapped.shouldStart(0.4 * deep - 0.01, 0, false), uncapped.shouldStart(0.4 * deep + 0.01, 0, false)]).toEqual([false, true]);
    // An underrun grows both depths by 1.2, so the cap grows with the target.
    scaled.underrun();
    expect([scaled.shouldResume(1.2 * at - 0.01, false), scaled.shouldResume(1.2 * at + 0.01, false)]).toEqual([false, true]);
    // The cap never goes under the gap floor: at 0.09 x 228.29 (grown) = 20.55 the floor (22.5) decides.
    scaled.startCap = 0.09;
    expect([scaled.shouldStart(22.49, 0, false), scaled.shouldStart(22.51, 0, false)]).toEqual([false, true]);
  });

  it('startDeadline: a paced reply the gap floor holds back starts at that fraction of stop-and-wait\'s fill time, if the link is flowing', () => {
    // One minute of frames due every 20 ms from 160 ms, held in 150 ms stalls: those due in the
    // first half of every 300 ms arrive together at its middle. The gaps: one of 170 ms per 300 ms
    // (6.7% of them), so the floor is 175 (157.5 at 0.9x). Stop-and-wait underruns at every stall
    // below 170 ms of depth and never from the next grid depth, 20 x 1.08^26 = 147.93 (x 1.5 after
    // one reply: 221.89), the same for both costs. Early start: min(0.4 x 221.89, 0.5 x 221.89) =
    // 88.76, under the floor: the floor binds. Fill time of 221.89 ms: the first frame alone at
    // 160 (time 0), six more until 280 (140 ms of audio), then eight at 450: 300 ms, 290 ms after
    // the first. Deadline 0.4 x 290 = 116 ms. Speed 60000 ms of audio over 60010 ms: paced.
    const learn = (frameMs: number, deadline = 0.4) => {
      const dm = new DelayManager();
      dm.startFraction = 0.4;
      dm.minRate = 0.9;
      dm.startCap = 0.5;
      dm.startDeadline = deadline;
      dm.beginReply();
      for (let k = 0; k < 3000; k++) {
        const due = 160 + k * 20;
        dm.arrival(due % 300 < 150 ? due - (due % 300) + 150 : due, frameMs);
      }
      dm.endReply();
      dm.relearn();
      dm.beginReply();
      return dm;
    };
    const paced = learn(20);
    expect([paced.targetMs, paced.gapQuantile()]).toEqual([expect.closeTo(20 * 1.08 ** 26 * 1.5, 9), 175]);
    paced.arrival(1000, 20);
    // Before the deadline: neither the early depth (88.76) nor the floor (157.5) queued: wait.
    expect([paced.shouldStart(88.7, 115.9, false), paced.shouldStart(157.4, 115.9, false), paced.shouldStart(157.6, 0, false)]).toEqual([false, false, true]);
    // Past it, with the last frame 116 ms ago: a stall, wait for it to end. Then a frame: go, with
    // anything queued; not past the 45 ms that say flowing.
    expect(paced.shouldStart(20, 116.1, false)).toBe(false);
    paced.arrival(1100, 20);
    expect([paced.shouldStart(20, 116.1, false), paced.shouldStart(40, 145, false), paced.shouldStart(40, 145.1, false)]).toEqual([true, true, false]);
    // Flowing but before the deadline (the frame at 1100 came 15.9 ms ago): wait.
    expect(paced.shouldStart(20, 115.9, false)).toBe(false);
    // Not a resume (the depth rule alone), not with startDeadline 0.
    expect(paced.shouldResume(40, false)).toBe(false);
    // Only where the floor binds: with the early depth at 0.8 x 221.89 = 177.51, over the floor
    // (157.5), the depth rule alone decides, flowing and past the deadline or not.
    paced.startFraction = 0.8;
    paced.startCap = 0.8;
    expect([paced.shouldStart(100, 116.1, false), paced.shouldStart(160, 116.1, false), paced.shouldStart(177.6, 0, false)]).toEqual([false, false, true]);
    const off = learn(20, 0);
    off.arrival(1000, 20);
    expect(off.shouldStart(20, 116.1, false)).toBe(false);
    // 28 ms frames at the same times: 1.4x real time, a burst server keeps its floor. (Its depths:
    // stop-and-wait 175, the floor; the target 221.89; early min(88.76, 87.5) = 87.5 < 157.5, and
    // a fill time of 120 ms: the deadline would be 48 ms.)
    const burst = learn(28);
    burst.arrival(1000, 28);
    burst.arrival(1480, 28);
    expect([burst.shouldStart(87.4, 500, false), burst.shouldStart(157.6, 0, false)]).toEqual([false, true]);
  });

  it('startDeadline: nothing learned, no deadline (the first reply of a session keeps its floor)', () => {
    // Frames every 200 ms: the floor 205 (184.5 at 0.9x) binds over min(0.4, 0.5) x 150 = 60, and
    // the link is flowing (the last frame 0-20 ms ago), but no reply is held to time a deadline by:
    // 100 ms queued waits; the whole target (150, under the floor) still starts.
    const dm = new DelayManager();
    dm.startFraction = 0.4;
    dm.minRate = 0.9;
    dm.startCap = 0.5;
    dm.startDeadline = 0.4;
    dm.beginReply();
    for (let k = 0; k <= 10; k++) dm.arrival(k * 200, 20);
    expect(dm.gapQuantile()).toBe(205);
    expect([dm.shouldStart(100, 2000, false), dm.shouldStart(100, 2020, false), dm.shouldStart(149.9, 2000, false), dm.shouldStart(150, 2000, false)]).toEqual([false, false, false, true]);
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
    // Nor do the skipped entries weigh in the quantile: 3 gaps, want = 3 - max(0.03, 1) = 2,
    // reached in bin 4 (25 ms); one more gap of weight anywhere above would make it bin 7 (40 ms).
    expect(dm.gapQuantile()).toBe(25);
    const neg = new DelayManager();
    neg.importMemory({ v: 1, replies: 1, history: [], gaps: [[4, 2], [5, -1], [7, 1]] });
    expect([neg.exportMemory().gaps, neg.gapQuantile()]).toEqual([[[4, 2], [7, 1]], 25]);
  });

  it('importMemory skips history entries that are not {at: [], ms: []} and loads the rest', () => {
    const dm = new DelayManager();
    const good = { at: [0, 20, 40], ms: [20, 20, 20] };
    const history = [null, { at: [0, 20] }, { ms: [20, 20] }, { at: 'x', ms: [20] }, good] as unknown as JitterMemory['history'];
    expect(dm.importMemory({ v: 1, replies: 5, history, gaps: [] })).toBe(true);
    expect(dm.exportMemory().history).toEqual([good]);
    expect(dm.learnedReplies).toBe(1);
  });

  it('an empty memory is accepted and teaches nothing: the target stays initialTargetMs', () => {
    const dm = new DelayManager();
    expect(dm.importMemory({ v: 1, replies: 0, history: [], gaps: [] })).toBe(true);
    expect(dm.targetMs).toBe(150);
  });

  it('a gap longer than the histogram (5 s) counts in its last bin', () => {
    const dm = new DelayManager();
    dm.beginReply();
    dm.arrival(0, 20);
    dm.arrival(20, 20);
    dm.arrival(10020, 20);
    expect(dm.exportMemory().gaps).toEqual([[4, 1], [999, 1]]);
  });
});

/** One minute of paced 20 ms frames (3000) with a stall (200 ms) at 30 s: the frames sent during it
 * arrive together at its end. Replayed, a depth under about the stall runs dry once; a deeper one never. */
function stalledMinute(dm: DelayManager, stallMs = 200): void {
  dm.beginReply();
  for (let k = 0; k < 3000; k++) {
    const sent = k * 20;
    dm.arrival(sent >= 30000 && sent < 30000 + stallMs ? 30000 + stallMs : sent, 20);
  }
  dm.endReply();
  dm.beginReply(); // finishes the relearn
}

describe('DelayManager: what an underrun is worth', () => {
  it('underrunCostMs 150 (stop-and-wait): one underrun per minute is cheaper than 200 ms more depth', () => {
    // Scores: depth 21.6 (the grid's second, 20 x 1.08) -> 21.6 + 150 x 1/min = 171.6; any depth
    // covering the stall >= 200. (The first, 20 ms, is one frame: it runs dry as each next frame
    // arrives, which replay counts.) Chosen 21.6, widened by 1 + 0.5/1 -> 32.4 (over the gap
    // floor, 25: 2989 of the 2999 gaps are 20 ms).
    for (const o of [{ timeScale: false }, { underrunCostMs: 150 }]) {
      const dm = new DelayManager(o);
      stalledMinute(dm);
      expect(dm.targetMs).toBeCloseTo(20 * 1.08 * 1.5, 9);
    }
  });

  it('with timeScale (the default) the cost is 225: a 200 ms stall is worth covering, a 280 ms one is not (at 300 it is)', () => {
    // Scores: depth 21.6 -> 21.6 + 225 = 246.6; the shallowest depth covering a 200 ms stall costs
    // its depth alone, about 200-220: chosen, widened by 1.5. A 280 ms stall needs a depth of at
    // least 273.8 (the grid's 20 x 1.08^34): dearer than 246.6 at cost 225, cheaper than 321.6 at 300.
    for (const o of [{}, { timeScale: true }, { underrunCostMs: 225 }]) {
      const dm = new DelayManager(o);
      stalledMinute(dm);
      expect(dm.targetMs).toBeGreaterThanOrEqual(300);
      expect(dm.targetMs).toBeLessThan(1.5 * 246.6);
      const long = new DelayManager(o);
      stalledMinute(long, 280);
      expect(long.targetMs).toBeCloseTo(20 * 1.08 * 1.5, 9);
    }
    const dear = new DelayManager({ timeScale: true, underrunCostMs: 300 });
    stalledMinute(dear, 280);
    expect(dear.targetMs).toBeGreaterThanOrEqual(1.5 * 273.8);
    expect(dear.targetMs).toBeLessThan(1.5 * 321.6);
  });

  it('smoothing 1 counts a neighbour\'s underruns at a third: the depth chosen is one grid step (x1.08) deeper', () => {
    const plain = new DelayManager({ underrunCostMs: 1000 });
    const smooth = new DelayManager({ underrunCostMs: 1000, smoothing: 1 });
    stalledMinute(plain);
    stalledMinute(smooth);
    expect(plain.targetMs).toBeGreaterThanOrEqual(300);
    expect(smooth.targetMs / plain.targetMs).toBeCloseTo(1.08, 9);
    // Negative smoothing is none.
    const neg = new DelayManager({ underrunCostMs: 1000, smoothing: -2 });
    stalledMinute(neg);
    expect(neg.targetMs).toBe(plain.targetMs);
  });
});
