// The shape of one `talstream` sub-command.
import type { CliIO } from './io';

/** One sub-command of the `talstream` CLI, registered in ./registry.ts. */
export interface CliCommand {
  /** One line for `talstream --help`. */
  summary: string;
  /** Full usage text printed by `talstream <command> --help`. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
}
