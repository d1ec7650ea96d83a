// Types of engines.mjs (plain JS so that the benches can import it without a build).

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: readonly EngineName[];
export const firefoxPrefs: Record<string, string | number | boolean>;
export const miniBrowserArgs: string[];
export function firefoxPath(): string;
export function webkitDriverPath(): string;
export function miniBrowserPath(): string;
export function webkitCapabilities(): Record<string, unknown>;
/** Why `engine` cannot be launched on this machine, or '' when it can. */
export function missing(engine: EngineName): string;

/** One page of a launched engine, the same calls whatever drives it. */
export interface DrivenPage {
  /** Uncaught errors and unhandled rejections of the page so far (WebKit: read at close). */
  readonly errors: string[];
  /** The driver's own page object (Playwright Page, puppeteer Page, WebDriverSession). */
  readonly raw: any;
  goto(url: string): Promise<void>;
  url(): Promise<string>;
  /** Runs `fn(arg)` in the page; its (awaited) result must be JSON. */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn(arg)` in the page until it is truthy (rejects after `timeout` ms, default 30000). */
  waitFor<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A, timeout?: number): Promise<R>;
  /** A real click (a user gesture) on the element. */
  click(selector: string): Promise<void>;
  /** Mouse button down at the element's centre, held until `release()`. */
  press(selector: string): Promise<void>;
  release(): Promise<void>;
  focus(selector: string): Promise<void>;
  /** A key (`'Space'`, `'Enter'`, or a character) pressed and released, or only `'down'`/`'up'`. */
  key(key: string, kind?: 'down' | 'up'): Promise<void>;
  /** Replaces the text of an input. */
  fill(selector: string, text: string): Promise<void>;
  /** Sets the file of an `<input type=file>` to the file at `path`. */
  setInputFile(selector: string, path: string): Promise<void>;
  close(): Promise<void>;
}

export interface DrivenBrowser {
  readonly engine: EngineName;
  newPage(): Promise<DrivenPage>;
  close(): Promise<void>;
}

export function launchEngine(engine: EngineName): Promise<DrivenBrowser>;
