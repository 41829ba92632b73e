/**
 * Parity with Kubernetes' own validation, one row per rule. A row named after an upstream test case mirrors it
 * (kubernetes/kubernetes pkg/apis/core/validation/validation_test.go: TestValidateService,
 * TestValidateServiceExternalTrafficFieldsCombination, TestValidateServiceUpdate;
 * pkg/proxy/apis/config/validation/validation_test.go: TestValidateKubeProxyNodePortAddress); a row marked
 * "(NetPath case)" names the upstream validation function it exercises instead. Each checks the same verdict as
 * upstream: which values are refused, and the text each error sits on.
 */
import assert from 'node:assert/strict';
import { analyseYaml, spanText } from './helpers';

/** TestValidateService's makeValidService, as YAML: one TCP port named p, 8675 -> 8675, selector key=val. */
function service(spec: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: valid, namespace: valid}
spec:
  selector: {key: val}
  sessionAffinity: None
${spec
  .split('\n')
  .filter((l) => l)
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}
const PORT = 'ports: [{name: p, protocol: TCP, port: 8675, targetPort: 8675}]';

interface Row {
  readonly upstream: string;
  readonly yaml: string;
  /** The text each k8s.service-invalid / k8s.config-invalid error sits on, in order. */
  readonly at: readonly string[];
  readonly code?: string;
}

function check(rows: readonly Row[], defaultCode: string): void {
  for (const row of rows) {
    it(row.upstream, () => {
      const a = analyseYaml({ '/t/objects.yaml': row.yaml });
      const code = row.code ?? defaultCode;
      const found = a.diagnostics.filter((d) => d.code === code);
      assert.deepEqual(
        found.map((d) => spanText(a, d.span)),
        row.at,
        found.map((d) => d.message).join('\n'),
      );
      for (const d of found) assert.equal(d.severity, 'error');
    });
  }
}

