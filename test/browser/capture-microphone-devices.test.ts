import { afterEach, describe, expect, it } from 'vitest';
import { Microphone } from '../../src/capture/microphone';
import { audioSleep, concat, decodeAll, sleep } from './capture-helpers';
import { GAPS, engine, itUnless, testMic } from './engine-support';
import { RAW, expectNoHole, framesOf } from './mic-checks';
import { until } from './reliability-helpers';

// The Microphone's device switches (setDevice mid-take, a lost device, an unplugged track) on the
// test microphone of each engine (capture-microphone.test.ts says which); default-latency contexts
// (capture-microphone.test.ts says why).

let ctx: AudioContext | undefined;
let mic: Microphone | undefined;
afterEach(async () => {
  mic?.destroy();
  mic = undefined;
  await ctx?.close();
  ctx = undefined;
});

describe(`Microphone device switches (real ${engine}, ${testMic.source})`, () => {
  it('setDevice mid-take loses no audio: no gap, duration right', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    mic = await Microphone.create(ctx, RAW);
    const devices = await mic.devices();
    expect(devices.length).toBeGreaterThan(0);
    expect(devices.every((d) => d.kind === 'audioinput')).toBe(true);
    await audioSleep(ctx!, 300);
    const take = mic.record();
    const reading = framesOf(take);
    const t0 = ctx.currentTime;
    await audioSleep(ctx!, 500);
    const oldStream = mic.mediaStream;
    const switches: Array<{ deviceId: string; takeMs: number | null }> = [];
    mic.on('switch', (e) => switches.push(e));
    const before = take.durationMs;
    await mic.setDevice(devices[devices.length - 1]!.deviceId);
    expect(switches.length).toBe(1);
    expect(switches[0]!.deviceId).toBe(devices[devices.length - 1]!.deviceId);
    // The switch lies after the call and no later than what the take held when it resolved
    // (plus chunks in flight), and the new device was given 200 ms to settle first.
    const at = switches[0]!.takeMs!;
    expect(at).toBeGreaterThan(before + 150);
    expect(at).toBeLessThan(take.durationMs + 100);
    expect(mic.mediaStream).not.toBe(oldStream);
    // The old device is released when the take ends, not mid-take (see Microphone.setDevice).
    expect(oldStream.getAudioTracks()[0]!.readyState).toBe('live');
    await audioSleep(ctx!, 500);
    const r = await take.stop();
    // The take against the audio clock (engine note 5: not the wall clock).
    const elapsed = (ctx.currentTime - t0) * 1000;
    expect(oldStream.getAudioTracks()[0]!.readyState).toBe('ended');
    const audio = concat(decodeAll(await reading).map((f) => f.samples));
    expect(Math.abs(r.durationMs - elapsed)).toBeLessThan(150);
    // The new device starts its file again (a phase jump), but there is no hole.
    expectNoHole(audio, at * 16 - 800, at * 16 + 1600, at * 16);
  });

  it('two switches in one take: no hole at either; replaced devices released when the take ends', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    mic = await Microphone.create(ctx, RAW);
    const ids = (await mic.devices()).map((d) => d.deviceId);
    const at: number[] = [];
    mic.on('switch', (e) => at.push(e.takeMs!));
    await audioSleep(ctx!, 300);
    const take = mic.record();
    const reading = framesOf(take);
    const first = mic.mediaStream;
    await audioSleep(ctx!, 300);
    // The last two inputs: microphones in every engine (see the next test).
    await mic.setDevice(ids[ids.length - 2]);
    const second = mic.mediaStream;
    await audioSleep(ctx!, 300);
    await mic.setDevice(ids[ids.length - 1]);
    expect([first, second].map((s) => s.getAudioTracks()[0]!.readyState)).toEqual(['live', 'live']);
    // 150 ms of the last device's audio after its switch, for the no-hole check.
    await until(() => at.length === 2 && take.durationMs > at[1]! + 250, 5000, 'audio after the second switch');
    await take.stop();
    expect([first, second].map((s) => s.getAudioTracks()[0]!.readyState)).toEqual(['ended', 'ended']);
    expect(mic.mediaStream.getAudioTracks()[0]!.readyState).toBe('live');
    const audio = concat(decodeAll(await reading).map((f) => f.samples));
    expect(at.length).toBe(2);
    for (const t of at) expectNoHole(audio, t * 16 - 800, t * 16 + 1600, t * 16);
  });

  it('the chosen device disappearing falls back to the default mid-take, with an event', async () => {
    ctx = new AudioContext();
    await ctx.resume();
    // The real mediaDevices, with a device list we can make "lose" the device in use.
    const real = navigator.mediaDevices;
    let hide = '';
    const media = Object.assign(new EventTarget(), {
      getUserMedia: (c: MediaStreamConstraints) => real.getUserMedia(c),
      enumerateDevices: async () => (await real.enumerateDevices()).filter((d) => d.deviceId !== hide),
    }) as unknown as MediaDevices;
    // The last input: a microphone in every engine (Firefox lists the sound server's output
    // monitor, which carries no audio, first).
    const inputs = (await real.enumerateDevices()).filter((d) => d.kind === 'audioinput' && d.deviceId !== 'default');
    const chosen = inputs[inputs.length - 1]!;
    mic = await Microphone.create(ctx, { ...RAW, mediaDevices: media, deviceId: chosen.deviceId });
    expect(mic.deviceId).toBe(chosen.deviceId);
    const fallbacks: Array<{ lostDeviceId: string; deviceId: string }> = [];
    const changes: number[] = [];
    mic.on('fallback', (e) => fallbacks.push(e));
    mic.on('devicechange', (e) => changes.push(e.devices.length));
    await audioSleep(ctx!, 300);
    const take = mic.record();
    const reading = framesOf(take);
    await audioSleep(ctx!, 400);
    const switches: Array<number | null> = [];
    mic.on('switch', (e) => switches.push(e.takeMs));
    const lostStream = mic.mediaStream;
    hide = chosen.deviceId;
    media.dispatchEvent(new Event('devicechange'));
    await until(() => switches.length === 1 && take.durationMs > switches[0]! + 250, 5000, 'the fallback and audio after it');
    expect(switches.length).toBe(1);
    expect(fallbacks).toEqual([{ lostDeviceId: chosen.deviceId, deviceId: mic.deviceId }]);
    expect(changes.length).toBe(1);
    expect(mic.mediaStream).not.toBe(lostStream);
    const r = await take.stop();
    const audio = concat(decodeAll(await reading).map((f) => f.samples));
    expect(r.durationMs).toBeGreaterThan(700);
    expectNoHole(audio, switches[0]! * 16 - 800, switches[0]! * 16 + 1600, switches[0]! * 16);
  });

  itUnless(GAPS.trackEndedEvent, 'a track that ends (unplug) emits ended and falls back', async () => {
    ctx = new AudioContext();
    mic = await Microphone.create(ctx, RAW);
    const events: string[] = [];
    mic.on('ended', () => events.push('ended'));
    mic.on('fallback', () => events.push('fallback'));
    mic.on('switch', (e) => events.push(`switch ${e.takeMs}`));
    const track = mic.mediaStream.getAudioTracks()[0]!;
    // What the browser does on an unplug: the track ends and fires 'ended'.
    track.stop();
    track.dispatchEvent(new Event('ended'));
    await sleep(500);
    expect(events).toEqual(['ended', 'switch null', 'fallback']);
    expect(mic.mediaStream.getAudioTracks()[0]!.readyState).toBe('live');
  });
});
