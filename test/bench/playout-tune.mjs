// Tuning aid for the adaptive playout policy (not part of CI): scores jitter options on a split of
// the traces, loading the TypeScript sources directly (no build). The frontier of fixed prebuffers
// is cached per trace in /tmp (it does not depend on the adaptive policy).
//   TUNE='{"startFraction":0.5}' SET=train node test/bench/playout-tune.mjs
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTs } from './load-ts.mjs';
import { TRACE_MODEL, syntheticTrace } from './playout-traces.mjs';
import { TODAY, bestFixed, cachedFrontier, ratio, score } from './playout-score.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { simulatePlayout, oracleDelayMs } = await loadTs(['src/playout/simulate-playout.ts']);
const shared = path.join(here, '../../../shared/traces');
const load = (f) => JSON.parse(readFileSync(f, 'utf8'));
const files = (d) => readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => [f.replace(/\.json$/, ''), path.join(d, f)]);
// Split: tune on the synthetic generator (other seeds) and on half the real links; the other half is held out.
const all = new Map([...files(shared), ...files(path.join(shared, 'cellular'))]);
const TRAIN_REAL = ['wifi-paced', '4g-burst', 'congested-paced', 'ATT-LTE-driving-burst', 'ATT-LTE-driving-paced', 'TMobile-UMTS-driving-burst'];
const set = process.env.SET ?? 'train';
const traces = [];
if (set === 'train' || set === 'all') {
  for (const n of TRAIN_REAL) traces.push([n, load(all.get(n))]);
  for (const kind of ['wifi-burst', '4g-burst', 'congested-burst', 'wifi-paced', '4g-paced', 'congested-paced']) traces.push([`syn${TRACE_MODEL}-${kind}-202`, syntheticTrace(kind, 202)]);
}
if (set === 'held' || set === 'all') for (const [n, f] of all) if (!TRAIN_REAL.includes(n)) traces.push([n, load(f)]);
const tune = JSON.parse(process.env.TUNE ?? '{}');
const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
let worst = 0;
let sumLog = 0;
for (const [name, trace] of traces) {
  if (only && !only.test(name)) continue;
  const pts = cachedFrontier(simulatePlayout, oracleDelayMs, trace, name);
  const a = score(simulatePlayout, oracleDelayMs, trace, { jitter: { timeScale: true, ...tune } });
  const today = score(simulatePlayout, oracleDelayMs, trace, { jitter: TODAY });
  const b = bestFixed(pts, a.med);
  const r = ratio(a.perMin, b.perMin);
  worst = Math.max(worst, Number.isNaN(r) ? 9 : Math.min(r, 9));
  sumLog += Math.log(Math.max(0.05, Math.min(Number.isNaN(r) ? 9 : r, 9)));
  console.log(
    `${name.padEnd(28)} u/min ${a.perMin.toFixed(3).padStart(7)} med ${a.med.toFixed(0).padStart(5)} start ${a.start.toFixed(0).padStart(4)} (today ${today.start.toFixed(0).padStart(4)}, ${today.perMin.toFixed(3)} u/min, med ${today.med.toFixed(0)}) ` +
      `best fixed ${b.depth}ms${b.later ? '*' : ''} ${b.perMin.toFixed(3)} med ${b.med.toFixed(0)} ratio ${r.toFixed(2)} rates ${a.minRate.toFixed(2)}-${a.maxRate.toFixed(2)}`,
  );
}
console.log(`worst ratio ${worst.toFixed(2)}, geo-mean ${Math.exp(sumLog / traces.length).toFixed(2)}`);
