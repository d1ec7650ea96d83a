// Entry point of the `talstream` bin (dist/cli.mjs). Commands live in ./registry.ts; the logic in
// ./run.ts takes (argv, io) so that tests run it without a process.
import { nodeIO } from './io';
import { runCli } from './run';

/** Runs the CLI on this process's arguments and sets its exit code. */
export default async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv, nodeIO());
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
