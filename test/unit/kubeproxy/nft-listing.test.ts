/**
 * Show Node Rules prints kube-proxy's nftables tables as `nft list ruleset` prints them. The fixtures are nft 1.0.6's
 * own listing of NetPath's tables (loaded with nft -f in a scratch network namespace); the kernel tier repeats the
 * comparison for every scenario against the nft on the machine. The kernel may list a hash set's elements in another
 * order, so elements are compared as sets; everything else line for line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nftListedRule, nftPriorityText, nftTimeText } from '../../../src/core/kubeproxy';
import { kubeProxyNftablesText } from '../../../src/core/dataplane/kube-proxy';
import { buildTopology } from '../../../src/core/model/build';
import { comparableListing } from '../../kernel/nft-listing';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '../../fixtures/kubeproxy-nft', name), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

/** kube-proxy's nft text for `node` of a topology switched to nftables mode. */
function generated(file: string, node: string): string {
  let text = readFileSync(file, 'utf8');
  text = text.includes('    mode: iptables\n')
    ? text.replace('    mode: iptables\n', '    mode: nftables\n')
    : text.replace(/^cluster:\n/m, 'cluster:\n  kubeProxy: {mode: nftables}\n');
  const t = buildTopology([{ path: 'x.yaml', text }]).topology;
  assert.equal(t.cluster.kubeProxy.mode, 'nftables');
  const n = t.nodes.find((x) => x.name === node);
  assert.ok(n);
  return kubeProxyNftablesText(t, n);
}

describe('kube-proxy nftables mode: the tables as nft lists them', () => {
  for (const [what, file, listed] of [
    ['examples/two-node-lab', 'examples/two-node-lab/cluster.netpath.yaml', 'listed-by-nft.nft'],
    [
      'session affinity (dynamic sets, timeouts)',
      'test/fixtures/traces/session-affinity/topology.yaml',
      'listed-session-affinity.nft',
    ],
    [
      'dual-stack (ip and ip6 tables)',
      'test/fixtures/traces/ipv6-pod-to-service/topology.yaml',
      'listed-dual-stack.nft',
    ],
  ] as const) {
    it(`${what}: node1's tables are what nft 1.0.6 lists`, () => {
      assert.deepEqual(comparableListing(generated(file, 'node1')), comparableListing(fixture(listed)));
    });
  }

  it('an anonymous address set lists as nft keeps it: an element inside another merged into it', () => {
    // What nft 1.0.6 printed for the loadbalancer-source-ranges-allowed scenario (found by the kernel tier).
    assert.equal(
      nftListedRule('ip saddr != { 192.168.56.0/24 , 192.168.56.200 } drop'),
      'ip saddr != { 192.168.56.0/24 } drop',
    );
    assert.equal(nftListedRule('ip saddr != { 10.0.0.0/8 } drop'), 'ip saddr != 10.0.0.0/8 drop');
    assert.equal(nftListedRule('ip daddr { 10.0.0.1, 10.0.0.2 } drop'), 'ip daddr { 10.0.0.1, 10.0.0.2 } drop');
    // IPv6 the same way (the addresses' colons are not a map's ` : `).
    assert.equal(
      nftListedRule('ip6 saddr != { fd00:56::/64, fd00:56::c8 } drop'),
      'ip6 saddr != { fd00:56::/64 } drop',
    );
    assert.equal(nftListedRule('ip6 saddr != { fd00:56::/64 } drop'), 'ip6 saddr != fd00:56::/64 drop');
    assert.equal(
      nftListedRule('ip6 daddr { fd00:56::a, fd00:56::b } drop'),
      'ip6 daddr { fd00:56::a, fd00:56::b } drop',
    );
    assert.equal(
      nftListedRule('ip6 daddr . tcp dport vmap { fd00::1 . 80 : goto a, fd00::2 . 80 : goto b }'),
      'ip6 daddr . tcp dport vmap { fd00::1 . 80 : goto a, fd00::2 . 80 : goto b }',
    );
  });

  it('priorities by name where nft names them, numbers elsewhere; times as nft writes them', () => {
    assert.deepEqual(
      [
        nftPriorityText('prerouting', -110),
        nftPriorityText('output', -110),
        nftPriorityText('output', -100),
        nftPriorityText('prerouting', -100),
        nftPriorityText('postrouting', 100),
        nftPriorityText('input', 0),
        nftPriorityText('forward', 5),
        nftPriorityText('input', 100),
        nftPriorityText('prerouting', -150),
      ],
      ['dstnat - 10', '-110', '-100', 'dstnat', 'srcnat', 'filter', 'filter + 5', '100', 'mangle'],
    );
    assert.deepEqual(
      [nftTimeText(10800), nftTimeText(5400), nftTimeText(10), nftTimeText(90061)],
      ['3h', '1h30m', '10s', '1d1h1m1s'],
    );
  });
});
