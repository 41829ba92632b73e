/**
 * Range logic over prefixes and address ranges: ordering, overlap detection across many items, the shared
 * part of two ranges, the nearest free aligned block, and range text for messages. Pure: no Node
 * built-ins, no `vscode`, no DOM.
 *
 * A prefix always means its canonical range here: `10.0.0.1/8` covers 10.0.0.0-10.255.255.255, whatever
 * host bits were written. Addresses of different families never overlap, and IPv4-mapped IPv6
 * (`::ffff:10.0.0.0/104`) is IPv6, so it never overlaps IPv4 (`10.0.0.0/8`).
 */
import {
  type Address,
  type Family,
  type Prefix,
  bitsOf,
  canonical,
  firstAddress,
  formatValue,
  lastAddress,
} from './address';

/** An inclusive range of addresses of one family. It need not be aligned (host-local `rangeStart`..`rangeEnd`). */
export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

/** Either a prefix (read as its canonical range) or a plain range. */
export type RangeLike = Prefix | AddressRange;

/** The largest address value of a family: 2^32 - 1 or 2^128 - 1. */
export function maxValue(family: Family): bigint {
  return (1n << BigInt(bitsOf(family))) - 1n;
}

/** The whole address space of a family, as `0.0.0.0/0` or `::/0` covers it. */
export function familyRange(family: Family): AddressRange {
  return { family, first: 0n, last: maxValue(family) };
}

function isPrefix(r: RangeLike): r is Prefix {
  return 'length' in r;
}

/** The range a prefix or range covers. A prefix's host bits are ignored. */
export function rangeOf(r: RangeLike): AddressRange {
  return isPrefix(r) ? { family: r.family, first: firstAddress(r), last: lastAddress(r) } : r;
}

