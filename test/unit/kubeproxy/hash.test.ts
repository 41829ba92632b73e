import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { base32, hex, sha256, sha256Base32, utf8 } from '../../../src/core/hash';
import {
  chainHash,
  chainHashInput,
  chainNameOfOrderKey,
  chainNameOrderKey,
  chainOrderKey,
  endpointString,
  servicePortName,
} from '../../../src/core/kubeproxy/names';

describe('kubeproxy/sha256 and chain names', () => {
  const vectors: [string, string][] = [
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
    ['a'.repeat(1000), '41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3'],
  ];
  for (const [input, digest] of vectors) {
    it(`sha256 of a ${input.length}-character string`, () => assert.equal(hex(sha256(utf8(input))), digest));
  }

  it('sha256 agrees with node:crypto (property, including multi-block and non-ASCII input)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        (s) => hex(sha256(utf8(s))) === createHash('sha256').update(s, 'utf8').digest('hex'),
      ),
      { numRuns: 300 },
    );
  });

  it('sha256 of inputs around the padding boundaries (55, 56, 63, 64, 65 and 119, 120 bytes) agrees with node:crypto', () => {
    for (const n of [55, 56, 63, 64, 65, 119, 120, 128]) {
      const s = 'k'.repeat(n);
      assert.equal(hex(sha256(utf8(s))), createHash('sha256').update(s).digest('hex'), `${n} bytes`);
    }
  });

  it('sha256Base32 is the leading characters of base32(sha256(utf8)) (property, ASCII and not)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 80 })),
        fc.integer({ min: 0, max: 51 }),
        (s, chars) =>
          sha256Base32(s, chars) ===
          base32(new Uint8Array(createHash('sha256').update(s, 'utf8').digest())).slice(0, chars),
      ),
      { numRuns: 500 },
    );
    assert.equal(sha256Base32('ns1/svc1:p80tcp', 16, 'KUBE-SVC-'), 'KUBE-SVC-XPGD46QRK7WJZT7O');
    // A lone surrogate hashes as U+FFFD, as TextEncoder encodes it.
    assert.equal(sha256Base32('a\ud800', 16), sha256Base32('a\ufffd', 16));
  });

  it('base32 follows RFC 4648 test vectors', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'MY======'],
      ['fo', 'MZXQ===='],
      ['foo', 'MZXW6==='],
      ['foob', 'MZXW6YQ='],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI======'],
    ];
    for (const [input, out] of cases) assert.equal(base32(utf8(input)), out);
  });

  it('base32 agrees with node Buffer bit packing (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const enc = base32(bytes);
        // Decode and compare, since Node has no base32 encoder.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
        let bits = '';
        for (const c of enc.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
        const back = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
        return back.equals(Buffer.from(bytes)) && enc.length % 8 === 0;
      }),
    );
  });

  const names: [
    prefix: Parameters<typeof chainHash>[0],
    spn: string,
    proto: string,
    endpoint: string | undefined,
    expected: string,
  ][] = [
    ['KUBE-SVC-', 'ns1/svc1:p80', 'tcp', undefined, 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    ['KUBE-SEP-', 'ns1/svc1:p80', 'tcp', '10.180.0.1:80', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    ['KUBE-SVC-', 'ns1/svc1:p80', 'TCP', undefined, 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    // From kube-proxy's TestOverallIPTablesRules.
    ['KUBE-EXT-', 'ns2/svc2:p80', 'tcp', undefined, 'KUBE-EXT-GNZBNJ2PO5MGZ6GT'],
    ['KUBE-FW-', 'ns5/svc5:p80', 'tcp', undefined, 'KUBE-FW-NUKIZ6OKUXPJNT4C'],
    ['KUBE-SEP-', 'ns4/svc4:p80', 'tcp', '10.180.0.5:80', 'KUBE-SEP-C6EBXVWJJZMIWKLZ'],
    ['KUBE-SEP-', 'ns5/svc5:p80', 'tcp', '10.180.0.3:80', 'KUBE-SEP-I77PXRDZVX7PMWMN'],
  ];
  for (const [prefix, spn, proto, endpoint, expected] of names) {
    it(`${prefix} ${spn} ${proto} ${endpoint ?? ''} -> ${expected}`, () =>
      assert.equal(chainHash(prefix, spn, proto, endpoint), expected));
  }

  it("endpoint chains' order keys are read off their names and compare as the names do (property)", () => {
    const named = fc.record({
      spn: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 })),
      protocol: fc.constantFrom('TCP', 'udp', 'SCTP'),
      endpoint: fc.string({ maxLength: 30 }),
    });
    fc.assert(
      fc.property(named, named, (x, y) => {
        const keys = new Float64Array(4);
        chainOrderKey(chainHashInput(x.spn, x.protocol), x.endpoint, keys, 0);
        chainOrderKey(chainHashInput(y.spn, y.protocol), y.endpoint, keys, 1);
        const a = chainHash('KUBE-SEP-', x.spn, x.protocol, x.endpoint);
        const b = chainHash('KUBE-SEP-', y.spn, y.protocol, y.endpoint);
        const read = new Float64Array(2);
        assert.ok(chainNameOrderKey(a, 'KUBE-SEP-', read, 0));
        assert.deepEqual([...read], [...keys.subarray(0, 2)]);
        const byKeys = Math.sign(keys[0] - keys[2] || keys[1] - keys[3]);
        assert.equal(byKeys, a < b ? -1 : a > b ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });

  it("an endpoint chain's name is read back off its order key (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('TCP', 'udp', 'SCTP'),
        fc.string({ maxLength: 30 }),
        (spn, protocol, endpoint) => {
          const keys = new Float64Array(2);
          chainOrderKey(chainHashInput(spn, protocol), endpoint, keys, 0);
          assert.equal(
            chainNameOfOrderKey('KUBE-SEP-', keys[0], keys[1]),
            chainHash('KUBE-SEP-', spn, protocol, endpoint),
          );
        },
      ),
      { numRuns: 500 },
    );
    // The first and last characters of the alphabet at both ends of each half of the key.
    for (const name of ['KUBE-SEP-2222222222222222', 'KUBE-SEP-ZZZZZZZZZZZZZZZZ', 'KUBE-SEP-2ZZZZZZZZZ7AAAAA']) {
      const keys = new Float64Array(2);
      assert.ok(chainNameOrderKey(name, 'KUBE-SEP-', keys, 0));
      assert.equal(chainNameOfOrderKey('KUBE-SEP-', keys[0], keys[1]), name);
    }
  });

  it('a name chainHash cannot make has no order key', () => {
    const out = new Float64Array(2);
    for (const name of [
      'KUBE-SEP-',
      'KUBE-SEP-AAAAAAAAAAAAAAA1',
      'KUBE-SVC-AAAAAAAAAAAAAAAA',
      'KUBE-SEP-AAAAAAAAAAAAAAAAA',
    ])
      assert.equal(chainNameOrderKey(name, 'KUBE-SEP-', out, 0), false, name);
    assert.equal(chainNameOrderKey('KUBE-SEP-2AAAAAAAAAAAAAA7', 'KUBE-SEP-', out, 0), true);
  });

  it('SVL, EXT and FW share the SVC hash', () => {
    const h = chainHash('KUBE-SVC-', 'ns/a:http', 'udp').slice('KUBE-SVC-'.length);
    for (const p of ['KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-'] as const)
      assert.equal(chainHash(p, 'ns/a:http', 'udp'), p + h);
  });

  it('formats service port names and endpoints like kube-proxy', () => {
    assert.equal(servicePortName('ns', 'svc', 'p80'), 'ns/svc:p80');
    assert.equal(servicePortName('ns', 'svc', ''), 'ns/svc');
    assert.equal(endpointString('10.0.0.1', 80), '10.0.0.1:80');
    assert.equal(endpointString('fd00::1', 80), '[fd00::1]:80');
  });
});
