/**
 * The quick fixes' free-address search (src/core/rules/fixes.ts): one walk hands out the free addresses of a pool in
 * order, as searching again from the pool's start after each answer would, jumping over the ranges to avoid.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addressKey,
  formatAddress,
  parsePrefix,
  prefixContainsAddress,
  type Prefix,
} from '../../../src/core/net/address';
import { FreeAddresses, freeAddress } from '../../../src/core/rules/fixes';

const prefix = (text: string): Prefix => {
  const p = parsePrefix(text);
  assert.ok(p, text);
  return p;
};

/** The /`length` range holding 10.0.0.`octet` (from 10.0.0.0/22 to one address). */
const avoidRange = ([octet, length]: [number, number]): Prefix =>
  prefix(`10.0.0.${length >= 24 ? octet & (0xff << (32 - length)) & 0xff : 0}/${length}`);

/** Every address of the pool by brute force: not the network, gateway (when skipped) or last, not used or avoided. */
function freeByHand(pool: Prefix, used: ReadonlySet<string>, skipGateway: boolean, avoid: readonly Prefix[]): string[] {
  const first = pool.address;
  const size = 1n << BigInt(32 - pool.length);
  const out: string[] = [];
  for (let v = first + (skipGateway ? 2n : 1n); v < first + size - 1n; v++) {
    const a = { family: 4 as const, value: v };
    if (used.has(addressKey(a)) || avoid.some((p) => prefixContainsAddress(p, a))) continue;
    out.push(formatAddress(a));
  }
  return out;
}

describe('free addresses for quick fixes', () => {
  it('hands out the free addresses of a pool in order, one walk, as a search from the start after each would', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        fc.integer({ min: 24, max: 29 }),
        fc.array(octet, { maxLength: 40 }),
        // Ranges to avoid in and around 10.0.0.0/24, of any size: nested, overlapping, outside, and one of IPv6.
        fc.array(fc.tuple(octet, fc.integer({ min: 22, max: 32 })).map(avoidRange), { maxLength: 6 }),
        fc.boolean(),
        (length, usedOctets, avoid, skipGateway) => {
          const pool = prefix(`10.0.0.0/${length}`);
          const used = new Set(usedOctets.map((o) => addressKey({ family: 4, value: pool.address + BigInt(o) })));
          const avoidAll = [...avoid, prefix('fd00::/8')];
          const expected = freeByHand(pool, used, skipGateway, avoid);
          const walk = new FreeAddresses(pool, used, skipGateway, avoidAll);
          const got: string[] = [];
          for (let a = walk.next(); a; a = walk.next()) got.push(formatAddress(a));
          assert.deepEqual(got, expected);
          // The first is what a single search answers, and the search leaves `used` as it was.
          const before = used.size;
          assert.equal(freeAddress(pool, used, skipGateway, avoidAll), expected[0]);
          assert.equal(used.size, before);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('jumps over an avoided block at once: a Service range inside the pod range has nothing free', () => {
    const walk = new FreeAddresses(prefix('10.128.0.0/12'), new Set(), true, [prefix('10.128.0.0/9')]);
    assert.equal(walk.next(), undefined);
    const beside = new FreeAddresses(prefix('10.96.0.0/12'), new Set(), true, [
      prefix('10.96.0.0/24'),
      prefix('10.96.0.128/25'),
      prefix('10.96.1.0/24'),
    ]);
    const free = beside.next();
    assert.equal(free && formatAddress(free), '10.96.2.0');
  });
});
