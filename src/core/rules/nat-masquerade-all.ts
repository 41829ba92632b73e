import { problem } from '../problem';
import type { Rule } from './rule';

/**
 * `nat.masquerade-all`: kube-proxy's masqueradeAll SNATs every packet sent to a Service IP, so every backend
 * sees the node, not the client, as the source (kube-proxy puts KUBE-MARK-MASQ first in every KUBE-SVC chain).
 */
export const natMasqueradeAll: Rule = {
  code: 'nat.masquerade-all',
  severity: 'warning',
  description: 'kube-proxy masqueradeAll is on: every Service client is seen as the node.',
  run({ topology }) {
    const kp = topology.cluster.kubeProxy;
    if (!kp.masqueradeAll) return [];
    const span = kp.spans.masqueradeAll ?? kp.span;
    const fixes = kp.spans.masqueradeAll
      ? [{ title: 'Set masqueradeAll to false', edits: [{ span, newText: 'false' }], preferred: true }]
      : [];
    return [
      problem(
        'nat.masquerade-all',
        'warning',
        "kube-proxy masqueradeAll is on: every packet to a Service IP is SNATed to the node's address, so backends never see the real client (logs, NetworkPolicies and source-IP checks all see the node). Pod-to-Service traffic needs no masquerade; turn it off unless a network requires it.",
        span,
        [],
        fixes,
      ),
    ];
  },
};
