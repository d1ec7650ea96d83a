// `npm start` (demo/start.mjs): builds if needed, serves the demo and /ask on PORT, stops on SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/protocol/frame-codec';
import { FrameDecoder } from '../../src/protocol/frame-decoder';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('npm start', () => {
  it('serves the demo and the reference endpoint on PORT, prints the URL, and stops on SIGTERM', async () => {
    // PORT=0: any free port, read back from the printed URL.
    const child = spawn(process.execPath, [path.join(root, 'demo/start.mjs')], {
      cwd: root,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const origin = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed in 100 s:\n${out}`)), 100_000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /talstream reference server: (http:\/\/127\.0\.0\.1:\d+)\/ {2}\(demo\) {2}POST http:\/\/127\.0\.0\.1:\d+\/ask\n/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        void exited.then((code) => reject(new Error(`start.mjs exited (${code}):\n${out}`)));
      });
      const page = await fetch(`${origin}/`);
      expect(page.status).toBe(200);
      expect(page.url).toBe(`${origin}/demo/`);
      expect(await page.text()).toContain('<title>talstream demo</title>');
      expect((await fetch(`${origin}/dist/talstream.iife.js`)).status).toBe(200);
      const ask = await fetch(`${origin}/ask?pace=burst`, { method: 'POST', body: encodeFrame({ question: 'hello', sign: 3 }) as BodyInit });
      expect(ask.status).toBe(200);
      expect(ask.headers.get('content-type')).toBe('application/octet-stream');
      // The reference answer to a typed question: its text and a 1.5 s tone at 24 kHz.
      const frames = new FrameDecoder().push(new Uint8Array(await ask.arrayBuffer()));
      expect(frames.map((f) => f.header.answer).join('')).toBe('You asked: hello. This is the talstream reference server; here is a 440 hertz tone.');
      expect(frames.every((f) => f.header.sampleRate === 24000 && f.header.audioType === 'int16')).toBe(true);
      expect(frames.reduce((n, f) => n + f.payload.length / 2, 0)).toBe(36000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`${origin}/demo/`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
