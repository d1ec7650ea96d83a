import { describe, expect, it } from 'vitest';
import { VoiceGate, energyClassifier } from '../../src/capture/vad';
import { Take } from '../../src/capture/take';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';

const RATE = 16000;
const CH = 320; // 20 ms
/** A 20 ms chunk: a 300 Hz tone of amplitude `amp` (0 = silence); sample 0 holds `tag` to identify it. */
function chunk(amp: number, tag: number): Float32Array {
  const c = new Float32Array(CH);
  for (let i = 0; i < CH; i++) c[i] = amp * Math.sin((2 * Math.PI * 300 * i) / RATE);
  c[0] = tag / 1000;
  return c;
}
const tagOf = (c: Float32Array) => Math.round(c[0]! * 1000);

describe('energyClassifier', () => {
  it('compares chunk RMS with the dBFS threshold', () => {
    const cls = energyClassifier(-30);
    // A sine of amplitude a has RMS a/sqrt2: -30 dBFS RMS is amplitude 0.0447.
    expect(cls(chunk(0.05, 0), RATE)).toBe('speech');
    expect(cls(chunk(0.04, 0), RATE)).toBe('silence');
    expect(cls(new Float32Array(0), RATE)).toBe('silence');
  });
});

describe('VoiceGate', () => {
  it('waits for speech, sends the pre-roll first, stops after the hangover', () => {
    const g = new VoiceGate(RATE, { thresholdDb: -30, minSpeechMs: 40, preRollMs: 60, hangoverMs: 100 });
    const sent: number[] = [];
    const events: string[] = [];
    let end: string | undefined;
    const plan = [0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0, 0.5, 0, 0, 0, 0, 0, 0, 0];
    plan.forEach((amp, i) => {
      const step = g.push(chunk(amp, i + 1));
      sent.push(...step.emit.map(tagOf));
      if (step.event) events.push(`${step.event}@${i + 1}`);
      if (step.end && !end) end = `${step.end}@${i + 1}`;
    });
    // Speech starts at chunk 6 and is confirmed at 7 (40 ms): the 60 ms pre-roll is chunks 3..5.
    // After the last speech (chunk 10) five silent chunks make 100 ms: the turn ends at chunk 15.
    expect(sent).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(events).toEqual(['speechstart@7', 'speechend@15']);
    expect(end).toBe('speech-end@15');
  });

  it('a speech burst shorter than minSpeechMs does not start the turn', () => {
    const g = new VoiceGate(RATE, { thresholdDb: -30, minSpeechMs: 60, preRollMs: 0 });
    const emitted = [0.5, 0.5, 0, 0.5, 0, 0].flatMap((a, i) => g.push(chunk(a, i + 1)).emit);
    expect(emitted).toEqual([]);
    expect(g.speaking).toBe(false);
  });

  it('noSpeechTimeoutMs ends a turn that never starts; waitForSpeech false sends everything', () => {
    const g = new VoiceGate(RATE, { noSpeechTimeoutMs: 100 });
    const ends = [0, 0, 0, 0, 0].map((a, i) => g.push(chunk(a, i + 1)).end);
    expect(ends).toEqual([undefined, undefined, undefined, undefined, 'no-speech']);
    const h = new VoiceGate(RATE, { waitForSpeech: false, thresholdDb: -30, minSpeechMs: 20, hangoverMs: 40 });
    const tags = [0, 0, 0.5, 0, 0, 0].flatMap((a, i) => h.push(chunk(a, i + 1)).emit.map(tagOf));
    expect(tags).toEqual([1, 2, 3, 4, 5]);
  });

  it('a plugged classifier replaces the energy detector', () => {
    const g = new VoiceGate(RATE, { classify: (c) => tagOf(c) >= 3 && tagOf(c) <= 4, minSpeechMs: 20, preRollMs: 20, hangoverMs: 20 });
    const tags = [0, 0, 0, 0, 0, 0].flatMap((a, i) => g.push(chunk(a, i + 1)).emit.map(tagOf));
    expect(tags).toEqual([2, 3, 4, 5]);
  });

  it('rejects negative durations with bad-argument', () => {
    expect(() => new VoiceGate(RATE, { hangoverMs: -1 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});

describe('Take with vad', () => {
  it('stops itself at the end of speech; frames hold pre-roll + speech + hangover, signs right', async () => {
    const take = new Take({ sampleRate: RATE, vad: { thresholdDb: -30, minSpeechMs: 20, preRollMs: 40, hangoverMs: 60 } });
    const starts: number[] = [];
    take.on('speechstart', () => starts.push(take.durationMs));
    const plan = [0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 0, 0];
    plan.forEach((a, i) => take.write(chunk(a, i + 1)));
    const r = await take.done;
    expect(r.reason).toBe('speech-end');
    const dec = new FrameDecoder();
    const got: Array<[number, number, number]> = [];
    for await (const b of take) {
      const { header, channels } = readTalAudio(dec.push(b)[0]!);
      got.push([header.order as number, header.sign as number, channels[0]!.length ? tagOf(channels[0]!) : 0]);
    }
    // Chunks 3,4 pre-roll; 5,6 speech; 7,8,9 hangover (60 ms); then an empty sign-3 frame.
    expect(got).toEqual([[1, 1, 3], [2, 2, 4], [3, 2, 5], [4, 2, 6], [5, 2, 7], [6, 2, 8], [7, 2, 9], [8, 3, 0]]);
    expect(starts).toEqual([0]);
  });
});
