// The second AudioWorklet module (see echo-plugin.ts): the capture processor's echo path. Bundled by
// worklets/build/inline-plugin.mjs into dist/talstream.echo-worklet.js, and inlined into the ESM
// build's lazily imported chunk.
import { EchoCanceller } from '../src/dsp/echo-canceller';
import { NearEndDetector } from '../src/dsp/near-end-detector';
import { ECHO_PLUGIN, type EchoPlugin } from './echo-plugin';

const plugin: EchoPlugin = { EchoCanceller, NearEndDetector };
(globalThis as Record<string, unknown>)[ECHO_PLUGIN] = plugin;
