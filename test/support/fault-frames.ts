// The good frames of a fault-server reply, in pure code so that browser tests can compute the
// byte offsets and samples the server sends (the server itself is node-only).
import { encodeTalAudio } from '../../src/protocol/tal-audio';

const TAU = 2 * Math.PI;

/** The i-th (0-based) frame's samples: `samples` of the continuous 440 Hz sine at 0.5, int16. */
export function faultReplySamples(i: number, samples: number, rate: number): Int16Array {
  const out = new Int16Array(samples);
  for (let k = 0; k < samples; k++) out[k] = Math.round(0.5 * 32767 * Math.sin((TAU * 440 * (i * samples + k)) / rate));
  return out;
}

/** The header of frame i of n (caption "w{i+1} ", sign 1 / 2 / 3 on the last), plus `extra`. */
export function faultHeader(i: number, n: number, rate: number, extra: Record<string, unknown> = {}) {
  return { sampleRate: rate, answer: `w${i + 1} `, question: 'fault server', sign: i === 0 ? 1 : i === n - 1 ? 3 : 2, order: i + 1, ...extra };
}

/** Frame i of a good n-frame reply as the fault server sends it. */
export function faultFrame(i: number, n: number, rate: number, samples: number): Uint8Array {
  return encodeTalAudio(faultHeader(i, n, rate), faultReplySamples(i, samples, rate));
}

/** Byte offset of frame k in a good n-frame reply. */
export function faultOffset(k: number, n: number, rate: number, samples: number): number {
  let at = 0;
  for (let i = 0; i < k; i++) at += faultFrame(i, n, rate, samples).length;
  return at;
}
