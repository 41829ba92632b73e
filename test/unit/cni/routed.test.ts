/**
 * The routed plug-ins: ptp / kindnet and Calico. What `ip addr` and `ip route` would show in the pods and on the
 * nodes, the plug-ins' masquerade rules in Show Node Rules, the diagnostics that depend on them, and hovers that
 * explain each plug-in's wiring with a link to its source. (Traces are golden tests in test/fixtures/traces; the
 * kernel tier builds both examples and checks every flow against the kernel.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, compileDataPlane, hoverAt, nodeRulesText, traceFlow } from '../../../src/core';
import { cniViewOf } from '../../../src/core/cni';
import { calicoBlocks, calicoVethName } from '../../../src/core/cni/calico';
import { routeTable } from '../../../src/core/dataplane/routes';
import { buildTopology } from '../../../src/core/model/build';
import type { Topology } from '../../../src/core/model/types';

const PTP = readFileSync('examples/cni-ptp/cluster.netpath.yaml', 'utf8');
const CALICO = readFileSync('examples/cni-calico/cluster.netpath.yaml', 'utf8');
const topo = (text: string): Topology => buildTopology([{ path: 'c.netpath.yaml', text }]).topology;
const routes = (t: Topology, ns: string): string[] =>
  routeTable(compileDataPlane(t).namespaces.get(ns)!).map((r) => r.text);
const addrs = (t: Topology, ns: string, dev: string) =>
  compileDataPlane(t)
    .namespaces.get(ns)!
    .interfaces.find((i) => i.name === dev)!
    .addresses.map((a) => `${a.address}/${a.length}${a.noPrefixRoute ? ' noprefixroute' : ''}`);

describe('cni (routed plug-ins)', () => {
  describe('ptp / kindnet', () => {
    const t = topo(PTP);
    it('the pod has its /24 without the subnet route, and reaches everything through the gateway', () => {
      assert.deepEqual(addrs(t, 'pod:default/client', 'eth0'), ['10.244.1.10/24 noprefixroute']);
      assert.deepEqual(routes(t, 'pod:default/client'), [
        '10.244.1.1 dev eth0 scope link src 10.244.1.10',
        '10.244.1.0/24 via 10.244.1.1 dev eth0 src 10.244.1.10',
        'default via 10.244.1.1 dev eth0',
      ]);
    });

    it('every host veth holds the gateway as a /32; the node routes each pod by scope host, other nodes by host-gw', () => {
      const ns = compileDataPlane(t).namespaces.get('node:node1')!;
      const veths = ns.interfaces.filter((i) => i.kind === 'veth');
      assert.equal(veths.length, 2);
      for (const v of veths) assert.deepEqual(v.addresses, [{ family: 4, address: '10.244.1.1', length: 32 }]);
      assert.equal(ns.bridges.length, 0);
      const web1 = t.pods.find((p) => p.name === 'web-1')!;
      const table = routes(t, 'node:node1');
      assert.ok(table.includes(`10.244.1.11 dev ${web1.hostVeth} scope host`), table.join('\n'));
      assert.ok(table.includes('10.244.2.0/24 via 192.168.56.12 dev eth0'), table.join('\n'));
      // No prefix route for the /32 gateway on each veth (the kernel adds none).
      assert.ok(!table.some((r) => r.startsWith('10.244.1.1 dev veth')), table.join('\n'));
      assert.equal(cniViewOf(t.nodes[0]).bridge, undefined);
    });

    it("Show Node Rules has kindnet's KIND-MASQ-AGENT chain: pod ranges RETURN, the rest MASQUERADE", () => {
      const text = nodeRulesText(t, 'node1')!;
      assert.match(text, /# kindnet \(kindnetd KIND-MASQ-AGENT\)/);
      assert.match(text, /-A POSTROUTING .*-m addrtype ! --dst-type LOCAL -j KIND-MASQ-AGENT/);
      assert.match(text, /-A KIND-MASQ-AGENT -d 10\.244\.0\.0\/16 .*-j RETURN/);
      assert.match(text, /-A KIND-MASQ-AGENT .*-j MASQUERADE/);
    });

    it('plain ptp writes no masquerade rule unless ipMasq is on', () => {
      const plain = topo(PTP.replace('plugin: kindnet', 'plugin: ptp'));
      assert.doesNotMatch(nodeRulesText(plain, 'node1')!, /MASQ-AGENT|CNI-[0-9a-f]{24}/);
      const masq = topo(PTP.replace('plugin: kindnet', 'plugin: ptp\n    ipMasq: true'));
      assert.match(nodeRulesText(masq, 'node1')!, /# CNI ptp plugin, ipMasq: true[\s\S]*-j MASQUERADE/);
    });
  });

  describe('Calico', () => {
    const t = topo(CALICO);
    it('names host veths as Calico does and gives them proxy ARP, no address, no bridge', () => {
      const client = t.pods.find((p) => p.name === 'client')!;
      assert.equal(client.hostVeth, calicoVethName('default', 'client'));
      assert.match(client.hostVeth, /^cali[0-9a-f]{11}$/);
      const ns = compileDataPlane(t).namespaces.get('node:node1')!;
      const cali = ns.interfaces.find((i) => i.name === client.hostVeth)!;
      assert.deepEqual(cali.addresses, []);
      assert.equal(cali.proxyArp, true);
      assert.equal(ns.bridges.length, 0);
    });

    it('the pod holds a /32 and routes everything to 169.254.1.1', () => {
      assert.deepEqual(addrs(t, 'pod:default/client', 'eth0'), ['10.244.1.10/32']);
      assert.deepEqual(routes(t, 'pod:default/client'), [
        '169.254.1.1 dev eth0 scope link',
        'default via 169.254.1.1 dev eth0',
      ]);
    });

    it('a /32 route per local pod, a blackhole for the local block, the remote block via its node', () => {
      assert.deepEqual(
        calicoBlocks(t)
          .get('node1')
          ?.map((b) => b.cidr),
        ['10.244.1.0/26'],
      );
      const table = routes(t, 'node:node1');
      const web1 = t.pods.find((p) => p.name === 'web-1')!;
      assert.ok(table.includes(`10.244.1.11 dev ${web1.hostVeth} scope link`), table.join('\n'));
      assert.ok(table.includes('blackhole 10.244.1.0/26'), table.join('\n'));
      assert.ok(table.includes('10.244.2.0/26 via 192.168.56.12 dev eth0'), table.join('\n'));
      assert.ok(!table.some((r) => r.startsWith('10.244.2.0/24')), 'Calico ignores the node podCIDR');
    });

    it("Show Node Rules has felix's cali-POSTROUTING, first in POSTROUTING, and natOutgoing: traffic from the pool to outside every pool is masqueraded", () => {
      const text = nodeRulesText(t, 'node1')!;
      assert.match(text, /# Calico natOutgoing and tunnels/);
      const lines = text.split('\n').filter((l) => /^-[AI] (POSTROUTING|cali-)/.test(l));
      assert.deepEqual(lines, [
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        '-I POSTROUTING 1 -m comment --comment "calico: felix\'s hook, kept first in POSTROUTING" -j cali-POSTROUTING',
        '-A cali-POSTROUTING -j cali-fip-snat',
        '-A cali-POSTROUTING -j cali-nat-outgoing',
        '-A cali-nat-outgoing -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "calico: to a pool (ipset cali40all-ipam-pools)" -j RETURN',
        '-A cali-nat-outgoing -s 10.244.0.0/16 -m comment --comment "calico: from a natOutgoing pool (ipset cali40masq-ipam-pools)" -j MASQUERADE --random-fully',
      ]);
      const off = topo(CALICO.replace('natOutgoing: true', 'natOutgoing: false'));
      const offText = nodeRulesText(off, 'node1')!;
      assert.doesNotMatch(offText, /-A cali-nat-outgoing/, 'no natOutgoing pool: the chain is empty');
      assert.match(offText, /-A cali-POSTROUTING -j cali-nat-outgoing/);
    });

    it("with VXLAN, cali-POSTROUTING masquerades the node's own packets sent into vxlan.calico from another of its addresses", () => {
      const vxlan = topo(readFileSync('examples/cni-calico-vxlan/cluster.netpath.yaml', 'utf8'));
      assert.match(
        nodeRulesText(vxlan, 'node1')!,
        /\n-A cali-POSTROUTING -o vxlan\.calico -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL .*-j MASQUERADE\n/,
      );
      // node1's own connection to a Service whose backend is on node2 leaves by eth0's address, is DNATed to the
      // pod behind vxlan.calico, and felix's rule (before kube-proxy's) gives it the tunnel address.
      const paths = traceFlow(vxlan, { from: 'node/node1', to: 'svc/web:80' }).result!.paths;
      const p = paths.find((x) => x.delivered?.name === 'default/web-2');
      assert.equal(p?.disposition, 'delivered');
      assert.equal(p.sourceSeen, '10.244.1.0');
      assert.deepEqual(
        p.nat.filter((e) => e.type === 'MASQUERADE').map((e) => `${e.netns} ${e.chain} ${e.after.src}`),
        ['node:node1 cali-POSTROUTING 10.244.1.0'],
      );
    });

    it('nat.egress-missing follows natOutgoing', () => {
      const codes = (text: string) => analyse([{ path: 'c.netpath.yaml', text }]).diagnostics.map((p) => p.code);
      assert.ok(!codes(CALICO).includes('nat.egress-missing'));
      assert.ok(codes(CALICO.replace('natOutgoing: true', 'natOutgoing: false')).includes('nat.egress-missing'));
      // kindnet masquerades everything outside the pod range: nodes with a default route raise nothing.
      const ptpOut = PTP.replace(
        '    podCIDR: 10.244.1.0/24\n',
        '    podCIDR: 10.244.1.0/24\n    routes:\n      - {to: default, via: 192.168.56.1}\n',
      );
      assert.ok(!codes(ptpOut).includes('nat.egress-missing'));
      assert.ok(codes(ptpOut.replace('plugin: kindnet', 'plugin: ptp')).includes('nat.egress-missing'));
    });
  });

  describe('hovers', () => {
    const hover = (text: string, needle: string) => {
      const a = analyse([{ path: 'c.netpath.yaml', text }]);
      return hoverAt(a, 'c.netpath.yaml', text.indexOf(needle) + 2)?.markdown ?? '';
    };
    it('explain each plug-in value with a link to its source', () => {
      assert.match(hover(PTP, ' kindnet\n'), /KIND-MASQ-AGENT[\s\S]*github\.com\/kubernetes-sigs\/kind/);
      assert.match(
        hover(CALICO, ' calico\n'),
        /proxy ARP[\s\S]*169\.254\.1\.1[\s\S]*github\.com\/projectcalico\/calico/,
      );
      const ptp = PTP.replace('plugin: kindnet', 'plugin: ptp');
      assert.match(
        hover(ptp, ' ptp\n'),
        /scope link[\s\S]*containernetworking\/plugins\/blob\/main\/plugins\/main\/ptp/,
      );
      const bridge = PTP.replace('plugin: kindnet', 'plugin: bridge');
      assert.match(hover(bridge, ' bridge\n'), /bridging versus routing/);
    });
  });
});
