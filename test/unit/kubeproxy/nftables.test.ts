import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateKubeProxyNftables,
  nftEndpointChainBase,
  nftServiceChainBase,
  renderNftTransaction,
  type KubeProxyNftInput,
  type ServiceInput,
} from '../../../src/core/kubeproxy';

const dir = join(__dirname, '../../fixtures/kubeproxy-nft');
const fixture = (name: string): string => readFileSync(join(dir, name), 'utf8');

/**
 * kube-proxy's sortNFTablesTransaction: blank and `#` lines dropped, lines sorted by object type, then object
 * name, rules keeping their order within a chain, other lines of one object by their text.
 */
function canonical(text: string | readonly string[]): string[] {
  const lines = (typeof text === 'string' ? text.split('\n') : [...text])
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const order = ['table', 'chain', 'set', 'map', 'element', 'rule'];
  return lines
    .map((l, i) => ({ l, i, w: l.split(' ') }))
    .sort((a, b) => {
      if (a.w[1] !== b.w[1]) return order.indexOf(a.w[1]) - order.indexOf(b.w[1]);
      if (a.w[4] !== b.w[4]) return (a.w[4] ?? '') < (b.w[4] ?? '') ? -1 : 1;
      if (a.w[1] === 'rule') return a.i - b.i;
      return a.l < b.l ? -1 : a.l > b.l ? 1 : 0;
    })
    .map((x) => x.l);
}

/** NewFakeProxier's settings (IPv4). */
const fake = (services: readonly ServiceInput[], extra: Partial<KubeProxyNftInput> = {}): KubeProxyNftInput => ({
  nodeName: 'test-node',
  nodeIPs: ['192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'],
  localDetector: { mode: 'ClusterCIDR', cidrs: ['10.0.0.0/8'] },
  nodePortAddresses: ['192.168.0.2/32', '2001:db8::1/128'],
  serviceCIDRs: ['172.30.0.0/16'],
  masqueradeMark: '0x4000',
  services,
  ...extra,
});

/**
 * The generated rules equal the golden's. `staleChains` names chains the golden holds only because kube-proxy
 * flushed them on this sync and deletes them on a later one (its staleChains): a one-shot generator has no earlier
 * sync, so they are taken out of the golden, each checked to be there and empty first.
 */
const expectGolden = (
  input: KubeProxyNftInput,
  file: string,
  { base = 'base.nft', staleChains = [] }: { base?: string; staleChains?: readonly string[] } = {},
): void => {
  const got = canonical(renderNftTransaction(generateKubeProxyNftables(input)));
  let want = canonical(`${fixture(base)}\n${fixture(file)}`);
  for (const chain of staleChains) {
    const line = `add chain ip kube-proxy ${chain}`;
    assert.ok(want.includes(line), `stale chain ${chain} is in ${file}`);
    assert.ok(!want.some((l) => l.startsWith(`add rule ip kube-proxy ${chain} `)), `stale chain ${chain} is flushed`);
    want = want.filter((l) => l !== line);
  }
  assert.deepEqual(got, want);
};

const port = (name: string, p: number, extra: object = {}) => ({ name, protocol: 'TCP' as const, port: p, ...extra });
const ep = (ip: string, ports: Record<string, number>, extra: object = {}) => ({ ip, ports, ...extra });

