// `talstream ask --url URL --wav in.wav [--question TEXT] [--out reply.wav]`: what a developer runs
// against a Python server before any browser is involved. Sends the WAV as a TALAudio request
// body (buffered), streams the reply, prints the question/answer texts as they come, writes the
// reply audio as a WAV, and prints the time to the first byte and to the first audio.
import { isTalStreamError } from '../errors';
import { FrameDecoder } from '../protocol/frame-decoder';
import { readTalAudio, TAL_SAMPLE_RATE_MAX, TAL_SAMPLE_RATE_MIN } from '../protocol/tal-audio';
import type { Frame } from '../protocol/frame-codec';
import { readWav, writeWav } from '../protocol/wav';
import { numberOption, parseCommandArgs, UsageError } from './args';
import type { CliCommand } from './command';
import { encodeRequestFrames } from './encode';
import type { CliIO } from './io';
import { resampleAll } from './resample-all';

const usage = `usage: talstream ask --url URL [--wav in.wav] [--question TEXT] [--out reply.wav] [options]

POSTs the WAV (and/or a typed question) to URL as TALAudio frames (Content-Type:
application/octet-stream), streams the reply, prints the server's question and answer texts as
they arrive, writes the reply audio to --out, and prints the time from the request's start to the
first response byte and to the first frame with audio. A non-2xx answer prints its status and the
first 500 bytes of its body (exit 1); a malformed reply prints what was good, then the error.

options:
  --url URL            the endpoint (e.g. http://127.0.0.1:8080/ask?pace=burst)
  --wav FILE           the query audio (PCM 16/24/32-bit or 32-bit float WAV, any rate)
  --question TEXT      typed query text (with or without --wav)
  --out FILE           write the reply audio to FILE (16-bit WAV at the reply's rate)
  --rate HZ            upload sample rate (default 16000); the WAV is resampled to it
  --keep-rate          upload at the WAV's own rate
  --frame-ms MS        audio per uploaded frame (default 20)
  --header "N: V"      an extra request header (repeatable), e.g. an Authorization token
  -h, --help           this text
`;

/** Runs `talstream ask`; resolves with the exit code (0 ok, 1 failure). Usage mistakes throw a UsageError. */
export async function runAsk(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    url: { type: 'string' },
    wav: { type: 'string' },
    question: { type: 'string' },
    out: { type: 'string' },
    rate: { type: 'string' },
    'keep-rate': { type: 'boolean' },
    'frame-ms': { type: 'string' },
    header: { type: 'string', multiple: true },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.url === undefined) throw new UsageError('give --url URL');
  if (values.wav === undefined && values.question === undefined) throw new UsageError('give --wav FILE and/or --question TEXT');
  const frameMs = numberOption('frame-ms', values['frame-ms'], 20, 1, 60_000);
  const rate = numberOption('rate', values.rate, 16000, TAL_SAMPLE_RATE_MIN, TAL_SAMPLE_RATE_MAX);
  if (!Number.isInteger(rate)) throw new UsageError(`--rate must be an integer, got ${rate}`);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  for (const h of values.header ?? []) {
    const at = h.indexOf(':');
    if (at <= 0) throw new UsageError(`--header must look like "Name: value", got ${JSON.stringify(h)}`);
    headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }

  let channels: Float32Array[] = [new Float32Array(0)];
  let sampleRate = rate;
  let source = 'no audio';
  if (values.wav !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await io.readFile(values.wav);
    } catch (e) {
      await io.stderr.write(`error: cannot read ${values.wav}: ${(e as Error).message}\n`);
      return 1;
    }
    const wav = readWav(bytes);
    channels = wav.channels;
    sampleRate = wav.sampleRate;
    source = `${(channels[0]!.length / sampleRate).toFixed(2)} s at ${sampleRate} Hz`;
    if (!values['keep-rate'] && sampleRate !== rate) {
      channels = channels.map((c) => resampleAll(c, sampleRate, rate));
      source += ` resampled to ${rate} Hz`;
      sampleRate = rate;
    }
  }
  const parts = encodeRequestFrames({ channels, sampleRate, frameMs, question: values.question ?? '', audioType: 'int16' });
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (body.set(p, at), at + p.length), 0);
  await io.stderr.write(`POST ${values.url}: ${parts.length} frames (${source}), ${body.length} bytes\n`);

  const t0 = io.now();
  let res: Response;
  try {
    res = await io.fetch(values.url, { method: 'POST', headers, body: body as BodyInit });
  } catch (e) {
    await io.stderr.write(`error: network: ${describe(e)}\n`);
    return 1;
  }
  if (res.status < 200 || res.status > 299) {
    const text = await firstBytes(res, 500);
    await io.stderr.write(`error: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}\n${text}${text.endsWith('\n') ? '' : '\n'}`);
    return 1;
  }
  return readReply(res, t0, io, values.out);
}

