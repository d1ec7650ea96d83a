/** Input checks of frames handed to the playout (the Player checks on the main thread, the core on the audio thread). */
import { TalStreamError } from '../errors';
import type { PlayoutFrame } from './types';

/** Throws `bad-argument` unless `frame` is playable (channels, one length, rate, integer order). */
export function validateFrame(frame: PlayoutFrame): void {
  const chs = frame?.channels;
  if (!Array.isArray(chs) || chs.length < 1 || chs.length > 32) throw new TalStreamError('bad-argument', 'frame.channels must be 1..32 Float32Arrays');
  const len = chs[0]?.length;
  for (const c of chs) {
    if (!(c instanceof Float32Array) || c.length !== len) throw new TalStreamError('bad-argument', 'frame.channels must be Float32Arrays of one length');
  }
  // Frames may be as slow as the codec accepts (TALAudio sampleRate >= 1000 Hz); only the output
  // (an AudioContext) needs >= 3000.
  if (!(frame.sampleRate >= 1000 && frame.sampleRate <= 768000)) throw new TalStreamError('bad-argument', `frame.sampleRate ${frame.sampleRate} out of range`);
  if (!Number.isInteger(frame.order)) throw new TalStreamError('bad-argument', `frame.order must be an integer, got ${frame.order}`);
}

