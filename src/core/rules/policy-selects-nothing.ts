import { problem } from '../problem';
import { formatSelector, selectorMatches } from '../policy/selector';
import { selectables, selectablesByNamespace } from '../policy/shared';
import type { Rule } from './rule';

/**
 * `policy.selects-nothing`: a NetworkPolicy whose podSelector matches no pod (nor workload pod template) of its
 * namespace: it isolates nothing and allows nothing. Only reported when the files hold pods or workloads.
 */
export const policySelectsNothing: Rule = {
  code: 'policy.selects-nothing',
  severity: 'warning',
  description: 'A NetworkPolicy whose podSelector matches no pod or workload of its namespace: it has no effect.',
  run({ topology }) {
    if (!topology.networkPolicies.length) return [];
    if (!selectables(topology).length) return [];
    const byNs = selectablesByNamespace(topology);
    return topology.networkPolicies.flatMap((p) => {
      if (p.podSelector.invalid) return [];
      const inNs = byNs.get(p.namespace) ?? [];
      if (inNs.some((x) => selectorMatches(p.podSelector, x.labels))) return [];
      const why = inNs.length
        ? `none of the ${inNs.length} pods and workloads of namespace ${p.namespace} has labels ${formatSelector(p.podSelector)}`
        : `namespace ${p.namespace} has no pods or workloads in these files`;
      return [
        problem(
          'policy.selects-nothing',
          'warning',
          `NetworkPolicy ${p.id} selects no pod: ${why}. A policy only applies to pods of its own namespace, so it isolates nothing and allows nothing.`,
          p.spans.podSelector ?? p.spans.name ?? p.span,
        ),
      ];
    });
  },
};
