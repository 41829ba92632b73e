import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addressFamily,
  addressKey,
  hostPort,
  splitBracketedHostPort,
  canonical,
  firstAddress,
  formatAddress,
  hasHostBits,
  hostPrefix,
  lastAddress,
  mask,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixContainsAddress,
  prefixesOverlap,
  sameAddress,
  sizeOf,
  type Family,
} from '../../../src/core/net';

const p = (text: string) => {
  const prefix = parsePrefix(text);
  assert.ok(prefix, `test input ${text} should parse`);
  return prefix;
};

describe('net/address', () => {
  describe('parseAddress accepts', () => {
    const valid: [input: string, family: Family, value: bigint, formatted: string][] = [
      ['0.0.0.0', 4, 0n, '0.0.0.0'],
      ['10.0.0.1', 4, 0x0a000001n, '10.0.0.1'],
      ['255.255.255.255', 4, 0xffffffffn, '255.255.255.255'],
      ['192.168.100.200', 4, 0xc0a864c8n, '192.168.100.200'],
      ['  10.0.0.1\t', 4, 0x0a000001n, '10.0.0.1'],
      ['::', 6, 0n, '::'],
      ['::1', 6, 1n, '::1'],
      ['2001:DB8::1', 6, 0x20010db8000000000000000000000001n, '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, 0x20010db8000000000000000000000001n, '2001:db8::1'],
      ['fd00:10:96::a', 6, 0xfd00001000960000000000000000000an, 'fd00:10:96::a'],
      ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n, '1:2:3:4:5:6:7:8'],
      ['1:2:3:4:5:6:7::', 6, 0x00010002000300040005000600070000n, '1:2:3:4:5:6:7:0'],
      ['1::', 6, 0x00010000000000000000000000000000n, '1::'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6, (1n << 128n) - 1n, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      // IPv4-mapped IPv6 stays IPv6 and prints with a dotted tail.
      ['::ffff:10.0.0.1', 6, 0xffff0a000001n, '::ffff:10.0.0.1'],
      ['::ffff:a00:1', 6, 0xffff0a000001n, '::ffff:10.0.0.1'],
      ['0:0:0:0:0:ffff:a00:1', 6, 0xffff0a000001n, '::ffff:10.0.0.1'],
      // IPv4-compatible (deprecated) is ::102:304, not IPv4-mapped (ipaddr.js alone gets this wrong).
      ['::1.2.3.4', 6, 0x01020304n, '::102:304'],
      ['64:ff9b::192.0.2.33', 6, 0x0064ff9b0000000000000000c0000221n, '64:ff9b::c000:221'],
      ['1:2:3:4:5:6:1.2.3.4', 6, 0x00010002000300040005000601020304n, '1:2:3:4:5:6:102:304'],
    ];
    for (const [input, family, value, formatted] of valid) {
      it(JSON.stringify(input), () => {
        const a = parseAddress(input);
        assert.deepEqual(a, { family, value });
        assert.equal(formatAddress({ family, value }), formatted);
      });
    }
  });

  describe('parseAddress rejects', () => {
    const invalid = [
      '',
      ' ',
      '010.0.0.1',
      '10.00.0.1',
      '10.1',
      '10.0.1',
      '10',
      '167772161',
      '0x0a.0.0.1',
      '256.0.0.0',
      '1.2.3.4.5',
      '1.2.3.',
      '1.2.3.-4',
      '+1.2.3.4',
      '1.2.3.4/32',
      '10 .0.0.1',
      '10.0.0.1 x',
      '١.٢.٣.٤',
      ':',
      ':::',
      ':1',
      '1:',
      ':::1',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '1::2:3:4:5:6:7:8',
      '00001::1',
      'g::1',
      '[::1]',
      'fe80::1%eth0',
      'fe80::1%1',
      '::ffff:10.1',
      '::ffff:010.0.0.1',
      '::ffff:0xa.0.0.1',
      '::ffff:256.0.0.1',
      '::ffff:1.2.3.4:1',
      '1.2.3.4::',
      '1:2:3:4:5:6:7:1.2.3.4',
      ':: 1',
    ];
    for (const input of invalid) {
      it(JSON.stringify(input), () => assert.equal(parseAddress(input), undefined));
    }
    it('addressFamily refuses them too', () => {
      for (const input of invalid) assert.equal(addressFamily(input), undefined, JSON.stringify(input));
    });
  });

  describe('parsePrefix', () => {
    const valid: [
      input: string,
      family: Family,
      first: string,
      last: string,
      size: bigint,
      hostBits: boolean,
      canonicalText: string,
    ][] = [
      ['10.0.0.0/8', 4, '10.0.0.0', '10.255.255.255', 1n << 24n, false, '10.0.0.0/8'],
      ['10.96.0.0/12', 4, '10.96.0.0', '10.111.255.255', 1n << 20n, false, '10.96.0.0/12'],
      ['10.0.0.1/8', 4, '10.0.0.0', '10.255.255.255', 1n << 24n, true, '10.0.0.0/8'],
      ['0.0.0.0/0', 4, '0.0.0.0', '255.255.255.255', 1n << 32n, false, '0.0.0.0/0'],
      ['1.2.3.4/0', 4, '0.0.0.0', '255.255.255.255', 1n << 32n, true, '0.0.0.0/0'],
      ['1.2.3.4/32', 4, '1.2.3.4', '1.2.3.4', 1n, false, '1.2.3.4/32'],
      ['192.168.1.5/31', 4, '192.168.1.4', '192.168.1.5', 2n, true, '192.168.1.4/31'],
      [' 10.244.0.0/16\n', 4, '10.244.0.0', '10.244.255.255', 1n << 16n, false, '10.244.0.0/16'],
      ['::/0', 6, '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 1n << 128n, false, '::/0'],
      ['::1/128', 6, '::1', '::1', 1n, false, '::1/128'],
      ['fd00:10:96::/108', 6, 'fd00:10:96::', 'fd00:10:96::f:ffff', 1n << 20n, false, 'fd00:10:96::/108'],
      ['2001:db8::1/64', 6, '2001:db8::', '2001:db8::ffff:ffff:ffff:ffff', 1n << 64n, true, '2001:db8::/64'],
      ['::ffff:10.0.0.0/104', 6, '::ffff:10.0.0.0', '::ffff:10.255.255.255', 1n << 24n, false, '::ffff:10.0.0.0/104'],
    ];
    for (const [input, family, first, last, size, hostBits, canonicalText] of valid) {
      it(`accepts ${JSON.stringify(input)}`, () => {
        const prefix = parsePrefix(input);
        assert.ok(prefix);
        assert.equal(prefix.family, family);
        assert.equal(prefix.text, input.trim());
        assert.equal(formatAddress({ family, value: firstAddress(prefix) }), first);
        assert.equal(formatAddress({ family, value: lastAddress(prefix) }), last);
        assert.equal(sizeOf(prefix), size);
        assert.equal(lastAddress(prefix) - firstAddress(prefix) + 1n, size);
        assert.equal(hasHostBits(prefix), hostBits);
        assert.equal(canonical(prefix), canonicalText);
      });
    }

    it('keeps host bits as written', () => {
      const prefix = p('10.0.0.1/8');
      assert.equal(prefix.address, 0x0a000001n);
      assert.equal(prefix.length, 8);
      assert.equal(prefix.text, '10.0.0.1/8');
      assert.equal(firstAddress(prefix), 0x0a000000n);
    });

    const invalid = [
      '',
      '10.0.0.0',
      '10.0.0.0/',
      '/8',
      '1.2.3.4/33',
      '::/129',
      '10.0.0.0/08',
      '10.0.0.0/+8',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '10.0.0.0/8.0',
      '10.0.0.0/255.0.0.0',
      '10.0.0.0 /8',
      '10.0.0.0/ 8',
      '010.0.0.0/8',
      '10.1/16',
      'fe80::%eth0/64',
      '10.0.0.0/1000',
    ];
    for (const input of invalid) {
      it(`rejects ${JSON.stringify(input)}`, () => assert.equal(parsePrefix(input), undefined));
    }
  });

  describe('helpers', () => {
    it('mask', () => {
      assert.equal(mask(4, 0), 0n);
      assert.equal(mask(4, 8), 0xff000000n);
      assert.equal(mask(4, 32), 0xffffffffn);
      assert.equal(mask(6, 0), 0n);
      assert.equal(mask(6, 1), 1n << 127n);
      assert.equal(mask(6, 128), (1n << 128n) - 1n);
    });

    it('hostPrefix covers exactly one address', () => {
      const h = hostPrefix({ family: 6, value: 0xffff0a000001n });
      assert.deepEqual(h, { family: 6, address: 0xffff0a000001n, length: 128, text: '::ffff:10.0.0.1/128' });
      assert.equal(sizeOf(hostPrefix({ family: 4, value: 7n })), 1n);
      assert.equal(hostPrefix({ family: 4, value: 0x0a000001n }).text, '10.0.0.1/32');
    });

    it('containment and overlap ignore host bits and never cross families', () => {
      assert.equal(prefixContains(p('10.0.0.1/8'), p('10.200.0.0/16')), true);
      assert.equal(prefixContains(p('10.200.0.0/16'), p('10.0.0.0/8')), false);
      assert.equal(prefixContains(p('10.0.0.0/8'), p('11.0.0.0/16')), false);
      assert.equal(prefixesOverlap(p('10.200.0.0/16'), p('10.0.0.0/8')), true);
      assert.equal(prefixesOverlap(p('10.0.0.0/16'), p('10.1.0.0/16')), false);
      assert.equal(prefixesOverlap(p('::ffff:10.0.0.0/104'), p('10.0.0.0/8')), false);
      assert.equal(prefixContains(p('::/0'), p('10.0.0.0/8')), false);
      assert.equal(prefixContainsAddress(p('10.0.0.0/8'), { family: 4, value: 0x0affffffn }), true);
      assert.equal(prefixContainsAddress(p('10.0.0.0/8'), { family: 4, value: 0x0b000000n }), false);
      assert.equal(prefixContainsAddress(p('::/0'), { family: 4, value: 1n }), false);
    });

    it("containment and overlap agree with the prefixes' first and last addresses, host bits or not", () => {
      // Prefixes of every length around a few addresses (with host bits), each pair compared by its address range.
      const addresses = ['10.0.0.0', '10.0.0.1', '10.1.2.3', '10.255.255.255', '0.0.0.0', '192.168.7.9'];
      const all = addresses.flatMap((a) => Array.from({ length: 33 }, (_, len) => p(`${a}/${len}`)));
      const v6 = ['fd00::', 'fd00::1:0:0:5', '::', 'ffff::1'].flatMap((a) =>
        [0, 1, 7, 8, 48, 64, 96, 127, 128].map((len) => p(`${a}/${len}`)),
      );
      for (const group of [all, v6, [...all.slice(0, 40), ...v6.slice(0, 9)]])
        for (const a of group)
          for (const b of group) {
            const sameFamily = a.family === b.family;
            const contains = sameFamily && firstAddress(b) >= firstAddress(a) && lastAddress(b) <= lastAddress(a);
            const overlap = sameFamily && firstAddress(a) <= lastAddress(b) && firstAddress(b) <= lastAddress(a);
            assert.equal(prefixContains(a, b), contains, `${a.text} contains ${b.text}`);
            assert.equal(prefixesOverlap(a, b), overlap, `${a.text} overlaps ${b.text}`);
          }
    });

    it('addressKey writes IPv4 values up to the last address and IPv6 values in decimal', () => {
      assert.equal(addressKey({ family: 4, value: 0xffffffffn }), '4:4294967295');
      assert.equal(addressKey({ family: 4, value: 0n }), '4:0');
      assert.equal(addressKey({ family: 6, value: 1n }), '6:1');
    });

    it('sameAddress and addressKey tell families apart', () => {
      assert.equal(sameAddress({ family: 4, value: 1n }, { family: 4, value: 1n }), true);
      assert.equal(sameAddress({ family: 4, value: 1n }, { family: 6, value: 1n }), false);
      assert.equal(addressKey({ family: 4, value: 167772161n }), '4:167772161');
      assert.notEqual(addressKey({ family: 4, value: 1n }), addressKey({ family: 6, value: 1n }));
    });
  });

  describe('properties', () => {
    const v4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4 as const, value }));
    const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => ({ family: 6 as const, value }));
    // Mostly short-run IPv6 values, so `::` compression and IPv4-mapped forms come up often.
    const v6sparse = fc
      .tuple(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xabc), { minLength: 8, maxLength: 8 }))
      .map(([groups]) => ({ family: 6 as const, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n) }));

    it('addressFamily says what parseAddress says of any text: valid, near-valid and random', () => {
      // Near-valid: dotted and colon forms out of digits, hex letters, dots, colons and blanks (leading zeros,
      // octets over 255, too many groups); valid: formatted addresses, with blanks around them.
      const nearValid = fc
        .array(fc.constantFrom('0', '1', '2', '5', '9', 'a', 'f', 'x', '.', ':', ' '), { maxLength: 20 })
        .map((cs) => cs.join(''));
      const valid = fc
        .tuple(fc.oneof(v4, v6, v6sparse), fc.constantFrom('', ' ', '\t'))
        .map(([a, blank]) => `${blank}${formatAddress(a)}${blank}`);
      fc.assert(
        fc.property(fc.oneof(valid, nearValid, fc.string()), (text) =>
          assert.equal(addressFamily(text), parseAddress(text)?.family),
        ),
        { numRuns: 2000 },
      );
    });

    it('formatAddress then parseAddress gives the same address', () => {
      fc.assert(fc.property(fc.oneof(v4, v6, v6sparse), (a) => assert.deepEqual(parseAddress(formatAddress(a)), a)));
    });

    it('a prefix covers 2^(bits-length) addresses from an aligned first address, and canonical round-trips', () => {
      const prefixArb = fc.oneof(
        fc.tuple(v4, fc.integer({ min: 0, max: 32 })),
        fc.tuple(fc.oneof(v6, v6sparse), fc.integer({ min: 0, max: 128 })),
      );
      fc.assert(
        fc.property(prefixArb, ([a, length]) => {
          const prefix = p(`${formatAddress(a)}/${length}`);
          const bits = a.family === 4 ? 32 : 128;
          assert.equal(prefix.address, a.value);
          assert.equal(sizeOf(prefix), 1n << BigInt(bits - length));
          assert.equal(firstAddress(prefix) % sizeOf(prefix), 0n);
          assert.ok(firstAddress(prefix) <= a.value && a.value <= lastAddress(prefix));
          assert.equal(lastAddress(prefix) - firstAddress(prefix) + 1n, sizeOf(prefix));
          const c = p(canonical(prefix));
          assert.equal(hasHostBits(c), false);
          assert.equal(c.address, firstAddress(prefix));
          assert.equal(hasHostBits(prefix), a.value !== firstAddress(prefix));
        }),
      );
    });
  });

  it('splits the bracketed IPv6 form that hostPort writes, and nothing else', () => {
    assert.deepEqual(splitBracketedHostPort(hostPort('fd00::1', 80)), { host: 'fd00::1', port: '80' });
    assert.deepEqual(splitBracketedHostPort('[fd00::1]'), { host: 'fd00::1' });
    assert.deepEqual(splitBracketedHostPort('[fd00::1]:'), { host: 'fd00::1', port: '' });
    assert.equal(splitBracketedHostPort('10.0.0.1:80'), undefined);
    assert.equal(splitBracketedHostPort('svc/default/web:http'), undefined);
  });
});
