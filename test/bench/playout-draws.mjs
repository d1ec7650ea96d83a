// npm run bench:playout-draws: the goal of bench:playout (ratio <= 0.8 against the best fixed
// prebuffer in hindsight at the same median delay; paced replies: median start <= half of the
// stop-and-wait policy's) on many fresh draws of the synthetic networks (playout-traces.mjs), the
// way held-back traces will be scored: how often the default adaptive policy meets it on links it
// was not tuned on. One line per network kind, then the total.
//   DRAWS=401-410 (seeds, inclusive)  KINDS=wifi-paced,4g-paced  JITTER='{"startFraction":0.5}'
// The fixed-prebuffer frontier of each draw (51 depths, most of the time) is cached in
// /tmp/talstream-frontier; it does not depend on the adaptive policy.
// TALSTREAM_MODULE=/path/to/module.mjs runs another build (default dist/talstream.mjs).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TRACE_MODEL, syntheticTrace } from './playout-traces.mjs';
import { TODAY, bestFixed, cachedFrontier, ratio, score, startMet } from './playout-score.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const modPath = process.env.TALSTREAM_MODULE ?? path.join(here, '../../dist/talstream.mjs');
const { simulatePlayout, oracleDelayMs } = await import(pathToFileURL(path.resolve(modPath)).href);
const [first, last] = (process.env.DRAWS ?? '401-410').split('-').map(Number);
const kinds = (process.env.KINDS ?? 'wifi-burst,4g-burst,congested-burst,wifi-paced,4g-paced,congested-paced').split(',');
const jitter = JSON.parse(process.env.JITTER ?? '{}');

const t0 = performance.now();
let met = 0;
let total = 0;
console.log(`The adaptive policy${process.env.JITTER ? ` (jitter ${process.env.JITTER})` : ''} on synthetic draws ${first}-${last}: ratio to the best fixed prebuffer at the same median delay; s = paced start over half of stop-and-wait's`);
for (const kind of kinds) {
  const paced = kind.endsWith('-paced');
  const cells = [];
  let kindMet = 0;
  for (let seed = first; seed <= last; seed++) {
    const trace = syntheticTrace(kind, seed);
    const pts = cachedFrontier(simulatePlayout, oracleDelayMs, trace, `syn${TRACE_MODEL}-${kind}-${seed}`);
    const a = score(simulatePlayout, oracleDelayMs, trace, { jitter: { ...jitter } });
    const r = ratio(a.perMin, bestFixed(pts, a.med).perMin);
    const slow = paced && !startMet(a.start, score(simulatePlayout, oracleDelayMs, trace, { jitter: TODAY }).start);
    const ok = r <= 0.8 + 1e-12 && !slow;
    if (ok) kindMet++;
    cells.push(`${r.toFixed(2)}${slow ? 's' : ''}${ok ? '' : '!'}`);
  }
  met += kindMet;
  total += last - first + 1;
  console.log(`${kind.padEnd(16)} ${String(kindMet).padStart(2)}/${last - first + 1}  ${cells.join(' ')}`);
}
console.log(`adaptive meets ${met}/${total} draws (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
