// The client's AudioContext in real Chromium: unlock() from a real click, recovery of a
// suspended context on the next gesture, replacement of a closed one, and who closes what.
import { afterEach, describe, expect, it } from 'vitest';
import { realClick } from './real-click';
import { createClient, type TalStreamClient } from '../../src/client';

const clients: TalStreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy();
  document.body.innerHTML = '';
});

function client(opts: Parameters<typeof createClient>[0] = { url: '/ask' }): TalStreamClient {
  const c = createClient(opts);
  clients.push(c);
  return c;
}

function nextState(c: TalStreamClient, state: string): Promise<{ state: string; previous: string; recovering: boolean }> {
  return new Promise((resolve) => {
    const off = c.on('audio-state', (s) => {
      if (s.state === state) {
        off();
        resolve(s);
      }
    });
  });
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.style.cssText = 'position:fixed;left:10px;top:10px;width:120px;height:40px';
  b.addEventListener('click', onClick);
  document.body.appendChild(b);
  return b;
}

describe('client AudioContext', () => {
  it('creates nothing until needed, then unlock() from a click resumes a suspended context to running', async () => {
    const c = client();
    expect(c.audioContext).toBeNull();
    await c.unlock();
    const ctx = c.audioContext as AudioContext;
    expect(ctx).toBeInstanceOf(AudioContext);
    // This test browser allows autoplay, so put the context where a page without a gesture has it.
    const suspended = nextState(c, 'suspended');
    await ctx.suspend();
    expect(await suspended).toEqual({ state: 'suspended', previous: 'running', recovering: true });
    let unlocked: Promise<string> | undefined;
    const b = button('Talk', () => {
      unlocked = c.unlock();
    });
    await realClick(b);
    expect(unlocked).toBeDefined();
    expect(await unlocked).toBe('running');
    expect(ctx.state).toBe('running');
    expect(c.audioContext).toBe(ctx);
  });

  it('a context that leaves running is reported and resumed by the next gesture anywhere on the page', async () => {
    const c = client();
    await c.unlock();
    const ctx = c.audioContext as AudioContext;
    const suspended = nextState(c, 'suspended');
    await ctx.suspend();
    await suspended;
    const running = nextState(c, 'running');
    // A click on something unrelated: the app did not call unlock() again.
    const b = button('Unrelated', () => {});
    await realClick(b);
    expect(await running).toEqual({ state: 'running', previous: 'suspended', recovering: false });
    expect(ctx.state).toBe('running');
  });

  it('a closed context it owns is replaced; destroy() closes only its own context', async () => {
    const c = client();
    await c.unlock();
    const first = c.audioContext as AudioContext;
    const replaced = new Promise<BaseAudioContext>((resolve) => c.on('audio-replaced', ({ context }) => resolve(context)));
    await first.close();
    const second = await replaced;
    expect(second).not.toBe(first);
    expect(c.audioContext).toBe(second);
    expect(second.state).not.toBe('closed');
    expect(await c.unlock()).toBe('running');
    await c.destroy();
    expect(second.state).toBe('closed');
    await c.destroy(); // twice is harmless

    const mine = new AudioContext();
    const d = client({ url: '/ask', audioContext: mine });
    expect(await d.unlock()).toBe('running');
    await d.destroy();
    expect(mine.state).toBe('running');
    await mine.close();
  });

  it('destroy() stops the microphone tracks and refuses new takes; a closed context also releases its mics', async () => {
    const streams: MediaStream[] = [];
    const real = navigator.mediaDevices;
    // The real getUserMedia (fake device), recorded so the test can see the tracks.
    const mediaDevices = {
      getUserMedia: async (c: MediaStreamConstraints) => {
        const s = await real.getUserMedia(c);
        streams.push(s);
        return s;
      },
      enumerateDevices: () => real.enumerateDevices(),
      addEventListener: real.addEventListener.bind(real),
      removeEventListener: real.removeEventListener.bind(real),
    } as unknown as MediaDevices;
    const c = client();
    await c.unlock();
    const mic = await c.microphone({ mediaDevices });
    const other = await c.microphone({ mediaDevices });
    expect(streams.length).toBe(2);
    expect(streams.flatMap((s) => s.getAudioTracks()).map((t) => t.readyState)).toEqual(['live', 'live']);
    await c.destroy();
    expect(streams.flatMap((s) => s.getAudioTracks()).map((t) => t.readyState)).toEqual(['ended', 'ended']);
    expect(() => mic.record()).toThrow(expect.objectContaining({ code: 'destroyed' }));
    expect(() => other.record()).toThrow(expect.objectContaining({ code: 'destroyed' }));
    await expect(c.microphone({ mediaDevices })).rejects.toMatchObject({ code: 'destroyed' });

    const d = client();
    await d.unlock();
    await d.microphone({ mediaDevices });
    const replaced = new Promise<void>((resolve) => d.on('audio-replaced', () => resolve()));
    await (d.audioContext as AudioContext).close();
    await replaced;
    expect(streams[2]!.getAudioTracks()[0]!.readyState).toBe('ended');
  });

  it('an injected OfflineAudioContext is used as it is', async () => {
    const offline = new OfflineAudioContext(1, 128, 44100);
    const c = client({ url: '/ask', audioContext: offline });
    expect(c.audioContext).toBe(offline);
    expect(await c.unlock()).toBe('suspended');
  });
});
