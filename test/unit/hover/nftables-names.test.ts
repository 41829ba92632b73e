/**
 * In kube-proxy's nftables mode the Service hover names the nftables objects kube-proxy creates for each port
 * (issue 14): the table (`ip kube-proxy` / `ip6 kube-proxy`), the `service-`/`external-`/`local-` chains, the
 * elements of the `service-ips` / `service-nodeports` / `no-endpoint-*` verdict maps, the endpoint chains.
 *
 * Two independent checks: names pinned from kube-proxy's own nftables proxier_test.go expectations (the Services
 * below reuse TestOverallNFTablesRules' svc1, svc3 and svc6: namespaces, names, port names, addresses), and every
 * object the hover names appearing in the node's ruleset as NetPath's generator writes it for Show Node Rules.
 */
import assert from 'node:assert/strict';
import { analyse, hoverAt } from '../../../src/core';
import { kubeProxyNftablesText } from '../../../src/core/dataplane/kube-proxy';

const topology = (mode: string) => `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata:
  name: nft-names
cluster:
  podCIDRs: [10.180.0.0/16, fd00:10:180::/48]
  serviceCIDRs: [172.30.0.0/16, fd00:172:30::/108]
  nodePortRange: 3000-3100
  kubeProxy:
    mode: ${mode}
    localDetector: ClusterCIDR
networks:
  - name: lan
    cidr: 192.168.99.0/24
nodes:
  - name: node1
    interfaces:
      - {name: eth0, network: lan, addresses: [192.168.99.11/24, fd00:99::11/64]}
    podCIDRs: [10.180.0.0/24, fd00:10:180::/64]
  - name: node2
    interfaces:
      - {name: eth0, network: lan, addresses: [192.168.99.12/24, fd00:99::12/64]}
    podCIDRs: [10.180.1.0/24, fd00:10:180:1::/64]
services:
  - name: svc1
    namespace: ns1
    clusterIP: 172.30.0.41
    ports: [{name: p80, port: 80, targetPort: 80}]
    endpoints:
      - {ip: 10.180.0.1, node: node1}
  - name: svc3
    namespace: ns3
    type: NodePort
    clusterIP: 172.30.0.43
    ports: [{name: p80, port: 80, targetPort: 80, nodePort: 3003}]
    endpoints:
      - {ip: 10.180.0.3, node: node1}
  - name: svc6
    namespace: ns6
    clusterIP: 172.30.0.46
    ports: [{name: p80, port: 80, targetPort: 80}]
  - name: local-web
    namespace: shop
    type: NodePort
    externalTrafficPolicy: Local
    clusterIP: 172.30.0.50
    ports: [{name: http, port: 80, targetPort: 8080, nodePort: 3050}]
    endpoints:
      - {ip: 10.180.1.7, node: node2}
  - name: dual
    namespace: ns7
    clusterIPs: [172.30.0.60, fd00:172:30::60]
    ports: [{name: dns, port: 53, targetPort: 53, protocol: UDP}]
    endpoints:
      - {ip: 10.180.0.9, node: node1}
      - {ip: 'fd00:10:180::9', node: node1}
`;