const ask: CliCommand = {
  summary: 'POST a WAV (or a typed question) to a server and stream, print and save its spoken reply',
  usage,
  run: runAsk,
};

export default ask;

/** Streams the reply: texts as they come, then the WAV and the figures. */
async function readReply(res: Response, t0: number, io: CliIO, out: string | undefined): Promise<number> {
  const decoder = new FrameDecoder();
  const audio: Float32Array[][] = [];
  let rate = 0;
  let nch = 0;
  let question = '';
  let answering = false;
  let frames = 0;
  let firstByte: number | undefined;
  let firstAudio: number | undefined;
  let failure: unknown;
  // Texts of one chunk are gathered, then written (and awaited: stdout may apply back-pressure).
  let printed = '';
  const print = (text: string) => {
    printed += text;
  };
  const flush = async () => {
    if (printed) await io.stdout.write(printed);
    printed = '';
  };
  const handle = (frame: Frame, at: number) => {
    const { header, channels } = readTalAudio(frame);
    frames++;
    if (typeof header.question === 'string' && header.question && header.question !== question) {
      question = header.question;
      if (answering) print('\n');
      answering = false;
      print(`question: ${question}\n`);
    }
    if (typeof header.answer === 'string' && header.answer) {
      if (!answering) print('answer: ');
      answering = true;
      print(header.answer);
    }
    if (typeof header.url === 'string' && header.url) {
      if (answering) print('\n');
      answering = false;
      print(`url: ${header.url}\n`);
    }
    const n = channels[0]?.length ?? 0;
    if (n === 0) return;
    firstAudio ??= at;
    if (rate === 0) rate = header.sampleRate;
    nch = Math.max(nch, channels.length);
    // A reply is played at one rate: a frame at another one is converted (rare, but legal).
    audio.push(header.sampleRate === rate ? channels : channels.map((c) => resampleAll(c, header.sampleRate, rate)));
  };
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const at = io.now() - t0;
      firstByte ??= at;
      for (const frame of decoder.push(value)) handle(frame, at);
      await flush();
      if (decoder.error) throw decoder.error;
    }
    decoder.end();
  } catch (e) {
    failure = e;
  }
  if (answering) print('\n');
  const total = audio.reduce((n, c) => n + c[0]!.length, 0);
  if (out) {
    const joined = Array.from({ length: Math.max(1, nch) }, (_, ch) => {
      const a = new Float32Array(total);
      let at = 0;
      for (const c of audio) {
        a.set(c[Math.min(ch, c.length - 1)]!, at);
        at += c[0]!.length;
      }
      return a;
    });
    await io.writeFile(out, writeWav(joined, rate || 24000));
  }
  const ms = (v: number | undefined) => (v === undefined ? 'none' : `${v.toFixed(1)} ms`);
  print(
    `reply: ${frames} frames, ${rate ? (total / rate).toFixed(2) : '0.00'} s of audio${rate ? ` at ${rate} Hz` : ''}${out ? ` -> ${out}` : ''}\n` +
      `time to first byte: ${ms(firstByte)}, to first audio: ${ms(firstAudio)} (from request start)\n`,
  );
  await flush();
  if (failure !== undefined) {
    await io.stderr.write(`error: ${describe(failure)}\n`);
    return 1;
  }
  return 0;
}

/** `code at byte N: message` for TalStreamErrors, the message otherwise. */
function describe(e: unknown): string {
  if (isTalStreamError(e)) return `${e.code}${e.offset === undefined ? '' : ` at byte ${e.offset}`}: ${e.message}`;
  const cause = (e as { cause?: { message?: string } })?.cause?.message;
  return `${(e as Error)?.message ?? String(e)}${cause ? ` (${cause})` : ''}`;
}

/** The first `limit` bytes of a body as text, without reading the rest. */
async function firstBytes(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
    }
  } catch {
    // a body that breaks is still worth showing as far as it went
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(n);
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return new TextDecoder().decode(all.subarray(0, limit));
}
