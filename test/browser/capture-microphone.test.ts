import { afterEach, describe, expect, it } from 'vitest';
import { Microphone } from '../../src/capture/microphone';
import { audioSleep, concat, decodeAll, fitSine, longestZeroRun, rms, zeroCrossingHz } from './capture-helpers';
import { engine, testMic } from './engine-support';
import { RAW, expectFrequency, framesOf, median, segments } from './mic-checks';
import { until } from './reliability-helpers';

// The test microphone (engine-support.ts): in Chromium the fake device playing
// test/fixtures/fake-mic-440hz.wav (48 kHz, 440 Hz sine, amplitude 0.5, looping), in Firefox the
// same sine from the sound server, in WebKit its mock device (a 150 Hz hum with beeps). Browser
// processing is off (RAW), or AGC/noise suppression would change the level. Device switches and
// fallbacks: capture-microphone-devices.test.ts.
const { hz: HZ, amp: AMP, rms: RMS, peak: PEAK } = testMic;
// Contexts use the default ('interactive') latency. Headless Chromium drives both the fake output
// and the fake capture device from timers; with latencyHint 'playback' (a larger render buffer) the
// MediaStream source's FIFO ran dry now and then, putting 5-15 ms of zeros at random places in a
// take (measured here: holes in about half of the takes, against 1 take in 20 with the default),
// which the no-hole checks around a device switch could not tell from a lost switch.

let ctx: AudioContext | undefined;
let mic: Microphone | undefined;
afterEach(async () => {
  mic?.destroy();
  mic = undefined;
  await ctx?.close();
  ctx = undefined;
});

