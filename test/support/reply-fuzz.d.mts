// Types of reply-fuzz.mjs (plain JS so that the reliability bench can run it on dist/).
import type { FrameDecoder, decodeFrames, encodeFrame, encodeTalAudio, readTalAudio } from '../../src/protocol/index';
import type { TalStreamError } from '../../src/errors';

/** The codec functions a fuzz run exercises (src/ in tests, dist/ in the bench). */
export interface FuzzCodec {
  encodeTalAudio: typeof encodeTalAudio;
  encodeFrame: typeof encodeFrame;
  readTalAudio: typeof readTalAudio;
  decodeFrames: typeof decodeFrames;
  FrameDecoder: typeof FrameDecoder;
  TalStreamError: typeof TalStreamError;
  DEFAULT_MAX_FRAME_BYTES: number;
}
export interface FuzzOutcome {
  seed: number;
  kinds: string[];
  damage: number;
  frames: number;
  code: string | null;
  problem: string | null;
}
export interface FuzzSummary {
  cases: number;
  failed: number;
  failures: string[];
  byCode: Record<string, number>;
  byKind: Record<string, number>;
  framesOut: number;
}
export interface BuiltReply {
  bytes: Uint8Array;
  frames: { offset: number; end: number; headerEnd: number }[];
}
export { rng } from './chunking.mjs';
export function buildReply(r: () => number, codec: FuzzCodec, opts?: { sampleRate?: number; channels?: number }): BuiltReply;
export function mutate(r: () => number, reply: BuiltReply, codec: FuzzCodec): { bytes: Uint8Array; kinds: string[]; damage: number };
export function chunks(r: () => number, b: Uint8Array, maxChunk: number): Uint8Array[];
export function source(r: () => number, parts: Uint8Array[]): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
export const MUTATIONS: Record<string, (r: () => number, b: Uint8Array, frames: BuiltReply['frames'], codec: FuzzCodec) => Uint8Array>;
export function runCase(seed: number, codec: FuzzCodec): Promise<FuzzOutcome>;
export function fuzz(codec: FuzzCodec, cases: number, firstSeed?: number): Promise<FuzzSummary>;
