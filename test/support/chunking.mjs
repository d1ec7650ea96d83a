// Byte streams in tests and benches: a seeded PRNG, bytes cut into random chunks, chunks joined.
// Plain JS so that the node benches (on dist/) and reply-fuzz.mjs share it with the unit tests;
// types in chunking.d.mts.

/** Deterministic PRNG (mulberry32): a failing case or split is reproducible from its seed. */
export function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts bytes into chunks of 1..maxChunk bytes chosen by `r` (views into `bytes`, no copies). */
export function randomSplit(bytes, r, maxChunk) {
  const chunks = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(r() * maxChunk));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

/** Concatenates byte arrays into a new one. */
export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
