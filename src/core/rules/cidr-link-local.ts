import { literalPrefix, prefixContainsAddress, prefixesOverlap, type Address, type Prefix } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';
import { addressesToCheck } from './address-screen';

/** The link-local unicast ranges (Go's net.IP.IsLinkLocalUnicast): 169.254.0.0/16 and fe80::/10. */
const LINK_LOCAL: readonly Prefix[] = ['169.254.0.0/16', 'fe80::/10'].map(literalPrefix);

const linkLocalOf = (p: Prefix): Prefix | undefined =>
  LINK_LOCAL.find((l) => l.family === p.family && prefixesOverlap(l, p));

function linkLocalHolding(a: Address): Prefix | undefined {
  for (const l of LINK_LOCAL) if (prefixContainsAddress(l, a)) return l;
  return undefined;
}

/**
 * `cidr.link-local`: a pod range, a node's pod CIDR or a pod IP in the link-local ranges 169.254.0.0/16 or
 * fe80::/10, or an IPv6 Service range in fe80::/10.
 *
 * Pods: the API server refuses link-local addresses in EndpointSlices and Endpoints (pkg/apis/core/validation
 * `ValidateEndpointIP`, called by pkg/apis/discovery/validation for every endpoint address), so no such pod can back
 * a Service (kubernetes/kubernetes#109152). An IPv6 Service range in fe80::/10: the API server accepts it, but the
 * kernel refuses a connect() to a link-local address without an interface scope (tcp_v6_connect, EINVAL), so no pod
 * can open a connection to such a cluster IP. An IPv4 Service range in 169.254.0.0/16 is accepted by the API server
 * and works through kube-proxy's DNAT, so it is not reported.
 */
export const cidrLinkLocal: Rule = {
  code: 'cidr.link-local',
  severity: 'error',
  description:
    'A pod range, node pod CIDR or pod IP in the link-local ranges (169.254.0.0/16, fe80::/10), which the API server refuses as endpoint addresses; an IPv6 Service range in fe80::/10.',
  run({ ranges }) {
    const out: Problem[] = [];
    const flagged: Prefix[] = [];
    for (const r of ranges.ranges) {
      if (!r.prefix) continue;
      const ll = linkLocalOf(r.prefix);
      if (!ll) continue;
      if (r.role === 'cluster-pods' || r.role === 'node-pods') {
        flagged.push(r.prefix);
        out.push(
          problem(
            'cidr.link-local',
            'error',
            `The pod CIDR ${r.text} (${r.owner}) is in the link-local range ${ll.text}: the API server refuses link-local addresses in EndpointSlices and Endpoints (ValidateEndpointIP), so no pod there can back a Service. Use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, or fd00::/8 for IPv6).`,
            r.span,
          ),
        );
      } else if (r.role === 'services' && !r.assumed && r.prefix.family === 6) {
        out.push(
          problem(
            'cidr.link-local',
            'error',
            `The Service range ${r.text} is in the link-local range ${ll.text}: the kernel refuses to connect to a link-local address without an interface scope (EINVAL), so pods cannot reach these cluster IPs. Use a unique local range such as fd00:10:96::/112.`,
            r.span,
          ),
        );
      }
    }
    for (const a of addressesToCheck(ranges)) {
      const address = a.address;
      if (a.role !== 'pod' || a.hostNetwork || !address) continue;
      // Nearly no address is link-local: asked first, in a plain loop (no closure per pod address).
      const ll = linkLocalHolding(address);
      if (!ll) continue;
      if (flagged.some((p) => prefixContainsAddress(p, address))) continue; // said once, at the range.
      out.push(
        problem(
          'cidr.link-local',
          'error',
          `Pod IP ${a.text} (${a.owner}) is in the link-local range ${ll.text}: the API server refuses it as an endpoint address (ValidateEndpointIP), so the pod cannot back a Service.`,
          a.span,
        ),
      );
    }
    return out;
  },
};
