// A vitest reporter that appends one JSON line per run to the file named by TALSTREAM_COUNTS: per
// test file, its project, state and how many of its tests passed, failed and were skipped (and
// which passed only on a retry), and the run's unhandled errors. test/run-tests.mjs adds them up
// per engine, and finds the files a crashed browser left unfinished.
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export default class CountReporter {
  onTestRunEnd(testModules, unhandledErrors) {
    const file = process.env.TALSTREAM_COUNTS;
    if (!file) return;
    const modules = [];
    for (const m of testModules) {
      const r = { project: m.project.name, file: path.relative(process.cwd(), m.moduleId), state: m.state(), passed: 0, failed: 0, skipped: 0, retried: [] };
      // A file that failed to load has no tests: count it as one failure.
      if (r.state === 'failed' && [...m.children.allTests()].length === 0) r.failed++;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') {
          r.passed++;
          if ((t.diagnostic()?.retryCount ?? 0) > 0) r.retried.push(t.fullName);
        } else if (s === 'failed') r.failed++;
        else r.skipped++;
      }
      modules.push(r);
    }
    const errors = (unhandledErrors ?? []).map((e) => [e?.message, e?.cause?.message].filter(Boolean).join(': '));
    appendFileSync(file, JSON.stringify({ modules, errors }) + '\n');
  }
}
