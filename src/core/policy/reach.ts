/**
 * The reachability matrix: which pods may open a connection to which, per port and protocol, under the
 * cluster's NetworkPolicies. Computed over equivalence classes of pods, not pairs: two pods that agree on
 * everything a policy can look at (namespace, the label keys some selector reads, the port names some policy
 * names, which ipBlocks hold their IP) are judged alike by every rule, so one representative answers for the
 * class. A cell is the verdict between two distinct pods of the two classes; a pod to itself is always allowed.
 *
 * Per queried port the work is: one bit set of allowed sources per destination class (the union of its
 * ingress rules' peer sets) and one of allowed destinations per source class (egress), then a bit test per
 * class pair. Peer sets are computed once per distinct peer. hostNetwork pods are not in the matrix: policies
 * do not select them and their traffic is their node's (trace them instead).
 */
import type { NetworkPolicy, Pod, PolicyPeer, PolicyRule, Protocol, Topology } from '../model/types';
import { parseAddress } from '../net/address';
import { PolicyIndex } from './evaluate';
import { selectorKeys, type Labels } from './selector';
import type { PolicyOptions, PolicyVerdict } from './types';

export interface ReachPort {
  readonly protocol: Protocol;
  readonly port: number;
}

/** Pods judged alike by every policy. */
export interface ReachGroup {
  readonly index: number;
  readonly namespace: string;
  /** The labels that some selector reads (the rest do not matter to any policy), as `k=v` in key order. */
  readonly labels: readonly string[];
  /** Member pods (`namespace/name`), sorted. */
  readonly pods: readonly string[];
  /** Policies that isolate the group for ingress / egress. */
  readonly ingressPolicies: readonly string[];
  readonly egressPolicies: readonly string[];
}

export interface ReachCell {
  readonly from: number;
  readonly to: number;
  /** Index into {@link ReachMatrix.ports}. */
  readonly port: number;
  readonly allowed: boolean;
  /** Egress allowed at the source; ingress allowed at the destination. */
  readonly egress: boolean;
  readonly ingress: boolean;
}

export interface ReachMatrix {
  readonly ports: readonly ReachPort[];
  readonly groups: readonly ReachGroup[];
  /** Group indexes of the rows (sources) and columns (destinations) after the filters. */
  readonly sources: readonly number[];
  readonly destinations: readonly number[];
  /** One cell per source group, destination group and port, in that order (ports innermost). */
  readonly cells: readonly ReachCell[];
  /** Pods left out, with why (hostNetwork pods, pods without an IP). */
  readonly omitted: readonly { readonly pod: string; readonly why: 'host-network' | 'no-ip' }[];
}

/** Which pods a side of the matrix shows. */
export type PodFilter = (pod: Pod) => boolean;

export interface ReachQuery {
  /** Ports to judge; by default every port a destination pod declares (containers[].ports). */
  readonly ports?: readonly ReachPort[];
  readonly from?: PodFilter;
  readonly to?: PodFilter;
  readonly options?: Partial<PolicyOptions>;
  /** false: compute no cells up front (for callers that ask {@link Reachability.sourcesOf} only). */
  readonly cells?: boolean;
  /**
   * The address family to judge (a dual-stack pod has one IP of each, and an ipBlock holds addresses of one
   * family only, so the families' matrices can differ). By default each pod's first IP, whatever its family.
   */
  readonly family?: 4 | 6;
}

/** The pod's address the matrix judges: its first IP of the family (its first IP when no family is asked). */
export function reachIP(pod: Pod, family: 4 | 6 | undefined): string | undefined {
  if (family === undefined) return pod.ips[0];
  return pod.ips.find((ip) => parseAddress(ip)?.family === family);
}

/** The address families the (non-hostNetwork) pods have, in order 4, 6. */
export function podFamilies(pods: readonly Pod[]): (4 | 6)[] {
  const seen = new Set<number>();
  for (const p of pods) {
    if (p.hostNetwork) continue;
    for (const ip of p.ips) {
      const f = parseAddress(ip)?.family;
      if (f) seen.add(f);
    }
    if (seen.size === 2) break;
  }
  return ([4, 6] as const).filter((f) => seen.has(f));
}

