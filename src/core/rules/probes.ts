/**
 * Shared by the rules that decide from the data plane (nat.pod-to-pod, nat.node-to-pod, route.loop,
 * bridge.hairpin-off): which flows to trace, and how to read a trace back into the topology. The rules call
 * the tracer itself (`traceFlow` on the one compiled data plane), so a diagnostic and a trace of the same flow
 * can never disagree.
 *
 * Representative flows. Tracing every pod pair is O(pods²). Two pods are interchangeable for NAT when every
 * rule that could see them matches both or neither:
 * - the generated rules (kube-proxy, the CNI plugin's ipMasq, the ip-masq-agent) treat every pod of a node
 *   alike: the CNI chains are the same per pod (`-s <pod>/32` jumps to `-d <node subnet> ACCEPT`, then
 *   MASQUERADE); the agent and kube-proxy match destination ranges, the cluster CIDR, marks and address
 *   types, which depend on the node, not on the pod (the agent's ranges split pods into classes, below);
 * - a node's raw `iptables:` lines may name any address or interface: every prefix they match on, and every
 *   veth they name, splits the pods into classes (a pod's class is which of those prefixes hold its IPs).
 * So per node one pod per class stands for all. Nodes, too, are interchangeable when their NAT-relevant setup
 * is the same (ipMasq, no raw rules, no declared routes, the same networks, the same pod classes): pairs of
 * nodes are taken per pair of such groups, and the work is bounded by `MAX_TRACES` per rule.
 */
import { nodeNetns } from '../dataplane/compile';
import { rulesFileOf } from '../dataplane/node-rules';
import type { DataPlane, NetnsId } from '../dataplane/types';
import type { Node, Pod, Topology } from '../model/types';
import { addressFamily, hostPort, parseAddress, parsePrefix, prefixContainsAddress, type Prefix } from '../net/address';
import type { Span } from '../problem';
import { traceFlow } from '../trace/trace';
import type { NatEvent, NetfilterStep, TracePath, TraceResult } from '../trace/types';
import { work } from '../work';

/** At most this many traces per rule and topology; beyond it the rule reports what it found so far. */
export const MAX_TRACES = 2000;

/** A trace's result, or undefined when the request was refused (the rules only build valid requests). */
export function trace(
  t: Topology,
  dp: DataPlane,
  from: string,
  to: string,
  proto?: 'tcp' | 'udp' | 'sctp' | 'icmp',
): TraceResult | undefined {
  work.probes++;
  return traceFlow(t, { from, to, ...(proto ? { proto } : {}) }, dp).result;
}

/** An address (and port) as the trace endpoint syntax writes it. */
export function ipEndpoint(ip: string, port?: number): string {
  return hostPort(ip, port);
}

