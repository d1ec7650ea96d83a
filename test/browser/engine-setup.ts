// Setup of every browser-mode test file, in every engine.
//
// Engine note 1 (WebKit, as Safari): AudioContext.resume() never settles without a user gesture,
// and the gesture's activation lapses within seconds (measured here: a context made 5 s after a
// click stays suspended). Apps call `client.unlock()` in a click for this; the suite clicks a
// button through the driver (a real gesture) before each test, so a test that makes a context
// tests what it is about. client-unlock.test.ts opts out (`noAutoGesture`) and shows the bug itself.
import { beforeAll, beforeEach } from 'vitest';
import { server } from 'vitest/browser';
import { realClick } from './real-click';

declare global {
  // Set to true at the top of a test file that must run without the automatic gesture.
  // eslint-disable-next-line no-var
  var noAutoGesture: boolean | undefined;
}

async function gesture(): Promise<void> {
  if (server.browser !== 'webkit' || globalThis.noAutoGesture) return;
  const b = document.createElement('button');
  b.textContent = 'gesture';
  document.body.append(b);
  try {
    await realClick(b);
  } finally {
    b.remove();
  }
}

// Before a file's own beforeAll (which may unlock a client) and before each test.
beforeAll(gesture);
beforeEach(gesture);

// Engine note 6 (WebKitGTK 2.50): its AudioWorklet thread may segfault, killing the page, when a
// context closes shortly after worklet work began (a loop outside the suite: a Player playing, a
// second module added, the context closed 20 ms later, crashed within 3-9 rounds; 45-70 ms later,
// never in 600). Every context of the suite, the SDK's own included, closes CLOSE_DELAY_MS late.
const CLOSE_DELAY_MS = 60;
if (server.browser === 'webkit') {
  const close = AudioContext.prototype.close;
  AudioContext.prototype.close = async function closeLate(this: AudioContext): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, CLOSE_DELAY_MS));
    return close.call(this);
  };
}
