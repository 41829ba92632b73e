/**
 * Load-balancer ipMode in both kube-proxy modes: TestLoadBalancerIngressRouteTypeProxy of
 * kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go (and its iptables twin in pkg/proxy/iptables), the cases
 * with the LoadBalancerIPMode gate on (GA and locked on since Kubernetes 1.32; the gate-off cases are of older
 * clusters, not modelled). Its Service ns1/svc1: type LoadBalancer, port p80 80/TCP, nodePort 3001, one endpoint
 * 10.180.0.1:80, one ingress entry with the case's IP and ipMode; the assertion is whether a rule for the ingress
 * IP exists: the `service-ips` element `<ip> . tcp . 80` (nftables), a KUBE-SERVICES rule with `-d <ip>` (iptables).
 * NetPath also checks the stronger fact behind it: kube-proxy's Service tracker drops a Proxy IP before either mode
 * sees it (`proxyutil.IsVIPMode`), so the rules are those of the same Service without that IP.
 */
import assert from 'node:assert/strict';
import {
  generateKubeProxyNftables,
  generateKubeProxyRules,
  renderNftTransaction,
  type KubeProxyInput,
  type KubeProxyNftInput,
  type ServiceInput,
} from '../../../src/core/kubeproxy';

interface Case {
  readonly name: string;
  readonly svcIP: string;
  readonly svcLBIP: string;
  readonly ipMode: 'VIP' | 'Proxy' | undefined;
  readonly expectedRule: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'LoadBalancerIPMode enabled, ipMode Proxy',
    svcIP: '10.20.30.41',
    svcLBIP: '1.2.3.4',
    ipMode: 'Proxy',
    expectedRule: false,
  },
  {
    name: 'LoadBalancerIPMode enabled, ipMode VIP',
    svcIP: '10.20.30.42',
    svcLBIP: '1.2.3.5',
    ipMode: 'VIP',
    expectedRule: true,
  },
  {
    name: 'LoadBalancerIPMode enabled, ipMode nil',
    svcIP: '10.20.30.43',
    svcLBIP: '1.2.3.6',
    ipMode: undefined,
    expectedRule: true,
  },
];

const svc1 = (c: Case, withIngress = true): ServiceInput => ({
  namespace: 'ns1',
  name: 'svc1',
  clusterIP: c.svcIP,
  ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }],
  ...(withIngress ? { loadBalancerIPs: [c.svcLBIP], loadBalancerIPModes: c.ipMode ? [c.ipMode] : [] } : {}),
  endpoints: [{ ip: '10.180.0.1', ports: { p80: 80 } }],
});

/** NewFakeProxier's node (IPv4) in iptables mode. */
const iptablesInput = (services: readonly ServiceInput[]): KubeProxyInput => ({
  nodeName: 'test-node',
  nodeIPs: ['192.168.0.2'],
  localDetector: { mode: 'ClusterCIDR', cidrs: ['10.0.0.0/8'] },
  services,
});

/** NewFakeProxier's node (IPv4) in nftables mode. */
const nftInput = (services: readonly ServiceInput[]): KubeProxyNftInput => ({
  nodeName: 'test-node',
  nodeIPs: ['192.168.0.2'],
  localDetector: { mode: 'ClusterCIDR', cidrs: ['10.0.0.0/8'] },
  nodePortAddresses: ['192.168.0.2/32'],
  serviceCIDRs: ['172.30.0.0/16'],
  masqueradeMark: '0x4000',
  services,
});

const nftText = (services: readonly ServiceInput[]): string =>
  renderNftTransaction(generateKubeProxyNftables(nftInput(services))).join('\n');

describe('kube-proxy load-balancer ipMode: TestLoadBalancerIngressRouteTypeProxy', () => {
  describe('nftables mode (pkg/proxy/nftables/proxier_test.go)', () => {
    for (const c of CASES)
      it(c.name, () => {
        const text = nftText([svc1(c)]);
        const element = new RegExp(
          `^add element ip kube-proxy service-ips \\{ ${c.svcLBIP.replace(/\./g, '\\.')} \\. tcp \\. 80 : `,
          'm',
        );
        assert.equal(element.test(text), c.expectedRule, text);
        if (!c.expectedRule) assert.equal(text, nftText([svc1(c, false)]), 'the rules of svc1 without the ingress IP');
      });
  });

  describe('iptables mode (pkg/proxy/iptables/proxier_test.go)', () => {
    for (const c of CASES)
      it(c.name, () => {
        const text = generateKubeProxyRules(iptablesInput([svc1(c)]));
        const inKubeServices = text
          .split('\n')
          .some((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes(` -d ${c.svcLBIP} `));
        assert.equal(inKubeServices, c.expectedRule, text);
        if (!c.expectedRule)
          assert.equal(text, generateKubeProxyRules(iptablesInput([svc1(c, false)])), 'svc1 without the ingress IP');
      });
  });
});
