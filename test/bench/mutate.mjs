// `npm run mutate [area ...]`: StrykerJS over each area of the pure cores (test/mutate/areas.mjs;
// all of them by default), one after another, then the score per folder and the survivors
// (test/bench/mutation-score.mjs). Reports: reports/mutation/<area>.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { AREAS } from '../mutate/areas.mjs';

const asked = process.argv.slice(2);
for (const a of asked) if (!AREAS[a]) throw new Error(`unknown area ${a} (${Object.keys(AREAS).join(', ')})`);
const areas = asked.length ? asked : Object.keys(AREAS);
for (const area of areas) {
  console.log(`\n=== mutate: ${area} ===`);
  // Stryker runs the tests in a sandbox, .stryker-tmp/sandbox-*: the tests that read ../shared
  // (vectors, traces, talwire.py) find it through this link.
  mkdirSync('.stryker-tmp', { recursive: true });
  rmSync('.stryker-tmp/shared', { force: true });
  symlinkSync(path.resolve('..', 'shared'), '.stryker-tmp/shared');
  const r = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATE_AREA: area } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const score = spawnSync(process.execPath, ['test/bench/mutation-score.mjs', ...areas.map((a) => `reports/mutation/${a}.json`), '--survivors'], { stdio: 'inherit' });
process.exit(score.status ?? 1);
