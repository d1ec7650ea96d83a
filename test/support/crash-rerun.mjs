// Engine note 6 bookkeeping (see runWebKit in test/run-tests.mjs): after a run whose browser crashed,
// which browser-mode files finished, which must run again, and the run's record as it should be
// counted (only the files that finished, and no crash errors).
import path from 'node:path';

/** Vitest names a browser project after its instance: 'webkit' -> 'webkit (webkit)'. */
export const groupOf = (project) => project.replace(/ \(.*\)$/, '').replace(/-e2e$/, '');

/** True for a record whose run lost its browser. */
export const isCrash = (msg) => /Browser connection was closed/.test(msg);

/**
 * @param rec one run's record from count-reporter.mjs: { modules, errors }
 * @param engine 'webkit'
 * @param pending the browser-mode files that had still to finish before this run, relative to root
 * @param root the project's folder (vitest names the crashed file by its absolute path)
 * @returns { crashed: files named by the crash, rerun: files of `pending` to run again, record: the
 *   record to count instead (the browser project's unfinished files and the crash errors dropped;
 *   the e2e project's files kept) }
 */
export function afterCrash(rec, engine, pending, root) {
  const named = rec.errors.map((e) => /Failed to run the test (\S+?)\.?(:|$)/.exec(e)?.[1]).filter(Boolean);
  const crashed = new Set(named.map((f) => path.relative(root, f)));
  const browser = (m) => m.project.replace(/ \(.*\)$/, '') === engine;
  const finished = (m) => browser(m) && (m.state === 'passed' || m.state === 'failed') && !crashed.has(m.file);
  const done = new Set(rec.modules.filter(finished).map((m) => m.file));
  return {
    crashed: [...crashed],
    rerun: pending.filter((f) => !done.has(f)),
    record: {
      modules: rec.modules.filter((m) => !browser(m) || done.has(m.file)),
      errors: rec.errors.filter((e) => !isCrash(e) && !/Failed to run the test/.test(e)),
    },
  };
}
