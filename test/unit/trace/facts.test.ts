import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildTopology } from '../../../src/core/model/build';
import { traceFlow, parseEndpoint, type TraceRequest } from '../../../src/core/trace';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
const SVC_END = '    ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]\n';

function trace(yaml: string, req: TraceRequest) {
  const t = buildTopology([{ path: 'lab.yaml', text: yaml }]).topology;
  const out = traceFlow(t, req);
  assert.ok(out.result, JSON.stringify(out.problems));
  return out.result;
}

describe('trace/facts (semantics.md)', () => {
  it('TTL is 64 in the pod, 63 after node1, 62 after node2', () => {
    const r = trace(LAB, { from: 'pod/client', to: 'pod/web-2:8080' });
    const ttl = (netns: string, device: string, dir: string) =>
      r.paths[0].hops.find((h) => h.netns === netns && h.device === device && h.dir === dir)!.packet.ttl;
    assert.equal(ttl('pod:default/client', 'eth0', 'out'), 64);
    assert.equal(ttl('node:node1', 'eth0', 'out'), 63);
    assert.equal(ttl('pod:default/web-2', 'eth0', 'in'), 62);
  });

  it('MASQUERADE takes the bridge gateway for a same-node backend and eth0 for a remote one', () => {
    const r = trace(LAB, { from: 'external/laptop', to: 'node/node1:30080' });
    const seen = Object.fromEntries(r.paths.map((p) => [p.delivered!.name, p.sourceSeen]));
    assert.deepEqual(seen, { 'default/web-1': '10.244.1.1', 'default/web-2': '192.168.56.11' });
    assert.ok(r.paths.every((p) => p.nat.some((n) => n.type === 'MASQUERADE' && n.chain === 'KUBE-POSTROUTING')));
  });

  it('a ClusterIP is load-balanced uniformly, with the DNAT rule that decided', () => {
    const r = trace(LAB, { from: 'pod/client', to: 'svc/web:http' });
    assert.deepEqual(
      r.paths.map((p) => p.probability),
      [0.5, 0.5],
    );
    for (const p of r.paths) {
      const dnat = p.nat.find((n) => n.type === 'DNAT')!;
      assert.match(dnat.chain, /^KUBE-SEP-[A-Z2-7]{16}$/);
      assert.match(dnat.rule, /^-A KUBE-SEP-.* -j DNAT --to-destination 10\.244\.\d\.\d+:8080$/);
      assert.equal(p.sourceSeen, '10.244.1.10');
    }
  });

  it('the reply comes back from the Service address through conntrack', () => {
    const r = trace(LAB, { from: 'pod/client', to: 'svc/web:80', reply: true });
    for (const p of r.paths) {
      assert.equal(p.reply!.disposition, 'delivered');
      assert.equal(p.reply!.sourceSeen, '10.96.0.10');
    }
  });

  it('with br_netfilter, cni0 already sees the translated destination', () => {
    const r = trace(LAB, { from: 'pod/client', to: 'svc/web:80' });
    const local = r.paths.find((p) => p.delivered?.name === 'default/web-1')!;
    assert.equal(local.hops.find((h) => h.device === 'cni0')!.packet.dst, '10.244.1.11');
  });
});

