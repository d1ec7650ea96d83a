// What each engine gives the browser tests, in one place: the microphone its tests capture, and
// the gaps (an API the engine lacks) that keep a test from running there. A test held back by a
// gap is replaced in that engine by one that checks the gap is still there, so this list cannot go
// stale: when an engine gains the API, that test fails and says to run the real one. What the SDK
// does instead in that engine (its fallback, or an `unsupported` error) has tests of its own.
// README.md's browser support table is this list.
import { expect, inject, it } from 'vitest';
import { server } from 'vitest/browser';
import { supportsRequestStreams } from '../../src/transport/upload';
import { TEST_MICS, type TestMic } from '../support/test-mics.mjs';

export type { TestMic };

export type Engine = 'chromium' | 'firefox' | 'webkit';
export const engine = server.browser as Engine;

/** The microphone of the tests in this engine (test/support/test-mics.mjs). */
export const testMic: TestMic = TEST_MICS[engine];

export interface Gap {
  /** The engines that lack it. */
  engines: Engine[];
  /** What is missing. */
  why: string;
  /** What the SDK does there instead (and the test that shows it). */
  instead: string;
  /** True when the running engine lacks it (a probe of the engine, not of this list). */
  present(): boolean | Promise<boolean>;
}

export const GAPS: Record<'offlineSuspend' | 'setSinkId' | 'requestStreams' | 'exactHeap' | 'trackEndedEvent' | 'cutBodyError', Gap> = {
  offlineSuspend: {
    engines: ['firefox'],
    why: 'no OfflineAudioContext.suspend(t), which the sample-exact underrun and interrupt tests feed frames at',
    instead: 'nothing the SDK needs: the other OfflineAudioContext tests run, and the real-time Player tests cover underruns and interrupt()',
    present: () => typeof (OfflineAudioContext.prototype as { suspend?: unknown }).suspend !== 'function',
  },
  setSinkId: {
    engines: ['firefox', 'webkit'],
    why: 'no AudioContext.setSinkId (output device choice)',
    instead: "client.setSinkId rejects with 'unsupported'; replies play on the default output (client-output-device.test.ts)",
    present: () => typeof (AudioContext.prototype as { setSinkId?: unknown }).setSinkId !== 'function',
  },
  requestStreams: {
    engines: ['firefox', 'webkit'],
    why: 'fetch cannot send a ReadableStream request body (duplex: half)',
    instead: "upload 'auto' sends the take buffered, in one attempt; 'stream' is refused with 'unsupported' (upload-fetch.test.ts)",
    present: () => !supportsRequestStreams(),
  },
  exactHeap: {
    engines: ['firefox', 'webkit'],
    why: 'no forced GC (window.gc) and no performance.memory for exact heap figures',
    instead: 'the soak test still counts contexts, worklet nodes, tracks and listeners over 200 asks',
    present: () => typeof (globalThis as { gc?: unknown }).gc !== 'function' || !(performance as { memory?: unknown }).memory,
  },
  trackEndedEvent: {
    engines: ['firefox'],
    why: "an 'ended' event dispatched on a stopped track reaches no listener (and a real unplug fires devicechange, leaving the track live)",
    instead: "the unplug test goes through devicechange: the chosen device disappearing falls back to the default (capture-microphone.test.ts)",
    present: async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const track = stream.getAudioTracks()[0]!;
      let heard = false;
      track.addEventListener('ended', () => (heard = true));
      track.stop();
      track.dispatchEvent(new Event('ended'));
      return !heard;
    },
  },
  cutBodyError: {
    engines: ['webkit'],
    why: 'a chunked response cut mid-transfer (the connection closed before the last chunk) ends like a complete one: no network error',
    instead: "the reply fails with 'truncated' at the offset of the frame the cut fell in; the frames before it play (client-reply.test.ts)",
    present: async () => {
      try {
        // Chromium may fail the fetch itself (the cut can come before its headers are handled).
        const res = await fetch(`${inject('replyOrigin')}/vector/tal-reply-stream.bin?chunk=1156&pace=5&cut=4000`, { method: 'POST' });
        await res.arrayBuffer();
        return true;
      } catch {
        return false;
      }
    },
  },
};

/**
 * `it(title, fn)` where the engine has what the test needs; in an engine with `gap`, a test that
 * the gap is still there (see the top of this file).
 */
export function itUnless(gap: Gap, title: string, fn: () => Promise<void> | void, timeout?: number): void {
  if (!gap.engines.includes(engine)) it(title, fn, timeout);
  else it(`${title} [not in ${engine}: ${gap.why}]`, async () => expect(await gap.present()).toBe(true));
}

/** `it(title, fn)` only in the engines with `gap`: what the SDK does there instead. */
export function itWhereMissing(gap: Gap, title: string, fn: () => Promise<void> | void, timeout?: number): void {
  if (gap.engines.includes(engine)) it(`${title} [${engine}: ${gap.why}]`, fn, timeout);
}
