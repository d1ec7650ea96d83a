import { describe, expect, it } from 'vitest';
import { Take } from '../../src/capture/take';
import { EndOfTurnSignal } from '../../src/capture/vad';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';

async function collect(take: Take) {
  const dec = new FrameDecoder();
  const out: Array<{ header: Record<string, unknown>; samples: Float32Array }> = [];
  for await (const bytes of take) {
    const frames = dec.push(bytes);
    expect(frames.length).toBe(1); // each item is exactly one whole frame
    const { header, channels } = readTalAudio(frames[0]!);
    out.push({ header, samples: channels[0]! });
  }
  dec.end();
  return out;
}

const ramp = (n: number, start = 0) => Float32Array.from({ length: n }, (_, i) => ((start + i) % 1000) / 2000);

describe('Take', () => {
  it('cuts writes into 20 ms frames: order from 1, sign 1/2/3, last frame holds the remainder', async () => {
    const take = new Take({ sampleRate: 16000, question: 'hi' });
    const audio = ramp(1000);
    take.write(audio.subarray(0, 333));
    take.write(audio.subarray(333, 1000));
    const result = await take.stop();
    expect(result).toEqual({ durationMs: 62.5, frames: 4, reason: 'stop' });
    const frames = await collect(take);
    expect(frames.map((f) => [f.header.order, f.header.sign, f.samples.length])).toEqual([
      [1, 1, 320], [2, 2, 320], [3, 2, 320], [4, 3, 40],
    ]);
    for (const f of frames) {
      expect(f.header.sampleRate).toBe(16000);
      expect(f.header.audioType).toBe('int16');
      expect(f.header.question).toBe('hi');
    }
    const all = frames.flatMap((f) => Array.from(f.samples));
    all.forEach((v, i) => expect(Math.abs(v - audio[i]!)).toBeLessThanOrEqual(1 / 32768));
  });

  it('an exact multiple of the frame ends with an empty sign-3 frame; int32 and extra fields', async () => {
    const take = new Take({ sampleRate: 8000, audioType: 'int32', frameMs: 10, fields: { lang: 'sv' } });
    take.write(ramp(160));
    await take.stop();
    const frames = await collect(take);
    expect(frames.map((f) => [f.header.order, f.header.sign, f.samples.length, f.header.audioType, f.header.bitDepth, f.header.lang])).toEqual([
      [1, 1, 80, 'int32', 32, 'sv'], [2, 2, 80, 'int32', 32, 'sv'], [3, 3, 0, 'int32', 32, 'sv'],
    ]);
  });

  it('a take stopped before any audio is one empty sign-3 frame with order 1', async () => {
    const take = new Take({ question: 'typed' });
    expect((await take.stop()).frames).toBe(1);
    const frames = await collect(take);
    expect(frames.map((f) => [f.header.order, f.header.sign, f.samples.length, f.header.question])).toEqual([[1, 3, 0, 'typed']]);
  });

  it('is iterable once; frames arrive while writing goes on', async () => {
    const take = new Take();
    const it = take[Symbol.asyncIterator]();
    const first = it.next();
    take.write(ramp(320));
    expect((await first).done).toBe(false);
    await expect(async () => { for await (const _ of take) { /* second reader */ } }).rejects.toMatchObject({ code: 'bad-argument' });
    void take.stop();
    expect((await it.next()).done).toBe(false); // the sign-3 frame
    expect((await it.next()).done).toBe(true);
  });

  it('abort: the reader gets the frames so far, then aborted; done rejects; writes are ignored', async () => {
    const ac = new AbortController();
    const take = new Take({ signal: ac.signal });
    take.write(ramp(700));
    ac.abort();
    take.write(ramp(700));
    await expect(take.done).rejects.toMatchObject({ code: 'aborted' });
    const got: number[] = [];
    await expect(async () => { for await (const b of take) got.push(b.length); }).rejects.toMatchObject({ code: 'aborted' });
    expect(got.length).toBe(2);
  });

  it('breaking out of the iteration aborts the take and releases the producer', async () => {
    let released = 0;
    const take = new Take({}, { release: () => released++ });
    take.write(ramp(1000));
    for await (const _ of take) break;
    expect(take.status).toBe('ended');
    expect(released).toBe(1);
    await expect(take.done).rejects.toMatchObject({ code: 'aborted' });
  });

  it('stop waits for the producer hook, whose last audio lands in the sign-3 frame', async () => {
    let take!: Take;
    take = new Take({}, { stop: async () => { await Promise.resolve(); take.write(ramp(100)); } });
    take.write(ramp(320));
    const r = await take.stop();
    expect(r.frames).toBe(2);
    expect((await collect(take)).map((f) => [f.header.sign, f.samples.length])).toEqual([[1, 320], [3, 100]]);
  });

  it('maxDurationMs stops the take by itself, at exactly that much audio', async () => {
    const take = new Take({ maxDurationMs: 50 });
    take.write(ramp(16000));
    const r = await take.done;
    expect(r).toEqual({ durationMs: 50, frames: 3, reason: 'max-duration' });
  });

  it('an end-of-turn source (e.g. vad-web onSpeechEnd) stops the take', async () => {
    const turn = new EndOfTurnSignal();
    const take = new Take({ endOfTurn: turn });
    take.write(ramp(400));
    turn.trigger();
    expect(await take.done).toEqual({ durationMs: 25, frames: 2, reason: 'end-of-turn' });
  });

  it('rejects bad options with bad-argument', () => {
    expect(() => new Take({ sampleRate: 10 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => new Take({ audioType: 'float' as never })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => new Take({ frameMs: 0 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});

describe('Take iterator return()', () => {
  it('aborts the take at once even while a next() is pending', async () => {
    const take = new Take();
    const it = take[Symbol.asyncIterator]();
    const pending = it.next();
    await it.return!();
    expect(take.status).toBe('ended');
    expect(await pending).toEqual({ done: true, value: undefined });
    await expect(take.done).rejects.toMatchObject({ code: 'aborted' });
  });
});
