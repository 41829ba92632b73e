/**
 * NetworkPolicy in the lab: the tracer's policy steps, enforced by the kernel. Generated from the same evaluator the
 * tracer uses ({@link PolicyIndex}, the same options), as iptables-based plug-ins (kube-router, Calico's iptables
 * data plane) enforce it, and where the tracer says it is judged (src/core/trace/walk.ts, `policyAt`):
 *
 * - one chain per pod and direction it is isolated for, on the pod's own node only: `NP-E-<hash>` (egress) and
 *   `NP-I-<hash>` (ingress). In order: the pod itself (same-pod), its own node's addresses (with nodeTraffic `allow`),
 *   each rule of each isolating policy (policies by namespace/name, rules by index: the evaluator's order, so the first
 *   rule that matches is the tracer's `allowedBy[0]`), each RETURN; then DROP;
 * - `NETPATH-POLICY-FWD`, the first rule of filter FORWARD (routed packets, and frames bridged between two pods, which
 *   br_netfilter hands to FORWARD inside the node's namespace): replies and related packets of a connection conntrack
 *   has seen allowed pass first; then the egress chain of a source pod of this node, then the ingress chain of a
 *   destination pod of this node. FORWARD comes after PREROUTING's DNAT, so a Service connection is judged against
 *   its backend pod;
 * - `NETPATH-POLICY-IN` (first in INPUT: a pod to its own node, egress) and `NETPATH-POLICY-OUT` (first in OUTPUT, after
 *   the node's own DNAT: the node to its pod, ingress).
 *
 * Every verdict rule carries a comment `np<id> ...`, so the rule counters after a flow tell which verdicts the kernel
 * reached (verify compares them with the trace's policy steps). Both families are in one text; the lab splits it
 * with `rulesForFamily`, like the node's own rules.
 */
import { createHash } from 'node:crypto';
import type { Topology } from '../core';
import { PolicyIndex } from '../core/policy';
import type { NetworkPolicy, Pod, PolicyPort, PolicyRule } from '../core/model/types';
import {
  bitsOf,
  hostPrefix,
  formatValue,
  mask,
  parseAddress,
  parsePrefix,
  type Address,
  type Family,
  type Prefix,
} from '../core/net/address';
import type { PolicyDirection } from '../core/policy/types';
import type { VerifyPolicyVerdict } from '../protocol/verify';

export const POLICY_CHAINS = {
  forward: 'NETPATH-POLICY-FWD',
  input: 'NETPATH-POLICY-IN',
  output: 'NETPATH-POLICY-OUT',
};

export interface LabPolicy {
  /** Per node namespace id (`node:<name>`): the filter table's policy chains, to load with `--noflush`. */
  readonly rules: ReadonlyMap<string, string>;
  /** The verdict each counted rule stands for: `verdicts[id]` for the comment `np<id>`. */
  readonly verdicts: readonly VerifyPolicyVerdict[];
}

/** A CIDR as iptables takes it, host bits cleared. */
const cidrText = (family: Family, value: bigint, length: number): string =>
  `${formatValue(family, value & mask(family, length))}/${length}`;
const hostText = (a: Address): string => cidrText(a.family, a.value, bitsOf(a.family));

/** `outer` without each of `holes`, as the fewest prefixes (each hole splits what contains it, halving down to it). */
export function subtractPrefixes(outer: Prefix, holes: readonly Prefix[]): string[] {
  const bits = bitsOf(outer.family);
  type P = { value: bigint; length: number };
  let parts: P[] = [{ value: outer.address & mask(outer.family, outer.length), length: outer.length }];
  for (const h of holes) {
    if (h.family !== outer.family) continue;
    const hv = h.address & mask(h.family, h.length);
    const next: P[] = [];
    for (const p of parts) {
      const contains = (a: P, v: bigint, len: number) =>
        len >= a.length && (v & mask(outer.family, a.length)) === a.value;
      if (contains({ value: hv, length: h.length }, p.value, p.length)) continue; // the hole covers the part
      if (!contains(p, hv, h.length)) {
        next.push(p); // disjoint
        continue;
      }
      // Halve the part down to the hole, keeping each half that does not hold it.
      let cur = p;
      while (cur.length < h.length) {
        const len = cur.length + 1;
        const low = { value: cur.value, length: len };
        const high = { value: cur.value | (1n << BigInt(bits - len)), length: len };
        const [keep, into] = contains(low, hv, h.length) ? [high, low] : [low, high];
        next.push(keep);
        cur = into;
      }
    }
    parts = next;
  }
  return parts.map((p) => cidrText(outer.family, p.value, p.length));
}

