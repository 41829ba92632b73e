import assert from 'node:assert/strict';
import {
  generateKubeProxyNftables,
  nftListedRule,
  renderNftRuleset,
  renderNftTransaction,
  type KubeProxyNftInput,
  type ServiceInput,
} from '../../../src/core/kubeproxy';
import {
  evaluateNftHook,
  parseNftRuleset,
  type NftHook,
  type NftOutcome,
  type NftRuleset,
} from '../../../src/core/nftables';

/**
 * kube-proxy's runPacketFlowTests, with NetPath's evaluator instead of kube-proxy's fake tracer: the generated
 * table, printed as `nft -f` reads it, parsed back and walked hook by hook. Each case names its Go test.
 *
 * Every test of pkg/proxy/nftables/proxier_test.go (kubernetes commit 030880a5dc54) that drives packets through
 * the rules is mirrored here, each of its flows by name: TestNoEndpointsReject, TestClusterIPGeneral,
 * TestLoadBalancer (13 flows), TestNodePorts (4 subcases), TestExternalTrafficPolicyLocal,
 * TestExternalTrafficPolicyCluster, TestInternalTrafficPolicy (4 subcases, each then with its EndpointSlice
 * deleted), TestTerminatingEndpointsTrafficPolicyLocal and ...Cluster (4 subcases each, and the deletion),
 * TestInternalExternalMasquerade (27 flows x 4 subcases). None of them is inexpressible in NetPath: a state
 * "after the EndpointSlice is deleted" is the same Service generated with no endpoints.
 *
 * The whole-ruleset tests are goldens in nftables.test.ts. The rest of that file tests kube-proxy's internals,
 * which NetPath has no counterpart of, so they are not mirrored: TestBuildServiceMap* and TestUpdateEndpointsMap
 * (the change trackers' maps), TestHealthCheckNodePortWhenTerminating (the health-check server's endpoint count),
 * TestNoEndpointsMetric (Prometheus gauges), TestProxier_OnServiceCIDRsChanged (a setter's string).
 */
const NODE_IPS = ['192.168.0.2', '192.168.1.2', '192.168.99.11'];
const NODE_IPS_V6 = ['2001:db8::1', '2001:db8:1::2'];

const fake = (services: readonly ServiceInput[], extra: Partial<KubeProxyNftInput> = {}): KubeProxyNftInput => ({
  nodeName: 'test-node',
  nodeIPs: [...NODE_IPS, ...NODE_IPS_V6],
  localDetector: { mode: 'ClusterCIDR', cidrs: ['10.0.0.0/8'] },
  nodePortAddresses: ['192.168.0.2/32', '2001:db8::1/128'],
  serviceCIDRs: ['172.30.0.0/16'],
  masqueradeMark: '0x4000',
  services,
  ...extra,
});

function load(input: KubeProxyNftInput): NftRuleset {
  const table = generateKubeProxyNftables(input);
  const block = parseNftRuleset(renderNftRuleset(table), 'block.nft');
  assert.deepEqual(block.problems, []);
  // The `add` form kube-proxy feeds nft reads back to the same rules.
  const script = parseNftRuleset(renderNftTransaction(table).join('\n'), 'script.nft');
  assert.deepEqual(script.problems, []);
  // The same chains and rules; the listing spells some of them as nft prints them back (`meta mark & …`).
  const chains = (r: NftRuleset, spell = (x: string) => x) =>
    [...r.tables[0].chains.values()].map((c) => [c.name, c.base?.priority, c.rules.map((x) => spell(x.text))]);
  assert.deepEqual(chains(script.ruleset, nftListedRule).sort(), chains(block.ruleset).sort());
  return block.ruleset;
}

