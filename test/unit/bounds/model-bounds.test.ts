/**
 * Bounds of the model (issue 17): ports per Service and containers per pod. At the bound everything is read with no
 * warning; one over, the first `max` are read and one warning sits at the first item left out.
 */
import assert from 'node:assert/strict';
import { analyse, type Analysis } from '../../../src/core';
import { MAX_POD_CONTAINERS, MAX_SERVICE_PORTS } from '../../../src/core/model/fields';
import { LineIndex } from '../../../src/core/syntax/lines';

const lineOf = (text: string, offset: number): number => new LineIndex(text).positionAt(offset).line;

function k8sService(ports: number): string {
  const lines = [
    'apiVersion: v1',
    'kind: Service',
    'metadata: {name: many}',
    'spec:',
    '  clusterIP: 10.96.0.10',
    '  ports:',
  ];
  for (let i = 0; i < ports; i++) lines.push(`    - {name: p${i}, port: ${1000 + i}}`);
  return lines.join('\n') + '\n';
}

function netpathService(ports: number): string {
  const lines = [
    'apiVersion: netpath.dev/v1alpha1',
    'kind: Topology',
    'cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}',
    'services:',
    '  - name: many',
    '    clusterIP: 10.96.0.10',
    '    ports:',
  ];
  for (let i = 0; i < ports; i++) lines.push(`      - {name: p${i}, port: ${1000 + i}}`);
  return lines.join('\n') + '\n';
}

function k8sPod(containers: number): string {
  const lines = ['apiVersion: v1', 'kind: Pod', 'metadata: {name: crowded}', 'spec:', '  containers:'];
  for (let i = 0; i < containers; i++) lines.push(`    - {name: c${i}, ports: [{containerPort: ${1000 + i}}]}`);
  return lines.join('\n') + '\n';
}

function deployment(containers: number): string {
  const lines = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: crowded}',
    'spec:',
    '  selector: {matchLabels: {app: a}}',
    '  template:',
    '    metadata: {labels: {app: a}}',
    '    spec:',
    '      containers:',
  ];
  for (let i = 0; i < containers; i++) lines.push(`        - {name: c${i}}`);
  return lines.join('\n') + '\n';
}

function run(text: string): Analysis {
  return analyse([{ path: '/w/a.yaml', text }]);
}

const warnings = (a: Analysis, code: string) => a.diagnostics.filter((d) => d.code === code);

describe('bounds: ports per Service and containers per pod', () => {
  for (const [label, make] of [
    ['a Kubernetes Service', k8sService],
    ['a NetPath Service', netpathService],
  ] as const) {
    it(`${label}: ${MAX_SERVICE_PORTS} ports are all read, with no warning`, () => {
      const a = run(make(MAX_SERVICE_PORTS));
      assert.equal(a.topology.services[0].ports.length, MAX_SERVICE_PORTS);
      assert.deepEqual(warnings(a, 'service.too-many-ports'), []);
    });

    it(`${label}: ${MAX_SERVICE_PORTS + 1} ports: the first ${MAX_SERVICE_PORTS} are read, a warning at the port left out`, () => {
      const text = make(MAX_SERVICE_PORTS + 1);
      const a = run(text);
      assert.equal(a.topology.services[0].ports.length, MAX_SERVICE_PORTS);
      assert.equal(a.topology.services[0].ports.at(-1)?.name, `p${MAX_SERVICE_PORTS - 1}`);
      const [w, ...more] = warnings(a, 'service.too-many-ports');
      assert.equal(more.length, 0);
      assert.equal(w.severity, 'warning');
      assert.match(w.message, /^101 ports in one Service: an EndpointSlice holds at most 100/);
      assert.match(w.message, /the 1 after them .* left out/);
      assert.ok(text.slice(w.span.start, w.span.end).includes(`name: p${MAX_SERVICE_PORTS}`));
      assert.equal(
        lineOf(text, w.span.start),
        text.split('\n').findIndex((l) => l.includes(`p${MAX_SERVICE_PORTS},`)),
      );
    });
  }

  it(`a Pod: ${MAX_POD_CONTAINERS} containers are all read, with no warning`, () => {
    const a = run(k8sPod(MAX_POD_CONTAINERS));
    assert.equal(a.topology.pods[0].containers.length, MAX_POD_CONTAINERS);
    assert.deepEqual(warnings(a, 'pod.too-many-containers'), []);
  });

  it(`a Pod: ${MAX_POD_CONTAINERS + 1} containers: the first ${MAX_POD_CONTAINERS} read, a warning at the container left out`, () => {
    const text = k8sPod(MAX_POD_CONTAINERS + 1);
    const a = run(text);
    assert.equal(a.topology.pods[0].containers.length, MAX_POD_CONTAINERS);
    const [w, ...more] = warnings(a, 'pod.too-many-containers');
    assert.equal(more.length, 0);
    assert.match(w.message, /^101 containers in one pod/);
    assert.ok(text.slice(w.span.start, w.span.end).includes(`name: c${MAX_POD_CONTAINERS}`));
  });

  it('a pod template over the bound is reported at its container too', () => {
    const text = deployment(MAX_POD_CONTAINERS + 5);
    const [w, ...more] = warnings(run(text), 'pod.too-many-containers');
    assert.equal(more.length, 0);
    assert.match(w.message, /the 5 after them/);
    assert.ok(text.slice(w.span.start, w.span.end).includes(`name: c${MAX_POD_CONTAINERS}`));
    assert.deepEqual(warnings(run(deployment(MAX_POD_CONTAINERS)), 'pod.too-many-containers'), []);
  });
});
