/**
 * Helpers that compute quick-fix data: a free address in a range, a free port, and the edits that move a
 * range together with the addresses that live in it. Pure functions over the range index.
 */
import { work } from '../work';
import {
  addressKey,
  firstAddress,
  formatValue,
  lastAddress,
  formatAddress,
  prefixContainsAddress,
  prefixesOverlap,
  type Address,
  type Prefix,
} from '../net/address';
import type { Span, TextEdit } from '../problem';
import {
  parsedAddress,
  parsedRange,
  type AddressEntry,
  type ParsedAddress,
  type ParsedRange,
  type RangeIndex,
} from './ranges';

/**
 * The lowest address of `prefix` that is not in `used`, not inside any of `avoid` (ranges it must stay out of,
 * e.g. the pod ranges a Service range overlaps) and is not the network address, the gateway (index 1, the CNI
 * bridge's default), or the last address. Looks at most `used.size + 4` candidates outside `avoid`, jumping over
 * each avoided block at once.
 */
export function freeAddress(
  prefix: Prefix,
  used: ReadonlySet<string>,
  skipGateway = true,
  avoid: readonly Prefix[] = [],
): string | undefined {
  const free = freeAddressIn(prefix, used, skipGateway, avoid);
  return free && formatAddress(free);
}

/**
 * {@link freeAddress} per pool, each found once, for a rule whose fixes take no address: every finding of one pool
 * (and one kind of ranges to avoid, `avoiding`) is offered the same, so 5,000 findings are one search, not 5,000 over
 * every pod range. The addresses in use are read from `index` at the first search.
 */
export function freeAddressOncePerPool(
  index: RangeIndex,
): (pool: Prefix, avoiding: string, avoid: () => readonly Prefix[]) => string | undefined {
  let used: Set<string> | undefined;
  const found = new Map<string, string | undefined>();
  return (pool, avoiding, avoid) => {
    const key = `${pool.text}\u0000${avoiding}`;
    if (!found.has(key)) found.set(key, freeAddress(pool, (used ??= usedAddressKeys(index)), true, avoid()));
    return found.get(key);
  };
}

/** {@link freeAddress} as an address. */
export function freeAddressIn(
  prefix: Prefix,
  used: ReadonlySet<string>,
  skipGateway = true,
  avoid: readonly Prefix[] = [],
): Address | undefined {
  return new FreeAddresses(prefix, used, skipGateway, avoid).next();
}

/**
 * Free addresses of a prefix handed out one after another, as {@link freeAddressIn} would answer again and again with
 * each answer added to `used`, but in one walk: each search starts above the last answer (every address below it was
 * used, avoided or handed out), so handing out k addresses costs no more than one search over them. `used` is only
 * read.
 */
export class FreeAddresses {
  private readonly family: Prefix['family'];
  private readonly last: bigint;
  /** The avoided blocks that meet the prefix, by first address: [first, last] pairs. */
  private readonly blocks: readonly (readonly [bigint, bigint])[];
  private block = 0;
  private at: bigint;

