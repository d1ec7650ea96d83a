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
 * reads `document.currentScript` where there is a document, for the hands-free file's URL). */
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

  it('dist/talstream.hands-free.js: on a worklet scope it registers the listening path, on the main thread it exports the turn rules; the ESM chunk has the same; neither bundle carries them', async () => {
    const file = readFileSync(path.join(dist, 'talstream.hands-free.js'), 'utf8');
    const g = globalThis as Record<string, unknown>;
    // Imported without a worklet scope (the main thread): the turn rules, nothing registered.
    const main = (await import(pathToFileURL(path.join(dist, 'talstream.hands-free.js')).href + '?main')) as Record<string, unknown>;
    expect(Object.keys(main)).toEqual(['TurnTaking']);
    expect(g.talstreamEcho).toBeUndefined();
    // Added to a worklet scope (registerProcessor defined): the listening path registered.
    g.registerProcessor = () => {};
    try {
      await import(pathToFileURL(path.join(dist, 'talstream.hands-free.js')).href + '?worklet');
    } finally {
      delete g.registerProcessor;
    }
    const echo = g.talstreamEcho as Record<string, unknown>;
    delete g.talstreamEcho;
    expect(Object.keys(echo)).toEqual(['EchoListener']);
    const Listener = echo.EchoListener as new (...a: unknown[]) => { out: Float32Array; verdict: number; process(m: Float32Array, r: Float32Array): number };
    const listener = new Listener(new Resampler(48000, 16000), new Resampler(48000, 16000), 320, { cancelEcho: true, detector: {} });
    let n = 0;
    for (let b = 0; b < 30; b++) n += listener.process(new Float32Array(128), new Float32Array(128));
    expect(n).toBe(new Resampler(48000, 16000).process(new Float32Array(30 * 128)).length); // as one resampler run
    expect(listener.out.every((v) => v === 0)).toBe(true); // silence in, silence out
    expect(listener.verdict).toBe(0);
    // The turn rules work: 100 ms of speech frames (20 ms each) confirm a turn at its onset.
    const { TurnMachine } = await import('../../src/conversation/turn-machine');
    const opts = { sampleRate: 16000, frameMs: 20, minSpeechMs: 60, bargeInRule: { minSpeechMs: 100, maxGapMs: 40 }, hangoverMs: 800, bargeIn: true, falseEndMs: 1500, tailMs: 300 };
    const TurnTaking = main.TurnTaking as new (o: typeof opts, m: InstanceType<typeof TurnMachine>) => { chunk(n: number, v: string): { state: string }[] };
    const rules = new TurnTaking(opts, new TurnMachine(opts));
    const states = [rules.chunk(320, 'silence'), rules.chunk(320, 'speech'), rules.chunk(320, 'speech'), rules.chunk(320, 'speech')].map((s) => s.map((x) => x.state).join());
    expect(states).toEqual(['', '', '', 'user-speaking']);
    const chunk = (await import(pathToFileURL(path.join(dist, 'talstream-hands-free.mjs')).href)) as { default: { source: string; url: null }; TurnTaking: unknown };
    expect(chunk.default).toEqual({ source: file, url: null });
    expect(typeof chunk.TurnTaking).toBe('function');
    // The canceller's and the barge-in rule's code (their error messages mark them) is in the hands-free module only.
    for (const marker of ['EchoCanceller: sampleRate must be', 'runSpeech']) {
      expect(file.includes(marker), marker).toBe(true);
      for (const bundle of ['talstream.iife.js', 'talstream.worklet.js', 'talstream-core.mjs']) {
        expect(readFileSync(path.join(dist, bundle), 'utf8').includes(marker), `${marker} in ${bundle}`).toBe(false);
      }
    }
  });
});
