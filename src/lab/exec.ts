/** Running the lab's commands: every call is bounded by a timeout and never goes through a shell unless asked. */
import { spawn, type ChildProcess } from 'node:child_process';
import { LabError } from './errors';
import { FAILING_IP_ARGS, takeInjectedFailure } from './fault';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Extra environment variables (added to this process's environment). */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with the started process (so a caller can stop it when it is itself stopped). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /**
   * The run was stopped (SIGINT, SIGTERM): nothing more is started, the command fails at once (code 130). A
   * command already running is left to finish (they are short and bounded): a half-done `ip -batch` is worse.
   */
  readonly signal?: AbortSignal;
}

/** What a command that was never started because the run was stopped gives. */
export const INTERRUPTED: RunResult = { code: 130, stdout: '', stderr: 'interrupted: the run was stopped' };

/**
 * The environment of a Node script the lab starts with `process.execPath`: in the desktop editor that is
 * Electron, which runs a script as plain Node only with ELECTRON_RUN_AS_NODE=1.
 */
export const NODE_SCRIPT_ENV: Readonly<Record<string, string>> = { ELECTRON_RUN_AS_NODE: '1' };

/**
 * Runs `cmd args` with `input` on stdin; after `timeoutMs` the process gets SIGKILL and code 124. A fault test's
 * injected failure (fault.ts) lets the command do its work and then gives a failing `ip`'s result instead.
 */
export async function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (options.signal?.aborted) return INTERRUPTED;
  if (!takeInjectedFailure()) return runOnce(cmd, args, options);
  await runOnce(cmd, args, options);
  return runOnce('ip', FAILING_IP_ARGS, { timeoutMs: 5000 });
}

function runOnce(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export { LabError };

/** Runs and throws a LabError with the command and its stderr when it fails. */
export async function must(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    // The failing line of a batch, when the tool names it (the message is one line: no 'see above').
    const line = options.input ? failedBatchLine(r.stderr, options.input) : undefined;
    const firstInput = line !== undefined ? ` (input line: ${line})` : '';
    throw new LabError(
      `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${oneLine(r.stderr) || oneLine(r.stdout)}${firstInput}`,
    );
  }
  return r;
}

/** A tool's message as one line (an error is printed on one line). */
const oneLine = (text: string): string =>
  text
    .trim()
    .split(/\s*\n\s*/)
    .join('; ');

/** `ip -batch` names the failing line as "Command failed -:12". */
function failedBatchLine(stderr: string, input: string): string | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr) ?? /line (\d+) failed/.exec(stderr);
  return m ? input.split('\n')[Number(m[1]) - 1] : undefined;
}

/** Runs `cmd` inside the namespace `ns` (`ip netns exec`). */
export const inNetns = (
  ns: string,
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> => run('ip', ['netns', 'exec', ns, cmd, ...args], options);

/**
 * Sends `signal` to the process group that `pid` leads (a process the lab started with `detached: true`, and all
 * it started: `timeout` and its tcpdump), or to `pid` alone when it leads none. Signalling only `timeout` can leave
 * its tcpdump running without it (a SIGKILL, or a signal that comes before `timeout` started it).
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}
