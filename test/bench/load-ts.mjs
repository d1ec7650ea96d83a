// Loads TypeScript sources that are not public exports of dist/ (the pure DSP cores) into a bench:
// rollup + @rollup/plugin-typescript bundle them, with the repo's tsconfig, into one temporary .mjs,
// which is imported and deleted. Type errors are reported by `npm run typecheck`, not here.
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = '\0load-ts-entry';

/**
 * Bundles the given TS files (paths relative to the repo root) and returns one module namespace
 * holding all their exports.
 * @param {string[]} files
 */
export async function loadTs(files) {
  const entry = {
    name: 'load-ts-entry',
    resolveId: (id) => (id === ENTRY ? ENTRY : null),
    load: (id) => (id === ENTRY ? files.map((f) => `export * from ${JSON.stringify(path.resolve(root, f))};`).join('\n') : null),
  };
  const bundle = await rollup({
    input: ENTRY,
    plugins: [
      entry,
      typescript({
        tsconfig: path.join(root, 'tsconfig.json'),
        include: [path.join(root, 'src/**/*.ts')],
        compilerOptions: { noEmit: false, declaration: false, sourceMap: false },
        noEmitOnError: false,
        noForceEmit: false,
      }),
    ],
    onwarn: () => {},
  });
  const { output } = await bundle.generate({ format: 'es' });
  await bundle.close();
  const dir = mkdtempSync(path.join(tmpdir(), 'talstream-bench-'));
  const file = path.join(dir, 'bundle.mjs');
  try {
    writeFileSync(file, output[0].code);
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
