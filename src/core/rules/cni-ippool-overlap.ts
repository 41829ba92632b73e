import { parsePrefix } from '../net/address';
import { overlappingPairs } from '../net/ranges';
import { problem } from '../problem';
import type { IPPool } from '../model/types';
import type { Rule } from './rule';

/**
 * `cni.ippool-overlap`: two Calico IPPools whose CIDRs overlap. Calico refuses to create the second
 * (libcalico-go lib/clientv3/ippool.go, validateAndSetDefaults: "IPPool(...) CIDR overlaps with IPPool(...)"),
 * so one of the two in the files is not in the cluster.
 */
export const cniIppoolOverlap: Rule = {
  code: 'cni.ippool-overlap',
  severity: 'error',
  description: 'Two Calico IPPools overlap (Calico refuses the second one).',
  run({ topology }) {
    const items = topology.cluster.cni.ipPools.flatMap((pool) => {
      const prefix = parsePrefix(pool.cidr);
      return prefix ? [{ prefix, item: pool }] : [];
    });
    const at = (p: IPPool) => p.spans.cidr ?? p.span;
    return overlappingPairs(items).map(([a, b]) => {
      const [first, second] =
        a.span.file < b.span.file || (a.span.file === b.span.file && a.span.start < b.span.start) ? [a, b] : [b, a];
      return problem(
        'cni.ippool-overlap',
        'error',
        `IPPool ${second.name} (${second.cidr}) overlaps IPPool ${first.name} (${first.cidr}): Calico refuses to create a pool that overlaps another, so ${second.name} is not in the cluster. Give it a range of its own.`,
        at(second),
        [{ span: at(first), message: `IPPool ${first.name} ${first.cidr}` }],
      );
    });
  },
};