/** What kube-proxy's tracer reports: the endpoints reached (sorted), or DROP / REJECT, and whether masqueraded. */
function flow(
  ruleset: NftRuleset,
  src: string,
  dst: string,
  dport: number,
  proto = 'tcp',
): { output: string; masq: boolean } {
  const v6 = dst.includes(':');
  // testNodeIPs: both families' node addresses are local (kube-proxy's tracer treats them all as node IPs).
  const local = [...NODE_IPS, ...NODE_IPS_V6, '127.0.0.1', '::1'];
  const ctx = {
    localAddresses: local,
    conntrack: { state: 'NEW' as const },
    outIfaceAddress: v6 ? '2001:db8::1' : '192.168.0.2',
  };
  const fromNode = local.includes(src);
  /** Runs `hook` after each accepted outcome, keeping what happened before on the same path. */
  const run = (hook: NftHook, outs: NftOutcome[]): NftOutcome[] =>
    outs.flatMap((o) =>
      o.verdict !== 'ACCEPT'
        ? [o]
        : evaluateNftHook(ruleset, hook, o.packet, { ...ctx, conntrack: o.conntrack }).outcomes.map((n) => ({
            ...n,
            probability: o.probability * n.probability,
            nat: [...o.nat, ...n.nat],
            decisions: [...o.decisions, ...n.decisions],
          })),
    );
  const start: NftOutcome = {
    probability: 1,
    verdict: 'ACCEPT',
    packet: {
      family: v6 ? 6 : 4,
      proto,
      src,
      dst,
      sport: 40000,
      dport,
      mark: 0,
      inIface: fromNode ? undefined : 'eth0',
    },
    conntrack: { state: 'NEW' },
    nat: [],
    decisions: [],
    dynamicAdded: [],
    problems: [],
  };
  let outs = run(fromNode ? 'output' : 'prerouting', [start]);
  outs = outs.flatMap((o) =>
    o.verdict !== 'ACCEPT' ? [o] : run(local.includes(o.packet.dst) ? 'input' : fromNode ? 'output' : 'forward', [o]),
  );
  // The output hook ran once already for node traffic; after it, the packet goes out.
  outs = run(
    'postrouting',
    outs.filter((o) => o.verdict === 'ACCEPT'),
  ).concat(outs.filter((o) => o.verdict !== 'ACCEPT'));
  const verdicts = new Set(outs.map((o) => o.verdict));
  if (verdicts.has('REJECT')) return { output: 'REJECT', masq: false };
  if (verdicts.has('DROP')) return { output: 'DROP', masq: false };
  const eps = [
    ...new Set(
      outs
        .filter((o) => o.nat.some((n) => n.type === 'DNAT'))
        .map((o) =>
          o.packet.dst.includes(':') ? `[${o.packet.dst}]:${o.packet.dport}` : `${o.packet.dst}:${o.packet.dport}`,
        ),
    ),
  ].sort();
  return { output: eps.join(', '), masq: outs.some((o) => o.nat.some((n) => n.type === 'MASQUERADE')) };
}

const p80 = (nodePort?: number) => [
  { name: 'p80', protocol: 'TCP' as const, port: 80, ...(nodePort ? { nodePort } : {}) },
];
const ep = (ip: string, node?: string, extra: object = {}) => ({
  ip,
  ports: { p80: 80, '': 80 },
  ...(node ? { node } : {}),
  ...extra,
});

