import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { parseYamlFile } from '../../../src/core/syntax/yaml';
import { takeWork } from '../../../src/core/work';
import { kubernetesList, netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * The model reads a pod's plain values (name, node, address, labels, container and port fields) from the text the
 * mapping keeps, with no scalar node made for each: a node per value was most of the model's garbage at 150,000
 * pods. Counted (work.plainValueNodes), never timed: four times the pods on the same nodes and Services make no more
 * of them.
 */
function plainValueNodes(size: ClusterSize, write: (s: ClusterSize) => string): number {
  const text = write(size);
  const files = [{ path: 'cluster.yaml', text }];
  const parsed = [parseYamlFile('cluster.yaml', text)];
  takeWork();
  const built = buildTopology(files, parsed);
  const made = takeWork().plainValueNodes;
  assert.equal(built.topology.pods.length, size.pods, 'every pod is read');
  assert.deepEqual(
    built.problems.map((p) => p.code),
    [],
    'the synthetic cluster is clean',
  );
  return made;
}

const FEW: ClusterSize = { name: 'few', nodes: 6, pods: 120, services: 12 };
const MANY: ClusterSize = { name: 'many', nodes: 6, pods: 480, services: 12 };

for (const [format, write] of [
  ['NetPath topology', netpathCluster],
  ['kubectl List dump', kubernetesList],
] as const) {
  it(`${format}: the model makes no scalar node per pod value (4x the pods, as many nodes made)`, () => {
    assert.equal(plainValueNodes(MANY, write), plainValueNodes(FEW, write));
  });
}

it("NetPath topology: a Service's plain values make no scalar node either (4x the Services, as many nodes made)", () => {
  // The Service reader finds its fields in one pass and reads each by index (netpath-documents.ts netpathService): a
  // lookup per field made a node for its cluster IP, one per Service.
  const SERVICES_FEW: ClusterSize = { name: 'few', nodes: 6, pods: 120, services: 12 };
  const SERVICES_MANY: ClusterSize = { name: 'many', nodes: 6, pods: 120, services: 48 };
  assert.equal(plainValueNodes(SERVICES_MANY, netpathCluster), plainValueNodes(SERVICES_FEW, netpathCluster));
});
