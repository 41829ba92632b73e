/**
 * `verify`: builds the lab, sends each flow through the kernel, observes it and compares with `traceFlow`.
 *
 * Observed per try: the listener's answer (who answered, the source address it saw), the client's own source
 * address, and per node namespace the conntrack entry of that try's source port (original vs reply tuple:
 * the DNAT and SNAT the kernel applied). Load-balanced flows are tried until every predicted backend answered
 * (at most MAX_TRIES). The lab is removed on success, failure, SIGINT and SIGTERM; a verifier killed outright
 * leaves listeners that exit by themselves and a state file the next run cleans up.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { traceFlow, type DataPlane, type Topology, type TracePath, type TraceProto, type TraceResult } from '../core';
import { addLabProcesses, labDown, labUnavailable, labUp, orphanedLabs, type Lab } from './build';
import { inNetns, LabError, NODE_SCRIPT_ENV, run } from './exec';
import { defaultFlows, parseFlowsFile, type FlowSpec } from './flows';
import { loadLabTopology } from './load';
import {
  devicesAgree,
  followRequest,
  hopText,
  LabCapture,
  linksOf,
  predictedDevices,
  stopAllCaptures,
  type CapturePoint,
  type DeviceHop,
  type FlowCaptures,
} from './devices';

export type { DeviceHop } from './devices';

const TRY_TIMEOUT_MS = 700; // Below the 1 s SYN retransmit: a retransmitted SYN re-rolls the backend choice.
const MAX_TRIES = 16;
const AFFINITY_TRIES = 3;
/** A run's clients (`ip netns exec` execs node, so the PID is the client's): a stopped verifier stops them, also one started after the stop. */
interface Clients {
  readonly live: Set<ChildProcess>;
  stopped: boolean;
}

export interface PredictedOutcome {
  readonly probability: number;
  readonly disposition: string;
  readonly reason: string | null;
  /** `<pod namespace/name>:<port>` of the socket that answers, or null. */
  readonly answeredBy: string | null;
  readonly sourceSeen: string | null;
  /** `<netns> DNAT <addr> port <n>` / `<netns> SNAT <addr>`, one per namespace and kind, sorted. */
  readonly nat: readonly string[];
  /** The ordered devices crossed in pod and node namespaces (bridge hops the kernel may skip are `optional`). */
  readonly devices: readonly DeviceHop[];
}

export interface ObservedOutcome {
  /** answered, refused, unreachable, denied, reset, timeout, error. */
  readonly result: string;
  readonly code?: string;
  readonly answeredBy: string | null;
  readonly sourceSeen: string | null;
  readonly nat: readonly string[];
  /** The ordered devices the request crossed in pod and node namespaces; null when not captured. */
  readonly devices: readonly DeviceHop[] | null;
  readonly count: number;
}

export interface FlowReport {
  readonly from: string;
  readonly to: string;
  readonly proto: string;
  readonly kind?: string;
  readonly agree: boolean;
  readonly predicted: {
    readonly src: string;
    readonly dst: string;
    readonly dport: number | null;
    readonly outcomes: readonly PredictedOutcome[];
  } | null;
  readonly observed: {
    readonly tries: number;
    readonly sourceAddress: string | null;
    readonly outcomes: readonly ObservedOutcome[];
  } | null;
  readonly differences: readonly string[];
  /**
   * The devices crossed: `compared` (every try whose outcome the trace predicts was followed through the
   * captures), `not observed` (a capture lost packets of the flow, also when it was tried again: neither an
   * agreement nor a difference; why in `devicesNote`), `not applicable` (nothing to compare: the flow failed before
   * its tries, or no try ended as predicted) or `off`.
   */
  readonly devices?: DevicesStatus;
  readonly devicesNote?: readonly string[];
  readonly ms: number;
}

export type DevicesStatus = 'compared' | 'not observed' | 'not applicable' | 'off';

