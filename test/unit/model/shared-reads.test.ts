import assert from 'node:assert/strict';
import { containerPortSpan } from '../../../src/core/model/container-spans';
import { analyseYaml, HEADER, spanText } from './helpers';

/**
 * A pod whose containers read as the last list kept with the same first container's name shares that list (fields.ts
 * readContainers), and each pod keeps its ports' spans itself (container-spans.ts): what is shared must be exactly
 * what is alike, and every span its own pod's.
 */
describe('model: containers shared by the pods whose containers read alike', () => {
  const a = analyseYaml(`${HEADER}pods:
  - {name: a, ip: 10.0.0.1, containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]}
  - name: b
    ip: 10.0.0.2
    containers:
      - name: app
        ports:
          - {containerPort: 8080, name: http, protocol: TCP}
  - {name: i, ip: 10.0.0.10, containers: [{name: app, ports: [{name: x}, {name: http, containerPort: 8080}]}]}
  - {name: c, ip: 10.0.0.3, containers: [{name: app, ports: [{name: http, containerPort: 8081}]}]}
  - {name: d, ip: 10.0.0.4, containers: [{name: app, ports: [{name: http, containerPort: 8080, protocol: UDP}]}]}
  - {name: e, ip: 10.0.0.5, containers: [{name: app, ports: [{name: http, containerPort: 8080, hostPort: 80}]}]}
  - {name: f, ip: 10.0.0.6, containers: [{name: app, ports: [{name: http, containerPort: 8080, hostPort: 80, hostIP: 10.0.0.9}]}]}
  - {name: g, ip: 10.0.0.7, containers: [{name: app, ports: [{containerPort: 8080}]}]}
  - {name: h, ip: 10.0.0.8, containers: [{name: side, ports: [{name: http, containerPort: 8080}]}]}
  - {name: j, ip: 10.0.0.11, containers: [{name: app, ports: [{name: http, containerPort: 8080}]}, {name: log, ports: [{containerPort: 9090}]}]}
`);
  const pods = new Map(a.topology.pods.map((p) => [p.name, p]));
  const pod = (name: string) => pods.get(name)!;

  it('shares one list between pods whose containers read alike, however they are written', () => {
    assert.equal(pod('b').containers, pod('a').containers);
    // A port left out (no containerPort) is not part of what the pod has.
    assert.equal(pod('i').containers, pod('a').containers);
    assert.deepEqual(pod('a').containers, [
      { name: 'app', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('never shares containers that differ in a port number, protocol, hostPort, hostIP, port name or container name', () => {
    const distinct = ['a', 'c', 'd', 'e', 'f', 'g', 'h', 'j'].map((n) => pod(n).containers);
    assert.equal(new Set(distinct).size, distinct.length);
    assert.deepEqual(pod('f').containers[0].ports[0], {
      name: 'http',
      containerPort: 8080,
      protocol: 'TCP',
      hostPort: 80,
      hostIP: '10.0.0.9',
    });
    assert.equal(pod('g').containers[0].ports[0].name, undefined);
  });

  it("keeps each pod's port spans, at the model's indices, pointing into that pod's own text", () => {
    const at = (name: string, c: number, p: number, field: 'containerPort' | 'hostPort') => {
      const span = containerPortSpan(pod(name), c, p, field);
      assert.ok(span, `${name} containers.${c}.ports.${p}.${field}`);
      return span;
    };
    const spanA = at('a', 0, 0, 'containerPort');
    const spanB = at('b', 0, 0, 'containerPort');
    assert.equal(spanText(a, spanA), '8080');
    assert.equal(spanText(a, spanB), '8080');
    assert.ok(spanA.start < pod('b').span.start && pod('b').span.start < spanB.start, "b's span is in b");
    assert.equal(spanText(a, at('e', 0, 0, 'hostPort')), '80');
    // The port without a containerPort is not numbered: the model's first port is the second written.
    assert.equal(spanText(a, at('i', 0, 0, 'containerPort')), '8080');
    assert.equal(containerPortSpan(pod('i'), 0, 1, 'containerPort'), undefined);
    assert.equal(spanText(a, at('j', 1, 0, 'containerPort')), '9090');
  });

  it('is plain data that survives JSON and structured cloning as it was', () => {
    const t = a.topology;
    assert.deepEqual(structuredClone(t.pods), t.pods);
    // JSON drops a port's `name: undefined` (as it always has); the spans and the rest come back as they were.
    assert.deepEqual(
      JSON.parse(JSON.stringify(t.pods)).map((p: { spans: unknown }) => p.spans),
      t.pods.map((p) => p.spans),
    );
  });
});

describe('model: a Pod object refined by a NetPath pod keeps the port spans of the containers it keeps', () => {
  const POD = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  nodeName: node1
  containers:
    - {name: app, ports: [{containerPort: 80}]}
    - {name: log, ports: [{containerPort: 9090}]}
status: {podIP: 10.0.0.1}
`;

  it("the NetPath pod's containers: its ports' spans, none of the object's other containers'", () => {
    const a = analyseYaml({
      '/t/topology.netpath.yaml': `${HEADER}pods:\n  - {name: web, containers: [{name: app, ports: [{containerPort: 8443}]}]}\n`,
      '/t/pod.yaml': POD,
    });
    const web = a.topology.pods.find((p) => p.id === 'default/web')!;
    assert.deepEqual(web.containers, [
      { name: 'app', ports: [{ name: undefined, containerPort: 8443, protocol: 'TCP' }] },
    ]);
    const span = containerPortSpan(web, 0, 0, 'containerPort')!;
    assert.equal(span.file, '/t/topology.netpath.yaml');
    assert.equal(spanText(a, span), '8443');
    assert.equal(containerPortSpan(web, 1, 0, 'containerPort'), undefined);
  });

  it("the object's containers when the NetPath pod writes none: the object's spans", () => {
    const a = analyseYaml({
      '/t/topology.netpath.yaml': `${HEADER}pods:\n  - {name: web, ip: 10.0.0.1}\n`,
      '/t/pod.yaml': POD,
    });
    const web = a.topology.pods.find((p) => p.id === 'default/web')!;
    assert.equal(web.containers.length, 2);
    assert.equal(spanText(a, containerPortSpan(web, 1, 0, 'containerPort')!), '9090');
    assert.equal(containerPortSpan(web, 1, 0, 'containerPort')!.file, '/t/pod.yaml');
  });
});
