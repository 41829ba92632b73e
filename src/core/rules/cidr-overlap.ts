import { firstAddress, formatValue, hostPrefix, prefixContains, sizeOf, type Prefix } from '../net/address';
import {
  describeRange,
  nextFreeBlock,
  nextFreePrivateBlock,
  overlapRange,
  overlappingPairs,
  rangeText,
} from '../net/ranges';
import { problem, type Problem, type QuickFix } from '../problem';
import { relocationEdits } from './fixes';
import { parsedRange, type ParsedRange, type RangeEntry, type RangeIndex, type RangeRole } from './ranges';
import type { Rule } from './rule';

/** Roles whose overlaps break something. */
const ROLES: ReadonlySet<RangeRole> = new Set(['cluster-pods', 'services', 'network', 'node-pods', 'external']);

function label(e: RangeEntry): string {
  switch (e.role) {
    case 'cluster-pods':
      return 'pod IPs of the cluster';
    case 'services':
      return 'Service IPs';
    case 'network':
      return `addresses on ${e.owner}`;
    case 'node-pods':
      return `pod IPs on ${e.owner.replace(/^node /, '')}`;
    default:
      return `the address of ${e.owner}`;
  }
}

/** What goes wrong when `a` and `b` share addresses. */
function consequence(a: RangeEntry, b: RangeEntry): string {
  const roles = new Set([a.role, b.role]);
  if (roles.has('services') && (roles.has('node-pods') || roles.has('cluster-pods')))
    return 'traffic to a pod in that range is captured by kube-proxy';
  if (roles.has('services')) return "packets to those machines are captured by kube-proxy's Service rules";
  if (roles.has('node-pods') && roles.size === 1)
    return 'two nodes hand out the same pod IPs and routes to them conflict';
  if (roles.has('network') || roles.has('external'))
    return 'the node routes those addresses to its pods instead of the network, so the machines there become unreachable';
  return 'the same address can mean two different things';
}

/** Only these pairs matter: a node's pod CIDR inside the cluster CIDR is how it should be. */
function conflicts(a: RangeEntry, b: RangeEntry): boolean {
  const roles = [a.role, b.role].sort().join('+');
  if (roles === 'cluster-pods+node-pods') return false;
  if (a.role === b.role && a.role !== 'node-pods') return false;
  if (roles === 'external+network') return false; // An external client sits inside its network.
  return true;
}

/**
 * The quick fix for `self`: the nearest free block of the same size that overlaps nothing, carrying along the
 * addresses that live in the range. A node's pod CIDR stays inside the cluster pod CIDR. Networks and
 * external clients are not moved: they are the physical world, the cluster adapts to them.
 */
function moveFix(self: ParsedRange, candidates: readonly ParsedRange[], index: RangeIndex): QuickFix[] {
  const block = freeBlockFor(self, candidates, index);
  return block ? moveFixTo(self, block, index) : [];
}

/** Where {@link moveFix} moves `self`: undefined for a range that is not moved or has nowhere to go. */
function freeBlockFor(
  self: ParsedRange,
  candidates: readonly ParsedRange[],
  index: RangeIndex,
  alsoTaken: readonly Prefix[] = [],
): Prefix | undefined {
  if (self.role === 'network' || self.role === 'external') return undefined;
  const p = self.prefix;
  if (self.role === 'node-pods') {
    const cluster = index.ranges.find((r) => r.role === 'cluster-pods' && r.prefix && prefixContains(r.prefix, p));
    // Inside the cluster CIDR every range counts as taken except the cluster CIDRs themselves.
    const taken = [...candidates.filter((c) => c.role !== 'cluster-pods').map((c) => c.prefix), ...alsoTaken];
    return cluster ? nextFreeBlock(p.length, p.family, taken, firstAddress(p), cluster.prefix) : undefined;
  }
  return nextFreePrivateBlock(p.length, p.family, [...candidates.map((c) => c.prefix), ...alsoTaken], firstAddress(p));
}

/** The fix moving `self` to `block`, with what lives in it; none when something it carries has no text to edit. */
function moveFixTo(self: ParsedRange, block: Prefix, index: RangeIndex): QuickFix[] {
  const edits = relocationEdits(self, block, index);
  if (!edits) return [];
  const n = edits.length - 1;
  const carried =
    n === 0
      ? ''
      : n === 1
        ? ' and renumber the address that belongs in it'
        : ` and renumber the ${n} addresses that belong in it`;
  return [
    {
      title: `Move ${self.text} to the free block ${block.text} (${sizeOf(block)} addresses)${carried}`,
      edits,
      preferred: true,
    },
  ];
}

/**
 * `cidr.overlap`: two ranges of different roles share addresses — cluster pod CIDRs, Service CIDRs, underlay
 * networks, node pod CIDRs (with each other) and external clients. One diagnostic on each side, each pointing
 * at the other; the quick fix moves the range to the nearest free block of the same size.
 */