class Bits {
  readonly words: Uint32Array;
  constructor(readonly size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
  }
  static all(size: number): Bits {
    const b = new Bits(size);
    b.words.fill(0xffffffff);
    return b;
  }
  set(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31);
  }
  has(i: number): boolean {
    return (this.words[i >>> 5] & (1 << (i & 31))) !== 0;
  }
  or(other: Bits): void {
    for (let i = 0; i < this.words.length; i++) this.words[i] |= other.words[i];
  }
}

interface Group {
  readonly key: string;
  readonly rep: Pod;
  /** The representative's address of the matrix's family. */
  readonly ip: string;
  readonly members: Pod[];
}

/** Everything a policy can look at, gathered once. */
function relevance(policies: readonly NetworkPolicy[]): {
  podKeys: string[];
  portNames: string[];
  blocks: PolicyPeer[];
} {
  const podKeys = new Set<string>();
  const portNames = new Set<string>();
  const blocks = new Map<string, PolicyPeer>();
  for (const p of policies) {
    for (const k of selectorKeys(p.podSelector)) podKeys.add(k);
    for (const r of [...p.ingress, ...p.egress]) {
      for (const peer of r.peers) {
        if (peer.podSelector) for (const k of selectorKeys(peer.podSelector)) podKeys.add(k);
        if (peer.ipBlock) blocks.set(`${peer.ipBlock.cidr}|${peer.ipBlock.except.join(',')}`, peer);
      }
      for (const port of r.ports) if (typeof port.port === 'string') portNames.add(port.port);
    }
  }
  return { podKeys: [...podKeys].sort(), portNames: [...portNames].sort(), blocks: [...blocks.values()] };
}

/** Groups pods into equivalence classes (see the module comment). */
function groupPods(
  pods: readonly Pod[],
  index: PolicyIndex,
  policies: readonly NetworkPolicy[],
  family: 4 | 6 | undefined,
): { groups: Group[]; omitted: ReachMatrix['omitted']; podKeys: string[] } {
  const { podKeys, portNames, blocks } = relevance(policies);
  const matchBlocks = index.options.ipBlockPodIPs === 'match';
  const byKey = new Map<string, Group>();
  const omitted: { pod: string; why: 'host-network' | 'no-ip' }[] = [];
  for (const pod of pods) {
    if (pod.hostNetwork) {
      omitted.push({ pod: pod.id, why: 'host-network' });
      continue;
    }
    const ip = reachIP(pod, family);
    const ep = index.endpoint(ip ?? '');
    if (!ip || !ep.address || ep.pod !== pod) {
      omitted.push({ pod: pod.id, why: 'no-ip' });
      continue;
    }
    const labels = podKeys.map((k) =>
      Object.prototype.hasOwnProperty.call(pod.labels, k) ? `=${pod.labels[k]}` : '-',
    );
    const ports = portNames.map((n) =>
      pod.containers
        .flatMap((c) => c.ports.filter((p) => p.name === n).map((p) => `${p.protocol}/${p.containerPort}`))
        .sort()
        .join(','),
    );
    const address = ep.address;
    const inBlocks =
      matchBlocks && blocks.length
        ? blocks.map((b) => (b.ipBlock && index.blockContains(b.ipBlock, address) ? '1' : '0')).join('')
        : '';
    const key = `${pod.namespace}\u0000${labels.join('\u0001')}\u0000${ports.join('\u0001')}\u0000${inBlocks}`;
    const g = byKey.get(key);
    if (g) g.members.push(pod);
    else byKey.set(key, { key, rep: pod, ip, members: [pod] });
  }
  const groups = [...byKey.values()].sort(
    (a, b) =>
      a.rep.namespace.localeCompare(b.rep.namespace) || a.key.localeCompare(b.key) || a.rep.id.localeCompare(b.rep.id),
  );
  for (const g of groups) g.members.sort((a, b) => a.id.localeCompare(b.id));
  return { groups, omitted, podKeys };
}

