import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { takeWork, type WorkCounters } from '../../../src/core/work';
import { kubernetesList, netpathCluster, netpathNftablesCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * Work grows with the cluster, not faster: doubling nodes, pods and Services may at most (about) double what the
 * core does. Counted, never timed (bench/ holds the timings): rules the evaluators looked at, rule objects the
 * iptables and nftables parsers made, probe traces the diagnostic rules ran, routes the data plane made.
 */
function workOf(size: ClusterSize, write: (s: ClusterSize) => string): WorkCounters {
  const files = [{ path: `c${size.nodes}.yaml`, text: write(size) }];
  takeWork();
  const a = analyse(files);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    [],
    'the synthetic cluster is clean',
  );
  // What `netpath trace` does after the analysis: a fresh data plane, one trace to a Service.
  const dp = compileDataPlane(a.topology);
  const out = traceFlow(a.topology, { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' }, dp);
  assert.ok(out.result?.paths.every((p) => p.disposition === 'delivered'));
  return takeWork();
}

const BASE: ClusterSize = { name: 'base', nodes: 6, pods: 120, services: 12 };
const DOUBLE: ClusterSize = { name: 'double', nodes: 12, pods: 240, services: 24 };

/**
 * The same NetPath topology wired by flannel (host-gw): flanneld's rules name each node's own pod subnet, so no two
 * nodes' rulesets are the same text and none can share another's parse.
 */
const BRIDGE_CNI = 'cni: {bridge: cni0, ipMasq: false, hairpinMode: true}';
const FLANNEL_CNI =
  'cni: {plugin: flannel, flannel: {network: 10.128.0.0/9, backend: {type: host-gw}}, bridge: cni0, ipMasq: false, hairpinMode: true}';
function flannelCluster(size: ClusterSize): string {
  const text = netpathCluster(size);
  assert.ok(text.includes(BRIDGE_CNI), 'the synthetic topology names its CNI settings as expected');
  return text.replace(BRIDGE_CNI, FLANNEL_CNI);
}

for (const [format, write] of [
  ['NetPath topology', netpathCluster],
  ['kubectl List dump', kubernetesList],
  ['NetPath topology wired by flannel', flannelCluster],
  // kube-proxy's nftables mode: its nft ruleset is generated and parsed per group of nodes alike, not per node.
  ['NetPath topology, kube-proxy in nftables mode', netpathNftablesCluster],
] as const) {
  describe(`work grows near-linearly with the cluster (${format})`, () => {
    let base: WorkCounters;
    let double: WorkCounters;
    before(() => {
      base = workOf(BASE, write);
      double = workOf(DOUBLE, write);
    });
    for (const counter of ['rulesEvaluated', 'ruleObjects', 'probes', 'routes'] as const) {
      it(`${counter}: at most 2.2x when the cluster doubles`, () => {
        assert.ok(base[counter] > 0, `${counter} is counted`);
        const ratio = double[counter] / base[counter];
        assert.ok(ratio <= 2.2, `${counter} grew ${ratio.toFixed(2)}x (${base[counter]} -> ${double[counter]})`);
      });
    }
  });
}

describe('nodes with generated rules of their own parse only what their traces read', () => {
  it('flannel (a rule per node subnet on every node): at most 2x the rule objects of nodes that share one ruleset', () => {
    // Before, such a node's whole ruleset (every kube-proxy chain) was parsed for each node a probe crossed: 13x.
    const shared = workOf(DOUBLE, netpathCluster);
    const own = workOf(DOUBLE, flannelCluster);
    assert.ok(
      own.ruleObjects <= 2 * shared.ruleObjects,
      `flannel ${own.ruleObjects} rule objects, shared ${shared.ruleObjects}`,
    );
  });
});

describe("kube-proxy's Service chain lines are measured per Service port, not per endpoint", () => {
  // The skim sums each port's endpoint lines (three per endpoint) from their lengths: what is measured line by line
  // is a port's own lines (its masquerade rule, a NodePort's external chain), one Service port each here.
  for (const [format, write] of [
    ['NetPath topology', netpathCluster],
    ['kubectl List dump', kubernetesList],
  ] as const) {
    it(format, () => {
      for (const size of [BASE, DOUBLE]) {
        const measured = workOf(size, write).serviceLinesMeasured;
        assert.ok(measured > 0, 'lines are measured');
        assert.ok(measured <= 2 * size.services, `${measured} lines measured for ${size.services} Service ports`);
        assert.ok(measured < size.pods, `${measured} lines measured for ${size.pods} endpoints`);
      }
    });
  }
});

describe("a lint of a large cluster lists no Service's endpoints for kube-proxy's rules", () => {
  // Over 1,000 endpoints (kube-proxy's large-cluster mode): the rules' probes read the nodes' nat tables, whose
  // layout the skim counts from each port's endpoint addresses; a trace entering a Service lists that one's endpoints.
  it("none for the analysis; the first trace to a Service lists that Service's alone", () => {
    const size: ClusterSize = { name: 'large', nodes: 6, pods: 1200, services: 12 };
    const files = [{ path: 'large.yaml', text: netpathCluster(size) }];
    takeWork();
    const a = analyse(files);
    assert.deepEqual(a.diagnostics, [], 'the synthetic cluster is clean');
    assert.equal(takeWork().endpointsListed, 0);
    const dp = compileDataPlane(a.topology);
    const out = traceFlow(a.topology, { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' }, dp);
    assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'));
    // Its endpoint chain is placed among the cluster's from their `ip:port` texts, made from the input.
    assert.equal(takeWork().endpointsListed, size.pods / size.services);
  });
});
