import { prefixContains } from '../net/address';
import { problem } from '../problem';
import { parsedRange } from './ranges';
import type { Rule } from './rule';

/**
 * `cidr.node-outside-cluster`: a node's pod CIDR that is not inside any cluster pod CIDR of its family. Its
 * pods count as "outside the cluster" for kube-proxy's local-traffic detection and masquerade rules.
 */
export const cidrNodeOutsideCluster: Rule = {
  code: 'cidr.node-outside-cluster',
  severity: 'error',
  description: 'A node pod CIDR that is not inside any cluster pod CIDR.',
  run({ ranges }) {
    const parsed = ranges.ranges.filter(parsedRange);
    const cluster = parsed.filter((r) => r.role === 'cluster-pods');
    return parsed
      .filter((r) => r.role === 'node-pods')
      .flatMap((r) => {
        const sameFamily = cluster.filter((c) => c.prefix.family === r.prefix.family);
        if (!sameFamily.length || sameFamily.some((c) => prefixContains(c.prefix, r.prefix))) return [];
        return [
          problem(
            'cidr.node-outside-cluster',
            'error',
            `The pod CIDR ${r.text} of ${r.owner} is not inside the cluster pod CIDR ${sameFamily.map((c) => c.text).join(', ')}: kube-proxy and masquerade rules treat its pods as outside the cluster, so their traffic gets NATed and routes to them are missing.`,
            r.span,
            sameFamily.map((c) => ({ span: c.span, message: `cluster pod CIDR ${c.text}` })),
          ),
        ];
      });
  },
};
