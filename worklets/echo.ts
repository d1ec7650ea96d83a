// The hands-free module (see echo-plugin.ts), one file for both threads: added to the AudioWorklet it
// registers the capture processor's listening path; imported on the main thread (the script-tag
// build) it exports the conversation's turn rules. Bundled by worklets/build/inline-plugin.mjs into
// dist/talstream.hands-free.js, and inlined into the ESM build's lazily imported chunk.
import { EchoListener } from './echo-listener';
import { ECHO_PLUGIN, type EchoPlugin } from './echo-plugin';

export { TurnTaking } from '../src/conversation/turn-taking';

// Only in an AudioWorkletGlobalScope: the page's own global stays untouched.
if (typeof registerProcessor === 'function') {
  const plugin: EchoPlugin = { EchoListener };
  (globalThis as Record<string, unknown>)[ECHO_PLUGIN] = plugin;
}
