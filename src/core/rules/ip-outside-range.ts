import { parsePrefix, prefixContainsAddress, type Address, type Family, type Prefix } from '../net/address';
import { problem, type Problem, type QuickFix, type Span } from '../problem';
import { freeAddressOncePerPool, freePort } from './fixes';
import { parsedAddress, parsedRange, type AddressEntry, type ParsedRange, type RangeEntry } from './ranges';
import type { Rule } from './rule';
import { addressesToCheck } from './address-screen';

const within = (prefixes: readonly Prefix[], a: Address) => prefixes.some((p) => prefixContainsAddress(p, a));
const texts = (prefixes: readonly Prefix[]) => prefixes.map((p) => p.text).join(', ');

/**
 * Whether a pod address passes: some range of its family among the node's pod ranges holds it, or, when the node
 * has none of that family, among the cluster's (or there is no range of that family at all). The same answer as
 * the lists the rule builds for a finding, with no list built.
 */
function insideOwnRange(
  nodePods: readonly ParsedRange[] | undefined,
  clusterPods: readonly ParsedRange[],
  a: Address,
): boolean {
  let nodeHasFamily = false;
  for (const r of nodePods ?? []) {
    if (r.prefix.family !== a.family) continue;
    if (prefixContainsAddress(r.prefix, a)) return true;
    nodeHasFamily = true;
  }
  if (nodeHasFamily) return false;
  let clusterHasFamily = false;
  for (const r of clusterPods) {
    if (r.prefix.family !== a.family) continue;
    if (prefixContainsAddress(r.prefix, a)) return true;
    clusterHasFamily = true;
  }
  return !clusterHasFamily;
}

/**
 * `ip.outside-range`: an address outside the range it must come from — a pod IP outside its node's pod CIDR, a
 * cluster IP outside the Service ranges, an interface or external address outside its network, a bridge
 * gateway outside its node's pod CIDR — or a nodePort outside the cluster's nodePortRange.
 */
