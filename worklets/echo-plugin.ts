// The listening path of the capture processor: the echo canceller and the near-end detector, ~6 KB
// gzip that only a hands-free conversation uses. They live in the hands-free module (worklets/echo.ts,
// shipped as dist/talstream.hands-free.js, with the conversation's turn rules for the main thread)
// that talstream adds to the context when a conversation starts, so the script tag does not carry
// them. Both worklet modules run in the context's one AudioWorkletGlobalScope: echo.ts puts the
// listener's class there under ECHO_PLUGIN, and the capture processor looks it up when told to listen.
import type { EchoListener } from './echo-listener';

/** What worklets/echo.ts registers. */
export interface EchoPlugin {
  EchoListener: typeof EchoListener;
}

/** The property of the worklet global scope that holds the {@link EchoPlugin}. */
export const ECHO_PLUGIN = 'talstreamEcho';

/** The registered plugin, or undefined when the hands-free module was not added to this context. */
export function echoPlugin(): EchoPlugin | undefined {
  return (globalThis as Record<string, unknown>)[ECHO_PLUGIN] as EchoPlugin | undefined;
}
