// DelayHistory and replay() by hand: what is recorded (times from each reply's first arrival, the
// cap per reply, the ring of `capacity` replies), what load() refuses, what export() gives back in
// which order, and the counterfactual replay's rule on arrivals worked out in the comments.
import { describe, expect, it } from 'vitest';
import { DelayHistory, MAX_RECORDED_FRAMES, replay } from '../../src/playout/delay-history';

/** Records one reply of frames (atMs, audioMs) and ends it; returns what end() said. */
function record(h: DelayHistory, frames: [number, number][]): boolean {
  h.begin();
  for (const [at, ms] of frames) h.arrival(at, ms);
  return h.end();
}

describe('DelayHistory: recording', () => {
  it('a reply of two frames or more is kept; of one or none it is dropped (end() says which)', () => {
    const h = new DelayHistory(4);
    expect(record(h, [[0, 20]])).toBe(false);
    expect(record(h, [])).toBe(false);
    expect(h.replies).toBe(0);
    expect(record(h, [[0, 20], [20, 20]])).toBe(true);
    expect(h.replies).toBe(1);
    expect(h.export()).toEqual([{ at: [0, 20], ms: [20, 20] }]);
  });

  it('end() without begin() and a second end() keep nothing', () => {
    const h = new DelayHistory(2);
    expect(h.end()).toBe(false);
    h.begin();
    h.arrival(0, 20);
    h.arrival(10, 20);
    expect(h.end()).toBe(true);
    expect(h.end()).toBe(false);
    expect(h.replies).toBe(1);
  });

  it('times count from each reply\'s own first arrival', () => {
    const h = new DelayHistory(2);
    record(h, [[1000, 20], [1030, 20]]);
    record(h, [[5000, 10], [5002.5, 30], [5100, 40]]);
    expect(h.export()).toEqual([
      { at: [0, 30], ms: [20, 20] },
      { at: [0, 2.5, 100], ms: [10, 30, 40] },
    ]);
  });

  it('arrivals outside a reply (before begin, after end) are ignored', () => {
    const h = new DelayHistory(2);
    h.arrival(0, 20);
    record(h, [[0, 20], [20, 20]]);
    h.arrival(40, 20);
    expect(h.export()).toEqual([{ at: [0, 20], ms: [20, 20] }]);
    expect(h.minutes).toBeCloseTo(40 / 60000, 12);
  });

  it('replies and minutes count finished replies only, not the one being recorded', () => {
    const h = new DelayHistory(3);
    record(h, [[0, 30], [10, 30]]);
    h.begin();
    h.arrival(0, 6000);
    h.arrival(1, 6000);
    expect(h.replies).toBe(1);
    expect(h.minutes).toBeCloseTo(60 / 60000, 12);
    // Nor does the replay: a finished reply that never runs dry at depth 20, and one being
    // recorded that would (its second frame comes 480 ms after the first ran out).
    const g = new DelayHistory(3);
    record(g, [[0, 20], [10, 20]]);
    g.begin();
    g.arrival(0, 20);
    g.arrival(500, 20);
    expect(g.underrunsAt(20)).toBe(0);
    g.end();
    expect(g.underrunsAt(20)).toBe(1);
  });

  it('keeps `capacity` replies, overwriting the oldest; export() lists them oldest first', () => {
    const h = new DelayHistory(3);
    for (let r = 1; r <= 5; r++) record(h, [[0, r], [r, r]]);
    expect(h.replies).toBe(3);
    expect(h.export()).toEqual([3, 4, 5].map((r) => ({ at: [0, r], ms: [r, r] })));
    // A dropped reply takes no slot: the ring still holds 3, 4, 5.
    record(h, [[0, 99]]);
    expect(h.export().map((r) => r.ms[0])).toEqual([3, 4, 5]);
  });

  it('a new reply reuses its slot whole: nothing of the reply it replaces is left', () => {
    const h = new DelayHistory(1);
    record(h, [[0, 20], [20, 20], [40, 20], [60, 20]]);
    record(h, [[0, 10], [5, 10]]);
    expect(h.export()).toEqual([{ at: [0, 5], ms: [10, 10] }]);
    expect(h.minutes).toBeCloseTo(20 / 60000, 12);
  });

  it('records at most MAX_RECORDED_FRAMES frames of a reply: later ones add neither time nor audio', () => {
    const h = new DelayHistory(1);
    h.begin();
    for (let k = 0; k < MAX_RECORDED_FRAMES + 3; k++) h.arrival(k * 20, 20);
    h.end();
    const [r] = h.export();
    expect(r!.at.length).toBe(MAX_RECORDED_FRAMES);
    expect(r!.at.at(-1)).toBe((MAX_RECORDED_FRAMES - 1) * 20);
    expect(h.minutes).toBeCloseTo((MAX_RECORDED_FRAMES * 20) / 60000, 9);
  });

  it('export() rounds times to 0.1 ms and audio to 1 µs', () => {
    const h = new DelayHistory(1);
    record(h, [[0, 20.00049], [12.34, 19.9996]]);
    expect(h.export()).toEqual([{ at: [0, 12.3], ms: [20, 20] }]);
  });
});

