// How closely the synthetic networks (playout-traces.mjs) resemble the shared synthetic files they
// stand in for: per kind, the statistics the model was fitted to, for the shared file and for four
// fresh draws, and the fit's loss (0 = the same statistics; see playout-traces.mjs).
//   node test/bench/playout-traces-fit.mjs
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticTrace } from './playout-traces.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.join(here, '../../../shared/traces');
const GAPS_OVER = [40, 60, 100, 200, 400, 800];

/** Gaps over each threshold per minute of audio, the 90% and 99% gaps, and each reply's latest frame (median, 90%). */
export function traceStats(trace) {
  const gaps = [];
  const late = [];
  let audioMs = 0;
  for (const { arrivals: a } of trace.replies) {
    let most = 0;
    for (let i = 0; i < a.length; i++) {
      audioMs += (a[i].samples * 1000) / trace.sampleRate;
      most = Math.max(most, a[i].atMs - i * 20);
      if (i > 0) gaps.push(a[i].atMs - a[i - 1].atMs);
    }
    late.push(most);
  }
  const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  gaps.sort((x, y) => x - y);
  late.sort((x, y) => x - y);
  const minutes = audioMs / 60000;
  return {
    over: GAPS_OVER.map((t) => gaps.filter((g) => g > t).length / minutes),
    gap: [q(gaps, 0.9), q(gaps, 0.99)],
    late: [q(late, 0.5), q(late, 0.9)],
  };
}

/** Sum of squared log errors (with small offsets, so that 0 against 0.2 is not infinite). */
export function fitLoss(a, b) {
  let l = 0;
  for (let i = 0; i < GAPS_OVER.length; i++) l += Math.log((a.over[i] + 0.3) / (b.over[i] + 0.3)) ** 2;
  for (let i = 0; i < 2; i++) l += Math.log((a.gap[i] + 5) / (b.gap[i] + 5)) ** 2;
  for (let i = 0; i < 2; i++) l += 0.5 * Math.log((a.late[i] + 20) / (b.late[i] + 20)) ** 2;
  return l;
}

const fmt = (s) => `gaps over ${GAPS_OVER.join('/')} ms a minute ${s.over.map((x) => x.toFixed(1)).join('/')}; 90/99% gap ${s.gap.map((x) => x.toFixed(0)).join('/')} ms; latest frame median/90% ${s.late.map((x) => x.toFixed(0)).join('/')} ms`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const kind of ['wifi-burst', '4g-burst', 'congested-burst', 'wifi-paced', '4g-paced', 'congested-paced']) {
    const file = traceStats(JSON.parse(readFileSync(path.join(shared, `${kind}.json`), 'utf8')));
    console.log(`${kind}\n  shared file: ${fmt(file)}`);
    let loss = 0;
    for (const seed of [401, 402, 403, 404]) {
      const s = traceStats(syntheticTrace(kind, seed));
      loss += fitLoss(s, file) / 4;
      if (seed === 401) console.log(`  draw ${seed}:    ${fmt(s)}`);
    }
    console.log(`  loss over draws 401-404: ${loss.toFixed(2)}`);
  }
}
