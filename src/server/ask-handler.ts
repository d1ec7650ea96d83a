// `POST /ask` of the reference server: reads the uploaded TALAudio frames as they arrive, says what
// it heard in `question`, and streams back the user's own audio (resampled) or a tone as 20 ms
// TALAudio frames with captions, at the pacing and network imitation asked for in the query string.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTalStreamError } from '../errors';
import { Resampler } from '../dsp/resampler';
import { analyseTone, describeHeard, type ToneAnalysis } from './tone-analysis';
import { frameSchedule, parseJitter, parsePace, type JitterProfile, type Pace } from './pacing';
import { replyFrameCount, replyFrames, synthTone, type ReplyPlan } from './reply-builder';
import { UploadReader, type Upload } from './upload-reader';

/** What the reference server sends back: the user's audio or a tone. */
export type ReplyKind = 'echo' | 'tone';

/** Options of {@link handleAsk}. */
export interface AskHandlerOptions {
  /** Sample rate of the reply audio, Hz (default 24000, a common TTS rate). */
  replyRate?: number;
  /** Audio per reply frame, ms (default 20). */
  frameMs?: number;
  /** Largest request body accepted, bytes (default 32 MiB); more gets 413. */
  maxUploadBytes?: number;
  /** Most audio accepted in one upload, seconds (default 120). */
  maxUploadSeconds?: number;
  /** Longest reply, seconds (default 30): a longer echo is cut. */
  maxReplySeconds?: number;
  /** Called with one line per request (method, status, what was heard), for `talstream serve`. */
  log?: (line: string) => void;
}

/** Query-string options of one request. */
interface AskQuery {
  pace: Pace;
  jitter: JitterProfile;
  seed: number;
  reply: ReplyKind | undefined;
  url: string;
}