describe('kube-proxy nftables mode: kube-proxy’s packet flow tests through the nftables evaluator', () => {
  it('TestNoEndpointsReject', () => {
    const rs = load(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          externalIPs: ['192.168.99.11'],
          loadBalancerIPs: ['1.2.3.4'],
          ports: p80(3001),
          endpoints: [],
        },
      ]),
    );
    for (const [src, dst, port] of [
      ['10.0.0.2', '172.30.0.41', 80],
      ['203.0.113.2', '192.168.99.11', 80],
      ['10.0.0.2', '192.168.0.2', 3001],
      ['203.0.113.2', '192.168.0.2', 3001],
      ['10.0.0.2', '1.2.3.4', 80],
      ['203.0.113.2', '1.2.3.4', 80],
    ] as const)
      assert.equal(flow(rs, src, dst, port).output, 'REJECT', `${src} -> ${dst}:${port}`);
  });

  it('TestClusterIPGeneral', () => {
    const rs = load(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
          endpoints: [{ ip: '10.180.0.1', ports: { http: 80 }, node: 'test-node' }],
        },
        {
          namespace: 'ns2',
          name: 'svc2',
          clusterIP: '172.30.0.42',
          ports: [
            { name: 'http', protocol: 'TCP', port: 80 },
            { name: 'https', protocol: 'TCP', port: 443, targetPort: 8443 },
            { name: 'dns-udp', protocol: 'UDP', port: 53 },
            { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 5353 },
            { name: 'dns-sctp', protocol: 'SCTP', port: 53 },
          ],
          endpoints: ['10.180.0.1', '10.180.2.1'].map((ip, i) => ({
            ip,
            ports: { http: 80, https: 8443, 'dns-udp': 53, 'dns-tcp': 5353, 'dns-sctp': 53 },
            node: i === 0 ? 'test-node' : 'node2',
          })),
        },
      ]),
    );
    assert.deepEqual(flow(rs, '10.180.0.2', '172.30.0.41', 80), { output: '10.180.0.1:80', masq: false });
    assert.deepEqual(flow(rs, '10.180.0.1', '172.30.0.41', 80), { output: '10.180.0.1:80', masq: true });
    assert.deepEqual(flow(rs, '10.180.0.2', '172.30.0.42', 80), {
      output: '10.180.0.1:80, 10.180.2.1:80',
      masq: false,
    });
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.42', 443).output, '10.180.0.1:8443, 10.180.2.1:8443');
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.42', 53).output, '10.180.0.1:5353, 10.180.2.1:5353');
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.42', 53, 'udp').output, '10.180.0.1:53, 10.180.2.1:53');
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.42', 53, 'sctp').output, '10.180.0.1:53, 10.180.2.1:53');
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.42', 80, 'udp').output, 'REJECT');
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.41', 443).output, 'REJECT');
    assert.equal(flow(rs, '10.180.0.2', '172.30.0.50', 80).output, 'DROP');
  });

  it('TestLoadBalancer', () => {
    const rs = load(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          ports: p80(3001),
          loadBalancerIPs: ['1.2.3.4', '5.6.7.8'],
          loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
          endpoints: [ep('10.180.0.1')],
        },
      ]),
    );
    const ok = { output: '10.180.0.1:80', masq: true };
    const drop = { output: 'DROP', masq: false };
    // All 13 of the Go test's flows, by their names there.
    for (const [name, src, dst, dport, want] of [
      ['pod to cluster IP', '10.0.0.2', '172.30.0.41', 80, { output: '10.180.0.1:80', masq: false }],
      ['external to nodePort', '203.0.113.2', '192.168.0.2', 3001, ok],
      ['nodePort bypasses LoadBalancerSourceRanges', '203.0.113.130', '192.168.0.2', 3001, ok],
      ['accepted external to LB1', '203.0.113.2', '1.2.3.4', 80, ok],
      ['accepted external to LB2', '203.0.113.2', '5.6.7.8', 80, ok],
      ['blocked external to LB1', '203.0.113.130', '1.2.3.4', 80, drop],
      ['blocked external to LB2', '203.0.113.130', '5.6.7.8', 80, drop],
      ['pod to LB1 (blocked by LoadBalancerSourceRanges)', '10.0.0.2', '1.2.3.4', 80, drop],
      ['pod to LB2 (blocked by LoadBalancerSourceRanges)', '10.0.0.2', '5.6.7.8', 80, drop],
      ['node to LB1 (allowed by LoadBalancerSourceRanges)', '192.168.0.2', '1.2.3.4', 80, ok],
      ['node to LB2 (allowed by LoadBalancerSourceRanges)', '192.168.0.2', '5.6.7.8', 80, ok],
      // The source ranges hold the node IP, so kube-proxy also lets in the LB IP itself (a node's connection to
      // its LB SNATted to that IP by something outside kube-proxy).
      ['same node to LB1, SNATted to LB1 (implicitly allowed)', '1.2.3.4', '1.2.3.4', 80, ok],
      ['same node to LB2, SNATted to LB2 (implicitly allowed)', '5.6.7.8', '5.6.7.8', 80, ok],
    ] as const)
      assert.deepEqual(flow(rs, src, dst, dport), want, name);
  });

  const svc4: ServiceInput = {
    namespace: 'ns1',
    name: 'svc1',
    clusterIP: '172.30.0.41',
    ports: p80(3001),
    endpoints: [ep('10.180.0.1'), ep('10.180.2.1', 'test-node')],
  };
  for (const [name, extra, alt] of [
    ['ipv4', {}, false],
    [
      'ipv4, multiple nodeport-addresses',
      { nodePortAddresses: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'] },
      true,
    ],
  ] as const) {
    it(`TestNodePorts (${name})`, () => {
      const rs = load(fake([svc4], extra));
      const both = { output: '10.180.0.1:80, 10.180.2.1:80', masq: true };
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.0.41', 80), { ...both, masq: false }, 'pod to cluster IP');
      assert.deepEqual(flow(rs, '203.0.113.2', '192.168.0.2', 3001), both, 'external to nodePort');
      assert.deepEqual(flow(rs, '192.168.0.2', '192.168.0.2', 3001), both, 'node to nodePort');
      assert.deepEqual(
        flow(rs, '203.0.113.2', '192.168.1.2', 3001),
        alt ? both : { output: '', masq: false },
        alt ? 'external to nodePort on secondary IP' : 'secondary nodeIP ignores NodePorts',
      );
    });
  }

  /** NewFakeProxier(v1.IPv6Protocol): pod CIDR fd00:10::/64, Service CIDR fd00:10:96::/112, the ip6 table. */
  const fake6 = (services: readonly ServiceInput[], extra: Partial<KubeProxyNftInput> = {}) =>
    fake(services, {
      family: 6,
      localDetector: { mode: 'ClusterCIDR', cidrs: ['fd00:10::/64'] },
      serviceCIDRs: ['fd00:10:96::/112'],
      ...extra,
    });
  const svc6: ServiceInput = {
    namespace: 'ns1',
    name: 'svc1',
    clusterIP: 'fd00:172:30::41',
    ports: p80(3001),
    endpoints: [ep('fd00:10:180::1'), ep('fd00:10:180::2:1', 'test-node')],
  };
  for (const [name, extra, alt] of [
    ['ipv6', {}, false],
    [
      'ipv6, multiple nodeport-addresses',
      { nodePortAddresses: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64', '2001:db8:1::2/128'] },
      true,
    ],
  ] as const) {
    it(`TestNodePorts (${name})`, () => {
      const rs = load(fake6([svc6], extra));
      assert.equal(rs.tables[0].family, 'ip6');
      const both = '[fd00:10:180::1]:80, [fd00:10:180::2:1]:80';
      assert.deepEqual(flow(rs, 'fd00:10::2', 'fd00:172:30::41', 80), { output: both, masq: false });
      assert.deepEqual(flow(rs, '2600:5200::1', '2001:db8::1', 3001), { output: both, masq: true });
      assert.deepEqual(flow(rs, '2001:db8::1', '2001:db8::1', 3001), { output: both, masq: true });
      assert.deepEqual(
        flow(rs, '2600:5200::1', '2001:db8:1::2', 3001),
        alt ? { output: both, masq: true } : { output: '', masq: false },
        alt ? 'external to nodePort on secondary IP' : 'secondary nodeIP ignores NodePorts',
      );
    });
  }

  it('TestExternalTrafficPolicyLocal', () => {
    const rs = load(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          externalTrafficPolicy: 'Local',
          externalIPs: ['192.168.99.11'],
          loadBalancerIPs: ['1.2.3.4'],
          healthCheckNodePort: 30000,
          ports: p80(3001),
          endpoints: [ep('10.180.0.1'), ep('10.180.2.1', 'test-node')],
        },
      ]),
    );
    const both = { output: '10.180.0.1:80, 10.180.2.1:80', masq: false };
    const local = { output: '10.180.2.1:80', masq: false };
    assert.deepEqual(flow(rs, '10.0.0.2', '172.30.0.41', 80), both);
    assert.deepEqual(flow(rs, '10.0.0.2', '192.168.99.11', 80), both);
    assert.deepEqual(flow(rs, '203.0.113.2', '192.168.99.11', 80), local);
    assert.deepEqual(flow(rs, '10.0.0.2', '1.2.3.4', 80), both);
    assert.deepEqual(flow(rs, '203.0.113.2', '1.2.3.4', 80), local);
    assert.deepEqual(flow(rs, '10.0.0.2', '192.168.0.2', 3001), both);
    assert.deepEqual(flow(rs, '203.0.113.2', '192.168.0.2', 3001), local);
  });

  it('TestExternalTrafficPolicyCluster', () => {
    const rs = load(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          externalTrafficPolicy: 'Cluster',
          externalIPs: ['192.168.99.11'],
          loadBalancerIPs: ['1.2.3.4'],
          ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001, targetPort: 80 }],
          endpoints: [ep('10.180.0.1'), ep('10.180.2.1', 'test-node')],
        },
      ]),
    );
    const both = '10.180.0.1:80, 10.180.2.1:80';
    for (const [name, src, dst, dport, masq] of [
      ['pod to cluster IP hits both endpoints, unmasqueraded', '10.0.0.2', '172.30.0.41', 80, false],
      ['pod to external IP hits both endpoints, masqueraded', '10.0.0.2', '192.168.99.11', 80, true],
      ['external to external IP hits both endpoints, masqueraded', '203.0.113.2', '192.168.99.11', 80, true],
      ['pod to LB IP hits both endpoints, masqueraded', '10.0.0.2', '1.2.3.4', 80, true],
      ['external to LB IP hits both endpoints, masqueraded', '203.0.113.2', '1.2.3.4', 80, true],
      ['pod to NodePort hits both endpoints, masqueraded', '10.0.0.2', '192.168.0.2', 3001, true],
      ['external to NodePort hits both endpoints, masqueraded', '203.0.113.2', '192.168.0.2', 3001, true],
    ] as const)
      assert.deepEqual(flow(rs, src, dst, dport), { output: both, masq }, name);
  });

  describe('TestInternalTrafficPolicy', () => {
    const svc = (policy: 'Cluster' | 'Local', nodes: readonly string[]): ServiceInput => ({
      namespace: 'ns1',
      name: 'svc1',
      clusterIP: '172.30.1.1',
      internalTrafficPolicy: policy,
      ports: [{ name: '', protocol: 'TCP', port: 80 }],
      endpoints: nodes.map((node, i) => ep(`10.0.1.${i + 1}`, node, { ready: true })),
    });
    for (const [name, policy, nodes, output] of [
      [
        'internalTrafficPolicy is cluster',
        'Cluster',
        ['test-node', 'node1', 'node2'],
        '10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80',
      ],
      [
        'internalTrafficPolicy is local and there is one local endpoint',
        'Local',
        ['test-node', 'node1', 'node2'],
        '10.0.1.1:80',
      ],
      [
        'internalTrafficPolicy is local and there are multiple local endpoints',
        'Local',
        ['test-node', 'test-node', 'node2'],
        '10.0.1.1:80, 10.0.1.2:80',
      ],
      ['internalTrafficPolicy is local and there are no local endpoints', 'Local', ['node0', 'node1', 'node2'], 'DROP'],
    ] as const)
      it(name, () => {
        assert.deepEqual(flow(load(fake([svc(policy, nodes)])), '10.0.0.2', '172.30.1.1', 80), { output, masq: false });
        // The Go test then deletes the EndpointSlice and syncs again.
        assert.equal(
          flow(load(fake([svc(policy, [])])), '10.0.0.2', '172.30.1.1', 80).output,
          'REJECT',
          'endpoints deleted',
        );
      });
  });

  describe('TestTerminatingEndpointsTrafficPolicyLocal / Cluster: endpoint conditions', () => {
    const svc = (policy: 'Local' | 'Cluster', endpoints: ServiceInput['endpoints']): ServiceInput => ({
      namespace: 'ns1',
      name: 'svc1',
      clusterIP: '172.30.1.1',
      externalTrafficPolicy: policy,
      loadBalancerIPs: ['1.2.3.4'],
      healthCheckNodePort: 30000,
      ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 80 }],
      endpoints,
    });
    const c = (ready: boolean, serving: boolean, terminating: boolean) => ({ ready, serving, terminating });
    it('Local, ready endpoints exist: terminating ones are not used', () => {
      const rs = load(
        fake([
          svc('Local', [
            ep('10.0.1.1', 'test-node', c(true, true, false)),
            ep('10.0.1.2', 'test-node', c(true, true, false)),
            ep('10.0.1.3', 'test-node', c(false, true, true)),
            ep('10.0.1.4', 'test-node', c(false, false, true)),
            ep('10.0.1.5', 'node-1', c(true, true, false)),
          ]),
        ]),
      );
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.1.1', 80), {
        output: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80',
        masq: false,
      });
      assert.deepEqual(flow(rs, '203.0.113.2', '1.2.3.4', 80), { output: '10.0.1.1:80, 10.0.1.2:80', masq: false });
    });
    it('Local, only terminating endpoints on this node: serving ones are the fallback', () => {
      const rs = load(
        fake([
          svc('Local', [
            ep('10.0.1.2', 'test-node', c(false, true, true)),
            ep('10.0.1.3', 'test-node', c(false, true, true)),
            ep('10.0.1.4', 'test-node', c(false, false, true)),
            ep('10.0.1.5', 'node-1', c(true, true, false)),
          ]),
        ]),
      );
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.1.1', 80), { output: '10.0.1.5:80', masq: false });
      assert.deepEqual(flow(rs, '203.0.113.2', '1.2.3.4', 80), { output: '10.0.1.2:80, 10.0.1.3:80', masq: false });
    });
    it('Local, terminating endpoint only on another node: external traffic dropped', () => {
      const rs = load(fake([svc('Local', [ep('10.0.1.5', 'node-1', c(false, true, true))])]));
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.1.1', 80), { output: '10.0.1.5:80', masq: false });
      assert.equal(flow(rs, '203.0.113.2', '1.2.3.4', 80).output, 'DROP');
    });
    it('no usable endpoints on any node: rejected', () => {
      for (const policy of ['Local', 'Cluster'] as const) {
        const rs = load(
          fake([
            svc(policy, [
              ep('10.0.1.5', 'test-node', c(false, false, true)),
              ep('10.0.1.5', 'node-1', c(false, false, true)),
            ]),
          ]),
        );
        assert.equal(flow(rs, '10.0.0.2', '172.30.1.1', 80).output, 'REJECT');
        assert.equal(flow(rs, '203.0.113.2', '1.2.3.4', 80).output, 'REJECT');
      }
    });
    it('Cluster, ready endpoints exist: serving-terminating and not-serving ones are not used', () => {
      const rs = load(
        fake([
          svc('Cluster', [
            ep('10.0.1.1', 'test-node', c(true, true, false)),
            ep('10.0.1.2', 'test-node', c(true, true, false)),
            ep('10.0.1.3', 'another-node', c(false, true, true)),
            ep('10.0.1.4', 'another-node', c(false, false, true)),
            ep('10.0.1.5', 'another-node', c(true, true, false)),
          ]),
        ]),
      );
      const ready = '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80';
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.1.1', 80), { output: ready, masq: false });
      assert.deepEqual(flow(rs, '203.0.113.2', '1.2.3.4', 80), { output: ready, masq: true });
    });
    it('Cluster, terminating endpoint only on another node: it serves internal and external traffic', () => {
      const rs = load(fake([svc('Cluster', [ep('10.0.1.5', 'node-1', c(false, true, true))])]));
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.1.1', 80), { output: '10.0.1.5:80', masq: false });
      assert.deepEqual(flow(rs, '203.0.113.2', '1.2.3.4', 80), { output: '10.0.1.5:80', masq: true });
    });
    it('every subcase, Local and Cluster, after its EndpointSlice is deleted: rejected', () => {
      for (const policy of ['Local', 'Cluster'] as const) {
        const rs = load(fake([svc(policy, [])]));
        assert.equal(flow(rs, '10.0.0.2', '172.30.1.1', 80).output, 'REJECT', `${policy}: pod to clusterIP`);
        assert.equal(flow(rs, '203.0.113.2', '1.2.3.4', 80).output, 'REJECT', `${policy}: external to LB`);
      }
    });
    it('Cluster, only terminating endpoints: the serving ones', () => {
      const rs = load(
        fake([
          svc('Cluster', [
            ep('10.0.1.2', 'test-node', c(false, true, true)),
            ep('10.0.1.3', 'test-node', c(false, true, true)),
            ep('10.0.1.4', 'another-node', c(false, false, true)),
            ep('10.0.1.5', 'another-node', c(false, true, true)),
          ]),
        ]),
      );
      const all = '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80';
      assert.deepEqual(flow(rs, '10.0.0.2', '172.30.1.1', 80), { output: all, masq: false });
      assert.deepEqual(flow(rs, '203.0.113.2', '1.2.3.4', 80), { output: all, masq: true });
    });
  });

  describe('TestInternalExternalMasquerade', () => {
    const lb = (n: number, ip: string, extra: Partial<ServiceInput> = {}): ServiceInput => ({
      namespace: `ns${n}`,
      name: `svc${n}`,
      clusterIP: `172.30.0.4${n}`,
      ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3000 + n }],
      healthCheckNodePort: 30000 + n,
      loadBalancerIPs: [ip],
      endpoints: [ep(`10.180.0.${n}`, 'test-node'), ep(`10.180.1.${n}`, 'remote')],
      ...extra,
    });
    const services = [
      lb(1, '1.2.3.4'),
      lb(2, '5.6.7.8', { externalTrafficPolicy: 'Local' }),
      lb(3, '9.10.11.12', { internalTrafficPolicy: 'Local' }),
    ];
    const POD = '10.0.0.2';
    const NODE = '192.168.0.2';
    const EXT = '203.0.113.2';
    const all = (n: number) => `10.180.0.${n}:80, 10.180.1.${n}:80`;
    const local = (n: number) => `10.180.0.${n}:80`;
    /** The Go test's flows with their expectations for the "base" case (a local detector, no masqueradeAll). */
    const base: ReadonlyArray<readonly [string, string, string, number, string, boolean]> = [
      ['pod to ClusterIP', POD, '172.30.0.41', 80, all(1), false],
      ['pod to NodePort', POD, NODE, 3001, all(1), true],
      ['pod to LB', POD, '1.2.3.4', 80, all(1), true],
      ['node to ClusterIP', NODE, '172.30.0.41', 80, all(1), true],
      ['node to NodePort', NODE, NODE, 3001, all(1), true],
      ['node to LB', NODE, '1.2.3.4', 80, all(1), true],
      ['external to ClusterIP', EXT, '172.30.0.41', 80, all(1), true],
      ['external to NodePort', EXT, NODE, 3001, all(1), true],
      ['external to LB', EXT, '1.2.3.4', 80, all(1), true],
      ['pod to ClusterIP with eTP:Local', POD, '172.30.0.42', 80, all(2), false],
      ['pod to NodePort with eTP:Local', POD, NODE, 3002, all(2), false],
      ['pod to LB with eTP:Local', POD, '5.6.7.8', 80, all(2), false],
      ['node to ClusterIP with eTP:Local', NODE, '172.30.0.42', 80, all(2), true],
      // The Go case sends this one to svc1's NodePort (3001), so it expects svc1's endpoints.
      ['node to NodePort with eTP:Local', NODE, NODE, 3001, all(1), true],
      ['node to LB with eTP:Local', NODE, '5.6.7.8', 80, all(2), true],
      ['external to ClusterIP with eTP:Local', EXT, '172.30.0.42', 80, all(2), true],
      ['external to NodePort with eTP:Local', EXT, NODE, 3002, local(2), false],
      ['external to LB with eTP:Local', EXT, '5.6.7.8', 80, local(2), false],
      ['pod to ClusterIP with iTP:Local', POD, '172.30.0.43', 80, local(3), false],
      ['pod to NodePort with iTP:Local', POD, NODE, 3003, all(3), true],
      ['pod to LB with iTP:Local', POD, '9.10.11.12', 80, all(3), true],
      ['node to ClusterIP with iTP:Local', NODE, '172.30.0.43', 80, local(3), true],
      ['node to NodePort with iTP:Local', NODE, NODE, 3003, all(3), true],
      ['node to LB with iTP:Local', NODE, '9.10.11.12', 80, all(3), true],
      ['external to ClusterIP with iTP:Local', EXT, '172.30.0.43', 80, local(3), true],
      ['external to NodePort with iTP:Local', EXT, NODE, 3003, all(3), true],
      ['external to LB with iTP:Local', EXT, '9.10.11.12', 80, all(3), true],
    ];
    type Override = { output?: string; masq?: boolean };
    const noDetector: Record<string, Override> = {
      // Without a local traffic detector all ClusterIP traffic counts as a pod's: no masquerade.
      'node to ClusterIP': { masq: false },
      'node to ClusterIP with eTP:Local': { masq: false },
      'node to ClusterIP with iTP:Local': { masq: false },
      'external to ClusterIP': { masq: false },
      'external to ClusterIP with eTP:Local': { masq: false },
      'external to ClusterIP with iTP:Local': { masq: false },
      // ... and no short-circuit of pod traffic to eTP:Local external addresses: local endpoints only.
      'pod to NodePort with eTP:Local': { output: local(2) },
      'pod to LB with eTP:Local': { output: local(2) },
    };
    const masqueradeAll: Record<string, Override> = {
      'pod to ClusterIP': { masq: true },
      'pod to ClusterIP with eTP:Local': { masq: true },
      'pod to ClusterIP with iTP:Local': { masq: true },
    };
    for (const [name, extra, overrides] of [
      ['base', {}, {}],
      ['no LocalTrafficDetector', { localDetector: { mode: 'None' } }, noDetector],
      ['masqueradeAll', { masqueradeAll: true }, masqueradeAll],
      [
        'masqueradeAll, no LocalTrafficDetector',
        { masqueradeAll: true, localDetector: { mode: 'None' } },
        {
          ...masqueradeAll,
          'pod to NodePort with eTP:Local': noDetector['pod to NodePort with eTP:Local'],
          'pod to LB with eTP:Local': noDetector['pod to LB with eTP:Local'],
        },
      ],
    ] as const satisfies ReadonlyArray<readonly [string, Partial<KubeProxyNftInput>, Record<string, Override>]>)
      it(name, () => {
        const names = new Set(base.map((f) => f[0]));
        assert.ok(
          Object.keys(overrides).every((k) => names.has(k)),
          'every override names a flow',
        );
        const rs = load(fake(services, extra));
        for (const [flowName, src, dst, dport, output, masq] of base) {
          const o: Override = (overrides as Record<string, Override>)[flowName] ?? {};
          assert.deepEqual(flow(rs, src, dst, dport), { output: o.output ?? output, masq: o.masq ?? masq }, flowName);
        }
      });
  });
});
