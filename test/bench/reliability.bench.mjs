// `npm run bench:reliability` (builds dist/ first). From one run, prints:
//   1. fuzz: damaged replies through dist's decodeFrames at random chunkings (cases, failures, codes);
//   2. faults: each bad answer / network fault of the fault server against the script-tag client
//      in real Chromium, with its outcome (code@offset, frames, audio played, time to settle);
//   3. soak: 200 asks in one client (mic take -> upload -> reply through the Player): asks
//      completed, AudioContexts / AudioWorkletNodes / tracks created, heap after GC at ask 10 vs
//      200, and the object types (heap snapshots at ask 10 and 200) whose count grew per ask.
// Chromium is driven with playwright-core (path and flags from test/support/chromium.mjs, as in
// test/vitest.config.ts). The fault server is TypeScript: it is bundled for Node with rollup and
// TypeScript's transpiler on the way in.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { rollup } from 'rollup';
import ts from 'typescript';
import { fuzz } from '../support/reply-fuzz.mjs';
import { chromiumLaunchOptions } from '../support/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FUZZ_CASES = Number(process.env.FUZZ_CASES ?? 20000);
const SOAK_ASKS = Number(process.env.SOAK_ASKS ?? 200);
for (const f of ['dist/talstream.mjs', 'dist/talstream.iife.js']) {
  if (!existsSync(path.join(root, f))) {
    console.error(`${f} is missing: run \`npm run build\` (npm run bench:reliability does)`);
    process.exit(1);
  }
}
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);

