// The three browser engines every browser test runs in, and one small page API over the three
// drivers: Playwright for Chromium, puppeteer-core (WebDriver BiDi) for Debian's Firefox ESR, which
// Playwright cannot drive, and plain W3C WebDriver for WebKitGTK's MiniBrowser (the engine of
// Safari). The vitest browser projects (test/support/engine-provider.mjs) and the Node-driven
// end-to-end tests (demo page, FastAPI, cross-origin isolation) launch browsers only through here.
// Plain JS so that the benches can import it without a build; types in engines.d.mts.
import { existsSync } from 'node:fs';
import { chromiumLaunchOptions } from './chromium.mjs';
import { startWebDriver } from './webdriver.mjs';
import { within } from './within.mjs';

/** @typedef {'chromium' | 'firefox' | 'webkit'} EngineName */
export const ENGINES = /** @type {const} */ (['chromium', 'firefox', 'webkit']);

export const firefoxPath = () => process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
export const webkitDriverPath = () => process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver';
export const miniBrowserPath = () =>
  process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/**
 * Firefox preferences of every Firefox the tests start: real capture from the sound server (whose
 * default source is a 440 Hz sine, like Chromium's fake WAV; Firefox's own fake device is a 1 kHz
 * tone at another level and cannot read a file), no permission prompt, and autoplay allowed (the
 * unlock tests put contexts in the suspended state themselves).
 */
export const firefoxPrefs = {
  // The microphones are PulseAudio's sine sources (test/support/desktop.mjs): real capture.
  'media.navigator.streams.fake': false,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.autoplay.block-webaudio': false,
  'media.setsinkid.enabled': true,
  'dom.security.https_first': false,
  'network.proxy.allow_hijacking_localhost': false,
  'browser.shell.checkDefaultBrowser': false,
};

/** MiniBrowser flags: automation, getUserMedia with WebKit's mock capture devices (a 44.1 kHz tone). */
export const miniBrowserArgs = ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=true'];

/** The WebDriver capabilities of every WebKit session. */
export function webkitCapabilities() {
  return {
    browserName: 'MiniBrowser',
    acceptInsecureCerts: true,
    'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: miniBrowserArgs },
  };
}

/** Why `engine` cannot be launched on this machine, or '' when it can. */
export function missing(engine) {
  if (engine === 'firefox' && !existsSync(firefoxPath())) return `no Firefox at ${firefoxPath()} (apt-get install firefox-esr)`;
  if (engine === 'webkit') {
    if (!existsSync(webkitDriverPath())) return `no ${webkitDriverPath()} (apt-get install webkit2gtk-driver)`;
    if (!process.env.DISPLAY) return 'WebKitGTK needs an X display: set DISPLAY (Xvfb)';
  }
  return '';
}

/**
 * Launches `engine`.
 * @param {EngineName} engine
 * @returns {Promise<import('./engines.d.mts').DrivenBrowser>}
 */
