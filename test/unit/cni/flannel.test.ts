/**
 * flannel: the VXLAN backend's wiring (VTEP, onlink routes, permanent neighbour and FDB entries, MTUs) as the data
 * plane holds it, the walk's encapsulation and decapsulation, and the host-gw backend as a named choice.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane, traceFlow } from '../../../src/core';
import { cniViewOf } from '../../../src/core/cni';
import { vtepMac } from '../../../src/core/cni/flannel';
import { lookupRoute, routeTable } from '../../../src/core/dataplane/routes';
import { buildTopology } from '../../../src/core/model/build';
import { parseAddress } from '../../../src/core/net/address';
import { formatTraceText } from '../../../src/core/trace/text';
import type { Topology } from '../../../src/core/model/types';

const VXLAN = readFileSync('examples/cni-flannel-vxlan/cluster.netpath.yaml', 'utf8');
const topo = (text = VXLAN): Topology => buildTopology([{ path: 'cluster.netpath.yaml', text }]).topology;
const a = (s: string) => parseAddress(s)!;

describe('cni/flannel', () => {
  it('VXLAN: flannel.1 holds the .0 of the pod CIDR as a /32 (no prefix route), VNI 1, UDP 8472, nolearning, MTU 1450', () => {
    const t = topo();
    assert.equal(t.cluster.cni.flannel?.backend, 'vxlan');
    const dp = compileDataPlane(t);
    const n1 = dp.namespaces.get('node:node1')!;
    const vtep = n1.interfaces.find((i) => i.name === 'flannel.1')!;
    assert.equal(vtep.kind, 'vxlan');
    assert.deepEqual(vtep.addresses, [{ family: 4, address: '10.244.1.0', length: 32 }]);
    assert.deepEqual(vtep.vxlan, { vni: 1, port: 8472, local: '192.168.56.11', dev: 'eth0', learning: false });
    assert.equal(vtep.mtu, 1450);
    assert.equal(vtep.mac, vtepMac('node1', 'flannel.1'));
    assert.match(vtep.mac!, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/, 'a locally administered unicast MAC');
    // The kernel adds no prefix route for an IPv4 /32.
    assert.ok(!n1.routes.some((r) => r.dev === 'flannel.1' && r.kind === 'connected'));
    // The pods' MTU: their eth0, the host veths and cni0.
    assert.equal(dp.namespaces.get('pod:default/client')!.interfaces.find((i) => i.name === 'eth0')!.mtu, 1450);
    assert.ok(n1.interfaces.filter((i) => i.kind === 'veth' || i.kind === 'bridge').every((i) => i.mtu === 1450));
  });

  it('VXLAN: one onlink route, neighbour and FDB entry per other node, looked up by address and MAC', () => {
    const dp = compileDataPlane(topo());
    const n1 = dp.namespaces.get('node:node1')!;
    const r = lookupRoute(n1, a('10.244.2.10'))!;
    assert.equal(r.text, '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
    assert.equal(r.onlink, true);
    assert.ok(!routeTable(n1).some((x) => x.to === '10.244.1.0/24' && x.dev === 'flannel.1'), 'no route to itself');
    const mac2 = vtepMac('node2', 'flannel.1');
    assert.deepEqual(n1.tunnels!.neighbor('flannel.1', a('10.244.2.0')), {
      dev: 'flannel.1',
      address: '10.244.2.0',
      mac: mac2,
      node: 'node2',
    });
    assert.deepEqual(n1.tunnels!.fdb('flannel.1', mac2), {
      dev: 'flannel.1',
      mac: mac2,
      dst: '192.168.56.12',
      node: 'node2',
    });
    assert.equal(n1.tunnels!.neighbor('flannel.1', a('10.244.1.0')), undefined, 'none for itself');
    assert.deepEqual(
      n1.tunnels!.all().fdb.map((e) => e.dst),
      ['192.168.56.12'],
    );
  });

  it('VXLAN trace: encapsulated at node1 flannel.1 out, the outer packet on the underlay, decapsulated at node2 flannel.1 in', () => {
    const t = topo();
    const o = traceFlow(t, { from: 'pod/client', to: 'pod/web-2:8080' });
    const p = o.result!.paths[0];
    assert.equal(p.disposition, 'delivered');
    assert.deepEqual(
      p.hops.map((h) => `${h.netns} ${h.device} ${h.dir}${h.outer ? ' (outer)' : ''}`),
      [
        'pod:default/client eth0 out',
        `node:node1 ${t.pods[0].hostVeth} in`,
        'node:node1 cni0 in',
        'node:node1 flannel.1 out',
        'node:node1 eth0 out (outer)',
        'node:node2 eth0 in (outer)',
        'node:node2 flannel.1 in',
        'node:node2 cni0 out',
        `node:node2 ${t.pods[2].hostVeth} out`,
        'pod:default/web-2 eth0 in',
      ],
    );
    const out = p.hops[3];
    const encap = out.steps.find((s) => s.kind === 'encap');
    assert.deepEqual(encap && { ...encap, detail: '' }, {
      kind: 'encap',
      detail: '',
      protocol: 'vxlan',
      device: 'flannel.1',
      outer: { src: '192.168.56.11', dst: '192.168.56.12' },
      udpPort: 8472,
      vni: 1,
      inner: { src: '10.244.1.10', sport: 40000, dst: '10.244.2.10', dport: 8080 },
      remote: { node: 'node2', mac: vtepMac('node2', 'flannel.1') },
    });
    // Before the encapsulation: the neighbour entry; after: the outer packet routed and filtered by node1 itself.
    const kinds = out.steps.map((s) => s.kind);
    assert.ok(kinds.indexOf('neighbor') < kinds.indexOf('encap'));
    assert.ok(out.steps.some((s) => s.kind === 'route' && s.destination === '192.168.56.12'));
    assert.ok(out.steps.some((s) => s.kind === 'netfilter' && s.hook === 'OUTPUT'));
    // The underlay hops carry the inner packet of the flow and the outer header.
    for (const h of [p.hops[4], p.hops[5]]) {
      assert.deepEqual(h.packet, { src: '10.244.1.10', sport: 40000, dst: '10.244.2.10', dport: 8080, ttl: 63 });
      assert.deepEqual(h.outer, {
        protocol: 'vxlan',
        src: '192.168.56.11',
        dst: '192.168.56.12',
        udpPort: 8472,
        vni: 1,
        ttl: 64,
      });
    }
    // node2 takes the outer packet through PREROUTING and INPUT (a firewall there could drop UDP 8472) before flannel.1.
    assert.ok(p.hops[5].steps.some((s) => s.kind === 'route' && s.table === 'local'));
    const decap = p.hops[6].steps[0];
    assert.equal(decap.kind, 'decap');
    assert.equal(p.hops[6].outer, undefined);
    const text = formatTraceText(o.result!);
    assert.match(text, /in the tunnel: VXLAN outer 192\.168\.56\.11 -> 192\.168\.56\.12 udp\/8472 vni 1/);
  });

  it('a port the remote node does not listen on: the outer packet is refused there (port unreachable)', () => {
    // node2's VTEP listens on 4789 while node1 sends to 8472 (a mismatch between nodes, built by hand here).
    const t = topo();
    const dp = compileDataPlane(t);
    const n2 = dp.namespaces.get('node:node2')!;
    const moved = {
      ...n2,
      interfaces: n2.interfaces.map((i) => (i.vxlan ? { ...i, vxlan: { ...i.vxlan, port: 4789 } } : i)),
    };
    const namespaces = new Map(dp.namespaces);
    namespaces.set('node:node2', moved);
    const o = traceFlow(t, { from: 'pod/client', to: 'pod/web-2:8080' }, { ...dp, namespaces });
    const p = o.result!.paths[0];
    assert.equal(p.disposition, 'rejected');
    assert.equal(p.reason, 'no-listener');
    const last = p.hops[p.hops.length - 1];
    assert.equal(`${last.netns} ${last.device} ${last.dir}`, 'node:node2 eth0 in');
    const drop = last.steps.find((s) => s.kind === 'drop');
    assert.ok(drop?.kind === 'drop' && drop.port === 8472 && drop.listening?.includes('flannel.1:4789/UDP'));
  });

  it('the VNI, the port and the underlay MTU are settings; the VTEP is flannel.<VNI>', () => {
    const t = topo(
      VXLAN.replace('vni: 1,', 'vni: 7,').replace('port: 8472', 'port: 4789').replace('mtu: 1500', 'mtu: 9000'),
    );
    const dp = compileDataPlane(t);
    const vtep = dp.namespaces.get('node:node1')!.interfaces.find((i) => i.kind === 'vxlan')!;
    assert.equal(vtep.name, 'flannel.7');
    assert.deepEqual([vtep.vxlan?.vni, vtep.vxlan?.port, vtep.mtu], [7, 4789, 8950]);
    assert.equal(dp.namespaces.get('node:node1')!.interfaces.find((i) => i.name === 'eth0')!.mtu, 9000);
    const view = cniViewOf(t.nodes[0], t);
    assert.equal(view.tunnel?.device, 'flannel.7');
    assert.match(view.summary, /^flannel VXLAN: VTEP flannel\.7 \(VNI 7, UDP 4789/);
  });

  it('host-gw: the bridge wiring and routes via the other node, no VTEP, no tunnel', () => {
    const t = topo(VXLAN.replace('backend: {type: vxlan, vni: 1, port: 8472}', 'backend: {type: host-gw}'));
    assert.equal(t.cluster.cni.flannel?.backend, 'host-gw');
    const dp = compileDataPlane(t);
    const n1 = dp.namespaces.get('node:node1')!;
    assert.ok(!n1.interfaces.some((i) => i.kind === 'vxlan'));
    assert.equal(lookupRoute(n1, a('10.244.2.10'))!.text, '10.244.2.0/24 via 192.168.56.12 dev eth0');
    const p = traceFlow(t, { from: 'pod/client', to: 'pod/web-2:8080' }).result!.paths[0];
    assert.equal(p.disposition, 'delivered');
    assert.ok(p.hops.every((h) => !h.outer && !h.steps.some((s) => s.kind === 'encap')));
    assert.match(cniViewOf(t.nodes[0], t).summary, /^flannel host-gw/);
  });
});
