// `talstream encode --wav in.wav`: a WAV file -> a TALAudio request body (frames on stdout or --out).
import { encodeTalAudio, TAL_SAMPLE_RATE_MAX, TAL_SAMPLE_RATE_MIN } from '../protocol/tal-audio';
import { readWav } from '../protocol/wav';
import { numberOption, parseCommandArgs, UsageError } from './args';
import type { CliCommand } from './command';
import type { CliIO } from './io';
import { resampleAll } from './resample-all';

const usage = `usage: talstream encode --wav in.wav [options] > frames.bin

Writes a TALAudio request body: the WAV's audio cut into frames, order 1, 2, 3, ..., sign 1 on the
first frame, 2 on the middle ones and 3 on the last. A server built on the seed reads it with
tal_decoder; POST it with Content-Type: application/octet-stream.

options:
  --wav FILE           input WAV (PCM 16/24/32-bit or 32-bit float, any rate, mono or stereo)
  --question TEXT      typed query text, sent in the first frame's "question" field
                       (with --question and no --wav: one start frame and one end frame, no audio)
  --frame-ms MS        audio per frame in milliseconds (default 20)
  --rate HZ            sample rate of the frames (default 16000); the audio is resampled to it
  --keep-rate          keep the WAV's own sample rate (no resampling)
  --type int16|int32   sample type of the frames (default int16)
  --out FILE           write the frames to FILE instead of standard output
  -h, --help           this text
`;

/** The frames of one request body, as separate byte arrays. */
export function encodeRequestFrames(opts: {
  channels: Float32Array[];
  sampleRate: number;
  frameMs: number;
  question: string;
  audioType: 'int16' | 'int32';
}): Uint8Array[] {
  const { channels, sampleRate, frameMs, question, audioType } = opts;
  const length = channels.length ? channels[0]!.length : 0;
  const perFrame = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
  const frames: Uint8Array[] = [];
  const audioFrames = Math.ceil(length / perFrame);
  // A request has a start (sign 1) and an end (sign 3). With fewer than two frames of audio the
  // missing ones are empty frames: a question alone is a start and an end frame without audio.
  const count = Math.max(2, audioFrames);
  for (let i = 0; i < count; i++) {
    const from = i * perFrame;
    const to = Math.min(length, from + perFrame);
    const slice = from < length ? channels.map((c) => c.subarray(from, to)) : channels.map(() => new Float32Array(0));
    frames.push(
      encodeTalAudio(
        {
          audioType,
          sampleRate,
          channels: Math.max(1, channels.length),
          question: i === 0 ? question : '',
          sign: i === 0 ? 1 : i === count - 1 ? 3 : 2,
          order: i + 1,
        },
        slice.length ? slice : [new Float32Array(0)],
      ),
    );
  }
  return frames;
}

async function writeAll(io: CliIO, frames: Uint8Array[], out: string | undefined): Promise<void> {
  if (out !== undefined) {
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.length;
    }
    await io.writeFile(out, all);
    return;
  }
  for (const f of frames) await io.stdout.write(f);
}

const encode: CliCommand = {
  summary: 'turn a WAV file into a TALAudio request body (frames to stdout)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      wav: { type: 'string' },
      question: { type: 'string' },
      'frame-ms': { type: 'string' },
      rate: { type: 'string' },
      'keep-rate': { type: 'boolean' },
      type: { type: 'string' },
      out: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.wav === undefined && values.question === undefined) throw new UsageError('give --wav FILE and/or --question TEXT');
    const frameMs = numberOption('frame-ms', values['frame-ms'], 20, 1, 60_000);
    const rate = numberOption('rate', values.rate, 16000, TAL_SAMPLE_RATE_MIN, TAL_SAMPLE_RATE_MAX);
    if (!Number.isInteger(rate)) throw new UsageError(`--rate must be an integer, got ${rate}`);
    const type = values.type ?? 'int16';
    if (type !== 'int16' && type !== 'int32') throw new UsageError(`--type must be int16 or int32, got "${type}"`);
    if (values.out === undefined && io.stdout.isTTY) {
      throw new UsageError('refusing to write binary frames to a terminal: redirect standard output or use --out FILE');
    }

    let channels: Float32Array[] = [new Float32Array(0)];
    let sampleRate = rate;
    let source = 'no audio';
    if (values.wav !== undefined) {
      const wav = readWav(await io.readFile(values.wav));
      channels = wav.channels;
      sampleRate = wav.sampleRate;
      source = `${(channels[0]!.length / sampleRate).toFixed(3)} s of ${sampleRate} Hz ${wav.format} audio, ${channels.length} channel(s)`;
      if (!values['keep-rate'] && sampleRate !== rate) {
        channels = channels.map((c) => resampleAll(c, sampleRate, rate));
        source += `, resampled to ${rate} Hz`;
        sampleRate = rate;
      }
      if (sampleRate < TAL_SAMPLE_RATE_MIN || sampleRate > TAL_SAMPLE_RATE_MAX) {
        throw new UsageError(`the WAV's rate ${sampleRate} Hz is outside ${TAL_SAMPLE_RATE_MIN}..${TAL_SAMPLE_RATE_MAX}; drop --keep-rate`);
      }
    }
    const frames = encodeRequestFrames({ channels, sampleRate, frameMs, question: values.question ?? '', audioType: type });
    await writeAll(io, frames, values.out);
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    await io.stderr.write(`encoded ${source} into ${frames.length} frames (${bytes} bytes)\n`);
    return 0;
  },
};

export default encode;
