import assert from 'node:assert/strict';
import { generateKubeProxyRules, type KubeProxyInput, type ServiceInput } from '../../../src/core/kubeproxy';
import { parseIptablesSave } from '../../../src/core/netfilter';
import { addressFamily } from '../../../src/core/net/address';

const BUILTIN = /^(?::|-A )(?:PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)\b/;
/** The generated text without the built-in chains, which kube-proxy's test output leaves out. */
const withoutBuiltins = (text: string): string =>
  text
    .split('\n')
    .filter((l) => !BUILTIN.test(l))
    .join('\n');

const tcp80 = (nodePort?: number) => [
  { name: 'p80', protocol: 'TCP' as const, port: 80, ...(nodePort ? { nodePort } : {}) },
];
const ep = (ip: string, node?: string) => ({ ip, ports: { p80: 80 }, ...(node ? { node } : {}) });

/** kube-proxy's TestOverallIPTablesRules, as input data for this generator. */
const overall: KubeProxyInput = {
  nodeName: 'test-node',
  nodeIPs: ['192.168.0.2'],
  localDetector: { mode: 'ClusterCIDR', cidrs: ['10.0.0.0/8'] },
  nfacct: true,
  services: [
    { namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: tcp80(), endpoints: [ep('10.180.0.1')] },
    {
      namespace: 'ns2',
      name: 'svc2',
      clusterIP: '172.30.0.42',
      ports: tcp80(3001),
      externalTrafficPolicy: 'Local',
      loadBalancerIPs: ['1.2.3.4'],
      externalIPs: ['192.168.99.22'],
      healthCheckNodePort: 30000,
      endpoints: [ep('10.180.0.2')],
    },
    { namespace: 'ns3', name: 'svc3', clusterIP: '172.30.0.43', ports: tcp80(3003), endpoints: [ep('10.180.0.3')] },
    {
      namespace: 'ns4',
      name: 'svc4',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      ports: tcp80(),
      endpoints: [ep('10.180.0.4'), ep('10.180.0.5', 'test-node')],
    },
    {
      namespace: 'ns5',
      name: 'svc5',
      clusterIP: '172.30.0.45',
      ports: tcp80(3002),
      externalTrafficPolicy: 'Cluster',
      loadBalancerIPs: ['5.6.7.8'],
      healthCheckNodePort: 30000,
      loadBalancerSourceRanges: [' 203.0.113.0/25'],
      sessionAffinity: 'ClientIP',
      sessionAffinityTimeoutSeconds: 10800,
      endpoints: [ep('10.180.0.3')],
    },
    { namespace: 'ns6', name: 'svc6', clusterIP: '172.30.0.46', ports: tcp80(), endpoints: [] },
  ],
};

const overallExpected = `*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
-A KUBE-NODEPORTS -m comment --comment "ns5/svc5:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
:KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
:KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
:KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
:KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
:KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
:KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3002 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
COMMIT
`;

