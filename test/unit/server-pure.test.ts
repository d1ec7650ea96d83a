// The reference server's pure parts: what it hears, when it sends, how it cuts its reply.
import { describe, expect, it } from 'vitest';
import { analyseTone, describeHeard } from '../../src/server/tone-analysis';
import { frameSchedule, parseJitter, parsePace, seededRandom } from '../../src/server/pacing';
import { buildReplyFrames, replyFrameCount, replyFrames, spreadWords, synthTone } from '../../src/server/reply-builder';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';
import { concat, sine } from './server-test-helpers';

describe('analyseTone', () => {
  it('finds 440 Hz in 2.4 s of 16 kHz audio to within 0.5 Hz', () => {
    const t = analyseTone(sine(440, 2.4, 16000), 16000);
    expect(t.samples).toBe(38400);
    expect(t.durationMs).toBe(2400);
    expect(Math.abs(t.peakHz! - 440)).toBeLessThan(0.5);
    expect(t.rms).toBeCloseTo(0.5 / Math.SQRT2, 3);
    expect(t.peak).toBeCloseTo(0.5, 3);
    expect(describeHeard(t)).toBe('heard 2.4 s of 16 kHz audio, 440 Hz peak');
  });

  it('finds an off-bin frequency at 44.1 kHz and names the rate with decimals', () => {
    const t = analyseTone(sine(1234.5, 0.5, 44100, 0.2), 44100);
    expect(Math.abs(t.peakHz! - 1234.5)).toBeLessThan(1);
    expect(describeHeard(t)).toBe('heard 0.5 s of 44.10 kHz audio, 1235 Hz peak');
  });

  it('picks the louder of two tones, and ignores DC', () => {
    const a = sine(300, 1, 16000, 0.2);
    const b = sine(2000, 1, 16000, 0.5);
    const mix = a.map((v, i) => v + b[i]! + 0.3);
    expect(Math.round(analyseTone(mix, 16000).peakHz!)).toBe(2000);
  });

  it('says silence for silence and null for too little audio', () => {
    const quiet = analyseTone(new Float32Array(16000), 16000);
    expect(quiet.peakHz).toBeNull();
    expect(describeHeard(quiet)).toBe('heard 1.0 s of 16 kHz audio, silence');
    expect(analyseTone(sine(440, 0.01, 16000), 16000).peakHz).toBeNull();
    expect(analyseTone(new Float32Array(0), 16000)).toMatchObject({ samples: 0, rms: 0, peakHz: null });
  });
});

