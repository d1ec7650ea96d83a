import { defineConfig } from 'vitest/config';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: plain .mjs without types
import { AREAS } from './areas.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const area = (AREAS as Record<string, { tests: string[] }>)[process.env.MUTATE_AREA ?? ''];
if (!area) throw new Error(`MUTATE_AREA must be one of ${Object.keys(AREAS).join(', ')} (npm run mutate sets it)`);

/** The unit tests of one area of `npm run mutate` (test/mutate/areas.mjs). */
export default defineConfig({
  root,
  test: {
    include: area.tests.map((t) => `test/unit/${t}`),
    environment: 'node',
    // Instrumented code (every mutant behind a switch) runs the DSP loops many times slower.
    testTimeout: 600_000,
  },
});
