// The one AudioWorklet module talstream loads: it registers every processor.
// Bundled by worklets/build/inline-plugin.mjs and inlined into the SDK as a string.
import './playback-processor';
import './capture-processor';
