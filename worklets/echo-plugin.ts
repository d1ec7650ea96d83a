// The echo path of the capture processor: the canceller and the near-end detector, ~6 KB gzip that
// only a hands-free conversation uses. They live in a second AudioWorklet module (worklets/echo.ts,
// shipped as dist/talstream.echo-worklet.js) that talstream adds to the context when a conversation
// starts listening, so the script tag does not carry them. Both modules run in the context's one
// AudioWorkletGlobalScope: echo.ts puts the classes there under ECHO_PLUGIN and the capture
// processor looks them up when it is told to listen.
import type { EchoCanceller } from '../src/dsp/echo-canceller';
import type { NearEndDetector } from '../src/dsp/near-end-detector';

/** What worklets/echo.ts registers. */
export interface EchoPlugin {
  EchoCanceller: typeof EchoCanceller;
  NearEndDetector: typeof NearEndDetector;
}

/** The property of the worklet global scope that holds the {@link EchoPlugin}. */
export const ECHO_PLUGIN = 'talstreamEcho';

/** The registered plugin, or undefined when the echo module was not added to this context. */
export function echoPlugin(): EchoPlugin | undefined {
  return (globalThis as Record<string, unknown>)[ECHO_PLUGIN] as EchoPlugin | undefined;
}
