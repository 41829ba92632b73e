import { parseAddress, parsePrefix, prefixContainsAddress, type Prefix } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';
import { cniViewOf } from '../cni';

/**
 * `route.gateway-unreachable`: a declared route via a gateway that is on none of the node's connected
 * networks (its interfaces' subnets and its bridge subnet; only the named device's when the route gives
 * `dev`). Linux refuses such a route ("Nexthop has invalid gateway"), so the destination stays unreachable.
 */
export const routeGatewayUnreachable: Rule = {
  code: 'route.gateway-unreachable',
  severity: 'error',
  description: 'A route via a gateway that is on no network the node is connected to.',
  run({ topology }) {
    const out: Problem[] = [];
    for (const n of topology.nodes) {
      const connected: { dev: string; prefix: Prefix }[] = [];
      for (const i of n.interfaces)
        for (const a of i.addresses) {
          const p = parsePrefix(a);
          if (p) connected.push({ dev: i.name, prefix: p });
        }
      for (const d of cniViewOf(n, topology).devices)
        for (const a of d.addresses) {
          const p = parsePrefix(a);
          if (p) connected.push({ dev: d.name, prefix: p });
        }
      for (const r of n.routes) {
        if (r.source !== 'declared' || !r.via) continue;
        const via = parseAddress(r.via);
        if (!via) continue; // cidr.invalid
        const candidates = connected.filter((c) => c.prefix.family === via.family && (!r.dev || c.dev === r.dev));
        if (candidates.some((c) => prefixContainsAddress(c.prefix, via))) continue;
        if (r.dev && !connected.some((c) => c.dev === r.dev) && !n.interfaces.some((i) => i.name === r.dev)) continue; // ref.unknown or an unmodelled device (vxlan onlink)
        const nets = candidates.map((c) => `${c.dev} ${c.prefix.text}`).join(', ') || 'none of this family';
        out.push(
          problem(
            'route.gateway-unreachable',
            'error',
            `The route to ${r.to} on node ${n.name} goes via ${r.via}, but ${r.dev ? `${r.dev} is not` : 'no interface of the node is'} on a network containing ${r.via} (connected: ${nets}). Linux refuses the route (Nexthop has invalid gateway), so ${r.to} stays unreachable from this node.`,
            r.spans.via ?? r.span,
          ),
        );
      }
    }
    return out;
  },
};