  constructor(
    prefix: Prefix,
    private readonly used: ReadonlySet<string>,
    skipGateway = true,
    avoid: readonly Prefix[] = [],
  ) {
    this.family = prefix.family;
    this.last = lastAddress(prefix);
    this.at = firstAddress(prefix) + (skipGateway ? 2n : 1n);
    work.freeAddressSteps += avoid.length;
    // Only blocks that meet the prefix matter (a cluster has thousands of node pod ranges; a Service range meets few).
    // In order of their first address, a block that ends below the walk is passed for good: the first one left either
    // holds the address walked, or starts above it, as every one after it does.
    this.blocks = avoid
      .filter((p) => p.family === prefix.family && prefixesOverlap(p, prefix))
      .map((p): [bigint, bigint] => [firstAddress(p), lastAddress(p)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The next free address, or undefined when none is left. */
  next(): Address | undefined {
    // Every address below `at` is used, avoided or handed out: an unused one comes within used.size + 1 candidates.
    let tries = this.used.size + 4;
    while (this.at < this.last && tries > 0) {
      work.freeAddressSteps++;
      while (this.block < this.blocks.length && this.blocks[this.block][1] < this.at) this.block++;
      const block = this.blocks[this.block];
      if (block && block[0] <= this.at) {
        this.at = block[1] + 1n;
        continue;
      }
      const candidate: Address = { family: this.family, value: this.at++ };
      if (!this.used.has(addressKey(candidate))) return candidate;
      tries--;
    }
    return undefined;
  }
}

/** The free port nearest to `near` in `[min, max]`, or undefined when every port is taken. */
export function freePort(near: number, min: number, max: number, used: ReadonlySet<number>): number | undefined {
  const start = Math.min(Math.max(near, min), max);
  for (let d = 0; d <= max - min; d++) {
    if (start + d <= max && !used.has(start + d)) return start + d;
    if (start - d >= min && !used.has(start - d)) return start - d;
  }
  return undefined;
}

/** The pod ranges (cluster and node), which a free cluster IP must stay out of when a Service range overlaps them. */
export function podRanges(index: RangeIndex): Prefix[] {
  return index.ranges.flatMap((r) =>
    r.prefix && (r.role === 'cluster-pods' || r.role === 'node-pods') ? [r.prefix] : [],
  );
}

/** The Service ranges, which a free pod IP must stay out of. */
export function serviceRanges(index: RangeIndex): Prefix[] {
  return index.ranges.flatMap((r) => (r.prefix && r.role === 'services' ? [r.prefix] : []));
}

/** The keys of every address in use (pods, cluster IPs, interfaces, bridges, externals), for free-address searches. */
export function usedAddressKeys(index: RangeIndex): Set<string> {
  const used = new Set<string>();
  for (const a of index.addresses) {
    if (a.role === 'pod') work.podIPEntriesWalked++;
    if (a.address) used.add(addressKey(a.address));
  }
  for (const r of index.ranges) {
    if (r.prefix && (r.role === 'interface' || r.role === 'bridge' || r.role === 'external'))
      used.add(addressKey({ family: r.prefix.family, value: r.prefix.address }));
  }
  return used;
}

/**
 * The edits that move `self` from its block to `to` and carry along what lives inside it, keeping each
 * address at the same offset: a Service range carries its cluster IPs; a node's pod CIDR its pods and bridge
 * address; a cluster pod CIDR the node pod CIDRs, bridges and pods inside it. Undefined when something that
 * has to move has no exact span of its own (it was defaulted or derived, so there is no text to edit).
 */
export function relocationEdits(self: ParsedRange, to: Prefix, index: RangeIndex): TextEdit[] | undefined {
  const from = self.prefix;
  if (!self.exact) return undefined;
  const shift = firstAddress(to) - firstAddress(from);
  const inside = (value: bigint) => prefixContainsAddress(from, { family: from.family, value });
  const moved = (value: bigint) => formatValue(from.family, value + shift);
  const edits: TextEdit[] = [
    { span: self.span, newText: to.text },
    ...(self.echoes ?? []).map((span) => ({ span, newText: to.text })),
  ];
  const carried: (ParsedRange | ParsedAddress)[] = [];
  const carries = (e: ParsedRange | ParsedAddress): boolean => {
    switch (self.role) {
      case 'services':
        return e.role === 'cluster-ip';
      case 'node-pods':
        return (
          (e.role === 'pod' && !(e as AddressEntry).hostNetwork && e.node === self.node) ||
          (e.role === 'bridge' && e.node === self.node)
        );
      case 'cluster-pods':
        return (e.role === 'pod' && !(e as AddressEntry).hostNetwork) || e.role === 'bridge' || e.role === 'node-pods';
      default:
        return false;
    }
  };
  work.relocationEntriesWalked += index.addresses.length + index.ranges.length;
  for (const a of index.addresses)
    if (parsedAddress(a) && a.address.family === from.family && inside(a.address.value) && carries(a)) carried.push(a);
  for (const r of index.ranges)
    if (r !== self && parsedRange(r) && r.prefix.family === from.family && inside(r.prefix.address) && carries(r))
      carried.push(r);
  // A Service range also takes the cluster IPs of its family that no Service range holds (they were already
  // outside it): after the move each gets a free address in the new block, so no ip.outside-range follows.
  const strays: AddressEntry[] = [];
  if (self.role === 'services') {
    const others = index.ranges
      .filter(parsedRange)
      .filter((r) => r !== self && r.role === 'services' && r.prefix.family === from.family);
    work.relocationEntriesWalked += index.otherAddresses.length;
    for (const a of index.otherAddresses) {
      const address = a.address;
      if (a.role !== 'cluster-ip' || !address || address.family !== from.family || inside(address.value)) continue;
      if (others.some((r) => prefixContainsAddress(r.prefix, address))) continue;
      strays.push(a);
    }
  }
  for (const e of carried) {
    if (!e.exact) {
      // A bridge address derived from the pod CIDR follows the CIDR by itself.
      if (e.role === 'bridge') continue;
      return undefined;
    }
    if ('prefix' in e) edits.push({ span: e.span, newText: `${moved(e.prefix.address)}/${e.prefix.length}` });
    else edits.push({ span: e.span, newText: moved(e.address.value) });
  }
  if (strays.length) {
    const used = usedAddressKeys(index);
    for (const e of carried)
      if ('address' in e && e.address) used.add(addressKey({ family: from.family, value: e.address.value + shift }));
    const free = new FreeAddresses(to, used);
    for (const a of strays) {
      const address = a.exact ? free.next() : undefined;
      if (!address) return undefined;
      edits.push({ span: a.span, newText: formatAddress(address) });
    }
  }
  return dedupe(edits);
}

function dedupe(edits: TextEdit[]): TextEdit[] {
  const seen = new Set<string>();
  return edits.filter((e) => {
    const k = spanKey(e.span);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const spanKey = (s: Span): string => `${s.file}\u0000${s.start}\u0000${s.end}`;