export async function launchEngine(engine) {
  const why = missing(engine);
  if (why) throw new Error(`cannot launch ${engine}: ${why}`);
  if (engine === 'chromium') {
    const { chromium } = await import('playwright');
    const browser = await chromium.launch(chromiumLaunchOptions());
    return {
      engine,
      async newPage() {
        return playwrightPage(await browser.newPage({ viewport: { width: 1100, height: 900 } }));
      },
      close: () => browser.close(),
    };
  }
  if (engine === 'firefox') {
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: firefoxPath(),
      headless: true,
      acceptInsecureCerts: true,
      extraPrefsFirefox: firefoxPrefs,
      protocolTimeout: 120_000,
    });
    return {
      engine,
      async newPage() {
        const page = await browser.newPage();
        await page.setViewport({ width: 1100, height: 900 });
        return puppeteerPage(page);
      },
      close: () => browser.close(),
    };
  }
  // WebKit: one WebDriver session (one MiniBrowser) per page.
  const sessions = new Set();
  return {
    engine,
    async newPage() {
      const timeouts = { script: 120_000, pageLoad: 60_000 };
      // A launch that does not answer (SESSION_TIMEOUT_MS) gets one more try in a new driver.
      const s = await startWebDriver(webkitDriverPath(), webkitCapabilities(), timeouts)
        .catch(() => startWebDriver(webkitDriverPath(), webkitCapabilities(), timeouts));
      sessions.add(s);
      return webdriverPage(s, () => sessions.delete(s));
    },
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A page that stopped answering scripts (seen in WebKit in two CI runs: a demo-page try ran into
// the 90 s test timeout, then its afterEach into the 90 s hook timeout, and passed on its retry: 3
// of the run's 20 minutes) fails within the wait that asked (`within`), not the test's.
/** Grace for one script past a wait's deadline: a script in flight at the deadline may still answer. */
const ANSWER_GRACE_MS = 5_000;

/** Polls `fn(arg)` in the page until it returns a truthy value; rejects after `timeout` ms. */
async function poll(evaluate, fn, arg, timeout) {
  const until = Date.now() + timeout;
  for (;;) {
    const v = await within(evaluate(fn, arg), Math.max(0, until - Date.now()) + ANSWER_GRACE_MS, 'waitFor (the page did not answer)');
    if (v) return v;
    if (Date.now() > until) throw new Error(`waitFor timed out after ${timeout} ms: ${fn.toString().slice(0, 200)}`);
    await sleep(50);
  }
}

// Errors thrown on the page (uncaught, or unhandled rejections), for engines whose driver has no
// page-error event: collected from the load on by a listener installed right after navigation.
function installErrorLog() {
  const w = /** @type {any} */ (window);
  if (w.__pageErrors) return;
  w.__pageErrors = [];
  addEventListener('error', (e) => w.__pageErrors.push(String(e.message)));
  addEventListener('unhandledrejection', (e) => w.__pageErrors.push(String(e.reason && e.reason.message || e.reason)));
}

function playwrightPage(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    errors,
    raw: page,
    goto: async (url) => { await page.goto(url); },
    url: async () => page.url(),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitFor: (fn, arg, timeout = 30_000) => poll((f, a) => page.evaluate(f, a), fn, arg, timeout),
    click: (sel) => page.locator(sel).click(),
    press: async (sel) => {
      const b = await page.locator(sel).boundingBox();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
      await page.mouse.down();
    },
    release: () => page.mouse.up(),
    focus: (sel) => page.locator(sel).focus(),
    key: async (key, kind) => (kind === 'down' ? page.keyboard.down(key) : kind === 'up' ? page.keyboard.up(key) : page.keyboard.press(key)),
    fill: (sel, text) => page.locator(sel).fill(text),
    setInputFile: (sel, file) => page.setInputFiles(sel, file),
    close: () => page.close(),
  };
}

function puppeteerPage(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    errors,
    raw: page,
    goto: async (url) => { await page.goto(url); },
    url: async () => page.url(),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitFor: (fn, arg, timeout = 30_000) => poll((f, a) => page.evaluate(f, a), fn, arg, timeout),
    click: (sel) => page.click(sel),
    press: async (sel) => {
      const h = await page.$(sel);
      const b = await h.boundingBox();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
      await page.mouse.down();
    },
    release: () => page.mouse.up(),
    focus: (sel) => page.focus(sel),
    key: async (name, kind) => {
      const key = name === 'Space' ? ' ' : name; // puppeteer names the space bar ' '
      return kind === 'down' ? page.keyboard.down(key) : kind === 'up' ? page.keyboard.up(key) : page.keyboard.press(key);
    },
    fill: async (sel, text) => {
      await page.$eval(sel, (el) => { el.value = ''; });
      if (text) await page.type(sel, text);
    },
    setInputFile: async (sel, file) => {
      const h = await page.$(sel);
      await h.uploadFile(file);
    },
    close: () => page.close(),
  };
}

// WebDriver key codes (https://www.w3.org/TR/webdriver2/#keyboard-actions) of the keys the tests press.
const KEYS = { Space: ' ', Enter: '\uE007', Escape: '\uE00C', Tab: '\uE004' };

function webdriverPage(s, onClose) {
  const evaluate = (fn, arg) => s.evaluate(fn, [arg]);
  const keyAction = (key, kinds) =>
    s.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions: kinds.map((k) => ({ type: k, value: KEYS[key] ?? key })) }] });
  return {
    errors: [],
    raw: s,
    async goto(url) {
      await s.goto(url);
      await s.evaluate(installErrorLog);
    },
    url: () => s.cmd('GET', '/url'),
    evaluate,
    waitFor: (fn, arg, timeout = 30_000) => poll(evaluate, fn, arg, timeout),
    click: (sel) => s.click(sel),
    press: (sel) => s.pointer('down', sel),
    release: () => s.pointer('up'),
    focus: (sel) => s.evaluate((q) => document.querySelector(q).focus(), [sel]),
    key: (key, kind) => keyAction(key, kind === 'down' ? ['keyDown'] : kind === 'up' ? ['keyUp'] : ['keyDown', 'keyUp']),
    fill: async (sel, text) => {
      await s.clear(sel);
      if (text) await s.sendKeys(sel, text);
    },
    setInputFile: (sel, file) => s.sendKeys(sel, file),
    async close() {
      const errs = await within(s.evaluate(() => window.__pageErrors ?? []), ANSWER_GRACE_MS, 'close (the page did not answer)').catch(() => []);
      this.errors.push(...errs);
      onClose();
      await s.close();
    },
  };
}
