// Build-time inlining of the AudioWorklet processors.
//
// `import workletSource from 'talstream:worklet'` resolves to the bundled, minified source of
// worklets/index.ts as a string. `import('talstream:hands-free')` resolves to the hands-free module
// (worklets/echo.ts: the capture worklet's listening path, and the conversation's turn rules for the
// main thread), loaded when a conversation starts: `{ source }` inlined and `TurnTaking` imported,
// for the ESM build (a chunk of its own, so bundlers load it on demand) and for tests; or `{ url }`,
// the file dist/talstream.hands-free.js beside the running script, for the script-tag build, which
// cannot split and so would carry it whole: the main thread then imports its TurnTaking from there.
import { rollup } from 'rollup';
import ts from 'typescript';
import { minify } from 'terser';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WORKLET_ENTRY = path.resolve(here, '..', 'index.ts');
export const HANDS_FREE_ENTRY = path.resolve(here, '..', 'echo.ts');
const TURN_TAKING = path.resolve(here, '..', '..', 'src', 'conversation', 'turn-taking.ts');
/** The hands-free module's file name in dist/, looked up beside the script tag's bundle (src/audio/worklet-loader.ts names it too). */
export const HANDS_FREE_FILE = 'talstream.hands-free.js';
const VIRTUAL = 'talstream:worklet';
const HANDS_FREE_VIRTUAL = 'talstream:hands-free';

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

/** Bundle a worklet entry (default worklets/index.ts) into one script string (AudioWorklet modules may not import). */
export async function buildWorkletSource({ compress = true, entry = WORKLET_ENTRY, plugins = [] } = {}) {
  const bundle = await rollup({ input: entry, plugins: [...plugins, transpileTs()], treeshake: true });
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

// Read while the script tag's bundle runs (document.currentScript is set only then); nothing else
// of the page is touched, and without a document (Node, a worker) there is no URL to offer.
const BESIDE_SCRIPT = `const script = typeof document !== 'undefined' ? document.currentScript : null;
export default { source: null, url: script && script.src ? new URL(${JSON.stringify(HANDS_FREE_FILE)}, script.src).href : null };
export const TurnTaking = null;`;

/**
 * rollup/vite plugin: `import src from 'talstream:worklet'` and `import('talstream:hands-free')`.
 * `echo`: 'inline' (the source in the bundle) or 'beside-script' (a URL, see above); `plugins`: more
 * rollup plugins for the worklet builds (bench:size stubs modules with one).
 */
export function inlineWorklets({ compress = true, echo = 'inline', plugins = [] } = {}) {
  const entries = { [VIRTUAL]: WORKLET_ENTRY, [HANDS_FREE_VIRTUAL]: HANDS_FREE_ENTRY };
  return {
    name: 'talstream-inline-worklets',
    resolveId(id) {
      return id in entries ? '\0' + id : null;
    },
    async load(id) {
      const name = id.startsWith('\0') ? id.slice(1) : '';
      if (!(name in entries)) return null;
      if (name === HANDS_FREE_VIRTUAL && echo === 'beside-script') return BESIDE_SCRIPT;
      const { code, files } = await buildWorkletSource({ compress, entry: entries[name], plugins });
      for (const f of files) if (!f.startsWith('\0') && this.addWatchFile) this.addWatchFile(f);
      const source = JSON.stringify(code);
      if (name === VIRTUAL) return `export default ${source};`;
      return `export default { source: ${source}, url: null };\nexport { TurnTaking } from ${JSON.stringify(TURN_TAKING)};`;
    },
  };
}
