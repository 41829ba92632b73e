/**
 * Calico VXLAN and IPIP: what `ip -d link`, `ip route`, `ip neigh` and `bridge fdb` would show on a node whose pools
 * say vxlanMode or ipipMode, CrossSubnet's choice per remote node, the pods' MTU, and IPPool resources that select
 * the model.
 * (Traces are golden tests in test/fixtures/traces; the kernel tier builds examples/cni-calico-vxlan.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, compileDataPlane } from '../../../src/core';
import { cniViewOf } from '../../../src/core/cni';
import { routeTable } from '../../../src/core/dataplane/routes';
import { buildTopology } from '../../../src/core/model/build';
import type { Topology } from '../../../src/core/model/types';

const ALWAYS = readFileSync('examples/cni-calico-vxlan/cluster.netpath.yaml', 'utf8');
const CROSS = readFileSync('test/fixtures/traces/calico-vxlan-cross-subnet/topology.yaml', 'utf8');
const IPIP = readFileSync('test/fixtures/traces/calico-ipip-pod-to-pod-cross-node/topology.yaml', 'utf8');
const ROUTED = readFileSync('examples/cni-calico/cluster.netpath.yaml', 'utf8');
const topo = (text: string): Topology => buildTopology([{ path: 'c.netpath.yaml', text }]).topology;
const nsOf = (t: Topology, id: string) => {
  const ns = compileDataPlane(t).namespaces.get(id);
  assert.ok(ns, id);
  return ns;
};

describe('cni (Calico VXLAN and IPIP)', () => {
  it('every node has vxlan.calico: VNI 4096, UDP 4789, its tunnel address /32, no learning, MTU 1450', () => {
    const t = topo(ALWAYS);
    const n1 = nsOf(t, 'node:node1');
    const vtep = n1.interfaces.find((i) => i.name === 'vxlan.calico');
    assert.ok(vtep);
    assert.equal(vtep.kind, 'vxlan');
    assert.deepEqual(
      vtep.addresses.map((a) => `${a.address}/${a.length}`),
      ['10.244.1.0/32'],
    );
    assert.equal(vtep.mtu, 1450);
    assert.deepEqual(vtep.vxlan, { vni: 4096, port: 4789, local: '192.168.56.11', dev: 'eth0', learning: false });
    // The pods' MTU follows (felix's veth MTU), on both ends of the veth.
    const pod = nsOf(t, 'pod:default/client').interfaces.find((i) => i.name === 'eth0');
    assert.equal(pod?.mtu, 1450);
    assert.ok(n1.interfaces.filter((i) => i.kind === 'veth').every((i) => i.mtu === 1450));
  });

  it("the tunnel address is the first address of the node's lowest block in a VXLAN pool, whatever order the pods are listed in", () => {
    // node1's pods: one in 10.244.1.64/26 listed before one in 10.244.1.0/26, and one in a second pool without VXLAN.
    const text = ALWAYS.replace(
      '      - {name: default-ipv4-ippool, cidr: 10.244.0.0/16, blockSize: 26, vxlanMode: Always, natOutgoing: true}\n',
      '      - {name: routed, cidr: 10.200.0.0/16, blockSize: 26, natOutgoing: true}\n      - {name: default-ipv4-ippool, cidr: 10.244.0.0/16, blockSize: 26, vxlanMode: Always, natOutgoing: true}\n',
    )
      .replace(
        '  - name: client\n    node: node1\n    ip: 10.244.1.10\n',
        '  - name: client\n    node: node1\n    ip: 10.244.1.70\n',
      )
      .replace(
        '  - name: web-1\n    node: node1\n    ip: 10.244.1.11\n',
        '  - name: web-1\n    node: node1\n    ip: 10.244.1.1\n',
      )
      .replace('pods:\n', 'pods:\n  - {name: batch, node: node1, ip: 10.200.3.5}\n');
    const t = topo(text);
    assert.deepEqual(
      t.pods.filter((p) => p.node === 'node1').map((p) => p.ips[0]),
      ['10.200.3.5', '10.244.1.70', '10.244.1.1'],
    );
    const vtep = nsOf(t, 'node:node1').interfaces.find((i) => i.name === 'vxlan.calico');
    assert.deepEqual(vtep?.addresses, [{ family: 4, address: '10.244.1.0', length: 32 }]);
    // A pod written with the block's first address: the next free one (IPAM never gives one address twice).
    const taken = topo(text.replace('    ip: 10.244.1.1\n', '    ip: 10.244.1.0\n'));
    assert.deepEqual(nsOf(taken, 'node:node1').interfaces.find((i) => i.name === 'vxlan.calico')?.addresses, [
      { family: 4, address: '10.244.1.1', length: 32 },
    ]);
  });

  it('remote blocks go via their tunnel address onlink; one permanent neighbour and FDB entry per other node', () => {
    const t = topo(ALWAYS);
    const n1 = nsOf(t, 'node:node1');
    const table = routeTable(n1).map((r) => r.text);
    assert.ok(table.includes('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink'), table.join('\n'));
    assert.ok(table.includes('blackhole 10.244.1.0/26'), table.join('\n'));
    assert.ok(!table.some((r) => r.startsWith('10.244.1.0/26 via')), 'no tunnel route to its own block');
    const entries = n1.tunnels?.all();
    const mac2 = cniViewOf(t.nodes[1], t).tunnel?.mac;
    assert.ok(mac2);
    assert.deepEqual(entries?.neighbors, [{ dev: 'vxlan.calico', address: '10.244.2.0', mac: mac2, node: 'node2' }]);
    assert.deepEqual(entries?.fdb, [{ dev: 'vxlan.calico', mac: mac2, dst: '192.168.56.12', node: 'node2' }]);
  });

  it('CrossSubnet: a node on the same subnet is routed directly, one on another subnet through vxlan.calico', () => {
    const t = topo(CROSS);
    const table = routeTable(nsOf(t, 'node:node1')).map((r) => r.text);
    assert.ok(table.includes('10.244.2.0/26 via 192.168.56.12 dev eth0'), table.join('\n'));
    assert.ok(table.includes('10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink'), table.join('\n'));
    const t3 = routeTable(nsOf(t, 'node:node3')).map((r) => r.text);
    assert.ok(t3.includes('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink'), t3.join('\n'));
  });

  it('the view names the VTEP for the topology graph and hovers; routed Calico has none', () => {
    const t = topo(ALWAYS);
    const v = cniViewOf(t.nodes[0], t);
    assert.equal(v.tunnel?.device, 'vxlan.calico');
    assert.equal(v.tunnel?.vni, 4096);
    assert.equal(v.tunnel?.port, 4789);
    assert.match(v.summary, /^Calico VXLAN: VTEP vxlan.calico \(VNI 4096, UDP 4789/);
    assert.equal(v.bridge, undefined);
    const r = topo(ROUTED);
    assert.equal(cniViewOf(r.nodes[0], r).tunnel, undefined);
    assert.ok(!nsOf(r, 'node:node1').interfaces.some((i) => i.name === 'vxlan.calico'));
  });

  it('IPPool resources with vxlanMode or ipipMode select the calico model (no cni.plugin-unmodelled)', () => {
    const pool = (mode: string) =>
      `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.244.0.0/16\n  ${mode}\n  natOutgoing: true\n`;
    for (const mode of ['vxlanMode: Always', 'ipipMode: Always', 'vxlanMode: CrossSubnet']) {
      const a = analyse([{ path: 'ippool.yaml', text: pool(mode) }]);
      assert.equal(a.topology.cluster.cni.plugin, 'calico', mode);
      assert.ok(!a.diagnostics.some((d) => d.code === 'cni.plugin-unmodelled'), mode);
    }
  });

  it('IPIP: tunl0 with the tunnel address /32 and MTU 1480, remote blocks via the node address dev tunl0 onlink', () => {
    const t = topo(IPIP);
    const n1 = nsOf(t, 'node:node1');
    const tunl = n1.interfaces.find((i) => i.name === 'tunl0');
    assert.equal(tunl?.kind, 'ipip');
    assert.deepEqual(
      tunl?.addresses.map((a) => `${a.address}/${a.length}`),
      ['10.244.1.0/32'],
    );
    assert.equal(tunl?.mtu, 1480);
    assert.ok(!n1.interfaces.some((i) => i.name === 'vxlan.calico'));
    assert.equal(nsOf(t, 'pod:default/client').interfaces.find((i) => i.name === 'eth0')?.mtu, 1480);
    const table = routeTable(n1).map((r) => r.text);
    assert.ok(table.includes('10.244.2.0/26 via 192.168.56.12 dev tunl0 onlink'), table.join('\n'));
    const v = cniViewOf(t.nodes[0], t);
    assert.equal(v.tunnel?.protocol, 'ipip');
    assert.equal(v.tunnel?.device, 'tunl0');
    assert.match(v.summary, /^Calico IPIP: tunl0 \(IP protocol 4/);
  });

  it('IPIP CrossSubnet: same-subnet blocks routed directly, the others through tunl0', () => {
    const t = topo(CROSS.replace('vxlanMode: CrossSubnet', 'ipipMode: CrossSubnet'));
    const table = routeTable(nsOf(t, 'node:node1')).map((r) => r.text);
    assert.ok(table.includes('10.244.2.0/26 via 192.168.56.12 dev eth0'), table.join('\n'));
    assert.ok(table.includes('10.244.3.0/26 via 192.168.57.13 dev tunl0 onlink'), table.join('\n'));
  });
});
