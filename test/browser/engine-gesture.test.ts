// Engine note 1 shown (see engine-setup.ts): without a user gesture WebKit, like Safari, starts no
// AudioContext, and unlock() says to call it from a gesture; from a real click it runs. Chromium
// and Firefox run here with autoplay allowed (their test flags and prefs), so both ways start it.
// This file runs without the suite's automatic gesture.
globalThis.noAutoGesture = true;
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client';
import { engine } from './engine-support';
import { realClick } from './real-click';

afterAll(() => {
  globalThis.noAutoGesture = false;
});

describe(`AudioContext start without and with a gesture in ${engine}`, () => {
  const title =
    engine === 'webkit'
      ? 'no gesture: unlock() fails with audio-context and the context stays suspended; unlock() in a real click starts it'
      : 'no gesture: unlock() starts the context (autoplay allowed); unlock() in a real click does too';
  it(title, async () => {
    const client = createClient({ url: '/nowhere' });
    try {
      if (engine === 'webkit') {
        await expect(client.unlock()).rejects.toMatchObject({ name: 'TalStreamError', code: 'audio-context', message: expect.stringContaining('user gesture') });
        expect(client.audioContext!.state).toBe('suspended');
      } else {
        expect(await client.unlock()).toBe('running');
        await (client.audioContext as AudioContext).suspend();
      }
      let unlocked: Promise<string> | undefined;
      const b = document.createElement('button');
      b.textContent = 'Talk';
      b.onclick = () => {
        unlocked = client.unlock();
      };
      document.body.append(b);
      await realClick(b);
      b.remove();
      expect(await unlocked).toBe('running');
      expect(client.audioContext!.state).toBe('running');
    } finally {
      await client.destroy();
    }
  });
});
