// A vitest reporter that appends one JSON line per run to the file named by TALSTREAM_COUNTS: per
// test file, its project, state and how many of its tests passed, failed and were skipped (and
// which passed only on a retry, with its first try's error), and the run's unhandled errors.
// test/run-tests.mjs adds them up per engine, and finds the files a crashed browser left unfinished.
import { appendFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The first failed try's error, on one line: vitest keeps every try's errors on a test that passed
 * on its retry, and says none of them; without it a retry that hides a hang (a try that ran into its
 * timeout) looks the same as one that missed a window by a millisecond.
 */
function firstError(t) {
  const e = t.result().errors?.[0];
  const msg = String(e?.message ?? e ?? 'no error recorded').replace(/\s+/g, ' ').trim();
  return msg.length > 200 ? `${msg.slice(0, 200)}...` : msg;
}

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
          if ((t.diagnostic()?.retryCount ?? 0) > 0) r.retried.push(`${t.fullName} (first try: ${firstError(t)})`);
        } else if (s === 'failed') r.failed++;
        else r.skipped++;
      }
      modules.push(r);
    }
    const errors = (unhandledErrors ?? []).map((e) => [e?.message, e?.cause?.message].filter(Boolean).join(': '));
    appendFileSync(file, JSON.stringify({ modules, errors }) + '\n');
  }
}
