/**
 * `verify`: builds the lab, sends each flow through the kernel, observes it and compares with `traceFlow` (the
 * comparison itself, without processes, is in `compare.ts`).
 *
 * Observed per try: the listener's answer (who answered, the source address it saw), the client's own source
 * address, and per node namespace the conntrack entry of that try's source port (original vs reply tuple:
 * the DNAT and SNAT the kernel applied). Load-balanced flows are tried until every predicted backend answered, at
 * most as many times as keep a backend's miss by chance below one in ten million (`spreadTries`). The lab is removed
 * on success, failure and a stop; a verifier killed outright leaves listeners that exit by themselves and a state file
 * the next run cleans up.
 *
 * A stop is the caller's AbortSignal: this library installs no process-wide signal handler (it runs embedded in the
 * editor and in test runners, whose SIGTERM must stay theirs); the CLI turns SIGINT/SIGTERM into an abort. A stop
 * starts no further command: the run unwinds from wherever it is (every wait is bounded, clients are killed), then
 * the lab is removed and {@link VerifyInterrupted} is thrown. The lab is never removed while a command of the run
 * may still be adding to it.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { traceFlow, type DataPlane, type Topology, type TraceProto, type TraceResult } from '../core';
import { addressKey, parseAddress } from '../core/net/address';
import {
  addLabProcesses,
  CAPTURE_DIR_PREFIX,
  labDown,
  labUnavailable,
  labUp,
  orphanedLabs,
  setCaptureDir,
  type Lab,
} from './build';
import {
  compareFlow,
  dropCount,
  hasAffinity,
  parseConntrack,
  predictedOutcomes,
  spreadTries,
  type ClientTry,
  type PredictedOutcome,
  type DevicesStatus,
  type FlowReport,
  type VerifyReport,
} from './compare';
import { LabCapture, linksOf, stopAllCaptures, type CapturePoint } from './devices';
import { inNetns, LabError, must, NODE_SCRIPT_ENV, run } from './exec';
import { enterStage, labFault } from './fault';
import { defaultFlows, parseFlowsFile, type FlowSpec } from './flows';
import { loadLabTopology } from './load';
import { unplacedPods } from './names';
import { policyCounters, type LabPolicy } from './policy';
import type { VerifyPolicyVerdict } from '../protocol/verify';
import type { Listener } from '../core/dataplane/types';
import { externalNetns } from '../core/dataplane/compile';

export type { DeviceHop } from './devices';
export {
  formatVerifyText,
  parseConntrack,
  type DevicesStatus,
  type FlowReport,
  type ObservedOutcome,
  type PredictedOutcome,
  type VerifyReport,
} from './compare';

const TRY_TIMEOUT_MS = 700; // Below the 1 s SYN retransmit: a retransmitted SYN re-rolls the backend choice.
const AFFINITY_TRIES = 3;
/** A run's clients (`ip netns exec` execs node, so the PID is the client's): a stopped verifier stops them, also one started after the stop. */
interface Clients {
  readonly live: Set<ChildProcess>;
  stopped: boolean;
}

export interface VerifyOptions {
  readonly cwd?: string;
  /** A flows file (YAML); else `flows`; else the default representative set. */
  readonly flowsFile?: string;
  readonly flows?: readonly FlowSpec[];
  /** Namespace prefix; default `npv-<pid>`. */
  readonly prefix?: string;
  /** Capture per namespace and compare the devices crossed (default true; see docs/kernel-lab.md). */
  readonly devices?: boolean;
  /**
   * Stops the run: the lab is removed, then {@link VerifyInterrupted} is thrown with the abort's reason when it is a
   * string (the CLI aborts with the signal's name, SIGINT or SIGTERM), else `aborted`.
   */
  readonly signal?: AbortSignal;
  /**
   * A folder for the captures (a folder of its own is made inside it and removed with the lab); default the lab's
   * folder under /run/netpath.
   */
  readonly captureDir?: string;
}

