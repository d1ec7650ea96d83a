// The microphone each engine's tests capture (browser processing off), for the browser-mode tests
// (test/browser/engine-support.ts) and the Node-driven end-to-end tests alike.

/** @type {Record<'chromium' | 'firefox' | 'webkit', import('./test-mics.d.mts').TestMic>} */
export const TEST_MICS = {
  chromium: { source: "Chromium's fake capture device playing test/fixtures/fake-mic-440hz.wav", hz: 440, tones: [440], amp: 0.5, rms: 0.354, peak: 0.5, pure: true },
  firefox: { source: "the sound server's microphone (test/support/desktop.mjs): a 440 Hz sine", hz: 440, tones: [440], amp: 0.5, rms: 0.354, peak: 0.5, pure: true },
  // Engine note 2: WebKitGTK 2.50's GStreamer capture from PulseAudio delivers no samples here
  // ("audiosrc: error reading data -1"), so WebKit runs on its mock capture devices: a 150 Hz hum
  // (fundamental 0.100, RMS 0.0785, peak 0.150) with a 100 ms beep (1.5 kHz, then 500 Hz) each second,
  // so the strongest tone of a take (what the reference server reports) may be any of the three.
  webkit: { source: "WebKit's mock capture device: a 150 Hz hum with a beep each second", hz: 150, tones: [150, 500, 1500], amp: 0.1, rms: 0.0785, peak: 0.15, pure: false },
};

/** Whether `hz` is one of `mic`'s tones, within `tolerance` Hz. */
export const isMicTone = (mic, hz, tolerance) => mic.tones.some((t) => Math.abs(hz - t) <= tolerance);