/** iptables' protocol and port match for one port of a rule (`port` resolved to numbers already). */
function portMatch(proto: string, from: number | undefined, to: number | undefined): string {
  const p = `-p ${proto.toLowerCase()}`;
  if (from === undefined) return p;
  return `${p} -m ${proto.toLowerCase()} --dport ${to !== undefined && to !== from ? `${from}:${to}` : from}`;
}

/** The numbers a named port has on a pod (its containers' ports of that name and protocol). */
const namedPort = (pod: Pod, name: string, proto: string): number[] =>
  pod.containers.flatMap((c) =>
    c.ports.filter((cp) => cp.name === name && cp.protocol === proto).map((cp) => cp.containerPort),
  );

/** Names a chain (iptables allows 28 characters): a prefix and a hash of what it is for. */
const chainName = (kind: 'E' | 'I', pod: string): string =>
  `NP-${kind}-${createHash('sha256').update(pod).digest('hex').slice(0, 16).toUpperCase()}`;

/** Text safe in an iptables comment (names come from the user's files). */
const safe = (s: string): string => s.replace(/[^ A-Za-z0-9._/:[\]-]/g, '_').slice(0, 160);

/** The lab's NetworkPolicy chains for every node, or undefined when the topology has no NetworkPolicy. */
export function labPolicy(topology: Topology): LabPolicy | undefined {
  if (!topology.networkPolicies.length) return undefined;
  const index = new PolicyIndex(topology);
  const verdicts: VerifyPolicyVerdict[] = [];
  const counted = (v: VerifyPolicyVerdict): string => {
    verdicts.push(v);
    const what =
      v.verdict === 'denied'
        ? 'denied'
        : v.exempt
          ? `allowed ${v.exempt}`
          : `allowed by ${v.policy ?? ''} ${v.direction}[${v.ruleIndex ?? ''}]`;
    return `-m comment --comment "np${verdicts.length - 1} ${safe(`${v.direction} ${v.pod} ${what}`)}"`;
  };
  // Every pod address (hostNetwork pods' are their node's), parsed once.
  const podAddresses = topology.pods
    .filter((p) => !p.hostNetwork)
    .flatMap((p) =>
      p.ips.flatMap((ip) => {
        const address = parseAddress(ip);
        return address ? [{ pod: p, address }] : [];
      }),
    );
  const rules = new Map<string, string>();
  for (const node of topology.nodes) {
    const nodeId = `node:${node.name}`;
    const local = topology.pods.filter((p) => p.node === node.name && !p.hostNetwork);
    const chains: string[] = [];
    const lines: string[] = [];
    const egressJumps: string[] = [];
    const ingressJumps: string[] = [];
    for (const pod of local) {
      const own = pod.ips.flatMap((ip) => parseAddress(ip) ?? []);
      for (const direction of ['egress', 'ingress'] as const) {
        const isolating = index.isolating(pod, direction);
        if (!isolating.length || !own.length) continue;
        const chain = chainName(direction === 'egress' ? 'E' : 'I', pod.id);
        chains.push(chain);
        const peer = direction === 'egress' ? '-d' : '-s';
        const base = { netns: nodeId, direction, pod: pod.id } as const;
        const add = (match: string, v: VerifyPolicyVerdict, target = 'RETURN'): void => {
          lines.push(`-A ${chain}${match ? ` ${match}` : ''} ${counted(v)} -j ${target}`);
        };
        for (const a of own) add(`${peer} ${hostText(a)}`, { ...base, verdict: 'allowed', exempt: 'same-pod' });
        if (index.options.nodeTraffic === 'allow')
          for (const ip of index.nodeAddresses(node.name)) {
            const a = parseAddress(ip);
            if (a) add(`${peer} ${hostText(a)}`, { ...base, verdict: 'allowed', exempt: 'own-node' });
          }
        for (const policy of isolating)
          for (const rule of direction === 'egress' ? policy.egress : policy.ingress)
            for (const m of ruleMatches(index, policy, rule, pod, direction, podAddresses))
              add(m, { ...base, verdict: 'allowed', policy: policy.id, ruleIndex: rule.index });
        add('', { ...base, verdict: 'denied' }, 'DROP');
        for (const a of own) {
          const jump = `${direction === 'egress' ? '-s' : '-d'} ${hostText(a)} -j ${chain}`;
          (direction === 'egress' ? egressJumps : ingressJumps).push(jump);
        }
      }
    }
    // FORWARD: every egress jump before every ingress jump (the tracer judges egress first).
    const text = [
      '*filter',
      ...Object.values(POLICY_CHAINS).map((c) => `:${c} - [0:0]`),
      ...chains.map((c) => `:${c} - [0:0]`),
      `-I FORWARD 1 -j ${POLICY_CHAINS.forward}`,
      `-I INPUT 1 -j ${POLICY_CHAINS.input}`,
      `-I OUTPUT 1 -j ${POLICY_CHAINS.output}`,
      ...Object.values(POLICY_CHAINS).map((c) => `-A ${c} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`),
      ...egressJumps.map((j) => `-A ${POLICY_CHAINS.forward} ${j}`),
      ...ingressJumps.map((j) => `-A ${POLICY_CHAINS.forward} ${j}`),
      ...egressJumps.map((j) => `-A ${POLICY_CHAINS.input} ${j}`),
      ...ingressJumps.map((j) => `-A ${POLICY_CHAINS.output} ${j}`),
      ...lines,
      'COMMIT',
      '',
    ];
    rules.set(nodeId, text.join('\n'));
  }
  return { rules, verdicts };
}