/** The ports the destinations declare, sorted by protocol then number. */
export function declaredPorts(pods: readonly Pod[]): ReachPort[] {
  const seen = new Map<string, ReachPort>();
  for (const p of pods)
    for (const c of p.containers)
      for (const cp of c.ports)
        seen.set(`${cp.protocol}/${cp.containerPort}`, { protocol: cp.protocol, port: cp.containerPort });
  return [...seen.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

/** The whole computation, kept so cells can be explained afterwards. */
export class Reachability {
  readonly index: PolicyIndex;
  readonly matrix: ReachMatrix;
  private readonly groups: Group[];
  private readonly bitsByPort = new Map<string, { readonly ingress: Bits[]; readonly egress: Bits[] }>();
  private readonly portBits: (port: ReachPort) => { readonly ingress: Bits[]; readonly egress: Bits[] };

  constructor(topology: Topology, query: ReachQuery = {}) {
    this.index = new PolicyIndex(topology, query.options);
    const index = this.index;
    this.family = query.family;
    const { groups, omitted, podKeys } = groupPods(topology.pods, index, topology.networkPolicies, query.family);
    this.groups = groups;
    const n = groups.length;
    const from = query.from ?? (() => true);
    const to = query.to ?? (() => true);
    const sources = groups.flatMap((g, i) => (g.members.some(from) ? [i] : []));
    const destinations = groups.flatMap((g, i) => (g.members.some(to) ? [i] : []));
    const ports = query.ports ?? declaredPorts(destinations.flatMap((i) => groups[i].members.filter(to)));
    const ingressPols = groups.map((g) => index.isolating(g.rep, 'ingress'));
    const egressPols = groups.map((g) => index.isolating(g.rep, 'egress'));

    // One bit set of matching groups per distinct peer (by policy namespace and content). Only an ipBlock peer is
    // the same in every namespace: a peer without selectors means the policy's own namespace, like `podSelector: {}`.
    const peerCache = new Map<string, Bits>();
    const endpoints = groups.map((g) => index.endpoint(g.ip));
    const peerBits = (ns: string, peer: PolicyPeer): Bits => {
      const key = `${peer.ipBlock ? '' : ns}\u0000${JSON.stringify([
        peer.podSelector && [peer.podSelector.matchLabels, peer.podSelector.matchExpressions, peer.podSelector.invalid],
        peer.namespaceSelector && [
          peer.namespaceSelector.matchLabels,
          peer.namespaceSelector.matchExpressions,
          peer.namespaceSelector.invalid,
        ],
        peer.ipBlock && [peer.ipBlock.cidr, peer.ipBlock.except],
      ])}`;
      let bits = peerCache.get(key);
      if (!bits) {
        bits = new Bits(n);
        for (let i = 0; i < n; i++) if (index.peerMatches(ns, peer, endpoints[i])) bits.set(i);
        peerCache.set(key, bits);
      }
      return bits;
    };
    const ruleCache = new Map<PolicyRule, Bits>();
    const ruleBits = (p: NetworkPolicy, r: PolicyRule): Bits => {
      let bits = ruleCache.get(r);
      if (!bits) {
        if (!r.peers.length) bits = Bits.all(n);
        else {
          bits = new Bits(n);
          for (const peer of r.peers) bits.or(peerBits(p.namespace, peer));
        }
        ruleCache.set(r, bits);
      }
      return bits;
    };

    const cells: ReachCell[] = [];
    this.portBits = ({ protocol, port }) => {
      const ingress = groups.map((g, d) => {
        if (!ingressPols[d].length) return Bits.all(n);
        const bits = new Bits(n);
        for (const p of ingressPols[d])
          for (const r of p.ingress) if (index.portMatches(r.ports, protocol, port, g.rep)) bits.or(ruleBits(p, r));
        return bits;
      });
      const egress = groups.map((_, s) => {
        if (!egressPols[s].length) return Bits.all(n);
        const bits = new Bits(n);
        for (const p of egressPols[s])
          for (const r of p.egress) {
            if (index.portMatches(r.ports, protocol, port, undefined)) {
              bits.or(ruleBits(p, r));
              continue;
            }
            if (!r.ports.some((x) => typeof x.port === 'string')) continue;
            // A named port is resolved on each destination group's representative.
            const peers = ruleBits(p, r);
            for (let d = 0; d < n; d++)
              if (peers.has(d) && index.portMatches(r.ports, protocol, port, groups[d].rep)) bits.set(d);
          }
        return bits;
      });
      return { ingress, egress };
    };
    const perPort = query.cells === false ? [] : ports.map((p) => this.bitsOf(p));
    for (const s of sources)
      for (const d of destinations)
        perPort.forEach(({ ingress, egress }, k) => {
          const e = egress[s].has(d);
          const i = ingress[d].has(s);
          cells.push({ from: s, to: d, port: k, allowed: e && i, egress: e, ingress: i });
        });
    this.matrix = {
      ports,
      groups: groups.map((g, i) => ({
        index: i,
        namespace: g.rep.namespace,
        labels: labelsShown(g.rep.labels, podKeys),
        pods: g.members.map((m) => m.id),
        ingressPolicies: ingressPols[i].map((p) => p.id),
        egressPolicies: egressPols[i].map((p) => p.id),
      })),
      sources,
      destinations,
      cells,
      omitted,
    };
  }

  private bitsOf(port: ReachPort): { readonly ingress: Bits[]; readonly egress: Bits[] } {
    const key = `${port.protocol}/${port.port}`;
    let bits = this.bitsByPort.get(key);
    if (!bits) this.bitsByPort.set(key, (bits = this.portBits(port)));
    return bits;
  }

  /** The group index of a pod (`namespace/name`), or undefined when it is not in the matrix. */
  groupOfPod(pod: string): number | undefined {
    this.groupOf ??= new Map(this.groups.flatMap((g, i) => g.members.map((m) => [m.id, i] as const)));
    return this.groupOf.get(pod);
  }

  /** The groups whose pods may connect to a pod of group `to` on the port (a pod of its own group included). */
  sourcesOf(to: number, port: ReachPort): number[] {
    const { ingress, egress } = this.bitsOf(port);
    const out: number[] = [];
    for (let s = 0; s < this.groups.length; s++) if (ingress[to].has(s) && egress[s].has(to)) out.push(s);
    return out;
  }

  /** The evaluator's full verdict for a cell: the deciding policies and the rules (with spans) that allowed it. */
  explain(from: number, to: number, port: number): PolicyVerdict | undefined {
    const s = this.groups[from];
    const d = this.groups[to];
    const p = this.matrix.ports[port];
    if (!s || !d || !p) return undefined;
    // Two distinct pods when the group has them, so the answer is the cell's, not "a pod reaches itself".
    const pair = this.pairOf(from, to);
    if (!pair) return undefined;
    return this.index.evaluate({ src: pair.sourceIP, dst: pair.destinationIP, proto: p.protocol, port: p.port });
  }

  /**
   * The two pods a cell judges, with the addresses of the matrix's family: the source class's representative
   * and a distinct pod of the destination class when it has one (a cell is between two pods, not a pod and itself).
   */
  pairOf(
    from: number,
    to: number,
  ): { source: Pod; destination: Pod; sourceIP: string; destinationIP: string } | undefined {
    const s = this.groups[from];
    const d = this.groups[to];
    if (!s || !d) return undefined;
    const destination = s === d && d.members.length > 1 ? d.members[1] : d.rep;
    const destinationIP = destination === d.rep ? d.ip : reachIP(destination, this.family);
    if (destinationIP === undefined) return undefined;
    return { source: s.rep, destination, sourceIP: s.ip, destinationIP };
  }
  private readonly family: 4 | 6 | undefined;

  /** Whether pod `a` may connect to pod `b` on the port, read from the matrix (a pod to itself: always). */
  podAllowed(a: string, b: string, port: number): boolean | undefined {
    if (a === b) return true;
    this.cellAt ??= new Map(this.matrix.cells.map((c) => [`${c.from}|${c.to}|${c.port}`, c]));
    const ga = this.groupOfPod(a);
    const gb = this.groupOfPod(b);
    return this.cellAt?.get(`${ga}|${gb}|${port}`)?.allowed;
  }
  private groupOf: Map<string, number> | undefined;
  private cellAt: Map<string, ReachCell> | undefined;
}

/** The labels of a pod that some selector of the cluster reads, as `k=v`. */
function labelsShown(labels: Labels, keys: readonly string[]): string[] {
  return keys.filter((k) => Object.prototype.hasOwnProperty.call(labels, k)).map((k) => `${k}=${labels[k]}`);
}

/** Computes the reachability matrix (see {@link Reachability} to explain cells afterwards). */
export function reachability(topology: Topology, query: ReachQuery = {}): ReachMatrix {
  return new Reachability(topology, query).matrix;
}
