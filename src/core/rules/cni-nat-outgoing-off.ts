import { parseAddress, parsePrefix, prefixContainsAddress } from '../net/address';
import { problem } from '../problem';
import type { Rule } from './rule';

/**
 * `cni.nat-outgoing-off`: an enabled Calico IPPool with natOutgoing false in a topology whose pods reach the
 * outside (it declares external clients outside every pool). Calico then sends pod traffic to them with the
 * pod's own address (felix programs no MASQUERADE for the pool: cali-nat-outgoing), and the replies come back
 * only if the outside network routes the pool to the nodes, which a plain underlay or the internet does not.
 */
export const cniNatOutgoingOff: Rule = {
  code: 'cni.nat-outgoing-off',
  severity: 'warning',
  description: 'A Calico IPPool without natOutgoing while pods reach destinations outside every pool.',
  run({ topology }) {
    const pools = topology.cluster.cni.ipPools.filter((p) => !p.disabled);
    const prefixes = pools.flatMap((p) => parsePrefix(p.cidr) ?? []);
    const outside = topology.externals.filter((x) =>
      x.addresses.some((a) => {
        const ip = parseAddress(a.split('/')[0]);
        return ip && !prefixes.some((p) => prefixContainsAddress(p, ip));
      }),
    );
    if (!outside.length) return [];
    return pools
      .filter((p) => !p.natOutgoing)
      .map((pool) =>
        problem(
          'cni.nat-outgoing-off',
          'warning',
          `IPPool ${pool.name} (${pool.cidr}) has natOutgoing off, and its pods talk to ${outside
            .map((x) => x.name)
            .slice(0, 3)
            .join(
              ', ',
            )} outside every pool: their packets leave with the pod address and the replies return only if that network routes ${pool.cidr} to the nodes. Set natOutgoing: true, or make sure the network routes the pool (BGP peering with the routers).`,
          pool.spans.natOutgoing ?? pool.spans.name ?? pool.span,
          outside.slice(0, 3).map((x) => ({ span: x.spans.name ?? x.span, message: `external ${x.name}` })),
        ),
      );
  },
};
