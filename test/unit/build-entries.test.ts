// The two builds' public surfaces (run after `npm run build`, as `npm test` does): the script-tag
// build carries the browser API and leaves out the simulation tools, which the ESM build keeps.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Resampler } from '../../src/dsp/resampler';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const TOOLS = ['PlayoutCore', 'oracleDelayMs', 'simulatePlayout'];

/** Runs the script-tag bundle in a context holding only the language and the text codecs (the
 * frame codec makes its UTF-8 coders at load): it touches no browser global when it loads (it
 * reads `document.currentScript` where there is a document, for the echo worklet's URL). */
function loadIife(): Record<string, unknown> {
  const sandbox: { TalStream?: Record<string, unknown>; TextEncoder: unknown; TextDecoder: unknown } = { TextEncoder, TextDecoder };
  runInNewContext(`${readFileSync(path.join(dist, 'talstream.iife.js'), 'utf8')};this.TalStream = TalStream;`, sandbox);
  return sandbox.TalStream!;
}

describe('build entries', () => {
  it('dist/talstream.iife.js: the browser API on a bare global, without the simulation tools', () => {
    const api = loadIife();
    for (const name of ['createClient', 'Player', 'Microphone', 'Conversation', 'Resampler', 'TalStreamError', 'FrameDecoder']) {
      expect(typeof api[name], name).toBe('function');
    }
    for (const name of TOOLS) expect(api[name], name).toBeUndefined();
  });

  it('dist/talstream.mjs: everything, the simulation tools included', async () => {
    const esm = (await import(pathToFileURL(path.join(dist, 'talstream.mjs')).href)) as Record<string, unknown>;
    for (const name of [...TOOLS, 'createClient', 'Player', 'Conversation']) expect(typeof esm[name], name).toBe('function');
    // The ESM build exports what the script-tag build does, and the tools: nothing else differs.
    expect(Object.keys(esm).sort()).toEqual([...Object.keys(loadIife()), ...TOOLS].sort());
  });

  it('dist/talstream.echo-worklet.js: the echo path on the worklet scope, the same source the ESM chunk inlines; neither bundle carries it', async () => {
    const file = readFileSync(path.join(dist, 'talstream.echo-worklet.js'), 'utf8');
    // A worklet module: run it on a bare scope, as addModule() would, and find what it registered.
    const scope: { talstreamEcho?: Record<string, unknown> } = {};
    runInNewContext(file, scope);
    expect(Object.keys(scope.talstreamEcho ?? {})).toEqual(['EchoListener']);
    const Listener = scope.talstreamEcho!.EchoListener as new (...a: unknown[]) => { out: Float32Array; verdict: number; process(m: Float32Array, r: Float32Array): number };
    const listener = new Listener(new Resampler(48000, 16000), new Resampler(48000, 16000), 320, { cancelEcho: true, detector: {} });
    let n = 0;
    for (let b = 0; b < 30; b++) n += listener.process(new Float32Array(128), new Float32Array(128));
    expect(n).toBe(new Resampler(48000, 16000).process(new Float32Array(30 * 128)).length); // as one resampler run
    expect(listener.out.every((v) => v === 0)).toBe(true); // silence in, silence out
    expect(listener.verdict).toBe(0);
    const chunk = (await import(pathToFileURL(path.join(dist, 'talstream-echo-worklet.mjs')).href)) as { default: { source: string; url: null } };
    expect(chunk.default).toEqual({ source: file, url: null });
    // The canceller's code (its error messages mark it) is in the echo module only.
    const marker = 'EchoCanceller: sampleRate must be';
    expect(file.includes(marker)).toBe(true);
    for (const bundle of ['talstream.iife.js', 'talstream.worklet.js']) {
      expect(readFileSync(path.join(dist, bundle), 'utf8').includes(marker), bundle).toBe(false);
    }
  });
});
