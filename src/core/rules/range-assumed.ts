import { prefixContainsAddress, prefixesOverlap } from '../net/address';
import { problem, type Problem } from '../problem';
import { assumedNodePortRangeNote, assumedServiceRangeNote, parsedRange } from './ranges';
import type { Rule } from './rule';

/**
 * `range.assumed`: what would be an error if the range NetPath assumed (nothing read declares it) were the
 * cluster's: a cluster IP outside the assumed Service range, a pod range or network inside it, a nodePort outside
 * the assumed node-port range. Information only: a finding never rests on an assumption; the message names the
 * assumption and where to declare the real value. `ip.outside-range` and `cidr.overlap` stay quiet on these.
 */
export const rangeAssumed: Rule = {
  code: 'range.assumed',
  severity: 'info',
  description:
    'A value that does not fit a range NetPath assumed (the default Service or node-port range): declare the real range.',
  run({ topology, ranges }) {
    const out: Problem[] = [];
    const assumed = ranges.ranges.filter(parsedRange).filter((r) => r.role === 'services' && r.assumed);
    for (const range of assumed) {
      const note = assumedServiceRangeNote(range.text);
      // Cluster IPs only: among the entries that are no pod IP.
      for (const a of ranges.otherAddresses) {
        if (a.role !== 'cluster-ip' || !a.address || a.address.family !== range.prefix.family) continue;
        if (prefixContainsAddress(range.prefix, a.address)) continue;
        out.push(
          problem(
            'range.assumed',
            'info',
            `Cluster IP ${a.text} (${a.owner}) is outside the Service range NetPath assumes (${range.text}). ${note}.`,
            a.span,
          ),
        );
      }
      for (const r of ranges.ranges) {
        if (!r.prefix || !['cluster-pods', 'node-pods', 'network'].includes(r.role)) continue;
        if (!prefixesOverlap(r.prefix, range.prefix)) continue;
        out.push(
          problem(
            'range.assumed',
            'info',
            `${r.text} (${r.owner}) overlaps the Service range NetPath assumes (${range.text}); if that is your cluster's Service range, kube-proxy would capture traffic to those addresses. ${note}.`,
            r.span,
          ),
        );
      }
    }
    if (topology.cluster.assumed.nodePortRange) {
      const { min, max } = topology.cluster.nodePortRange;
      for (const s of topology.services)
        for (const p of s.ports)
          if (p.nodePort !== undefined && (p.nodePort < min || p.nodePort > max))
            out.push(
              problem(
                'range.assumed',
                'info',
                `nodePort ${p.nodePort} of Service ${s.id} is outside the node-port range NetPath assumes (${min}-${max}). ${assumedNodePortRangeNote(min, max)}.`,
                p.spans.nodePort ?? p.span,
              ),
            );
    }
    return out;
  },
};
