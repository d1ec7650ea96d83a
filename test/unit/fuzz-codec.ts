// The codec that the reply fuzz (test/support/reply-fuzz.mjs) runs on in the unit tests: src/'s
// own functions (the reliability bench hands it dist/'s instead). Not a test file itself.
import { TalStreamError } from '../../src/errors';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  decodeFrames,
  encodeFrame,
  encodeTalAudio,
  readTalAudio,
} from '../../src/protocol/index';
import type { FuzzCodec } from '../support/reply-fuzz.mjs';

export const codec: FuzzCodec = { encodeTalAudio, encodeFrame, readTalAudio, decodeFrames, FrameDecoder, TalStreamError, DEFAULT_MAX_FRAME_BYTES };
