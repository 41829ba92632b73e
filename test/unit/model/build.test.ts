import { nodeRoutes } from '../../../src/core/model/host-gw';
import assert from 'node:assert/strict';
import { analyseYaml, codes, modelCodes, HEADER, spanText } from './helpers';

const LAB = `${HEADER}metadata: {name: lab}
cluster:
  podCIDRs: [10.244.0.0/16]
  serviceCIDRs: [10.96.0.0/12]
networks:
  - {name: lan, cidr: 192.168.56.0/24}
nodes:
  - name: node1
    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]
    podCIDR: 10.244.1.0/24
  - name: node2
    interfaces: [{name: eth0, network: lan, address: 192.168.56.12/24}]
    podCIDR: 10.244.2.0/24
pods:
  - {name: a, node: node1, ip: 10.244.1.10, labels: {app: web}, containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]}
  - {name: b, namespace: prod, node: node2, ip: 10.244.2.10, labels: {app: web}}
services:
  - {name: web, clusterIP: 10.96.0.10, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}
externals:
  - {name: laptop, network: lan, address: 192.168.56.100/24}
`;

describe('model: NetPath documents', () => {
  const a = analyseYaml(LAB);
  const t = a.topology;

  it('reads a clean two-node lab without problems', () => {
    assert.deepEqual(codes(a), []);
    assert.equal(t.name, 'lab');
    assert.deepEqual(
      t.nodes.map((n) => n.name),
      ['node1', 'node2'],
    );
  });

  const defaults: [string, () => unknown, unknown][] = [
    ['nodePortRange', () => t.cluster.nodePortRange, { min: 30000, max: 32767 }],
    ['routing', () => t.cluster.routing, 'host-gw'],
    ['kube-proxy mode', () => t.cluster.kubeProxy.mode, 'iptables'],
    ['masqueradeAll', () => t.cluster.kubeProxy.masqueradeAll, false],
    ['masqueradeBit', () => t.cluster.kubeProxy.masqueradeBit, 14],
    ['localDetector', () => t.cluster.kubeProxy.localDetector, 'ClusterCIDR'],
    ['cni bridge', () => t.cluster.cni.bridge, 'cni0'],
    ['cni ipMasq', () => t.cluster.cni.ipMasq, false],
    ['cni hairpinMode', () => t.cluster.cni.hairpinMode, true],
    ['no masquerade agent', () => t.cluster.masquerade, undefined],
    ['bridge name per node', () => t.nodes[0].bridge?.name, 'cni0'],
    ['bridge gateway = first address of the pod CIDR', () => t.nodes[0].bridge?.addresses, ['10.244.1.1/24']],
    ['bridge hairpin from the cluster', () => t.nodes[1].bridge?.hairpinMode, true],
    ['pod namespace', () => t.pods[0].namespace, 'default'],
    ['pod hostNetwork', () => t.pods[0].hostNetwork, false],
    ['pod host veth derived from the name', () => /^veth[0-9a-f]{8}$/.test(t.pods[0].hostVeth), true],
    ['service type', () => t.services[0].type, 'ClusterIP'],
    [
      'service policies',
      () => [t.services[0].externalTrafficPolicy, t.services[0].internalTrafficPolicy],
      ['Cluster', 'Cluster'],
    ],
    ['service affinity', () => t.services[0].sessionAffinity, 'None'],
    ['container port protocol', () => t.pods[0].containers[0].ports[0].protocol, 'TCP'],
  ];
  for (const [name, get, expected] of defaults) it(`default: ${name}`, () => assert.deepEqual(get(), expected));

  it('derives host-gw routes to every other node via its address on the shared network', () => {
    const r = nodeRoutes(t, t.nodes[0]);
    assert.deepEqual(
      r.map((x) => [x.to, x.via, x.dev, x.source]),
      [['10.244.2.0/24', '192.168.56.12', 'eth0', 'implied']],
    );
  });

  it('resolves endpoints from the selector within the Service namespace, with named target ports', () => {
    const web = t.services[0];
    assert.equal(web.endpointSource, 'selector');
    assert.deepEqual(
      web.endpoints.map((e) => [e.ip, e.pod, e.node, e.ports.http]),
      [['10.244.1.10', 'default/a', 'node1', 8080]],
    );
  });

  it("shares one ports record among a Service's endpoints that resolve its ports alike", () => {
    const pods = [
      '{name: p1, node: n, ip: 10.244.1.11, labels: {app: x}, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}',
      '{name: p2, node: n, ip: 10.244.1.12, labels: {app: x}, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}',
      '{name: p3, node: n, ip: 10.244.1.13, labels: {app: x}, containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]}',
    ];
    const s = analyseYaml(
      `${HEADER}nodes: [{name: n, podCIDR: 10.244.1.0/24}]\npods: [${pods.join(', ')}]\n` +
        'services: [{name: x, clusterIP: 10.96.0.20, selector: {app: x}, ports: [{name: http, port: 80, targetPort: http}]}]\n',
    ).topology.services[0];
    assert.deepEqual(
      s.endpoints.map((e) => e.ports),
      [{ http: 8080 }, { http: 8080 }, { http: 9090 }],
    );
    assert.equal(s.endpoints[0].ports, s.endpoints[1].ports, 'the same record');
    assert.notEqual(s.endpoints[1].ports, s.endpoints[2].ports);
  });

  it('selects by a one-pair selector every pod with that pair, and by two pairs only the pods with both', () => {
    const pods = [
      '{name: p1, node: n, ip: 10.244.1.11, labels: {app: x, tier: web}}',
      '{name: p2, node: n, ip: 10.244.1.12, labels: {app: x}}',
      '{name: p3, node: n, ip: 10.244.1.13, labels: {tier: web, app: x}}',
      '{name: p4, node: n, ip: 10.244.1.14, labels: {app: y, tier: web}}',
    ];
    const services = [
      '{name: one, clusterIP: 10.96.0.20, selector: {app: x}, ports: [{port: 80}]}',
      '{name: two, clusterIP: 10.96.0.21, selector: {tier: web, app: x}, ports: [{port: 80}]}',
      '{name: none, clusterIP: 10.96.0.22, selector: {app: z}, ports: [{port: 80}]}',
    ];
    const t = analyseYaml(
      `${HEADER}nodes: [{name: n, podCIDR: 10.244.1.0/24}]\npods: [${pods.join(', ')}]\nservices: [${services.join(', ')}]\n`,
    ).topology;
    assert.deepEqual(
      t.services.map((s) => s.endpoints.map((e) => e.pod)),
      [['default/p1', 'default/p2', 'default/p3'], ['default/p1', 'default/p3'], []],
    );
  });

  it("keeps a node's and a Service's spans in one record, each address's after the fields'", () => {
    const s = analyseYaml(
      `${HEADER}nodes: [{name: n, podCIDRs: [10.244.1.0/24, 10.245.1.0/24], cni: bridge}]\n` +
        'services: [{name: x, clusterIPs: [10.96.0.20], type: LoadBalancer, loadBalancerIPs: [1.2.3.4, 1.2.3.5], loadBalancerIPMode: Proxy, externalIPs: [5.6.7.8], ports: [{port: 80}]}]\n',
    );
    const node = s.topology.nodes[0];
    assert.deepEqual(Object.keys(node.spans), ['name', 'cni', 'podCIDRs.0', 'podCIDRs.1']);
    assert.equal(spanText(s, node.spans['podCIDRs.1']), '10.245.1.0/24');
    const svc = s.topology.services[0];
    assert.deepEqual(Object.keys(svc.spans), [
      'name',
      'type',
      'externalIPs',
      'ports',
      'clusterIPs.0',
      'loadBalancerIPs.0',
      'loadBalancerIPs.1',
      'loadBalancerIPModes.0',
      'loadBalancerIPModes.1',
      'externalIPs.0',
    ]);
    assert.equal(spanText(s, svc.spans['loadBalancerIPs.1']), '1.2.3.5');
    assert.equal(spanText(s, svc.spans['loadBalancerIPModes.1']), 'Proxy');
    assert.equal(spanText(s, svc.spans['externalIPs.0']), '5.6.7.8');
  });

  it('keeps spans that point at the source text', () => {
    assert.equal(spanText(a, t.pods[0].spans['ips.0']), '10.244.1.10');
    assert.equal(spanText(a, t.cluster.spans['serviceCIDRs.0']), '10.96.0.0/12');
    assert.equal(spanText(a, t.nodes[1].spans['podCIDRs.0']), '10.244.2.0/24');
    assert.equal(spanText(a, t.externals[0].spans['addresses.0']), '192.168.56.100/24');
  });

  it('is plain JSON-serialisable data (no classes, Maps, bigints or functions)', () => {
    const walk = (v: unknown, path: string): void => {
      if (v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v)) return;
      assert.ok(Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype, `${path} is not plain data`);
      for (const [k, x] of Object.entries(v as object)) walk(x, `${path}.${k}`);
    };
    walk(t, 'topology');
    assert.equal(JSON.parse(JSON.stringify(t)).pods[1].id, 'prod/b');
  });

  it('keeps host bits as written (the diagnostics report them)', () => {
    const b = analyseYaml(`${HEADER}cluster: {podCIDRs: [10.244.0.1/16]}\n`);
    assert.deepEqual(b.topology.cluster.podCIDRs, ['10.244.0.1/16']);
  });
});

