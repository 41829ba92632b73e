import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { parseYamlFile } from '../../../src/core/syntax/yaml';
import { takeWork } from '../../../src/core/work';
import { netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * The schema check of a NetPath topology resolves only the values a schema can refuse as scalars (an enum, a bound,
 * a number or a boolean field): a pod's name, node, address, labels and container and port names are strings,
 * which every scalar passes, and resolving and testing each was most of the check's work at 150,000 pods. Counted
 * (work.schemaValuesResolved), never timed: of four times the pods, only their container port numbers add to it.
 */
function resolvedAndPorts(size: ClusterSize): { resolved: number; ports: number } {
  const text = netpathCluster(size);
  const parsed = [parseYamlFile('cluster.netpath.yaml', text)];
  takeWork();
  const built = buildTopology([{ path: 'cluster.netpath.yaml', text }], parsed);
  const resolved = takeWork().schemaValuesResolved;
  assert.equal(built.topology.pods.length, size.pods, 'every pod is read');
  assert.deepEqual(
    built.problems.map((p) => p.code),
    [],
    'the synthetic cluster is clean',
  );
  let ports = 0;
  for (const p of built.topology.pods) for (const c of p.containers) ports += c.ports.length;
  return { resolved, ports };
}

it('NetPath topology: the schema check resolves no string value of a pod (4x the pods: only their port numbers)', () => {
  const few = resolvedAndPorts({ name: 'few', nodes: 6, pods: 120, services: 12 });
  const many = resolvedAndPorts({ name: 'many', nodes: 6, pods: 480, services: 12 });
  assert.ok(many.ports > few.ports, 'the pods have container ports');
  assert.equal(many.resolved - few.resolved, many.ports - few.ports);
});
