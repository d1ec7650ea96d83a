// Types of engine-provider.mjs.
import type { BrowserProviderOption, BrowserCommand } from 'vitest/node';
import type { EngineName } from './engines.mjs';

/** `commands.realClick(selector)`: a driver click (a user gesture) in the test's document. */
export const realClick: BrowserCommand<[selector: string, frameSelector?: string]>;
/** The provider option of a browser project for `engine` ('firefox' or 'webkit'). */
export function engineProvider(engine: Exclude<EngineName, 'chromium'>): BrowserProviderOption;
