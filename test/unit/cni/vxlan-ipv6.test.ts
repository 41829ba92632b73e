/**
 * VXLAN over IPv6 on dual-stack clusters: flannel's second VTEP flannel-v6.<VNI> and Calico's vxlan-v6.calico, as
 * `ip -d link`, `ip -6 route`, `ip -6 neigh` and `bridge fdb` would show them, the walk's encapsulation in an outer
 * IPv6 packet, and the choice of VTEP by the outer packet's family at the receiver (both VTEPs share VNI and port).
 * (The traces are golden tests in test/fixtures/traces/*-vxlan-ipv6-*; the kernel tier builds the examples.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { cniViewOf } from '../../../src/core/cni';
import { vtepMac } from '../../../src/core/cni/flannel';
import { lookupRoute } from '../../../src/core/dataplane/routes';
import { buildTopology } from '../../../src/core/model/build';
import { parseAddress } from '../../../src/core/net/address';
import type { Topology } from '../../../src/core/model/types';

const FLANNEL = readFileSync('examples/cni-flannel-vxlan-dual-stack/cluster.netpath.yaml', 'utf8');
const CALICO = readFileSync('examples/cni-calico-vxlan-dual-stack/cluster.netpath.yaml', 'utf8');
const topo = (text: string): Topology => buildTopology([{ path: 'c.netpath.yaml', text }]).topology;
const a = (s: string) => {
  const x = parseAddress(s);
  assert.ok(x, s);
  return x;
};
const nodeNs = (t: Topology, name: string) => {
  const ns = compileDataPlane(t).namespaces.get(`node:${name}`);
  assert.ok(ns, name);
  return ns;
};

describe('cni: VXLAN over IPv6 (dual-stack)', () => {
  it('flannel: flannel-v6.1 beside flannel.1, same VNI and port, over the IPv6 address of eth0, its subnet network address /128, MTU 1430', () => {
    const n1 = nodeNs(topo(FLANNEL), 'node1');
    const v4 = n1.interfaces.find((i) => i.name === 'flannel.1');
    const v6 = n1.interfaces.find((i) => i.name === 'flannel-v6.1');
    assert.ok(v4 && v6);
    assert.deepEqual(v4.vxlan, { vni: 1, port: 8472, local: '192.168.56.11', dev: 'eth0', learning: false });
    assert.deepEqual(v6.vxlan, { vni: 1, port: 8472, local: 'fd00:56::11', dev: 'eth0', learning: false });
    assert.deepEqual(v6.addresses, [{ family: 6, address: 'fd00:10:244:1::', length: 128 }]);
    assert.equal(v6.mtu, 1430, 'the kernel gives a VXLAN device over IPv6 the underlay MTU - 70');
    assert.equal(v4.mtu, 1450);
    assert.equal(v6.mac, vtepMac('node1', 'flannel-v6.1'));
    assert.notEqual(v6.mac, v4.mac);
  });

  it('flannel: an onlink route, a permanent neighbour and an FDB entry to the other node, per family', () => {
    const n1 = nodeNs(topo(FLANNEL), 'node1');
    assert.equal(
      lookupRoute(n1, a('fd00:10:244:2::a'))?.text,
      'fd00:10:244:2::/64 via fd00:10:244:2:: dev flannel-v6.1 onlink',
    );
    assert.equal(lookupRoute(n1, a('10.244.2.10'))?.text, '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
    const mac2 = vtepMac('node2', 'flannel-v6.1');
    assert.deepEqual(n1.tunnels?.neighbor('flannel-v6.1', a('fd00:10:244:2::')), {
      dev: 'flannel-v6.1',
      address: 'fd00:10:244:2::',
      mac: mac2,
      node: 'node2',
    });
    assert.equal(n1.tunnels?.neighbor('flannel.1', a('fd00:10:244:2::')), undefined, 'not on the IPv4 VTEP');
    assert.deepEqual(n1.tunnels?.fdb('flannel-v6.1', mac2), {
      dev: 'flannel-v6.1',
      mac: mac2,
      dst: 'fd00:56::12',
      node: 'node2',
    });
    const all = n1.tunnels?.all();
    assert.deepEqual(
      all?.fdb.map((e) => `${e.dev} ${e.dst}`),
      ['flannel.1 192.168.56.12', 'flannel-v6.1 fd00:56::12'],
    );
  });

  it('flannel: the trace wraps the IPv6 packet in UDP 8472 between the IPv6 addresses, 70 bytes more, and node2 unwraps it on flannel-v6.1', () => {
    const t = topo(FLANNEL);
    const o = traceFlow(t, { from: 'pod/client', to: '[fd00:10:244:2::a]:8080', size: 1000 });
    const p = o.result?.paths[0];
    assert.equal(p?.disposition, 'delivered');
    const steps = p.hops.flatMap((h) => h.steps.map((s) => ({ hop: `${h.netns} ${h.device}`, s })));
    const encap = steps.find((x) => x.s.kind === 'encap');
    const decap = steps.find((x) => x.s.kind === 'decap');
    assert.equal(encap?.hop, 'node:node1 flannel-v6.1');
    assert.equal(decap?.hop, 'node:node2 flannel-v6.1', 'not flannel.1, which has the same VNI and port');
    assert.ok(encap?.s.kind === 'encap');
    assert.deepEqual(
      [encap.s.outer, encap.s.udpPort, encap.s.vni],
      [{ src: 'fd00:56::11', dst: 'fd00:56::12' }, 8472, 1],
    );
    const underlay = p.hops.find((h) => h.outer && h.netns === 'node:node1');
    assert.equal(underlay?.device, 'eth0');
  });

  it('flannel: the view names both VTEPs (hovers, topology graph)', () => {
    const t = topo(FLANNEL);
    const v = cniViewOf(t.nodes[0], t);
    assert.equal(v.tunnel?.device, 'flannel.1');
    assert.deepEqual(
      [v.tunnel6?.device, v.tunnel6?.address, v.tunnel6?.local, v.tunnel6?.port],
      ['flannel-v6.1', 'fd00:10:244:1::', 'fd00:56::11', 8472],
    );
    assert.match(v.summary, /flannel-v6\.1 \(VNI 1, UDP 8472, fd00:10:244:1::\/128/);
  });

  it('Calico: vxlan-v6.calico (VNI 4096, UDP 4789) over the node IPv6 address, its IPv6 tunnel address /128; pods get the smaller MTU, 1430', () => {
    const t = topo(CALICO);
    const n1 = nodeNs(t, 'node1');
    const v6 = n1.interfaces.find((i) => i.name === 'vxlan-v6.calico');
    assert.ok(v6);
    assert.deepEqual(v6.vxlan, { vni: 4096, port: 4789, local: 'fd00:56::11', dev: 'eth0', learning: false });
    assert.deepEqual(v6.addresses, [{ family: 6, address: 'fd00:10:244:1::', length: 128 }]);
    assert.equal(v6.mtu, 1430);
    assert.equal(n1.interfaces.find((i) => i.name === 'vxlan.calico')?.mtu, 1450);
    const pod = compileDataPlane(t).namespaces.get('pod:default/client');
    assert.equal(pod?.interfaces.find((i) => i.name === 'eth0')?.mtu, 1430);
    assert.equal(
      lookupRoute(n1, a('fd00:10:244:2::a'))?.text,
      'fd00:10:244:2::/122 via fd00:10:244:2:: dev vxlan-v6.calico onlink',
    );
    assert.deepEqual(
      n1.tunnels?.all().neighbors.map((e) => `${e.dev} ${e.address}`),
      ['vxlan.calico 10.244.2.0', 'vxlan-v6.calico fd00:10:244:2::'],
    );
    assert.equal(cniViewOf(t.nodes[1], t).tunnel6?.device, 'vxlan-v6.calico');
  });

  it('Calico: an IPv6 pool without vxlanMode keeps routing IPv6 blocks directly, with no vxlan-v6.calico', () => {
    const t = topo(CALICO.replace(/(cidr: "fd00:10:244::\/56", blockSize: 122), vxlanMode: Always/, '$1'));
    const n1 = nodeNs(t, 'node1');
    assert.ok(!n1.interfaces.some((i) => i.name === 'vxlan-v6.calico'));
    assert.equal(lookupRoute(n1, a('fd00:10:244:2::a'))?.text, 'fd00:10:244:2::/122 via fd00:56::12 dev eth0');
    assert.equal(cniViewOf(t.nodes[0], t).tunnel6, undefined);
  });
});

describe('cni.mtu-too-large on a dual-stack VXLAN overlay', () => {
  it('a pod MTU of 1450 does not fit flannel-v6.1 (1500 - 70): the largest that fits is 1430', () => {
    const text = FLANNEL.replace('    hairpinMode: true\n', '    hairpinMode: true\n    mtu: 1450\n');
    const found = analyse([{ path: 'c.netpath.yaml', text }]).diagnostics.filter((d) => d.code === 'cni.mtu-too-large');
    assert.equal(found.length, 1);
    assert.match(
      found[0].message,
      /VXLAN over IPv6 \(flannel-v6\.1\) adds 70 bytes.*the largest packet that fits is 1430/,
    );
    const quiet = FLANNEL.replace('    hairpinMode: true\n', '    hairpinMode: true\n    mtu: 1430\n');
    assert.deepEqual(
      analyse([{ path: 'c.netpath.yaml', text: quiet }]).diagnostics.filter((d) => d.code === 'cni.mtu-too-large'),
      [],
    );
  });
});
