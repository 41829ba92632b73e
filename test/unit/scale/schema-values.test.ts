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

it('NetPath topology: no pod, container or port is searched again for its required keys (4x the pods, as many searches)', () => {
  // The schema check marks the required keys it meets walking a mapping (validate.ts validateMap): a search of each
  // mapping for each of them walked every pod twice more, its container and its port once more each.
  const searches = (size: ClusterSize): number => {
    const text = netpathCluster(size);
    const parsed = [parseYamlFile('cluster.netpath.yaml', text)];
    takeWork();
    const built = buildTopology([{ path: 'cluster.netpath.yaml', text }], parsed);
    assert.deepEqual(
      built.problems.map((p) => p.code),
      [],
      'the synthetic cluster is clean',
    );
    return takeWork().requiredKeySearches;
  };
  assert.equal(
    searches({ name: 'many', nodes: 6, pods: 480, services: 12 }),
    searches({ name: 'few', nodes: 6, pods: 120, services: 12 }),
  );
});

it('NetPath topology: a required key missing is still reported, where the mapping is', () => {
  const text = [
    'apiVersion: netpath.dev/v1alpha1',
    'kind: Topology',
    'nodes: [{name: n1}]',
    'pods:',
    '  - {name: a, node: n1, containers: [{name: app, ports: [{containerPort: 80}]}]}',
    '  - {name: b, containers: [{ports: [{name: http}]}]}',
    '  - {node: n1, name: c, name: d}',
  ].join('\n');
  const problems = buildTopology([{ path: 't.yaml', text }]).problems.filter((p) => p.code === 'schema.type');
  assert.deepEqual(
    problems.map((p) => [p.message, text.slice(p.span.start, p.span.end)]),
    [
      ["pods[1].containers[0].ports[0] needs 'containerPort'.", '{'],
      ["pods[1].containers[0] needs 'name'.", '{'],
      ["pods[1] needs 'node'.", '{'],
    ],
  );
});
