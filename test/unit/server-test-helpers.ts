// Helpers shared by the reference-server and CLI `ask` tests (Node side).
import { encodeTalAudio, readTalAudio } from '../../src/protocol/tal-audio';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import type { Frame } from '../../src/protocol/frame-codec';

export { concat } from '../support/chunking.mjs';

/** A sine wave. */
export function sine(hz: number, seconds: number, rate: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** An upload as a client sends it: 20 ms frames, sign 1 / 2 ..., then an empty sign-3 frame. */
export function uploadFrames(mono: Float32Array, rate: number, options: { question?: string; frameMs?: number } = {}): Uint8Array[] {
  const per = Math.round((rate * (options.frameMs ?? 20)) / 1000);
  const frames: Uint8Array[] = [];
  let order = 1;
  for (let i = 0; i < mono.length; i += per) {
    frames.push(
      encodeTalAudio(
        { sampleRate: rate, sign: order === 1 ? 1 : 2, order, question: options.question ?? '' },
        mono.subarray(i, Math.min(mono.length, i + per)),
      ),
    );
    order++;
  }
  frames.push(encodeTalAudio({ sampleRate: rate, sign: 3, order, question: options.question ?? '' }, new Int16Array(0)));
  return frames;
}

/** A reply frame, decoded, with the time (ms since the request was sent) its last byte arrived. */
export interface ReceivedFrame {
  frame: Frame;
  header: Record<string, unknown>;
  samples: Float32Array;
  atMs: number;
}

/** POSTs `body` and decodes the streamed reply frame by frame, noting arrival times. */
export async function ask(url: string, body: Uint8Array): Promise<{ status: number; text?: string; frames: ReceivedFrame[] }> {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: body as BodyInit });
  if (res.status !== 200) return { status: res.status, text: await res.text(), frames: [] };
  const decoder = new FrameDecoder();
  const frames: ReceivedFrame[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const atMs = performance.now() - t0;
    for (const frame of decoder.push(chunk)) {
      const { header, channels } = readTalAudio(frame);
      frames.push({ frame, header, samples: channels[0]!, atMs });
    }
  }
  decoder.end();
  return { status: res.status, frames };
}

/** All reply samples joined. */
export function joinSamples(frames: ReceivedFrame[]): Float32Array {
  const out = new Float32Array(frames.reduce((n, f) => n + f.samples.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f.samples, at);
    at += f.samples.length;
  }
  return out;
}