export interface VerifyReport {
  readonly topology: string;
  readonly prefix: string;
  readonly agree: boolean;
  readonly flows: readonly FlowReport[];
  readonly timings: { readonly setupMs: number; readonly flowsMs: number; readonly teardownMs: number };
  /** Device comparison over the run: flows compared and not observed, packets the kernel dropped for the captures, flows tried again. */
  readonly devices?: {
    readonly compared: number;
    readonly notObserved: number;
    readonly drops: number;
    readonly retried: number;
  };
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
  /** Install SIGINT/SIGTERM handlers that remove the lab, then exit (default true; the editor passes false). */
  readonly handleSignals?: boolean;
}

export type VerifyProgress = (message: string, done?: number, total?: number) => void;

/** The lab cannot run here (not root, no namespaces, a tool missing) or could not be built: exit code 2. */
export class VerifyUnavailable extends Error {}

const answerKey = (pod: string, port: number | null): string => `${pod}:${port ?? ''}`;

/** NAT as comparable text: per namespace and kind, the last translation (what conntrack keeps). */
function predictedNat(p: TracePath): string[] {
  const byKey = new Map<string, string>();
  for (const e of p.nat) {
    // A translation to the same address (MASQUERADE of a packet already sent from the egress address) leaves no trace in conntrack.
    if (
      e.type === 'DNAT'
        ? e.before.dst === e.after.dst && e.before.dport === e.after.dport
        : e.before.src === e.after.src
    )
      continue;
    if (e.type === 'DNAT') byKey.set(`${e.netns} DNAT`, `${e.netns} DNAT ${e.after.dst} port ${e.after.dport ?? ''}`);
    else byKey.set(`${e.netns} SNAT`, `${e.netns} SNAT ${e.after.src}`);
  }
  return [...byKey.values()].sort();
}

function predictedOutcomes(result: TraceResult, dp: DataPlane): PredictedOutcome[] {
  return result.paths.map((p) => ({
    probability: p.probability,
    disposition: p.disposition,
    reason: p.reason,
    answeredBy:
      p.disposition === 'delivered' && p.delivered
        ? p.delivered.kind === 'pod'
          ? answerKey(p.delivered.name, p.delivered.port)
          : answerKey(`${p.delivered.kind}:${p.delivered.name}`, p.delivered.port)
        : null,
    sourceSeen: p.sourceSeen,
    nat: predictedNat(p),
    devices: predictedDevices(p, dp),
  }));
}

/** Which observed results each undelivered disposition allows (what a client socket reports for it). */
const ACCEPTS: Record<string, readonly string[]> = {
  rejected: ['refused', 'unreachable', 'reset'],
  dropped: ['timeout', 'denied'],
  'no-route': ['unreachable', 'timeout'],
  loop: ['timeout', 'unreachable'],
  exited: ['timeout', 'unreachable'],
};

interface ConntrackEntry {
  readonly netns: string;
  readonly proto: string;
  readonly orig: { src: string; dst: string; sport: number; dport: number };
  readonly reply: { src: string; dst: string; sport: number; dport: number };
}

/** Parses `conntrack -L` lines: the first src/dst/sport/dport are the original tuple, the second the reply. */
export function parseConntrack(text: string, netns: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const proto = line.trim().split(/\s+/)[0];
    if (proto !== 'tcp' && proto !== 'udp') continue;
    const get = (k: string) => [...line.matchAll(new RegExp(`\\b${k}=(\\S+)`, 'g'))].map((m) => m[1]);
    const [src, dst, sport, dport] = [get('src'), get('dst'), get('sport'), get('dport')];
    if (src.length < 2 || dst.length < 2 || sport.length < 2 || dport.length < 2) continue;
    out.push({
      netns,
      proto,
      orig: { src: src[0], dst: dst[0], sport: Number(sport[0]), dport: Number(dport[0]) },
      reply: { src: src[1], dst: dst[1], sport: Number(sport[1]), dport: Number(dport[1]) },
    });
  }
  return out;
}

