import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { takeWork, type WorkCounters } from '../../../src/core/work';
import { kubernetesList, netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * Work grows with the cluster, not faster: doubling nodes, pods and Services may at most (about) double what the
 * core does. Counted, never timed (bench/ holds the timings): rules the evaluator looked at, rule objects the
 * iptables parser made, probe traces the diagnostic rules ran, routes the data plane made.
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

for (const [format, write] of [
  ['NetPath topology', netpathCluster],
  ['kubectl List dump', kubernetesList],
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