/** The number of addresses in a range (0 if `last < first`). */
export function rangeSize(r: RangeLike): bigint {
  const { first, last } = rangeOf(r);
  return last >= first ? last - first + 1n : 0n;
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders addresses IPv4 before IPv6, then by value. */
export function compareAddresses(a: Address, b: Address): number {
  return a.family - b.family || compareBig(a.value, b.value);
}

/**
 * Orders prefixes IPv4 before IPv6, then by first address, then wider before narrower (a prefix sorts just
 * before the prefixes it contains), then by the address as written (so `10.0.0.0/8` precedes `10.0.0.1/8`).
 */
export function comparePrefixes(a: Prefix, b: Prefix): number {
  return (
    a.family - b.family ||
    compareBig(firstAddress(a), firstAddress(b)) ||
    a.length - b.length ||
    compareBig(a.address, b.address)
  );
}

/** Orders ranges IPv4 before IPv6, then by first address, then longer ranges first (an enclosing range first). */
export function compareRanges(a: RangeLike, b: RangeLike): number {
  const x = rangeOf(a);
  const y = rangeOf(b);
  return x.family - y.family || compareBig(x.first, y.first) || compareBig(y.last, x.last);
}

/**
 * The address at `index` in the prefix, counting from its network address (index 0). A negative index counts
 * back from the last address (-1 is the last address, the IPv4 broadcast). Returns undefined outside the
 * prefix or for a non-integer number. Examples on `10.244.1.0/24`: 1 -> 10.244.1.1 (the bridge gateway that
 * the CNI bridge plugin picks), 2 -> 10.244.1.2 (the first pod), -1 -> 10.244.1.255.
 */
export function addressAt(prefix: Prefix, index: bigint | number): Address | undefined {
  if (typeof index === 'number' && !Number.isSafeInteger(index)) return undefined;
  const i = BigInt(index);
  const value = i >= 0n ? firstAddress(prefix) + i : lastAddress(prefix) + 1n + i;
  if (value < firstAddress(prefix) || value > lastAddress(prefix)) return undefined;
  return { family: prefix.family, value };
}

/** The addresses shared by `a` and `b`, or undefined when they share none (always so across families). */
export function overlapRange(a: RangeLike, b: RangeLike): AddressRange | undefined {
  const x = rangeOf(a);
  const y = rangeOf(b);
  if (x.family !== y.family) return undefined;
  const first = x.first > y.first ? x.first : y.first;
  const last = x.last < y.last ? x.last : y.last;
  return first <= last ? { family: x.family, first, last } : undefined;
}

/** Whether two ranges share at least one address. */
export function rangesOverlap(a: RangeLike, b: RangeLike): boolean {
  return overlapRange(a, b) !== undefined;
}

/** Whether `outer` contains every address of `inner` (never across families). */
export function rangeContains(outer: RangeLike, inner: RangeLike): boolean {
  const o = rangeOf(outer);
  const i = rangeOf(inner);
  return o.family === i.family && o.first <= i.first && i.last <= o.last;
}

/**
 * The range as a prefix when it is exactly one aligned block (`10.0.0.0`-`10.0.255.255` -> `10.0.0.0/16`),
 * else undefined.
 */
export function rangeToPrefix(r: AddressRange): Prefix | undefined {
  const size = rangeSize(r);
  if (size === 0n || (size & (size - 1n)) !== 0n || r.first % size !== 0n) return undefined;
  const length = bitsOf(r.family) - (size.toString(2).length - 1);
  return blockPrefix(r.family, r.first, length);
}

function blockPrefix(family: Family, first: bigint, length: number): Prefix {
  const p: Prefix = { family, address: first, length, text: '' };
  return { ...p, text: canonical(p) };
}

/** `10.96.0.0-10.96.255.255`: both ends, always, even for a single address. */
export function rangeText(family: Family, first: bigint, last: bigint): string {
  return `${formatValue(family, first)}-${formatValue(family, last)}`;
}

/**
 * A range the way a message should show it: one address prints once (`10.96.0.1`), an aligned block prints
 * as its prefix (`10.96.0.0/16`), anything else as `first-last`. The overlap of two prefixes is always one of
 * the first two shapes.
 */
export function describeRange(r: RangeLike): string {
  const range = rangeOf(r);
  if (range.first === range.last) return formatValue(range.family, range.first);
  const prefix = rangeToPrefix(range);
  return prefix ? prefix.text : rangeText(range.family, range.first, range.last);
}

/** A binary min-heap on `last`, just what the overlap sweep needs: push, peek, pop, and a view of all entries. */
class ByLastHeap {
  readonly entries: { last: bigint; index: number }[] = [];

  push(e: { last: bigint; index: number }): void {
    const h = this.entries;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].last <= h[i].last) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  peek(): { last: bigint; index: number } | undefined {
    return this.entries[0];
  }

  pop(): void {
    const h = this.entries;
    const end = h.pop();
    if (end === undefined || h.length === 0) return;
    h[0] = end;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].last < h[m].last) m = l;
      if (r < h.length && h[r].last < h[m].last) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/**
 * Every pair of items whose ranges share an address, each pair once, as `[earlier, later]` in input order.
 * Items of different families never pair; identical ranges do pair.
 *
 * Runs in O(n log n + k) for n items and k pairs: sort by family and first address, then sweep, keeping the
 * items still open at the current first address in a min-heap on their last address. Closed items are popped
 * (each once); every item left in the heap starts no later and ends no earlier than the new item's first
 * address, so each one overlaps it: reading the whole heap costs exactly the pairs it reports. This holds
 * for nested ranges (all open ones contain the new one) and for arbitrary, unaligned ranges alike.
 *
 * Pairs come in sweep order: by the later-starting item of the pair, then by heap position.
 */
export function overlappingRangePairs<T>(items: readonly { readonly range: RangeLike; readonly item: T }[]): [T, T][] {
  const ranges = items.map((x) => rangeOf(x.range));
  const order = ranges.map((_, i) => i);
  order.sort((a, b) => compareRanges(ranges[a], ranges[b]) || a - b);
  const pairs: [T, T][] = [];
  const open = new ByLastHeap();
  let family: Family | undefined;
  for (const i of order) {
    const r = ranges[i];
    if (r.last < r.first) continue;
    if (r.family !== family) {
      open.clear();
      family = r.family;
    }
    for (let top = open.peek(); top !== undefined && top.last < r.first; top = open.peek()) open.pop();
    for (const o of open.entries) {
      pairs.push(o.index < i ? [items[o.index].item, items[i].item] : [items[i].item, items[o.index].item]);
    }
    open.push({ last: r.last, index: i });
  }
  return pairs;
}

/**
 * Every pair of items whose prefixes overlap, each pair once, as `[earlier, later]` in input order.
 * Two prefixes overlap exactly when one contains the other; host bits are ignored. Different families never
 * overlap (so `::ffff:10.0.0.0/104` and `10.0.0.0/8` do not). O(n log n + k); see {@link overlappingRangePairs}.
 */
