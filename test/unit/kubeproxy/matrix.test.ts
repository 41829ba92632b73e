import assert from 'node:assert/strict';
import { generateKubeProxyRules, type KubeProxyInput } from '../../../src/core/kubeproxy';
import { evaluateHook, parseIptablesSave, type Hook, type Packet, type Ruleset } from '../../../src/core/netfilter';

// One node (node1, 192.168.0.2, pod subnet 10.244.1.0/24 on cni0 10.244.1.1) of a cluster 10.244.0.0/16.
const NODE_IP = '192.168.0.2';
const LOCALS = [NODE_IP, '127.0.0.1', '10.244.1.1'];
const port = (nodePort: number) => [{ name: 'http', protocol: 'TCP' as const, port: 80, nodePort }];
const ep = (ip: string, node: string) => ({ ip, ports: { http: 8080 }, node });

const base: KubeProxyInput = {
  nodeName: 'node1',
  nodeIPs: [NODE_IP],
  localDetector: { mode: 'ClusterCIDR', cidrs: ['10.244.0.0/16'] },
  services: [
    {
      namespace: 'default',
      name: 'cluster',
      clusterIP: '10.96.0.10',
      ports: port(30080),
      endpoints: [ep('10.244.1.5', 'node1'), ep('10.244.2.5', 'node2')],
    },
    {
      namespace: 'default',
      name: 'local',
      clusterIP: '10.96.0.11',
      ports: port(30081),
      externalTrafficPolicy: 'Local',
      endpoints: [ep('10.244.1.6', 'node1'), ep('10.244.2.6', 'node2')],
    },
    {
      namespace: 'default',
      name: 'remote-only',
      clusterIP: '10.96.0.12',
      ports: port(30082),
      externalTrafficPolicy: 'Local',
      endpoints: [ep('10.244.2.7', 'node2')],
    },
    { namespace: 'default', name: 'empty', clusterIP: '10.96.0.13', ports: port(30083), endpoints: [] },
  ],
};

function rulesFor(input: KubeProxyInput): Ruleset {
  const r = parseIptablesSave(generateKubeProxyRules(input), 'node1.rules', 0);
  assert.deepEqual(r.problems, []);
  return r.ruleset;
}

interface Result {
  readonly backend: string;
  readonly probability: number;
  readonly masqueraded: boolean;
  readonly source: string;
}

/**
 * The nat part of a new connection: PREROUTING (arriving) or OUTPUT (from the node itself), then POSTROUTING
 * with the rewritten packet. Returns one result per backend choice.
 */
function flow(ruleset: Ruleset, src: string, dst: string, dport: number, from: 'pod' | 'external' | 'node'): Result[] {
  const hook: Hook = from === 'node' ? 'OUTPUT' : 'PREROUTING';
  const packet: Packet = {
    family: 4,
    proto: 'tcp',
    src,
    dst,
    sport: 40000,
    dport,
    mark: 0,
    ...(from === 'node' ? {} : { inIface: from === 'pod' ? 'cni0' : 'eth0' }),
  };
  const ctx = { localAddresses: LOCALS, conntrack: { state: 'NEW' as const }, outIfaceAddress: NODE_IP };
  const first = evaluateHook(ruleset, hook, packet, ctx);
  assert.deepEqual(first.problems, []);
  return first.outcomes.map((o) => {
    assert.equal(o.verdict, 'ACCEPT');
    const post = evaluateHook(ruleset, 'POSTROUTING', o.packet, { ...ctx, conntrack: o.conntrack });
    assert.equal(post.outcomes.length, 1);
    const p = post.outcomes[0];
    return {
      backend: `${o.packet.dst}:${o.packet.dport}`,
      probability: o.probability,
      masqueraded: p.nat.some((n) => n.type === 'MASQUERADE'),
      source: p.packet.src,
    };
  });
}

const backends = (rs: Result[]) => rs.map((r) => r.backend).sort();
const POD = '10.244.1.2';
const EXTERNAL = '203.0.113.50';

