import assert from 'node:assert/strict';
import { analyse, hoverAt, nodeRulesText } from '../../../src/core';
import { parseNftRuleset } from '../../../src/core/nftables';

/** Two nodes, a Service whose EndpointSlice has every mix of conditions kube-proxy tells apart. */
const topology = (mode: string, endpoints: string) => `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata: {name: rolling}
cluster:
  podCIDRs: [10.244.0.0/16]
  serviceCIDRs: [10.96.0.0/12]
  kubeProxy: {mode: ${mode}}
networks:
  - {name: lan, cidr: 192.168.56.0/24}
nodes:
  - name: node1
    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]
    podCIDR: 10.244.1.0/24
  - name: node2
    interfaces: [{name: eth0, network: lan, address: 192.168.56.12/24}]
    podCIDR: 10.244.2.0/24
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.20
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
${endpoints}`;

const ep = (ip: string, node: string, ready: boolean, serving: boolean, terminating: boolean) =>
  `  - addresses: [${ip}]\n    nodeName: ${node}\n    conditions: {ready: ${ready}, serving: ${serving}, terminating: ${terminating}}\n`;

const run = (mode: string, eps: string) => {
  const text = topology(mode, eps);
  const analysis = analyse([{ path: '/t/rolling.yaml', text }]);
  const hover = hoverAt(analysis, '/t/rolling.yaml', text.indexOf('name: web,') + 7)?.markdown ?? '';
  return { text, analysis, hover, rules: nodeRulesText(analysis.topology, 'node1') ?? '' };
};

