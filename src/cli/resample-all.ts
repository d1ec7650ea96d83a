// Whole-signal resampling for the CLI (a WAV going up, the reply WAV coming down): one fresh
// streaming Resampler over all of it, flushed so that the last samples come out too.
import { Resampler } from '../dsp/resampler';

/** `samples` at `from` Hz resampled to `to` Hz, the resampler's tail included. */
export function resampleAll(samples: Float32Array, from: number, to: number): Float32Array {
  const r = new Resampler(from, to);
  const head = r.process(samples);
  const tail = r.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
