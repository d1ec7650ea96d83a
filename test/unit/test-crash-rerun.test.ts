// The test runner's bookkeeping after WebKit's AudioWorklet crash (engine note 6). A CI run once
// failed on it: vitest names the browser project 'webkit (webkit)', the runner compared it with
// 'webkit', found no file finished, re-ran all 21 and still counted the crashed file's 2 failures.
import { describe, expect, it } from 'vitest';
import { afterCrash, groupOf, isCrash } from '../support/crash-rerun.mjs';

const mod = (project: string, file: string, state: string, passed: number, failed = 0) => ({ project, file, state, passed, failed, skipped: 0, retried: [] });
const closed = '[vitest] Browser connection was closed while running tests. Was the page closed unexpectedly?';

describe('after a browser crash', () => {
  // The shape count-reporter.mjs wrote in that CI run: two files done, the third crashed mid-file,
  // the fourth never started; the e2e project ran after.
  const rec = {
    modules: [
      mod('webkit (webkit)', 'test/browser/a.test.ts', 'passed', 4),
      mod('webkit (webkit)', 'test/browser/b.test.ts', 'failed', 2, 1),
      mod('webkit (webkit)', 'test/browser/client-unlock.test.ts', 'failed', 3, 2),
      mod('webkit (webkit)', 'test/browser/d.test.ts', 'pending', 0),
      mod('webkit-e2e', 'test/e2e/demo-page.test.ts', 'passed', 6),
    ],
    errors: [`Failed to run the test /ci/main/test/browser/client-unlock.test.ts.: ${closed}`, closed, 'TypeError: something else'],
  };
  const pending = ['test/browser/a.test.ts', 'test/browser/b.test.ts', 'test/browser/client-unlock.test.ts', 'test/browser/d.test.ts'];
  const out = afterCrash(rec, 'webkit', pending, '/ci/main');

  it('names the crashed file relative to the root', () => {
    expect(out.crashed).toEqual(['test/browser/client-unlock.test.ts']);
  });

  it('re-runs the crashed file and the ones not finished, not the finished ones (a real failure stays)', () => {
    expect(out.rerun).toEqual(['test/browser/client-unlock.test.ts', 'test/browser/d.test.ts']);
  });

  it('counts the finished files and the e2e files only, and keeps errors other than the crash', () => {
    expect(out.record.modules.map((m) => m.file)).toEqual(['test/browser/a.test.ts', 'test/browser/b.test.ts', 'test/e2e/demo-page.test.ts']);
    expect(out.record.errors).toEqual(['TypeError: something else']);
  });

  it('a second crash only re-runs what is still pending', () => {
    const again = afterCrash({ modules: [mod('webkit (webkit)', 'test/browser/client-unlock.test.ts', 'passed', 5), mod('webkit (webkit)', 'test/browser/d.test.ts', 'failed', 0, 1)], errors: [`Failed to run the test /ci/main/test/browser/d.test.ts.: ${closed}`] }, 'webkit', out.rerun, '/ci/main');
    expect(again.rerun).toEqual(['test/browser/d.test.ts']);
    expect(again.record.modules.map((m) => m.file)).toEqual(['test/browser/client-unlock.test.ts']);
  });
});

describe('names', () => {
  it('groups a browser project and its e2e project under the engine', () => {
    expect(['webkit (webkit)', 'webkit-e2e', 'firefox (firefox)', 'unit'].map(groupOf)).toEqual(['webkit', 'webkit', 'firefox', 'unit']);
  });
  it('knows the crash by vitest\'s message', () => {
    expect([closed, 'Failed to run the test x.ts.', 'AssertionError'].map(isCrash)).toEqual([true, false, false]);
  });
});
