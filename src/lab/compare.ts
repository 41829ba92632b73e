/**
 * The pure half of `verify`: what the tracer predicts for a flow, what the kernel was seen doing (the client's
 * tries, conntrack's entries, the captures), their comparison, and the report as text. No processes, no root:
 * unit-tested on hand-written observations (test/unit/lab/compare.test.ts).
 */
import type { DataPlane, TracePath, TraceResult } from '../core';
import type {
  VerifyPolicyVerdict as PolicyVerdict,
  VerifyDevicesStatus as DevicesStatus,
  VerifyFlow as FlowReport,
  VerifyObservedOutcome as ObservedOutcome,
  VerifyPredictedOutcome as PredictedOutcome,
  VerifyReportData as VerifyReport,
} from '../protocol/verify';
import { policyVerdictText } from '../protocol/verify';
import { devicesAgree, followRequest, hopText, predictedDevices, type DeviceHop, type FlowCaptures } from './devices';

/** The report's shapes are declared once, with the messages that carry them to the trace view. */
export type {
  VerifyDevicesStatus as DevicesStatus,
  VerifyFlow as FlowReport,
  VerifyObservedOutcome as ObservedOutcome,
  VerifyPredictedOutcome as PredictedOutcome,
  VerifyReportData as VerifyReport,
} from '../protocol/verify';

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

/**
 * The verdicts of a path's policy steps that the lab's policy chains count: the request's, at the nodes, without
 * the pods no policy isolates (no chain) and the replies (conntrack passes them).
 */
export function predictedPolicy(p: TracePath): PolicyVerdict[] {
  // A walk that ended before any device (the node's OUTPUT judged its connection to its pod) has its steps in origin.
  return [...(p.origin ? [p.origin] : []), ...p.hops].flatMap((h) =>
    h.steps.flatMap((st) =>
      st.kind === 'policy' && st.exempt !== 'not-isolated' && st.exempt !== 'reply'
        ? [
            {
              netns: h.netns,
              direction: st.direction,
              pod: st.pod,
              verdict: st.verdict,
              ...(st.policy !== undefined ? { policy: st.policy, ruleIndex: st.ruleIndex ?? -1 } : {}),
              ...(st.exempt ? { exempt: st.exempt } : {}),
            },
          ]
        : [],
    ),
  );
}

/**
 * What the client of each path sees. A path whose request is delivered but whose answer does not get back (traced
 * with `reply: true`) is, to the client, the answer's fate: no answer, for the answer's reason.
 */
export function predictedOutcomes(result: TraceResult, dp: DataPlane, policies = false): PredictedOutcome[] {
  return result.paths.map((p) => {
    const lost = p.disposition === 'delivered' && p.reply && p.reply.disposition !== 'delivered' ? p.reply : undefined;
    const policy = policies ? { policy: predictedPolicy(p) } : {};
    return lost
      ? {
          ...policy,
          probability: p.probability,
          disposition: lost.disposition,
          reason: lost.reason,
          answeredBy: null,
          sourceSeen: null,
          nat: [],
          devices: predictedDevices(p, dp),
        }
      : { ...delivered(p, dp), ...policy };
  });
}

function delivered(p: TracePath, dp: DataPlane): PredictedOutcome {
  return {
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
  };
}

/** Which observed results each undelivered disposition allows (what a client socket reports for it). */
const ACCEPTS: Record<string, readonly string[]> = {
  rejected: ['refused', 'unreachable', 'reset'],
  dropped: ['timeout', 'denied'],
  'no-route': ['unreachable', 'timeout'],
  loop: ['timeout', 'unreachable'],
  exited: ['timeout', 'unreachable'],
};

/**
 * What a client socket reports for an undelivered outcome. A DF packet dropped for its size: the ICMP
 * fragmentation needed the router sends back is EMSGSIZE on the connected socket (`too-big`), or nothing arrives.
 * A neighbour that never answers fails the route's neighbour entry, and the kernel reports EHOSTUNREACH (to a local
 * socket, or as ICMP host unreachable from a router) about 3 s later; a client that gives up sooner sees a timeout.
 */
const accepts = (o: Pick<PredictedOutcome, 'disposition' | 'reason'>): readonly string[] =>
  o.reason === 'frag-needed'
    ? ['too-big', 'timeout']
    : o.reason === 'no-neighbor'
      ? ['timeout', 'unreachable']
      : (ACCEPTS[o.disposition] ?? []);