function observedNat(entries: readonly ConntrackEntry[], proto: string, sport: number | undefined): string[] {
  if (sport === undefined) return [];
  const nat: string[] = [];
  for (const e of entries) {
    if (e.proto !== proto || e.orig.sport !== sport) continue;
    if (e.reply.src !== e.orig.dst || e.reply.sport !== e.orig.dport)
      nat.push(`${e.netns} DNAT ${e.reply.src} port ${e.reply.sport}`);
    if (e.reply.dst !== e.orig.src) nat.push(`${e.netns} SNAT ${e.reply.dst}`);
  }
  return nat.sort();
}

interface ClientTry {
  readonly result: string;
  readonly code?: string;
  readonly reply?: { pod: string; container: string; port: number; peer: string };
  readonly local?: string;
  readonly localPort?: number;
  /** UDP: the payload sent. */
  readonly token?: string;
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
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);
const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : 'none');

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
  const { result, problems } = traceFlow(
    ctx.topology,
    { from: spec.from, to: spec.to, ...(spec.proto ? { proto: spec.proto } : {}) },
    ctx.dp,
  );
  if (!result)
    return fail(spec.proto ?? 'tcp', [`the tracer could not trace it: ${problems[0]?.message ?? 'bad input'}`]);
  const proto: TraceProto = result.flow.proto;
  const outcomes = predictedOutcomes(result, ctx.dp);
  const predicted = { src: result.flow.src, dst: result.flow.dst, dport: result.flow.dport, outcomes };
  if (proto !== 'tcp' && proto !== 'udp')
    return fail(proto, [`the lab observes TCP and UDP only, not ${proto}`], predicted);
  const startId = result.paths[0]?.hops[0]?.netns;
  const startNs = startId ? ctx.lab.netnsOf.get(startId) : undefined;
  if (!startNs) return fail(proto, [`no lab namespace for the source ${startId ?? '(no hop)'}`], predicted);

  const nodes = [...ctx.dp.namespaces.values()]
    .filter((n) => n.kind === 'node')
    .map((n) => ({ id: n.id, name: ctx.lab.netnsOf.get(n.id)! }));
  const family = result.flow.dst.includes(':') ? 'ipv6' : 'ipv4';
  // Each flow starts clean: no conntrack entries and no ClientIP affinity remembered from an earlier flow.
  const reset = `conntrack -F -f ${family} >/dev/null 2>&1; for f in /proc/net/xt_recent/*; do [ -e "$f" ] && echo / > "$f"; done; true`;
  await Promise.all(nodes.map((n) => inNetns(n.name, 'sh', ['-c', reset], { timeoutMs: 5000 })));

  const answers = [...new Set(outcomes.flatMap((o) => (o.answeredBy ? [o.answeredBy] : [])))];
  const undelivered = outcomes.filter((o) => o.disposition !== 'delivered');
  // ClientIP session affinity: the first connection picks a backend at random, the later ones stay on it.
  const affinity = result.paths.some((p) => p.hops.some((h) => h.steps.some((st) => st.kind === 'affinity')));
  const maxTries = affinity ? AFFINITY_TRIES : outcomes.length > 1 ? MAX_TRIES : 1;
  const want = affinity ? { answers: [], failure: false } : { answers, failure: undelivered.length > 0 };
  const args = {
    dst: result.flow.dst,
    port: result.flow.dport ?? 0,
    proto,
    maxTries,
    minTries: affinity ? AFFINITY_TRIES : 1,
    timeoutMs: TRY_TIMEOUT_MS,
    want,
  };
  const capture = ctx.capture;
  let captured: FlowCaptures | undefined;
  let r: Awaited<ReturnType<typeof run>>;
  try {
    r = await run(
      'ip',
      ['netns', 'exec', startNs, process.execPath, path.join(ctx.lab.state.dir, 'client.cjs'), JSON.stringify(args)],
      {
        timeoutMs: maxTries * (TRY_TIMEOUT_MS + 300) + 5000,
        env: NODE_SCRIPT_ENV,
        onSpawn: (c) => {
          const clients = ctx.clients;
          if (!clients) return;
          if (clients.stopped) c.kill('SIGKILL');
          clients.live.add(c);
          c.on('close', () => clients.live.delete(c));
        },
      },
    );
  } finally {
    // Everything the tries sent is read now, also when the client failed (the next flow starts after it).
    captured = capture
      ? await capture.collect((p) => {
          const cache = ctx.links ?? new Map<string, Promise<Map<number, string>>>();
          let m = cache.get(p.name);
          if (!m) cache.set(p.name, (m = linksOf(p.name)));
          return m;
        })
      : undefined;
  }
  let tries: ClientTry[];
  try {
    tries = JSON.parse(r.stdout) as ClientTry[];
  } catch {
    return fail(proto, [`the client in ${startNs} failed: ${r.stderr.trim() || `exit ${r.code}`}`], predicted);
  }
  const dumps = await Promise.all(
    nodes.map((n) =>
      inNetns(n.name, 'conntrack', ['-L', '-f', family], { timeoutMs: 5000 }).then((d) =>
        parseConntrack(d.stdout, n.id),
      ),
    ),
  );
  const entries = dumps.flat();

  const differences = new Set<string>();
  // Devices: per try compared, or not observed (the captures lost packets of this flow).
  let devicesCompared = 0;
  let devicesMissing = 0;
  const observed = new Map<string, ObservedOutcome>();
  const devicesText = (hops: readonly DeviceHop[]): string => `[${hops.map(hopText).join(', ')}]`;
  for (const t of tries) {
    const answeredBy = t.reply ? answerKey(t.reply.pod, t.reply.port) : null;
    const nat = t.result === 'answered' ? observedNat(entries, proto, t.localPort) : [];
    const sourceSeen = t.reply?.peer ?? null;
    let devices: DeviceHop[] | undefined;
    if (captured) {
      const key =
        proto === 'udp'
          ? t.token
            ? ({ proto, token: t.token } as const)
            : undefined
          : t.localPort !== undefined
            ? ({ proto: 'tcp', sourceNetns: startId!, sport: t.localPort } as const)
            : undefined;
      devices = key ? followRequest(captured.captures, key) : undefined;
      // Not in any capture, and nothing was lost: the request never reached a captured device (it did not leave its namespace).
      if (!devices && !captured.incomplete.length && t.result !== 'answered') devices = [];
    }
    const key = JSON.stringify([t.result, t.code, answeredBy, sourceSeen, nat, devices ?? null]);
    const prev = observed.get(key);
    observed.set(key, {
      result: t.result,
      ...(t.code ? { code: t.code } : {}),
      answeredBy,
      sourceSeen,
      nat,
      devices: devices ?? null,
      count: (prev?.count ?? 0) + 1,
    });
    // The devices crossed, against the paths that end the same way (the same backend, or not delivered).
    const same = outcomes.filter((o) => (answeredBy ? o.answeredBy === answeredBy : o.disposition !== 'delivered'));
    if (captured && same.length) {
      const where = answeredBy ? `to ${answeredBy}` : `of the undelivered try (${t.result})`;
      const agrees = !!devices && same.some((o) => devicesAgree(o.devices, devices, o.disposition === 'loop'));
      // A capture that lost packets of this flow can miss hops: only an agreement counts then.
      if (agrees) devicesCompared++;
      else if (captured.incomplete.length) devicesMissing++;
      else {
        devicesCompared++;
        if (!devices) differences.add(`devices ${where}: the request was not found in the captures`);
        else
          differences.add(
            `devices ${where}: kernel ${devicesText(devices)}, tracer ${same.map((o) => devicesText(o.devices)).join(' | ')}`,
          );
      }
    }
    if (answeredBy) {
      const cands = outcomes.filter((o) => o.answeredBy === answeredBy);
      if (!cands.length) {
        differences.add(
          `delivery: ${answeredBy} answered; the tracer predicts ${outcomes.map((o) => o.answeredBy ?? `${o.disposition}${o.reason ? ` (${o.reason})` : ''}`).join(' or ')}`,
        );
        continue;
      }
      if (!cands.some((c) => c.sourceSeen === sourceSeen))
        differences.add(
          `source seen by ${answeredBy}: kernel ${sourceSeen}, tracer ${list(cands.map((c) => c.sourceSeen ?? 'none'))}`,
        );
      if (!cands.some((c) => sameSet(c.nat, nat)))
        differences.add(
          `NAT on the way to ${answeredBy}: kernel [${list(nat)}], tracer [${cands.map((c) => list(c.nat)).join(' | ')}]`,
        );
    } else if (!undelivered.length) {
      differences.add(
        `delivery: the kernel did not deliver (${t.result}${t.code ? ` ${t.code}` : ''}); the tracer predicts ${list(answers)}`,
      );
    } else if (!undelivered.some((o) => ACCEPTS[o.disposition]?.includes(t.result))) {
      differences.add(
        `outcome: kernel ${t.result}${t.code ? ` (${t.code})` : ''}, tracer ${undelivered.map((o) => `${o.disposition}${o.reason ? ` (${o.reason})` : ''}`).join(' or ')}`,
      );
    }
  }
  const seenAnswers = new Set(tries.flatMap((t) => (t.reply ? [answerKey(t.reply.pod, t.reply.port)] : [])));
  if (affinity && seenAnswers.size > 1)
    differences.add(
      `session affinity: ${[...seenAnswers].join(', ')} answered the same client; the tracer predicts it stays on the first backend`,
    );
  if (!affinity)
    for (const a of answers)
      if (!seenAnswers.has(a))
        differences.add(
          `delivery: ${a} (predicted with probability ${outcomes
            .filter((o) => o.answeredBy === a)
            .reduce((s, o) => s + o.probability, 0)
            .toFixed(2)}) never answered in ${tries.length} tries`,
        );
  if (undelivered.length && tries.length > 1 && tries.every((t) => t.result === 'answered'))
    differences.add(
      `delivery: every try answered; the tracer predicts ${undelivered[0].disposition} with probability ${undelivered.reduce((s, o) => s + o.probability, 0).toFixed(2)}`,
    );
  const sourceAddress = tries.find((t) => t.local)?.local ?? null;
  if (sourceAddress && sourceAddress !== result.flow.src)
    differences.add(`source address: the kernel chose ${sourceAddress}, the tracer ${result.flow.src}`);
  const devicesStatus: DevicesStatus = !captured
    ? 'off'
    : devicesMissing
      ? 'not observed'
      : devicesCompared
        ? 'compared'
        : 'not applicable';
  return {
    ...base,
    proto,
    agree: differences.size === 0,
    predicted,
    observed: { tries: tries.length, sourceAddress, outcomes: [...observed.values()] },
    differences: [...differences],
    devices: devicesStatus,
    ...(captured?.incomplete.length ? { devicesNote: captured.incomplete } : {}),
    ms: Date.now() - t0,
  };
}