export type VerifyProgress = (message: string, done?: number, total?: number) => void;

/** The lab cannot run here (not root, no namespaces, a tool missing) or could not be built: exit code 2. */
export class VerifyUnavailable extends Error {}

/** The run was stopped by the caller's AbortSignal and its lab removed (or the message says why not). */
export class VerifyInterrupted extends Error {
  constructor(
    /** The abort's reason when a string (the CLI's: SIGINT, SIGTERM), else `aborted`. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Context {
  readonly topology: Topology;
  readonly dp: DataPlane;
  readonly lab: Lab;
  /** Interface names by index, per Linux namespace (read once per lab). */
  readonly links?: Map<string, Promise<Map<number, string>>>;
  /** The run's captures, when the devices crossed are compared. */
  readonly capture?: LabCapture;
  readonly clients?: Clients;
  /** The run was stopped: no further command starts. */
  readonly signal?: AbortSignal;
}

/**
 * The trace of a flow that verify compares: with the answer's walk back (a request delivered whose answer is lost is
 * no answer to the client).
 */
const traceRequest = (spec: FlowSpec) => ({
  from: spec.from,
  to: spec.to,
  ...(spec.proto ? { proto: spec.proto } : {}),
  ...(spec.size !== undefined ? { size: spec.size } : {}),
  reply: true,
});

/** How many tries the client may make for a flow whose trace is `result`: see {@link spreadTries}. */
function maxTriesOf(result: TraceResult, outcomes: readonly PredictedOutcome[]): number {
  return hasAffinity(result) ? AFFINITY_TRIES : outcomes.length > 1 ? spreadTries(outcomes) : 1;
}

/** Sends one flow through the lab and compares it with the trace. */
export async function verifyFlow(ctx: Context, spec: FlowSpec): Promise<FlowReport> {
  const t0 = Date.now();
  const base = { from: spec.from, to: spec.to, ...(spec.kind ? { kind: spec.kind } : {}) };
  const fail = (proto: string, differences: string[], predicted: FlowReport['predicted'] = null): FlowReport => ({
    ...base,
    proto,
    agree: false,
    predicted,
    observed: null,
    differences,
    ms: Date.now() - t0,
  });
  const { result, problems } = traceFlow(ctx.topology, traceRequest(spec), ctx.dp);
  const policy = ctx.lab.policy;
  if (!result)
    return {
      ...fail(spec.proto ?? 'tcp', [`the tracer could not trace it: ${problems[0]?.message ?? 'bad input'}`]),
    };
  const proto: TraceProto = result.flow.proto;
  const outcomes = predictedOutcomes(result, ctx.dp, !!policy);
  const predicted = { src: result.flow.src, dst: result.flow.dst, dport: result.flow.dport, outcomes };
  if (proto !== 'tcp' && proto !== 'udp')
    return { ...fail(proto, [`the lab observes TCP and UDP only, not ${proto}`], predicted) };
  if (spec.size !== undefined && proto !== 'udp')
    return {
      ...fail(
        proto,
        [`the lab sends a packet of a given size over UDP only (a TCP connection starts with a small SYN)`],
        predicted,
      ),
    };
  // The namespace that sends: the first hop's, or, when the packet crossed no device (the sender's own OUTPUT dropped
  // it: a node's connection its pod's ingress denies), the namespace the walk started in (a loopback source has no
  // owner), else the one that owns the source address.
  const srcAddress = parseAddress(result.flow.src);
  const startId =
    result.paths[0]?.hops[0]?.netns ??
    result.paths[0]?.origin?.netns ??
    (srcAddress ? ctx.dp.owners.get(addressKey(srcAddress))?.netns : undefined);
  const startNs = startId ? ctx.lab.netnsOf.get(startId) : undefined;
  if (!startNs) {
    const pod = startId?.startsWith('pod:') ? ctx.dp.namespaces.get(startId) : undefined;
    const why =
      pod && unplacedPods(ctx.dp).includes(pod.name)
        ? `pod ${pod.name} has no node (no spec.nodeName: the scheduler has not placed it), so the lab built no namespace for it`
        : `no lab namespace for the source ${startId ?? '(no hop)'}`;
    return { ...fail(proto, [why], predicted) };
  }

  const nodes = [...ctx.dp.namespaces.values()].flatMap((n) => {
    const name = n.kind === 'node' ? ctx.lab.netnsOf.get(n.id) : undefined;
    return name ? [{ id: n.id, name }] : [];
  });
  const family = result.flow.dst.includes(':') ? 'ipv6' : 'ipv4';
  const signal = ctx.signal;
  // A command of the lab that fails is a lab error (exit 2), never an observation: stale conntrack entries or an
  // empty conntrack listing would be compared as if the kernel had done it.
  const inLab = (ns: string, cmd: string, cmdArgs: readonly string[]) =>
    must('ip', ['netns', 'exec', ns, cmd, ...cmdArgs], { timeoutMs: 5000, ...(signal ? { signal } : {}) });
  await enterStage('probes', signal);
  // Each flow starts clean: no conntrack entries and no ClientIP affinity remembered from an earlier flow. (An
  // empty table makes `conntrack -F` print a message, not fail.)
  // With NetworkPolicy chains, their counters start at zero too: after the tries they say which verdicts the kernel reached.
  const iptables = family === 'ipv6' ? 'ip6tables-nft' : 'iptables-nft';
  const reset = `conntrack -F -f ${family} >/dev/null 2>&1; for f in /proc/net/xt_recent/*; do [ -e "$f" ] && echo / > "$f"; done;${policy ? ` ${iptables} -t filter -Z;` : ''} true`;
  await Promise.all(nodes.map((n) => inLab(n.name, 'sh', ['-c', reset])));
  // A sized flow starts with no path MTU remembered by the source from an earlier one (ICMP fragmentation needed
  // lowers it for 10 minutes, and the source would then fragment instead of sending one DF packet).
  if (spec.size !== undefined) await inLab(startNs, 'ip', [family === 'ipv6' ? '-6' : '-4', 'route', 'flush', 'cache']);

  const answers = [...new Set(outcomes.flatMap((o) => (o.answeredBy ? [o.answeredBy] : [])))];
  const undelivered = outcomes.filter((o) => o.disposition !== 'delivered');
  const affinity = hasAffinity(result);
  const maxTries = maxTriesOf(result, outcomes);
  const want = affinity ? { answers: [], failure: false } : { answers, failure: undelivered.length > 0 };
  const args = {
    dst: result.flow.dst,
    port: result.flow.dport ?? 0,
    proto,
    maxTries,
    minTries: affinity ? AFFINITY_TRIES : 1,
    timeoutMs: TRY_TIMEOUT_MS,
    want,
    ...(spec.size !== undefined ? { size: spec.size } : {}),
  };
  const capture = ctx.capture;
  const r = await run(
    'ip',
    ['netns', 'exec', startNs, process.execPath, path.join(ctx.lab.state.dir, 'client.cjs'), JSON.stringify(args)],
    {
      timeoutMs: maxTries * (TRY_TIMEOUT_MS + 300) + 5000,
      env: NODE_SCRIPT_ENV,
      ...(signal ? { signal } : {}),
      onSpawn: (c) => {
        const clients = ctx.clients;
        if (!clients) return;
        if (clients.stopped) c.kill('SIGKILL');
        clients.live.add(c);
        c.on('close', () => clients.live.delete(c));
      },
    },
  );
  // A stopped run reads nothing more (its captures are being stopped).
  if (signal?.aborted) throw new LabError('interrupted: the run was stopped');
  await enterStage('collect', signal);
  // Everything the tries sent is read now, also when the client failed (the next flow starts after it).
  const captured = capture
    ? await capture.collect((p) => {
        const cache = ctx.links ?? new Map<string, Promise<Map<number, string>>>();
        let m = cache.get(p.name);
        if (!m) cache.set(p.name, (m = linksOf(p.name)));
        return m;
      })
    : undefined;
  let tries: ClientTry[];
  try {
    tries = JSON.parse(r.stdout) as ClientTry[];
  } catch {
    // The client did not run (or died): nothing was observed, which is no difference with the tracer.
    throw new LabError(
      `the client in ${startNs} failed (exit ${r.code}): ${r.stderr.trim().split('\n').at(-1) || 'no output'}`,
    );
  }
  const dumps = await Promise.all(
    nodes.map((n) => inLab(n.name, 'conntrack', ['-L', '-f', family]).then((d) => parseConntrack(d.stdout, n.id))),
  );
  const seenPolicy = policy ? await policyVerdicts(nodes, policy, iptables) : undefined;
  const compared = compareFlow(result, outcomes, {
    proto,
    sourceNetns: startId,
    tries,
    conntrack: dumps.flat(),
    ...(captured ? { captured } : {}),
    ...(seenPolicy ? { policy: seenPolicy } : {}),
  });
  return {
    ...base,
    proto,
    predicted,
    ...compared,
    ms: Date.now() - t0,
    ...(seenPolicy ? { policy: seenPolicy } : {}),
  };
}

/** The NetworkPolicy verdicts the kernel reached since the counters were zeroed: every counted rule that moved. */
async function policyVerdicts(
  nodes: readonly { id: string; name: string }[],
  policy: LabPolicy,
  iptables: string,
): Promise<(VerifyPolicyVerdict & { packets: number })[]> {
  const counts = await Promise.all(
    nodes.map((n) =>
      inNetns(n.name, `${iptables}-save`, ['-c', '-t', 'filter'], { timeoutMs: 5000 }).then((r) =>
        policyCounters(r.stdout),
      ),
    ),
  );
  return counts.flatMap((c) =>
    [...c].flatMap(([id, packets]) => {
      const v = policy.verdicts[id];
      return v && packets > 0 ? [{ ...v, packets }] : [];
    }),
  );
}

function stopClients(clients: Clients): void {
  clients.stopped = true;
  for (const c of clients.live) c.kill('SIGKILL');
}

/**
 * Builds the topology of `paths` in namespaces, runs the flows, removes the lab and returns the report.
 * Throws {@link VerifyUnavailable} when it cannot run here, the lab cannot be built or one of its commands fails
 * (the lab removed first), and {@link VerifyInterrupted} when it was stopped.
 */
export async function runVerify(
  paths: readonly string[],
  options: VerifyOptions = {},
  onProgress: VerifyProgress = () => undefined,
): Promise<VerifyReport> {
  const why = await labUnavailable();
  if (why) throw new VerifyUnavailable(why);
  if (options.devices ?? true) {
    const t = await run('tcpdump', ['--version'], { timeoutMs: 5000 });
    if (t.code === 127)
      throw new VerifyUnavailable(
        'tcpdump is missing (install tcpdump), or do not compare the devices crossed (--no-devices)',
      );
  }
  for (const stale of orphanedLabs()) await labDown(stale).catch(() => undefined);
  const cwd = options.cwd ?? process.cwd();
  let loaded;
  let flows: readonly FlowSpec[];
  let captureBase: string | undefined;
  try {
    labFault();
    loaded = await loadLabTopology(paths, cwd);
    flows = options.flowsFile
      ? parseFlowsFile(fs.readFileSync(path.resolve(cwd, options.flowsFile), 'utf8'))
      : (options.flows ?? defaultFlows(loaded.topology));
    if (options.captureDir !== undefined) {
      captureBase = path.resolve(cwd, options.captureDir);
      if (!fs.statSync(captureBase).isDirectory()) throw new Error(`${captureBase} is not a folder`);
    }
  } catch (err) {
    throw new VerifyUnavailable(err instanceof Error ? err.message : String(err));
  }
  const prefix = options.prefix ?? `npv-${process.pid}`;
  const stop = new AbortController();
  const clients: Clients = { live: new Set(), stopped: false };
  const stopRun = (reason: string): void => {
    if (stop.signal.aborted) return;
    onProgress(`${reason}: stopping and removing the lab`);
    stop.abort(reason);
    stopClients(clients);
  };
  const onAbort = (): void => {
    const reason: unknown = options.signal?.reason;
    stopRun(typeof reason === 'string' ? reason : 'aborted');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let capture: LabCapture | undefined;
  let outcome: { report: VerifyReport } | { error: unknown };
  try {
    outcome = {
      report: await runLab(
        loaded,
        flows,
        prefix,
        captureBase,
        options,
        stop.signal,
        clients,
        (c) => (capture = c),
        onProgress,
      ),
    };
  } catch (error) {
    outcome = { error };
  }
  // Nothing of the run is still starting a command now: every client is stopped, then the captures, then the lab.
  const t2 = Date.now();
  stopClients(clients);
  let removal: string | undefined;
  try {
    await (capture?.stop() ?? Promise.resolve()).catch(() => undefined);
    stopAllCaptures();
    await labDown(prefix);
  } catch (err) {
    removal = err instanceof Error ? err.message : String(err);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const removed = removal
    ? `removing lab '${prefix}' failed: ${removal}; run \`netpath lab down --prefix ${prefix}\``
    : `lab '${prefix}' removed`;
  if (stop.signal.aborted) {
    const reason = String(stop.signal.reason);
    throw new VerifyInterrupted(reason, `interrupted by ${reason}; ${removed}`);
  }
  if ('error' in outcome) {
    const e = outcome.error;
    if (e instanceof VerifyUnavailable || !(e instanceof LabError)) throw e;
    throw new VerifyUnavailable(removal ? `${e.message}; ${removed}` : e.message);
  }
  if (removal) throw new VerifyUnavailable(`the flows ran, but ${removed}`);
  const report = outcome.report;
  return { ...report, timings: { ...report.timings, teardownMs: Date.now() - t2 } };
}

/**
 * The ports the flows send to on external clients, as listeners of their namespaces: the tracer takes an external as
 * answering on any port (a server out there), so the lab serves each port a flow is predicted to reach (a pod's
 * request to the outside, masqueraded or not, is then answered and compared like any other).
 */
export function externalListeners(t: Topology, dp: DataPlane, flows: readonly FlowSpec[]): Map<string, Listener[]> {
  const out = new Map<string, Listener[]>();
  for (const f of flows) {
    const request = { from: f.from, to: f.to, ...(f.proto ? { proto: f.proto } : {}) };
    const result = traceFlow(t, request, dp).result;
    const proto = result?.flow.proto;
    if (proto !== 'tcp' && proto !== 'udp') continue;
    for (const p of result?.paths ?? []) {
      const d = p.delivered;
      if (p.disposition !== 'delivered' || d?.kind !== 'external' || d.port === null) continue;
      const id = externalNetns(d.name);
      const list = out.get(id) ?? [];
      const protocol = proto === 'tcp' ? 'TCP' : 'UDP';
      if (!list.some((l) => l.port === d.port && l.protocol === protocol))
        list.push({ pod: id, container: '', port: d.port, protocol });
      out.set(id, list);
    }
  }
  return out;
}

/** The run itself, between the checks and the teardown (which `runVerify` does, whatever happens here). */
async function runLab(
  loaded: Awaited<ReturnType<typeof loadLabTopology>>,
  flows: readonly FlowSpec[],
  prefix: string,
  captureBase: string | undefined,
  options: VerifyOptions,
  signal: AbortSignal,
  clients: Clients,
  onCapture: (capture: LabCapture) => void,
  onProgress: VerifyProgress,
): Promise<VerifyReport> {
  onProgress(`building lab '${prefix}' for ${loaded.topology.name}`);
  let lab: Lab;
  try {
    lab = await labUp(loaded.topology, loaded.dataPlane, loaded.files, {
      prefix,
      owner: process.pid,
      extraListeners: externalListeners(loaded.topology, loaded.dataPlane, flows),
      onProgress: (m) => onProgress(m),
      signal,
    });
  } catch (err) {
    throw new VerifyUnavailable(err instanceof LabError ? err.message : String(err));
  }
  const t1 = Date.now();
  let capture: LabCapture | undefined;
  if (options.devices ?? true) {
    onProgress('starting the captures (tcpdump)');
    await enterStage('captures', signal);
    let dir = lab.state.dir;
    if (captureBase) {
      try {
        dir = fs.mkdtempSync(path.join(captureBase, CAPTURE_DIR_PREFIX));
      } catch (err) {
        throw new LabError(`--capture-dir: ${err instanceof Error ? err.message : String(err)}`);
      }
      setCaptureDir(prefix, dir);
    }
    // One capture per pod, node and external namespace for the whole run; bounded by the longest the flows can take
    // (each may be tried twice, see below).
    const flowSeconds = flows.reduce((sum, f) => {
      const result = traceFlow(loaded.topology, traceRequest(f), loaded.dataPlane).result;
      const tries = result ? maxTriesOf(result, predictedOutcomes(result, loaded.dataPlane)) : 1;
      return sum + 2 * ((tries * (TRY_TIMEOUT_MS + 300)) / 1000 + 10);
    }, 0);
    const points: CapturePoint[] = [...loaded.dataPlane.namespaces.values()].flatMap((n) => {
      const name = lab.netnsOf.get(n.id);
      return name ? [{ id: n.id, name }] : [];
    });
    capture = await LabCapture.start(points, dir, 120 + flowSeconds, signal);
    onCapture(capture);
    addLabProcesses(prefix, capture.processes);
    if (capture.problems.length) throw new LabError(`the captures could not start: ${capture.problems.join('; ')}`);
  }
  const ctx: Context = {
    topology: loaded.topology,
    dp: loaded.dataPlane,
    lab,
    links: new Map(),
    ...(capture ? { capture } : {}),
    clients,
    signal,
  };
  const reports: FlowReport[] = [];
  let retried = 0;
  let drops = 0;
  for (const [i, f] of flows.entries()) {
    if (signal.aborted) throw new LabError('interrupted: the run was stopped');
    onProgress(`flow ${i + 1}/${flows.length}: ${f.from} -> ${f.to}`, i, flows.length);
    let report = await verifyFlow(ctx, f);
    drops += dropCount(report);
    if (report.devices === 'not observed') {
      // The captures lost packets of this flow: observe it once more.
      retried++;
      onProgress(
        `flow ${i + 1}/${flows.length}: devices not observed (${report.devicesNote?.join('; ') ?? ''}), trying it again`,
        i,
        flows.length,
      );
      const again = await verifyFlow(ctx, f);
      drops += dropCount(again);
      report =
        again.devices === 'not observed'
          ? { ...again, devicesNote: [...(report.devicesNote ?? []), ...(again.devicesNote ?? [])] }
          : again;
    }
    reports.push(report);
  }
  const flowsMs = Date.now() - t1;
  const count = (st: DevicesStatus) => reports.filter((r) => r.devices === st).length;
  const unplaced = unplacedPods(loaded.dataPlane);
  return {
    topology: loaded.topology.name,
    prefix,
    agree: reports.every((r) => r.agree),
    flows: reports,
    ...(unplaced.length ? { unplacedPods: unplaced } : {}),
    timings: { setupMs: lab.setupMs, flowsMs, teardownMs: 0 },
    ...(capture
      ? { devices: { compared: count('compared'), notObserved: count('not observed'), drops, retried } }
      : {}),
  };
}