export interface ConntrackEntry {
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

/**
 * The translations of one try's connection in every node, followed from node to node: a node's entry is the one
 * whose original source is the source that node saw: the client's port, or the address and port an earlier node's
 * SNAT made of them (its reply tuple's destination). A fully random masquerade (kube-proxy's nftables mode) picks a
 * new source port, so the next node's entry does not carry the client's port.
 */
function observedNat(entries: readonly ConntrackEntry[], proto: string, sport: number | undefined): string[] {
  if (sport === undefined) return [];
  const nat: string[] = [];
  // The client's port alone (as before any translation: the client's address is the one its namespace chose).
  const sources = new Set([`* ${sport}`]);
  const seen = new Set<ConntrackEntry>();
  const isSource = (src: string, port: number): boolean => sources.has(`${src} ${port}`) || sources.has(`* ${port}`);
  for (let grew = true; grew;) {
    grew = false;
    for (const e of entries) {
      if (seen.has(e) || e.proto !== proto || !isSource(e.orig.src, e.orig.sport)) continue;
      seen.add(e);
      grew = true;
      if (e.reply.src !== e.orig.dst || e.reply.sport !== e.orig.dport)
        nat.push(`${e.netns} DNAT ${e.reply.src} port ${e.reply.sport}`);
      if (e.reply.dst !== e.orig.src || e.reply.dport !== e.orig.sport) {
        if (e.reply.dst !== e.orig.src) nat.push(`${e.netns} SNAT ${e.reply.dst}`);
        sources.add(`${e.reply.dst} ${e.reply.dport}`);
      }
    }
  }
  return nat.sort();
}

/** One try of the lab's client (client.cjs prints a JSON list of them). */
export interface ClientTry {
  readonly result: string;
  readonly code?: string;
  readonly reply?: { pod: string; container: string; port: number; peer: string };
  readonly local?: string;
  readonly localPort?: number;
  /** UDP: the payload sent. */
  readonly token?: string;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);
const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : 'none');

/**
 * The chance, per flow, that the kernel doing exactly what the tracer predicts still fails the spread check: a
 * predicted backend (or the predicted failure) not seen in any try. The kernel tier makes about 570 such checks (286
 * load-balanced flows in each proxy mode, nearly all two backends at 0.5); at 16 tries each was missed by chance with
 * 2 x 0.5^16 = 3.1e-5: one tier run in about 60 failed with the kernel right. With this budget at most one in 17,000
 * does (two backends at 0.5 take up to 25 tries: one in 29,000). A passing flow costs no more: the client stops once
 * every outcome was seen (two or three tries for two backends).
 */
export const SPREAD_MISS_BUDGET = 1e-7;
/** The fewest tries of a load-balanced flow (what the check always had) and the most, for many unlikely backends. */
export const MIN_SPREAD_TRIES = 16;
export const MAX_SPREAD_TRIES = 256;

/**
 * How many tries a flow with several predicted outcomes may take (the client stops as soon as every one was seen):
 * the fewest, from {@link MIN_SPREAD_TRIES}, for which the chance that independent tries miss some predicted backend,
 * or the predicted failure, is at most {@link SPREAD_MISS_BUDGET} (by the union bound: the sum over the outcomes of
 * (1 - p)^n). Capped at {@link MAX_SPREAD_TRIES}, where a backend predicted below about 6% keeps a larger chance.
 */
export function spreadTries(
  outcomes: readonly Pick<PredictedOutcome, 'answeredBy' | 'disposition' | 'probability'>[],
): number {
  const shares = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.answeredBy ?? (o.disposition !== 'delivered' ? '' : undefined);
    if (key !== undefined) shares.set(key, (shares.get(key) ?? 0) + o.probability);
  }
  const missChance = (n: number): number =>
    [...shares.values()].reduce((sum, p) => sum + Math.pow(1 - Math.min(1, Math.max(0, p)), n), 0);
  let n = MIN_SPREAD_TRIES;
  while (n < MAX_SPREAD_TRIES && missChance(n) > SPREAD_MISS_BUDGET) n++;
  return n;
}

/** ClientIP session affinity: the first connection picks a backend at random, the later ones stay on it. */
export const hasAffinity = (result: TraceResult): boolean =>
  result.paths.some((p) => p.hops.some((h) => h.steps.some((st) => st.kind === 'affinity')));

/** What the lab saw of one flow. */
export interface FlowObservation {
  readonly proto: 'tcp' | 'udp';
  /** The data plane's id of the namespace the client ran in. */
  readonly sourceNetns: string;
  readonly tries: readonly ClientTry[];
  /** Every node namespace's conntrack entries after the tries. */
  readonly conntrack: readonly ConntrackEntry[];
  /** The captures of the run during the tries, when the devices crossed are compared. */
  readonly captured?: FlowCaptures;
  /** The verdicts the lab's NetworkPolicy chains counted during the tries (when the topology has policies). */
  readonly policy?: readonly (PolicyVerdict & { readonly packets: number })[];
}

