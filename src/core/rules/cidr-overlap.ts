import { firstAddress, formatValue, hostPrefix, sizeOf } from '../net/address';
import { describeRange, nextFreePrivateBlock, overlapRange, overlappingPairs, rangeText } from '../net/ranges';
import { problem, type Problem } from '../problem';
import type { RangeEntry, RangeRole } from './ranges';
import type { Rule } from './rule';

/** Roles whose overlaps break something, and the words for them. */
const ROLES: Partial<Record<RangeRole, string>> = {
  'cluster-pods': 'pod IPs of the cluster',
  services: 'Service IPs',
  network: 'addresses of',
  'node-pods': 'pod IPs on',
  external: 'the address of',
};

function label(e: RangeEntry): string {
  switch (e.role) {
    case 'cluster-pods': return 'pod IPs of the cluster';
    case 'services': return 'Service IPs';
    case 'network': return `addresses on ${e.owner}`;
    case 'node-pods': return `pod IPs on ${e.owner.replace(/^node /, '')}`;
    default: return `the address of ${e.owner}`;
  }
}

/** What goes wrong when `a` and `b` share addresses. */
function consequence(a: RangeEntry, b: RangeEntry): string {
  const roles = new Set([a.role, b.role]);
  if (roles.has('services') && (roles.has('node-pods') || roles.has('cluster-pods'))) return 'traffic to a pod in that range is captured by kube-proxy';
  if (roles.has('services')) return 'packets to those machines are captured by kube-proxy\'s Service rules';
  if (roles.has('node-pods') && roles.size === 1) return 'two nodes hand out the same pod IPs and routes to them conflict';
  if (roles.has('network') || roles.has('external')) return 'the node routes those addresses to its pods instead of the network, so the machines there become unreachable';
  return 'the same address can mean two different things';
}

/** Only these pairs matter: a node's pod CIDR inside the cluster CIDR is how it should be. */
function conflicts(a: RangeEntry, b: RangeEntry): boolean {
  if (a.prefix!.family !== b.prefix!.family) return false;
  const roles = [a.role, b.role].sort().join('+');
  if (roles === 'cluster-pods+node-pods') return false;
  if (a.role === b.role && a.role !== 'node-pods') return false;
  if (roles === 'external+network') return false; // An external client sits inside its network.
  return true;
}

/**
 * `cidr.overlap`: two ranges of different roles share addresses — cluster pod CIDRs, Service CIDRs, underlay
 * networks, node pod CIDRs (with each other) and external clients. One diagnostic on each side, each pointing
 * at the other; the quick fix moves the range to the nearest free block of the same size.
 */
export const cidrOverlap: Rule = {
  code: 'cidr.overlap',
  description: 'Two ranges with different roles (pods, Services, networks, nodes, externals) share addresses.',
  run({ ranges }) {
    // An external client is one address, whatever the prefix length of its interface.
    const candidates = ranges.ranges
      .filter((r) => r.prefix && r.role in ROLES)
      .map((r) => (r.role === 'external' ? { ...r, prefix: hostPrefix({ family: r.prefix!.family, value: r.prefix!.address }) } : r));
    const pairs = overlappingPairs(candidates.map((item) => ({ prefix: item.prefix!, item }))).filter(([a, b]) => conflicts(a, b));
    const used = candidates.map((c) => c.prefix!);
    const out: Problem[] = [];
    for (const [a, b] of pairs) {
      const shared = overlapRange(a.prefix!, b.prefix!)!;
      const sharedText = shared.first === shared.last ? formatValue(shared.family, shared.first) : rangeText(shared.family, shared.first, shared.last);
      const why = consequence(a, b);
      for (const [self, other] of [[a, b], [b, a]] as const) {
        if (self.role === 'external') continue; // Move the range, not the client: the fix belongs on the other side.
        const message = `${capitalise(label(self))} ${sharedText} are also ${label(other)} (${describeRange(other.prefix!)}): ${why}.`;
        const block = self.role === 'network' ? undefined : nextFreePrivateBlock(self.prefix!.length, self.prefix!.family, used, firstAddress(self.prefix!));
        const fixes = block ? [{ title: `Move ${self.text} to the free block ${block.text} (${sizeOf(block)} addresses)`, edits: [{ span: self.span, newText: block.text }], preferred: true }] : [];
        out.push(problem('cidr.overlap', 'error', message, self.span, [{ span: other.span, message: `${label(other)} ${other.text}` }], fixes));
      }
    }
    return out;
  },
};

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
