import { describe, expect, it } from 'vitest';
import { ResidueModel, type ModelTiming } from '../../src/dsp/echo-residue';

// Exact tests of one band's residue model on hand-made frame sequences, with a tiny timing so
// every step can be followed by hand: the reference window is 3 frames, a block of the rolling
// envelopes 2 frames (8 blocks for the floor and the reference gain: 16 frames of memory; 4 for
// the estimate's gain), a frame's residue is learned 2 frames later, the prior halves per played
// frame once the window has played, the long memory halves per played frame, the estimate's
// envelope falls to a quarter per frame. Constants of the model used below: the floor starts at
// 1e-4, 1e-10 is digital silence, the residue over the estimate is capped at 1000, and at an
// echo onset (2 x learnFrames = 4 frames) or after speech the residue may be 0.005 of the estimate.

const T: ModelTiming = { prior0: 2, priorDecay: 0.5, longDecay: 0.5, estDecay: 0.25, blockFrames: 2, windowFrames: 3, learnFrames: 2 };

type Frame = { pr?: number; pe?: number; py?: number; speech?: boolean; quiet?: boolean; after?: boolean };

/** Runs frames 1.. through a fresh model (observe then learn, as the detector does); returns floor and prediction per frame. */
function run(frames: Frame[], t: ModelTiming = T): { floor: number[]; pred: number[]; playing: boolean[]; m: ResidueModel } {
  const m = new ResidueModel(t);
  m.reset();
  const floor: number[] = [];
  const pred: number[] = [];
  const playing: boolean[] = [];
  frames.forEach((f, i) => {
    m.observe(f.pr ?? 0, f.pe ?? 0, f.py ?? 0, i + 1, f.after ?? false);
    floor.push(m.floor);
    pred.push(m.pred);
    playing.push(m.playing);
    m.learn(f.pe ?? 0, f.speech ?? false, f.quiet ?? true, i + 1);
  });
  return { floor, pred, playing, m };
}

const times = (n: number, f: Frame): Frame[] => new Array<Frame>(n).fill(f);
const close = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(b), 1e-30));

describe('ResidueModel: the noise floor', () => {
  it('is the rolling minimum over 8 blocks of 2 frames, skipping the first two frames and starting at 1e-4', () => {
    // Frames 1-2 at 1e-6 are not taken (the canceller's first zeros); frame 3 is: the floor drops
    // to 1e-6. Louder frames after it leave it there until frame 3's block (frames 3-4) is
    // replaced: block k holds frames 2k+1, 2k+2; 8 blocks later, at frame 19, it is gone.
    const { floor } = run([...times(3, { pe: 1e-6 }), ...times(20, { pe: 1e-3 })]);
    expect(floor.slice(0, 2)).toEqual([1e-4, 1e-4]);
    expect(floor.slice(2, 18)).toEqual(times(16, {}).map(() => 1e-6));
    expect(floor[18]).toBe(1e-3); // frame 19
  });

  it('holds where it was through digital silence (1e-10 and below), not through a level just over it', () => {
    const silent = run([...times(3, { pe: 1e-6 }), ...times(30, { pe: 1e-10 })]);
    expect(silent.floor.slice(2)).toEqual(times(31, {}).map(() => 1e-6));
    const zero = run([...times(3, { pe: 1e-6 }), ...times(30, { pe: 0 })]);
    expect(zero.floor[32]).toBe(1e-6);
    // 2e-10 is a level: it becomes the floor at once.
    expect(run([...times(3, { pe: 1e-6 }), { pe: 2e-10 }]).floor[3]).toBe(2e-10);
  });
});

