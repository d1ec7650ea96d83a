// Build-time inlining of the AudioWorklet processors.
//
// `import workletSource from 'talstream:worklet'` resolves to the bundled, minified source of
// worklets/index.ts as a string. The same plugin object serves rollup (dist builds) and vite
// (vitest browser mode), so tests run exactly the code that ships. The worklet is typed
// TypeScript importing the same pure cores as the main thread: no processor code lives in a
// template string.
import { rollup } from 'rollup';
import ts from 'typescript';
import { minify } from 'terser';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WORKLET_ENTRY = path.resolve(here, '..', 'index.ts');
const VIRTUAL = 'talstream:worklet';
const RESOLVED = '\0' + VIRTUAL;

/** A tiny TypeScript transpiler for rollup: no type-check (tsc does that), just strip types. */
function transpileTs() {
  return {
    name: 'talstream-transpile-ts',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const base = path.resolve(path.dirname(importer), source);
      for (const candidate of [base, base + '.ts', base.replace(/\.js$/, '.ts'), path.join(base, 'index.ts')]) {
        if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
      }
      return null;
    },
    transform(code, id) {
      if (!id.endsWith('.ts')) return null;
      const out = ts.transpileModule(code, {
        compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, sourceMap: false },
        fileName: id,
      });
      return { code: out.outputText, map: null };
    },
  };
}

/** Bundle worklets/index.ts into one classic script string (AudioWorklet modules may not import). */
export async function buildWorkletSource({ compress = true } = {}) {
  const bundle = await rollup({ input: WORKLET_ENTRY, plugins: [transpileTs()], treeshake: true });
  try {
    const { output } = await bundle.generate({ format: 'es' });
    let code = output[0].code;
    if (compress) {
      const min = await minify(code, { module: true, compress: { passes: 2 }, mangle: true });
      code = min.code;
    }
    return { code, files: bundle.watchFiles };
  } finally {
    await bundle.close();
  }
}

/** rollup/vite plugin: `import src from 'talstream:worklet'`. */
export function inlineWorklets({ compress = true } = {}) {
  return {
    name: 'talstream-inline-worklets',
    resolveId(id) {
      return id === VIRTUAL ? RESOLVED : null;
    },
    async load(id) {
      if (id !== RESOLVED) return null;
      const { code, files } = await buildWorkletSource({ compress });
      for (const f of files) if (!f.startsWith('\0') && this.addWatchFile) this.addWatchFile(f);
      return `export default ${JSON.stringify(code)};`;
    },
  };
}
