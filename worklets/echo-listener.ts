// The capture processor's listening path (a hands-free conversation), in the hands-free module (see
// echo-plugin.ts): the mic and the echo reference (the player's output) resampled alike to the chunk
// rate, the answer's echo removed, and a speech verdict per frame of one chunk. Allocates in the
// constructor only (the 'listen' command), never per render quantum.
import type { ChunkVerdict, ListenSettings } from '../src/capture/capture-protocol';
import { EchoCanceller } from '../src/dsp/echo-canceller';
import { NearEndDetector, type NearEndVerdict, type VerdictSink } from '../src/dsp/near-end-detector';
import type { Resampler } from '../src/dsp/resampler';

export class EchoListener {
  /** What the last {@link process} call wrote: the mic at the chunk rate, its echo removed (when cancelling). */
  readonly out: Float32Array;
  /** The verdict of the latest complete frame: 0 silence, 1 echo, 2 the user's speech. */
  verdict: ChunkVerdict = 0;
  private readonly micIn: Resampler;
  private readonly refIn: Resampler;
  private readonly mic: Float32Array;
  private readonly ref: Float32Array;
  private readonly canceller: EchoCanceller | null;
  private readonly detector: NearEndDetector;
  private readonly sink: VerdictSink = {
    push: (v: NearEndVerdict): void => {
      this.verdict = v === 'speech' ? 2 : v === 'echo' ? 1 : 0;
    },
  };

  /**
   * @param micIn and `refIn`: two new resamplers from the context's rate to the chunks' (the
   * capture processor's class: the hands-free module does not carry a second copy)
   * @param frameSamples one chunk: the detector's frame, so each chunk's verdict is that of the
   * frame that ends with it
   * @param maxBlock the longest input block `process` takes (a render quantum)
   */
  constructor(micIn: Resampler, refIn: Resampler, frameSamples: number, settings: ListenSettings, maxBlock = 128) {
    this.micIn = micIn;
    this.refIn = refIn;
    const rate = micIn.toRate;
    const need = this.micIn.maxOutput(maxBlock);
    this.mic = new Float32Array(need);
    this.ref = new Float32Array(need);
    this.canceller = settings.cancelEcho ? new EchoCanceller(rate) : null;
    this.out = this.canceller ? new Float32Array(need) : this.mic;
    this.detector = new NearEndDetector(rate, { ...settings.detector, frameMs: (frameSamples * 1000) / rate });
  }

  /** One block of mic and reference (same length): returns how many samples of {@link out} it wrote. */
  process(mic: Float32Array, ref: Float32Array): number {
    const n = this.micIn.processInto(mic, this.mic);
    // Same ratio, same input count: the same output count, so the two stay sample-aligned.
    this.refIn.processInto(ref, this.ref);
    this.canceller?.process(this.mic, this.ref, this.out, n);
    this.detector.process(this.mic, this.ref, this.out, n, this.sink);
    return n;
  }
}