describe('DelayHistory: fill time and speed (medians over the replies held)', () => {
  it('fillTimeMs: when the depth had arrived, from each reply\'s first frame; the last arrival if never', () => {
    const h = new DelayHistory(4);
    expect([h.fillTimeMs(100), h.speed()]).toEqual([0, 0]);
    // Cumulative audio 20, 40, 60, 80 at 100, 130, 200, 260 (times from the first frame: 0, 30, 100, 160).
    record(h, [[100, 20], [130, 20], [200, 20], [260, 20]]);
    expect([h.fillTimeMs(20), h.fillTimeMs(40), h.fillTimeMs(40.5), h.fillTimeMs(80), h.fillTimeMs(500)]).toEqual([0, 30, 100, 160, 160]);
    // Two more: 50 ms frames (40 ms reached at 0) and 10 ms ones (at 40, 50, 90: 40 ms at 90).
    record(h, [[0, 50], [500, 50]]);
    record(h, [[0, 10], [40, 10], [50, 10], [90, 10]]);
    // Fill times of 40 ms: 30, 0, 90 -> median 30; with a fourth reply (60): 30, 0, 90, 60 -> (30 + 60) / 2.
    expect(h.fillTimeMs(40)).toBe(30);
    record(h, [[0, 20], [60, 20]]);
    expect(h.fillTimeMs(40)).toBe(45);
  });

  it('speed: audio over the span from the first frame to the end of the last', () => {
    const h = new DelayHistory(3);
    // 80 ms of audio over 160 + 20 ms: 0.444..; 100 ms over 500 + 50: 0.1818..; 40 over 90 + 10: 0.4.
    record(h, [[100, 20], [130, 20], [200, 20], [260, 20]]);
    expect(h.speed()).toBeCloseTo(80 / 180, 12);
    record(h, [[0, 50], [500, 50]]);
    record(h, [[0, 10], [40, 10], [50, 10], [90, 10]]);
    expect(h.speed()).toBeCloseTo(0.4, 12);
    // A burst reply replaces the oldest (80/180): 200 ms of audio over 60 + 100 ms = 1.25 -> median 0.4 still; another -> 1.25.
    record(h, [[0, 100], [60, 100]]);
    expect(h.speed()).toBeCloseTo(0.4, 12);
    record(h, [[0, 100], [60, 100]]);
    expect(h.speed()).toBeCloseTo(1.25, 12);
  });
});

describe('DelayHistory.load', () => {
  it('round-trips export(), and keeps only the newest `capacity` replies', () => {
    const a = new DelayHistory(2);
    const saved = [1, 2, 3].map((r) => ({ at: [0, 10 * r], ms: [r, r] }));
    a.load(saved);
    expect(a.export()).toEqual(saved.slice(1));
    const b = new DelayHistory(2);
    b.load(a.export());
    expect(b.export()).toEqual(a.export());
  });

  it('skips frames with a time that is not finite or audio outside (0, 60000) ms', () => {
    const h = new DelayHistory(1);
    h.load([{ at: [0, NaN, 10, 20, 30, 40, Infinity, 50, 60], ms: [20, 20, 0, -5, 60000, 59999, 20, 1e-3, 20] }]);
    expect(h.export()).toEqual([{ at: [0, 40, 50, 60], ms: [20, 59999, 0.001, 20] }]);
  });

  it('takes numbers written as strings, reads pairs up to the shorter array, and drops a reply left with under two frames', () => {
    const h = new DelayHistory(3);
    h.load([
      { at: ['0', '20'] as unknown as number[], ms: [20, 20] },
      { at: [0, 20, 40], ms: [20] },
      { at: [0], ms: [20, 20, 20] },
    ]);
    expect(h.export()).toEqual([{ at: [0, 20], ms: [20, 20] }]);
  });
});

describe('replay: underruns of a fixed start/resume depth', () => {
  const run = (frames: [number, number][], depth: number) =>
    replay(Float64Array.from(frames, (f) => f[0]), Float32Array.from(frames, (f) => f[1]), frames.length, depth);

  it('starts once `depth` is queued, drains at real time, and counts each time it runs dry', () => {
    // 40 ms at 0, 20 at 30, 20 at 100; depth 40: plays from 0; at 30, 10 left + 20 = 30; dry at 60
    // before the frame at 100 (1 underrun); resumes with everything in at 100.
    expect(run([[0, 40], [30, 20], [100, 20]], 40)).toBe(1);
    // While playing it does not wait for `depth` again: 30 ms queued at 30 plays on, 5 ms are left
    // when the last frame comes at 55.
    expect(run([[0, 40], [30, 20], [55, 20]], 40)).toBe(0);
  });

  it('runs dry when the buffer ends exactly as the next frame arrives', () => {
    // 20 ms at 0 ends at 20, when the next frame arrives: counted (the output had nothing then).
    expect(run([[0, 20], [20, 20], [40, 20]], 0)).toBe(2);
    expect(run([[0, 20], [19, 20], [38, 20]], 0)).toBe(0);
  });

  it('once all is in it plays to the end: the last frame never causes an underrun', () => {
    expect(run([[0, 20], [1000, 20]], 500)).toBe(0); // waits for 500 ms that never come: all in at 1000
    expect(run([[0, 20], [1000, 20]], 0)).toBe(1);
  });

  it('a deeper start resumes deeper too: each resume waits for `depth` again', () => {
    const frames: [number, number][] = [[0, 20], [20, 20], [40, 20], [150, 20], [160, 20], [170, 20], [400, 20]];
    // depth 60: starts at 40 (3 x 20 queued), dry at 100 (1); resumes at 170 with 60 queued, dry
    // at 230 (2); the frame at 400 is the last: it plays out.
    expect(run(frames, 60)).toBe(2);
    // depth 0: dry at 20 and at 40 (each as the next frame arrives), at 60 (3); from 150 the
    // frames overlap (30 ms queued at 160, 40 at 170), dry at 210 (4); then the last frame.
    expect(run(frames, 0)).toBe(4);
  });
});
