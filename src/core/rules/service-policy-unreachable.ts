import { problem, type Problem } from '../problem';
import { reachabilityOf } from '../policy/shared';
import type { Rule } from './rule';

/**
 * `service.policy-unreachable`: a Service whose endpoints no pod of any namespace may connect to on a port, under
 * the NetworkPolicies (ingress at the backend, egress at every possible client). Judged on the target port,
 * as policies see it after DNAT.
 */
export const servicePolicyUnreachable: Rule = {
  code: 'service.policy-unreachable',
  severity: 'warning',
  description: 'A Service whose endpoint pods no pod of any namespace may connect to, under the NetworkPolicies.',
  run({ topology }) {
    if (!topology.networkPolicies.length) return [];
    const reach = reachabilityOf(topology);
    const out: Problem[] = [];
    for (const svc of topology.services) {
      const backends = svc.endpoints.filter((e) => e.pod && reach.groupOfPod(e.pod) !== undefined);
      if (!backends.length) continue;
      for (const sp of svc.ports) {
        const reachable = backends.some((e) => {
          const port = e.ports[sp.name];
          const group = reach.groupOfPod(e.pod ?? '');
          if (port === undefined || group === undefined) return true;
          return reach.sourcesOf(group, { protocol: sp.protocol, port }).length > 0;
        });
        if (reachable) continue;
        const g = reach.matrix.groups[reach.groupOfPod(backends[0].pod ?? '') ?? 0];
        out.push(
          problem(
            'service.policy-unreachable',
            'warning',
            `No pod of any namespace may connect to Service ${svc.id} port ${sp.name || sp.port} (${sp.protocol} ${backends[0].ports[sp.name]} on its pods): ${g ? `${g.ingressPolicies.length ? `ingress to its pods is isolated by ${g.ingressPolicies.join(', ')}` : 'its pods are not isolated for ingress'}` : ''} and no combination of ingress and egress rules allows a pod client. Only addresses an ipBlock allows (or the pods' own nodes) can reach it.`,
            sp.span,
          ),
        );
      }
    }
    return out;
  },
};
