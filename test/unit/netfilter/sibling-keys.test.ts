/**
 * The sibling keys a node's filter remembers per hook (src/core/netfilter/evaluate.ts, `SiblingKeys`) must be the
 * keys `siblingKey` makes, whatever the order of the hooks, packets and contexts asked.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SiblingKeys, siblingKey } from '../../../src/core/netfilter/evaluate';
import type { EvalContext, Hook, Packet } from '../../../src/core/netfilter/types';

/** A few contexts, each one object as the walk keeps them (one differs from another only by a sibling-key field). */
const CONTEXTS: EvalContext[] = [
  { localAddresses: ['172.16.0.5'], conntrack: { state: 'NEW' } },
  { localAddresses: ['172.16.0.5'], conntrack: { state: 'NEW' }, outIfaceAddress: '172.16.0.5' },
  { localAddresses: ['172.16.0.5'], conntrack: { state: 'ESTABLISHED', dnat: true } },
  { localAddresses: ['172.16.0.5'], conntrack: { state: 'NEW' }, tables: ['raw', 'mangle'] },
  { localAddresses: ['172.16.0.5'], conntrack: { state: 'NEW' }, recent: [{ name: 'A', address: '10.0.0.1' }] },
  { localAddresses: ['172.16.0.5'], conntrack: { state: 'NEW' }, random: 'match', maxDepth: 8, maxSteps: 100 },
];

const packet: fc.Arbitrary<Packet> = fc
  .record({
    family: fc.constantFrom(4 as const, 6 as const),
    proto: fc.constantFrom('tcp', 'udp'),
    src: fc.constantFrom('10.128.1.7', '10.128.1.8', 'fd00::7'),
    dst: fc.constantFrom('10.128.46.2', '10.128.46.3', '10.96.0.10'),
    sport: fc.option(fc.constantFrom(40000, 40001), { nil: undefined }),
    dport: fc.option(fc.constantFrom(80, 8080), { nil: undefined }),
    mark: fc.constantFrom(0, 0x4000),
    ctmark: fc.option(fc.constantFrom(0, 1), { nil: undefined }),
    inIface: fc.option(fc.constantFrom('eth0', 'cni0', 'veth1'), { nil: undefined }),
    outIface: fc.option(fc.constantFrom('eth0', 'cni0'), { nil: undefined }),
    bridged: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((p) => p as Packet);

const call = fc.record({
  hook: fc.constantFrom<Hook>('PREROUTING', 'FORWARD', 'POSTROUTING', 'INPUT', 'OUTPUT'),
  packet,
  ctx: fc.constantFrom(...CONTEXTS),
});

describe('sibling keys remembered per hook', () => {
  it('are the keys siblingKey makes, for any sequence of hooks, packets and contexts', () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 60 }), (calls) => {
        const keys = new SiblingKeys();
        for (const c of calls) assert.equal(keys.of(c.hook, c.packet, c.ctx), siblingKey(c.hook, c.packet, c.ctx));
      }),
      { numRuns: 500 },
    );
  });

  it('are remembered for packets that differ only in the sibling fields', () => {
    const keys = new SiblingKeys();
    const ctx = CONTEXTS[0];
    const p: Packet = { family: 4, proto: 'tcp', src: '10.128.1.7', dst: '10.128.46.2', mark: 0, inIface: 'cni0' };
    const first = keys.of('FORWARD', p, ctx);
    const second = keys.of('FORWARD', { ...p, dst: '10.128.46.3', inIface: 'veth9' }, ctx);
    assert.equal(second, first);
    assert.notEqual(keys.of('FORWARD', { ...p, outIface: 'eth0' }, ctx), first, 'an interface present changes it');
  });
});
