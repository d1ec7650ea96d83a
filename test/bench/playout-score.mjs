// Scoring shared by the playout benchmark and the tuning script (test/bench/playout-tune.mjs):
// underruns per minute, median(endDelay - D*), median start delay, rate range, and the frontier of
// fixed prebuffers (depths 0..1000 ms in 20 ms steps) that the adaptive policy is compared with.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs `trace` with `options` (simulatePlayout's) and summarises it. */
export function score(sim, oracle, trace, options) {
  const res = sim(trace, options);
  const minutes = res.reduce((a, r) => a + r.audioMs, 0) / 60000;
  const underruns = res.reduce((a, r) => a + r.underruns, 0);
  const replies = trace.replies.filter((r) => r.arrivals.length > 0);
  const excess = res.map((r, i) => r.endDelayMs - oracle(replies[i].arrivals, trace.sampleRate));
  const bands = {};
  for (const r of res) for (const [k, v] of Object.entries(r.rateMs ?? {})) bands[k] = (bands[k] ?? 0) + v;
  const out = Object.values(bands).reduce((a, b) => a + b, 0) || 1;
  return {
    underruns,
    perMin: underruns / minutes,
    med: median(excess),
    start: median(res.map((r) => r.startDelayMs)),
    minRate: Math.min(...res.map((r) => r.minRate ?? 1)),
    maxRate: Math.max(...res.map((r) => r.maxRate ?? 1)),
    bands: Object.fromEntries(Object.entries(bands).map(([k, v]) => [k, v / out])),
  };
}

/** The fixed-prebuffer frontier: one score per depth 0..maxMs in stepMs steps. */
export function frontier(sim, oracle, trace, maxMs = 1000, stepMs = 20) {
  const pts = [];
  for (let d = 0; d <= maxMs; d += stepMs) pts.push({ depth: d, ...score(sim, oracle, trace, { policy: { prebufferMs: d } }) });
  return pts;
}

/** Where the bench scripts keep frontiers between runs (a frontier does not depend on the adaptive policy). */
export const FRONTIER_CACHE = '/tmp/talstream-frontier';

/** `frontier` of `trace`, read from FRONTIER_CACHE under `key` if an earlier run left it there, else computed and stored. */
export function cachedFrontier(sim, oracle, trace, key) {
  const file = path.join(FRONTIER_CACHE, `${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const pts = frontier(sim, oracle, trace);
  mkdirSync(FRONTIER_CACHE, { recursive: true });
  writeFileSync(file, JSON.stringify(pts));
  return pts;
}

/**
 * The best fixed prebuffer in hindsight at the same median delay: the fewest underruns/min of a
 * depth whose median(endDelay - D*) is not above `med` (ties: the shallower). When every depth is
 * later than `med` (time-scaling can end a reply sooner than any fixed start can), the depth with
 * the least delay, marked `later: true`: it had more delay than the adaptive policy, so it is a
 * bound in the fixed buffer's favour (on the frontier more delay never means more underruns).
 */
export function bestFixed(pts, med) {
  let best = null;
  for (const p of pts) if (p.med <= med + 1e-9 && (!best || p.perMin < best.perMin - 1e-12)) best = p;
  if (best) return { ...best, later: false };
  let least = pts[0];
  for (const p of pts) if (p.med < least.med || (p.med === least.med && p.perMin < least.perMin)) least = p;
  return { ...least, later: true };
}

/**
 * Today's policy, which paced starts are compared with: stop-and-wait at its defaults, whatever is
 * being tuned (an underrunCostMs given to it too would move its start and make the goal easier).
 */
export const TODAY = { timeScale: false, underrunCostMs: 150 };

/**
 * The start goal: at most half of today's median start. Start delays are whole render quanta
 * (128 / 24000 s), so exactly half may come out a rounding error over it (4g-paced draw #403:
 * 93.333 against 186.667), which is still at most half.
 */
export const startMet = (start, todayStart) => start <= todayStart / 2 + 1e-9;

/** adaptive / best (0/0 = 0; x/0 = Infinity). */
export const ratio = (a, b) => (b === 0 ? (a === 0 ? 0 : Infinity) : a / b);
