import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';
import { takeWork } from '../../../src/core/work';
import { netpathCluster } from '../../../bench/cluster';
import { podScan } from '../../../src/core/rules/pod-scan';

/**
 * The pod rules (pod.port-conflict, pod.hostport-conflict, pod.host-network-ip, cni.portmap-missing) share one pass
 * over the pods (src/core/rules/pod-scan.ts) and each walks only the pods it can report. Counted, never timed.
 */
describe('pod rules and the pods of a cluster', () => {
  it('walk every pod once per analysis, in one shared pass', () => {
    const text = netpathCluster({ name: 'scan', nodes: 6, pods: 240, services: 12 });
    takeWork();
    const a = analyse([{ path: 'c.yaml', text }]);
    assert.equal(a.topology.pods.length, 240);
    assert.equal(takeWork().podsScanned, 240);
  });

  it('finds the pods with several ports, those taking a node port, and the hostNetwork ones, in order', () => {
    const text = [
      'apiVersion: netpath.dev/v1alpha1',
      'kind: Topology',
      'cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}',
      'nodes:',
      '- {name: n1, podCIDR: 10.244.1.0/24, interfaces: [{name: eth0, address: 192.168.0.2/24}]}',
      'pods:',
      '- {name: plain, node: n1, ip: 10.244.1.10, containers: [{name: a, ports: [{containerPort: 80}]}]}',
      '- {name: two, node: n1, ip: 10.244.1.11, containers: [{name: a, ports: [{containerPort: 80}]}, {name: b, ports: [{containerPort: 81}]}]}',
      '- {name: hostport, node: n1, ip: 10.244.1.12, containers: [{name: a, ports: [{containerPort: 80, hostPort: 8080}]}]}',
      '- {name: host, node: n1, ip: 192.168.0.2, hostNetwork: true, containers: [{name: a, ports: [{containerPort: 9100}]}]}',
      '- {name: hostnoports, node: n1, ip: 192.168.0.2, hostNetwork: true}',
      '',
    ].join('\n');
    const a = analyse([{ path: 'topology.netpath.yaml', text }]);
    const scan = podScan(a.topology);
    const names = (pods: readonly { id: string }[]) => pods.map((p) => p.id);
    assert.deepEqual(names(scan.severalPorts), ['default/two']);
    assert.deepEqual(names(scan.nodePorts), ['default/hostport', 'default/host']);
    assert.deepEqual(names(scan.hostNetwork), ['default/host', 'default/hostnoports']);
  });
});
