/**
 * The `netpath` command-line tool (bundled to dist/cli.js). A thin face over the core: it parses
 * arguments, reads files through node:fs, and prints. Commands are a table (`commands/index.ts`).
 * Usage and I/O errors print one line and exit 2; no stack traces.
 */
import { escapeControls, escapeOutput } from '../core';
import { CliError, EXIT, quoted, STOP_SIGNALS, terminalOf, type CliIO, type StopSignal } from './command';
import { COMMANDS } from './commands';
import { VERSION } from './version';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `NetPath ${VERSION}: check and explain Kubernetes cluster networking.

Usage: netpath <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     show help (also: netpath <command> --help)
  -v, --version  show the version
`;
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[], terminal: CliIO): Promise<number> {
  // Everything printed may quote the repository: no control character reaches the terminal or a CI log raw (JSON
  // and SARIF keep their exact data, as \uXXXX escapes are JSON's own).
  const io: CliIO = {
    ...terminal,
    out: (t) => terminal.out(escapeOutput(t)),
    err: (t) => terminal.err(escapeOutput(t)),
  };
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(topic ? `${topic.usage}\n` : help());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '-v' || first === '--version') {
    io.out(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.err(
      `netpath: unknown command ${escapeControls(quoted(first))} (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see netpath --help)\n`,
    );
    return EXIT.usage;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.out(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    const message =
      e instanceof CliError
        ? escapeControls(e.message)
        : `internal error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
    io.err(`netpath ${command.name}: ${message}\n`);
    return EXIT.usage;
  }
}

/** How the CLI process ends: with an exit code, or (a stoppable command stopped by a signal) by that signal. */
export interface ProcessOutcome {
  readonly code: number;
  /** The command was stopped by this signal and has cleaned up: the process re-raises it ({@link endProcess}). */
  readonly stoppedBy?: StopSignal;
}

/**
 * Runs the CLI as this process. The process owns SIGINT and SIGTERM, not the library: while a stoppable command
 * (one that makes namespaces, processes or files) runs, each aborts its `io.signal`; the command removes what it
 * made and returns 130 or 143, and the outcome names the signal so that {@link endProcess} can re-raise it. A
 * repeated signal while it cleans up (every wait of the cleanup is bounded) is only acknowledged. Any other command
 * ends at once, as any process does.
 */
export async function runProcess(argv: readonly string[]): Promise<ProcessOutcome> {
  const command = COMMANDS.find((c) => c.name === argv[0]);
  const stoppable = !!command?.stoppable && !argv.includes('-h') && !argv.includes('--help');
  const stop = new AbortController();
  const onSignal = (signal: StopSignal): void => {
    if (!stop.signal.aborted) stop.abort(signal);
    else process.stderr.write(`netpath ${command?.name ?? ''}: ${signal}: still removing what it made\n`);
  };
  const signals: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];
  if (stoppable) for (const s of signals) process.on(s, onSignal);
  // A reader that goes away early (`netpath lint … | head`) closes the pipe. Node ignores SIGPIPE and reports EPIPE as
  // an error on the stream, which unhandled ends the process with a stack trace; instead the output stops there and
  // the command finishes (a stoppable one still removes what it made) with its own exit code.
  const open = { stdout: true, stderr: true };
  const closedBy = (stream: 'stdout' | 'stderr') => (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    open[stream] = false;
  };
  process.stdout.on('error', closedBy('stdout'));
  process.stderr.on('error', closedBy('stderr'));
  try {
    const code = await main(argv, {
      cwd: process.cwd(),
      out: (t) => void (open.stdout && process.stdout.write(t)),
      err: (t) => void (open.stderr && process.stderr.write(t)),
      terminal: terminalOf(process.stdout, process.env),
      ...(stoppable ? { signal: stop.signal } : {}),
    });
    const reason: unknown = stop.signal.reason;
    const stoppedBy = signals.find((s) => s === reason);
    // Only a command that says it was stopped (the signal's code) ends by the signal; one that finished its work
    // before it noticed the stop, or failed, keeps its own code.
    return stoppedBy && code === STOP_SIGNALS[stoppedBy] ? { code, stoppedBy } : { code };
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/**
 * Ends the process as the outcome says. A command stopped by a signal has cleaned up; the process then dies of that
 * signal, as Unix programs do (so a shell stops a script at Ctrl-C and CI reports "killed by SIGTERM", where an exit
 * code of 130 would read as an ordinary failure): its own listener is gone (runProcess removed it), so the signal's
 * default action ends the process once stdout and stderr have been handed to the system. The exit code stays as
 * the answer should the signal not end it (a runtime that kept a handler of its own).
 */
export function endProcess(outcome: ProcessOutcome): void {
  process.exitCode = outcome.code;
  const signal = outcome.stoppedBy;
  if (!signal) return;
  let pending = 2;
  const raise = (): void => {
    if (--pending === 0) process.kill(process.pid, signal);
  };
  // An empty write calls back once everything written before it has been handed over.
  process.stdout.write('', raise);
  process.stderr.write('', raise);
}

// Run when executed as the bundled CLI (not when imported by tests).
if (require.main === module) {
  runProcess(process.argv.slice(2)).then(endProcess, () => {
    process.exitCode = EXIT.usage;
  });
}