function stopClients(clients: Clients): void {
  clients.stopped = true;
  for (const c of clients.live) c.kill('SIGKILL');
}

/**
 * Builds the topology of `paths` in namespaces, runs the flows, removes the lab and returns the report.
 * Throws {@link VerifyUnavailable} when it cannot run here or the lab cannot be built.
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
  try {
    loaded = await loadLabTopology(paths, cwd);
    flows = options.flowsFile
      ? parseFlowsFile(fs.readFileSync(path.resolve(cwd, options.flowsFile), 'utf8'))
      : (options.flows ?? defaultFlows(loaded.topology));
  } catch (err) {
    throw new VerifyUnavailable(err instanceof Error ? err.message : String(err));
  }
  const prefix = options.prefix ?? `npv-${process.pid}`;
  const handle = options.handleSignals ?? true;
  let tearing: Promise<unknown> | undefined;
  const clients: Clients = { live: new Set(), stopped: false };
  let stopCapture = (): Promise<void> => Promise.resolve();
  const teardown = (): Promise<unknown> =>
    (tearing ??=
      (stopClients(clients),
      stopCapture()
        .catch(() => undefined)
        .finally(stopAllCaptures)
        .then(() => labDown(prefix).catch(() => undefined))));
  const onSignal = (signal: NodeJS.Signals): void => {
    onProgress(`${signal}: removing the lab`);
    void teardown().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  if (handle) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    onProgress(`building lab '${prefix}' for ${loaded.topology.name}`);
    let lab: Lab;
    try {
      lab = await labUp(loaded.topology, loaded.dataPlane, loaded.files, {
        prefix,
        owner: process.pid,
        onProgress: (m) => onProgress(m),
      });
    } catch (err) {
      throw new VerifyUnavailable(err instanceof LabError ? err.message : String(err));
    }
    const t1 = Date.now();
    let capture: LabCapture | undefined;
    if (options.devices ?? true) {
      // One capture per pod, node and external namespace for the whole run; bounded by the longest the flows can take.
      const points: CapturePoint[] = [...loaded.dataPlane.namespaces.values()].flatMap((n) => {
        const name = lab.netnsOf.get(n.id);
        return name ? [{ id: n.id, name }] : [];
      });
      capture = await LabCapture.start(
        points,
        lab.state.dir,
        120 + flows.length * 2 * ((MAX_TRIES * (TRY_TIMEOUT_MS + 300)) / 1000 + 10),
      );
      stopCapture = () => capture!.stop();
      addLabProcesses(prefix, capture.processes);
      if (capture.problems.length)
        throw new VerifyUnavailable(`the captures could not start: ${capture.problems.join('; ')}`);
    }
    const ctx: Context = {
      topology: loaded.topology,
      dp: loaded.dataPlane,
      lab,
      links: new Map(),
      ...(capture ? { capture } : {}),
      clients,
    };
    const reports: FlowReport[] = [];
    let retried = 0;
    let drops = 0;
    for (const [i, f] of flows.entries()) {
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
    const t2 = Date.now();
    await teardown();
    const count = (s: DevicesStatus) => reports.filter((r) => r.devices === s).length;
    return {
      topology: loaded.topology.name,
      prefix,
      agree: reports.every((r) => r.agree),
      flows: reports,
      timings: { setupMs: lab.setupMs, flowsMs, teardownMs: Date.now() - t2 },
      ...(capture
        ? { devices: { compared: count('compared'), notObserved: count('not observed'), drops, retried } }
        : {}),
    };
  } finally {
    await teardown();
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** Packets the kernel dropped for the captures during one flow's observation (from its note). */
const dropCount = (r: FlowReport): number =>
  (r.devicesNote ?? []).reduce((n, line) => n + Number(/dropped (\d+) packet/.exec(line)?.[1] ?? 0), 0);

