import { canonical, hasHostBits } from '../net/address';
import { problem } from '../problem';
import { parsedRange } from './ranges';
import type { Rule } from './rule';

/**
 * `cidr.host-bits`: a range written with host bits set (`10.0.0.1/8`). Tools disagree on it: CNI
 * host-local, ip-masq-agent and strict Kubernetes validation reject it, kubeadm silently normalises it.
 * Interface, bridge and external addresses are exempt: there the host part is the point.
 */
export const cidrHostBits: Rule = {
  code: 'cidr.host-bits',
  severity: 'warning',
  description: 'A CIDR range written with host bits set; some tools reject it, others silently normalise it.',
  run({ ranges }) {
    return ranges.ranges
      .filter(parsedRange)
      .filter((r) => hasHostBits(r.prefix) && r.role !== 'interface' && r.role !== 'bridge' && r.role !== 'external')
      .map((r) => {
        const fixed = canonical(r.prefix);
        return problem(
          'cidr.host-bits',
          'warning',
          `'${r.text}' has host bits set: as a range it means ${fixed}. CNI host-local IPAM and ip-masq-agent reject it, kubeadm silently rewrites it; write ${fixed}.`,
          r.span,
          [],
          [{ title: `Change to ${fixed}`, edits: [{ span: r.span, newText: fixed }], preferred: true }],
        );
      });
  },
};