function parseQuery(url: URL): AskQuery {
  const reply = url.searchParams.get('reply');
  if (reply !== null && reply !== '' && reply !== 'echo' && reply !== 'tone') {
    throw new Error(`reply must be echo or tone (got ${JSON.stringify(reply)})`);
  }
  const seedText = url.searchParams.get('seed');
  const seed = seedText === null || seedText === '' ? 1 : Number(seedText);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer (got ${JSON.stringify(seedText)})`);
  const action = url.searchParams.get('url') ?? '';
  if (action.length > 2000) throw new Error('url must be at most 2000 characters');
  return {
    url: action,
    pace: parsePace(url.searchParams.get('pace')),
    jitter: parseJitter(url.searchParams.get('jitter')),
    seed,
    reply: reply ? (reply as ReplyKind) : undefined,
  };
}

/** Headers every /ask answer carries: loopback demo pages on other ports may call it (CORS). */
export const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': '*',
  'access-control-expose-headers': '*',
  'access-control-max-age': '600',
};

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...CORS_HEADERS });
  res.end(text + '\n');
}

/** Handles one request to the ask endpoint (POST; OPTIONS preflight; anything else 405). */
export async function handleAsk(req: IncomingMessage, res: ServerResponse, url: URL, options: AskHandlerOptions = {}): Promise<void> {
  const log = options.log ?? (() => {});
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS_HEADERS).end();
    return;
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST, OPTIONS');
    sendText(res, 405, `method ${req.method} not allowed: POST TALAudio frames (application/octet-stream) to ${url.pathname}`);
    return;
  }
  let query: AskQuery;
  try {
    query = parseQuery(url);
  } catch (e) {
    sendText(res, 400, `bad query: ${(e as Error).message}`);
    log(`POST ${url.pathname} 400 bad query: ${(e as Error).message}`);
    req.resume();
    return;
  }

  const upload = await readUpload(req, res, options);
  if (!upload) return;
  if (upload.frames === 0) {
    sendText(res, 400, 'bad upload: empty body (expected TALAudio frames)');
    log(`POST ${url.pathname} 400 empty body`);
    return;
  }
  if (upload.mono.length === 0 && upload.question.trim() === '') {
    sendText(res, 400, 'bad upload: no audio and no question text');
    log(`POST ${url.pathname} 400 no audio, no question`);
    return;
  }

  const heard = upload.mono.length > 0 ? analyseTone(upload.mono, upload.sampleRate) : undefined;
  const plan = composeReply(upload, heard, query, options);
  const frameMs = options.frameMs ?? 20;
  const audioLength = plan.audioLength ?? (plan.audio as Float32Array).length;
  const count = replyFrameCount(audioLength, plan.sampleRate, frameMs);
  const times = frameSchedule(count, { pace: query.pace, jitter: query.jitter, seed: query.seed, frameMs });
  log(`POST ${url.pathname} 200 "${plan.question}" -> ${count} frames, ${query.pace}${query.jitter === 'none' ? '' : ` + ${query.jitter}`}`);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    ...CORS_HEADERS,
  });
  await streamFrames(res, replyFrames(plan, { frameMs }), times);
}

/** Reads and decodes the body; on a bad one answers 400/413 itself and returns undefined. */
async function readUpload(req: IncomingMessage, res: ServerResponse, options: AskHandlerOptions): Promise<Upload | undefined> {
  const maxBytes = options.maxUploadBytes ?? 32 * 1024 * 1024;
  const reader = new UploadReader({ maxSeconds: options.maxUploadSeconds ?? 120 });
  let received = 0;
  try {
    for await (const chunk of req as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (received > maxBytes) {
        // Answer, then drop the connection once the answer is out: the rest is not worth reading.
        res.setHeader('connection', 'close');
        res.on('finish', () => req.destroy());
        sendText(res, 413, `bad upload: body larger than ${maxBytes} bytes`);
        return undefined;
      }
      reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return reader.finish();
  } catch (e) {
    if (isTalStreamError(e)) {
      const at = e.offset === undefined ? '' : ` at byte ${e.offset}`;
      const status = e.code === 'frame-too-large' ? 413 : 400;
      sendText(res, status, `bad upload: ${e.code}${at}: ${e.message}`);
      options.log?.(`POST ${status} bad upload: ${e.code}${at}: ${e.message}`);
      // Let the client finish sending (it is reading our answer); bytes past the error are dropped.
      req.resume();
      return undefined;
    }
    // The client went away mid-upload: nothing to answer.
    if (!res.headersSent) res.destroy();
    return undefined;
  }
}

/** Chooses the reply audio and texts from what was uploaded. */
function composeReply(upload: Upload, heard: ToneAnalysis | undefined, query: AskQuery, options: AskHandlerOptions): ReplyPlan {
  const rate = options.replyRate ?? 24000;
  const maxSamples = Math.round((options.maxReplySeconds ?? 30) * rate);
  const typed = upload.question.trim();
  const heardText = heard ? describeHeard(heard) : '';
  const cut = upload.interrupted;
  // A conversation turn that cut the last answer says how much of it was heard: say it back.
  const cutText = cut ? `; you cut my last answer after ${(cut.playedMs / 1000).toFixed(2)} s (frame ${cut.order}, sample ${cut.sampleOffset})` : '';
  const question = (heard ? (typed ? `${typed} (${heardText})` : heardText) : typed) + cutText;
  const kind: ReplyKind = query.reply ?? (heard ? 'echo' : 'tone');
  const extra: Record<string, unknown> = {
    reply: kind,
    pace: query.pace,
    jitter: query.jitter,
    heard: heard
      ? {
          durationMs: Math.round(heard.durationMs * 10) / 10,
          sampleRate: heard.sampleRate,
          peakHz: heard.peakHz,
          rms: Math.round(heard.rms * 1e4) / 1e4,
          frames: upload.frames,
        }
      : null,
  };
  if (cut) extra.interrupted = cut;
  if (kind === 'echo' && heard) {
    const secs = (heard.durationMs / 1000).toFixed(1);
    return {
      question,
      answer: `Here is what you said: ${secs} seconds of sound, played back to you at ${rate / 1000} kilohertz.`,
      // Resampled chunk by chunk as the frames are sent: the first frame leaves before the rest is computed.
      audio: resampled(upload.mono, upload.sampleRate, rate),
      audioLength: Math.min(Math.ceil((upload.mono.length * rate) / upload.sampleRate), maxSamples),
      sampleRate: rate,
      extra,
      url: query.url,
    };
  }
  const hz = heard?.peakHz ?? 440;
  const durationMs = Math.min(heard ? heard.durationMs : 1500, maxSamples / rate * 1000);
  const answer = heard
    ? `Here is a ${Math.round(hz)} hertz tone as long as what you said.`
    : `You asked: ${typed}. This is the talstream reference server; here is a ${Math.round(hz)} hertz tone.`;
  return { question, answer, audio: synthTone(hz, durationMs, rate), sampleRate: rate, extra, url: query.url };
}

/** `mono` converted to `to` Hz, 50 ms of input at a time. */
function* resampled(mono: Float32Array, from: number, to: number): Generator<Float32Array, void, undefined> {
  const resampler = new Resampler(from, to);
  const step = Math.max(1, Math.round(from / 20));
  for (let at = 0; at < mono.length; at += step) yield resampler.process(mono.subarray(at, at + step));
  yield resampler.flush();
}

/**
 * Writes the frames at their scheduled times (ms from now). Frames due together go out in one
 * write, as a clump, like a network that held them back. Respects back-pressure and stops when
 * the client goes away (interrupt, abort).
 */
async function streamFrames(res: ServerResponse, frames: Iterator<Uint8Array>, times: number[]): Promise<void> {
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const due = (k: number) => times[Math.min(k, times.length - 1)] ?? 0;
  const start = performance.now();
  let k = 0;
  let next = frames.next();
  while (!next.done && !closed) {
    // Never early: a timer may fire a fraction of a millisecond before its time, so wait again.
    for (let wait = start + due(k) - performance.now(); wait > 0 && !closed; wait = start + due(k) - performance.now()) {
      await new Promise((r) => setTimeout(r, wait));
    }
    if (closed) break;
    const now = performance.now() - start;
    // The first frame goes out alone and at once; later ones due together go in batches of 16.
    const batch: Uint8Array[] = [];
    while (!next.done && due(k) <= now && batch.length < (k === 0 ? 1 : 16)) {
      batch.push(next.value);
      k++;
      next = frames.next();
    }
    if (batch.length === 0) continue;
    const ok = res.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    if (!ok && !closed) {
      await new Promise<void>((r) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          r();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!closed) res.end();
}