describe('validation: Services as the API server checks them (TestValidateService)', () => {
  check(
    [
      { upstream: 'valid 1', yaml: service(PORT), at: [] },
      { upstream: 'empty port[0] name (one port needs no name)', yaml: service('ports: [{port: 8675}]'), at: [] },
      {
        upstream: 'empty port[1] name',
        yaml: service('ports: [{name: p, port: 8675}, {port: 12345}]'),
        at: ['12345'],
      },
      {
        upstream: 'empty multi-port port[0] name',
        yaml: service('ports: [{port: 8675}, {name: p, port: 12345}]'),
        at: ['8675'],
      },
      { upstream: 'invalid port name', yaml: service('ports: [{name: INVALID, port: 8675}]'), at: ['INVALID'] },
      {
        upstream: 'invalid protocol',
        yaml: service('ports: [{name: p, protocol: INVALID, port: 8675}]'),
        at: ['INVALID'],
      },
      { upstream: 'missing port', yaml: service('ports: [{name: p, port: 0}]'), at: ['0'] },
      { upstream: 'invalid port', yaml: service('ports: [{name: p, port: 65536}]'), at: ['65536'] },
      {
        upstream: 'invalid TargetPort int',
        yaml: service('ports: [{name: p, port: 8675, targetPort: 65536}]'),
        at: ['65536'],
      },
      {
        upstream: 'valid 3 (a named targetPort)',
        yaml: service('ports: [{name: p, port: 8675, targetPort: http}]'),
        at: [],
      },
      {
        upstream: 'ValidatePortNumOrName: a quoted number is a name, and names need a letter',
        yaml: service('ports: [{name: p, port: 8675, targetPort: "8080"}]'),
        at: ['"8080"'],
      },
      {
        upstream: 'ValidatePortNumOrName: a port name longer than 15 characters',
        yaml: service('ports: [{name: p, port: 8675, targetPort: a-very-long-port-name}]'),
        at: ['a-very-long-port-name'],
      },
      {
        upstream: 'dup port name',
        yaml: service('ports: [{name: p, port: 8675}, {name: p, port: 12345}]'),
        at: ['p'],
      },
      {
        upstream: 'ValidateService: duplicate port and protocol',
        yaml: service('ports: [{name: a, port: 80}, {name: b, port: 80, targetPort: 8080}]'),
        at: ['80'],
      },
      {
        upstream: 'valid load balancer protocol UDP 2 (the same port, another protocol)',
        yaml: service('type: LoadBalancer\nports: [{name: a, port: 53}, {name: b, port: 53, protocol: UDP}]'),
        at: [],
      },
      {
        upstream: 'invalid publicIPs localhost',
        yaml: service(`${PORT}\nexternalIPs: [127.0.0.1]`),
        at: ['127.0.0.1'],
      },
      { upstream: 'invalid publicIPs (0.0.0.0)', yaml: service(`${PORT}\nexternalIPs: [0.0.0.0]`), at: ['0.0.0.0'] },
      {
        upstream: 'ValidateNonSpecialIP: link-local external IP',
        yaml: service(`${PORT}\nexternalIPs: [169.254.169.254, "fe80::1"]`),
        at: ['169.254.169.254', '"fe80::1"'],
      },
      {
        upstream: 'ValidateNonSpecialIP: link-local multicast external IP',
        yaml: service(`${PORT}\nexternalIPs: [224.0.0.1]`),
        at: ['224.0.0.1'],
      },
      { upstream: 'valid publicIPs', yaml: service(`${PORT}\nexternalIPs: [192.0.2.10]`), at: [] },
      {
        upstream: 'LoadBalancer type cannot have None ClusterIP',
        yaml: service(`${PORT}\ntype: LoadBalancer\nclusterIP: None`),
        at: ['None'],
      },
      {
        upstream: 'invalid node port with clusterIP None',
        yaml: service(`type: NodePort\nclusterIP: None\n${PORT}`),
        at: ['None'],
      },
      { upstream: 'valid cluster ip - none', yaml: service(`${PORT}\nclusterIP: None`), at: [] },
      { upstream: 'valid cluster ip - empty', yaml: service(`${PORT}\nclusterIP: ""`), at: [] },
      {
        upstream: 'invalid externalTraffic field',
        yaml: service(`${PORT}\ntype: LoadBalancer\nexternalTrafficPolicy: invalid`),
        at: ['invalid'],
      },
      {
        upstream:
          'TestValidateServiceExternalTrafficFieldsCombination: cannot set externalTrafficPolicy ... on clusterIP service',
        yaml: service(`${PORT}\ntype: ClusterIP\nexternalTrafficPolicy: Local`),
        at: ['Local'],
      },
      {
        upstream:
          'TestValidateServiceExternalTrafficFieldsCombination: valid nodePort service with externalTrafficPolicy set',
        yaml: service(`${PORT}\ntype: NodePort\nexternalTrafficPolicy: Local`),
        at: [],
      },
      {
        upstream: 'ValidateService: loadBalancerSourceRanges only with type LoadBalancer',
        yaml: service(`${PORT}\ntype: NodePort\nloadBalancerSourceRanges: [10.0.0.0/8]`),
        at: ['[10.0.0.0/8]'],
      },
      {
        upstream: 'TestValidateServiceUpdate: add loadBalancerSourceRanges (on a LoadBalancer)',
        yaml: service(`${PORT}\ntype: LoadBalancer\nloadBalancerSourceRanges: [10.0.0.0/8]`),
        at: [],
      },
      {
        upstream: 'ValidateService: nodePort may not be used when type is ClusterIP',
        yaml: service('ports: [{name: p, port: 80, nodePort: 30080}]'),
        at: ['30080'],
      },
      {
        upstream: 'invalid timeoutSeconds field',
        yaml: service(
          `${PORT}\nsessionAffinity: ClientIP\nsessionAffinityConfig: {clientIP: {timeoutSeconds: -1}}`,
        ).replace('  sessionAffinity: None\n', ''),
        at: ['-1'],
      },
      {
        upstream: 'validateClientIPAffinityConfig: timeoutSeconds above MaxClientIPServiceAffinitySeconds',
        yaml: service(
          `${PORT}\nsessionAffinity: ClientIP\nsessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}`,
        ).replace('  sessionAffinity: None\n', ''),
        at: ['86401'],
      },
      {
        upstream: "sessionAffinityConfig can't be set when session affinity is None",
        yaml: service(`${PORT}\ntype: LoadBalancer\nsessionAffinityConfig: {clientIP: {timeoutSeconds: 90}}`),
        at: ['{clientIP: {timeoutSeconds: 90}}'],
      },
      {
        upstream: 'validateServiceClusterIPsRelatedFields (NetPath case): SingleStack with two cluster IPs',
        yaml: service(`${PORT}\nipFamilyPolicy: SingleStack\nclusterIPs: [10.96.0.10, "fd00:10:96::a"]`),
        at: ['"fd00:10:96::a"'],
      },
      {
        upstream: 'validateServiceClusterIPsRelatedFields (NetPath case): two cluster IPs of one family',
        yaml: service(`${PORT}\nipFamilyPolicy: RequireDualStack\nclusterIPs: [10.96.0.10, 10.96.0.11]`),
        at: ['10.96.0.11'],
      },
      {
        upstream: 'validateServiceClusterIPsRelatedFields (NetPath case): ipFamilies[0] does not match clusterIPs[0]',
        yaml: service(`${PORT}\nipFamilies: [IPv6]\nclusterIP: 10.96.0.10\nclusterIPs: [10.96.0.10]`),
        at: ['10.96.0.10'],
      },
      {
        upstream: 'validateServiceClusterIPsRelatedFields (NetPath case): duplicate ipFamilies',
        yaml: service(`${PORT}\nipFamilyPolicy: PreferDualStack\nipFamilies: [IPv4, IPv4]`),
        at: ['IPv4'],
      },
      {
        upstream: 'validateServiceClusterIPsRelatedFields (NetPath case): clusterIPs[0] differs from clusterIP',
        yaml: service(`${PORT}\nclusterIP: 10.96.0.10\nclusterIPs: [10.96.0.11]`),
        at: ['10.96.0.11'],
      },
      {
        upstream: 'TestValidateLoadBalancerStatus: valid vip ipMode',
        yaml: `${service(`${PORT}\ntype: LoadBalancer`)}status: {loadBalancer: {ingress: [{ip: 1.2.3.4, ipMode: VIP}]}}\n`,
        at: [],
      },
      {
        upstream: 'TestValidateLoadBalancerStatus: valid proxy ipMode',
        yaml: `${service(`${PORT}\ntype: LoadBalancer`)}status: {loadBalancer: {ingress: [{ip: 1.2.3.4, ipMode: Proxy}]}}\n`,
        at: [],
      },
      {
        upstream: 'TestValidateLoadBalancerStatus: invalid ipMode',
        yaml: `${service(`${PORT}\ntype: LoadBalancer`)}status: {loadBalancer: {ingress: [{ip: 1.2.3.4, ipMode: dummy}]}}\n`,
        at: ['dummy'],
      },
      {
        upstream: 'TestValidateLoadBalancerStatus: missing ip with ipMode present',
        yaml: `${service(`${PORT}\ntype: LoadBalancer`)}status: {loadBalancer: {ingress: [{ipMode: Proxy}]}}\n`,
        at: ['Proxy'],
      },
      {
        upstream: 'validateServiceClusterIPsRelatedFields (NetPath case): a valid dual-stack pair',
        yaml: service(
          `${PORT}\nipFamilyPolicy: RequireDualStack\nipFamilies: [IPv4, IPv6]\nclusterIP: 10.96.0.10\nclusterIPs: [10.96.0.10, "fd00:10:96::a"]`,
        ),
        at: [],
      },
    ],
    'k8s.service-invalid',
  );
});

