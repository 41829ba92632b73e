import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { parseYamlFile } from '../../../src/core/syntax/yaml';
import { takeWork } from '../../../src/core/work';
import { netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * A Service's endpoint names the target port of each Service port on its pod: replicas share one list of containers
 * (fields.ts readContainers), so a pod with the very list the endpoint before it was resolved for is not resolved
 * again. Counted (work.targetPortsResolved), never timed: four times the pods behind the same Services resolve no
 * more ports.
 */
function targetPortsResolved(size: ClusterSize): number {
  const text = netpathCluster(size);
  const parsed = [parseYamlFile('cluster.yaml', text)];
  takeWork();
  const built = buildTopology([{ path: 'cluster.yaml', text }], parsed);
  const resolved = takeWork().targetPortsResolved;
  const endpoints = built.topology.services.reduce((n, s) => n + s.endpoints.length, 0);
  assert.equal(endpoints, size.pods, 'every pod is an endpoint of its Service');
  return resolved;
}

const FEW: ClusterSize = { name: 'few', nodes: 6, pods: 120, services: 12 };
const MANY: ClusterSize = { name: 'many', nodes: 6, pods: 480, services: 12 };

describe('scale: Service target ports resolved per selected pod', () => {
  it('replicas sharing their containers: 4x the pods behind the same Services resolve no more target ports', () => {
    assert.equal(targetPortsResolved(MANY), targetPortsResolved(FEW));
  });

  it('pods whose containers differ still get their own target port, in the order selected', () => {
    const pod = (name: string, port: number) =>
      `  - {name: ${name}, node: n1, ip: 10.0.0.${port % 100}, labels: {app: web}, containers: [{name: app, ports: [{name: http, containerPort: ${port}}]}]}\n`;
    const text =
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\n' +
      'nodes: [{name: n1}]\npods:\n' +
      pod('a', 8080) +
      pod('b', 8080) +
      pod('c', 9090) +
      pod('d', 9090) +
      pod('e', 8080) +
      'services: [{name: web, clusterIP: 10.96.0.10, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}]\n';
    const built = buildTopology([{ path: 't.yaml', text }]);
    const web = built.topology.services.find((s) => s.name === 'web');
    assert.deepEqual(
      web?.endpoints.map((e) => [e.pod, e.ports.http]),
      [
        ['default/a', 8080],
        ['default/b', 8080],
        ['default/c', 9090],
        ['default/d', 9090],
        ['default/e', 8080],
      ],
    );
  });
});
