/**
 * Fault injection for the kernel tier's fault tests (for developers, not users: docs/kernel-lab.md, "Fault tests").
 *
 * `NETPATH_LAB_FAULT=<stage>:<fail|pause>[@N]`, read here and nowhere else, once per process:
 * - `fail`: the first lab command of that stage does its work and then fails as a failing `ip` does (the real
 *   `ip` exit code and message, from a namespace that does not exist), so the stage leaves what a half-done
 *   `ip -batch` leaves; a process the stage starts (a listener, a capture) is replaced by that failing `ip`.
 * - `pause`: the run stops at the start of that stage, prints `netpath-lab-fault: paused at <stage>` on stderr
 *   and waits (at most PAUSE_MS, or until the run is stopped), so that a test can signal it at a known stage.
 * - `@N`: the N-th time the stage starts (`probes` and `collect` start once per flow); default 1.
 *
 * The stages, in the order a `verify` run meets them: namespaces (created, sysctls), wire (veths, bridges,
 * addresses, routes), rules (iptables-nft-restore, nft), listeners, captures (tcpdump), probes (a flow's
 * clients), collect (reading the captures and conntrack after a flow).
 */
import { LabError } from './errors';

export const LAB_STAGES = ['namespaces', 'wire', 'rules', 'listeners', 'captures', 'probes', 'collect'] as const;
export type LabStage = (typeof LAB_STAGES)[number];

export interface LabFault {
  readonly stage: LabStage;
  readonly action: 'fail' | 'pause';
  /** The stage's N-th start (1-based). */
  readonly occurrence: number;
}

export const FAULT_ENV = 'NETPATH_LAB_FAULT';
/** The line a paused run prints on stderr (followed by the stage). */
export const PAUSE_MARKER = 'netpath-lab-fault: paused at';
/** How long a pause lasts when nothing stops the run: then it goes on as if there had been none. */
const PAUSE_MS = 30_000;
/** A namespace that does not exist: `ip netns exec` into it fails as any `ip` command fails (exit 255, its message). */
export const FAILING_IP_ARGS: readonly string[] = ['netns', 'exec', 'netpath-injected-fault', 'true'];

/** Parses the variable's value; undefined when unset or empty, a LabError when malformed. */
export function parseLabFault(text: string | undefined): LabFault | undefined {
  if (!text) return undefined;
  const m = /^([a-z]+):(fail|pause)(?:@([1-9]\d{0,3}))?$/.exec(text);
  const stage = LAB_STAGES.find((s) => s === m?.[1]);
  if (!m || !stage)
    throw new LabError(
      `${FAULT_ENV} must be <stage>:fail|pause[@N] with a stage of ${LAB_STAGES.join(', ')} (it is '${text.replace(/[^\x20-\x7e]/g, '?')}')`,
    );
  return { stage, action: m[2] as LabFault['action'], occurrence: m[3] ? Number(m[3]) : 1 };
}

let fault: LabFault | undefined | null = null;
const started = new Map<LabStage, number>();
/** Set when the faulted stage has started with `fail`: the next lab command fails. */
let armed = false;

/** The fault of this process (read from the environment once; throws a LabError when malformed). */
export function labFault(): LabFault | undefined {
  if (fault === null) fault = parseLabFault(process.env[FAULT_ENV]);
  return fault;
}

/**
 * A stage starts: counts it and applies the fault when it is this stage's (pause here, or arm the failure of the
 * stage's first command). Returns at once without a fault.
 */
export async function enterStage(stage: LabStage, signal?: AbortSignal): Promise<void> {
  const f = labFault();
  if (!f) return;
  armed = false;
  const n = (started.get(stage) ?? 0) + 1;
  started.set(stage, n);
  if (f.stage !== stage || f.occurrence !== n) return;
  if (f.action === 'fail') {
    armed = true;
    return;
  }
  process.stderr.write(`${PAUSE_MARKER} ${stage}\n`);
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, PAUSE_MS);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Whether the command about to run is the one to fail (true once per armed stage). */
export function takeInjectedFailure(): boolean {
  if (!armed) return false;
  armed = false;
  return true;
}

/** The command line of a process a stage starts: itself, or the failing `ip` when the stage's failure is armed. */
export function commandOrFailure(cmd: string, args: readonly string[]): [string, readonly string[]] {
  return takeInjectedFailure() ? ['ip', FAILING_IP_ARGS] : [cmd, args];
}
