import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type AddressRange,
  type Family,
  type Prefix,
  PRIVATE_PREFIXES,
  addressAt,
  bitsOf,
  compareAddresses,
  compareRanges,
  comparePrefixes,
  describeRange,
  firstAddress,
  formatAddress,
  lastAddress,
  nextFreeBlock,
  nextFreePrivateBlock,
  overlapRange,
  overlappingPairs,
  overlappingRangePairs,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
  rangeContains,
  rangeOf,
  rangeSize,
  rangeText,
  rangeToPrefix,
  rangesOverlap,
} from '../../../src/core/net';

const p = (text: string): Prefix => {
  const prefix = parsePrefix(text);
  assert.ok(prefix, `test input ${text} should parse`);
  return prefix;
};
const v = (text: string): bigint => {
  const a = parseAddress(text);
  assert.ok(a, `test input ${text} should parse`);
  return a.value;
};

// Small regions where every address can be enumerated. The IPv4-mapped region has the same low 32 bits as
// the IPv4 one, so a family mix-up would show up as a false overlap.
const REGIONS: readonly { family: Family; base: bigint }[] = [
  { family: 4, base: v('10.0.0.0') },
  { family: 6, base: v('2001:db8::') },
  { family: 6, base: v('::ffff:10.0.0.0') },
];
const REGION_BITS = 8; // 256 addresses per region.

/** A prefix inside one region, host bits sometimes set, built through the parser like user text. */
const prefixIn = (family: Family, base: bigint, minLength = bitsOf(family) - REGION_BITS) =>
  fc
    .record({ length: fc.integer({ min: minLength, max: bitsOf(family) }), offset: fc.integer({ min: 0, max: 255 }) })
    .map(({ length, offset }) => p(`${formatAddress({ family, value: base + BigInt(offset) })}/${length}`));

const anyPrefix = fc.constantFrom(...REGIONS).chain((r) => prefixIn(r.family, r.base));

/** A plain range inside one region, not necessarily aligned. */
const anyRange = fc
  .record({
    region: fc.constantFrom(...REGIONS),
    a: fc.integer({ min: 0, max: 255 }),
    b: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ region, a, b }): AddressRange => ({
    family: region.family,
    first: region.base + BigInt(Math.min(a, b)),
    last: region.base + BigInt(Math.max(a, b)),
  }));

/** Every address of a range as a `family:value` key. */
function addresses(r: Prefix | AddressRange): Set<string> {
  const { family, first, last } = rangeOf(r);
  const out = new Set<string>();
  for (let x = first; x <= last; x++) out.add(`${family}:${x}`);
  return out;
}

const intersects = (a: Set<string>, b: Set<string>) => [...a].some((x) => b.has(x));
const isSubset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

/** The O(n^2) oracle: index pairs i < j whose address sets intersect. */
function bruteForcePairs(sets: Set<string>[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < sets.length; i++)
    for (let j = i + 1; j < sets.length; j++) if (intersects(sets[i], sets[j])) out.push(`${i},${j}`);
  return out.sort();
}

function pairKeys(pairs: [number, number][]): string[] {
  for (const [a, b] of pairs) assert.ok(a < b, `pair [${a}, ${b}] is not in input order`);
  return pairs.map(([a, b]) => `${a},${b}`).sort();
}