describe(`Microphone (real ${engine}, ${testMic.source})`, () => {
  it(`records the ${HZ} Hz tone at 16 kHz in 20 ms frames, order 1.., sign 1/2/3, right duration and level`, async () => {
    ctx = new AudioContext();
    await ctx.resume();
    // Audio time before the capture node exists: no level can be measured over audio before it.
    const c0 = ctx.currentTime;
    mic = await Microphone.create(ctx, RAW);
    const levels: Array<{ rms: number; peak: number; t: number }> = [];
    mic.on('level', (l) => levels.push({ ...l, t: performance.now() }));
    await audioSleep(ctx!, 300); // let the fake device start
    const take = mic.record({ question: 'what is this tone?' });
    const reading = framesOf(take);
    const t0 = performance.now();
    const a0 = ctx.currentTime;
    await audioSleep(ctx!, 1500);
    const result = await take.stop();
    const elapsed = (ctx.currentTime - a0) * 1000;
    const frames = decodeAll(await reading);

    expect(frames.length).toBe(result.frames);
    frames.forEach((f, i) => {
      expect(f.header.order).toBe(i + 1);
      expect(f.header.sign).toBe(i === 0 ? 1 : i === frames.length - 1 ? 3 : 2);
      expect(f.header.sampleRate).toBe(16000);
      expect(f.header.audioType).toBe('int16');
      expect(f.header.question).toBe('what is this tone?');
      if (i < frames.length - 1) expect(f.samples.length).toBe(320);
    });
    expect(frames[frames.length - 1]!.samples.length).toBeLessThan(320 + 1);
    const audio = concat(frames.map((f) => f.samples));
    expect(result.durationMs).toBeCloseTo((audio.length / 16000) * 1000, 6);
    // Duration of the take against the audio clock over the same span (record() to the stop ack):
    // within 150 ms, the latency of the start and stop messages to the audio thread.
    expect(Math.abs(result.durationMs - elapsed)).toBeLessThan(150);
    // The tone: its frequency and amplitude (440 Hz, 0.5 where the mic is a sine), clean (a sine
    // fit leaves < -30 dB) where the mic is a pure tone, measured per 100 ms segment. On a loaded
    // machine Chromium's fake device / render thread can drop a few ms of input (outside the SDK:
    // the worklet and the pool lose nothing), so medians decide and at least 80% of the segments
    // must be clean; a wrong rate, gain or filter fails every segment.
    const segs = segments(audio);
    const hzs = segs.map(([a, b]) => zeroCrossingHz(audio, 16000, a, b));
    const fits = segs.map(([a, b]) => fitSine(audio, 16000, HZ, a, b));
    const amps = fits.map((f) => f.amp);
    const clean = fits.filter((f, i) => Math.abs(hzs[i]! - HZ) < 2 && 20 * Math.log10(f.residual / f.amp) < -30).length;
    expect(segs.length).toBeGreaterThanOrEqual(12);
    expectFrequency(audio, hzs);
    expect(Math.abs(median(amps) - AMP) / AMP, `median amplitude ${median(amps)}`).toBeLessThan(0.04);
    if (testMic.pure) expect(clean / segs.length).toBeGreaterThanOrEqual(0.8);
    // Levels: RMS of a 0.5 sine is 0.354, peak 0.5 (same rule: medians, 80% within 6% where the
    // mic is a steady tone; WebKit's beeps raise one level report in ten).
    const steady = levels.filter((l) => l.t > t0 + 200 && l.t < t0 + 1400);
    expect(steady.length).toBeGreaterThan(5);
    expect(Math.abs(median(steady.map((l) => l.rms)) - RMS) / RMS).toBeLessThan(0.042);
    expect(Math.abs(median(steady.map((l) => l.peak)) - PEAK) / PEAK).toBeLessThan(0.04);
    const inRange = steady.filter((l) => Math.abs(l.rms - RMS) < 0.056 * RMS && l.peak > 0.94 * PEAK && l.peak < 1.04 * PEAK).length;
    if (testMic.pure) expect(inRange / steady.length).toBeGreaterThanOrEqual(0.8);
    // At most 10 level reports per second of audio. Counted on the audio clock, not on the arrival
    // times of the messages: WebKit under load delivers them in bursts (engine note 5), which made
    // a wall-clock rate read 14/s. One report per 100 ms of input means at most
    // (audio time from before the node existed to after the take's stop ack) * 10 of them, +1 for
    // the quantum in which a report falls due (its samples straddle the interval's end).
    const c1 = ctx.currentTime;
    expect(levels.length).toBeLessThanOrEqual(Math.floor((c1 - c0) * 10) + 1);
    expect(levels.length).toBeGreaterThanOrEqual(12);
  });

  it.each([44100, 48000, 22050, 16000])(`in a %i Hz context (16000: no resampling) the frames are still 16 kHz with the ${HZ} Hz tone`, async (rate) => {
    ctx = new AudioContext({ sampleRate: rate });
    await ctx.resume();
    expect(ctx.sampleRate).toBe(rate);
    mic = await Microphone.create(ctx, RAW);
    await audioSleep(ctx!, 200);
    const take = mic.record();
    const reading = framesOf(take);
    // 1.2 s: enough for the 0.1 Hz sine fit to hold 0.5 Hz on WebKit's beeping hum.
    await audioSleep(ctx!, 1200);
    await take.stop();
    const frames = decodeAll(await reading);
    expect(frames.every((f) => f.header.sampleRate === 16000)).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.samples.length === 320)).toBe(true);
    const audio = concat(frames.map((f) => f.samples));
    const hzs = segments(audio).map(([a, b]) => zeroCrossingHz(audio, 16000, a, b));
    const amps = segments(audio).map(([a, b]) => fitSine(audio, 16000, HZ, a, b).amp);
    expect(hzs.length).toBeGreaterThanOrEqual(4);
    expectFrequency(audio, hzs);
    expect(Math.abs(median(amps) - AMP) / AMP, `median amplitude ${median(amps)}`).toBeLessThan(0.04);
  });

  it('mute sends zeros and keeps timing; unmute brings the tone back', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    mic = await Microphone.create(ctx, RAW);
    await audioSleep(ctx!, 300);
    const take = mic.record();
    const reading = framesOf(take);
    await audioSleep(ctx!, 400);
    await mic.setMuted(true);
    expect(mic.muted).toBe(true);
    await audioSleep(ctx!, 400);
    await mic.setMuted(false);
    await audioSleep(ctx!, 400);
    const r = await take.stop();
    const audio = concat(decodeAll(await reading).map((f) => f.samples));
    expect(Math.abs(r.durationMs - 1200)).toBeLessThan(200);
    // Somewhere in the middle third there is a long stretch of exact zeros (~400 ms)...
    const zeros = longestZeroRun(audio);
    expect(zeros).toBeGreaterThan(0.3 * 16000);
    expect(zeros).toBeLessThan(0.5 * 16000);
    // ...and the tone before and after it.
    expect(rms(audio, 800, 4800)).toBeGreaterThan(0.85 * RMS);
    expect(rms(audio, audio.length - 3200, audio.length - 400)).toBeGreaterThan(0.85 * RMS);
  });

  it('processing switches: on by default, each can be turned off (the track settings say so, for what the engine supports)', async () => {
    ctx = new AudioContext();
    // WebKitGTK supports echoCancellation only: the others are absent from its settings.
    const supported = navigator.mediaDevices.getSupportedConstraints();
    const keys = ['echoCancellation', 'noiseSuppression', 'autoGainControl'] as const;
    const want = (v: [boolean, boolean, boolean]) => keys.map((k, i) => (supported[k] ? v[i] : undefined));
    const got = () => {
      const s = mic!.mediaStream.getAudioTracks()[0]!.getSettings();
      return keys.map((k) => s[k]);
    };
    expect(supported.echoCancellation).toBe(true);
    mic = await Microphone.create(ctx);
    expect(got()).toEqual(want([true, true, true]));
    mic.destroy();
    mic = await Microphone.create(ctx, { noiseSuppression: false });
    expect(got()).toEqual(want([true, false, true]));
    mic.destroy();
    mic = await Microphone.create(ctx, RAW);
    expect(got()).toEqual(want([false, false, false]));
  });

  it('create resolves once the input flows: a take started at once has the tone from its first frame', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    mic = await Microphone.create(ctx, RAW);
    const take = mic.record();
    const reading = framesOf(take);
    await until(() => take.durationMs >= 300, 5000, '300 ms of audio');
    await take.stop();
    const frames = decodeAll(await reading);
    // The first 20 ms frame already carries the tone (past the resampler's first 2 ms ramp-in),
    // without a hole: nothing of the start of the take is lost to a late device. Only the first
    // frame: after it, a loaded host's fake device drops 5-15 ms now and then, outside the SDK
    // (engine note 8; over the first five frames this check found a 78-sample hole on both tries
    // of one CI run); the device-switch tests check for holes where the SDK could make them.
    const first = frames[0]!.samples;
    expect(rms(first, 40, 120)).toBeGreaterThan(0.85 * RMS); // the take starts with the tone
    if (engine === 'firefox') {
      // Engine note 10: Firefox's input may have one run of zeros of up to 13 ms in its first 50
      // ms (in 37 of 60 starts measured), which started 8 ms in or later in every one of them.
      expect(longestZeroRun(first.subarray(40))).toBeLessThan(16 * 16);
    } else {
      expect(rms(first, 40, 320)).toBeGreaterThan(0.85 * RMS);
      expect(longestZeroRun(first.subarray(40))).toBeLessThan(16);
    }
  });

  it('a device that opens but delivers no audio: create fails with no-device after startTimeoutMs, its tracks stopped', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    // A stream that never carries a sample: a MediaStreamDestination with nothing connected.
    const silent = ctx.createMediaStreamDestination().stream;
    const media = Object.assign(new EventTarget(), {
      getUserMedia: async () => silent,
      enumerateDevices: async () => [],
    }) as unknown as MediaDevices;
    const t0 = performance.now();
    await expect(Microphone.create(ctx, { ...RAW, mediaDevices: media, startTimeoutMs: 400 })).rejects.toMatchObject({
      name: 'TalStreamError',
      code: 'no-device',
      message: 'The microphone opened but delivered no audio within 400 ms',
    });
    // The wait counts audio-thread time: at least the 400 ms asked for.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    expect(silent.getAudioTracks().every((t) => t.readyState === 'ended')).toBe(true);
    await expect(Microphone.create(ctx, { startTimeoutMs: 0 })).rejects.toMatchObject({ code: 'bad-argument' });
  });

  it('errors: unknown device -> no-device; refused permission -> permission-denied; one take at a time', async () => {
    ctx = new AudioContext();
    await expect(Microphone.create(ctx, { deviceId: 'no-such-device' })).rejects.toMatchObject({ name: 'TalStreamError', code: 'no-device' });
    const refusing = { getUserMedia: () => Promise.reject(new DOMException('denied', 'NotAllowedError')), addEventListener() {}, removeEventListener() {} } as unknown as MediaDevices;
    await expect(Microphone.create(ctx, { mediaDevices: refusing })).rejects.toMatchObject({ code: 'permission-denied' });
    mic = await Microphone.create(ctx, RAW);
    const take = mic.record();
    expect(() => mic!.record()).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    await take.stop();
    const again = mic.record();
    await again.stop();
  });

  it('destroy is idempotent: stops the tracks, aborts the take, refuses further use', async () => {
    ctx = new AudioContext();
    mic = await Microphone.create(ctx, RAW);
    const stream = mic.mediaStream;
    const take = mic.record();
    mic.destroy();
    mic.destroy();
    expect(stream.getAudioTracks().every((t) => t.readyState === 'ended')).toBe(true);
    await expect(take.done).rejects.toMatchObject({ code: 'aborted' });
    expect(() => mic!.record()).toThrow(expect.objectContaining({ code: 'destroyed' }));
    expect(mic.listenerCount()).toBe(0);
  });
});