/** The port and protocol to send to a pod on: its first declared container port, else TCP 80 (NAT does not depend on a listener). */
export function portOf(p: Pod): { port: number; proto: 'tcp' | 'udp' | 'sctp' } {
  const first = p.containers.flatMap((c) => c.ports)[0];
  return first
    ? { port: first.containerPort, proto: first.protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp' }
    : { port: 80, proto: 'tcp' };
}

/** A source translation on a path that changes the source address, with the span of the rule that did it. */
export interface SourceNat {
  readonly event: NatEvent;
  /** The rule's span: into the YAML for a node's own `iptables:` lines, else into `netpath:rules/<node>`. */
  readonly ruleSpan: Span | undefined;
}

/** The SNAT/MASQUERADE events of a path that change what the receiver sees as the source address. */
export function sourceNats(path: TracePath): SourceNat[] {
  return path.nat
    .filter((e) => e.type !== 'DNAT' && e.after.src !== e.before.src)
    .map((event) => {
      const st = path.hops
        .filter((h) => h.netns === event.netns)
        .flatMap((h) => h.steps)
        .find(
          (s): s is NetfilterStep =>
            s.kind === 'netfilter' &&
            // iptables: the nat table; nftables: any table (`ip snat`), whose nat chains translate.
            (s.table === 'nat' || s.table.includes(' ')) &&
            s.chain === event.chain &&
            s.rule === event.rule &&
            s.file !== undefined,
        );
      return {
        event,
        ruleSpan: st?.file !== undefined ? { file: st.file, start: st.start ?? 0, end: st.end ?? 0 } : undefined,
      };
    });
}

export type RuleAuthor =
  'kube-proxy' | 'cni-ipmasq' | 'cni-portmap' | 'ip-masq-agent' | 'node-iptables' | 'node-nftables' | 'unknown';

/**
 * Who wrote the rule at `span` of a node's ruleset: the node's own `iptables:` lines keep YAML spans; a
 * generated rule is told by the contributor's block of the rules text it lies in.
 */
export function ruleAuthor(dp: DataPlane, netns: NetnsId, span: Span | undefined): RuleAuthor {
  const ns = dp.namespaces.get(netns);
  if (!span || !ns || ns.kind !== 'node') return 'unknown';
  return ns.filter?.authorAt(span) ?? 'unknown';
}

/** A span that points at text someone wrote (defaulted values have an empty file name). */
export const written = (s: Span | undefined): Span | undefined => (s && s.file !== '' ? s : undefined);

/** Prefixes and interface names that a node's own `iptables:` or `nftables:` rules match on: they split pods into classes. */
function splitters(t: Topology, dp: DataPlane): { prefixes: Prefix[]; ifaces: string[] } {
  const prefixes: Prefix[] = [];
  const ifaces: string[] = [];
  const seen = new Set<string>();
  for (const node of t.nodes) {
    if (!node.iptables && !node.nftables) continue;
    const filter = dp.namespaces.get(nodeNetns(node.name))?.filter;
    for (const rule of filter?.rules() ?? []) {
      if (rule.span.file === rulesFileOf(node.name)) continue;
      for (const p of rule.prefixes) {
        if (seen.has(p.text)) continue;
        seen.add(p.text);
        prefixes.push(p);
      }
      ifaces.push(...rule.interfaces);
    }
  }
  for (const c of t.cluster.masquerade?.nonMasqueradeCIDRs ?? []) {
    const p = parsePrefix(c);
    if (p && !seen.has(p.text)) {
      seen.add(p.text);
      prefixes.push(p);
    }
  }
  return { prefixes, ifaces };
}

/** Pods of one node standing for all of them: up to two per class (two, so a same-node pair exists). */
export interface NodeReps {
  readonly node: Node;
  readonly pods: readonly Pod[];
  /** The classes of the node's pods, for grouping nodes. */
  readonly classes: string;
}

/** Representatives already chosen, per data plane (and the topology it was compiled from). */
const chosen = new WeakMap<DataPlane, { readonly topology: Topology; readonly reps: readonly NodeReps[] }>();

/**
 * One entry per node with pods (not hostNetwork, with an address), in topology order. Chosen once per data plane:
 * nat.pod-to-pod and nat.node-to-pod both ask, and choosing reads every pod's addresses.
 */
export function representatives(t: Topology, dp: DataPlane): readonly NodeReps[] {
  const known = chosen.get(dp);
  if (known?.topology === t) return known.reps;
  const reps = chooseRepresentatives(t, dp);
  chosen.set(dp, { topology: t, reps });
  return reps;
}

function chooseRepresentatives(t: Topology, dp: DataPlane): NodeReps[] {
  const { prefixes, ifaces } = splitters(t, dp);
  const byNode = new Map<string, Map<string, Pod[]>>();
  // The keys of classes that are only families, made once each: a key made per pod would be copied into one piece
  // to be looked up, 150,000 times at Kubernetes' limits.
  const familyKeys = new Map<string, string>();
  // The classes of the node of the pod before (a node's pods mostly come together).
  let lastNode: string | undefined;
  let lastClasses: Map<string, Pod[]> | undefined;
  // One pass over the pods, making no arrays per pod: without splitting prefixes (the usual case) a pod's class
  // is only its families, read without making its addresses.
  // Indexed loops: this pass runs once per data plane, mostly before it is optimised, where a for-of made an object
  // per pod and per IP.
  const pods = t.pods;
  for (let i = 0; i < pods.length; i++) {
    const p = pods[i];
    if (p.hostNetwork) continue;
    let families = '';
    let inside = '';
    if (prefixes.length) {
      const addrs = p.ips.flatMap((ip) => parseAddress(ip) ?? []);
      for (const a of addrs) families += a.family;
      for (const x of prefixes) inside += addrs.some((a) => prefixContainsAddress(x, a)) ? '1' : '0';
    } else
      for (let k = 0; k < p.ips.length; k++) {
        const family = addressFamily(p.ips[k]);
        if (family) families += family;
      }
    if (!families) continue;
    const named =
      ifaces.length > 0 &&
      ifaces.some((i) => (i.endsWith('+') ? p.hostVeth.startsWith(i.slice(0, -1)) : p.hostVeth === i));
    let key: string;
    if (inside === '' && !named) {
      const known = familyKeys.get(families);
      if (known === undefined) familyKeys.set(families, (key = `|${families}`));
      else key = known;
    } else key = inside + (named ? `|${p.id}` : '') + `|${families}`;
    if (lastClasses === undefined || p.node !== lastNode) {
      lastNode = p.node;
      lastClasses = byNode.get(p.node);
      if (!lastClasses) byNode.set(p.node, (lastClasses = new Map()));
    }
    const list = lastClasses.get(key);
    if (!list) lastClasses.set(key, [p]);
    else if (list.length < 2) list.push(p);
  }
  return t.nodes.flatMap((node) => {
    const classes = byNode.get(node.name);
    if (!classes) return [];
    return [{ node, pods: [...classes.values()].flat(), classes: [...classes.keys()].sort().join(',') }];
  });
}

/**
 * Ordered pairs of nodes (a node with itself included) that stand for every pair: nodes are grouped by what
 * decides NAT and forwarding for them, and one pair is taken per pair of groups (two nodes of one group when
 * it has two). Nodes with their own rules or routes form a group of their own.
 */
export function nodePairs(reps: readonly NodeReps[]): [NodeReps, NodeReps][] {
  const groups = new Map<string, NodeReps[]>();
  for (const r of reps) {
    const n = r.node;
    const own = n.iptables !== undefined || n.routes.some((x) => x.source === 'declared');
    const key = own
      ? `node:${n.name}`
      : JSON.stringify([
          n.cni,
          n.cniIpMasq,
          n.bridge?.hairpinMode,
          n.interfaces.map((i) => i.network).sort(),
          r.classes,
        ]);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const out: [NodeReps, NodeReps][] = [];
  const list = [...groups.values()];
  for (const a of list) {
    for (const b of list) {
      if (a === b) {
        out.push([a[0], a[0]]);
        if (a.length > 1) out.push([a[0], a[1]]);
      } else out.push([a[0], b[0]]);
    }
  }
  return out;
}