const KUBE_PROXY = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

describe('validation: KubeProxyConfiguration (pkg/proxy/apis/config/validation)', () => {
  check(
    [
      {
        upstream: 'TestValidateKubeProxyNodePortAddress: primary',
        yaml: `${KUBE_PROXY}nodePortAddresses: [primary]\n`,
        at: [],
      },
      {
        upstream: 'TestValidateKubeProxyNodePortAddress: invalid primary/CIDR mix 1',
        yaml: `${KUBE_PROXY}nodePortAddresses: [primary, 127.0.0.1/32]\n`,
        at: ['primary'],
      },
      {
        upstream: 'TestValidateKubeProxyNodePortAddress: invalid primary/CIDR mix 2',
        yaml: `${KUBE_PROXY}nodePortAddresses: [127.0.0.1/32, primary]\n`,
        at: ['primary'],
      },
      {
        upstream: 'TestValidateKubeProxyNodePortAddress: address missing subnet range (cidr.invalid)',
        yaml: `${KUBE_PROXY}nodePortAddresses: [127.0.0.1/32, 10.20.30.40]\n`,
        at: ['10.20.30.40'],
        code: 'cidr.invalid',
      },
      {
        upstream: 'validateKubeProxyIPTablesConfiguration: MasqueradeBit must be within the range [0, 31]',
        yaml: `${KUBE_PROXY}iptables: {masqueradeBit: -1}\n`,
        at: ['-1'],
      },
      {
        upstream: 'validateKubeProxyIPTablesConfiguration: masqueradeBit 31',
        yaml: `${KUBE_PROXY}iptables: {masqueradeBit: 31}\n`,
        at: [],
      },
      {
        upstream: 'validateDetectLocalConfiguration (NetPath case): an unknown detectLocalMode',
        yaml: `${KUBE_PROXY}detectLocalMode: Guess\n`,
        at: ['Guess'],
      },
      {
        upstream:
          'validateDetectLocalConfiguration (NetPath case): BridgeInterface without detectLocal.bridgeInterface',
        yaml: `${KUBE_PROXY}detectLocalMode: BridgeInterface\n`,
        at: ['BridgeInterface'],
      },
      {
        upstream: 'validateDetectLocalConfiguration (NetPath case): BridgeInterface with detectLocal.bridgeInterface',
        yaml: `${KUBE_PROXY}detectLocalMode: BridgeInterface\ndetectLocal: {bridgeInterface: cni0}\n`,
        at: [],
      },
      {
        upstream: 'Validate, ClusterCIDR (NetPath case): with two IPv4 ranges',
        yaml: `${KUBE_PROXY}clusterCIDR: "10.244.0.0/16,10.245.0.0/16"\n`,
        at: ['"10.244.0.0/16,10.245.0.0/16"'],
      },
      {
        upstream: 'Validate, ClusterCIDR (NetPath case): a valid dual-stack pair',
        yaml: `${KUBE_PROXY}clusterCIDR: "10.244.0.0/16,fd00:10:244::/56"\n`,
        at: [],
      },
      {
        upstream: 'validateProxyModeLinux: an unknown mode',
        yaml: `${KUBE_PROXY}mode: userspace\n`,
        at: ['userspace'],
      },
    ],
    'k8s.config-invalid',
  );
});

