import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run';
import { readTalAudio, writeWav } from '../../src/protocol/index';
import { memoryIO } from './cli-helpers';
import { decodeChunks, talwirePy } from './protocol-helpers';

/** k / 32768 values: exact in int16, so the samples can be compared exactly. */
const ramp = (n: number, step = 1) => Float32Array.from({ length: n }, (_, i) => (((i * step) % 2000) - 1000) / 32768);

describe('talstream encode', () => {
  it('cuts a 16 kHz WAV into 20 ms frames: order 1.., sign 1 / 2 / 3, exact samples', async () => {
    const samples = ramp(16000 * 0.07); // 70 ms -> 4 frames (20, 20, 20, 10 ms)
    const io = memoryIO({ files: { 'in.wav': writeWav([samples], 16000) } });
    expect(await runCli(['encode', '--wav', 'in.wav', '--question', 'wie spät?'], io)).toBe(0);
    const frames = decodeChunks([io.outBytes()]);
    expect(frames.map((f) => [f.header.order, f.header.sign, f.payload.length / 2])).toEqual([
      [1, 1, 320],
      [2, 2, 320],
      [3, 2, 320],
      [4, 3, 160],
    ]);
    expect(frames.map((f) => f.header.question)).toEqual(['wie spät?', '', '', '']);
    const all = frames.flatMap((f) => Array.from(readTalAudio(f).channels[0]!));
    expect(all).toEqual(Array.from(samples));
    expect(io.err()).toMatch(/^encoded 0\.070 s of 16000 Hz int16 audio, 1 channel\(s\) into 4 frames \(\d+ bytes\)\n$/);
  });

  it('--frame-ms, --keep-rate, --type int32 and stereo', async () => {
    const l = ramp(4410);
    const r = ramp(4410, 3);
    const io = memoryIO({ files: { 's.wav': writeWav([l, r], 44100, { format: 'float32' }) } });
    expect(await runCli(['encode', '--wav', 's.wav', '--frame-ms', '50', '--keep-rate', '--type', 'int32'], io)).toBe(0);
    const frames = decodeChunks([io.outBytes()]);
    expect(frames).toHaveLength(2);
    expect(frames[0]!.header).toMatchObject({ audioType: 'int32', bitDepth: 32, sampleRate: 44100, channels: 2, sign: 1, order: 1 });
    expect(frames[1]!.header).toMatchObject({ sign: 3, order: 2 });
    const chans = frames.map((f) => readTalAudio(f).channels);
    expect([...chans[0]![0]!, ...chans[1]![0]!]).toEqual(Array.from(l));
    expect([...chans[0]![1]!, ...chans[1]![1]!]).toEqual(Array.from(r));
  });

  it('resamples to --rate (default 16000): length and a 440 Hz tone survive', async () => {
    const rate = 48000;
    const tone = Float32Array.from({ length: rate / 2 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
    const io = memoryIO({ files: { 't.wav': writeWav([tone], rate, { format: 'float32' }) } });
    expect(await runCli(['encode', '--wav', 't.wav'], io)).toBe(0);
    const frames = decodeChunks([io.outBytes()]);
    expect(frames.every((f) => f.header.sampleRate === 16000)).toBe(true);
    const out = frames.flatMap((f) => Array.from(readTalAudio(f).channels[0]!));
    expect(out.length).toBe(8000);
    // compare with the ideal 16 kHz sine away from the edges (filter start-up)
    let worst = 0;
    for (let i = 200; i < 7800; i++) worst = Math.max(worst, Math.abs(out[i]! - 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    expect(worst).toBeLessThan(0.002);
  });

  it('a question alone: a start frame and an empty end frame', async () => {
    const io = memoryIO();
    expect(await runCli(['encode', '--question', 'what time is it?'], io)).toBe(0);
    const frames = decodeChunks([io.outBytes()]);
    expect(frames.map((f) => [f.header.sign, f.header.order, f.header.question, f.payload.length])).toEqual([
      [1, 1, 'what time is it?', 0],
      [3, 2, '', 0],
    ]);
  });

  it('--out writes a file; a terminal stdout is refused', async () => {
    const io = memoryIO({ files: { 'a.wav': writeWav([ramp(320)], 16000) }, tty: true });
    expect(await runCli(['encode', '--wav', 'a.wav'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: refusing to write binary frames to a terminal/);
    expect(await runCli(['encode', '--wav', 'a.wav', '--out', 'o.bin'], io)).toBe(0);
    expect(decodeChunks([io.files.get('o.bin')!]).map((f) => f.header.sign)).toEqual([1, 3]);
  });

  it('bad WAV -> error with code, exit 1; bad options -> exit 2', async () => {
    const io = memoryIO({ files: { 'x.wav': new Uint8Array(20) } });
    expect(await runCli(['encode', '--wav', 'x.wav'], io)).toBe(1);
    expect(io.err()).toBe('error: bad-wav at byte 0: not a RIFF/WAVE file\n');
    for (const args of [[], ['--wav', 'x.wav', '--frame-ms', '0'], ['--wav', 'x.wav', '--rate', '500'], ['--wav', 'x.wav', '--type', 'f32']]) {
      expect(await runCli(['encode', ...args], memoryIO())).toBe(2);
    }
  });

  it('the Python reference reader (talwire.py) decodes the request body', async () => {
    const io = memoryIO({ files: { 'in.wav': writeWav([ramp(800)], 16000) } });
    expect(await runCli(['encode', '--wav', 'in.wav', '--question', '你好'], io)).toBe(0);
    const out = execFileSync('python3', [talwirePy, 'decode'], { input: io.outBytes() }).toString('utf8');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.header.order, l.header.sign, l.payloadBytes])).toEqual([
      [1, 1, 640],
      [2, 2, 640],
      [3, 3, 320],
    ]);
    expect(lines[0].header.question).toBe('你好');
  });
});
