import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { podsById } from '../../../src/core/model/pods-by-id';
import { parseYamlFile } from '../../../src/core/syntax/yaml';
import { takeWork } from '../../../src/core/work';
import { kubernetesList, netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * Spans are a large share of the model's bytes at 150,000 pods (48 bytes each, all kept until the model goes), so
 * the model keeps only those something points at. Counted (work.spansMade), never timed: the spans the model makes
 * for the pods added by quadrupling a cluster, per added pod.
 */
function spansPerAddedPod(write: (s: ClusterSize) => string): number {
  const made = (size: ClusterSize): number => {
    const text = write(size);
    const parsed = [parseYamlFile('cluster.yaml', text)];
    takeWork();
    const built = buildTopology([{ path: 'cluster.yaml', text }], parsed);
    const spans = takeWork().spansMade;
    assert.equal(built.topology.pods.length, size.pods, 'every pod is read');
    assert.deepEqual(
      built.problems.map((p) => p.code),
      [],
      'the synthetic cluster is clean',
    );
    return spans;
  };
  return (made(MANY) - made(FEW)) / (MANY.pods - FEW.pods);
}

const FEW: ClusterSize = { name: 'few', nodes: 6, pods: 120, services: 12 };
const MANY: ClusterSize = { name: 'many', nodes: 6, pods: 480, services: 12 };

describe('scale: the spans the model makes per pod', () => {
  it("NetPath topology: six (the pod, its name, node, address and containers list; its port's number), none for a pod's labels or a container's name and ports", () => {
    assert.equal(spansPerAddedPod(netpathCluster), 6);
  });

  it("kubectl List dump: six, its EndpointSlice endpoint's included", () => {
    assert.equal(spansPerAddedPod(kubernetesList), 6);
  });

  it("containers: none kept per added pod, in either format (replicas' containers read alike and share one list)", () => {
    for (const write of [netpathCluster, kubernetesList]) {
      const kept = (size: ClusterSize): number => {
        const pods = buildTopology([{ path: 'cluster.yaml', text: write(size) }]).topology.pods;
        const lists = new Set(pods.map((p) => p.containers));
        const containers = new Set(pods.flatMap((p) => p.containers));
        const ports = new Set(pods.flatMap((p) => p.containers.flatMap((c) => c.ports)));
        return lists.size + containers.size + ports.size;
      };
      assert.equal((kept(MANY) - kept(FEW)) / (MANY.pods - FEW.pods), 0);
    }
  });

  it("containers: each container's name read once per pod (the first one's too, as the pod's list is compared)", () => {
    const namesRead = (size: ClusterSize): number => {
      const text = netpathCluster(size);
      const parsed = [parseYamlFile('cluster.yaml', text)];
      takeWork();
      buildTopology([{ path: 'cluster.yaml', text }], parsed);
      return takeWork().containerNamesRead;
    };
    assert.equal((namesRead(MANY) - namesRead(FEW)) / (MANY.pods - FEW.pods), 1);
  });

  it('the model pods by id are the pods of the model, each the merged one', () => {
    const text = netpathCluster(FEW);
    const built = buildTopology([{ path: 'cluster.yaml', text }]);
    const t = built.topology;
    const byId = podsById(t);
    assert.equal(byId.size, t.pods.length);
    for (const p of t.pods) assert.equal(byId.get(p.id), p);
  });
});