const KUBEADM = 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n';

describe('validation: kubeadm ClusterConfiguration (ValidateNetworking)', () => {
  check(
    [
      {
        upstream: 'ValidatePodSubnetNodeMask (NetPath case): pod subnet /24 with the default node mask /24',
        yaml: `${KUBEADM}networking: {podSubnet: 10.0.0.0/24}\n`,
        at: [],
      },
      {
        upstream: 'ValidatePodSubnetNodeMask (NetPath case): pod subnet smaller than the node mask',
        yaml: `${KUBEADM}networking: {podSubnet: 10.0.0.0/25}\n`,
        at: ['10.0.0.0/25'],
      },
      {
        upstream:
          'ValidatePodSubnetNodeMask (NetPath case): node-cidr-mask-size-ipv4 larger than the subnet allows (difference > 16)',
        yaml: `${KUBEADM}networking: {podSubnet: 10.0.0.0/8}\ncontrollerManager: {extraArgs: {node-cidr-mask-size-ipv4: "26"}}\n`,
        at: ['"26"'],
      },
      {
        upstream: 'ValidatePodSubnetNodeMask (NetPath case): IPv6 pod subnet /48 with the default node mask /64',
        yaml: `${KUBEADM}networking: {podSubnet: "fd00:1::/48"}\n`,
        at: [],
      },
      {
        upstream: 'ValidatePodSubnetNodeMask (NetPath case): IPv6 pod subnet /112 is smaller than the /64 node mask',
        yaml: `${KUBEADM}networking: {podSubnet: "fd00:1::/112"}\n`,
        at: ['"fd00:1::/112"'],
      },
      {
        upstream: 'ValidateNetworking: allocate-node-cidrs false skips the node mask check',
        yaml: `${KUBEADM}networking: {podSubnet: 10.0.0.0/25}\ncontrollerManager: {extraArgs: {allocate-node-cidrs: "false"}}\n`,
        at: [],
      },
      {
        upstream: 'ValidateIPNetFromString (NetPath case): two IPv4 subnets are not dual-stack',
        yaml: `${KUBEADM}networking: {serviceSubnet: "10.96.0.0/16,10.97.0.0/16"}\n`,
        at: ['"10.96.0.0/16,10.97.0.0/16"'],
      },
    ],
    'k8s.config-invalid',
  );
});

const KIND = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n';

