/**
 * Route kinds and per-device settings routed CNI plug-ins need: blackhole and scope-link routes as `ip route`
 * prints them and as the lab installs them, prefix routes the kernel adds (none for an IPv4 /32 or a
 * `noprefixroute` address), the source a device without an address borrows, and SHA-1 for Calico's veth names.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  compareRoutes,
  connectedRoute,
  pluginRoute,
  routeAddArgs,
  sortRoutes,
  sourceAddressFor,
} from '../../../src/core/dataplane/routes';
import type { DpInterface } from '../../../src/core/dataplane/types';
import { parseAddress } from '../../../src/core/net/address';
import { sha1Hex } from '../../../src/core/hash';

describe('dataplane/route kinds', () => {
  it('prints and installs blackhole, scope link, scope host and src routes as ip route does', () => {
    const bh = pluginRoute('10.244.1.0/26', { type: 'blackhole' })!;
    assert.equal(bh.text, 'blackhole 10.244.1.0/26');
    assert.equal(routeAddArgs(bh), 'blackhole 10.244.1.0/26');
    const link = pluginRoute('169.254.1.1', { dev: 'eth0', scope: 'link' })!;
    assert.equal(link.text, '169.254.1.1 dev eth0 scope link');
    assert.equal(link.prefix.length, 32);
    assert.equal(routeAddArgs(link), '169.254.1.1/32 dev eth0 scope link');
    const host = pluginRoute('10.244.1.10', { dev: 'veth1', scope: 'host' })!;
    assert.equal(host.text, '10.244.1.10 dev veth1 scope host');
    const via = pluginRoute('10.244.1.0/24', { via: '10.244.1.1', dev: 'eth0', src: '10.244.1.10' })!;
    assert.equal(via.text, '10.244.1.0/24 via 10.244.1.1 dev eth0 src 10.244.1.10');
    assert.equal(routeAddArgs(via), '10.244.1.0/24 via 10.244.1.1 dev eth0 src 10.244.1.10');
    const def = pluginRoute('default', { via: '169.254.1.1', dev: 'eth0', kind: 'gateway' })!;
    assert.equal(def.text, 'default via 169.254.1.1 dev eth0');
    assert.equal(routeAddArgs(def), '0.0.0.0/0 via 169.254.1.1 dev eth0');
    assert.equal(pluginRoute('default', { via: 'fd00::1', dev: 'eth0' })!.prefix.family, 6);
  });

  it('adds no prefix route for an IPv4 /32 or a noprefixroute address, as the kernel', () => {
    assert.equal(connectedRoute('veth1', { family: 4, address: '10.244.1.1', length: 32 }), undefined);
    assert.equal(
      connectedRoute('eth0', { family: 4, address: '10.244.1.10', length: 24, noPrefixRoute: true }),
      undefined,
    );
    assert.equal(connectedRoute('eth0', { family: 4, address: '10.244.1.10', length: 24 })?.to, '10.244.1.0/24');
  });

  it('a device without an address sends from the first other device that has one (inet_select_addr)', () => {
    const cali: DpInterface = { name: 'cali0', kind: 'veth', addresses: [] };
    const ns = {
      interfaces: [
        { name: 'lo', kind: 'loopback', addresses: [{ family: 4, address: '127.0.0.1', length: 8 }] },
        { name: 'eth0', kind: 'physical', addresses: [{ family: 4, address: '192.168.56.11', length: 24 }] },
        cali,
      ] as DpInterface[],
    };
    assert.equal(sourceAddressFor(cali, 4, parseAddress('10.244.1.10'), ns), '192.168.56.11');
    assert.equal(sourceAddressFor(cali, 4, parseAddress('10.244.1.10')), undefined);
  });

  it('SHA-1 matches Node crypto (Calico names host veths by it)', () => {
    for (const s of ['', 'abc', 'default.web-1', 'kube-system.coredns-5d78c9869d-xk2lp', 'x'.repeat(200), 'ü€😀'])
      assert.equal(sha1Hex(s), createHash('sha1').update(s).digest('hex'));
  });

  it('sorts a short table as a long one: family, longest prefix, text, and equal routes in their order', () => {
    const route = (to: string, dev: string) => pluginRoute(to, { dev })!;
    const all = [
      route('default', 'eth0'),
      route('10.244.0.0/16', 'eth1'),
      route('fd00::/64', 'eth0'),
      route('10.244.1.0/24', 'eth0'),
      route('10.244.1.0/24', 'eth0'),
      route('10.244.1.0/24', 'cni0'),
      route('10.244.1.7', 'eth0'),
    ];
    // Short tables (sorted by insertion) in several orders, then a long one (sorted by Array.prototype.sort): the same
    // order as a stable sort by compareRoutes, equal routes kept in the order they came.
    const tables = [
      all,
      [...all].reverse(),
      all.slice(0, 3),
      [all[3], all[4], all[1]],
      [all[4], all[3], all[0], all[5]],
    ];
    for (const table of tables) {
      const sorted = sortRoutes(table);
      assert.deepEqual(sorted, [...table].sort(compareRoutes));
      for (let i = 1; i < sorted.length; i++)
        if (compareRoutes(sorted[i - 1], sorted[i]) === 0)
          assert.ok(table.indexOf(sorted[i - 1]) < table.lastIndexOf(sorted[i]), 'equal routes stay in their order');
    }
    const long = Array.from({ length: 12 }, (_, i) => route(`10.0.${i}.0/${16 + (i % 9)}`, 'eth0'));
    assert.deepEqual(sortRoutes(long), [...long].sort(compareRoutes));
  });
});
