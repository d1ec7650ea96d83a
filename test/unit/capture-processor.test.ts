// The capture processor's own logic (chunking, acks, pool reuse, level rate, input switch), run
// in Node under a minimal AudioWorkletGlobalScope shim. Real-browser behaviour is covered by
// test/browser/capture-*.test.ts; this shows what a browser test cannot: buffer identity.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CaptureCommand, CaptureEvent } from '../../src/capture/capture-protocol';
import { Resampler } from '../../src/dsp/resampler';

type Proc = { port: FakePort; process(inputs: Float32Array[][], outputs: Float32Array[][], p: Record<string, Float32Array>): boolean };
class FakePort {
  sent: Array<{ msg: CaptureEvent; transfer?: Transferable[] }> = [];
  onmessage: ((e: { data: CaptureCommand }) => void) | null = null;
  postMessage(msg: CaptureEvent, transfer?: Transferable[]) { this.sent.push({ msg, transfer }); }
  deliver(cmd: CaptureCommand) { this.onmessage?.({ data: cmd }); }
}
let Ctor: new (o: unknown) => Proc;

beforeAll(async () => {
  const g = globalThis as Record<string, unknown>;
  g.sampleRate = 48000;
  g.AudioWorkletProcessor = class { port = new FakePort(); };
  g.registerProcessor = (name: string, c: new (o: unknown) => Proc) => { if (name === 'talstream-capture') Ctor = c; };
  await import('../../worklets/capture-processor');
});

function make(poolSize = 4): Proc {
  return new Ctor({ processorOptions: { targetRate: 16000, chunkSamples: 320, levelIntervalMs: 100, poolSize } });
}
const tone = (n: number, start: number) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * (start + i)) / 48000));