describe("validation: kind's Cluster (pkg/internal/apis/config/validate.go)", () => {
  check(
    [
      {
        upstream: 'validate.go (NetPath case): Defaulted (ipv4)',
        yaml: `${KIND}networking: {ipFamily: ipv4}\n`,
        at: [],
      },
      {
        upstream: 'validate.go (NetPath case): bogus ipFamily',
        yaml: `${KIND}networking: {ipFamily: ipv5}\n`,
        at: ['ipv5'],
      },
      {
        upstream: 'validate.go (NetPath case): bad podSubnet family (ipv6 cluster, IPv4 subnet)',
        yaml: `${KIND}networking: {ipFamily: ipv6, podSubnet: 10.244.0.0/16}\n`,
        at: ['10.244.0.0/16'],
      },
      {
        upstream: 'validate.go (NetPath case): dual-stack podSubnet',
        yaml: `${KIND}networking: {ipFamily: dual, podSubnet: "10.244.0.0/16,fd00:10:244::/56"}\n`,
        at: [],
      },
      {
        upstream: 'validate.go (NetPath case): single-stack with two subnets',
        yaml: `${KIND}networking: {serviceSubnet: "10.96.0.0/16,fd00:10:96::/112"}\n`,
        at: ['"10.96.0.0/16,fd00:10:96::/112"'],
      },
      {
        upstream: 'validate.go (NetPath case): invalid kubeProxyMode',
        yaml: `${KIND}networking: {kubeProxyMode: bogus}\n`,
        at: ['bogus'],
      },
    ],
    'k8s.config-invalid',
  );

  it("kind's defaults follow ipFamily (default.go)", () => {
    const ranges = (family: string) =>
      analyseYaml({ '/t/kind.yaml': `${KIND}networking: {ipFamily: ${family}}\n` }).topology.cluster;
    assert.deepEqual(ranges('ipv4').podCIDRs, ['10.244.0.0/16']);
    assert.deepEqual(ranges('ipv4').serviceCIDRs, ['10.96.0.0/16']);
    assert.deepEqual(ranges('ipv6').podCIDRs, ['fd00:10:244::/56']);
    assert.deepEqual(ranges('ipv6').serviceCIDRs, ['fd00:10:96::/112']);
    assert.deepEqual(ranges('dual').serviceCIDRs, ['10.96.0.0/16', 'fd00:10:96::/112']);
    assert.equal(ranges('ipv6').assumed.serviceCIDRs, false);
  });
});

/** A Pod with one container whose ports are the given flow-style list. */
function podWithPorts(ports: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers:\n    - name: c\n      image: app:1\n      ports: ${ports}\n`;
}

describe('validation: container ports as the API server checks them (TestValidatePorts)', () => {
  check(
    [
      {
        upstream: 'successCase (NetPath case: its five ports as one list)',
        yaml: podWithPorts(
          '[{name: abc, containerPort: 80, hostPort: 80, protocol: TCP}, {name: easy, containerPort: 82, protocol: TCP}, {name: as, containerPort: 83, protocol: UDP}, {name: do-re-me, containerPort: 84, protocol: UDP}, {containerPort: 85, protocol: TCP}]',
        ),
        at: [],
      },
      { upstream: 'nonCanonicalCase', yaml: podWithPorts('[{containerPort: 80, protocol: TCP}]'), at: [] },
      {
        upstream: 'name not unique',
        yaml: podWithPorts(
          '[{name: abc, containerPort: 80, protocol: TCP}, {name: abc, containerPort: 81, protocol: TCP}]',
        ),
        at: ['abc'],
      },
      { upstream: 'zero container port', yaml: podWithPorts('[{containerPort: 0, protocol: TCP}]'), at: ['0'] },
      {
        upstream: 'invalid container port',
        yaml: podWithPorts('[{containerPort: 65536, protocol: TCP}]'),
        at: ['65536'],
      },
      {
        upstream: 'invalid host port',
        yaml: podWithPorts('[{containerPort: 80, hostPort: 65536, protocol: TCP}]'),
        at: ['65536'],
      },
      { upstream: 'invalid protocol case', yaml: podWithPorts('[{containerPort: 80, protocol: tcp}]'), at: ['tcp'] },
      { upstream: 'invalid protocol', yaml: podWithPorts('[{containerPort: 80, protocol: ICMP}]'), at: ['ICMP'] },
      {
        upstream: 'protocol required (NetPath case: a manifest without protocol is defaulted to TCP before validation)',
        yaml: podWithPorts('[{name: abc, containerPort: 80}]'),
        at: [],
      },
      {
        upstream: 'validateContainerPorts (NetPath case): containerPort missing',
        yaml: podWithPorts('[{name: abc, protocol: TCP}]'),
        at: ['{name: abc, protocol: TCP}'],
      },
      {
        upstream: 'validateContainerPorts (NetPath case): a Deployment template is validated like a Pod',
        yaml: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, ports: [{containerPort: 99999}]}]\n`,
        at: ['99999'],
      },
    ],
    'k8s.pod-invalid',
  );

  check(
    [
      {
        upstream: 'name > 15 characters',
        yaml: podWithPorts(`[{name: ${'a'.repeat(16)}, containerPort: 80}]`),
        at: ['a'.repeat(16)],
      },
      {
        upstream: 'name contains invalid characters',
        yaml: podWithPorts('[{name: a.b.c, containerPort: 80}]'),
        at: ['a.b.c'],
      },
      { upstream: 'name is a number', yaml: podWithPorts('[{name: "80", containerPort: 80}]'), at: ['"80"'] },
    ],
    'name.invalid',
  );
});

