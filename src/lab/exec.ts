/** Running the lab's commands: every call is bounded by a timeout and never goes through a shell unless asked. */
import { spawn, type ChildProcess } from 'node:child_process';

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
}

/**
 * The environment of a Node script the lab starts with `process.execPath`: in the desktop editor that is
 * Electron, which runs a script as plain Node only with ELECTRON_RUN_AS_NODE=1.
 */
export const NODE_SCRIPT_ENV: Readonly<Record<string, string>> = { ELECTRON_RUN_AS_NODE: '1' };

/** Runs `cmd args` with `input` on stdin; after `timeoutMs` the process gets SIGKILL and code 124. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
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

/** A failed lab command, with the command line and what it printed. */
export class LabError extends Error {}

/** Runs and throws a LabError with the command and its stderr when it fails. */
export async function must(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    const firstInput = options.input ? ` (input line: ${failedBatchLine(r.stderr, options.input) ?? 'see above'})` : '';
    throw new LabError(
      `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}${firstInput}`,
    );
  }
  return r;
}

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