const file = '/ws/nft-names.netpath.yaml';
const text = topology('nftables');
const analysis = analyse([{ path: file, text }]);
const hover = (needle: string) => {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the topology`);
  return hoverAt(analysis, file, at + 1)?.markdown ?? '';
};
const nodeRuleset = (name: string) => {
  const node = analysis.topology.nodes.find((n) => n.name === name);
  assert.ok(node, `node ${name}`);
  return kubeProxyNftablesText(analysis.topology, node);
};
/** Every chain and map element (`key : verdict`) the hover names in backquotes. */
const named = (md: string) => ({
  chains: [...md.matchAll(/`((?:service|external|local|firewall|endpoint)-[A-Z2-7]{8}-[^`]+)`/g)].map((m) => m[1]),
  elements: [...md.matchAll(/`@([a-z-]+)` element `([^`]+)`/g)].map((m) => ({ map: m[1], entry: m[2] })),
});

describe('hover: kube-proxy nftables names (issue 14)', () => {
  it("names a ClusterIP Service's table, service chain, service-ips element and endpoint chain as kube-proxy does", () => {
    const md = hover('name: svc1');
    assert.match(
      md,
      /table `ip kube-proxy`: chains `service-ULMVA6XW-ns1\/svc1\/tcp\/p80`; `@service-ips` element `172\.30\.0\.41 \. tcp \. 80 : goto service-ULMVA6XW-ns1\/svc1\/tcp\/p80`\./,
    );
    assert.match(md, /10\.180\.0\.1 \(on node1\) → 80 via `endpoint-5OJB2KTY-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80`/);
    assert.doesNotMatch(md, /KUBE-SVC-|external-|ip6 kube-proxy/);
  });

  it("names a NodePort Service's external chain and its service-nodeports element, on the clusterIP and ports keys too", () => {
    for (const needle of ['clusterIP: 172.30.0.43', 'ports: [{name: p80, port: 80, targetPort: 80, nodePort: 3003']) {
      const md = hover(needle);
      assert.match(md, /chains `service-4AT6LBPK-ns3\/svc3\/tcp\/p80`, `external-4AT6LBPK-ns3\/svc3\/tcp\/p80`/);
      assert.match(md, /`@service-nodeports` element `tcp \. 3003 : goto external-4AT6LBPK-ns3\/svc3\/tcp\/p80`/);
      assert.match(md, /`endpoint-UEIP74TE-ns3\/svc3\/tcp\/p80__10\.180\.0\.3\/80`/);
    }
  });

  it('a Service without endpoints has no chain: its no-endpoint-services element rejects', () => {
    const md = hover('name: svc6');
    assert.match(
      md,
      /table `ip kube-proxy`: no chain of its own; `@no-endpoint-services` element `172\.30\.0\.46 \. tcp \. 80 : goto reject-chain`/,
    );
    assert.doesNotMatch(md, /service-[A-Z2-7]{8}-ns6/);
  });

  it('an externalTrafficPolicy Local Service: the local chain on the node that runs its endpoint', () => {
    const md = hover('name: local-web');
    assert.match(
      md,
      /table `ip kube-proxy` on node node2 \(it runs a local endpoint\): chains `service-[A-Z2-7]{8}-shop\/local-web\/tcp\/http`, `local-[A-Z2-7]{8}-shop\/local-web\/tcp\/http`, `external-[A-Z2-7]{8}-shop\/local-web\/tcp\/http`/,
    );
    const { chains, elements } = named(md);
    const node2 = nodeRuleset('node2');
    for (const c of chains) assert.ok(node2.includes(`chain ${c} {`), `${c} is in node2's table`);
    assert.ok(elements.some((e) => e.map === 'service-nodeports'));
    for (const e of elements) assert.ok(node2.includes(e.entry), `${e.map} element ${e.entry} is in node2's table`);
    // node1 has no local endpoint: no local chain there, which is why the hover names node2.
    assert.doesNotMatch(nodeRuleset('node1'), /chain local-[A-Z2-7]{8}-shop\/local-web/);
  });

  it('a dual-stack Service: the ip and ip6 tables, each with its own elements and endpoint chains', () => {
    const md = hover('name: dual');
    assert.match(
      md,
      /table `ip kube-proxy`: chains `service-[A-Z2-7]{8}-ns7\/dual\/udp\/dns`; `@service-ips` element `172\.30\.0\.60 \. udp \. 53 : goto service-/,
    );
    assert.match(
      md,
      /table `ip6 kube-proxy`: chains `service-[A-Z2-7]{8}-ns7\/dual\/udp\/dns`; `@service-ips` element `fd00:172:30::60 \. udp \. 53 : goto service-/,
    );
    assert.match(md, /`endpoint-[A-Z2-7]{8}-ns7\/dual\/udp\/dns__fd00\.10\.180\.\.9\/53`/);
  });

  it("every chain and element any Service's hover names is in the node's generated ruleset", () => {
    const node1 = nodeRuleset('node1');
    for (const needle of ['name: svc1', 'name: svc3', 'name: svc6', 'name: dual']) {
      const { chains, elements } = named(hover(needle));
      assert.ok(chains.length + elements.length > 0, needle);
      for (const c of chains) assert.ok(node1.includes(`chain ${c} {`), `${needle}: chain ${c}`);
      for (const e of elements) {
        const [key, verdict] = e.entry.split(' : ');
        assert.match(
          node1,
          new RegExp(`${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( comment "[^"]*")? : ${verdict}`),
          `${needle}: ${e.entry}`,
        );
      }
    }
  });

  it('iptables mode keeps the KUBE-SVC chain names', () => {
    const t = topology('iptables');
    const a = analyse([{ path: file, text: t }]);
    const md = hoverAt(a, file, t.indexOf('name: svc1') + 1)?.markdown ?? '';
    assert.match(md, /kube-proxy chains `KUBE-SVC-[A-Z2-7]{16}`/);
    assert.doesNotMatch(md, /kube-proxy \(nftables\)/);
  });
});