describe('capture processor (worklets/capture-processor.ts)', () => {
  it('posts 320-sample chunks equal to the Resampler run one-shot and to the 440 Hz sine at 16 kHz, final partial chunk before the stop ack', () => {
    const p = make();
    p.port.deliver({ type: 'start', id: 1 });
    const blocks = 100; // 12800 input samples at 48 kHz -> 4266.67 output samples
    for (let b = 0; b < blocks; b++) p.process([[tone(128, b * 128)]], [[new Float32Array(128)]], {});
    p.port.deliver({ type: 'stop', id: 2 });
    const msgs = p.port.sent.map((s) => s.msg).filter((m) => m.type !== 'level');
    expect(msgs[0]).toEqual({ type: 'ack', id: 1 });
    const chunks = msgs.filter((m): m is Extract<CaptureEvent, { type: 'chunk' }> => m.type === 'chunk');
    expect(msgs[msgs.length - 1]).toEqual({ type: 'ack', id: 2 });
    expect(msgs[msgs.length - 2]).toBe(chunks[chunks.length - 1]);
    expect(chunks.map((c) => c.final)).toEqual([...chunks.slice(1).map(() => false), true]);
    const lengths = chunks.map((c) => c.length);
    expect(lengths.slice(0, -1).every((n) => n === 320)).toBe(true);
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(Math.ceil((blocks * 128) / 3));
    // Same samples as one Resampler over the whole input (same core, same state handling).
    const r = new Resampler(48000, 16000);
    const a = r.process(tone(blocks * 128, 0)), t = r.flush();
    const want = new Float32Array(a.length + t.length); want.set(a); want.set(t, a.length);
    const got = new Float32Array(want.length);
    let o = 0;
    for (const c of chunks) { got.set(c.buffer.subarray(0, c.length), o); o += c.length; }
    expect(Array.from(got)).toEqual(Array.from(want));
    // And against an oracle that is not the code: the 440 Hz sine itself at 16 kHz, delay-free.
    // Away from the cut ends (where the sine starts and stops abruptly: 4 ms, wider than the
    // filter's reach of the clicks there) within 1e-5, the filter's passband ripple on 0.5.
    for (let j = 64; j < got.length - 64; j++) expect(Math.abs(got[j]! - 0.5 * Math.sin((2 * Math.PI * 440 * j) / 16000))).toBeLessThan(1e-5);
    // Every chunk's buffer is transferred.
    for (const s of p.port.sent) if (s.msg.type === 'chunk') expect(s.transfer).toEqual([s.msg.buffer.buffer]);
  });

  it('reuses recycled buffers: in steady state no new chunk buffer appears', () => {
    const p = make(2);
    p.port.deliver({ type: 'start', id: 1 });
    const seen = new Set<Float32Array>();
    let posted = 0;
    for (let b = 0; b < 2000; b++) {
      p.process([[tone(128, b * 128)]], [[new Float32Array(128)]], {});
      for (const s of p.port.sent.splice(0)) {
        if (s.msg.type !== 'chunk') continue;
        posted++;
        seen.add(s.msg.buffer);
        p.port.deliver({ type: 'recycle', buffer: s.msg.buffer }); // the main thread sends it back
      }
    }
    expect(posted).toBe(Math.floor((2000 * 128) / 3 / 320));
    expect(seen.size).toBeLessThanOrEqual(2);
  });

  it('levels at most every 100 ms of audio, with the tone RMS and peak; mute sends zeros but meters the input', () => {
    const p = make();
    p.port.deliver({ type: 'start', id: 1 });
    p.port.deliver({ type: 'mute', id: 2, muted: true });
    for (let b = 0; b < 375; b++) p.process([[tone(128, b * 128)]], [[new Float32Array(128)]], {}); // 1 s
    const levels = p.port.sent.map((s) => s.msg).filter((m): m is Extract<CaptureEvent, { type: 'level' }> => m.type === 'level');
    // A report when at least 4800 samples (100 ms) are counted, checked per 128-sample block:
    // every 38 blocks (4864 samples), so 9 in 375 blocks.
    expect(levels.length).toBe(9);
    for (const l of levels) {
      expect(l.rms).toBeCloseTo(0.5 / Math.SQRT2, 2);
      expect(l.peak).toBeGreaterThan(0.499);
    }
    const chunks = p.port.sent.map((s) => s.msg).filter((m): m is Extract<CaptureEvent, { type: 'chunk' }> => m.type === 'chunk');
    // The resampler holds back its lookahead (latency) until stop: whole chunks of what it gave.
    expect(chunks.length).toBe(Math.floor(new Resampler(48000, 16000).process(new Float32Array(48000)).length / 320));
    expect(chunks.length).toBe(49);
    expect(chunks.every((c) => c.buffer.subarray(0, c.length).every((v) => v === 0))).toBe(true);
  });

  it("a disconnected input counts as silence (timing kept); 'switch' moves to the other input once it has been live 50 ms", () => {
    const p = make();
    p.port.deliver({ type: 'start', id: 1 });
    for (let b = 0; b < 30; b++) p.process([[]], [[new Float32Array(128)]], {});
    const silent = p.port.sent.map((s) => s.msg).filter((m) => m.type === 'chunk');
    expect(silent.length).toBe(Math.floor(new Resampler(48000, 16000).process(new Float32Array(3840)).length / 320));
    expect(silent.length).toBe(3);
    p.port.sent.length = 0;
    p.port.deliver({ type: 'switch', id: 7, input: 1, settleMs: 50, timeoutMs: 1000 });
    const acks = () => p.port.sent.filter((s) => s.msg.type === 'ack').length;
    // The new input is silent for 5 blocks (not live yet), then carries audio.
    for (let b = 0; b < 5; b++) p.process([[tone(128, b * 128)], [new Float32Array(128)]], [[new Float32Array(128)]], {});
    expect(acks()).toBe(0);
    let blocks = 0;
    while (acks() === 0 && blocks < 100) { p.process([[tone(128, 0)], [tone(128, 0)]], [[new Float32Array(128)]], {}); blocks++; }
    expect(blocks).toBe(Math.ceil(2400 / 128)); // 50 ms at 48 kHz
    // The ack says where in the take the new input begins: 35 blocks of input at 48 kHz so far.
    expect(p.port.sent.find((s) => s.msg.type === 'ack')!.msg).toEqual({ type: 'ack', id: 7, position: Math.round(((30 + 5 + blocks - 1) * 128) / 3), live: true });
  });

  it("'switch' to the active input itself waits for its first non-zero sample (Microphone.create's wait for input); a wait that times out acks live: false", () => {
    const p = make();
    const acks = () => p.port.sent.filter((s) => s.msg.type === 'ack').map((s) => s.msg);
    // Not recording: position -1. 10 ms at 48 kHz = 3.75 blocks, so the 4th silent block times out.
    p.port.deliver({ type: 'switch', id: 3, input: 0, settleMs: 0, timeoutMs: 10 });
    for (let b = 0; b < 3; b++) p.process([[new Float32Array(128)]], [[new Float32Array(128)]], {});
    expect(acks()).toEqual([]);
    p.process([[new Float32Array(128)]], [[new Float32Array(128)]], {});
    expect(acks()).toEqual([{ type: 'ack', id: 3, position: -1, live: false }]);
    p.port.sent.length = 0;
    // Silence, then one block whose last sample only is non-zero: that block is the first audio.
    p.port.deliver({ type: 'switch', id: 4, input: 0, settleMs: 0, timeoutMs: 5000 });
    for (let b = 0; b < 20; b++) p.process([[new Float32Array(128)]], [[new Float32Array(128)]], {});
    expect(acks()).toEqual([]);
    const first = new Float32Array(128);
    first[127] = 1e-4;
    p.process([[first]], [[new Float32Array(128)]], {});
    expect(acks()).toEqual([{ type: 'ack', id: 4, position: -1, live: true }]);
  });

  it("'close' ends the processor (process returns false)", () => {
    const p = make();
    expect(p.process([[tone(128, 0)]], [[new Float32Array(128)]], {})).toBe(true);
    p.port.deliver({ type: 'close' });
    expect(p.process([[tone(128, 0)]], [[new Float32Array(128)]], {})).toBe(false);
  });
});

