/**
 * Manifests say less than a running cluster: a Pod without spec.nodeName or status.podIP, a Service without a
 * clusterIP. Linting them is quiet (issue 11); a trace that needs the missing fact says which one and how to add it.
 */
import assert from 'node:assert/strict';
import { analyse, traceFlow } from '../../../src/core';

const NODES = `apiVersion: v1
kind: Node
metadata: {name: node1}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: node1, containers: [{name: c, image: busybox}]}
status: {podIP: 10.244.1.10}
`;

const APP = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: placed, labels: {app: placed}}
spec:
  nodeName: node1
  containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;

describe('trace: what a manifest does not say yet', () => {
  const analysis = analyse([
    { path: '/t/nodes.yaml', text: NODES },
    { path: '/t/app.yaml', text: APP },
  ]);
  const t = analysis.topology;
  const error = (from: string, to: string) => {
    const out = traceFlow(t, { from, to });
    assert.equal(out.result, undefined, `${from} -> ${to} traced`);
    return out.problems.map((p) => p.message).join('\n');
  };

  it('lints without errors: an unscheduled pod and a Service without clusterIP are normal manifests', () => {
    assert.deepEqual(
      analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
      [],
    );
  });

  it('a pod without spec.nodeName: the trace names the missing node and how to add it', () => {
    const m = error('pod/web', 'pod/client:80');
    assert.match(m, /Pod default\/web is not scheduled: it has no spec\.nodeName/);
    assert.match(m, /pods: \[\{name: web, namespace: default, node: <node>\}\]/);
  });

  it('a scheduled pod without status.podIP: the trace names the missing address', () => {
    const m = error('pod/client', 'pod/placed:http');
    assert.match(m, /Pod default\/placed has no IP: it has no status\.podIP/);
    assert.match(m, /ip: <address>/);
  });

  it('a Service without clusterIP is not headless: the trace says the address is allocated at creation', () => {
    const m = error('pod/client', 'svc/web:http');
    assert.match(m, /has no clusterIP written: the API server allocates one from the Service range/);
    assert.doesNotMatch(m, /headless/);
    assert.equal(t.services.find((s) => s.name === 'web')?.headless, false);
  });

  it('clusterIP: None is headless, and says so', () => {
    assert.match(error('pod/client', 'svc/web-headless:http'), /is headless \(clusterIP: None\)/);
    assert.equal(t.services.find((s) => s.name === 'web-headless')?.headless, true);
  });
});