/**
 * The iptables matches (peer address and port) under which `rule` allows a connection of `pod` in `direction`,
 * each one line: what {@link PolicyIndex.ruleMatches} holds, spelled out over the cluster's addresses.
 */
function ruleMatches(
  index: PolicyIndex,
  policy: NetworkPolicy,
  rule: PolicyRule,
  pod: Pod,
  direction: PolicyDirection,
  podAddresses: readonly { pod: Pod; address: Address }[],
): string[] {
  const flag = direction === 'egress' ? '-d' : '-s';
  // The peers as address matches ('' for every address).
  const peers: string[] = [];
  if (!rule.peers.length) peers.push('');
  for (const peer of rule.peers) {
    if (peer.ipBlock) {
      const cidr = parsePrefix(peer.ipBlock.cidr);
      if (!cidr) continue;
      const holes = [
        ...peer.ipBlock.except.flatMap((e) => parsePrefix(e) ?? []),
        // ipBlockPodIPs `ignore`: pods are judged by selectors only.
        ...(index.options.ipBlockPodIPs === 'ignore' ? podAddresses.map((x) => hostPrefix(x.address)) : []),
      ];
      for (const c of subtractPrefixes(cidr, holes)) peers.push(`${flag} ${c}`);
    } else
      for (const x of podAddresses)
        if (index.peerMatches(policy.namespace, peer, index.endpoint(formatValue(x.address.family, x.address.value))))
          peers.push(`${flag} ${hostText(x.address)}`);
  }
  const unique = [...new Set(peers)];
  if (!rule.ports.length) return unique;
  const out: string[] = [];
  const numbered = (p: PolicyPort): [number | undefined, number | undefined] | undefined =>
    p.port === undefined ? [undefined, undefined] : typeof p.port === 'number' ? [p.port, p.endPort] : undefined;
  for (const p of rule.ports) {
    const n = numbered(p);
    if (n) {
      for (const peer of unique) out.push(`${peer ? `${peer} ` : ''}${portMatch(p.protocol, n[0], n[1])}`);
      continue;
    }
    const name = p.port as string;
    if (direction === 'ingress') {
      // A named port is the destination pod's: here, the pod itself.
      for (const number of namedPort(pod, name, p.protocol))
        for (const peer of unique) out.push(`${peer ? `${peer} ` : ''}${portMatch(p.protocol, number, undefined)}`);
      continue;
    }
    // Egress: the name is looked up on each destination pod the rule's peers match.
    for (const x of podAddresses) {
      const ip = formatValue(x.address.family, x.address.value);
      const other = index.endpoint(ip);
      if (rule.peers.length && !rule.peers.some((peer) => index.peerMatches(policy.namespace, peer, other))) continue;
      for (const number of namedPort(x.pod, name, p.protocol))
        out.push(`-d ${hostText(x.address)} ${portMatch(p.protocol, number, undefined)}`);
    }
  }
  return [...new Set(out)];
}

/** Reads the counted policy rules' packets from `iptables-save -c` text: verdict id -> packets. */
export function policyCounters(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^\[(\d+):\d+\] -A \S+ .*--comment "?np(\d+) /.exec(line);
    if (!m) continue;
    const id = Number(m[2]);
    out.set(id, (out.get(id) ?? 0) + Number(m[1]));
  }
  return out;
}