describe('frameSchedule', () => {
  it('burst without jitter sends everything at once; realtime one frame per 20 ms', () => {
    expect(frameSchedule(4, { pace: 'burst' })).toEqual([0, 0, 0, 0]);
    expect(frameSchedule(4, { pace: 'realtime' })).toEqual([0, 20, 40, 60]);
    expect(frameSchedule(3, { pace: 'realtime', frameMs: 10 })).toEqual([0, 10, 20]);
  });

  it('is the same for the same seed, different for another, and never goes backwards', () => {
    const a = frameSchedule(500, { pace: 'realtime', jitter: '4g', seed: 7 });
    expect(frameSchedule(500, { pace: 'realtime', jitter: '4g', seed: 7 })).toEqual(a);
    expect(frameSchedule(500, { pace: 'realtime', jitter: '4g', seed: 8 })).not.toEqual(a);
    expect(a[0]).toBe(0);
    for (let k = 1; k < a.length; k++) {
      expect(a[k]!).toBeGreaterThanOrEqual(a[k - 1]!);
      // Never earlier than a real-time server could produce the frame.
      expect(a[k]!).toBeGreaterThanOrEqual(k * 20);
    }
  });

  it('congested links stall for hundreds of ms and deliver the held frames in a clump', () => {
    const t = frameSchedule(1500, { pace: 'realtime', jitter: 'congested', seed: 3 });
    let biggestGap = 0;
    let clump = 0;
    for (let k = 1; k < t.length; k++) {
      biggestGap = Math.max(biggestGap, t[k]! - t[k - 1]!);
      if (t[k] === t[k - 1]) clump++;
    }
    expect(biggestGap).toBeGreaterThan(250);
    expect(clump).toBeGreaterThan(10);
    const wifi = frameSchedule(1500, { pace: 'realtime', jitter: 'wifi', seed: 3 });
    let wifiGap = 0;
    for (let k = 1; k < wifi.length; k++) wifiGap = Math.max(wifiGap, wifi[k]! - wifi[k - 1]!);
    expect(wifiGap).toBeLessThan(biggestGap);
    expect(wifiGap).toBeLessThanOrEqual(20 + 180 + 40);
  });

  it('burst over a jittery link arrives faster than real time', () => {
    const t = frameSchedule(300, { pace: 'burst', jitter: 'wifi', seed: 1 });
    expect(t[299]!).toBeLessThan(299 * 20);
    expect(t[299]!).toBeGreaterThan(0);
  });

  it('seededRandom is deterministic and in [0, 1)', () => {
    const r = seededRandom(42);
    const s = seededRandom(42);
    for (let i = 0; i < 1000; i++) {
      const v = r();
      expect(v).toBe(s());
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('parses the query values and names the valid ones on a bad one', () => {
    expect(parsePace(null)).toBe('realtime');
    expect(parsePace('burst')).toBe('burst');
    expect(parseJitter('')).toBe('none');
    expect(parseJitter('4g')).toBe('4g');
    expect(() => parsePace('fast')).toThrow('pace must be one of burst, realtime (got "fast")');
    expect(() => parseJitter('5g')).toThrow('jitter must be one of none, wifi, 4g, congested (got "5g")');
  });
});

describe('reply frames', () => {
  it('spreads words over slots and joins back to the text', () => {
    expect(spreadWords('a b c', 6)).toEqual(['a ', '', 'b ', '', 'c', '']);
    expect(spreadWords('one two three four', 2)).toEqual(['one two ', 'three four']);
    expect(spreadWords('  lead', 2).join('')).toBe('  lead');
    expect(spreadWords('', 3)).toEqual(['', '', '']);
  });

  it('cuts audio into 20 ms int16 frames: sign 1, 2..., an empty sign 3, captions in order', () => {
    const audio = synthTone(440, 105, 24000);
    const answer = 'Here is a tone for you.';
    const frames = buildReplyFrames({ question: 'q?', answer, audio, sampleRate: 24000, extra: { heard: { peakHz: 440 } } });
    const decoder = new FrameDecoder();
    const got = decoder.push(concat(frames)).map((f) => readTalAudio(f));
    decoder.end();
    // 105 ms = 2520 samples = 5 frames of 480 and one of 120, then the closing frame.
    expect(got.map((g) => g.channels[0]!.length)).toEqual([480, 480, 480, 480, 480, 120, 0]);
    expect(got.map((g) => g.header.sign)).toEqual([1, 2, 2, 2, 2, 2, 3]);
    expect(got.map((g) => g.header.order)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(got.every((g) => g.header.question === 'q?' && g.header.sampleRate === 24000)).toBe(true);
    expect(got.map((g) => g.header.answer).join('')).toBe(answer);
    expect(got[0]!.header.heard).toEqual({ peakHz: 440 });
    expect(got[1]!.header.heard).toBeUndefined();
    // Samples are the tone quantised to int16.
    const first = got[0]!.channels[0]!;
    for (let i = 0; i < 480; i++) expect(Math.abs(first[i]! - audio[i]!)).toBeLessThanOrEqual(1 / 32768);
  });

  it('audio given as chunks of any size gives the same bytes as one array, lazily', () => {
    const audio = synthTone(330, 97, 24000);
    const plan = { question: 'q', answer: 'one two three', sampleRate: 24000, extra: { x: 1 } };
    const whole = buildReplyFrames({ ...plan, audio });
    expect(whole).toHaveLength(replyFrameCount(audio.length, 24000));
    const sizes = [1, 479, 480, 481, 7, 1000];
    let pulled = 0;
    function* chunks() {
      let at = 0;
      for (let i = 0; at < audio.length; i++) {
        const n = sizes[i % sizes.length]!;
        pulled++;
        yield audio.subarray(at, at + n);
        at += n;
      }
    }
    const it = replyFrames({ ...plan, audio: chunks(), audioLength: audio.length });
    const first = it.next();
    // The first frame needed only the chunks that cover it.
    expect(pulled).toBe(2);
    const chunked = [first.value as Uint8Array, ...it];
    expect(chunked).toEqual(whole);
    // Fewer samples than announced: the unsent captions ride on the closing frame.
    const short = buildReplyFrames({ ...plan, audio: [audio.subarray(0, 480)], audioLength: audio.length });
    const headers = short.map((f) => new FrameDecoder().push(f)[0]!.header);
    expect(headers.map((h) => h.answer).join('')).toBe('one two three');
    expect(headers.map((h) => h.sign)).toEqual([1, 3]);
  });

  it('with no audio, sends one closing frame carrying the whole answer', () => {
    const frames = buildReplyFrames({ question: 'hi', answer: 'hello there', audio: new Float32Array(0), sampleRate: 24000 });
    expect(frames).toHaveLength(1);
    const [f] = new FrameDecoder().push(frames[0]!);
    expect(f!.header).toMatchObject({ sign: 3, order: 1, answer: 'hello there', question: 'hi' });
  });

  it('synthTone fades in and out and keeps its amplitude', () => {
    const t = synthTone(1000, 100, 24000, 0.5);
    expect(t.length).toBe(2400);
    expect(t[0]).toBe(0);
    expect(Math.abs(t[2399]!)).toBeLessThan(1e-3);
    expect(Math.max(...t)).toBeCloseTo(0.5, 2);
  });
});
