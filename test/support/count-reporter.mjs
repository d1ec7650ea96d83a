// A vitest reporter that appends, per project, how many tests passed, failed and were skipped to
// the JSON-lines file named by TALSTREAM_COUNTS; test/run-tests.mjs adds them up per engine.
import { appendFileSync } from 'node:fs';

export default class CountReporter {
  onTestRunEnd(testModules, unhandledErrors) {
    const file = process.env.TALSTREAM_COUNTS;
    if (!file) return;
    const counts = {};
    for (const m of testModules) {
      const name = m.project.name;
      const c = (counts[name] ??= { passed: 0, failed: 0, skipped: 0, retried: [] });
      // A file that failed to load has no tests: count it as one failure.
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) c.failed++;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') {
          c.passed++;
          if ((t.diagnostic()?.retryCount ?? 0) > 0) c.retried.push(t.fullName);
        }
        else if (s === 'failed') c.failed++;
        else c.skipped++;
      }
    }
    const errors = unhandledErrors?.length ?? 0;
    appendFileSync(file, JSON.stringify({ counts, errors }) + '\n');
  }
}
