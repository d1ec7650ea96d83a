/** Small transforms of an upload's frame stream (each item one whole TALAudio frame). */
import { encodeFrame, parseHeaderBytes, readU32LE } from '../protocol/frame-codec';

/** Writes `question` into every frame whose header has none (frames are whole TALAudio frames). */
export function withQuestion(frames: AsyncIterable<Uint8Array>, question: string): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const bytes of frames) {
        const h = readU32LE(bytes, 4);
        const header = parseHeaderBytes(bytes.subarray(8, 8 + h), 0);
        if (typeof header.question === 'string' && header.question !== '') {
          yield bytes;
        } else {
          yield encodeFrame({ ...header, question }, bytes.subarray(8 + h));
        }
      }
    },
  };
}

/** Wraps frames so that `onDone` runs when the last one has been handed over. */
export function onEnd(frames: AsyncIterable<Uint8Array>, onDone: () => void): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* frames;
      onDone();
    },
  };
}
