// The bin, built with rollup, run against a real HTTP server.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { commands, runCli } from '../../src/cli/run';
import { encodeTalAudio } from '../../src/protocol/index';
import { jsonLines, memoryIO } from './cli-helpers';
import { concat, repoRoot, vectorsDir } from './protocol-helpers';

const run = promisify(execFile);
const cliPath = path.join(repoRoot, 'dist/cli.mjs');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds dist/cli.mjs from the repo's rollup config entry when it is missing or older than src/
 * (`npm test` builds first, so this only runs when a developer runs this file alone). Type errors
 * elsewhere in src/ (work in progress) are reported as warnings here rather than failing the build.
 */
async function ensureCliBuilt(): Promise<void> {
  if (existsSync(cliPath) && statSync(cliPath).mtimeMs >= newestMtime(path.join(repoRoot, 'src'))) return;
  const { rollup } = await import('rollup');
  const typescript = (await import('@rollup/plugin-typescript')).default;
  const { inlineWorklets } = await import(path.join(repoRoot, 'worklets/build/inline-plugin.mjs'));
  const configs = (await import(path.join(repoRoot, 'rollup.config.mjs'))).default as { input: string; output: object; external: unknown }[];
  const cli = configs.find((c) => c.input === 'src/cli/main.ts')!;
  const cwd = process.cwd();
  process.chdir(repoRoot); // the config's paths are relative to the repo
  try {
    const bundle = await rollup({
      input: cli.input,
      external: cli.external as never,
      onwarn: () => {},
      plugins: [
        inlineWorklets(),
        typescript({
          tsconfig: './tsconfig.json',
          include: ['src/**/*.ts'],
          compilerOptions: { noEmit: false, declaration: false, sourceMap: false, types: ['node'] },
          noEmitOnError: false,
        }),
      ],
    });
    await bundle.write(cli.output as never);
    await bundle.close();
  } finally {
    process.chdir(cwd);
  }
}

describe('talstream dispatcher', () => {
  it('lists every command in --help', async () => {
    const io = memoryIO();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out()).toMatch(/^usage: talstream <command>/);
    expect(io.out()).toMatch(/\n  inspect +print the frames/);
    expect(io.out()).toMatch(/\n  encode +turn a WAV file/);
    expect(Object.keys(commands).sort()).toEqual(['ask', 'encode', 'inspect', 'serve']);
    for (const name of Object.keys(commands)) {
      expect(io.out()).toContain(`\n  ${name.padEnd(7)}  ${commands[name]!.summary}`);
    }
  });

  it('no command -> usage, exit 2; unknown command -> exit 2', async () => {
    const io = memoryIO();
    expect(await runCli([], io)).toBe(2);
    expect(io.out()).toMatch(/^usage: talstream/);
    const io2 = memoryIO();
    expect(await runCli(['frobnicate'], io2)).toBe(2);
    expect(io2.err()).toMatch(/^error: unknown command "frobnicate"/);
    const io3 = memoryIO();
    expect(await runCli(['__proto__'], io3)).toBe(2);
  });

  it('every command has --help', async () => {
    for (const [name, cmd] of Object.entries(commands)) {
      const io = memoryIO();
      expect(await runCli([name, '--help'], io)).toBe(0);
      expect(io.out()).toBe(cmd.usage);
      expect(cmd.usage).toMatch(new RegExp(`^usage: talstream ${name}`));
    }
  });
});

describe('dist/cli.mjs as a process', () => {
  let server: Server;
  let origin = '';
  const good = encodeTalAudio({ sampleRate: 24000, answer: 'hi' }, new Int16Array(480));
  beforeAll(async () => {
    await ensureCliBuilt();
    server = createServer((req, res) => {
      if (req.url === '/reply') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // streamed in two writes, the second cutting the last frame short
        res.write(concat([good, good.subarray(0, 100)]));
        setTimeout(() => res.end(good.subarray(100)), 20);
      } else {
        res.writeHead(500);
        res.end('model crashed: out of memory');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address() as { port: number };
    origin = `http://127.0.0.1:${addr.port}`;
  }, 120_000);
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('inspect a file: exit 0, JSON lines', async () => {
    const { stdout } = await run('node', [cliPath, 'inspect', path.join(vectorsDir, 'tal-int32-stereo-48k.bin')]);
    const lines = jsonLines(stdout);
    expect(lines[0]!.header).toMatchObject({ audioType: 'int32', channels: 2, sampleRate: 48000 });
    expect(lines[0]!.durationMs).toBe(20);
    expect(lines.at(-1)!.summary.ok).toBe(true);
  });

  it('inspect a URL streaming a reply', async () => {
    const { stdout } = await run('node', [cliPath, 'inspect', `${origin}/reply`]);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.offset)).toEqual([0, good.length, undefined]);
    expect(lines[0]!.durationMs).toBe(20);
  });

  it('inspect a failing URL: exit 1, status and body on stderr', async () => {
    const err = await run('node', [cliPath, 'inspect', `${origin}/boom`]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toBe(`error: http: HTTP 500 Internal Server Error from ${origin}/boom\nmodel crashed: out of memory\n`);
  });

  it('encode | inspect - through real pipes, and a malformed stream exits 1', async () => {
    const wav = path.join(repoRoot, 'test/fixtures/fake-mic-440hz.wav');
    const { stdout: frames } = await run('node', [cliPath, 'encode', '--wav', wav, '--question', 'hi'], { encoding: 'buffer', maxBuffer: 1 << 26 });
    const child = execFile('node', [cliPath, 'inspect', '-']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stdin!.end(frames);
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const summary = jsonLines(out).at(-1)!.summary;
    expect(summary).toMatchObject({ frames: 150, audioFrames: 150, audioMs: 3000, ok: true });

    const bad = execFile('node', [cliPath, 'inspect', '-']);
    let berr = '';
    bad.stderr!.on('data', (d) => (berr += d));
    bad.stdin!.end(Buffer.from(frames.subarray(0, frames.length - 1)));
    expect(await new Promise((resolve) => bad.on('close', resolve))).toBe(1);
    expect(berr).toMatch(/^error: truncated at byte \d+: /);
  });
});
