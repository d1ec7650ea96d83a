// What a CLI command may touch of the outside world, injected so commands run in tests unchanged.
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/** A byte or text sink. `write` may return a promise to apply backpressure; commands await it. */
export interface CliWritable {
  write(data: string | Uint8Array): void | Promise<void>;
  /** True when the sink is an interactive terminal (binary output is then refused). */
  isTTY?: boolean;
}

/** The outside world of a command. */
export interface CliIO {
  /** Standard output (frames, JSON lines). */
  stdout: CliWritable;
  /** Standard error (progress and errors, for people). */
  stderr: CliWritable;
  /** Standard input as byte chunks. */
  stdin: AsyncIterable<Uint8Array>;
  /** HTTP client (global fetch in Node). */
  fetch: typeof fetch;
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Streams a file in chunks. */
  openRead(path: string): AsyncIterable<Uint8Array>;
  /** Writes a whole file. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Milliseconds from an arbitrary origin (for timings such as time to first byte). */
  now(): number;
}

function nodeWritable(stream: NodeJS.WriteStream): CliWritable {
  return {
    isTTY: Boolean(stream.isTTY),
    write(data) {
      // Wait for 'drain' when the pipe is full, so a large binary output does not pile up in memory.
      if (stream.write(data)) return;
      return new Promise<void>((resolve) => stream.once('drain', resolve));
    },
  };
}

/** The real process: stdio, node:fs, global fetch, performance.now. */
export function nodeIO(): CliIO {
  // A closed pipe (`talstream inspect x | head`) is a normal end, not a crash.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  return {
    stdout: nodeWritable(process.stdout),
    stderr: nodeWritable(process.stderr),
    stdin: process.stdin,
    fetch: (...args) => fetch(...args),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    openRead: (p) => createReadStream(p),
    writeFile: (p, d) => writeFile(p, d),
    now: () => performance.now(),
  };
}