describe('EndpointSlice conditions, as kube-proxy uses them', () => {
  it('ready endpoints first: a terminating one is not used while another is ready', () => {
    const { analysis, hover, rules } = run(
      'iptables',
      ep('10.244.1.5', 'node1', true, true, false) + ep('10.244.2.5', 'node2', false, true, true),
    );
    const svc = analysis.topology.services[0];
    assert.deepEqual(
      svc.endpoints.map((e) => [e.ip, e.ready, e.serving, e.terminating]),
      [
        ['10.244.1.5', true, true, false],
        ['10.244.2.5', false, true, true],
      ],
    );
    assert.match(hover, /1 endpoint, each chosen with probability 1\/1 \(100\.0%\) \(1 other is not ready: not used\)/);
    assert.match(rules, /-j DNAT --to-destination 10\.244\.1\.5:8080/);
    assert.doesNotMatch(rules, /10\.244\.2\.5:8080/);
  });

  it('when none is ready, the terminating endpoints that still serve; never one that does not serve', () => {
    const { analysis, hover, rules } = run(
      'iptables',
      ep('10.244.1.5', 'node1', false, true, true) +
        ep('10.244.2.5', 'node2', false, true, true) +
        ep('10.244.2.6', 'node2', false, false, true),
    );
    assert.match(
      hover,
      /2 terminating endpoints still serving \(no endpoint is ready, so kube-proxy falls back to them\)/,
    );
    assert.match(hover, /1 other is not serving: not used/);
    assert.match(rules, /--to-destination 10\.244\.1\.5:8080/);
    assert.match(rules, /--to-destination 10\.244\.2\.5:8080/);
    assert.doesNotMatch(rules, /10\.244\.2\.6/);
    assert.ok(!analysis.diagnostics.some((d) => d.code === 'service.no-endpoints'));
  });

  it('no endpoint ready or serving: kube-proxy rejects, and service.no-endpoints says why', () => {
    const { analysis, hover, rules } = run('iptables', ep('10.244.2.6', 'node2', false, false, true));
    assert.match(hover, /No usable endpoint: none is ready and no terminating one still serves/);
    assert.match(rules, /has no endpoints" -m tcp -p tcp -d 10\.96\.0\.20 --dport 80 -j REJECT/);
    const d = analysis.diagnostics.find((x) => x.code === 'service.no-endpoints');
    assert.match(d?.message ?? '', /its endpoint is not ready, and it is terminating and no longer serving/);
  });

  it('the same conditions decide nftables mode: the fallback endpoints are in its numgen map', () => {
    const { rules, hover } = run(
      'nftables',
      ep('10.244.1.5', 'node1', false, true, true) + ep('10.244.2.6', 'node2', false, false, true),
    );
    assert.match(
      rules,
      /numgen random mod 1 vmap \{ 0 : goto endpoint-[A-Z2-7]{8}-shop\/web\/tcp\/http__10\.244\.1\.5\/8080 \}/,
    );
    assert.doesNotMatch(rules, /10\.244\.2\.6/);
    assert.match(
      hover,
      /kube-proxy \(nftables\), table `ip kube-proxy`: chains `service-[A-Z2-7]{8}-shop\/web\/tcp\/http`/,
    );
    assert.match(hover, /via `endpoint-[A-Z2-7]{8}-shop\/web\/tcp\/http__10\.244\.1\.5\/8080`/);
  });
});

describe('kube-proxy mode', () => {
  it('nftables: Show Node Rules prints kube-proxy’s table in nft syntax, which reads back without problems', () => {
    const { rules, analysis, text } = run('nftables', ep('10.244.1.5', 'node1', true, true, false));
    assert.match(rules, /^# Generated by NetPath for node node1/);
    assert.match(rules, /\ntable ip kube-proxy \{\n/);
    assert.match(rules, /chain nat-prerouting \{\n\t\ttype nat hook prerouting priority dstnat; policy accept;/);
    assert.match(rules, /# No iptables rules of other authors on this node\./);
    const nft = rules.slice(rules.indexOf('table ip kube-proxy'), rules.indexOf('\n}\n') + 3);
    assert.deepEqual(parseNftRuleset(nft).problems, []);
    void text;
    assert.ok(!analysis.diagnostics.some((d) => d.code === 'k8s.proxy-mode'), 'nftables mode is modelled');
  });

  it('ipvs: recognised, and a warning at the mode says traces do not model it', () => {
    const text = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
clusterCIDR: 10.244.0.0/16
`;
    const analysis = analyse([{ path: '/t/kp.yaml', text }]);
    const d = analysis.diagnostics.find((x) => x.code === 'k8s.proxy-mode');
    assert.equal(d?.severity, 'warning');
    assert.equal(text.slice(d?.span.start, d?.span.end), 'ipvs');
    assert.match(d?.message ?? '', /'ipvs' \(deprecated upstream\) is not modelled/);
    assert.equal(analysis.topology.cluster.kubeProxy.mode, 'ipvs');
  });

  it('iptables (the default) says nothing', () => {
    const { analysis } = run('iptables', ep('10.244.1.5', 'node1', true, true, false));
    assert.ok(!analysis.diagnostics.some((d) => d.code === 'k8s.proxy-mode'));
  });
});

describe('a node’s own nftables text', () => {
  it('is checked at its YAML lines and shown with the node rules', () => {
    const text = `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata: {name: fw}
cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}
networks: [{name: lan, cidr: 192.168.56.0/24}]
nodes:
  - name: node1
    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]
    podCIDR: 10.244.1.0/24
    nftables: |
      table inet host {
        chain input {
          type filter hook input priority filter; policy accept;
          meta l4proto tcp th dport 9999 reject
          quota over 10 mbytes drop
        }
      }
`;
    const analysis = analyse([{ path: '/t/fw.yaml', text }]);
    const d = analysis.diagnostics.filter((x) => x.code.startsWith('nftables.'));
    assert.deepEqual(
      d.map((x) => [x.code, text.slice(x.span.start, x.span.end)]),
      [['nftables.unsupported', 'quota over 10 mbytes drop']],
    );
    const rules = nodeRulesText(analysis.topology, 'node1') ?? '';
    assert.match(
      rules,
      /# node node1: nftables from the topology \(evaluated by traces with the rules above, each base chain at its priority\)\ntable inet host \{/,
    );
  });
});
