import { nodeNetns } from '../dataplane/compile';
import { isLocalAddress, lookupRoute } from '../dataplane/routes';
import type { DataPlane, DpRoute, NetnsId } from '../dataplane/types';
import type { Topology } from '../model/types';
import {
  addressKey,
  firstAddress,
  formatValue,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixContainsAddress,
  type Address,
  type Prefix,
} from '../net/address';
import { problem, type Problem, type RelatedInformation } from '../problem';
import { hostGwIndex } from '../model/host-gw';
import { podsByNode } from '../model/pods-by-id';
import { MAX_TRACES, trace, written } from './probes';
import type { Rule } from './rule';

/** Addresses whose forwarding is checked: in each node pod CIDR (a pod's, else the second address), each node address, each routed prefix. */
function destinations(t: Topology): Address[] {
  const out = new Map<string, Address>();
  const add = (a: Address | undefined): void => {
    if (a && !out.has(addressKey(a))) out.set(addressKey(a), a);
  };
  const inside = (text: string): Address | undefined => {
    const p = parsePrefix(text);
    return p
      ? parseAddress(formatValue(p.family, firstAddress(p) + (p.length < (p.family === 4 ? 31 : 127) ? 2n : 0n)))
      : undefined;
  };
  // Each node's pods as the model groups them once for every reader (the data plane's too), not grouped again here.
  const podsOn = podsByNode(t);
  for (const n of t.nodes) {
    for (const c of n.podCIDRs) {
      const p = parsePrefix(c);
      const pod =
        p &&
        podsOn.get(n.name)?.find(
          (x) =>
            !x.hostNetwork &&
            x.ips.some((ip) => {
              const a = parseAddress(ip);
              return a && prefixContainsAddress(p, a);
            }),
        );
      add(pod ? pod.ips.map(parseAddress).find((a) => a && p && prefixContainsAddress(p, a)) : inside(c));
    }
    for (const i of n.interfaces) for (const a of i.addresses) add(parseAddress(a.split('/')[0]));
    for (const r of n.routes) if (r.to !== 'default') add(inside(r.to));
  }
  // The prefixes host-gw routes to (every node's pod CIDR a node shares a network with).
  for (const e of hostGwIndex(t).entries) add(inside(e.cidr));
  return [...out.values()];
}

/** The node a node's route for `dst` hands the packet to, by the route's gateway (the same lookup the tracer makes). */
function nextNode(dp: DataPlane, from: NetnsId, dst: Address): { next: NetnsId; route: DpRoute } | undefined {
  const n = dp.namespaces.get(from);
  if (!n || isLocalAddress(n, dst)) return undefined;
  const route = lookupRoute(n, dst);
  const via = route?.via ? parseAddress(route.via) : undefined;
  const owner = via ? dp.owners.get(addressKey(via)) : undefined;
  return route && owner && owner.netns !== from && dp.namespaces.get(owner.netns)?.kind === 'node'
    ? { next: owner.netns, route }
    : undefined;
}

/**
 * Prefixes of routes that could be part of a loop: a route on a node via another node that does not own the
 * whole prefix (no connected route of the next node contains it). A route via the node that owns its prefix
 * ends there (host-gw's routes all do), so a cycle is made of such routes only, and only destinations inside
 * them can loop. Cheap: one pass over every node's routes.
 */
function loopCandidates(t: Topology, dp: DataPlane): Prefix[] {
  const out: Prefix[] = [];
  const viaNode = (n: { id: NetnsId }, via: string, prefix: Prefix): void => {
    const a = parseAddress(via);
    const owner = a ? dp.owners.get(addressKey(a)) : undefined;
    const next = owner && owner.netns !== n.id ? dp.namespaces.get(owner.netns) : undefined;
    if (!next || next.kind !== 'node') return;
    if (!next.routes.some((c) => c.kind === 'connected' && prefixContains(c.prefix, prefix))) out.push(prefix);
  };
  // Nodes only (reading every namespace would build every pod's).
  for (const name of new Set(t.nodes.map((x) => x.name))) {
    const n = dp.namespaces.get(nodeNetns(name));
    if (!n || n.kind !== 'node') continue;
    for (const r of n.routes) if (r.via) viaNode(n, r.via, r.prefix);
  }
  // host-gw's routes go via the node owning the CIDR: whichever node holds the route, the next hop is the same.
  for (const e of hostGwIndex(t).entries) viaNode({ id: '' }, e.via, e.prefix);
  return out;
}

