/**
 * A conversation's ear: a capture node in listening mode, its microphone on input 0 or 1 and the
 * player's output on the reference input, so the capture worklet can take the answer's echo out of
 * what it hears and tell the user's voice from what is left. Chunks arrive on the main thread
 * continuously (no take) with a verdict each; the {@link Conversation} cuts turns from them.
 */
import { CaptureNode, REFERENCE_INPUT } from '../capture/capture-node';
import type { ChunkVerdict, ListenSettings } from '../capture/capture-protocol';
import { TalStreamError } from '../errors';
import type { ConversationInput, SpeechVerdict } from './conversation';

const VERDICTS: readonly SpeechVerdict[] = ['silence', 'echo', 'speech'];

export class Listening implements ConversationInput {
  readonly sampleRate: number;
  onChunk: ((samples: Float32Array, verdict: SpeechVerdict) => void) | null = null;
  onError: ((error: TalStreamError) => void) | null = null;
  private reference: AudioNode | null = null;
  private destroyed = false;

  /**
   * @param capture the capture node, its microphone already connected
   * @param release undoes what was opened for this conversation (called once, on destroy)
   */
  constructor(
    private readonly capture: CaptureNode,
    private readonly release: () => void,
  ) {
    this.sampleRate = capture.sampleRate;
    capture.onChunk = (samples, _final, verdict) => this.onChunk?.(samples, VERDICTS[verdict ?? 0] ?? 'silence');
  }

  /**
   * Feeds `node`'s output (what the player plays) to the worklet as the echo reference; null
   * disconnects it. Same context only.
   */
  setReference(node: AudioNode | null): void {
    if (this.destroyed || node === this.reference) return;
    if (this.reference) disconnectFrom(this.reference, this.capture.node);
    this.reference = node;
    node?.connect(this.capture.node, 0, REFERENCE_INPUT);
  }

  /** Starts listening; rejects with `audio-context` when the worklet does not answer (a stopped context). */
  async start(settings: ListenSettings): Promise<void> {
    if (!(await this.capture.listen(settings)) && !this.destroyed) {
      throw new TalStreamError('audio-context', 'the capture worklet did not start listening (is the AudioContext running?)');
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.setReference(null);
    this.destroyed = true;
    this.onChunk = null;
    this.onError = null;
    if (this.capture.onChunk) this.capture.onChunk = null;
    void this.capture.listen(null);
    this.release();
  }
}

function disconnectFrom(from: AudioNode, to: AudioNode): void {
  try {
    from.disconnect(to, 0, REFERENCE_INPUT);
  } catch {
    // Already gone (a closed context, a destroyed player): nothing to undo.
  }
}