describe('kubeproxy: who is masqueraded (generator + evaluator)', () => {
  const rs = rulesFor(base);

  it('pod -> ClusterIP: not masqueraded, uniform over all endpoints', () => {
    const r = flow(rs, POD, '10.96.0.10', 80, 'pod');
    assert.deepEqual(backends(r), ['10.244.1.5:8080', '10.244.2.5:8080']);
    for (const x of r) {
      assert.equal(x.masqueraded, false);
      assert.ok(Math.abs(x.probability - 0.5) < 1e-9);
    }
  });

  it('external -> ClusterIP: masqueraded to the outgoing address', () => {
    const r = flow(rs, EXTERNAL, '10.96.0.10', 80, 'external');
    assert.equal(r.length, 2);
    for (const x of r) assert.deepEqual([x.masqueraded, x.source], [true, NODE_IP]);
  });

  it('node -> ClusterIP: masqueraded', () => {
    for (const x of flow(rs, NODE_IP, '10.96.0.10', 80, 'node')) assert.equal(x.masqueraded, true);
  });

  it('pod -> ClusterIP that picks itself (hairpin): masqueraded only for that backend', () => {
    const r = flow(rs, '10.244.1.5', '10.96.0.10', 80, 'pod');
    assert.deepEqual(r.map((x) => [x.backend, x.masqueraded]).sort(), [
      ['10.244.1.5:8080', true],
      ['10.244.2.5:8080', false],
    ]);
  });

  it('pod -> NodePort (eTP Cluster): masqueraded', () => {
    const r = flow(rs, POD, NODE_IP, 30080, 'pod');
    assert.deepEqual(backends(r), ['10.244.1.5:8080', '10.244.2.5:8080']);
    for (const x of r) assert.equal(x.masqueraded, true);
  });

  it('external -> NodePort (eTP Cluster): masqueraded', () => {
    for (const x of flow(rs, EXTERNAL, NODE_IP, 30080, 'external')) assert.equal(x.masqueraded, true);
  });

  it('external -> NodePort (eTP Local): not masqueraded, local endpoints only (KUBE-SVL)', () => {
    const ruleset = rs;
    const packet: Packet = {
      family: 4,
      proto: 'tcp',
      src: EXTERNAL,
      dst: NODE_IP,
      sport: 40000,
      dport: 30081,
      mark: 0,
      inIface: 'eth0',
    };
    const res = evaluateHook(ruleset, 'PREROUTING', packet, { localAddresses: LOCALS, conntrack: { state: 'NEW' } });
    assert.ok(res.outcomes[0].decisions.some((d) => d.action.startsWith('jump KUBE-SVL-')));
    const r = flow(rs, EXTERNAL, NODE_IP, 30081, 'external');
    assert.deepEqual(
      r.map((x) => [x.backend, x.masqueraded, x.probability]),
      [['10.244.1.6:8080', false, 1]],
    );
  });

  it('pod -> NodePort (eTP Local): not masqueraded, all endpoints', () => {
    const r = flow(rs, POD, NODE_IP, 30081, 'pod');
    assert.deepEqual(backends(r), ['10.244.1.6:8080', '10.244.2.6:8080']);
    for (const x of r) assert.equal(x.masqueraded, false);
  });

  it('node -> NodePort (eTP Local): masqueraded, all endpoints', () => {
    const r = flow(rs, NODE_IP, NODE_IP, 30081, 'node');
    assert.deepEqual(backends(r), ['10.244.1.6:8080', '10.244.2.6:8080']);
    for (const x of r) assert.equal(x.masqueraded, true);
  });

  it('external -> NodePort (eTP Local) without local endpoints: not DNATed, dropped in filter INPUT', () => {
    const r = flow(rs, EXTERNAL, NODE_IP, 30082, 'external');
    assert.deepEqual(backends(r), [`${NODE_IP}:30082`]);
    const packet: Packet = {
      family: 4,
      proto: 'tcp',
      src: EXTERNAL,
      dst: NODE_IP,
      sport: 40000,
      dport: 30082,
      mark: 0,
      inIface: 'eth0',
    };
    const input = evaluateHook(rs, 'INPUT', packet, { localAddresses: LOCALS, conntrack: { state: 'NEW' } });
    assert.deepEqual(
      input.outcomes.map((o) => o.verdict),
      ['DROP'],
    );
    assert.ok(input.outcomes[0].decisions.some((d) => d.chain === 'KUBE-EXTERNAL-SERVICES' && d.action === 'DROP'));
  });

  it('pod -> ClusterIP of a service without endpoints: REJECT in filter FORWARD, not DROP', () => {
    const packet: Packet = {
      family: 4,
      proto: 'tcp',
      src: POD,
      dst: '10.96.0.13',
      sport: 40000,
      dport: 80,
      mark: 0,
      inIface: 'cni0',
      outIface: 'eth0',
    };
    const nat = evaluateHook(rs, 'PREROUTING', packet, { localAddresses: LOCALS, conntrack: { state: 'NEW' } });
    assert.equal(nat.outcomes[0].packet.dst, '10.96.0.13');
    const fwd = evaluateHook(rs, 'FORWARD', packet, { localAddresses: LOCALS, conntrack: { state: 'NEW' } });
    assert.deepEqual(
      fwd.outcomes.map((o) => o.verdict),
      ['REJECT'],
    );
  });

  it('forwarding of marked traffic is accepted by KUBE-FORWARD', () => {
    const packet: Packet = {
      family: 4,
      proto: 'tcp',
      src: EXTERNAL,
      dst: '10.244.2.5',
      sport: 40000,
      dport: 8080,
      mark: 0x4000,
      inIface: 'eth0',
      outIface: 'eth0',
    };
    const fwd = evaluateHook(rs, 'FORWARD', packet, {
      localAddresses: LOCALS,
      conntrack: { state: 'NEW', dnat: true },
    });
    assert.equal(fwd.outcomes[0].verdict, 'ACCEPT');
    assert.ok(fwd.outcomes[0].decisions.some((d) => d.chain === 'KUBE-FORWARD' && d.action === 'ACCEPT'));
  });

  it('only the first packet of a connection is NATed', () => {
    const packet: Packet = {
      family: 4,
      proto: 'tcp',
      src: POD,
      dst: '10.96.0.10',
      sport: 40000,
      dport: 80,
      mark: 0,
      inIface: 'cni0',
    };
    const r = evaluateHook(rs, 'PREROUTING', packet, { localAddresses: LOCALS, conntrack: { state: 'ESTABLISHED' } });
    assert.deepEqual(
      r.outcomes.map((o) => o.packet.dst),
      ['10.96.0.10'],
    );
  });

  it('masqueradeAll: pod -> ClusterIP is masqueraded too', () => {
    for (const x of flow(rulesFor({ ...base, masqueradeAll: true }), POD, '10.96.0.10', 80, 'pod'))
      assert.equal(x.masqueraded, true);
  });

  it('no local detector: external -> ClusterIP is not masqueraded', () => {
    for (const x of flow(
      rulesFor({ ...base, localDetector: { mode: 'None' } }),
      EXTERNAL,
      '10.96.0.10',
      80,
      'external',
    ))
      assert.equal(x.masqueraded, false);
  });

  it('ClientIP affinity: a client seen before goes straight to its endpoint', () => {
    const input: KubeProxyInput = {
      ...base,
      services: [{ ...base.services[0], sessionAffinity: 'ClientIP' }],
    };
    const ruleset = rulesFor(input);
    const packet: Packet = {
      family: 4,
      proto: 'tcp',
      src: POD,
      dst: '10.96.0.10',
      sport: 40000,
      dport: 80,
      mark: 0,
      inIface: 'cni0',
    };
    const fresh = evaluateHook(ruleset, 'PREROUTING', packet, { localAddresses: LOCALS, conntrack: { state: 'NEW' } });
    assert.equal(fresh.outcomes.length, 2);
    for (const o of fresh.outcomes) assert.equal(o.recentSet.length, 1);
    const seen = fresh.outcomes.find((o) => o.packet.dst === '10.244.2.5')!.recentSet;
    const again = evaluateHook(ruleset, 'PREROUTING', packet, {
      localAddresses: LOCALS,
      conntrack: { state: 'NEW' },
      recent: seen,
    });
    assert.deepEqual(
      again.outcomes.map((o) => [o.packet.dst, o.probability]),
      [['10.244.2.5', 1]],
    );
  });
});
