// Types of within.mjs.

/** `promise`, or a rejection once `ms` pass without it settling (see within.mjs). */
export function within<T>(promise: Promise<T>, ms: number, what?: string): Promise<T>;