describe('net/ranges', () => {
  describe('overlappingPairs', () => {
    it('equals the O(n^2) oracle on random prefixes', () => {
      fc.assert(
        fc.property(fc.array(anyPrefix, { maxLength: 40 }), (prefixes) => {
          const got = pairKeys(overlappingPairs(prefixes.map((prefix, item) => ({ prefix, item }))));
          assert.deepEqual(got, bruteForcePairs(prefixes.map(addresses)));
          assert.equal(new Set(got).size, got.length, 'a pair was reported twice');
        }),
        { numRuns: 300 },
      );
    });

    it('equals the oracle on deeply nested and duplicated prefixes', () => {
      // Few distinct lengths and offsets: many duplicates and long containment chains.
      const nested = fc
        .record({ length: fc.integer({ min: 24, max: 28 }), offset: fc.constantFrom(0, 0, 16, 64, 128, 130) })
        .map(({ length, offset }) => p(`10.0.0.${offset}/${length}`));
      fc.assert(
        fc.property(fc.array(nested, { maxLength: 60 }), (prefixes) => {
          assert.deepEqual(
            pairKeys(overlappingPairs(prefixes.map((prefix, item) => ({ prefix, item })))),
            bruteForcePairs(prefixes.map(addresses)),
          );
        }),
        { numRuns: 200 },
      );
    });

    it('overlappingRangePairs equals the oracle on unaligned ranges mixed with prefixes', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(anyRange, anyPrefix), { maxLength: 40 }), (ranges) => {
          assert.deepEqual(
            pairKeys(overlappingRangePairs(ranges.map((range, item) => ({ range, item })))),
            bruteForcePairs(ranges.map(addresses)),
          );
        }),
        { numRuns: 300 },
      );
    });

    it('/0 overlaps everything of its own family and nothing of the other', () => {
      const texts = [
        '0.0.0.0/0',
        '::/0',
        '10.0.0.0/8',
        '255.255.255.255/32',
        '::ffff:10.0.0.0/104',
        '2001:db8::/32',
        '::/128',
      ];
      const got = overlappingPairs(texts.map((t) => ({ prefix: p(t), item: t })))
        .map(([a, b]) => `${a} ${b}`)
        .sort();
      assert.deepEqual(
        got,
        [
          '0.0.0.0/0 10.0.0.0/8',
          '0.0.0.0/0 255.255.255.255/32',
          '::/0 ::/128',
          '::/0 ::ffff:10.0.0.0/104',
          '::/0 2001:db8::/32',
        ].sort(),
      );
    });

    it('pairs each item with every item that contains it, across a long chain', () => {
      const chain = Array.from({ length: 9 }, (_, i) => p(`10.0.0.0/${24 + i}`));
      const pairs = overlappingPairs(chain.map((prefix, item) => ({ prefix, item })));
      assert.equal(pairs.length, (9 * 8) / 2);
    });

    it('puts each pair in input order and ignores host bits', () => {
      const pairs = overlappingPairs([
        { prefix: p('10.244.1.0/24'), item: 'node' },
        { prefix: p('10.96.0.0/12'), item: 'services' },
        { prefix: p('10.0.0.1/8'), item: 'cluster' },
      ]);
      assert.deepEqual(pairs.map((x) => x.join(' ')).sort(), ['node cluster', 'services cluster']);
    });

    it('returns no pairs for no items or disjoint items', () => {
      assert.deepEqual(overlappingPairs([]), []);
      assert.deepEqual(
        overlappingPairs([
          { prefix: p('10.0.0.0/24'), item: 1 },
          { prefix: p('10.0.1.0/24'), item: 2 },
        ]),
        [],
      );
    });

    it('stays fast and exact with many items (output-sensitive)', () => {
      // 20000 disjoint /30s plus one /8 containing them all: exactly 20000 pairs.
      const items: { prefix: Prefix; item: number }[] = Array.from({ length: 20000 }, (_, i) => ({
        prefix: { family: 4 as const, address: v('10.0.0.0') + BigInt(i * 4), length: 30, text: '' },
        item: i,
      }));
      items.push({ prefix: p('10.0.0.0/8'), item: -1 });
      const started = Date.now();
      const pairs = overlappingPairs(items);
      assert.equal(pairs.length, 20000);
      assert.ok(pairs.every(([a, b]) => a >= 0 && b === -1));
      assert.ok(Date.now() - started < 5000, 'took too long');
    });
  });

  describe('set semantics', () => {
    it('overlap, containment and the shared range agree with enumerated addresses', () => {
      fc.assert(
        fc.property(anyPrefix, anyPrefix, anyRange, (a, b, r) => {
          const sa = addresses(a);
          const sb = addresses(b);
          const sr = addresses(r);
          assert.equal(prefixesOverlap(a, b), intersects(sa, sb));
          assert.equal(rangesOverlap(a, r), intersects(sa, sr));
          assert.equal(prefixContains(a, b), isSubset(sb, sa));
          assert.equal(rangeContains(a, b), isSubset(sb, sa));
          assert.equal(rangeContains(r, a), isSubset(sa, sr));
          assert.equal(rangeContains(a, r), isSubset(sr, sa));
          assert.equal(rangeSize(a), BigInt(sa.size));
          for (const [x, y, sx, sy] of [
            [a, b, sa, sb],
            [a, r, sa, sr],
          ] as const) {
            const shared = overlapRange(x, y);
            const expected = [...sx].filter((k) => sy.has(k)).sort();
            assert.deepEqual(shared ? [...addresses(shared)].sort() : [], expected);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('the shared part of two prefixes is always a prefix', () => {
      fc.assert(
        fc.property(anyPrefix, anyPrefix, (a, b) => {
          const shared = overlapRange(a, b);
          if (shared) assert.ok(rangeToPrefix(shared));
        }),
      );
    });

    it('overlapRange on a table', () => {
      assert.deepEqual(overlapRange(p('10.0.0.0/8'), p('10.96.0.0/12')), {
        family: 4,
        first: v('10.96.0.0'),
        last: v('10.111.255.255'),
      });
      assert.deepEqual(overlapRange({ family: 4, first: 5n, last: 10n }, { family: 4, first: 8n, last: 20n }), {
        family: 4,
        first: 8n,
        last: 10n,
      });
      assert.equal(overlapRange({ family: 4, first: 5n, last: 10n }, { family: 4, first: 11n, last: 20n }), undefined);
      assert.equal(overlapRange(p('0.0.0.0/0'), p('::/0')), undefined);
      assert.equal(overlapRange(p('10.0.0.0/8'), p('::ffff:10.0.0.0/104')), undefined);
      assert.deepEqual(overlapRange(p('::/0'), p('::ffff:10.0.0.0/104')), rangeOf(p('::ffff:10.0.0.0/104')));
    });
  });

  describe('nextFreeBlock', () => {
    interface Case {
      family: Family;
      base: bigint;
      length: number;
      used: Prefix[];
      near: bigint;
      within: Prefix | undefined;
    }
    const caseArb = fc.constantFrom(...REGIONS).chain((r) =>
      fc.record({
        family: fc.constant(r.family),
        base: fc.constant(r.base),
        length: fc.integer({ min: bitsOf(r.family) - REGION_BITS, max: bitsOf(r.family) }),
        used: fc.array(prefixIn(r.family, r.base, bitsOf(r.family) - REGION_BITS + 1), { maxLength: 12 }),
        // Other-family noise that must be ignored: the region's numbers in the other family.
        noise: fc.array(prefixIn(r.family === 4 ? 6 : 4, r.family === 4 ? v('::ffff:10.0.0.0') : v('10.0.0.0')), {
          maxLength: 3,
        }),
        near: fc.integer({ min: -40, max: 300 }).map((d) => r.base + BigInt(d)),
        within: fc.option(prefixIn(r.family, r.base), { nil: undefined }),
      }),
    );

    /**
     * Brute force: every aligned block of the length in the window (the region plus one region on each side
     * when there is no `within`; blocks further out are never nearer than the free neighbours), checked
     * address by address.
     */
    function oracle(c: Case): bigint | undefined {
      const size = 1n << BigInt(bitsOf(c.family) - c.length);
      const usedSet = new Set<string>();
      for (const u of c.used) for (const k of addresses(u)) usedSet.add(k);
      const [lo, hi] = c.within ? [firstAddress(c.within), lastAddress(c.within)] : [c.base - 256n, c.base + 511n];
      let best: { first: bigint; distance: bigint } | undefined;
      for (let s = lo - (lo % size); s + size - 1n <= hi; s += size) {
        if (s < lo) continue;
        let free = true;
        for (let x = s; x < s + size && free; x++) if (usedSet.has(`${c.family}:${x}`)) free = false;
        if (!free) continue;
        const distance = c.near < s ? s - c.near : c.near > s + size - 1n ? c.near - (s + size - 1n) : 0n;
        if (!best || distance < best.distance) best = { first: s, distance };
      }
      return best?.first;
    }

    it('returns the nearest aligned free block, as brute force finds it', () => {
      fc.assert(
        fc.property(caseArb, ({ noise, ...c }) => {
          const got = nextFreeBlock(c.length, c.family, [...c.used, ...noise], c.near, c.within);
          const expected = oracle(c);
          if (expected === undefined) {
            assert.equal(got, undefined);
            return;
          }
          assert.ok(got, 'expected a block');
          assert.equal(got.family, c.family);
          assert.equal(got.length, c.length);
          assert.equal(got.address, expected);
          // Independent of the oracle: aligned, canonical text, free, inside `within`.
          assert.equal(firstAddress(got), got.address);
          assert.deepEqual(parsePrefix(got.text), got);
          for (const u of c.used) assert.equal(prefixesOverlap(got, u), false, `${got.text} overlaps ${u.text}`);
          if (c.within) assert.ok(prefixContains(c.within, got));
        }),
        { numRuns: 400 },
      );
    });

    it('on a table', () => {
      const used = [p('10.244.0.0/16'), p('10.96.0.0/12'), p('10.245.0.0/16')];
      assert.equal(nextFreeBlock(16, 4, used, v('10.244.0.0'))?.text, '10.243.0.0/16');
      assert.equal(nextFreeBlock(16, 4, used, v('10.245.200.0'))?.text, '10.246.0.0/16');
      assert.equal(nextFreeBlock(24, 4, used, v('10.244.7.0'), p('10.244.0.0/15'))?.text, undefined);
      assert.equal(nextFreeBlock(24, 4, used, v('10.244.7.0'), p('10.244.0.0/14'))?.text, '10.246.0.0/24');
      assert.equal(nextFreeBlock(8, 4, used, 0n, p('10.0.0.0/16')), undefined, 'block larger than within');
      assert.equal(nextFreeBlock(33, 4, used, 0n), undefined);
      assert.equal(nextFreeBlock(-1, 4, used, 0n), undefined);
      assert.equal(nextFreeBlock(24, 4, used, 0n, p('fd00::/8')), undefined);
      assert.equal(nextFreeBlock(0, 4, [], 0n)?.text, '0.0.0.0/0');
      assert.equal(nextFreeBlock(0, 4, [p('255.255.255.255/32')], 0n), undefined);
      assert.equal(nextFreeBlock(32, 4, [p('0.0.0.0/1'), p('128.0.0.0/1')], 0n), undefined);
      assert.equal(nextFreeBlock(32, 4, [p('0.0.0.0/1'), p('128.0.0.0/2'), p('192.0.0.0/2')], 0n), undefined);
      assert.equal(
        nextFreeBlock(32, 4, [p('0.0.0.0/1'), p('128.0.0.0/2'), p('192.0.0.0/3'), p('224.0.0.0/4')], 0n)?.text,
        '240.0.0.0/32',
      );
      assert.equal(
        nextFreeBlock(32, 4, [p('255.255.255.254/32')], 1n << 40n)?.text,
        '255.255.255.255/32',
        'near beyond the family is clamped',
      );
      assert.equal(
        nextFreeBlock(24, 4, [p('10.0.0.1/8')], v('10.200.0.0'))?.text,
        '11.0.0.0/24',
        'host bits of used are ignored',
      );
      // Ties go to the lower block: 10.0.0.0/32 and 10.0.0.2/32 are both one address away.
      assert.equal(nextFreeBlock(32, 4, [p('10.0.0.1/32')], v('10.0.0.1'))?.text, '10.0.0.0/32');
      assert.equal(nextFreeBlock(24, 4, [p('10.0.1.0/24')], v('10.0.1.128'))?.text, '10.0.2.0/24');
      assert.equal(nextFreeBlock(24, 4, [p('10.0.1.0/24')], v('10.0.1.127'))?.text, '10.0.0.0/24');
      // Other families are ignored.
      assert.equal(nextFreeBlock(24, 4, [p('::/0'), p('::ffff:10.0.0.0/104')], v('10.0.0.9'))?.text, '10.0.0.0/24');
      assert.equal(nextFreeBlock(64, 6, [p('fd00::/64')], v('fd00::'), p('fd00::/48'))?.text, 'fd00:0:0:1::/64');
    });

    it('walks gaps instead of blocks: huge IPv6 spaces and thousands of used prefixes', () => {
      // Stepping one /64 at a time past ::/1 would take 2^63 steps.
      assert.equal(nextFreeBlock(64, 6, [p('::/1')], 0n)?.text, '8000::/64');
      assert.equal(nextFreeBlock(128, 6, [p('::/1'), p('8000::/2'), p('c000::/3')], 0n)?.text, 'e000::/128');

      // 5000 used /24s packed from 10.0.0.0 (shuffled), one hole at 10.0.77.0: the hole is the answer near 10.0.0.0.
      const used: Prefix[] = [];
      for (let i = 0; i < 5000; i++)
        if (i !== 77) used.push({ family: 4, address: v('10.0.0.0') + (BigInt(i) << 8n), length: 24, text: '' });
      for (let i = used.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [used[i], used[j]] = [used[j], used[i]];
      }
      const started = Date.now();
      assert.equal(nextFreeBlock(24, 4, used, v('10.0.0.0'), p('10.0.0.0/8'))?.text, '10.0.77.0/24');
      assert.equal(nextFreeBlock(23, 4, used, v('10.0.0.0'), p('10.0.0.0/8'))?.text, '10.19.136.0/23');
      assert.equal(nextFreeBlock(24, 4, used, v('10.0.0.0'), p('10.0.0.0/20'))?.text, undefined);
      assert.ok(Date.now() - started < 5000, 'took too long');
    });
  });

  describe('nextFreePrivateBlock', () => {
    it('searches only private ranges, nearest first', () => {
      assert.equal(nextFreePrivateBlock(16, 4, [p('10.0.0.0/8')], v('10.244.0.0'))?.text, '172.16.0.0/16');
      assert.equal(nextFreePrivateBlock(16, 4, [p('192.168.0.0/16')], v('192.168.0.0'))?.text, '172.31.0.0/16');
      assert.equal(nextFreePrivateBlock(16, 4, [], v('8.8.8.8'))?.text, '10.0.0.0/16');
      assert.equal(nextFreePrivateBlock(16, 4, [], v('10.7.8.9'))?.text, '10.7.0.0/16');
      assert.equal(nextFreePrivateBlock(16, 4, PRIVATE_PREFIXES, v('10.7.8.9')), undefined);
      assert.equal(nextFreePrivateBlock(64, 6, [], 0n)?.text, 'fc00::/64');
      assert.equal(nextFreePrivateBlock(8, 4, [], 0n)?.text, '10.0.0.0/8');
      assert.equal(nextFreePrivateBlock(7, 4, [], 0n), undefined, 'no private range holds a /7');
      for (const prefix of PRIVATE_PREFIXES) assert.deepEqual(parsePrefix(prefix.text), prefix);
    });
  });

  describe('text', () => {
    it('rangeText prints both ends', () => {
      assert.equal(rangeText(4, v('10.96.0.0'), v('10.96.255.255')), '10.96.0.0-10.96.255.255');
      assert.equal(rangeText(4, v('10.0.0.1'), v('10.0.0.1')), '10.0.0.1-10.0.0.1');
      assert.equal(rangeText(6, v('fd00::'), v('fd00::ff')), 'fd00::-fd00::ff');
    });

    it('describeRange prints one address once, an aligned block as a prefix, else both ends', () => {
      const table: [Prefix | AddressRange, string][] = [
        [{ family: 4, first: v('10.96.0.1'), last: v('10.96.0.1') }, '10.96.0.1'],
        [p('10.0.0.7/32'), '10.0.0.7'],
        [p('10.0.0.1/8'), '10.0.0.0/8'],
        [{ family: 4, first: v('10.96.0.0'), last: v('10.96.255.255') }, '10.96.0.0/16'],
        [{ family: 4, first: v('10.96.0.1'), last: v('10.96.0.254') }, '10.96.0.1-10.96.0.254'],
        [{ family: 4, first: v('10.0.0.2'), last: v('10.0.0.5') }, '10.0.0.2-10.0.0.5'],
        [{ family: 4, first: 0n, last: (1n << 32n) - 1n }, '0.0.0.0/0'],
        [{ family: 6, first: 0n, last: (1n << 128n) - 1n }, '::/0'],
        [{ family: 6, first: v('::ffff:10.0.0.0'), last: v('::ffff:10.0.0.255') }, '::ffff:10.0.0.0/120'],
      ];
      for (const [range, text] of table) assert.equal(describeRange(range), text);
    });

    it('rangeToPrefix finds exactly the aligned blocks', () => {
      fc.assert(
        fc.property(anyRange, (r) => {
          const prefix = rangeToPrefix(r);
          const size = r.last - r.first + 1n;
          const aligned = (size & (size - 1n)) === 0n && r.first % size === 0n;
          assert.equal(prefix !== undefined, aligned);
          if (prefix) assert.deepEqual(rangeOf(prefix), r);
        }),
      );
    });
  });

  describe('ordering and indexing', () => {
    it('addressAt counts from the network address, negative from the end', () => {
      const subnet = p('10.244.1.0/24');
      const at = (i: bigint | number) => {
        const a = addressAt(subnet, i);
        return a && formatAddress(a);
      };
      assert.equal(at(0), '10.244.1.0');
      assert.equal(at(1), '10.244.1.1');
      assert.equal(at(2n), '10.244.1.2');
      assert.equal(at(255), '10.244.1.255');
      assert.equal(at(-1), '10.244.1.255');
      assert.equal(at(-256), '10.244.1.0');
      assert.equal(at(256), undefined);
      assert.equal(at(-257), undefined);
      assert.equal(at(1.5), undefined);
      assert.equal(at(Number.NaN), undefined);
      assert.equal(
        formatAddress(addressAt(p('10.244.1.77/24'), 1) ?? { family: 4, value: 0n }),
        '10.244.1.1',
        'host bits ignored',
      );
      assert.deepEqual(addressAt(p('fd00::/64'), 1), { family: 6, value: v('fd00::1') });
      assert.equal(addressAt(p('1.2.3.4/32'), 1), undefined);
    });

    it('compareAddresses sorts IPv4 before IPv6, then by value', () => {
      const texts = ['::1', '10.0.0.2', '::ffff:10.0.0.1', '10.0.0.10', '0.0.0.0', '::'];
      const sorted = texts
        .map((t) => parseAddress(t)!)
        .sort(compareAddresses)
        .map(formatAddress);
      assert.deepEqual(sorted, ['0.0.0.0', '10.0.0.2', '10.0.0.10', '::', '::1', '::ffff:10.0.0.1']);
    });

    it('compareRanges sorts by family, first address, then enclosing ranges first', () => {
      const ranges: AddressRange[] = [
        { family: 6, first: 0n, last: 1n },
        { family: 4, first: 5n, last: 6n },
        { family: 4, first: 5n, last: 9n },
        { family: 4, first: 2n, last: 3n },
      ];
      assert.deepEqual([...ranges].sort(compareRanges), [ranges[3], ranges[2], ranges[1], ranges[0]]);
    });

    it('comparePrefixes sorts by family, first address, wider first, then as written', () => {
      const texts = ['10.0.0.0/16', '::/0', '10.0.0.1/8', '9.0.0.0/8', '10.0.0.0/8', '10.1.0.0/16'];
      assert.deepEqual(
        texts
          .map(p)
          .sort(comparePrefixes)
          .map((x) => x.text),
        ['9.0.0.0/8', '10.0.0.0/8', '10.0.0.1/8', '10.0.0.0/16', '10.1.0.0/16', '::/0'],
      );
    });
  });
});
