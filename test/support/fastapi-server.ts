// demo/fastapi/app.py under uvicorn, for the tests that talk to a FastAPI server: the unit tests of
// the CLI and decoder against it, and the end-to-end page test in each engine.
// CI installs python3-fastapi and python3-uvicorn (.ci/run): without them the tests FAIL, saying so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = path.join(root, 'demo/fastapi/app.py');

/** The first Python that can import fastapi and uvicorn: $TALSTREAM_PYTHON, python3, /usr/bin/python3. */
function findPython(): { python?: string; tried: string[] } {
  const candidates = [process.env.TALSTREAM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  const tried: string[] = [];
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import fastapi, uvicorn'], { encoding: 'utf8' });
    if (r.status === 0) return { python: c, tried };
    tried.push(`${c}: ${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || `exit ${r.status}`}`);
  }
  return { tried };
}

export interface FastapiServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  close(): Promise<void>;
}

/** Starts app.py on a free port; resolves once it says where it listens. */
export async function startFastapi(): Promise<FastapiServer> {
  const { python, tried } = findPython();
  if (!python) {
    throw new Error(
      `this test needs Python with fastapi and uvicorn (Debian: apt-get install python3-fastapi python3-uvicorn; ` +
        `or set TALSTREAM_PYTHON). Tried: ${tried.join('; ')}`,
    );
  }
  const child: ChildProcess = spawn(python, [app, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const origin = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`app.py did not start in 20 s: ${out}${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /POST (http:\/\/127\.0\.0\.1:\d+)\/ask/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`app.py exited (${code}): ${out}${err}`)));
  });
  return {
    origin,
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