describe('trace/masquerade matrix (kube-proxy TestInternalExternalMasquerade)', () => {
  const withLB = (y: string, extra = '') =>
    y
      .replace('    type: NodePort', '    type: LoadBalancer\n    loadBalancerIP: 192.168.56.200')
      .replace(SVC_END, SVC_END + extra);
  const cases: { name: string; yaml: string; req: TraceRequest; masq: boolean }[] = [
    { name: 'pod -> ClusterIP', yaml: LAB, req: { from: 'pod/client', to: 'svc/web:80' }, masq: false },
    {
      name: 'pod -> NodePort (eTP Cluster)',
      yaml: LAB,
      req: { from: 'pod/client', to: 'node/node2:30080' },
      masq: true,
    },
    {
      name: 'pod -> LoadBalancer (eTP Cluster)',
      yaml: withLB(LAB),
      req: { from: 'pod/client', to: '192.168.56.200:80' },
      masq: true,
    },
    {
      name: 'pod -> NodePort (eTP Local)',
      yaml: LAB.replace(SVC_END, SVC_END + '    externalTrafficPolicy: Local\n'),
      req: { from: 'pod/client', to: 'node/node2:30080' },
      masq: false,
    },
    // A node needs some route to the service range for its own sockets to connect (the route is looked up before OUTPUT).
    {
      name: 'node -> ClusterIP',
      yaml: LAB.replace(
        '    podCIDR: 10.244.1.0/24\n',
        '    podCIDR: 10.244.1.0/24\n    routes:\n      - {to: default, via: 192.168.56.1, dev: eth0}\n',
      ),
      req: { from: 'node/node1', to: 'svc/web:80' },
      masq: true,
    },
    {
      name: 'external -> ClusterIP',
      yaml: LAB,
      req: { from: '192.168.56.77', at: 'node/node1', to: 'svc/web:80' },
      masq: true,
    },
    {
      name: 'external -> NodePort (eTP Cluster)',
      yaml: LAB,
      req: { from: 'external/laptop', to: 'node/node1:30080' },
      masq: true,
    },
    {
      name: 'external -> LoadBalancer (eTP Cluster)',
      yaml: withLB(LAB),
      req: { from: 'external/laptop', to: '192.168.56.200:80' },
      masq: true,
    },
    {
      name: 'external -> NodePort (eTP Local)',
      yaml: LAB.replace(SVC_END, SVC_END + '    externalTrafficPolicy: Local\n'),
      req: { from: 'external/laptop', to: 'node/node1:30080' },
      masq: false,
    },
    {
      name: 'external -> LoadBalancer (eTP Local)',
      yaml: withLB(LAB, '    externalTrafficPolicy: Local\n'),
      req: { from: 'external/laptop', to: '192.168.56.200:80' },
      masq: false,
    },
    {
      name: 'pod -> ClusterIP, masqueradeAll',
      yaml: LAB.replace('masqueradeAll: false', 'masqueradeAll: true'),
      req: { from: 'pod/client', to: 'svc/web:80' },
      masq: true,
    },
    {
      name: 'external -> ClusterIP, no local detector',
      yaml: LAB.replace('localDetector: ClusterCIDR', 'localDetector: None'),
      req: { from: '192.168.56.77', at: 'node/node1', to: 'svc/web:80' },
      masq: false,
    },
    {
      name: 'pod -> ClusterIP, NodeCIDR detector',
      yaml: LAB.replace('localDetector: ClusterCIDR', 'localDetector: NodeCIDR'),
      req: { from: 'pod/client', to: 'svc/web:80' },
      masq: false,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.masq ? 'masqueraded' : 'not masqueraded'}`, () => {
      const r = trace(c.yaml, c.req);
      const delivered = r.paths.filter((p) => p.disposition === 'delivered');
      assert.ok(delivered.length > 0, JSON.stringify(r.paths.map((p) => [p.disposition, p.reason])));
      for (const p of delivered)
        assert.equal(
          p.nat.some((n) => n.type === 'MASQUERADE'),
          c.masq,
          `${p.delivered!.name}: ${JSON.stringify(p.nat)}`,
        );
    });
  }
});

describe('trace/endpoints', () => {
  const ok = (t: string) => {
    const r = parseEndpoint(t);
    assert.ok(r.ok, t);
    return r.value;
  };
  it('parses every endpoint form', () => {
    assert.deepEqual(ok('pod/a'), { kind: 'pod', name: 'a' });
    assert.deepEqual(ok('pod/ns1/a:app'), { kind: 'pod', namespace: 'ns1', name: 'a', suffix: 'app' });
    assert.deepEqual(ok('svc/web:http'), { kind: 'svc', name: 'web', suffix: 'http' });
    assert.deepEqual(ok('node/n1:30080'), { kind: 'node', name: 'n1', suffix: '30080' });
    assert.deepEqual(ok('external/laptop'), { kind: 'external', name: 'laptop' });
    assert.deepEqual(ok('10.0.0.1:80'), { kind: 'ip', address: '10.0.0.1', family: 4, port: 80 });
    assert.deepEqual(ok('[fd00::1]:80'), { kind: 'ip', address: 'fd00::1', family: 6, port: 80 });
    assert.deepEqual(ok('fd00::1'), { kind: 'ip', address: 'fd00::1', family: 6 });
    assert.deepEqual(ok('localhost:9090'), { kind: 'localhost', port: 9090 });
  });
  it('refuses bad input with a message', () => {
    for (const bad of [
      '',
      'pod/',
      'pod/a/b/c',
      '10.0.0.1:99999',
      'localhost:x',
      '[10.0.0.1]:80',
      'nonsense',
      'svc/web:',
    ])
      assert.equal(parseEndpoint(bad).ok, false, bad);
  });
  it('lists close names for an unknown pod, and bad input never throws', () => {
    const t = buildTopology([{ path: 'lab.yaml', text: LAB }]).topology;
    const r = traceFlow(t, { from: 'pod/clinet', to: 'pod/web-1:8080' });
    assert.equal(r.result, undefined);
    assert.equal(r.problems[0].code, 'trace.bad-input');
    assert.match(r.problems[0].message, /Close names: default\/client/);
    assert.equal(traceFlow(t, { from: 'pod/client', to: 'pod/web-1' }).problems[0].code, 'trace.bad-input');
    assert.equal(traceFlow(t, { from: 'svc/web:80', to: 'pod/web-1:8080' }).problems[0].code, 'trace.bad-input');
  });
});
