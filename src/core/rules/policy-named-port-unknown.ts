import { problem, type Problem } from '../problem';
import { selectorMatches } from '../policy/selector';
import { peerCandidates, selectables, selectablesByNamespace } from '../policy/shared';
import type { Rule } from './rule';

/**
 * `policy.named-port-unknown`: a rule's named port that no destination pod declares. Named ports are resolved on
 * the destination: for ingress the pods the policy selects, for egress the pods its peers match (any pod when it
 * has none). Only reported when the files hold pods or workloads.
 */
export const policyNamedPortUnknown: Rule = {
  code: 'policy.named-port-unknown',
  severity: 'warning',
  description: 'A NetworkPolicy port name that no destination pod declares (named ports resolve on the destination).',
  run({ topology }) {
    if (!topology.networkPolicies.length) return [];
    const all = selectables(topology);
    if (!all.length) return [];
    const out: Problem[] = [];
    for (const p of topology.networkPolicies) {
      const selected = (selectablesByNamespace(topology).get(p.namespace) ?? []).filter((x) =>
        selectorMatches(p.podSelector, x.labels),
      );
      for (const [direction, rules] of [
        ['ingress', p.ingress],
        ['egress', p.egress],
      ] as const) {
        for (const r of rules) {
          const named = r.ports.filter((x) => typeof x.port === 'string');
          if (!named.length) continue;
          const destinations =
            direction === 'ingress'
              ? selected
              : !r.peers.length
                ? all
                : r.peers.flatMap((peer) =>
                    peer.ipBlock
                      ? []
                      : peerCandidates(topology, p.namespace, peer.namespaceSelector).filter(
                          (x) => !peer.podSelector || selectorMatches(peer.podSelector, x.labels),
                        ),
                  );
          if (!destinations.length) continue; // Reported by selects-nothing / peer-matches-nothing.
          for (const port of named) {
            const has = destinations.some((d) =>
              d.containers.some((c) => c.ports.some((cp) => cp.name === port.port && cp.protocol === port.protocol)),
            );
            if (has) continue;
            const names = [
              ...new Set(
                destinations.flatMap((d) => d.containers.flatMap((c) => c.ports.flatMap((cp) => cp.name ?? []))),
              ),
            ];
            out.push(
              problem(
                'policy.named-port-unknown',
                'warning',
                `No ${direction === 'ingress' ? `pod ${p.id} selects` : 'destination pod of this egress rule'} has a ${port.protocol} container port named '${String(port.port)}' (named ports are looked up on the destination pod's containers; ${names.length ? `known names: ${names.slice(0, 8).join(', ')}` : 'they declare no named ports'}), so this port allows nothing.`,
                port.span,
              ),
            );
          }
        }
      }
    }
    return out;
  },
};
