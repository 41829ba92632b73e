/**
 * flannel: the VXLAN backend's wiring (VTEP, onlink routes, permanent neighbour and FDB entries, MTUs) as the data
 * plane holds it, the walk's encapsulation and decapsulation, and the host-gw backend as a named choice.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane, nodeRulesText, traceFlow } from '../../../src/core';
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

  describe("flanneld's own rules (--ip-masq: FLANNEL-POSTRTG; FLANNEL-FWD)", () => {
    const POSTRTG = (lease: string) => [
      '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
      `-A FLANNEL-POSTRTG -s ${lease} -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d ${lease} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d ${lease} -m comment --comment "flanneld masq" -j RETURN`,
      '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
      '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    ];
    const FWD = [
      '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      '-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
    ];
    /** The lines of one table of Show Node Rules' text, in order. */
    const table = (text: string, name: string): string[] => {
      const start = text.split('\n').indexOf(`*${name}`);
      const lines = text.split('\n').slice(start + 1);
      return lines.slice(0, lines.indexOf('COMMIT'));
    };

    it("Show Node Rules: each node's FLANNEL-POSTRTG with its own lease after kube-proxy's POSTROUTING jump, FLANNEL-FWD in filter", () => {
      const t = topo();
      for (const [node, lease] of [
        ['node1', '10.244.1.0/24'],
        ['node2', '10.244.2.0/24'],
      ] as const) {
        const text = nodeRulesText(t, node)!;
        const nat = table(text, 'nat');
        assert.ok(nat.includes(':FLANNEL-POSTRTG - [0:0]'), node);
        assert.deepEqual(
          nat.filter((l) => /FLANNEL-POSTRTG/.test(l) && l.startsWith('-A')),
          POSTRTG(lease),
        );
        // kube-proxy's masquerade of marked packets comes first (it prepends its jump; flanneld appends).
        assert.ok(
          nat.indexOf('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING') <
            nat.indexOf(POSTRTG(lease)[0]),
        );
        const filter = table(text, 'filter');
        assert.ok(filter.includes(':FLANNEL-FWD - [0:0]'));
        assert.deepEqual(
          filter.filter((l) => /FLANNEL-FWD/.test(l) && l.startsWith('-A')),
          FWD,
        );
      }
    });

    it("a pod reaching outside the Network is masqueraded by flanneld's rule, named; pod to pod keeps its source", () => {
      const t = topo();
      const out = traceFlow(t, { from: 'pod/client', to: '192.168.56.100:80' }).result!.paths[0];
      assert.equal(out.disposition, 'delivered');
      assert.equal(out.sourceSeen, '192.168.56.11');
      assert.deepEqual(
        out.nat.map((e) => [e.type, e.netns, e.chain, e.rule, e.before.src, e.after.src]),
        [
          [
            'MASQUERADE',
            'node:node1',
            'FLANNEL-POSTRTG',
            '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
            '10.244.1.10',
            '192.168.56.11',
          ],
        ],
      );
      assert.match(
        formatTraceText(traceFlow(t, { from: 'pod/client', to: '192.168.56.100:80' }).result!),
        /MASQUERADE in node:node1 \(FLANNEL-POSTRTG\)/,
      );
      // Across nodes inside the Network: RETURN from the node's lease, no translation anywhere.
      const across = traceFlow(t, { from: 'pod/client', to: 'pod/web-2:8080' }).result!.paths[0];
      assert.deepEqual(across.nat, []);
      assert.equal(across.sourceSeen, '10.244.1.10');
      const returned = across.hops
        .flatMap((h) => h.steps)
        .find((s) => s.kind === 'netfilter' && s.chain === 'FLANNEL-POSTRTG');
      assert.equal(returned?.kind === 'netfilter' ? returned.rule : undefined, POSTRTG('10.244.1.0/24')[2]);
    });

    it('an external client reaching a local pod through an eTP Local NodePort keeps its address (the rule from outside into the lease)', () => {
      const t = topo(
        VXLAN.replace(
          '    ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]',
          '    externalTrafficPolicy: Local\n    ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]',
        ),
      );
      assert.equal(t.services[0].externalTrafficPolicy, 'Local');
      const p = traceFlow(t, { from: 'external/laptop', to: 'node/node2:30080' }).result!.paths[0];
      assert.equal(p.disposition, 'delivered');
      assert.equal(p.sourceSeen, '192.168.56.100');
      const steps = p.hops.flatMap((h) => h.steps);
      assert.ok(
        steps.some((s) => s.kind === 'netfilter' && s.rule === POSTRTG('10.244.2.0/24')[4]),
        'RETURN for a source outside the Network to the lease',
      );
    });

    it('ipMasq: false leaves out FLANNEL-POSTRTG (pods reach outside with their own address), FLANNEL-FWD stays', () => {
      const t = topo(
        VXLAN.replace('      network: 10.244.0.0/16\n', '      network: 10.244.0.0/16\n      ipMasq: false\n'),
      );
      assert.equal(t.cluster.cni.flannel?.ipMasq, false);
      const text = nodeRulesText(t, 'node1')!;
      assert.doesNotMatch(text, /FLANNEL-POSTRTG/);
      assert.deepEqual(
        table(text, 'filter').filter((l) => /FLANNEL-FWD/.test(l) && l.startsWith('-A')),
        FWD,
      );
      const out = traceFlow(t, { from: 'pod/client', to: '192.168.56.100:80' }).result!.paths[0];
      assert.deepEqual(out.nat, []);
      assert.equal(out.sourceSeen, '10.244.1.10');
    });

    it('a kube-flannel-cfg ConfigMap: --ip-masq as kube-flannel.yml runs flanneld; IPv6Network gets its own rules (ff00::/8)', () => {
      const cm = [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: kube-flannel-cfg, namespace: kube-flannel}',
        'data:',
        '  net-conf.json: |',
        '    {"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:10:244::/56", "Backend": {"Type": "vxlan"}}',
      ].join('\n');
      const doc = VXLAN.replace(
        / {4}flannel:\n {6}network: 10\.244\.0\.0\/16\n {6}backend: \{type: vxlan, vni: 1, port: 8472\}\n/,
        '',
      ).replace('    podCIDR: 10.244.1.0/24', '    podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]');
      const t = buildTopology([
        { path: 'cluster.netpath.yaml', text: doc },
        { path: 'kube-flannel.yaml', text: cm },
      ]).topology;
      assert.equal(t.cluster.cni.flannel?.ipMasq, true);
      const nat = table(nodeRulesText(t, 'node1')!, 'nat');
      assert.ok(nat.includes(POSTRTG('10.244.1.0/24')[5]));
      assert.ok(
        nat.includes(
          '-A FLANNEL-POSTRTG -s fd00:10:244::/56 ! -d ff00::/8 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
        ),
      );
      assert.ok(
        nat.includes(
          '-A FLANNEL-POSTRTG -s fd00:10:244:1::/64 -d fd00:10:244::/56 -m comment --comment "flanneld masq" -j RETURN',
        ),
      );
      assert.equal(nat.filter((l) => l.includes('--mark 0x4000/0x4000') && l.includes('FLANNEL')).length, 1);
    });
  });
});
