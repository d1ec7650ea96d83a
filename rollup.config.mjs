import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { inlineWorklets, buildWorkletSource, HANDS_FREE_ENTRY, HANDS_FREE_FILE } from './worklets/build/inline-plugin.mjs';

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['src/**/*.ts'],
    compilerOptions: { noEmit: false, declaration: false, sourceMap: false, types: ['node'] },
    noEmitOnError: true,
  });

/**
 * Also ship the worklets as files: talstream.worklet.js for sites whose CSP forbids blob: and data:
 * (`workletUrl`), and the hands-free module, which the script-tag build loads from beside itself.
 */
function emitWorkletFiles() {
  return {
    name: 'talstream-emit-worklet-files',
    async writeBundle() {
      mkdirSync('dist', { recursive: true });
      writeFileSync('dist/talstream.worklet.js', (await buildWorkletSource()).code);
      writeFileSync(`dist/${HANDS_FREE_FILE}`, (await buildWorkletSource({ entry: HANDS_FREE_ENTRY })).code);
    },
  };
}

export default [
  {
    input: 'src/index.ts',
    // A directory: the hands-free module is a chunk of its own (talstream-hands-free.mjs), imported
    // when a conversation first listens, so an app's bundler splits it off too. What both use (the
    // barge-in options, errors) is then in talstream-core.mjs, which talstream.mjs re-exports.
    output: {
      dir: 'dist',
      entryFileNames: 'talstream.mjs',
      // The virtual module 'talstream:hands-free' would name its chunk '_talstream_hands-free'.
      chunkFileNames: (chunk) => (chunk.name === 'index' ? 'talstream-core.mjs' : `talstream-${chunk.name.replace(/^_?talstream_/, '')}.mjs`),
      format: 'es',
      sourcemap: false,
    },
    plugins: [inlineWorklets(), ts(), emitWorkletFiles()],
  },
  {
    // The script-tag build: the browser API only (src/browser.ts), not the simulation tools.
    input: 'src/browser.ts',
    // An IIFE cannot split: the hands-free module stays a file beside it (dist/talstream.hands-free.js).
    output: { file: 'dist/talstream.iife.js', format: 'iife', name: 'TalStream', sourcemap: false, inlineDynamicImports: true },
    plugins: [inlineWorklets({ echo: 'beside-script' }), ts(), terser({ compress: { passes: 2 } })],
  },
  {
    input: 'src/cli/main.ts',
    output: { file: 'dist/cli.mjs', format: 'es', banner: '#!/usr/bin/env node', inlineDynamicImports: true },
    external: (id) => id.startsWith('node:'),
    plugins: [inlineWorklets(), ts()],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/talstream.d.ts', format: 'es' },
    plugins: [dts({ tsconfig: './tsconfig.json' })],
    external: ['talstream:worklet', 'talstream:hands-free'],
  },
];