export function overlappingPairs<T>(items: readonly { readonly prefix: Prefix; readonly item: T }[]): [T, T][] {
  return overlappingRangePairs(items.map((x) => ({ range: x.prefix, item: x.item })));
}

/** Distance from `near` to the nearest address of `[first, last]` (0 if inside). */
function distanceTo(near: bigint, first: bigint, last: bigint): bigint {
  return near < first ? first - near : near > last ? near - last : 0n;
}

/**
 * The aligned block of prefix length `length` nearest to `near` that shares no address with any of `used`
 * and lies inside `within` (when given; otherwise anywhere in the family's address space). Distance is from
 * `near` to the nearest address of the block (0 when the block holds `near`); a tie goes to the lower block.
 * Returns undefined when no such block exists, when `length` is not a valid prefix length of `family`, or
 * when `within` is of the other family. Items of `used` of the other family are ignored.
 *
 * No preference for private ranges: the caller says where to look, with `within` or with `near` (a block next
 * to an existing cluster CIDR stays next to it). {@link nextFreePrivateBlock} searches the private ranges.
 *
 * O(m log m) for m used ranges: sort, merge, then walk the gaps between them; the best block in a gap is
 * found by arithmetic, never by stepping through the address space.
 */
export function nextFreeBlock(
  length: number,
  family: Family,
  used: readonly RangeLike[],
  near: bigint,
  within?: Prefix,
): Prefix | undefined {
  if (!Number.isInteger(length) || length < 0 || length > bitsOf(family)) return undefined;
  if (within && within.family !== family) return undefined;
  const region = within ? rangeOf(within) : familyRange(family);
  const size = 1n << BigInt(bitsOf(family) - length);
  const taken = used
    .map(rangeOf)
    .filter((r) => r.family === family && r.first <= r.last && r.last >= region.first && r.first <= region.last)
    .sort((a, b) => compareBig(a.first, b.first));

  let best: { first: bigint; distance: bigint } | undefined;
  const consider = (gapFirst: bigint, gapLast: bigint): void => {
    // Aligned block starts s with gapFirst <= s and s + size - 1 <= gapLast.
    const lo = ((gapFirst + size - 1n) / size) * size;
    const hi = ((gapLast + 1n) / size) * size - size;
    if (lo > hi) return;
    const home = near < 0n ? 0n : (near / size) * size;
    const start = home < lo ? lo : home > hi ? hi : home;
    const distance = distanceTo(near, start, start + size - 1n);
    if (!best || distance < best.distance || (distance === best.distance && start < best.first))
      best = { first: start, distance };
  };

  let cursor = region.first; // The lowest address not yet known to be taken.
  for (const r of taken) {
    if (r.first > cursor) consider(cursor, r.first - 1n);
    if (r.last + 1n > cursor) cursor = r.last + 1n;
    if (cursor > region.last) break;
  }
  if (cursor <= region.last) consider(cursor, region.last);
  return best ? blockPrefix(family, best.first, length) : undefined;
}

function privatePrefix(family: Family, text: string, value: bigint, length: number): Prefix {
  return { family, address: value, length, text };
}

/** RFC 1918 private IPv4 ranges (ip-masq-agent's default non-masquerade CIDRs) and IPv6 unique local addresses. */
export const PRIVATE_PREFIXES: readonly Prefix[] = [
  privatePrefix(4, '10.0.0.0/8', 0x0a000000n, 8),
  privatePrefix(4, '172.16.0.0/12', 0xac100000n, 12),
  privatePrefix(4, '192.168.0.0/16', 0xc0a80000n, 16),
  privatePrefix(6, 'fc00::/7', 0xfcn << 120n, 7),
];

/**
 * Like {@link nextFreeBlock}, searching only the private ranges of the family ({@link PRIVATE_PREFIXES}); the
 * nearest block to `near` across them wins, a tie going to the lower block.
 */
export function nextFreePrivateBlock(
  length: number,
  family: Family,
  used: readonly RangeLike[],
  near: bigint,
): Prefix | undefined {
  let best: { block: Prefix; distance: bigint } | undefined;
  for (const p of PRIVATE_PREFIXES) {
    if (p.family !== family) continue;
    const block = nextFreeBlock(length, family, used, near, p);
    if (!block) continue;
    const distance = distanceTo(near, firstAddress(block), lastAddress(block));
    if (!best || distance < best.distance || (distance === best.distance && block.address < best.block.address))
      best = { block, distance };
  }
  return best?.block;
}