describe('ResidueModel: the prediction from the reference', () => {
  it('is prior x the loudest reference frame of the 3-frame window, 0 when nothing plays', () => {
    // One played frame (1e-2), then nothing: frames 1-3 have it in their window.
    const { pred, playing } = run([{ pr: 1e-2 }, ...times(4, { pr: 0 })]);
    expect(playing).toEqual([true, true, true, false, false]);
    expect(pred).toEqual([0.02, 0.02, 0.02, 0, 0]);
    // The loudest of the window, not the latest: 1e-2 then 1e-4.
    expect(run([{ pr: 1e-2 }, { pr: 1e-4 }]).pred[1]).toBe(0.02);
    // Under 1e-7 nothing is playing.
    expect(run([{ pr: 1e-7 }]).playing[0]).toBe(false);
    expect(run([{ pr: 1e-7 }]).pred[0]).toBe(0); // nothing playing: nothing predicted, not 2 x 1e-7
    expect(run([{ pr: 2e-7 }]).playing[0]).toBe(true);
  });

  it('holds the prior for the window\'s 3 played frames, then halves it per played frame', () => {
    // Decays after frames 4, 5, ...: frame f sees 2 x 0.5^(f - 4) from frame 4 on.
    const { pred } = run(times(7, { pr: 1e-2 }));
    expect(pred).toEqual([0.02, 0.02, 0.02, 0.02, 0.01, 0.005, 0.0025]);
    // Frames where nothing plays do not count. Played 1-3, then nothing from frame 4: frames 4-5
    // still have frame 3 in their window (playing: they count, the prior halves after each), 6-7
    // do not. Frames 8-10 then see 0.5, 0.25, 0.125 (without the pause: 0.125 at frame 8).
    const paused = run([...times(3, { pr: 1e-2 }), ...times(4, { pr: 0 }), ...times(3, { pr: 1e-2 })]);
    expect(paused.playing.slice(3, 7)).toEqual([true, true, false, false]);
    expect(paused.pred.slice(7)).toEqual([0.005, 0.0025, 0.00125]);
  });

  it('learns the residue gain (output minus twice the floor, over the window\'s reference) two frames later', () => {
    // Frame 1: output 1e-3, floor 1e-4, reference 1e-2: gain (1e-3 - 2e-4) / 1e-2 = 0.08, learned
    // at frame 3 (its slot comes round), seen from frame 4. Later frames are digital zeros (gain 0).
    // The prior 2 x 0.5^(f - 4) falls under 0.08 at frame 9 (0.0625). The learned block (frames
    // 3-4 of the played frames) is replaced at frame 18's rotation: frame 19 sees only the long
    // memory, 0.08 x 0.5^16, under the prior 2 x 0.5^15.
    const frames = [{ pr: 1e-2, pe: 1e-3 }, ...times(20, { pr: 1e-2, pe: 0 })];
    const { pred } = run(frames);
    close(pred[7]!, 2 * 0.5 ** 4 * 1e-2); // frame 8: the prior, 0.125
    close(pred[8]!, 0.08 * 1e-2); // frame 9
    close(pred[17]!, 0.08 * 1e-2); // frame 18
    close(pred[18]!, 2 * 0.5 ** 15 * 1e-2); // frame 19
    // No fading of the long memory: it keeps 0.08 after the block is gone.
    close(run(frames, { ...T, longDecay: 1 }).pred[18]!, 0.08 * 1e-2);
    // Not learned without a quiet neighbourhood, from speech, or over a reference under the floor.
    close(run(frames.map((f) => ({ ...f, quiet: false }))).pred[8]!, 2 * 0.5 ** 5 * 1e-2);
    close(run([{ ...frames[0]!, speech: true }, ...frames.slice(1)]).pred[8]!, 2 * 0.5 ** 5 * 1e-2);
    // (A reference at the floor, 1e-4 exactly, is not over it: nothing learned, the prior.)
    for (const pr of [5e-5, 1e-4]) {
      const under = run([{ pr, pe: 1e-3 }, ...times(10, { pr, pe: 0 })]).pred;
      close(under[8]!, 2 * 0.5 ** 5 * pr);
    }
    // A learned gain from the reference's loudest frame of the window, not the current one.
    const peak = run([{ pr: 1e-2, pe: 1e-3 }, { pr: 1e-3 }, { pr: 1e-3 }, ...times(6, { pr: 1e-3 })], { ...T, prior0: 0 }).pred;
    close(peak[3]!, 0.08 * 1e-3);
  });
});

