// A vitest browser provider for the engines Playwright cannot drive here (see engines.mjs):
// Firefox ESR through puppeteer-core, WebKitGTK through WebDriver. Vitest's provider contract is
// small: open the tester page at a URL, give commands a context, close. What the tests need from
// the driver beyond that is one real click (a user gesture, which a script's click() is not): the
// `realClick` command below, which the Playwright provider gets too, so the tests have one API.
import { defineBrowserProvider } from '@vitest/browser';
import { launchEngine } from './engines.mjs';

/** The iframe vitest runs each test file in, inside the tester page. */
const TESTER_FRAME = 'iframe[data-vitest="true"]';

class EngineProvider {
  supportsParallelism = false;
  /** @type {Map<string, any>} */
  pages = new Map();
  browser = null;

  constructor(project, engine) {
    this.name = `talstream-${engine}`;
    this.engine = engine;
    this.project = project;
    project.browser.registerCommand('realClick', realClick);
  }

  async openPage(sessionId, url) {
    this.browser ??= await launchEngine(this.engine);
    const old = this.pages.get(sessionId);
    if (old) await old.close();
    const page = await this.browser.newPage();
    this.pages.set(sessionId, page);
    await page.goto(url);
  }

  getCommandsContext(sessionId) {
    return { page: this.pages.get(sessionId) };
  }

  /** A driver click on `selector` inside the tester iframe (and inside its iframe `frameSelector`). */
  async clickInTester(sessionId, selector, frameSelector) {
    const page = this.pages.get(sessionId);
    const frames = frameSelector ? [TESTER_FRAME, frameSelector] : [TESTER_FRAME];
    if (this.engine === 'firefox') {
      let frame = page.raw;
      for (const f of frames) frame = await (await frame.$(f)).contentFrame();
      await frame.click(selector);
      return;
    }
    const s = page.raw; // WebDriver session
    try {
      for (const f of frames) await s.frame(f);
      await s.click(selector);
    } finally {
      await s.frame(null);
    }
  }

  async close() {
    const pages = [...this.pages.values()];
    this.pages.clear();
    await Promise.all(pages.map((p) => p.close().catch(() => {})));
    await this.browser?.close();
    this.browser = null;
  }
}

/**
 * `commands.realClick(selector, frameSelector?)`: a real click through the driver on the element
 * `selector` finds in the test's document (or in its iframe `frameSelector`). Playwright, puppeteer's BiDi input and WebDriver element click all make a
 * user gesture (transient activation), which `element.click()` from the test itself does not.
 */
export async function realClick(ctx, selector, frameSelector) {
  if (ctx.provider.name === 'playwright') {
    const scope = frameSelector ? ctx.iframe.frameLocator(frameSelector) : ctx.iframe;
    await scope.locator(selector).click();
    return;
  }
  await ctx.provider.clickInTester(ctx.sessionId, selector, frameSelector);
}

/** The provider option of a browser project for `engine` ('firefox' or 'webkit'). */
export function engineProvider(engine) {
  return defineBrowserProvider({
    name: `talstream-${engine}`,
    supportedBrowser: [engine],
    options: {},
    providerFactory: (project) => new EngineProvider(project, engine),
  });
}
