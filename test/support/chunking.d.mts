// Types of chunking.mjs (plain JS so that the node benches can import it without a build).

/** Deterministic PRNG (mulberry32): a failing case or split is reproducible from its seed. */
export function rng(seed: number): () => number;
/** Cuts bytes into chunks of 1..maxChunk bytes chosen by `r` (views into `bytes`, no copies). */
export function randomSplit(bytes: Uint8Array, r: () => number, maxChunk: number): Uint8Array[];
/** Concatenates byte arrays into a new one. */
export function concat(parts: Uint8Array[]): Uint8Array;
