// Types of chromium.mjs (plain JS so that the node benches can import it without a build).

/** CHROMIUM_PATH, then Debian's /usr/bin/chromium, then Playwright's own install (undefined). */
export function chromiumPath(): string | undefined;
/** The command-line flags of every Chromium the tests and benches start. */
export const chromiumArgs: string[];
/** Options for Playwright's `chromium.launch()`: the path above, the flags above, headless. */
export function chromiumLaunchOptions(): { executablePath: string | undefined; args: string[]; headless: true };
