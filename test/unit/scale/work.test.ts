import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { takeWork, type WorkCounters } from '../../../src/core/work';
import { kubernetesList, netpathCluster, netpathNftablesCluster, type ClusterSize } from '../../../bench/cluster';
import { applyEdits } from '../rules/fixtures';

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

describe("the quick fixes of a misconfigured cluster's findings grow with the cluster", () => {
  /**
   * Mistakes that put a finding with a quick fix on every node or every Service. Each rule's fix used to search the
   * pool and every pod range again per finding, or move one range again for each range it overlaps.
   */
  const MISTAKES: readonly { name: string; codes: readonly string[]; make: (text: string) => string }[] = [
    {
      // It overlaps every node's pod range (one move, offered on each), and every cluster IP is left outside it.
      name: 'the Service range moved inside the pod range',
      codes: ['cidr.overlap', 'ip.outside-range'],
      make: (text) => text.replace('serviceCIDRs: [10.96.0.0/12]', 'serviceCIDRs: [10.128.0.0/12]'),
    },
    {
      name: "every Service given one cluster IP, every node's first pod its subnet's network address",
      codes: ['service.cluster-ip-duplicate', 'ip.reserved'],
      make: (text) =>
        text
          .replace(/clusterIP: 10\.96\.\d+\.\d+/g, 'clusterIP: 10.96.0.10')
          .replace(/ip: (10\.\d+\.\d+)\.2$/gm, 'ip: $1.0'),
    },
  ];
  function fixWork(size: ClusterSize, make: (text: string) => string, codes: readonly string[]) {
    takeWork();
    const a = analyse([{ path: `bad${size.nodes}.yaml`, text: make(netpathCluster(size)) }]);
    const mine = a.diagnostics.filter((d) => codes.includes(d.code));
    return {
      work: takeWork(),
      findings: codes.map((code) => mine.filter((d) => d.code === code).length),
      fixed: codes.map((code) => mine.filter((d) => d.code === code && d.fixes.length > 0).length),
    };
  }

  for (const { name, codes, make } of MISTAKES) {
    it(`${name}: the fixes' address searches and the entries they walk grow at most 2.2x`, () => {
      const base = fixWork(BASE, make, codes);
      const double = fixWork(DOUBLE, make, codes);
      // The premise: findings on every node or Service, which double with the cluster, and fixes offered.
      codes.forEach((code, i) => {
        const n = base.findings[i];
        assert.ok(n >= BASE.nodes, `${code}: ${n} findings on ${BASE.nodes} nodes`);
        const ratio = double.findings[i] / n;
        assert.ok(ratio >= 1.8 && ratio <= 2.2, `${code}: ${n} findings, then ${ratio.toFixed(2)}x`);
      });
      const fixed = base.fixed.reduce((a, b) => a + b, 0);
      assert.ok(fixed >= BASE.nodes, `${fixed} findings with a quick fix on ${BASE.nodes} nodes`);
      for (const counter of ['freeAddressSteps', 'relocationEntriesWalked'] as const) {
        if (counter === 'relocationEntriesWalked' && !codes.includes('cidr.overlap')) continue;
        assert.ok(base.work[counter] > 0, `${counter} is counted`);
        const ratio = double.work[counter] / base.work[counter];
        assert.ok(
          ratio <= 2.2,
          `${counter} grew ${ratio.toFixed(2)}x (${base.work[counter]} -> ${double.work[counter]})`,
        );
      }
    });
  }
});

describe('nodes given one pod CIDR are reported once each, not once per pair', () => {
  const oneSubnet = (size: ClusterSize) =>
    netpathCluster(size).replace(/podCIDR: 10\.\d+\.\d+\.0\/24/g, 'podCIDR: 10.128.1.0/24');
  const overlaps = (size: ClusterSize) =>
    analyse([{ path: `one${size.nodes}.yaml`, text: oneSubnet(size) }]).diagnostics.filter(
      (d) => d.code === 'cidr.overlap',
    );

  it('a crowd of nodes: one diagnostic each, naming three of the others and how many there are', () => {
    // Every pair was two diagnostics: 5,000 nodes made 25 million, and the analysis ran out of memory.
    const ten = overlaps({ name: 'ten', nodes: 10, pods: 100, services: 5 });
    const twenty = overlaps({ name: 'twenty', nodes: 20, pods: 200, services: 10 });
    assert.equal(ten.length, 10);
    assert.equal(twenty.length, 20);
    const first = twenty.find((d) => d.message.startsWith('Pod IPs on node5 '));
    assert.ok(first, twenty.map((d) => d.message).join('\n'));
    assert.equal(
      first.message,
      'Pod IPs on node5 (10.128.1.0/24) are also the pod IPs of 19 other nodes (node1, node2, node3 and 16 more): two nodes hand out the same pod IPs and routes to them conflict.',
    );
    assert.deepEqual(
      first.related.map((r) => r.message),
      ['Pod IPs on node1: 10.128.1.0/24', 'Pod IPs on node2: 10.128.1.0/24', 'Pod IPs on node3: 10.128.1.0/24'],
    );
  });

  it("a crowd's next sixteen nodes are offered moves to blocks of their own; a move applied leaves the crowd", () => {
    const size: ClusterSize = { name: 'twenty', nodes: 20, pods: 200, services: 10 };
    const text = oneSubnet(size);
    const before = analyse([{ path: 'crowd.yaml', text }]).diagnostics;
    const list = before.filter((d) => d.code === 'cidr.overlap');
    const on = (node: string) => list.find((d) => d.message.startsWith(`Pod IPs on ${node} `));
    const blockOf = (node: string) => on(node)?.fixes[0]?.edits[0]?.newText;
    assert.equal(on('node1')?.fixes.length, 0, 'the first node keeps the range');
    const moved = Array.from({ length: 16 }, (_, i) => blockOf(`node${i + 2}`));
    assert.ok(
      moved.every((b) => b !== undefined && /^10\.128\.\d+\.0\/24$/.test(b) && b !== '10.128.1.0/24'),
      moved.join(' '),
    );
    assert.equal(new Set(moved).size, 16, 'each to a block of its own');
    assert.deepEqual(
      ['node18', 'node19', 'node20'].map((n) => on(n)?.fixes.length),
      [0, 0, 0],
      'the rest wait for the next analysis',
    );
    // node2's move applied: the crowd is the other 19, and nothing new is reported.
    const fix = on('node2')?.fixes[0];
    assert.ok(fix);
    const after = applyEdits(new Map([['crowd.yaml', text]]), fix.edits).get('crowd.yaml');
    assert.ok(after !== undefined);
    const again = analyse([{ path: 'crowd.yaml', text: after }]).diagnostics;
    const overlapsAgain = again.filter((d) => d.code === 'cidr.overlap');
    assert.equal(overlapsAgain.length, 19);
    assert.ok(overlapsAgain.every((d) => !d.message.startsWith('Pod IPs on node2 ')));
    const known = new Set(before.map((d) => d.code));
    assert.deepEqual(
      again.filter((d) => !known.has(d.code)).map((d) => d.message),
      [],
      'no new kind of finding',
    );
  });

  it('a few nodes with one pod CIDR are still reported pair by pair, each with its move', () => {
    const few: ClusterSize = { name: 'few', nodes: 3, pods: 30, services: 3 };
    const list = overlaps(few);
    assert.equal(list.length, 6, 'two diagnostics per pair of the three nodes');
    assert.ok(list.every((d) => d.fixes.some((f) => f.title.startsWith('Move 10.128.1.0/24 to the free block'))));
  });
});