describe('model: structure problems', () => {
  const cases: [string, string, string[], string?][] = [
    [
      'unknown key with a suggestion',
      `${HEADER}cluster: {podCIRDs: [10.0.0.0/16]}\n`,
      ['schema.unknown-key'],
      'podCIRDs',
    ],
    ['wrong type', `${HEADER}cluster: {podCIDRs: 10}\n`, ['schema.type'], '10'],
    ['enum value', `${HEADER}cluster: {routing: hostgw}\n`, ['schema.type'], 'hostgw'],
    [
      'port out of range',
      `${HEADER}pods: [{name: a, node: n, containers: [{name: c, ports: [{containerPort: 70000}]}]}]\nnodes: [{name: n}]\n`,
      ['schema.type'],
      '70000',
    ],
    ['missing node reference', `${HEADER}nodes: [{name: n1}]\npods: [{name: a, node: n2}]\n`, ['ref.unknown'], 'n2'],
    [
      'missing network reference',
      `${HEADER}nodes: [{name: n1, interfaces: [{name: eth0, network: wan, address: 10.0.0.1/24}]}]\n`,
      ['ref.unknown'],
      'wan',
    ],
    ['duplicate node', `${HEADER}nodes: [{name: n1}, {name: n1}]\n`, ['name.duplicate'], 'n1'],
    [
      'duplicate pod',
      `${HEADER}nodes: [{name: n1}]\npods: [{name: a, node: n1}, {name: a, node: n1}]\n`,
      ['name.duplicate'],
      'a',
    ],
    ['yaml syntax error', `${HEADER}nodes: [{name: n1}\n`, ['yaml.syntax']],
    [
      'unknown NetPath apiVersion',
      'apiVersion: netpath.dev/v9\nkind: Topology\n',
      ['schema.api-version'],
      'netpath.dev/v9',
    ],
    [
      'unknown Kubernetes apiVersion',
      'apiVersion: v2\nkind: Pod\nmetadata: {name: a}\nspec: {nodeName: n}\n',
      ['k8s.unknown-api-version'],
      'v2',
    ],
  ];
  for (const [name, yaml, expected, text] of cases) {
    it(name, () => {
      const a = analyseYaml(yaml);
      const got = modelCodes(a);
      assert.deepEqual(got, expected);
      if (text) assert.equal(spanText(a, a.diagnostics.find((d) => d.code === expected[0])!.span), text);
    });
  }

  it('suggests the closest key and offers the rename as a quick fix', () => {
    const a = analyseYaml(`${HEADER}cluster: {podCIRDs: [10.0.0.0/16]}\n`);
    const d = a.diagnostics.find((x) => x.code === 'schema.unknown-key')!;
    assert.match(d.message, /Did you mean 'podCIDRs'/);
    assert.equal(d.fixes[0].edits[0].newText, 'podCIDRs');
  });

  it('recovers from a syntax error and still reads the rest of the file', () => {
    const a = analyseYaml(
      `${HEADER}nodes:\n  - name: n1\n    podCIDR: 10.244.1.0/24\n  - name: : bad\n---\n${HEADER}nodes: [{name: n2}]\n`,
    );
    assert.ok(codes(a).includes('yaml.syntax'));
    assert.ok(a.topology.nodes.some((n) => n.name === 'n2'));
  });

  it('never throws on hostile input', () => {
    for (const text of [
      '',
      '---',
      '- 1\n- 2',
      '{',
      'a: *x',
      `${HEADER}nodes: 5`,
      `${HEADER}pods: [null, 1, "x", {name: null}]`,
      '\u0000\u0001',
      `${HEADER}nodes: [{name: "<img src=x onerror=alert(1)>"}]`,
    ]) {
      const a = analyseYaml(text);
      assert.ok(Array.isArray(a.diagnostics));
    }
  });
});
