import { CALICO_GATEWAY } from '../cni/calico';
import { lookupRoute } from '../dataplane/routes';
import { literalAddress } from '../net/address';
import { problem } from '../problem';
import type { Rule } from './rule';

const GATEWAY = literalAddress(CALICO_GATEWAY);

/**
 * `cni.calico-gateway-unrouted`: a Calico node with pods and no route for 169.254.1.1 (usually: no default route).
 * Nobody holds the pods' gateway; the node's cali veths answer ARP for it by proxy ARP, which the kernel does only
 * for an address the node routes out of another device (arp_process: a unicast route, not back out the device
 * asked on). Without such a route the pods' ARP goes unanswered and every pod of the node is cut off, even from
 * its neighbours on the same node.
 */
export const cniCalicoGatewayUnrouted: Rule = {
  code: 'cni.calico-gateway-unrouted',
  severity: 'error',
  description: "A Calico node has no route for the pods' gateway 169.254.1.1, so proxy ARP never answers for it.",
  needs: ['dataplane'],
  run({ topology, dataplane }) {
    const calico = topology.nodes.filter((n) => n.cni === 'calico');
    if (!calico.length) return [];
    const withPods = new Set(topology.pods.filter((p) => !p.hostNetwork).map((p) => p.node));
    return calico.flatMap((n) => {
      if (!withPods.has(n.name)) return [];
      const ns = dataplane?.namespaces.get(`node:${n.name}`);
      const r = ns ? lookupRoute(ns, GATEWAY) : undefined;
      if (r && r.type !== 'blackhole') return [];
      return [
        problem(
          'cni.calico-gateway-unrouted',
          'error',
          `Node ${n.name} runs Calico pods but has no route for ${CALICO_GATEWAY}, their gateway: nobody holds that address, and the node's cali veths answer ARP for it (proxy ARP) only when the node routes it out of another device. Every pod on ${n.name} is cut off, from pods of its own node too. Give the node a default route (routes: - {to: default, via: <router>}), as every Calico node has.`,
          n.spans.name ?? n.span,
        ),
      ];
    });
  },
};
