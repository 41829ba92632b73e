/** The shape of a CLI command. Commands are listed once, as a table, in `commands/index.ts`. */

/** Where a command writes and where it runs: injected so tests can run commands in-process too. */
export interface CliIO {
  readonly cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** What stdout is: its width when text should fit one, and whether it takes colour. Absent: a plain pipe. */
  readonly terminal?: Terminal;
  /**
   * Aborted when the person stops a {@link Command.stoppable} command: the reason is the signal's name (SIGINT,
   * SIGTERM). The command cleans up what it made and returns {@link exitForStop}'s code; the CLI process then ends
   * by the signal itself (main.ts, `endProcess`).
   */
  readonly signal?: AbortSignal;
}

export interface Terminal {
  readonly columns?: number;
  readonly color: boolean;
}

/**
 * How to print to a stream: a TTY's width and colour; `COLUMNS` gives a width to a pipe; `NO_COLOR` (any
 * non-empty value, no-color.org) turns colour off, `FORCE_COLOR` (non-empty, not 0) on.
 */
export function terminalOf(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): Terminal {
  const envColumns = Number(env.COLUMNS);
  const columns = stream.isTTY && stream.columns ? stream.columns : envColumns > 0 ? envColumns : undefined;
  const forced = !!env.FORCE_COLOR && env.FORCE_COLOR !== '0';
  return { columns, color: !env.NO_COLOR && (forced || !!stream.isTTY) };
}

export interface Command {
  readonly name: string;
  /** One line for `netpath --help`. */
  readonly summary: string;
  /** Usage and options, printed by `netpath <command> --help`. */
  readonly usage: string;
  /**
   * The command makes things outside itself (namespaces, processes, files) that a stop must remove: SIGINT and
   * SIGTERM abort `io.signal` instead of ending the process. Other commands end as the signal ends any process.
   */
  readonly stoppable?: boolean;
  /** Returns the exit code: 0 success, 1 findings (errors in the input), 2 usage or I/O errors. */
  run(args: readonly string[], io: CliIO): Promise<number>;
}

/** A usage or I/O error: printed as one line, exit code 2. */
export class CliError extends Error {}

export { quoted, QUOTED_MAX } from '../core';

/**
 * Exit codes. 130 and 143 (128 + the signal's number, what a shell shows for a process killed by SIGINT or SIGTERM)
 * are what a stopped command returns to `main`; the process does not exit with them but re-raises the signal.
 */
export const EXIT = { ok: 0, findings: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/** The signals a stoppable command is stopped by, and the exit code of each. */
export const STOP_SIGNALS = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/** The exit code of a command stopped through `io.signal` (SIGINT's when the reason is not a signal's name). */
export function exitForStop(signal: AbortSignal | undefined): number {
  const reason: unknown = signal?.reason;
  return reason === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
}
