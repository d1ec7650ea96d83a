import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run';
import { encodeFrame, encodeJsonFrame, encodeTalAudio, TAL_AUDIO_DEFAULTS, writeWav } from '../../src/protocol/index';
import { jsonLines, memoryIO } from './cli-helpers';
import { concat, rawFrame, talwirePy, vectorsDir } from './protocol-helpers';

describe('talstream inspect', () => {
  it('prints one line per frame and a summary for the seed reply vector', async () => {
    const file = path.join(vectorsDir, 'tal-reply-stream.bin');
    const io = memoryIO();
    expect(await runCli(['inspect', file], io)).toBe(0);
    const lines = jsonLines(io.out());
    expect(lines).toHaveLength(12);
    const manifest = JSON.parse(readFileSync(path.join(vectorsDir, 'manifest.json'), 'utf8'));
    const frames = manifest.cases.find((c: { name: string }) => c.name === 'tal-reply-stream').frames;
    let offset = 0;
    frames.forEach((m: { byteLength: number; header: Record<string, unknown>; payloadLength: number }, i: number) => {
      expect(lines[i]).toEqual({
        offset,
        byteLength: m.byteLength,
        header: m.header,
        payloadBytes: m.payloadLength,
        durationMs: (m.payloadLength / 2 / 24000) * 1000,
      });
      offset += m.byteLength;
    });
    expect(lines[11]).toEqual({ summary: { frames: 11, bytes: 11751, audioFrames: 11, audioMs: 200, ok: true } });
    expect(io.err()).toBe('');
  });

  it('reads standard input with -', async () => {
    const bytes = concat([encodeTalAudio({ sampleRate: 8000 }, new Int16Array(80)), encodeTalAudio({ sign: 3, order: 2 })]);
    const io = memoryIO({ stdin: [bytes.subarray(0, 5), bytes.subarray(5)] });
    expect(await runCli(['inspect', '-'], io)).toBe(0);
    const lines = jsonLines(io.out());
    expect(lines.map((l) => l.durationMs)).toEqual([10, 0, undefined]);
    expect(lines[2]!.summary.audioMs).toBe(10);
  });

  it('--json-frames prints AnbJson values', async () => {
    const bytes = concat([encodeJsonFrame({ status: 'success', reason: 'none' }, { answer: 'a', source: 's' }), encodeJsonFrame({ status: 'x' }, [1, 2])]);
    const io = memoryIO({ files: { 'in.bin': bytes } });
    expect(await runCli(['inspect', '--json-frames', 'in.bin'], io)).toBe(0);
    const lines = jsonLines(io.out());
    expect(lines[0]).toMatchObject({ offset: 0, header: { status: 'success', reason: 'none' }, value: { answer: 'a', source: 's' } });
    expect(lines[1]!.value).toEqual([1, 2]);
    expect(lines[0]).not.toHaveProperty('durationMs');
  });

  it('malformed input: good frames printed, then error with code and byte on stderr, exit 1', async () => {
    const good = encodeTalAudio({}, new Int16Array(16));
    const io = memoryIO({ files: { 'bad.bin': concat([good, good, rawFrame(4, 0)]) } });
    expect(await runCli(['inspect', 'bad.bin'], io)).toBe(1);
    const lines = jsonLines(io.out());
    expect(lines.map((l) => l.offset)).toEqual([0, good.length, undefined]);
    expect(lines[2]!.summary).toMatchObject({ frames: 2, ok: false });
    expect(io.err()).toBe(`error: bad-length at byte ${2 * good.length}: frame total 4 < 8 + header length 0\n`);
  });

  it('truncated input and a bad TALAudio payload are errors too', async () => {
    const good = encodeTalAudio({}, new Int16Array(4));
    const io = memoryIO({ files: { 't.bin': concat([good, good.subarray(0, 10)]) } });
    expect(await runCli(['inspect', 't.bin'], io)).toBe(1);
    expect(io.err()).toMatch(new RegExp(`^error: truncated at byte ${good.length}: `));

    const odd = encodeFrame({ ...TAL_AUDIO_DEFAULTS }, new Uint8Array(3));
    const io2 = memoryIO({ files: { 'o.bin': concat([good, odd]) } });
    expect(await runCli(['inspect', 'o.bin'], io2)).toBe(1);
    expect(io2.err()).toMatch(new RegExp(`^error: bad-payload at byte ${good.length + odd.length - 3}: `));
  });

  it('a RIFF/WAVE payload reports the WAV duration', async () => {
    const wav = writeWav([new Float32Array(441)], 44100);
    const io = memoryIO({ files: { 'w.bin': encodeFrame({ ...TAL_AUDIO_DEFAULTS }, wav) } });
    expect(await runCli(['inspect', 'w.bin'], io)).toBe(0);
    expect(jsonLines(io.out())[0]!.durationMs).toBe(10);
  });

  it('reads frames written by the Python reference codec (talwire.py encode-json)', async () => {
    const input = [
      JSON.stringify({ header: { ...TAL_AUDIO_DEFAULTS, question: 'héllo 你好', order: 1 }, payloadHex: '0100ffff' }),
      JSON.stringify({ header: { ...TAL_AUDIO_DEFAULTS, sign: 3, order: 2, app: { x: [1] } } }),
    ].join('\n');
    const bytes = new Uint8Array(execFileSync('python3', [talwirePy, 'encode-json'], { input }));
    const io = memoryIO({ files: { 'py.bin': bytes } });
    expect(await runCli(['inspect', 'py.bin'], io)).toBe(0);
    const lines = jsonLines(io.out());
    expect(lines[0]!.header.question).toBe('héllo 你好');
    expect(lines[0]!.payloadBytes).toBe(4);
    expect(lines[1]!.header.app).toEqual({ x: [1] });
  });

  it('a URL source: non-2xx prints the status and the start of the body, exit 1', async () => {
    const fetch = (async () => new Response('x'.repeat(800), { status: 503, statusText: 'Service Unavailable' })) as typeof globalThis.fetch;
    const io = memoryIO({ fetch });
    expect(await runCli(['inspect', 'http://127.0.0.1:1/reply'], io)).toBe(1);
    const [first, body] = io.err().split('\n');
    expect(first).toBe('error: http: HTTP 503 Service Unavailable from http://127.0.0.1:1/reply');
    expect(body).toBe('x'.repeat(500));
  });

  it('usage mistakes exit 2 with the usage text; --help exits 0', async () => {
    const io = memoryIO();
    expect(await runCli(['inspect'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: inspect takes exactly one input.*\n\nusage: talstream inspect/s);
    const io2 = memoryIO();
    expect(await runCli(['inspect', '--help'], io2)).toBe(0);
    expect(io2.out()).toMatch(/^usage: talstream inspect <file\|url\|->/);
    const io3 = memoryIO();
    expect(await runCli(['inspect', '--bogus', 'x'], io3)).toBe(2);
  });
});
