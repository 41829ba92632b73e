import { problem, type Problem } from '../problem';
import type { NetworkPolicy, Pod } from '../model/types';
import { policyIndexOf, reachabilityOf } from '../policy/shared';
import { podsById } from '../model/pods-by-id';
import type { Rule } from './rule';

/**
 * `policy.dns-egress-missing`: pods isolated for egress with no rule allowing cluster DNS (kube-dns, UDP and
 * TCP 53): every name lookup fails. Judged against the kube-dns pods when the files hold them, else against any
 * destination on port 53.
 */
export const policyDnsEgressMissing: Rule = {
  code: 'policy.dns-egress-missing',
  severity: 'warning',
  description: 'Pods isolated for egress with no rule allowing cluster DNS (kube-dns, UDP and TCP port 53).',
  run({ topology }) {
    if (!topology.networkPolicies.some((p) => p.policyTypes.includes('Egress'))) return [];
    const index = policyIndexOf(topology);
    const reach = reachabilityOf(topology);
    const podById = podsById(topology);
    const dnsService = topology.services.find((s) => s.id === 'kube-system/kube-dns');
    const dnsPods: Pod[] = (
      dnsService?.endpoints.flatMap((e) => (e.pod ? (podById.get(e.pod) ?? []) : [])) ??
      topology.pods.filter((p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns')
    ).filter((p) => p.ips.length);
    const allows = (pod: Pod, isolating: readonly NetworkPolicy[], proto: 'UDP' | 'TCP'): boolean => {
      if (dnsPods.length)
        return dnsPods.some(
          (d) =>
            index.judge('egress', index.endpoint(pod.ips[0]), index.endpoint(d.ips[0]), {
              src: pod.ips[0],
              dst: d.ips[0],
              proto,
              port: 53,
            }).allowed,
        );
      return isolating.some((p) => p.egress.some((r) => index.portMatches(r.ports, proto, 53, undefined)));
    };
    const blamed = new Map<string, { policy: NetworkPolicy; pods: string[]; missing: string }>();
    for (const g of reach.matrix.groups) {
      if (!g.egressPolicies.length) continue;
      const rep = podById.get(g.pods[0]);
      if (!rep) continue;
      const isolating = index.isolating(rep, 'egress');
      const udp = allows(rep, isolating, 'UDP');
      const tcp = allows(rep, isolating, 'TCP');
      if (udp && tcp) continue;
      // The policy to point at: the default deny (no egress rules), else the first isolating one.
      const policy = isolating.find((p) => !p.egress.length) ?? isolating[0];
      const entry = blamed.get(policy.id) ?? {
        policy,
        pods: [],
        missing: !udp && !tcp ? 'UDP and TCP' : !udp ? 'UDP' : 'TCP',
      };
      entry.pods.push(...g.pods);
      blamed.set(policy.id, entry);
    }
    const out: Problem[] = [];
    for (const { policy, pods, missing } of blamed.values()) {
      out.push(
        problem(
          'policy.dns-egress-missing',
          'warning',
          `${pods.length} pod${pods.length === 1 ? '' : 's'} (${pods.slice(0, 3).join(', ')}${pods.length > 3 ? ', …' : ''}) ${pods.length === 1 ? 'is' : 'are'} isolated for egress by ${policy.id} and no egress rule allows cluster DNS (${missing} port 53 to ${dnsPods.length ? 'the kube-dns pods' : 'kube-dns'}), so name lookups fail. Add an egress rule to namespaceSelector kubernetes.io/metadata.name=kube-system with podSelector k8s-app=kube-dns on UDP and TCP 53.`,
          policy.spans.policyTypes ?? policy.spans.name ?? policy.span,
        ),
      );
    }
    return out;
  },
};
