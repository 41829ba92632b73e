import assert from 'node:assert/strict';
import { analyse, traceFlow } from '../../../src/core';

const LAB = `apiVersion: netpath.dev/v1alpha1
kind: Topology
cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}
networks: [{name: lan, cidr: 192.168.56.0/24}]
nodes: [{name: n1, interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}], podCIDR: 10.244.1.0/24}]
pods:
  - {name: c, node: n1, ip: 10.244.1.10}
  - {name: w, node: n1, ip: 10.244.1.11, labels: {app: w}, containers: [{name: app, ports: [{containerPort: 80}]}]}
`;
const SERVICE = `---
apiVersion: v1
kind: Service
metadata: {name: w, namespace: default}
spec:
  clusterIP: 10.96.0.20
  selector: {app: w}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  ports: [{port: 80}]
`;

describe('trace: ClientIP session affinity timeout', () => {
  it('reads sessionAffinityConfig.clientIP.timeoutSeconds and the note names it', () => {
    const a = analyse([{ path: '/t/lab.netpath.yaml', text: LAB + SERVICE }]);
    assert.equal(a.topology.services[0].sessionAffinityTimeoutSeconds, 600);
    const { result } = traceFlow(a.topology, { from: 'pod/default/c', to: 'svc/default/w:80', proto: 'tcp' });
    assert.match(JSON.stringify(result), /600 s|600 seconds|600s/);
    assert.doesNotMatch(JSON.stringify(result), /10800/);
  });

  it('defaults to 10800 seconds as Kubernetes does', () => {
    const a = analyse([
      {
        path: '/t/lab.netpath.yaml',
        text: LAB + SERVICE.replace('  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}\n', ''),
      },
    ]);
    assert.equal(a.topology.services[0].sessionAffinityTimeoutSeconds, 10800);
  });
});