/** A flow's observation against its prediction: the report's observed part, differences and device status. */
export function compareFlow(
  result: TraceResult,
  outcomes: readonly PredictedOutcome[],
  obs: FlowObservation,
): Pick<FlowReport, 'agree' | 'observed' | 'differences' | 'devices' | 'devicesNote'> {
  const { proto, tries, captured } = obs;
  const entries = obs.conntrack;
  const startId = obs.sourceNetns;
  const answers = [...new Set(outcomes.flatMap((o) => (o.answeredBy ? [o.answeredBy] : [])))];
  const undelivered = outcomes.filter((o) => o.disposition !== 'delivered');
  const affinity = hasAffinity(result);
  const differences = new Set<string>();
  // The UDP ports of the tunnels the trace crosses: captures there hold the request inside an outer packet.
  const tunnelPorts = new Set(
    result.paths.flatMap((p) =>
      [...p.hops, ...(p.reply?.hops ?? [])].flatMap((h) => (h.outer?.udpPort !== undefined ? [h.outer.udpPort] : [])),
    ),
  );
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
            ? ({ proto: 'tcp', sourceNetns: startId, sport: t.localPort } as const)
            : undefined;
      devices = key ? followRequest(captured.captures, key, tunnelPorts) : undefined;
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
    } else if (!undelivered.some((o) => accepts(o).includes(t.result))) {
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
  if (obs.policy) for (const d of policyDifferences(outcomes, obs.policy, tries)) differences.add(d);
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
    agree: differences.size === 0,
    observed: { tries: tries.length, sourceAddress, outcomes: [...observed.values()] },
    differences: [...differences],
    devices: devicesStatus,
    ...(captured?.incomplete.length ? { devicesNote: captured.incomplete } : {}),
  };
}

/**
 * The kernel's NetworkPolicy verdicts against the trace's policy steps. Rule counters are per flow, not per try, so:
 * every verdict the kernel reached must be one some predicted path takes; and each observed outcome (a backend
 * answered, or nothing was delivered) must have a predicted path of that outcome whose verdicts the kernel all
 * reached, at the same node, for the same pod and direction, by the same rule (or exemption), or denied.
 */
export function policyDifferences(
  outcomes: readonly PredictedOutcome[],
  seen: readonly PolicyVerdict[],
  tries: readonly ClientTry[],
): string[] {
  const out: string[] = [];
  const kernel = new Set(seen.map(policyVerdictText));
  const predicted = new Set(outcomes.flatMap((o) => (o.policy ?? []).map(policyVerdictText)));
  for (const k of kernel)
    if (!predicted.has(k)) out.push(`NetworkPolicy: the kernel's ${k}, which the tracer does not predict`);
  const ends = new Set(tries.map((t) => (t.reply ? answerKey(t.reply.pod, t.reply.port) : null)));
  for (const end of ends) {
    const same = outcomes.filter((o) => (end ? o.answeredBy === end : o.disposition !== 'delivered'));
    if (!same.length) continue; // a delivery the tracer does not predict is reported as such
    const missing = same.map((o) => (o.policy ?? []).map(policyVerdictText).filter((k) => !kernel.has(k)));
    if (missing.some((m) => m.length === 0)) continue;
    out.push(
      `NetworkPolicy ${end ? `on the way to ${end}` : 'of the undelivered tries'}: the tracer predicts ${missing[0].join('; ')}, the kernel ${kernel.size ? [...kernel].join('; ') : 'reached no policy verdict'}`,
    );
  }
  return out;
}

/** Packets the kernel dropped for the captures during one flow's observation (from its note). */
export const dropCount = (r: FlowReport): number =>
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
    if (f.policy?.length)
      lines.push(
        `          (NetworkPolicy in the kernel: ${f.policy.map((v) => `${policyVerdictText(v)} x${v.packets}`).join('; ')})`,
      );
    if (f.devices === 'not observed')
      lines.push(`          (devices not observed: ${f.devicesNote?.join('; ') ?? 'the captures lost packets'})`);
  }
  const n = report.flows.filter((f) => f.agree).length;
  const d = report.devices;
  for (const pod of report.unplacedPods ?? [])
    lines.push(`not built: pod ${pod} has no node (no spec.nodeName), so the lab made no namespace for it`);
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
