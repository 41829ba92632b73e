import { bitsOf, canonical, mask, parsePrefix, type Prefix } from '../net/address';
import { problem, type Problem, type RelatedInformation } from '../problem';
import type { Rule } from './rule';
import { hostGwIndex, impliedDevice, routingInterfaces } from '../model/host-gw';
import type { Node, Topology } from '../model/types';

/** Whether `routes` (canonical prefix texts) hold a prefix containing `p`: walk p's supernets, at most 129 lookups. */
function covered(routes: ReadonlySet<string>, p: Prefix): boolean {
  for (let len = p.length; len >= 0; len--) {
    if (routes.has(canonical({ family: p.family, address: p.address & mask(p.family, len), length: len, text: '' })))
      return true;
  }
  return false;
}

/** Whether a host-gw route of `n` to another node's pod CIDR holds all of `p` (overlapping pod CIDRs). */
function coveredByHostGw(t: Topology, n: Node, p: Prefix): boolean {
  const index = hostGwIndex(t);
  if (!index.entries.length) return false;
  const first = { family: p.family, value: p.address & mask(p.family, p.length) };
  const mine = routingInterfaces(t, n);
  for (const net of new Set(mine.map((i) => i.network)))
    for (const e of index.networks.get(net)?.matching(first) ?? [])
      if (e.prefix.length <= p.length && impliedDevice(t, n, e, mine)) return true;
  return false;
}

/**
 * `route.missing`: a node has no route to another node's pod CIDR, so pods on the two nodes cannot talk. A
 * route counts when its destination contains the pod CIDR (declared, or implied by `routing: host-gw`); a
 * default route does not, since the router behind it does not know the pod networks. Whether the route's
 * gateway is reachable is `route.gateway-unreachable`'s business. One diagnostic per node; the per-node check
 * walks each pod CIDR's supernets in a set, not every route.
 */
export const routeMissing: Rule = {
  code: 'route.missing',
  severity: 'error',
  description: "A node has no route to another node's pod CIDR: pods across them cannot talk.",
  run({ topology }) {
    const podCIDRs = topology.nodes.flatMap((n) =>
      n.podCIDRs.flatMap((c, i) => {
        const p = parsePrefix(c);
        return p ? [{ node: n, prefix: p, span: n.spans[`podCIDRs.${i}`] ?? n.span }] : [];
      }),
    );
    if (new Set(podCIDRs.map((c) => c.node.name)).size < 2) return [];
    // host-gw routes a node to every pod CIDR of the nodes it shares a network with (src/core/model/host-gw.ts).
    // Nodes on the same networks reach the same nodes: the pod CIDRs host-gw leaves out are found once per set
    // of networks, not once per node.
    const { members } = hostGwIndex(topology);
    const unreachedBy = new Map<string, typeof podCIDRs>();
    const unreached = (n: Node): typeof podCIDRs => {
      if (!members.size) return podCIDRs;
      const nets = [...new Set(routingInterfaces(topology, n).map((i) => i.network))];
      const key = nets.join('\n');
      let list = unreachedBy.get(key);
      if (!list) {
        const reaches = (c: (typeof podCIDRs)[number]): boolean =>
          nets.some((x) => members.get(x)?.[c.prefix.family].has(c.node.name));
        unreachedBy.set(key, (list = podCIDRs.filter((c) => !reaches(c))));
      }
      return list;
    };
    const out: Problem[] = [];
    for (const n of topology.nodes) {
      const candidates = unreached(n);
      // host-gw reaches every other node's pod CIDR from most nodes: nothing to look for, no route set to build.
      if (candidates.every((c) => c.node === n)) continue;
      const routes = new Set<string>();
      for (const r of n.routes) {
        const p = parsePrefix(r.to);
        if (p) routes.add(canonical(p));
      }
      // The node's own pod CIDRs are connected through its bridge.
      for (const c of n.podCIDRs) {
        const p = parsePrefix(c);
        if (p) routes.add(canonical(p));
      }
      const missing = candidates.filter(
        (c) =>
          c.node !== n &&
          !covered(routes, c.prefix) &&
          !coveredByHostGw(topology, n, c.prefix) &&
          c.prefix.length <= bitsOf(c.prefix.family),
      );
      if (!missing.length) continue;
      const list =
        missing
          .slice(0, 4)
          .map((m) => `${m.prefix.text} (${m.node.name})`)
          .join(', ') + (missing.length > 4 ? ` and ${missing.length - 4} more` : '');
      const why =
        topology.cluster.routing === 'host-gw'
          ? 'routing is host-gw, but that only adds routes to nodes that share a network with this one'
          : 'routing is manual and no route was written';
      const related: RelatedInformation[] = missing
        .slice(0, 10)
        .map((m) => ({ span: m.span, message: `pod CIDR of ${m.node.name}: ${m.prefix.text}` }));
      out.push(
        problem(
          'route.missing',
          'error',
          `Node ${n.name} has no route to the pod CIDR${missing.length > 1 ? 's' : ''} ${list}: packets from its pods to pods there follow the default route or are dropped, so pods across these nodes cannot talk (${why}). Add a route like {to: ${missing[0].prefix.text}, via: <${missing[0].node.name}'s address>}.`,
          n.spans.name ?? n.span,
          related,
        ),
      );
    }
    return out;
  },
};
