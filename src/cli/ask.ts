// `talstream ask --url URL --wav in.wav [--question TEXT] [--out reply.wav]`: what a developer runs
// against a Python server before any browser is involved. Sends the WAV as a TALAudio request
// body, streams the reply, prints the question/answer texts as they come, writes the reply audio.
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isTalStreamError } from '../errors';
import { FrameDecoder } from '../protocol/frame-decoder';
import { encodeTalAudio, readTalAudio } from '../protocol/tal-audio';
import { readWav, writeWav } from '../protocol/wav';
import { Resampler } from '../dsp/resampler';

/** Where the command writes, and what it uses to reach the network (tests inject these). */
export interface AskIo {
  /** Normal output (texts, figures). */
  stdout: (text: string) => void;
  /** Errors and warnings. */
  stderr: (text: string) => void;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
}

export const ASK_USAGE = `usage: talstream ask --url URL [--wav in.wav] [--question TEXT] [--out reply.wav] [--frame-ms 20] [--header "Name: value"]...
  Sends the WAV (and/or a typed question) as TALAudio frames, streams the reply, prints the
  server's question/answer texts as they arrive, writes the reply audio to --out, and prints the
  time to the first byte and to the first audio.`;

/**
 * Builds the request body: `frameMs` frames of the WAV's audio at its own rate and channel
 * count (int16), `order` from 1, `sign` 1 then 2, and a closing empty `sign: 3` frame; `question`
 * rides on every frame.
 */
export function requestFrames(channels: Float32Array[], sampleRate: number, question: string, frameMs = 20): Uint8Array[] {
  const per = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
  const length = channels[0]?.length ?? 0;
  const frames: Uint8Array[] = [];
  let order = 1;
  for (let i = 0; i < length; i += per) {
    const end = Math.min(length, i + per);
    frames.push(
      encodeTalAudio(
        { sampleRate, sign: order === 1 ? 1 : 2, order, question },
        channels.map((c) => c.subarray(i, end)),
      ),
    );
    order++;
  }
  frames.push(encodeTalAudio({ sampleRate, channels: Math.max(1, channels.length), sign: 3, order, question }, new Int16Array(0)));
  return frames;
}

/** Runs `talstream ask`; resolves with the exit code (0 ok, 1 failure, 2 bad usage). */
export async function askCommand(argv: string[], io: AskIo): Promise<number> {
  let values: { url?: string; wav?: string; question?: string; out?: string; 'frame-ms'?: string; header?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        wav: { type: 'string' },
        question: { type: 'string' },
        out: { type: 'string' },
        'frame-ms': { type: 'string' },
        header: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr(`error: ${(e as Error).message}\n${ASK_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(ASK_USAGE + '\n');
    return 0;
  }
  if (!values.url || (!values.wav && !values.question)) {
    io.stderr(`error: --url and one of --wav or --question are required\n${ASK_USAGE}\n`);
    return 2;
  }
  const frameMs = values['frame-ms'] === undefined ? 20 : Number(values['frame-ms']);
  if (!(frameMs >= 1 && frameMs <= 1000)) {
    io.stderr(`error: --frame-ms must be a number of milliseconds in 1..1000\n`);
    return 2;
  }
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  for (const h of values.header ?? []) {
    const at = h.indexOf(':');
    if (at <= 0) {
      io.stderr(`error: --header must look like "Name: value" (got ${JSON.stringify(h)})\n`);
      return 2;
    }
    headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }

  let channels: Float32Array[] = [];
  let sampleRate = 16000;
  if (values.wav) {
    try {
      const wav = readWav(await readFile(values.wav));
      channels = wav.channels;
      sampleRate = wav.sampleRate;
    } catch (e) {
      io.stderr(`error: cannot read ${values.wav}: ${describe(e)}\n`);
      return 1;
    }
  }
  const parts = requestFrames(channels, sampleRate, values.question ?? '', frameMs);
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (body.set(p, at), at + p.length), 0);
  const seconds = (channels[0]?.length ?? 0) / sampleRate;
  io.stderr(`POST ${values.url}: ${parts.length} frames, ${seconds.toFixed(2)} s at ${sampleRate} Hz, ${body.length} bytes\n`);

  const now = io.now ?? (() => performance.now());
  const doFetch = io.fetch ?? fetch;
  const t0 = now();
  let res: Response;
  try {
    res = await doFetch(values.url, { method: 'POST', headers, body: body as BodyInit });
  } catch (e) {
    io.stderr(`error: network: ${describe(e)}\n`);
    return 1;
  }
  if (res.status < 200 || res.status > 299) {
    const text = await firstBytes(res, 500);
    io.stderr(`error: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}\n${text}${text.endsWith('\n') ? '' : '\n'}`);
    return 1;
  }
  return readReply(res, t0, now, io, values.out);
}

/** Streams the reply: texts as they come, then the WAV and the figures. */
async function readReply(res: Response, t0: number, now: () => number, io: AskIo, out: string | undefined): Promise<number> {
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
  const handle = (frame: Parameters<typeof readTalAudio>[0], at: number) => {
    const { header, channels } = readTalAudio(frame);
    frames++;
    if (typeof header.question === 'string' && header.question && header.question !== question) {
      question = header.question;
      if (answering) io.stdout('\n');
      answering = false;
      io.stdout(`question: ${question}\n`);
    }
    if (typeof header.answer === 'string' && header.answer) {
      if (!answering) io.stdout('answer: ');
      answering = true;
      io.stdout(header.answer);
    }
    if (typeof header.url === 'string' && header.url) {
      if (answering) io.stdout('\n');
      answering = false;
      io.stdout(`url: ${header.url}\n`);
    }
    const n = channels[0]?.length ?? 0;
    if (n === 0) return;
    firstAudio ??= at;
    if (rate === 0) rate = header.sampleRate;
    nch = Math.max(nch, channels.length);
    // A reply is played at one rate: a frame at another one is converted (rare, but legal).
    audio.push(header.sampleRate === rate ? channels : channels.map((c) => resampleOnce(c, header.sampleRate, rate)));
  };
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const at = now() - t0;
      firstByte ??= at;
      for (const frame of decoder.push(value)) handle(frame, at);
      if (decoder.error) throw decoder.error;
    }
    decoder.end();
  } catch (e) {
    failure = e;
  }
  if (answering) io.stdout('\n');
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
    await writeFile(out, writeWav(joined, rate || 24000));
  }
  const ms = (v: number | undefined) => (v === undefined ? 'none' : `${v.toFixed(1)} ms`);
  io.stdout(
    `reply: ${frames} frames, ${rate ? (total / rate).toFixed(2) : '0.00'} s of audio${rate ? ` at ${rate} Hz` : ''}${out ? ` -> ${out}` : ''}\n` +
      `time to first byte: ${ms(firstByte)}, to first audio: ${ms(firstAudio)} (from request start)\n`,
  );
  if (failure !== undefined) {
    io.stderr(`error: ${describe(failure)}\n`);
    return 1;
  }
  return 0;
}

function resampleOnce(samples: Float32Array, from: number, to: number): Float32Array {
  const r = new Resampler(from, to);
  const a = r.process(samples);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
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
