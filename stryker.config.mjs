// StrykerJS over one area of the pure cores (test/mutate/areas.mjs, chosen by MUTATE_AREA):
// `npm run mutate` (test/bench/mutate.mjs) runs every area and prints the score per folder. A
// benchmark, not part of `npm test` or CI: it takes long on 2 cores.
import { AREAS } from './test/mutate/areas.mjs';

const name = process.env.MUTATE_AREA ?? 'protocol';
const area = AREAS[name];
if (!area) throw new Error(`MUTATE_AREA: unknown area ${name}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutate/vitest.config.ts' },
  mutate: area.mutate,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  reporters: ['progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The instrumented DSP areas need more than the default 5 minutes for the first, coverage-measuring
  // run of their tests (the dsp area's timed out at 5 on 2 cores).
  dryRunTimeoutMinutes: 60,
};