// ---- 1. fuzz ----------------------------------------------------------------------------------
const codec = await import(pathToFileURL(path.join(root, 'dist/talstream.mjs')).href);
const fz = await fuzz(codec, FUZZ_CASES);
console.log(`fuzz: ${fz.cases} damaged replies (dist decodeFrames, random chunkings), ${fz.failed} failures, ${fz.framesOut} frames delivered`);
console.log(`  mutations: ${Object.entries(fz.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`  outcomes:  ${Object.entries(fz.byCode).map(([k, n]) => `${k} ${n}`).join(', ')}`);
for (const f of fz.failures) console.log(`  FAIL ${f}`);

// ---- servers ----------------------------------------------------------------------------------
/** Bundles a TypeScript module of this repo for Node (imports without extensions resolved to .ts). */
async function loadTs(entry) {
  const tsLite = {
    name: 'ts-lite',
    resolveId(src, importer) {
      if (!importer || !src.startsWith('.')) return null;
      const p = path.resolve(path.dirname(importer), src);
      for (const c of [p, `${p}.ts`, path.join(p, 'index.ts')]) if (existsSync(c) && statSync(c).isFile()) return c;
      return null;
    },
    transform(code, id) {
      if (!id.endsWith('.ts')) return null;
      return ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    },
  };
  const bundle = await rollup({ input: path.join(root, entry), external: (id) => id.startsWith('node:'), plugins: [tsLite] });
  const { output } = await bundle.generate({ format: 'es' });
  const dir = mkdtempSync(path.join(tmpdir(), 'talstream-bench-'));
  const file = path.join(dir, 'module.mjs');
  writeFileSync(file, output[0].code);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const { startFaultServer } = await loadTs('test/support/fault-server.ts');
const faults = await startFaultServer();
// The page: a blank document and the script-tag build, from one loopback origin.
const page = http.createServer((req, res) => {
  if (req.url === '/dist/talstream.iife.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(path.join(root, 'dist/talstream.iife.js')));
  else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>reliability bench</title><script src="/dist/talstream.iife.js"></script>');
});
await new Promise((r) => page.listen(0, '127.0.0.1', r));
const pageOrigin = `http://127.0.0.1:${page.address().port}`;

const browser = await chromium.launch(chromiumLaunchOptions());
try {
  const ctx = await browser.newContext();
  const tab = await ctx.newPage();
  // Count what the SDK constructs, from outside it (installed before any page script runs).
  await tab.addInitScript(() => {
    const c = (window.__counts = { contexts: 0, workletNodes: 0, tracks: 0 });
    const RealContext = window.AudioContext;
    const RealNode = window.AudioWorkletNode;
    window.AudioContext = class extends RealContext {
      constructor(o) {
        super(o);
        c.contexts++;
      }
    };
    window.AudioWorkletNode = class extends RealNode {
      constructor(a, b, o) {
        super(a, b, o);
        c.workletNodes++;
      }
    };
    const md = navigator.mediaDevices;
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = async (x) => {
      const s = await gum(x);
      c.tracks += s.getTracks().length;
      return s;
    };
  });
  await tab.goto(`${pageOrigin}/`);

  // ---- 2. faults --------------------------------------------------------------------------------
  const results = await tab.evaluate(async (origin) => {
    const client = TalStream.createClient({ url: `${origin}/reply`, upload: 'buffered' });
    await client.unlock();
    const stats = async (id) => (await (await fetch(`${origin}/stats?id=${id}`)).json()).requests;
    const run = async (name, query, opts = {}) => {
      const id = `${name}-${Math.random().toString(36).slice(2, 8)}`;
      const ac = new AbortController();
      const c = opts.client ?? client;
      const t = performance.now();
      const reply = c.ask(null, { question: 'q', url: `${origin}${query}${query.includes('?') ? '&' : '?'}id=${id}`, signal: ac.signal });
      let frames = 0;
      let audio = false;
      let firstAudioMs = null;
      let underruns = 0;
      const urls = [];
      reply.on('frame', () => frames++);
      reply.on('audio-start', () => (audio = true));
      reply.on('underrun', () => underruns++);
      reply.on('url', (e) => urls.push(e.url));
      if (opts.abortAfter) setTimeout(() => ac.abort(), opts.abortAfter);
      let position = null;
      if (opts.interruptAfter) reply.on('audio-start', () => setTimeout(async () => (position = await reply.interrupt()), opts.interruptAfter));
      let outcome;
      try {
        const s = await reply.done;
        firstAudioMs = s.firstAudioMs;
        outcome = `end${s.interrupted ? ' (interrupted)' : ''}, played ${s.playedMs.toFixed(0)} ms`;
      } catch (e) {
        outcome = `${e.code}${e.offset === undefined ? '' : `@${e.offset}`}${e.status ? ` ${e.status}` : ''}`;
      }
      const ms = performance.now() - t;
      await new Promise((r) => setTimeout(r, 60));
      const reqs = await stats(id);
      const extra = [];
      if (underruns) extra.push(`${underruns} underrun(s)`);
      if (position) extra.push(`stopped at frame ${position.order}+${position.sampleOffset}`);
      if (urls.length) extra.push(`url as data, fetched ${reqs.filter((r) => r.path === '/never').length}x`);
      if (opts.pollution) extra.push(`Object.prototype polluted: ${'polluted' in {}}`);
      if (reqs.length > 1 || opts.retry) extra.push(`${reqs.length} request(s)`);
      if (opts.abortAfter || opts.interruptAfter) extra.push(`server saw the client close: ${reqs.some((r) => r.clientClosed)}`);
      if (firstAudioMs !== null) extra.push(`first audio ${Math.round(firstAudioMs)} ms after the first byte`);
      return { name, outcome, frames, audio, ms: Math.round(ms), extra: extra.join('; ') };
    };
    const retrying = TalStream.createClient({ url: `${origin}/reply`, upload: 'buffered', retry: { delayMs: 50 } });
    const out = [];
    for (const [name, q, o] of [
      ['HTTP 404 with body', '/status?code=404&body=nope'],
      ['HTTP 500 no body', '/status?code=500'],
      ['HTML page', '/html'],
      ['JSON error, 200', '/json-error'],
      ['empty 200', '/empty'],
      ['body stops mid-frame', '/reply?frames=6&at=3&fault=truncate'],
      ['connection drop mid-frame', '/reply?frames=6&at=3&fault=drop'],
      ['header JSON not an object', '/reply?frames=4&at=2&fault=not-object'],
      ['header JSON cut', '/reply?frames=4&at=2&fault=bad-json'],
      ['frame claims 4 GiB', '/reply?frames=4&at=2&fault=huge'],
      ['total < 8 + H', '/reply?frames=4&at=2&fault=bad-length'],
      ['payload fits no sample', '/reply?frames=4&at=2&fault=odd-payload'],
      ['audioType unknown', '/reply?frames=4&at=2&fault=audio-type'],
      ['sampleRate 0', '/reply?frames=4&at=2&fault=rate-0'],
      ['sampleRate 10 MHz', '/reply?frames=4&at=2&fault=rate-10m'],
      ['channels 0', '/reply?frames=4&at=2&fault=channels-0'],
      ['channels 300', '/reply?frames=4&at=2&fault=channels-300'],
      ['stall 3 s mid-reply', '/reply?frames=50&pace=20&fault=stall&at=15&stallMs=3000'],
      ['__proto__/constructor keys, url, HTML', '/reply?frames=3&fault=hostile', { pollution: true }],
      ['abort before the response', '/reply?frames=10&delayMs=3000', { abortAfter: 200 }],
      ['interrupt mid-stream', '/reply?frames=100&pace=20', { interruptAfter: 300 }],
      ['reset before answer, retry on', '/reply?frames=4&failFirst=1&failMode=reset', { client: retrying, retry: true }],
      ['503 twice, retry on', '/reply?frames=4&failFirst=2&failMode=503', { client: retrying, retry: true }],
      ['drop after 1 frame, retry on', '/reply?frames=4&failFirst=1&failMode=mid', { client: retrying, retry: true }],
    ]) {
      out.push(await run(name, q, o));
    }
    await retrying.destroy();
    await client.destroy();
    return out;
  }, faults.origin);
  console.log(`faults: ${results.length} injected against the script-tag client in Chromium (real fetch, real Player)`);
  const w = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`  ${r.name.padEnd(w)}  -> ${r.outcome}; ${r.frames} frame(s)${r.audio ? ', audio played' : ''}; settled in ${r.ms} ms${r.extra ? `; ${r.extra}` : ''}`);
  }

  // ---- 3. soak ----------------------------------------------------------------------------------
  // In stages (1, 9, then the rest) so that heap snapshots can be taken between them from outside.
  await tab.evaluate(async (origin) => {
    window.__soak = { before: { ...window.__counts }, completed: 0, failures: [], heaps: [] };
    const client = (window.__client = TalStream.createClient({ url: `${origin}/reply?id=soak&frames=3`, upload: 'buffered' }));
    await client.unlock();
    window.__mic = await client.microphone({ echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    window.__heap = async () => {
      // The browser keeps a PerformanceResourceTiming per fetch (up to 250): its memory, not ours.
      performance.clearResourceTimings();
      for (let i = 0; i < 3; i++) {
        window.gc();
        await new Promise((r) => setTimeout(r, 50));
      }
      return performance.memory.usedJSHeapSize;
    };
    window.__asks = async (from, to, heapEvery) => {
      const S = window.__soak;
      for (let i = from; i <= to; i++) {
        const take = window.__mic.record();
        setTimeout(() => void take.stop(), 20);
        const reply = window.__client.ask(take, { question: `ask ${i}` });
        try {
          const s = await reply.done;
          if (s.frames === 3) S.completed++;
          else S.failures.push(`ask ${i}: ${s.frames} frames`);
        } catch (e) {
          S.failures.push(`ask ${i}: ${e.code} ${e.message}`);
        }
        if (i % heapEvery === 0 && i < to) S.heaps.push([i, await window.__heap()]);
      }
      S.heaps.push([to, await window.__heap()]);
    };
  }, faults.origin);
  const cdp = await ctx.newCDPSession(tab);
  /** Object counts by type in a heap snapshot (after GC). */
  const snapshot = async () => {
    await tab.evaluate(() => window.__heap());
    const chunks = [];
    const onChunk = (e) => chunks.push(e.chunk);
    cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
    const snap = JSON.parse(chunks.join(''));
    const fields = snap.snapshot.meta.node_fields;
    const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
    const types = snap.snapshot.meta.node_types[0];
    const counts = new Map();
    for (let i = 0; i < snap.nodes.length; i += fields.length) {
      const key = `${types[snap.nodes[i + ti]]} ${snap.strings[snap.nodes[i + ni]].slice(0, 50)}`;
      const c = counts.get(key) ?? { n: 0, bytes: 0 };
      c.n++;
      c.bytes += snap.nodes[i + si];
      counts.set(key, c);
    }
    return counts;
  };
  const tSoak = performance.now();
  await tab.evaluate(() => window.__asks(1, 1, 100));
  const after1 = await tab.evaluate(() => ({ ...window.__counts }));
  await tab.evaluate(() => window.__asks(2, 10, 100));
  const snap10 = await snapshot();
  await tab.evaluate((n) => window.__asks(11, n, 100), SOAK_ASKS);
  const snapEnd = await snapshot();
  const soakMs = performance.now() - tSoak;
  const soak = await tab.evaluate(async () => {
    const S = window.__soak;
    const end = { ...window.__counts };
    await window.__client.destroy();
    return { ...S, end, listeners: window.__client.listenerCount() };
  });
  // Object types whose count grew by one or more per ask between ask 10 and the last.
  const perAsk = [];
  for (const [k, c] of snapEnd) {
    const c0 = snap10.get(k) ?? { n: 0, bytes: 0 };
    if (c.n - c0.n >= SOAK_ASKS - 10) perAsk.push(`${k} +${c.n - c0.n} (${c.bytes - c0.bytes} B)`);
  }
  const diff = (a, b) => ({ contexts: a.contexts - b.contexts, workletNodes: a.workletNodes - b.workletNodes, tracks: a.tracks - b.tracks });
  const mib = (b) => (b / 2 ** 20).toFixed(2);
  const h10 = soak.heaps.find(([i]) => i === 10)[1];
  const hEnd = soak.heaps.at(-1)[1];
  console.log(`soak: ${soak.completed}/${SOAK_ASKS} asks completed in ${(soakMs / 1000).toFixed(1)} s (mic take -> upload -> 3-frame reply played), two heap snapshots included`);
  console.log(`  heap after GC: ${mib(h10)} MiB after ask 10, ${mib(hEnd)} MiB after ask ${SOAK_ASKS} (${(((hEnd - h10) / h10) * 100).toFixed(1)}%)`);
  console.log(`  heap by ask: ${soak.heaps.map(([i, b]) => `${i}: ${mib(b)}`).join(', ')} MiB`);
  console.log(`  created by ask 1: ${JSON.stringify(diff(after1, soak.before))}; by asks 2..${SOAK_ASKS}: ${JSON.stringify(diff(soak.end, after1))}`);
  console.log(`  heap-snapshot types growing >= 1 per ask (asks 10..${SOAK_ASKS}): ${perAsk.length ? perAsk.join('; ') : 'none'}`);
  for (const f of soak.failures.slice(0, 5)) console.log(`  FAIL ${f}`);
} finally {
  await browser.close();
  await faults.close();
  page.close();
}
console.log(`total ${secs()} s`);
