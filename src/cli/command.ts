/** The shape of a CLI command. Commands are listed once, as a table, in `commands/index.ts`. */

/** Where a command writes and where it runs: injected so tests can run commands in-process too. */
export interface CliIO {
  readonly cwd: string;
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  readonly name: string;
  /** One line for `netpath --help`. */
  readonly summary: string;
  /** Usage and options, printed by `netpath <command> --help`. */
  readonly usage: string;
  /** Returns the exit code: 0 success, 1 findings (errors in the input), 2 usage or I/O errors. */
  run(args: readonly string[], io: CliIO): Promise<number>;
}

/** A usage or I/O error: printed as one line, exit code 2. */
export class CliError extends Error {}

export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;
