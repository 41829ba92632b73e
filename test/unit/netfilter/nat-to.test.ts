import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNatTo } from '../../../src/core/netfilter/targets/nat';
import { parseAddress } from '../../../src/core/net/address';
import { parsePort } from '../../../src/core/netfilter/values';
import { params } from '../fuzz/harness';

/**
 * `--to-destination`/`--to-source` as iptables reads them, written plainly: `[v6]:port`, `v6`, `v4`, `v4:port`, an
 * address range `a-b` and a port range `p1-p2`, of which the first address and port are what the tracer uses.
 */
function oracle(value: string): { text: string; address?: string; port?: number } | undefined {
  let addr = value;
  let ports: string | undefined;
  const bracketed = /^\[([^\]]*)\](.*)$/.exec(value);
  if (value.startsWith('[')) {
    if (!bracketed) return undefined;
    addr = bracketed[1];
    if (bracketed[2] !== '') {
      if (!bracketed[2].startsWith(':')) return undefined;
      ports = bracketed[2].slice(1);
    }
  } else if (value.split(':').length === 2) {
    [addr, ports] = value.split(':');
  }
  const out: { text: string; address?: string; port?: number } = { text: value };
  if (addr !== '') {
    const range = addr.split('-');
    if (range.some((a) => parseAddress(a) === undefined)) return undefined;
    out.address = range[0];
  }
  if (ports !== undefined) {
    const range = ports.split('-');
    if (range.length > 2 || range.some((p) => parsePort(p) === undefined)) return undefined;
    out.port = parsePort(range[0]);
  }
  return out.address === undefined && out.port === undefined ? undefined : out;
}

describe('parseNatTo (a NAT target address)', () => {
  it('reads the forms kube-proxy and users write', () => {
    assert.deepEqual(parseNatTo('10.244.1.5:8080'), { text: '10.244.1.5:8080', address: '10.244.1.5', port: 8080 });
    assert.deepEqual(parseNatTo('[fd00::5]:53'), { text: '[fd00::5]:53', address: 'fd00::5', port: 53 });
    assert.deepEqual(parseNatTo('fd00::5'), { text: 'fd00::5', address: 'fd00::5' });
    assert.deepEqual(parseNatTo('10.0.0.1-10.0.0.9:80-90'), {
      text: '10.0.0.1-10.0.0.9:80-90',
      address: '10.0.0.1',
      port: 80,
    });
    assert.deepEqual(parseNatTo(':8080'), { text: ':8080', port: 8080 });
    assert.equal(parseNatTo('10.0.0.1-nope'), undefined);
    assert.equal(parseNatTo('10.0.0.1:80-90-100'), undefined);
    assert.equal(parseNatTo('10.0.0.1:80-x'), undefined);
    assert.equal(parseNatTo('[fd00::5'), undefined);
    assert.equal(parseNatTo(''), undefined);
  });

  it('agrees with the plain reading on generated values, field order included', () => {
    const piece = fc.constantFrom(
      '10.0.0.1',
      '10.244.3.17',
      '300.1.1.1',
      'fd00::5',
      '::1',
      '[fd00::5]',
      '[',
      ']',
      ':',
      '-',
      '80',
      '65535',
      '65536',
      '0',
      'x',
      ' ',
      '',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        const value = pieces.join('');
        const got = parseNatTo(value);
        const want = oracle(value);
        assert.deepEqual(got, want, value);
        // JSON output shows the fields in this order.
        if (got) assert.deepEqual(Object.keys(got), Object.keys(want ?? {}), value);
      }),
      params(2000),
    );
  });
});
