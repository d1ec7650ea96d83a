// A real click on an element of the test's page, made by the browser's driver (Playwright,
// puppeteer-core's BiDi input, WebDriver): a user gesture, which `element.click()` from the test is
// not. The `realClick` command is test/support/engine-provider.mjs's, registered in every engine.
import { commands } from 'vitest/browser';

declare module 'vitest/browser' {
  interface BrowserCommands {
    realClick(selector: string, frameSelector?: string): Promise<void>;
  }
}

let next = 0;

const selectorOf = (el: Element) => {
  if (!el.id) el.id = `real-click-${++next}`;
  return `#${CSS.escape(el.id)}`;
};

/**
 * Clicks `el` through the driver. It must be visible, in the test's document or in a same-origin
 * iframe of it.
 */
export async function realClick(el: Element): Promise<void> {
  if (el.ownerDocument === document) return commands.realClick(selectorOf(el));
  const frame = [...document.querySelectorAll('iframe')].find((f) => f.contentDocument === el.ownerDocument);
  if (!frame) throw new Error('realClick: the element is in no same-origin iframe of the test page');
  await commands.realClick(selectorOf(el), selectorOf(frame));
}