export const ipOutsideRange: Rule = {
  code: 'ip.outside-range',
  severity: 'error',
  description: 'A pod IP, cluster IP, interface address or nodePort outside the range it must come from.',
  run({ topology, ranges }) {
    const out: Problem[] = [];
    const freeIn = freeAddressOncePerPool(ranges);
    /** The ranges a free address must stay out of: none, the Service ranges (for a pod), the pod ranges (a cluster IP). */
    const avoided = {
      none: (): readonly Prefix[] => [],
      services: (): readonly Prefix[] => services.map((r) => r.prefix),
      pods: (): readonly Prefix[] => [...clusterPods, ...prefixesOf('node-pods')].map((r) => r.prefix),
    };
    const fixTo = (
      entry: AddressEntry | RangeEntry,
      pool: Prefix | undefined,
      suffix = '',
      avoid: keyof typeof avoided = 'none',
    ): QuickFix[] => {
      if (!pool || !entry.exact) return [];
      // Never an address another range claims (a Service range overlapping the pods: cidr.overlap says so).
      const free = freeIn(pool, avoid, avoided[avoid]);
      return free
        ? [
            {
              title: `Change to ${free}${suffix}, a free address in ${pool.text}`,
              edits: [{ span: entry.span, newText: `${free}${suffix}` }],
              preferred: true,
            },
          ]
        : [];
    };
    const report = (message: string, span: Span, related: Problem['related'], fixes: QuickFix[] = []) =>
      out.push(problem('ip.outside-range', 'error', message, span, related, fixes));

    const prefixesOf = (role: RangeEntry['role'], node?: string): ParsedRange[] =>
      ranges.ranges.filter(parsedRange).filter((r) => r.role === role && (node === undefined || r.node === node));
    const clusterPods = prefixesOf('cluster-pods');
    const services = prefixesOf('services');
    // Each family's Service ranges, taken apart once: every Service's cluster IPs are compared with them.
    const servicesOf: Record<Family, ParsedRange[]> = {
      4: services.filter((r) => r.prefix.family === 4),
      6: services.filter((r) => r.prefix.family === 6),
    };
    const nodePods = new Map<string, ParsedRange[]>();
    for (const r of prefixesOf('node-pods')) {
      if (r.node === undefined) continue;
      const list = nodePods.get(r.node);
      if (list) list.push(r);
      else nodePods.set(r.node, [r]);
    }

    for (const a of addressesToCheck(ranges)) {
      if (!parsedAddress(a)) continue;
      const isPod = a.role === 'pod' && !a.hostNetwork;
      // Nearly every pod IP is inside its node's range: that is decided without building the lists below.
      if (isPod && insideOwnRange(nodePods.get(a.node ?? ''), clusterPods, a.address)) continue;
      const fam = (list: readonly ParsedRange[]) => list.filter((r) => r.prefix.family === a.address.family);
      if (isPod) {
        const own = fam(nodePods.get(a.node ?? '') ?? []);
        const pool = own.length ? own : fam(clusterPods);
        if (
          !pool.length ||
          within(
            pool.map((r) => r.prefix),
            a.address,
          )
        )
          continue;
        const where = own.length
          ? `node ${a.node}'s pod CIDR ${texts(own.map((r) => r.prefix))}`
          : `the cluster pod CIDR ${texts(pool.map((r) => r.prefix))}`;
        report(
          `Pod IP ${a.text} (${a.owner}) is outside ${where}: the node's bridge and the other nodes' routes do not lead to it, so nothing can reach this pod.`,
          a.span,
          pool.map((r) => ({ span: r.span, message: `pod CIDR ${r.text}` })),
          fixTo(a, pool[0].prefix, '', 'services'),
        );
      } else if (a.role === 'cluster-ip') {
        const pool = servicesOf[a.address.family];
        if (pool.some((r) => r.assumed)) continue; // range.assumed says it, as information.
        if (!pool.length || pool.some((r) => prefixContainsAddress(r.prefix, a.address))) continue;
        report(
          `Cluster IP ${a.text} (${a.owner}) is outside the Service range ${texts(pool.map((r) => r.prefix))}: kube-apiserver rejects it.`,
          a.span,
          pool.map((r) => ({ span: r.span, message: `Service range ${r.text}` })),
          fixTo(a, pool[0].prefix, '', 'pods'),
        );
      }
    }

    // Interface and external addresses inside their network; bridge gateways inside their node's pod CIDR.
    // Each network with its range parsed once: every node's interface is checked against its network's (5,000 of
    // one network at Kubernetes' limits).
    const networks = new Map(topology.networks.map((n) => [n.name, { net: n, prefix: parsePrefix(n.cidr) }]));
    const checkInNetwork = (entry: RangeEntry, networkName: string) => {
      const known = networks.get(networkName);
      const net = known?.net;
      const np = known?.prefix;
      if (!net || !entry.prefix || !np || np.family !== entry.prefix.family) return;
      const addr = { family: entry.prefix.family, value: entry.prefix.address };
      if (prefixContainsAddress(np, addr)) return;
      report(
        `${entry.text} (${entry.owner}) is not inside network ${networkName} (${np.text}) it is attached to: machines on ${networkName} cannot reach it directly.`,
        entry.span,
        [{ span: net.spans.cidr ?? net.span, message: `network ${networkName}: ${np.text}` }],
        fixTo(entry, np, `/${np.length}`),
      );
    };
    const networkOf = new Map<string, string>();
    for (const n of topology.nodes) for (const i of n.interfaces) networkOf.set(`node ${n.name} ${i.name}`, i.network);
    for (const x of topology.externals) networkOf.set(`external ${x.name}`, x.network);
    for (const e of ranges.ranges) {
      const network = networkOf.get(e.owner);
      if ((e.role === 'interface' || e.role === 'external') && network !== undefined) checkInNetwork(e, network);
    }
    for (const e of ranges.ranges.filter(parsedRange)) {
      if (e.role !== 'bridge') continue;
      const own = (nodePods.get(e.node ?? '') ?? []).filter((r) => r.prefix.family === e.prefix.family);
      if (
        !own.length ||
        within(
          own.map((r) => r.prefix),
          { family: e.prefix.family, value: e.prefix.address },
        )
      )
        continue;
      report(
        `The bridge gateway ${e.text} (${e.owner}) is outside the node's pod CIDR ${texts(own.map((r) => r.prefix))}: pods cannot reach their default gateway.`,
        e.span,
        own.map((r) => ({ span: r.span, message: `pod CIDR ${r.text}` })),
      );
    }

    // nodePorts inside the cluster's nodePortRange.
    const { min, max } = topology.cluster.nodePortRange;
    if (topology.cluster.assumed.nodePortRange) return out; // range.assumed says it, as information.
    const usedPorts = new Set(
      topology.services.flatMap((s) => s.ports.flatMap((p) => (p.nodePort === undefined ? [] : [p.nodePort]))),
    );
    for (const s of topology.services) {
      for (const p of s.ports) {
        if (p.nodePort === undefined || (p.nodePort >= min && p.nodePort <= max)) continue;
        const span = p.spans.nodePort ?? p.span;
        const free = p.spans.nodePort ? freePort(p.nodePort, min, max, usedPorts) : undefined;
        report(
          `nodePort ${p.nodePort} of Service ${s.id} is outside the nodePortRange ${min}-${max}: kube-apiserver rejects it, and kube-proxy opens no port for it.`,
          span,
          topology.cluster.spans.nodePortRange
            ? [{ span: topology.cluster.spans.nodePortRange, message: `nodePortRange ${min}-${max}` }]
            : [],
          free === undefined
            ? []
            : [
                {
                  title: `Change to ${free}, a free port in ${min}-${max}`,
                  edits: [{ span, newText: String(free) }],
                  preferred: true,
                },
              ],
        );
      }
    }
    return out;
  },
};
