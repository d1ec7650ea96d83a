// How every test and bench launches Chromium: the vitest browser project, the Playwright-driven
// unit tests (demo page, FastAPI) and the client / reliability benches. Plain JS so that the
// node benches can import it without a build; types in chromium.d.mts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CHROMIUM_PATH, then Debian's /usr/bin/chromium, then Playwright's own install (undefined). */
export function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined;
}

/** The command-line flags of every Chromium the tests and benches start. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  `--use-file-for-fake-audio-capture=${path.join(root, 'test/fixtures/fake-mic-440hz.wav')}`,
  '--ignore-certificate-errors',
  // Soak tests force a GC (window.gc) and read exact heap figures (performance.memory).
  '--js-flags=--expose-gc',
  '--enable-precise-memory-info',
];

/** Options for Playwright's `chromium.launch()`: the path above, the flags above, headless. */
export function chromiumLaunchOptions() {
  return { executablePath: chromiumPath(), args: chromiumArgs, headless: true };
}
