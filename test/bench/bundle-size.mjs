// npm run bench:size: what the hands-free conversation costs the script tag, measured by building
// dist/talstream.iife.js twice in memory (the rollup config's own IIFE entry and plugins, then
// terser and gzip -9): as shipped, and with the hands-free code taken out (converse() and the
// Conversation replaced by stubs, which drops the turn machine and the listening wiring with them;
// the listen methods of the capture worklet, the Microphone and the CaptureNode cut out). The
// difference is the growth the goal of issue 10 bounds (<= 4 KB gzip). Also prints the files
// fetched on demand. Builds only: nothing is written.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rollup } from 'rollup';
import ts from 'typescript';
import { buildWorkletSource, HANDS_FREE_ENTRY, inlineWorklets } from '../../worklets/build/inline-plugin.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(root); // the config's paths are relative to the repo
const configs = (await import(pathToFileURL(path.join(root, 'rollup.config.mjs')).href)).default;
const iife = configs.find((c) => c.output?.format === 'iife');

const STUBS = {
  'src/conversation/converse.ts': "export function converse() { throw new Error('hands-free taken out'); }",
  'src/conversation/conversation.ts': 'export class Conversation {}',
  'src/conversation/listening.ts': 'export class Listening {}',
  'worklets/echo-plugin.ts': 'export function echoPlugin() { return undefined; }',
};
// Methods cannot be shaken off: these are cut out of their sources (each pattern must match once).
// The capture worklet's listening path: its 'listen' command, its branch in process(), the verdict
// on each chunk; the main thread's Microphone.listen() and CaptureNode.listen() (which loads the
// hands-free module).
const CUTS = {
  'worklets/capture-processor.ts': [
    /      case 'listen': \{[\s\S]*?\n      \}\n/,
    /    if \(this\.listener\) \{[\s\S]*?\n    \}\n/,
    /    if \(this\.listener\) msg\.verdict = this\.listener\.verdict;\n/,
  ],
  'src/capture/microphone.ts': [/  listen\(\): Listening \{[\s\S]*?\n  \}\n/],
  'src/capture/capture-node.ts': [/  async listen\(settings: ListenSettings \| null\): Promise<boolean> \{[\s\S]*?\n  \}\n/],
};

/** The script tag's bytes after gzip -9, optionally with the hands-free modules stubbed. */
async function build(stub) {
  const stubs = {
    name: 'hands-free-out',
    load(id) {
      const rel = path.relative(root, id).split(path.sep).join('/');
      if (!stub) return null;
      if (rel in STUBS) return STUBS[rel];
      if (!(rel in CUTS)) return null;
      let code = readFileSync(id, 'utf8');
      for (const re of CUTS[rel]) {
        if (!re.test(code)) throw new Error(`bench:size: the listening path of ${rel} changed shape (${re})`);
        code = code.replace(re, '');
      }
      // The TypeScript plugin compiles the files it loads itself: strip this one's types here.
      return ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext }, fileName: id }).outputText;
    },
  };
  // The stubs go first so that the TypeScript plugins never see the real files; the worklet build
  // inside the bundle gets them too.
  const plugins = iife.plugins.map((p) => (p.name === 'talstream-inline-worklets' ? inlineWorklets({ echo: 'beside-script', plugins: [stubs] }) : p));
  const bundle = await rollup({ input: iife.input, plugins: [stubs, ...plugins], onwarn: () => {} });
  try {
    const { output } = await bundle.generate(iife.output);
    return gzipSync(output[0].code, { level: 9 }).length;
  } finally {
    await bundle.close();
  }
}

const full = await build(false);
const without = await build(true);
const handsFree = gzipSync((await buildWorkletSource({ entry: HANDS_FREE_ENTRY })).code, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(2)} KiB`;
console.log(`script tag (dist/talstream.iife.js), gzip -9:     ${full} bytes (${kb(full)})`);
console.log(`  with the hands-free code taken out:            ${without} bytes (${kb(without)})`);
console.log(`  hands-free adds:                               ${full - without} bytes (${kb(full - without)}; goal <= 4 KB)`);
console.log(`fetched when a conversation starts (talstream.hands-free.js): ${handsFree} bytes (${kb(handsFree)})`);
