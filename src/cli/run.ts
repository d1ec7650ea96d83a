// Dispatches `talstream <command> ...` to the command table and turns failures into messages and exit codes.
import { UsageError } from './args';
import type { CliCommand } from './command';
import { formatError } from './format-error';
import type { CliIO } from './io';
import * as registered from './registry';

/** Every registered command by name. */
export const commands: Readonly<Record<string, CliCommand>> = registered;

function mainUsage(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  return `usage: talstream <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`talstream <command> --help\` for a command's options.\n`;
}

/**
 * Runs the CLI with `argv` (the arguments after `talstream`); resolves to the exit code:
 * 0 success, 1 failure (bad input, network, server), 2 usage mistake.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await io.stdout.write(mainUsage());
    return name === undefined ? 2 : 0;
  }
  // Own properties only: `talstream __proto__` must not find Object.prototype.
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    await io.stderr.write(`error: unknown command "${name}"\n\n${mainUsage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    await io.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      await io.stderr.write(`error: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    await io.stderr.write(formatError(e) + '\n');
    return 1;
  }
}
