// node test/bench/playout-oracle.mjs: what a time-scaled playout could reach on a trace if it knew
// the best target in hindsight, to tell a goal the policy misses because it learns badly from one
// it misses because of where it sits on the delay/underrun curve.
//
// The family: the default playout with its target pinned at X (no learning, no growth at an
// underrun, no start cap or deadline, no gap floor) starting at a fraction f of it; X 120-800 ms,
// f 0.4/0.5/0.6. Per trace: the default policy's ratio (underruns against the best fixed prebuffer in
// hindsight at the same median delay, as bench:playout), then the best member that meets the start
// goal (paced: median start at most half of stop-and-wait's), and the best one whose median delay is
// at least the default's (can a better target win at the delay the policy chose?).
//   KINDS=4g-paced DRAWS=401-405 (synthetic draws, playout-traces.mjs)  SHARED=4g-paced,wifi-paced
//   V=1 prints every member.  TALSTREAM_MODULE=/path/to/module.mjs runs another build.
// Frontiers are cached in /tmp/talstream-frontier, shared with playout-draws.mjs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TRACE_MODEL, syntheticTrace } from './playout-traces.mjs';
import { TODAY, bestFixed, cachedFrontier, ratio, score, startMet } from './playout-score.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const modPath = process.env.TALSTREAM_MODULE ?? path.join(here, '../../dist/talstream.mjs');
const { simulatePlayout, oracleDelayMs } = await import(pathToFileURL(path.resolve(modPath)).href);

const TARGETS = [120, 160, 200, 240, 280, 320, 360, 400, 450, 500, 560, 620, 700, 800];
const FRACTIONS = [0.4, 0.5, 0.6];
const pinned = (x, f) => ({ minTargetMs: x, maxTargetMs: x, initialTargetMs: x, underrunGrowth: 1, startFraction: f, startCap: NaN, startDeadline: 0, gapQuantile: 0 });

/** [label, cache key, trace] for what the environment asks for (default: 4g-paced draws 401-405). */
function traces() {
  const out = [];
  const shared = path.join(here, '../../../shared/traces');
  for (const name of (process.env.SHARED ?? '').split(',').filter(Boolean))
    out.push([name, name, JSON.parse(readFileSync(path.join(shared, `${name}.json`), 'utf8'))]);
  if (!process.env.SHARED || process.env.KINDS) {
    const [first, last] = (process.env.DRAWS ?? '401-405').split('-').map(Number);
    for (const kind of (process.env.KINDS ?? '4g-paced').split(','))
      for (let seed = first; seed <= last; seed++) out.push([`${kind} #${seed}`, `syn${TRACE_MODEL}-${kind}-${seed}`, syntheticTrace(kind, seed)]);
  }
  return out;
}

const fmt = (p) => `X ${String(p.x).padStart(3)} f ${p.f.toFixed(1)}: ${p.perMin.toFixed(2)}/min med ${p.med.toFixed(0).padStart(4)} start ${p.start.toFixed(0).padStart(3)} ratio ${p.r.toFixed(2)}`;

for (const [label, key, trace] of traces()) {
  const pts = cachedFrontier(simulatePlayout, oracleDelayMs, trace, key);
  const paced = label.includes('paced');
  const today = score(simulatePlayout, oracleDelayMs, trace, { jitter: TODAY });
  const startOk = (a) => !paced || startMet(a.start, today.start);
  const d = score(simulatePlayout, oracleDelayMs, trace, {});
  const dr = ratio(d.perMin, bestFixed(pts, d.med).perMin);
  let best = null;
  let bestAtDelay = null;
  for (const x of TARGETS) {
    for (const f of FRACTIONS) {
      const a = score(simulatePlayout, oracleDelayMs, trace, { jitter: pinned(x, f) });
      const p = { x, f, ...a, r: ratio(a.perMin, bestFixed(pts, a.med).perMin), ok: startOk(a) };
      if (process.env.V) console.log(`    ${fmt(p)}${p.ok ? '' : ' (start over half)'}`);
      if (!p.ok) continue;
      if (!best || p.r < best.r) best = p;
      if (p.med >= d.med && (!bestAtDelay || p.r < bestAtDelay.r)) bestAtDelay = p;
    }
  }
  console.log(`${label.padEnd(22)} default: ${d.perMin.toFixed(2)}/min med ${d.med.toFixed(0).padStart(4)} start ${d.start.toFixed(0)}${paced ? ` (half of stop-and-wait's: ${(today.start / 2).toFixed(0)})` : ''} ratio ${dr.toFixed(2)}`);
  console.log(`${''.padEnd(22)} best pinned target:              ${best ? fmt(best) : 'none meets the start goal'}`);
  console.log(`${''.padEnd(22)} best at the default's delay or more: ${bestAtDelay ? fmt(bestAtDelay) : 'none meets the start goal'}`);
}