describe('ResidueModel: the prediction from the canceller\'s estimate', () => {
  // A small prior (0.01 x the window's 1e-2 = 1e-4) so the estimate's bounds show.
  const S = { ...T, prior0: 0.01 };

  it('at an echo onset (4 frames) may be 0.005 of the estimate, which falls to a quarter per frame', () => {
    // py 10 at frame 1, then 0: the estimate's envelope is 10, 2.5, 0.625, 0.156, ... (over the
    // 1e-4 floor: heard). Frames 1-4 are the onset; frame 5 goes back to the prior (halved once).
    const { pred } = run([{ pr: 1e-2, py: 10 }, ...times(5, { pr: 1e-2 })], S);
    close(pred[0]!, 0.05);
    close(pred[1]!, 0.0125);
    close(pred[2]!, 0.003125);
    close(pred[3]!, 0.005 * 10 * 0.25 ** 3);
    close(pred[4]!, 0.01 * 0.5 * 1e-2);
    // After speech (afterSpeech) the same bound holds past the onset.
    const after = run([{ pr: 1e-2, py: 10 }, ...times(4, { pr: 1e-2 }), { pr: 1e-2, after: true }], S).pred;
    close(after[5]!, 0.005 * 10 * 0.25 ** 5);
    // The onset starts again once the estimate has been inaudible: at frame 10 it falls under the
    // floor (10 x 0.25^9 = 3.8e-5 < 1e-4); a new estimate at frame 11 is an onset again.
    const again = run([{ pr: 1e-2, py: 10 }, ...times(9, { pr: 1e-2 }), { pr: 1e-2, py: 10 }], { ...S, priorDecay: 1 }).pred;
    close(again[7]!, 1e-4); // frame 8: heard, past the onset, the estimate's gain not yet learned: the prior
    // Frame 9: all past blocks of the estimate's gain learned 0 (the output is digital zeros):
    // the prediction is 0 (see the next test); frame 10: not heard, so that bound does not apply.
    expect(again[8]).toBe(0);
    close(again[9]!, 1e-4);
    // Frame 11: an onset again: min(prior, 0 x est) = 0, raised to 0.005 x 10.
    close(again[10]!, 0.05);
  });

  it('is capped by the learned estimate gain once all 4 of its blocks have one (the smaller prediction wins)', () => {
    // The estimate steady at 1 (heard), the output digital zeros: every frame teaches a gain of
    // 0 (two frames later). Blocks of 2 played frames: block 0 (frames 1-2) learns nothing
    // (nothing pending yet); it comes round again at frame 9, when it is the current block and
    // does not count: from frame 9 the envelope is 0 and the prediction min(prior, 0 x est) = 0.
    const frames = times(10, { pr: 1e-2, py: 1 });
    const { pred } = run(frames, { ...T, priorDecay: 1 });
    close(pred[7]!, 0.02); // frame 8: a past block is still empty: no bound
    expect(pred[8]).toBe(0); // frame 9
    // The gain is capped at 1000: the estimate just over the floor (2e-4), the output loud (1):
    // gain (1 - 2e-4) / 2e-4 = 4999, capped; with a prior of 100 x the reference (1), the
    // prediction is 1000 x 2e-4 = 0.2 (uncapped it would be 1).
    const loud = run(times(10, { pr: 1, py: 2e-4, pe: 1 }), { ...T, prior0: 100, priorDecay: 1 });
    close(loud.pred[8]!, 0.2);
    // Not learned while the estimate is not heard (under the floor): no bound, the prior.
    const unheard = run(times(10, { pr: 1e-2, py: 5e-5 }), { ...T, priorDecay: 1 });
    close(unheard.pred[8]!, 0.02);
  });

  it('learns the estimate\'s gain only from frames where the estimate is heard (strictly over the floor)', () => {
    // Frames 1-8: the estimate at or under the 1e-4 floor (5e-5, or 1e-4 exactly: not over it);
    // frame 9 on: heard (1e-3). At frame 9 the blocks of the estimate's gain that are not the
    // current one (1-3) hold nothing learned: no bound, the prediction is the prior x 1e-2 = 0.02.
    // (Had the unheard frames taught their gain of 0, it would be min(0.02, 0) = 0, raised to
    // the onset's 0.005 x 1e-3.)
    for (const py of [5e-5, 1e-4]) {
      const { pred } = run([...times(8, { pr: 1e-2, py }), ...times(2, { pr: 1e-2, py: 1e-3 })], { ...T, priorDecay: 1 });
      close(pred[8]!, 0.02);
    }
    // Frames where nothing plays teach nothing either, and nothing is pending at the start: two
    // silent frames, then the estimate heard from frame 3. Block 0 (played frames 1-2) learns the
    // pending values of frames 1-2: nothing. At frame 10 block 0 is still empty: no bound (0.02);
    // at frame 11 it is the current block again, blocks 1-3 hold 0: the prediction is 0.
    const late = run([...times(2, { pr: 0 }), ...times(9, { pr: 1e-2, py: 1e-3 })], { ...T, priorDecay: 1 }).pred;
    close(late[9]!, 0.02);
    expect(late[10]).toBe(0);
  });
});

describe('ResidueModel: overResidue', () => {
  it('is output minus the floor strictly over margin x the prediction', () => {
    const { m } = run([{ pr: 1e-2 }]); // floor 1e-4, prediction 0.02
    expect(m.overResidue(0.0401 + 1e-6, 2)).toBe(true);
    expect(m.overResidue(0.0401 - 1e-6, 2)).toBe(false);
    expect(m.overResidue(0.0011 + 1e-6, 0.05)).toBe(true);
    // Nothing predicted (nothing plays): anything over the floor.
    const q = run([{ pr: 0 }]).m;
    expect(q.overResidue(1e-4 + 1e-9, 8)).toBe(true);
    expect(q.overResidue(1e-4, 8)).toBe(false);
  });

  it('reset() forgets floor, gains and prior', () => {
    const frames = [{ pr: 1e-2, pe: 1e-3 }, ...times(10, { pr: 1e-2, pe: 1e-6 })];
    const a = run(frames);
    a.m.reset();
    expect([a.m.floor, a.m.pred, a.m.playing]).toEqual([0, 0, false]);
    const again: number[] = [];
    frames.forEach((f, i) => {
      a.m.observe(f.pr ?? 0, f.pe ?? 0, 0, i + 1, false);
      again.push(a.m.pred);
      a.m.learn(f.pe ?? 0, false, true, i + 1);
    });
    expect(again).toEqual(a.pred);
  });
});
