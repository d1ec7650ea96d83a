import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { inlineWorklets, buildWorkletSource } from './worklets/build/inline-plugin.mjs';

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['src/**/*.ts'],
    compilerOptions: { noEmit: false, declaration: false, sourceMap: false, types: ['node'] },
    noEmitOnError: true,
  });

/** Also ship the worklet as a file, for sites whose CSP forbids blob: and data: (`workletUrl`). */
function emitWorkletFile() {
  return {
    name: 'talstream-emit-worklet-file',
    async writeBundle() {
      const { code } = await buildWorkletSource();
      mkdirSync('dist', { recursive: true });
      writeFileSync('dist/talstream.worklet.js', code);
    },
  };
}

export default [
  {
    input: 'src/index.ts',
    output: { file: 'dist/talstream.mjs', format: 'es', sourcemap: false },
    plugins: [inlineWorklets(), ts(), emitWorkletFile()],
  },
  {
    // The script-tag build: the browser API only (src/browser.ts), not the simulation tools.
    input: 'src/browser.ts',
    output: { file: 'dist/talstream.iife.js', format: 'iife', name: 'TalStream', sourcemap: false },
    plugins: [inlineWorklets(), ts(), terser({ compress: { passes: 2 } })],
  },
  {
    input: 'src/cli/main.ts',
    output: { file: 'dist/cli.mjs', format: 'es', banner: '#!/usr/bin/env node' },
    external: (id) => id.startsWith('node:'),
    plugins: [inlineWorklets(), ts()],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/talstream.d.ts', format: 'es' },
    plugins: [dts({ tsconfig: './tsconfig.json' })],
    external: ['talstream:worklet'],
  },
];