/** The report as text: one line per flow, its differences below it. */
export function formatVerifyText(report: VerifyReport): string {
  const lines: string[] = [];
  for (const f of report.flows) {
    const obs =
      f.observed?.outcomes
        .map(
          (o) =>
            `${o.answeredBy ?? o.result}${o.sourceSeen ? ` saw ${o.sourceSeen}` : ''}${o.count > 1 ? ` x${o.count}` : ''}`,
        )
        .join('; ') ?? 'not observed';
    lines.push(`${f.agree ? 'agree   ' : 'DIFFER  '}${f.from} -> ${f.to} (${f.proto}): ${obs}`);
    for (const d of f.differences) lines.push(`          - ${d}`);
    if (f.devices === 'not observed')
      lines.push(`          (devices not observed: ${f.devicesNote?.join('; ') ?? 'the captures lost packets'})`);
  }
  const n = report.flows.filter((f) => f.agree).length;
  const d = report.devices;
  lines.push(
    '',
    `${n}/${report.flows.length} flows agree with the tracer (topology ${report.topology}; lab ${report.timings.setupMs} ms, flows ${report.timings.flowsMs} ms, teardown ${report.timings.teardownMs} ms)`,
  );
  lines.push(
    d
      ? `devices crossed compared on ${d.compared} flows, not observed on ${d.notObserved} (capture drops ${d.drops}, flows tried again ${d.retried})`
      : 'devices crossed not compared',
  );
  return lines.join('\n') + '\n';
}
