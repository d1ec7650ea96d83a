// `talstream inspect <file|url|->`: one JSON line per frame, then a summary line.
import { TalStreamHttpError } from '../errors';
import type { Frame } from '../protocol/frame-codec';
import { decodeFrames } from '../protocol/frame-decoder';
import { readJsonFrame } from '../protocol/anb-json';
import { readTalAudio, talAudioDurationMs } from '../protocol/tal-audio';
import { isRiffWave } from '../protocol/wav';
import { numberOption, parseCommandArgs, UsageError } from './args';
import type { CliCommand } from './command';
import type { CliIO } from './io';
import { formatError } from './format-error';

const usage = `usage: talstream inspect <file|url|-> [--json-frames] [--max-frame-bytes N]

Prints one JSON line per frame of a talstream / objectstreaming byte stream:
  {"offset", "byteLength", "header", "payloadBytes", "durationMs"}
(durationMs for TALAudio frames, i.e. headers with audioType or bitDepth), then a summary line
  {"summary": {"frames", "bytes", "audioFrames", "audioMs", "ok"}}.
The input is a file, an http(s) URL (GET) or - for standard input.

options:
  --json-frames          the payloads are AnbJson: print each parsed payload as "value"
  --max-frame-bytes N    largest frame accepted (default 16777216)
  -h, --help             this text

Malformed input: the good frames are printed, then "error: <code> at byte <offset>: <message>"
on stderr, exit code 1.
`;

/** Largest part of an error body shown to people. */
const BODY_PREVIEW_BYTES = 500;

/** Opens the input: `-` = stdin, http(s) URL = GET (non-2xx is an error), else a file path. */
export async function openInput(source: string, io: CliIO): Promise<AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>> {
  if (source === '-') return io.stdin;
  if (/^https?:\/\//i.test(source)) {
    const res = await io.fetch(source);
    if (!res.ok) {
      const body = new Uint8Array(await res.arrayBuffer()).subarray(0, BODY_PREVIEW_BYTES);
      throw new TalStreamHttpError(res.status, new TextDecoder().decode(body), `HTTP ${res.status} ${res.statusText} from ${source}`);
    }
    if (!res.body) return (async function* () {})();
    return res.body;
  }
  return io.openRead(source);
}

function isTalAudio(header: Record<string, unknown>): boolean {
  return 'audioType' in header || 'bitDepth' in header;
}

/** The JSON line of one frame. Throws a TalStreamError for a malformed TALAudio or AnbJson payload. */
export function describeFrame(frame: Frame, jsonFrames: boolean): { line: Record<string, unknown>; durationMs: number } {
  const line: Record<string, unknown> = {
    offset: frame.offset,
    byteLength: frame.byteLength,
    header: frame.header,
    payloadBytes: frame.payload.length,
  };
  let durationMs = 0;
  if (jsonFrames) {
    line.value = readJsonFrame(frame).value;
  } else if (isTalAudio(frame.header)) {
    const { header, channels } = readTalAudio(frame); // validates header and payload
    durationMs = isRiffWave(frame.payload)
      ? (channels[0]!.length / header.sampleRate) * 1000
      : talAudioDurationMs(header, frame.payload.length);
    line.durationMs = Math.round(durationMs * 1000) / 1000;
  }
  return { line, durationMs };
}

const inspect: CliCommand = {
  summary: 'print the frames of a stream (file, URL or stdin) as JSON lines',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      'json-frames': { type: 'boolean' },
      'max-frame-bytes': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('inspect takes exactly one input: a file, a URL or -');
    const maxFrameBytes = numberOption('max-frame-bytes', values['max-frame-bytes'], 16 * 1024 * 1024, 8, 0xffffffff);
    const jsonFrames = Boolean(values['json-frames']);
    const summary = { frames: 0, bytes: 0, audioFrames: 0, audioMs: 0 };
    let failure: unknown;
    try {
      const input = await openInput(positionals[0]!, io);
      for await (const frame of decodeFrames(input, { maxFrameBytes })) {
        const { line, durationMs } = describeFrame(frame, jsonFrames);
        await io.stdout.write(JSON.stringify(line) + '\n');
        summary.frames++;
        summary.bytes += frame.byteLength ?? 0;
        if ('durationMs' in line) {
          summary.audioFrames++;
          summary.audioMs += durationMs;
        }
      }
    } catch (e) {
      failure = e;
    }
    summary.audioMs = Math.round(summary.audioMs * 1000) / 1000;
    await io.stdout.write(JSON.stringify({ summary: { ...summary, ok: failure === undefined } }) + '\n');
    if (failure !== undefined) {
      await io.stderr.write(formatError(failure) + '\n');
      return 1;
    }
    return 0;
  },
};

export default inspect;
