import { parseAddress, parsePrefix, prefixContainsAddress } from '../net/address';
import { problem, type Problem } from '../problem';
import type { IPBlock, Service, Topology } from '../model/types';
import type { Rule } from './rule';

/** The Services whose ClusterIP the ipBlock holds (outside every except). */
export function clusterIPsIn(t: Topology, b: IPBlock): { svc: Service; ip: string }[] {
  const cidr = parsePrefix(b.cidr);
  if (!cidr) return [];
  const except = b.except.flatMap((e) => parsePrefix(e) ?? []);
  return t.services.flatMap((svc) =>
    svc.clusterIPs.flatMap((ip) => {
      const a = parseAddress(ip);
      if (!a || a.family !== cidr.family || !prefixContainsAddress(cidr, a)) return [];
      if (except.some((e) => e.family === a.family && prefixContainsAddress(e, a))) return [];
      return [{ svc, ip }];
    }),
  );
}

/**
 * `policy.ipblock-cluster-ip`: an egress rule that tries to allow a Service by its ClusterIP with an ipBlock.
 * Policies judge the packet after kube-proxy's DNAT, when the destination is already a backend pod, so the
 * ClusterIP never matches.
 */
export const policyIpblockClusterIp: Rule = {
  code: 'policy.ipblock-cluster-ip',
  severity: 'warning',
  description:
    "An egress ipBlock holding a Service's ClusterIP: policies see the backend pod after DNAT, so it never matches.",
  run({ topology }) {
    const out: Problem[] = [];
    for (const p of topology.networkPolicies)
      for (const r of p.egress)
        for (const peer of r.peers) {
          if (!peer.ipBlock) continue;
          const hits = clusterIPsIn(topology, peer.ipBlock);
          if (!hits.length) continue;
          const names = hits.slice(0, 3).map((h) => `${h.svc.id} (${h.ip})`);
          out.push(
            problem(
              'policy.ipblock-cluster-ip',
              'warning',
              `This ipBlock holds the ClusterIP of ${names.join(', ')}${hits.length > 3 ? ` and ${hits.length - 3} more` : ''}, but NetworkPolicies judge a Service connection after kube-proxy's DNAT, on the backend pod's address, so it never matches. Allow the backend pods with a podSelector (and namespaceSelector) instead.`,
              peer.ipBlock.spans.cidr ?? peer.ipBlock.span,
            ),
          );
        }
    return out;
  },
};
