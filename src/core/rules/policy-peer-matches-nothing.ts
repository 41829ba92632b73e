import { problem, type Problem } from '../problem';
import { formatSelector, selectorMatches } from '../policy/selector';
import { peerCandidates, selectables } from '../policy/shared';
import type { Rule } from './rule';

/**
 * `policy.peer-matches-nothing`: a `from`/`to` peer whose selectors match nothing: a namespaceSelector that no
 * namespace has, or pod labels no pod (nor workload template) of the selected namespaces has. The rule then allows
 * less than its author meant. Only reported when the files hold pods or workloads.
 */
export const policyPeerMatchesNothing: Rule = {
  code: 'policy.peer-matches-nothing',
  severity: 'warning',
  description: 'A NetworkPolicy peer whose namespaceSelector or podSelector matches no namespace or pod.',
  run({ topology }) {
    if (!topology.networkPolicies.length) return [];
    if (!selectables(topology).length) return [];
    const out: Problem[] = [];
    for (const p of topology.networkPolicies) {
      for (const [direction, rules] of [
        ['ingress', p.ingress],
        ['egress', p.egress],
      ] as const) {
        for (const r of rules) {
          for (const peer of r.peers) {
            if (peer.ipBlock || peer.podSelector?.invalid || peer.namespaceSelector?.invalid) continue;
            const nsSelector = peer.namespaceSelector;
            const namespaces = nsSelector
              ? topology.namespaces.filter((n) => selectorMatches(nsSelector, n.labels)).map((n) => n.name)
              : [p.namespace];
            const where = `${direction}[${r.index}] of ${p.id}`;
            if (nsSelector && !namespaces.length) {
              out.push(
                problem(
                  'policy.peer-matches-nothing',
                  'warning',
                  `No namespace has labels ${formatSelector(nsSelector)}, so this peer of ${where} matches no pod (known namespaces: ${topology.namespaces
                    .map((n) => n.name)
                    .slice(0, 8)
                    .join(', ')}). Every namespace carries kubernetes.io/metadata.name=<its name>.`,
                  nsSelector.span,
                ),
              );
              continue;
            }
            const podSelector = peer.podSelector;
            if (!podSelector) continue;
            const candidates = peerCandidates(topology, p.namespace, peer.namespaceSelector);
            if (candidates.some((x) => selectorMatches(podSelector, x.labels))) continue;
            out.push(
              problem(
                'policy.peer-matches-nothing',
                'warning',
                `No pod or workload ${peer.namespaceSelector ? `in the namespaces matching ${formatSelector(peer.namespaceSelector)} (${namespaces.slice(0, 5).join(', ')})` : `of namespace ${p.namespace}`} has labels ${formatSelector(peer.podSelector)}, so this peer of ${where} matches nothing.${peer.namespaceSelector ? '' : " A podSelector alone selects pods of the policy's own namespace; add a namespaceSelector to reach other namespaces."}`,
                peer.podSelector.span,
              ),
            );
          }
        }
      }
    }
    return out;
  },
};
