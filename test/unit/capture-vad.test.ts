import { describe, expect, it } from 'vitest';
import { EndOfTurnSignal, VoiceGate, energyClassifier } from '../../src/capture/vad';
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

  it('defaults to -45 dBFS: RMS 1 dB either side decides', () => {
    const cls = energyClassifier();
    const at = (db: number) => new Float32Array(CH).fill(Math.pow(10, db / 20)); // a constant: RMS = its value
    expect([cls(at(-44), RATE), cls(at(-46), RATE)]).toEqual(['speech', 'silence']);
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

  it('rejects negative, infinite and non-number durations and a non-finite threshold with bad-argument, naming the option', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ hangoverMs: -1 }, 'vad.hangoverMs must be a number of ms >= 0, got -1'],
      [{ minSpeechMs: Infinity }, 'vad.minSpeechMs must be a number of ms >= 0, got Infinity'],
      [{ preRollMs: '300' }, 'vad.preRollMs must be a number of ms >= 0, got 300'],
      [{ noSpeechTimeoutMs: NaN }, 'vad.noSpeechTimeoutMs must be a number of ms >= 0, got NaN'],
      [{ thresholdDb: NaN }, 'vad.thresholdDb must be a number, got NaN'],
    ];
    for (const [opts, message] of bad) {
      expect(() => new VoiceGate(RATE, opts as never)).toThrow(expect.objectContaining({ code: 'bad-argument', message }));
    }
    // 0 is a duration like any other.
    expect(() => new VoiceGate(RATE, { hangoverMs: 0, minSpeechMs: 0, preRollMs: 0, noSpeechTimeoutMs: 0, thresholdDb: -10 })).not.toThrow();
  });

  it('the defaults: 60 ms of speech starts the turn with 300 ms of pre-roll, 800 ms of silence ends it', () => {
    const g = new VoiceGate(RATE);
    const steps = [...Array(20).fill(0), 0.5, 0.5, 0.5, ...Array(40).fill(0)].map((a, i) => ({ i: i + 1, ...g.push(chunk(a, i + 1)) }));
    const start = steps.find((s) => s.event === 'speechstart')!;
    // Speech from chunk 21; 60 ms = 3 chunks: confirmed at 23, sent with the 15 chunks before 21.
    expect(start.i).toBe(23);
    expect(start.emit.map(tagOf)).toEqual(Array.from({ length: 18 }, (_, k) => 6 + k));
    // The last speech is chunk 23; 40 silent chunks (800 ms) end the turn at 63.
    expect(steps.filter((s) => s.end).map((s) => [s.i, s.event, s.end])).toEqual([[63, 'speechend', 'speech-end']]);
  });

  it('speaking is true from the confirmed start to the end of the turn; nothing is sent after it', () => {
    const g = new VoiceGate(RATE, { thresholdDb: -30, minSpeechMs: 40, preRollMs: 0, hangoverMs: 40 });
    const seen = [0, 0.5, 0.5, 0, 0, 0.5].map((a, i) => {
      const step = g.push(chunk(a, i + 1));
      return [g.speaking, step.emit.map(tagOf)];
    });
    expect(seen).toEqual([
      [false, []],
      [false, []],
      [true, [2, 3]],
      [true, [4]],
      [false, [5]],
      [false, []],
    ]);
  });

  it('minSpeechMs 0: the first speech chunk starts the turn, silence never does (also without waiting)', () => {
    for (const waitForSpeech of [true, false]) {
      const g = new VoiceGate(RATE, { thresholdDb: -30, minSpeechMs: 0, preRollMs: 0, waitForSpeech });
      const events = [0, 0, 0.5].map((a, i) => g.push(chunk(a, i + 1)).event);
      expect([waitForSpeech, events]).toEqual([waitForSpeech, [undefined, undefined, 'speechstart']]);
    }
  });

  it('waitForSpeech false: every chunk goes out as it comes; the turn starts only after minSpeechMs of speech', () => {
    const g = new VoiceGate(RATE, { waitForSpeech: false, thresholdDb: -30, minSpeechMs: 40, preRollMs: 20 });
    const steps = [0, 0, 0.5, 0, 0.5, 0.5].map((a, i) => g.push(chunk(a, i + 1)));
    expect(steps.map((s) => s.emit.map(tagOf))).toEqual([[1], [2], [3], [4], [5], [6]]);
    // One 20 ms speech chunk is not 40 ms: the start is chunk 6.
    expect(steps.map((s) => s.event ?? '')).toEqual(['', '', '', '', '', 'speechstart']);
  });

  it('after no-speech the gate has ended: later chunks, speech included, send nothing', () => {
    const g = new VoiceGate(RATE, { thresholdDb: -30, noSpeechTimeoutMs: 40 });
    const steps = [0, 0, 0.5, 0.5, 0.5, 0.5].map((a, i) => g.push(chunk(a, i + 1)));
    expect(steps.map((s) => [s.end ?? '', s.event ?? '', s.emit.length])).toEqual([
      ['', '', 0],
      ['no-speech', '', 0],
      ['', '', 0],
      ['', '', 0],
      ['', '', 0],
      ['', '', 0],
    ]);
    expect(g.speaking).toBe(false);
  });

  it('preRollMs 0: the turn starts with the speech run itself, nothing before it', () => {
    const g = new VoiceGate(RATE, { thresholdDb: -30, minSpeechMs: 40, preRollMs: 0 });
    const start = [0, 0, 0, 0.5, 0.5].map((a, i) => g.push(chunk(a, i + 1))).find((s) => s.event === 'speechstart')!;
    expect(start.emit.map(tagOf)).toEqual([4, 5]);
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

describe('EndOfTurnSignal', () => {
  it('trigger() calls every subscriber once; an unsubscribed one no more', () => {
    const turn = new EndOfTurnSignal();
    const calls: string[] = [];
    const offA = turn.onSpeechEnd(() => calls.push('a'));
    turn.onSpeechEnd(() => calls.push('b'));
    turn.trigger();
    offA();
    turn.trigger();
    expect(calls).toEqual(['a', 'b', 'b']);
  });
});
