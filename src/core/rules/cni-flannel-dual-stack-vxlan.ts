import { flannelBackend } from '../cni/flannel';
import { parsePrefix } from '../net/address';
import { problem } from '../problem';
import type { Rule } from './rule';

export const CNI_FLANNEL_DUAL_STACK_VXLAN = 'cni.flannel-dual-stack-vxlan';

/**
 * `cni.flannel-dual-stack-vxlan` (info): flannel with the VXLAN backend and IPv6 pod subnets (net-conf.json
 * `EnableIPv6`/`IPv6Network`, or IPv6 podCIDRs on flannel nodes). flanneld then creates a second VTEP,
 * `flannel-v6.<VNI>`, over the nodes' IPv6 underlay addresses (flannel-io/flannel pkg/backend/vxlan). NetPath models
 * the IPv4 VTEP only: IPv6 pod traffic between nodes traces as "no route" where flannel would encapsulate it. Said
 * once, where IPv6 is switched on, so a trace that stops there is not taken for a finding. IPv6 on host-gw is
 * modelled (routes via the other nodes' IPv6 addresses).
 */
export const cniFlannelDualStackVxlan: Rule = {
  code: CNI_FLANNEL_DUAL_STACK_VXLAN,
  severity: 'info',
  description:
    "flannel VXLAN with IPv6 pod subnets: flannel's second VTEP flannel-v6.<VNI> is not modelled, so IPv6 traffic between nodes traces as no route.",
  run({ topology }) {
    const f = topology.cluster.cni.flannel;
    const flannelNodes = topology.nodes.filter((n) => n.cni === 'flannel');
    if (!flannelNodes.length || !flannelBackend(topology).vxlan) return [];
    const ipv6Node = flannelNodes.find((n) => n.podCIDRs.some((c) => parsePrefix(c)?.family === 6));
    if (!f?.ipv6Network && !ipv6Node) return [];
    const span = f?.spans.IPv6Network ?? f?.spans.ipv6Network ?? f?.spans.EnableIPv6 ?? ipv6Node?.span ?? f?.span;
    if (!span) return [];
    return [
      problem(
        CNI_FLANNEL_DUAL_STACK_VXLAN,
        'info',
        `flannel's VXLAN backend carries IPv6 pod traffic between nodes in a second VTEP, flannel-v6.${flannelBackend(topology).vni}, over the nodes' IPv6 addresses. NetPath models only the IPv4 VTEP (flannel.${flannelBackend(topology).vni}): traces of IPv6 pod traffic between nodes stop with "no route" where flannel would encapsulate it. IPv4, same-node IPv6 and IPv6 with the host-gw backend are modelled.`,
        span,
      ),
    ];
  },
};
