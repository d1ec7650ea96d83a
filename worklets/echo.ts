// The second AudioWorklet module (see echo-plugin.ts): the capture processor's listening path.
// Bundled by worklets/build/inline-plugin.mjs into dist/talstream.echo-worklet.js, and inlined into
// the ESM build's lazily imported chunk.
import { EchoListener } from './echo-listener';
import { ECHO_PLUGIN, type EchoPlugin } from './echo-plugin';

const plugin: EchoPlugin = { EchoListener };
(globalThis as Record<string, unknown>)[ECHO_PLUGIN] = plugin;
