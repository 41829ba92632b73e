import { bitsOf, canonical, firstAddress, prefixContainsAddress, type Prefix } from '../net/address';
import { problem, type QuickFix } from '../problem';
import { parsedAddress, parsedRange, type ParsedAddress } from './ranges';
import type { Rule } from './rule';

/** kube-apiserver's limit: a Service range has at most 20 host bits (IPv4 /12, IPv6 /108). */
export const MAX_SERVICE_HOST_BITS = 20;

/**
 * `cidr.service-range-too-large`: a Service range with more than 20 host bits. kube-apiserver refuses to start
 * with it (its allocator bitmap is limited to 2^20 addresses).
 */
export const cidrServiceRangeTooLarge: Rule = {
  code: 'cidr.service-range-too-large',
  severity: 'error',
  description: 'A Service range larger than kube-apiserver allows (more than 20 host bits: IPv4 /12, IPv6 /108).',
  run({ ranges }) {
    // The cluster IPs are among the entries that are no pod IP; gathered only for a range too large (hardly ever).
    let clusterIPs: ParsedAddress[] | undefined;
    return ranges.ranges
      .filter(parsedRange)
      .filter((r) => r.role === 'services' && bitsOf(r.prefix.family) - r.prefix.length > MAX_SERVICE_HOST_BITS)
      .map((r) => {
        const p = r.prefix;
        const length = bitsOf(p.family) - MAX_SERVICE_HOST_BITS;
        const narrowed: Prefix = { family: p.family, address: firstAddress(p), length, text: '' };
        const text = canonical(narrowed);
        // Offer the narrower range only when every cluster IP of this family still fits in it.
        clusterIPs ??= ranges.otherAddresses.filter((a) => a.role === 'cluster-ip').filter(parsedAddress);
        const fits = clusterIPs.every(
          (a) =>
            a.address.family !== p.family ||
            !prefixContainsAddress(p, a.address) ||
            prefixContainsAddress(narrowed, a.address),
        );
        const fixes: QuickFix[] =
          fits && r.exact
            ? [{ title: `Change to ${text}`, edits: [{ span: r.span, newText: text }], preferred: true }]
            : [];
        return problem(
          'cidr.service-range-too-large',
          'error',
          `The Service range ${r.text} has ${bitsOf(p.family) - p.length} host bits; kube-apiserver allows at most ${MAX_SERVICE_HOST_BITS} (/${length} for IPv${p.family}) and refuses to start. Use a /${length} or smaller, e.g. ${text}.`,
          r.span,
          [],
          fixes,
        );
      });
  },
};
