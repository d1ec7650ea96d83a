// The output device vanishing, in real Chromium (the engines without AudioContext.setSinkId get
// 'unsupported' and the default output, tested below): the client plays to a chosen fake output device
// (AudioContext.setSinkId); the device list (an injected mediaDevices over the real one) then
// stops listing it and says so with 'devicechange'. The context must move back to the default
// device, the app must hear of it, and the next reply must play.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createClient, type TalStreamClient } from '../../src/client';
import { sleep } from './capture-helpers';
import { GAPS, itUnless, itWhereMissing } from './engine-support';

const clients: TalStreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy();
});

/** navigator.mediaDevices with a device list that can hide one id. */
function devicesHiding() {
  const real = navigator.mediaDevices;
  const target = new EventTarget();
  const state = { hide: '' };
  const media = Object.assign(target, {
    enumerateDevices: async () => (await real.enumerateDevices()).filter((d) => d.deviceId !== state.hide),
    getUserMedia: (c: MediaStreamConstraints) => real.getUserMedia(c),
  }) as unknown as MediaDevices;
  return { media, state };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describe('output device', () => {
  itUnless(GAPS.setSinkId, 'the chosen output disappears: back to the default device, audio-output-lost, the next reply plays', async () => {
    // Device ids are listed in full once the page may use media devices.
    (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks().forEach((t) => t.stop());
    const outputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput' && d.deviceId !== 'default');
    expect(outputs.length).toBeGreaterThanOrEqual(1);
    const chosen = outputs[outputs.length - 1]!.deviceId;

    const { media, state } = devicesHiding();
    const client = createClient({ url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin`, upload: 'buffered', mediaDevices: media });
    clients.push(client);
    expect(await client.unlock()).toBe('running');
    const ctx = client.audioContext as AudioContext & { sinkId: string };
    const lost: Array<{ lostSinkId: string }> = [];
    client.on('audio-output-lost', (e) => lost.push(e));
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));

    await client.setSinkId(chosen);
    expect(ctx.sinkId).toBe(chosen);

    // Some other device comes or goes: the chosen one is still listed, nothing changes.
    media.dispatchEvent(new Event('devicechange'));
    await sleep(200);
    expect(lost).toEqual([]);
    expect(ctx.sinkId).toBe(chosen);

    // The chosen one is unplugged.
    state.hide = chosen;
    media.dispatchEvent(new Event('devicechange'));
    await until(() => lost.length > 0);
    expect(lost).toEqual([{ lostSinkId: chosen }]);
    expect(ctx.sinkId).toBe('');
    expect(ctx.state).toBe('running');
    expect(errors).toEqual([]);

    const samples = new Float32Array(1600).map((_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000) * 0.5);
    const summary = await client.ask({ samples, sampleRate: 16000 }).done;
    expect(summary.frames).toBe(11);
    expect(summary.playedMs).toBeGreaterThanOrEqual(199);
    expect(summary.playedMs).toBeLessThanOrEqual(203);
  });

  itUnless(GAPS.setSinkId, 'setSinkId with an id no device has fails with audio-context; the output stays where it was', async () => {
    const client = createClient({ url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin` });
    clients.push(client);
    await client.unlock();
    await expect(client.setSinkId('no-such-device')).rejects.toMatchObject({ code: 'audio-context' });
    expect((client.audioContext as AudioContext & { sinkId: string }).sinkId).toBe('');
  });

  itWhereMissing(GAPS.setSinkId, "setSinkId rejects with unsupported and changes nothing; replies play on the default output", async () => {
    const client = createClient({ url: `${inject('replyOrigin')}/vector/tal-reply-stream.bin`, upload: 'buffered' });
    clients.push(client);
    expect(await client.unlock()).toBe('running');
    const lost: unknown[] = [];
    client.on('audio-output-lost', (e) => lost.push(e));
    await expect(client.setSinkId('any-device')).rejects.toMatchObject({ name: 'TalStreamError', code: 'unsupported' });
    const samples = new Float32Array(1600).map((_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000) * 0.5);
    const summary = await client.ask({ samples, sampleRate: 16000 }).done;
    expect(summary.frames).toBe(11);
    expect(summary.playedMs).toBeGreaterThanOrEqual(199);
    expect(summary.playedMs).toBeLessThanOrEqual(203);
    expect(lost).toEqual([]);
  });
});
