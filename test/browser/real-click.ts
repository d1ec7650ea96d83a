// A real click on an element of the test's page, made by the browser's driver (Playwright,
// puppeteer-core's BiDi input, WebDriver): a user gesture, which `element.click()` from the test is
// not. The `realClick` command is test/support/engine-provider.mjs's, registered in every engine.
import { commands } from 'vitest/browser';

declare module 'vitest/browser' {
  interface BrowserCommands {
    realClick(selector: string): Promise<void>;
  }
}

let next = 0;

/** Clicks `el` (which must be in the document and visible) through the driver. */
export async function realClick(el: Element): Promise<void> {
  if (!el.id) el.id = `real-click-${++next}`;
  await commands.realClick(`#${CSS.escape(el.id)}`);
}