/**
 * `route.loop`: forwarding for some destination goes round between nodes. For each destination (every node
 * pod CIDR, node address and routed prefix) the nodes' route choices are followed to find cycles (the
 * tracer's own route lookup; only destinations inside a route that could loop, see loopCandidates), and
 * each cycle is confirmed by a trace from one of its nodes, which must end
 * with the tracer's `loop` disposition. Nodes with their own iptables (which could redirect with DNAT) are
 * traced from as well. One diagnostic per set of looping routes, on the first route that has a span.
 */
export const routeLoop: Rule = {
  code: 'route.loop',
  severity: 'error',
  description: 'Forwarding for some destination loops between nodes.',
  needs: ['dataplane'],
  run({ topology: t, dataplane }) {
    if (!dataplane) return []; // runRules skips the rule without one; a direct caller gets no findings.
    const dp = dataplane;
    const found = new Map<string, Problem>();
    const nodeOf = new Map(t.nodes.map((n) => [nodeNetns(n.name), n]));
    const own = t.nodes.filter((n) => n.iptables).map((n) => nodeNetns(n.name));
    const candidates = loopCandidates(t, dp);
    if (!candidates.length && !own.length) return [];
    let budget = MAX_TRACES;
    for (const dst of destinations(t)) {
      if (!own.length && !candidates.some((p) => prefixContainsAddress(p, dst))) continue;
      // Follow each node's next hop; a walk that comes back to a node of its own walk found a cycle.
      const done = new Set<NetnsId>();
      const starts = new Set<NetnsId>(own);
      for (const start of nodeOf.keys()) {
        if (done.has(start)) continue;
        const walk: NetnsId[] = [];
        let at: NetnsId | undefined = start;
        while (at && !done.has(at) && !walk.includes(at)) {
          walk.push(at);
          at = nextNode(dp, at, dst)?.next;
        }
        if (at && walk.includes(at)) starts.add(at);
        for (const w of walk) done.add(w);
      }
      for (const start of starts) {
        const startNode = nodeOf.get(start);
        if (!startNode) continue; // A walk only meets nodes; anything else has no route of a node to report.
        if (budget-- <= 0) return [...found.values()];
        const dstText = formatValue(dst.family, dst.value);
        const looped = trace(t, dp, `node/${startNode.name}`, dstText, 'icmp')?.paths.find(
          (p) => p.disposition === 'loop',
        );
        if (!looped) continue;
        // The routes of the cycle: each node's route for the destination, from the first node seen twice.
        const cycle: { node: NetnsId; route: DpRoute }[] = [];
        let at: NetnsId | undefined = looped.hops[looped.hops.length - 1]?.netns;
        while (at && !cycle.some((c) => c.node === at)) {
          const nh = nextNode(dp, at, parseAddress(looped.hops[looped.hops.length - 1].packet.dst) ?? dst);
          if (!nh) break;
          cycle.push({ node: at, route: nh.route });
          at = nh.next;
        }
        if (!cycle.length) continue;
        const key = cycle
          .map((c) => `${c.node} ${c.route.text}`)
          .sort()
          .join('|');
        if (found.has(key)) continue;
        const described = cycle
          .map((c) => `${nodeOf.get(c.node)?.name ?? c.node} sends them by \`${c.route.text}\``)
          .join(', ');
        const first = cycle.find((c) => written(c.route.span)) ?? cycle[0];
        const firstNode = nodeOf.get(first.node);
        const span = written(first.route.span) ?? (firstNode && (written(firstNode.spans.name) ?? firstNode.span));
        if (!span) continue;
        const related: RelatedInformation[] = cycle.flatMap((c) => {
          const at = c === first ? undefined : written(c.route.span);
          return at ? [{ span: at, message: `${nodeOf.get(c.node)?.name}: ${c.route.text}` }] : [];
        });
        found.set(
          key,
          problem(
            'route.loop',
            'error',
            `Packets to ${dstText} loop between nodes: ${described}, back to ${nodeOf.get(cycle[0].node)?.name}. Each pass costs one TTL until the packet is dropped (a trace from ${nodeOf.get(start)?.name} ends with 'loop'). The destination belongs to none of these nodes: point the route at the node whose pod CIDR or address it is, or remove it.`,
            span,
            related,
          ),
        );
      }
    }
    return [...found.values()];
  },
};