describe('kube-proxy nftables mode: the rules of kube-proxy’s own tests (pkg/proxy/nftables/proxier_test.go)', () => {
  it('baseRules: no Services', () => expectGolden(fake([]), 'repeated-0.nft'));

  it('TestOverallNFTablesRules', () => {
    const p80 = { p80: 80 };
    expectGolden(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          ports: [port('p80', 80)],
          endpoints: [ep('10.180.0.1', p80)],
        },
        {
          namespace: 'ns2',
          name: 'svc2',
          clusterIP: '172.30.0.42',
          externalTrafficPolicy: 'Local',
          ports: [port('p80', 80, { nodePort: 3001 })],
          loadBalancerIPs: ['1.2.3.4'],
          externalIPs: ['192.168.99.22'],
          healthCheckNodePort: 30000,
          endpoints: [ep('10.180.0.2', p80)],
        },
        {
          namespace: 'ns3',
          name: 'svc3',
          clusterIP: '172.30.0.43',
          ports: [port('p80', 80, { nodePort: 3003 })],
          endpoints: [ep('10.180.0.3', p80)],
        },
        {
          namespace: 'ns4',
          name: 'svc4',
          clusterIP: '172.30.0.44',
          externalIPs: ['192.168.99.33'],
          ports: [port('p80', 80, { targetPort: 80 })],
          endpoints: [ep('10.180.0.4', p80), ep('10.180.0.5', p80, { node: 'test-node' })],
        },
        {
          namespace: 'ns5',
          name: 'svc5',
          clusterIP: '172.30.0.45',
          externalTrafficPolicy: 'Cluster',
          ports: [port('p80', 80, { nodePort: 3002 })],
          loadBalancerIPs: ['5.6.7.8'],
          healthCheckNodePort: 30000,
          loadBalancerSourceRanges: [' 203.0.113.0/25'],
          sessionAffinity: 'ClientIP',
          sessionAffinityTimeoutSeconds: 10800,
          endpoints: [ep('10.180.0.3', p80)],
        },
        {
          namespace: 'ns6',
          name: 'svc6',
          clusterIP: '172.30.0.46',
          ports: [port('p80', 80, { targetPort: 80 })],
          endpoints: [],
        },
      ]),
      'overall.nft',
    );
  });

  /**
   * Every state the Go test compares, in its order. Three of them hold stale chains: chains kube-proxy flushed on
   * that sync and deletes on a later one, once they have aged (svc2's two chains after svc2 is deleted; svc3's
   * old endpoint chain after its endpoint changes; svc3's three chains after its endpoints are emptied). NetPath
   * generates one node's rules from the objects as they are now, with no earlier sync to leave chains behind, so
   * those chains are the one part of the goldens it cannot express: each test names them (`staleChains`), and
   * everything else in those states is compared as in the others. The flushed chains change no packet's path:
   * nothing jumps to them.
   */
  describe('TestSyncProxyRulesRepeated (every state; stale chains named as the exclusion)', () => {
    const svc1 = {
      namespace: 'ns1',
      name: 'svc1',
      clusterIP: '172.30.0.41',
      ports: [port('p80', 80)],
      endpoints: [ep('10.0.1.1', { p80: 80 })],
    };
    const svc2 = {
      namespace: 'ns2',
      name: 'svc2',
      clusterIP: '172.30.0.42',
      ports: [port('p8080', 8080)],
      endpoints: [ep('10.0.2.1', { p8080: 8080 })],
    };
    const svc3 = (ips: string[]) => ({
      namespace: 'ns3',
      name: 'svc3',
      clusterIP: '172.30.0.43',
      ports: [port('p80', 80)],
      endpoints: ips.map((ip) => ep(ip, { p80: 80 })),
    });
    const svc4 = (ips: string[]) => ({
      namespace: 'ns4',
      name: 'svc4',
      clusterIP: '172.30.0.44',
      ports: [port('p80', 80)],
      endpoints: ips.map((ip) => ep(ip, { p80: 80 })),
    });
    const svc3Chains = [
      'service-4AT6LBPK-ns3/svc3/tcp/p80',
      'endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80',
      'endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80',
    ];
    const restored = fake([svc1, svc3(['10.0.3.2', '10.0.3.3']), svc4(['10.0.4.1'])]);
    it('initial state', () => expectGolden(fake([svc1, svc2]), 'repeated-1.nft'));
    it('a Service and its endpoints added', () =>
      expectGolden(fake([svc1, svc2, svc3(['10.0.3.1'])]), 'repeated-2.nft'));
    it('a Service deleted (its chains flushed, stale)', () =>
      expectGolden(fake([svc1, svc3(['10.0.3.1'])]), 'repeated-3-stale.nft', {
        staleChains: ['service-MHHHYRWA-ns2/svc2/tcp/p8080', 'endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080'],
      }));
    it('... its stale chains deleted', () => expectGolden(fake([svc1, svc3(['10.0.3.1'])]), 'repeated-3.nft'));
    it('a Service without endpoints', () => expectGolden(fake([svc1, svc3(['10.0.3.1']), svc4([])]), 'repeated-4.nft'));
    it('its endpoints added', () =>
      expectGolden(fake([svc1, svc3(['10.0.3.1']), svc4(['10.0.4.1'])]), 'repeated-5.nft'));
    it('an endpoint changed (the old endpoint chain flushed, stale)', () =>
      expectGolden(fake([svc1, svc3(['10.0.3.2']), svc4(['10.0.4.1'])]), 'repeated-6.nft', {
        staleChains: ['endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80'],
      }));
    it('an endpoint added', () => expectGolden(restored, 'repeated-7.nft'));
    it('a Service’s endpoints emptied: rejected (its chains flushed, stale)', () =>
      expectGolden(fake([svc1, svc3([]), svc4(['10.0.4.1'])]), 'repeated-8.nft', { staleChains: svc3Chains }));
    it('its endpoints restored at once; emptied and restored after aging; a sync with no change', () =>
      expectGolden(restored, 'repeated-7.nft'));
  });

  it('TestSyncProxyRulesStartup', () =>
    expectGolden(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.41',
          ports: [port('p80', 80)],
          endpoints: [ep('10.0.1.1', { p80: 80 }), ep('10.0.1.2', { p80: 80 })],
        },
        {
          namespace: 'ns2',
          name: 'svc2',
          clusterIP: '172.30.0.42',
          ports: [port('p8080', 8080)],
          endpoints: [ep('10.0.2.1', { p8080: 8080 })],
        },
        { namespace: 'ns3', name: 'svc3', clusterIP: '172.30.0.43', ports: [port('p80', 80)], endpoints: [] },
      ]),
      'startup.nft',
    ));

  it('TestBadIPs', () =>
    expectGolden(
      fake([
        {
          namespace: 'ns1',
          name: 'svc1',
          clusterIP: '172.30.0.041',
          ports: [port('p80', 80, { nodePort: 3001 })],
          loadBalancerIPs: ['1.2.3.004'],
          externalIPs: ['192.168.099.022'],
          loadBalancerSourceRanges: ['203.0.113.000/025'],
          endpoints: [ep('10.180.00.001', { p80: 80 })],
        },
      ]),
      'badips.nft',
    ));

  describe('IPv6: the ip6 kube-proxy table of NewFakeProxier(v1.IPv6Protocol)', () => {
    /** The IPv6 fake: pod CIDR fd00:10::/64, Service CIDR fd00:10:96::/112, the same node IPs. */
    const fake6 = (services: readonly ServiceInput[], extra: Partial<KubeProxyNftInput> = {}) =>
      fake(services, {
        family: 6,
        localDetector: { mode: 'ClusterCIDR', cidrs: ['fd00:10::/64'] },
        serviceCIDRs: ['fd00:10:96::/112'],
        ...extra,
      });
    const svc1: ServiceInput = {
      namespace: 'ns1',
      name: 'svc1',
      clusterIP: 'fd00:172:30::41',
      ports: [port('p80', 80, { nodePort: 3001 })],
      endpoints: [ep('fd00:10:180::1', { p80: 80 }), ep('fd00:10:180::2:1', { p80: 80 }, { node: 'test-node' })],
    };
    it('baseRules (IPv6): no Services', () => expectGolden(fake6([]), 'repeated-0.nft', { base: 'base6.nft' }));
    it('TestNodePorts (ipv6) / TestTracePacketV6', () =>
      expectGolden(fake6([svc1]), 'ipv6-nodeports.nft', { base: 'base6.nft' }));
    it('TestNodePorts (ipv6, multiple nodeport-addresses): both IPv6 node IPs accept NodePorts, no IPv4 one', () => {
      const got = canonical(
        renderNftTransaction(
          generateKubeProxyNftables(
            fake6([svc1], {
              nodePortAddresses: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64', '2001:db8:1::2/128'],
            }),
          ),
        ),
      );
      assert.deepEqual(
        got.filter((l) => l.startsWith('add element') && l.includes('nodeport-ips {')),
        [
          'add element ip6 kube-proxy nodeport-ips { 2001:db8:1::2 }',
          'add element ip6 kube-proxy nodeport-ips { 2001:db8::1 }',
        ],
      );
      assert.ok(
        got.every((l) => l.startsWith('add ') && l.split(' ')[2] === 'ip6'),
        'one family per table',
      );
    });
  });

  it('Test_servicePortChainNameBase and Test_servicePortEndpointChainNameBase', () => {
    assert.equal(nftServiceChainBase('testing', 'service', 'tcp', 'http'), 'P4ZYZVCF-testing/service/tcp/http');
    assert.equal(nftServiceChainBase('testing', 'service', 'tcp', 'https'), 'LZBRENCP-testing/service/tcp/https');
    const ns = 'very-long-namespace-name-abcdefghijklmnopqrstuvwxyz0123456789xx';
    const svc = 'very-long-service-name-why-would-you-even-do-this-i-mean-really';
    const pn = 'port-443-providing-the-hypertext-transmission-protocol-with-tls';
    assert.equal(nftServiceChainBase(ns, svc, 'sctp', pn), `KR6NACJP-${ns}/${svc}/sctp/${pn}`);
    assert.equal(
      nftEndpointChainBase('testing', 'service', 'tcp', 'http', '10.180.0.1', 80),
      'JO2XBXZR-testing/service/tcp/http__10.180.0.1/80',
    );
    assert.equal(
      nftEndpointChainBase('testing', 'service', 'tcp', 'http', 'fd80:abcd:12::a1b2:c3d4:e5f6:9999', 80),
      'U7E2ET36-testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80',
    );
    assert.equal(
      nftEndpointChainBase(ns, svc, 'sctp', pn, '1234:5678:9abc:def0::abc:1234', 443),
      `5YS7AFEA-${ns}/${svc}/sctp/${pn}__1234.5678.9abc.def0..abc.1234/443`,
    );
    assert.equal(
      nftEndpointChainBase(ns, svc, 'sctp', pn, '1234:5678:9abc:def0::abcd:1234:5678', 443),
      `CI6C53Q3-${ns}/${svc}/sctp/${pn}__1234.5678.9abc.def0..abcd.1234...`,
    );
  });
});