describe('kubeproxy/generate', () => {
  it("matches kube-proxy's TestOverallIPTablesRules output (without built-in chains)", () => {
    assert.equal(withoutBuiltins(generateKubeProxyRules(overall)), overallExpected);
  });

  it('writes the jump rules from the built-in chains', () => {
    const text = generateKubeProxyRules(overall);
    const builtinLines = text.split('\n').filter((l) => l.startsWith('-A ') && BUILTIN.test(l));
    assert.deepEqual(builtinLines, [
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A INPUT -j KUBE-FIREWALL',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -j KUBE-FIREWALL',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    ]);
  });

  const variants: [name: string, input: KubeProxyInput][] = [
    ['the overall case', overall],
    [
      'IPv6 with an unnamed port, masqueradeAll and random-fully',
      {
        nodeName: 'n1',
        family: 6,
        nodeIPs: ['fd00::2', '192.168.0.2'],
        localDetector: { mode: 'NodeCIDR', cidrs: ['10.244.0.0/24', 'fd00:244::/64'] },
        masqueradeAll: true,
        masqueradeRandomFully: true,
        services: [
          {
            namespace: 'ns',
            name: 'v6',
            clusterIP: 'fd00:96::10',
            ports: [{ name: '', protocol: 'UDP', port: 53, nodePort: 30053 }],
            externalIPs: ['fd00:1::1', '1.2.3.4'],
            endpoints: [
              { ip: 'fd00:244::5', ports: { '': 5353 }, node: 'n1' },
              { ip: '10.244.0.5', ports: { '': 5353 } },
            ],
          },
        ],
      },
    ],
    [
      'nodePortAddresses, no localhost NodePorts, iTP Local, bridge detector, terminating endpoints',
      {
        nodeName: 'n1',
        nodeIPs: ['192.168.0.2', '10.1.0.2'],
        localDetector: { mode: 'BridgeInterface', interface: 'cni0' },
        nodePortAddresses: ['192.168.0.0/24', '127.0.0.0/8'],
        localhostNodePorts: false,
        conntrackTCPLiberal: true,
        services: [
          {
            namespace: 'a',
            name: 'itp',
            clusterIP: '10.96.0.5',
            internalTrafficPolicy: 'Local',
            ports: tcp80(),
            endpoints: [ep('10.244.1.5', 'n2')],
          },
          {
            namespace: 'a',
            name: 'term',
            clusterIP: '10.96.0.6',
            externalTrafficPolicy: 'Local',
            ports: tcp80(30080),
            loadBalancerIPs: ['203.0.113.9'],
            loadBalancerSourceRanges: ['192.168.0.0/16'],
            endpoints: [
              {
                ip: '10.244.0.7',
                ports: { p80: 8080 },
                node: 'n1',
                ready: false,
                serving: true,
                terminating: true,
              },
              ep('10.244.1.8', 'n2'),
            ],
          },
          { namespace: 'a', name: 'headless', clusterIP: 'None', ports: tcp80(), endpoints: [ep('10.244.1.9')] },
        ],
      },
    ],
  ];
  for (const [name, input] of variants) {
    it(`generated text parses with zero problems: ${name}`, () => {
      const text = generateKubeProxyRules(input);
      const r = parseIptablesSave(text, 'gen', 0);
      assert.deepEqual(r.problems, []);
      const rules = Object.values(r.ruleset.tables).flatMap((t) => t!.chains.flatMap((c) => c.rules));
      assert.ok(rules.length > 10);
      assert.ok(rules.every((x) => x.unsupported.length === 0));
    });
  }

  it("endpoints the caller sorted by family (endpointsFamily) give the generator's own sort's text", () => {
    for (const [name, input] of variants)
      for (const family of [4, 6] as const) {
        const sorted = input.services.map((s): ServiceInput => ({
          ...s,
          endpoints: s.endpoints.filter((e) => addressFamily(e.ip) === family),
          endpointsFamily: family,
        }));
        assert.equal(
          generateKubeProxyRules({ ...input, family, services: sorted }),
          generateKubeProxyRules({ ...input, family }),
          `${name}, IPv${family}`,
        );
        // Endpoints all of the other family: none is this family's.
        const other = family === 4 ? 6 : 4;
        const others = input.services.map((s): ServiceInput => ({
          ...s,
          endpoints: s.endpoints.filter((e) => addressFamily(e.ip) === other),
          endpointsFamily: other,
        }));
        assert.equal(
          generateKubeProxyRules({ ...input, family, services: others }),
          generateKubeProxyRules({ ...input, family, services: input.services.map((s) => ({ ...s, endpoints: [] })) }),
          `${name}, IPv${family}, endpoints of IPv${other}`,
        );
      }
  });

  it('IPv6: one family only, bracketed endpoints, ::1 excluded from NodePorts', () => {
    const text = generateKubeProxyRules(variants[1][1]);
    assert.match(text, /-j DNAT --to-destination \[fd00:244::5\]:5353/);
    assert.doesNotMatch(text, /10\.244\.0\.5|1\.2\.3\.4/);
    assert.match(text, /-m addrtype --dst-type LOCAL ! -d ::1\/128 -j KUBE-NODEPORTS/);
    assert.match(text, /-j MASQUERADE --random-fully/);
    assert.match(
      text,
      /-m comment --comment "ns\/v6 cluster IP" -m udp -p udp -d fd00:96::10 --dport 53 -j KUBE-MARK-MASQ/,
    );
    assert.doesNotMatch(text, /KUBE-FIREWALL -m comment/);
  });

  it('nodePortAddresses: one KUBE-NODEPORTS jump per matching node IP, loopback dropped without localhost NodePorts', () => {
    const text = generateKubeProxyRules(variants[2][1]);
    const jumps = text.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES') && l.endsWith('-j KUBE-NODEPORTS'));
    assert.deepEqual(jumps, [
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.0.2 -j KUBE-NODEPORTS',
    ]);
    assert.doesNotMatch(text, /--ctstate INVALID/);
  });

  it('internalTrafficPolicy Local without local endpoints: DROP for the cluster IP, no SVC chain', () => {
    const text = generateKubeProxyRules(variants[2][1]);
    assert.match(
      text,
      /-A KUBE-SERVICES -m comment --comment "a\/itp:p80 has no local endpoints" -m tcp -p tcp -d 10\.96\.0\.5 --dport 80 -j DROP/,
    );
    assert.doesNotMatch(text, /a\/itp:p80 cluster IP/);
  });

  it('serving-terminating local endpoints are used for eTP Local, merged into the reachable set', () => {
    const text = generateKubeProxyRules(variants[2][1]);
    assert.match(text, /-A KUBE-SVL-\w+ -m comment --comment "a\/term:p80 -> 10\.244\.0\.7:8080" -j KUBE-SEP-/);
    assert.match(text, /-A KUBE-SVC-\w+ -m comment --comment "a\/term:p80 -> 10\.244\.1\.8:80" -j KUBE-SEP-/);
    assert.match(text, /--to-destination 10\.244\.0\.7:8080/);
    assert.match(
      text,
      /-A KUBE-EXT-\w+ -m comment --comment "pod traffic for a\/term:p80 external destinations" -i cni0 -j KUBE-SVC-/,
    );
    // The node IP is inside the source range: LB-IP sourced traffic is let through.
    assert.match(
      text,
      /-A KUBE-FW-\w+ -m comment --comment "a\/term:p80 loadbalancer IP" -s 203\.0\.113\.9 -j KUBE-EXT-/,
    );
  });

  it('probabilities are 1/(n-i) printed with 10 decimals, the last endpoint unconditional', () => {
    const svc: ServiceInput = {
      namespace: 'ns',
      name: 's',
      clusterIP: '10.96.0.1',
      ports: tcp80(),
      endpoints: [1, 2, 3, 4].map((i) => ep(`10.244.0.${i}`)),
    };
    const text = generateKubeProxyRules({
      nodeName: 'n',
      nodeIPs: [],
      localDetector: { mode: 'None' },
      services: [svc],
    });
    const lines = text.split('\n').filter((l) => l.startsWith('-A KUBE-SVC-'));
    assert.deepEqual(
      lines.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'none'),
      ['0.2500000000', '0.3333333333', '0.5000000000', 'none'],
    );
  });

  it('large clusters (over 1000 endpoints) drop the per-endpoint comments', () => {
    const eps = Array.from({ length: 1001 }, (_, i) => ep(`10.${(i >> 8) & 255}.${i & 255}.1`));
    const text = generateKubeProxyRules({
      nodeName: 'n',
      nodeIPs: [],
      localDetector: { mode: 'None' },
      services: [{ namespace: 'ns', name: 'big', clusterIP: '10.96.0.1', ports: tcp80(), endpoints: eps }],
    });
    assert.doesNotMatch(text, /-A KUBE-SEP-\w+ -m comment/);
    assert.match(text, /-A KUBE-SERVICES -m comment --comment "ns\/big:p80 cluster IP"/);
  });
});
