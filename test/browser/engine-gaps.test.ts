// The gap list (engine-support.ts, README's browser support table) against the running engine:
// each gap is present exactly in the engines it names.
import { describe, expect, it } from 'vitest';
import { engine, GAPS } from './engine-support';

describe(`engine gaps in ${engine}`, () => {
  for (const [name, gap] of Object.entries(GAPS)) {
    it(`${name}: ${gap.engines.includes(engine) ? 'missing here' : 'present here'}`, async () => {
      expect(await gap.present()).toBe(gap.engines.includes(engine));
    });
  }
});