describe('capture processor flush', () => {
  it("'flush' posts the partial chunk (not final) before its ack; the take goes on", () => {
    const p = make();
    p.port.deliver({ type: 'start', id: 1 });
    for (let b = 0; b < 10; b++) p.process([[tone(128, b * 128)]], [[new Float32Array(128)]], {});
    p.port.deliver({ type: 'flush', id: 2 });
    const msgs = p.port.sent.map((s) => s.msg).filter((m) => m.type !== 'level');
    const partial = new Resampler(48000, 16000).process(tone(1280, 0)).length; // one full chunk and some
    expect(msgs.map((m) => (m.type === 'chunk' ? `chunk ${m.length} ${m.final}` : `${m.type} ${(m as { id: number }).id}`))).toEqual([
      'ack 1', 'chunk 320 false', `chunk ${partial - 320} false`, 'ack 2',
    ]);
    expect(p.process([[tone(128, 1280)]], [[new Float32Array(128)]], {})).toBe(true);
  });
});

describe('capture processor listening (the hands-free module)', () => {
  const settings = { cancelEcho: false, detector: {} };
  const listenChunks = (p: Proc) =>
    p.port.sent.map((s) => s.msg).filter((m): m is Extract<CaptureEvent, { type: 'chunk' }> => m.type === 'chunk');

  it("'listen' before the hands-free module is added: acked with an error naming the file, nothing flows", () => {
    expect((globalThis as Record<string, unknown>).talstreamEcho).toBeUndefined();
    const p = make();
    p.port.deliver({ type: 'listen', id: 1, on: true, settings });
    for (let b = 0; b < 10; b++) p.process([[tone(128, b * 128)]], [[new Float32Array(128)]], {});
    expect(p.port.sent.map((s) => s.msg).filter((m) => m.type !== 'level')).toEqual([
      { type: 'ack', id: 1, error: 'talstream.hands-free.js is not loaded in this context' },
    ]);
  });

  it('with the hands-free module: chunks flow without a take, the mic resampled as one Resampler run, each with the verdict of the frame it ends; off stops them', async () => {
    await import('../../worklets/echo');
    const { NearEndDetector } = await import('../../src/dsp/near-end-detector');
    const p = make();
    p.port.deliver({ type: 'listen', id: 1, on: true, settings });
    const blocks = 60; // 7680 input samples -> 2560 at 16 kHz: 8 chunks (the resampler's delay holds some back)
    // Silence, then the tone (speech-band energy, no reference playing): the verdicts change.
    const input = (b: number) => (b < 25 ? new Float32Array(128) : tone(128, b * 128));
    for (let b = 0; b < blocks; b++) p.process([[input(b)], [], []], [[new Float32Array(128)]], {});
    p.port.deliver({ type: 'listen', id: 2, on: false, settings: null });
    for (let b = 0; b < 10; b++) p.process([[tone(128, b * 128)]], [[new Float32Array(128)]], {});
    const msgs = p.port.sent.map((s) => s.msg).filter((m) => m.type !== 'level');
    expect(msgs[0]).toEqual({ type: 'ack', id: 1 });
    expect(msgs[msgs.length - 1]).toEqual({ type: 'ack', id: 2 });
    const chunks = listenChunks(p);
    // Oracle: the same input through one Resampler, cut into 320-sample chunks; and the near-end
    // detector over it (frames of one chunk, no reference, the mic as its own output).
    const all = new Float32Array(blocks * 128);
    for (let b = 0; b < blocks; b++) all.set(input(b), b * 128);
    const want = new Resampler(48000, 16000).process(all);
    const whole = Math.floor(want.length / 320);
    expect(chunks.map((c) => [c.length, c.final])).toEqual(Array.from({ length: whole }, () => [320, false]));
    const detector = new NearEndDetector(16000, { frameMs: 20 });
    const verdicts: number[] = [];
    const silence = new Float32Array(320);
    for (let k = 0; k < whole; k++) {
      const frame = want.subarray(k * 320, (k + 1) * 320);
      expect(Array.from(chunks[k]!.buffer.subarray(0, 320)), `chunk ${k}`).toEqual(Array.from(frame));
      const v = detector.classify(frame, silence, frame);
      verdicts.push(v === 'speech' ? 2 : v === 'echo' ? 1 : 0);
    }
    expect(chunks.map((c) => c.verdict)).toEqual(verdicts);
    expect(new Set(verdicts).size).toBeGreaterThan(1);
  });
});