describe('validation: kubeadm subnet sizes and node-port range (ValidateNetworking, kube-apiserver flags)', () => {
  check(
    [
      {
        upstream: 'ValidateIPNetFromString (NetPath case): service subnet /28 holds 16 addresses, at least 10',
        yaml: `${KUBEADM}networking: {serviceSubnet: 10.96.0.0/28}\n`,
        at: [],
      },
      {
        upstream: 'ValidateIPNetFromString (NetPath case): service subnet /29 holds 8 addresses, below 10',
        yaml: `${KUBEADM}networking: {serviceSubnet: 10.96.0.0/29}\n`,
        at: ['10.96.0.0/29'],
      },
      {
        upstream: 'ValidateIPNetFromString (NetPath case): IPv6 service subnet /125 holds 8 addresses, below 10',
        yaml: `${KUBEADM}networking: {serviceSubnet: "10.96.0.0/16,fd00::/125"}\n`,
        at: ['"10.96.0.0/16,fd00::/125"'],
      },
      {
        upstream:
          'ValidateIPNetFromString (NetPath case): pod subnet /29 holds 8 addresses, below 14 (and below the node mask)',
        yaml: `${KUBEADM}networking: {podSubnet: 10.244.0.0/29}\ncontrollerManager: {extraArgs: {allocate-node-cidrs: "false"}}\n`,
        at: ['10.244.0.0/29'],
      },
      {
        upstream: 'kube-apiserver --service-node-port-range (NetPath case): v1beta3 map form, valid',
        yaml: `${KUBEADM}apiServer: {extraArgs: {service-node-port-range: "20000-22767"}}\n`,
        at: [],
      },
      {
        upstream: 'kube-apiserver --service-node-port-range (NetPath case): not a range',
        yaml: `${KUBEADM}apiServer: {extraArgs: {service-node-port-range: "high"}}\n`,
        at: ['"high"'],
      },
    ],
    'k8s.config-invalid',
  );

  const nodePortService = (nodePort: number) =>
    `---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  clusterIP: 10.96.0.20\n  selector: {app: web}\n  ports: [{port: 80, nodePort: ${nodePort}}]\n`;

  it('kubeadm v1beta4 list-form service-node-port-range is the range nodePorts are checked against', () => {
    const cfg =
      'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking: {serviceSubnet: 10.96.0.0/12}\napiServer:\n  extraArgs:\n    - {name: service-node-port-range, value: "30000-30099"}\n    - {name: service-node-port-range, value: "20000-20999"}\n';
    const inside = analyseYaml({ '/t/all.yaml': cfg + nodePortService(20080) });
    assert.deepEqual(inside.topology.cluster.nodePortRange, { min: 20000, max: 20999 });
    assert.equal(inside.topology.cluster.assumed.nodePortRange, false);
    assert.deepEqual(
      inside.diagnostics
        .filter((d) => d.code === 'ip.outside-range' || d.code === 'range.assumed')
        .map((d) => d.message),
      [],
    );
    const outside = analyseYaml({ '/t/all.yaml': cfg + nodePortService(30080) });
    const found = outside.diagnostics.filter((d) => d.code === 'ip.outside-range');
    assert.equal(found.length, 1, outside.diagnostics.map((d) => d.message).join('\n'));
    assert.match(found[0].message, /outside the nodePortRange 20000-20999/);
    assert.equal(spanText(outside, found[0].related[0].span), '"20000-20999"');
  });

  it('base+size form (utilnet.PortRange) is read too', () => {
    const a = analyseYaml({ '/t/k.yaml': `${KUBEADM}apiServer: {extraArgs: {service-node-port-range: "30000+99"}}\n` });
    assert.deepEqual(a.topology.cluster.nodePortRange, { min: 30000, max: 30099 });
  });
});