export const cidrOverlap: Rule = {
  code: 'cidr.overlap',
  severity: 'error',
  description: 'Two ranges with different roles (pods, Services, networks, nodes, externals) share addresses.',
  run({ ranges }) {
    // An external client is one address, whatever the prefix length of its interface.
    // An assumed Service range is nobody's fact: range.assumed reports what overlaps it, as information.
    const candidates: ParsedRange[] = ranges.ranges
      .filter(parsedRange)
      .filter((r) => ROLES.has(r.role) && !r.assumed)
      .map((r) =>
        r.role === 'external' ? { ...r, prefix: hostPrefix({ family: r.prefix.family, value: r.prefix.address }) } : r,
      );
    const { paired, crowds } = crowdsOfNodeRanges(candidates);
    const pairs = overlappingPairs(paired.map((item) => ({ prefix: item.prefix, item }))).filter(([a, b]) =>
      conflicts(a, b),
    );
    const out: Problem[] = crowds.flatMap((crowd) => crowdProblems(crowd, candidates, ranges));
    // A range's move depends on the range alone: one Service range overlapping 5,000 node pod ranges is one move,
    // offered on each of its 5,000 diagnostics (each move walks every address to carry the ones inside it).
    const moves = new Map<ParsedRange, QuickFix[]>();
    const moveOf = (self: ParsedRange): QuickFix[] => {
      let fixes = moves.get(self);
      if (!fixes) moves.set(self, (fixes = moveFix(self, candidates, ranges)));
      return fixes;
    };
    for (const [a, b] of pairs) {
      // overlappingPairs pairs only prefixes that overlap, so their overlap is never empty.
      const shared = overlapRange(a.prefix, b.prefix);
      if (!shared) continue;
      const sharedText =
        shared.first === shared.last
          ? formatValue(shared.family, shared.first)
          : rangeText(shared.family, shared.first, shared.last);
      const why = consequence(a, b);
      for (const [self, other] of [
        [a, b],
        [b, a],
      ] as const) {
        if (self.role === 'external') continue; // Move the range, not the client: the diagnostic belongs on the other side.
        const message =
          other.role === 'external'
            ? `${capitalise(label(self))} (${self.text}) include ${sharedText}, the address of ${other.owner}: ${why}.`
            : `${capitalise(label(self))} ${sharedText} are also ${label(other)} (${describeRange(other.prefix)}): ${why}.`;
        out.push(
          problem(
            'cidr.overlap',
            'error',
            message,
            self.span,
            [{ span: other.span, message: `${capitalise(label(other))}: ${other.text}` }],
            // Pods against Services: the Service range moves (it carries only cluster IPs); moving the pod
            // range would also have to move every route and rule written for it.
            self.role !== 'services' && other.role === 'services' ? [] : moveOf(self),
          ),
        );
      }
    }
    return out;
  },
};

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * More nodes than this with one pod CIDR are reported as a crowd: one diagnostic per node instead of one per pair of
 * them (5,000 nodes given one pod CIDR by a generator were 25 million diagnostics, and the analysis ran out of memory).
 */
const CROWD_MIN = 9;
/** The other nodes of a crowd a node's diagnostic names and points at. */
const CROWD_NAMED = 3;
/**
 * The nodes of a crowd, after its first, whose diagnostics offer a move, each to a block of its own: each move reads
 * every range and address, so a crowd of 5,000 does not make 5,000 (the next analysis offers the next ones).
 */
const CROWD_MOVES = 16;

/**
 * The ranges to pair, and the crowds of node pod CIDRs set apart: those of CROWD_MIN nodes or more with one prefix.
 * Only the first of a crowd is paired with the other ranges (the others overlap the same ones); each node of it gets
 * one diagnostic naming the rest.
 */
function crowdsOfNodeRanges(candidates: readonly ParsedRange[]): {
  paired: readonly ParsedRange[];
  crowds: ParsedRange[][];
} {
  const same = new Map<string, ParsedRange[]>();
  for (const r of candidates) {
    if (r.role !== 'node-pods') continue;
    const key = `${r.prefix.family}/${firstAddress(r.prefix)}/${r.prefix.length}`;
    const list = same.get(key);
    if (list) list.push(r);
    else same.set(key, [r]);
  }
  const crowds = [...same.values()].filter((list) => list.length >= CROWD_MIN);
  if (!crowds.length) return { paired: candidates, crowds };
  const apart = new Set(crowds.flatMap((list) => list.slice(1)));
  return { paired: candidates.filter((r) => !apart.has(r)), crowds };
}

/**
 * One diagnostic per node of a crowd, naming a few of the others and how many there are. The first node keeps the
 * range; the next CROWD_MOVES are offered moves to distinct free blocks.
 */
function crowdProblems(
  crowd: readonly ParsedRange[],
  candidates: readonly ParsedRange[],
  index: RangeIndex,
): Problem[] {
  const chosen: Prefix[] = [];
  const moves = crowd.slice(1, 1 + CROWD_MOVES).map((self) => {
    const block = freeBlockFor(self, candidates, index, chosen);
    if (!block) return [];
    chosen.push(block);
    return moveFixTo(self, block, index);
  });
  return crowd.map((self, i) => {
    const named = crowd
      .slice(0, CROWD_NAMED + 1)
      .filter((r) => r !== self)
      .slice(0, CROWD_NAMED);
    const names = named.map((r) => r.owner.replace(/^node /, '')).join(', ');
    const more = crowd.length - 1 - named.length;
    return problem(
      'cidr.overlap',
      'error',
      `${capitalise(label(self))} (${self.text}) are also the pod IPs of ${crowd.length - 1} other nodes (${names}${more ? ` and ${more} more` : ''}): ${consequence(self, named[0])}.`,
      self.span,
      named.map((r) => ({ span: r.span, message: `${capitalise(label(r))}: ${r.text}` })),
      (i > 0 && moves[i - 1]) || [],
    );
  });
}
