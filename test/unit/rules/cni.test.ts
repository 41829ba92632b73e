/**
 * The CNI configuration checks, one table: each row a cluster in the shapes users have, the code expected (or
 * that it stays quiet), the text it is reported at and what its message must tell the user.
 */
import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';

const NODES = (...cidrs: string[]) =>
  `apiVersion: v1\nkind: List\nitems:\n${cidrs
    .map(
      (c, i) =>
        `  - apiVersion: v1\n    kind: Node\n    metadata: {name: node-${i + 1}}\n    spec: {podCIDR: ${c}, podCIDRs: [${c}]}\n    status:\n      addresses: [{type: InternalIP, address: 192.168.10.${11 + i}}]\n`,
    )
    .join('')}`;
const KUBEADM = (pod: string) =>
  `apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: ${pod}\n  serviceSubnet: 10.96.0.0/12\n`;
const FLANNEL = (net: string, backend = '"Type": "vxlan"', ns = 'kube-flannel') =>
  `kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: kube-flannel-cfg\n  namespace: ${ns}\ndata:\n  net-conf.json: |\n    {\n      "Network": "${net}",\n      "Backend": {\n        ${backend}\n      }\n    }\n`;
const POOL = (name: string, cidr: string, extra = '') =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;
const POD = (name: string, node: string, ip: string, port: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: web}\nspec:\n  nodeName: ${node}\n  containers:\n    - name: app\n      ports:\n        - ${port}\nstatus: {podIP: ${ip}}\n`;
const CONFLIST = (subnet: string, portmap = true) =>
  `{\n  "cniVersion": "0.3.1",\n  "name": "kindnet",\n  "plugins": [\n    {"type": "ptp", "ipam": {"type": "host-local", "ranges": [[{"subnet": "${subnet}"}]]}}${
    portmap ? ',\n    {"type": "portmap", "capabilities": {"portMappings": true}}' : ''
  }\n  ]\n}\n`;
const TOPO = (extra: string) =>
  `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nnetworks:\n  - {name: lan, cidr: 192.168.10.0/24}\n  - {name: dc2, cidr: 192.168.20.0/24}\nnodes:\n  - {name: node-1, podCIDR: 10.48.1.0/24, interfaces: [{name: eth0, network: lan, address: 192.168.10.11/24}]}\n  - {name: node-2, podCIDR: 10.48.2.0/24, interfaces: [{name: eth0, network: NET2, address: ADDR2}]}\n${extra}`;
const SAME_LAN = (extra: string) => TOPO(extra).replace('NET2', 'lan').replace('ADDR2', '192.168.10.12/24');
const TWO_LANS = (extra: string) => TOPO(extra).replace('NET2', 'dc2').replace('ADDR2', '192.168.20.12/24');
const REGISTRY = 'externals:\n  - {name: registry, network: lan, address: 192.168.10.50/24}\n';

interface Row {
  readonly name: string;
  readonly files: Record<string, string>;
  readonly code: string;
  /** The text the finding is reported at; undefined: the code must not be reported. */
  readonly at?: string;
  readonly says?: RegExp;
}

const ROWS: Row[] = [
  {
    name: "a node's podCIDR outside flannel's Network",
    files: { 'nodes.yaml': NODES('10.244.0.0/24', '10.245.1.0/24'), 'flannel.yaml': FLANNEL('10.244.0.0/16') },
    code: 'cni.flannel-node-outside-network',
    at: '10.245.1.0/24',
    says: /node-2.*flanneld .* exits/,
  },
  {
    name: "every node inside flannel's Network",
    files: { 'nodes.yaml': NODES('10.244.0.0/24', '10.244.1.0/24'), 'flannel.yaml': FLANNEL('10.244.0.0/16') },
    code: 'cni.flannel-node-outside-network',
  },
  {
    name: "flannel's Network differs from kubeadm's podSubnet",
    files: { 'kubeadm.yaml': KUBEADM('10.32.0.0/16'), 'flannel.yaml': FLANNEL('10.244.0.0/16') },
    code: 'cni.flannel-network-mismatch',
    at: '"10.244.0.0/16"',
    says: /differs from the cluster pod range 10\.32\.0\.0\/16/,
  },
  {
    name: "flannel's Network is kubeadm's podSubnet written another way",
    files: { 'kubeadm.yaml': KUBEADM('10.244.0.0/16'), 'flannel.yaml': FLANNEL('10.244.0.0/16') },
    code: 'cni.flannel-network-mismatch',
  },
  {
    name: 'an IPPool outside the pod subnet',
    files: { 'kubeadm.yaml': KUBEADM('10.244.0.0/16'), 'pools.yaml': POOL('default-ipv4-ippool', '192.168.0.0/16') },
    code: 'cni.ippool-outside-cluster',
    at: '192.168.0.0/16',
    says: /outside the cluster pod range 10\.244\.0\.0\/16/,
  },
  {
    name: 'a disabled IPPool outside the pod subnet',
    files: {
      'kubeadm.yaml': KUBEADM('10.244.0.0/16'),
      'pools.yaml': POOL('old', '192.168.0.0/16', '  disabled: true\n'),
    },
    code: 'cni.ippool-outside-cluster',
  },
  {
    name: 'two IPPools overlap',
    files: { 'pools.yaml': `${POOL('a', '10.48.0.0/16')}---\n${POOL('b', '10.48.128.0/17')}` },
    code: 'cni.ippool-overlap',
    at: '10.48.128.0/17',
    says: /IPPool b .* overlaps IPPool a/,
  },
  {
    name: 'two IPPools side by side',
    files: { 'pools.yaml': `${POOL('a', '10.48.0.0/17')}---\n${POOL('b', '10.48.128.0/17')}` },
    code: 'cni.ippool-overlap',
  },
  {
    name: 'natOutgoing off while pods reach a registry on the LAN',
    files: {
      't.netpath.yaml': SAME_LAN(REGISTRY),
      'pools.yaml': POOL('p', '10.48.0.0/16', '  natOutgoing: false\n'),
    },
    code: 'cni.nat-outgoing-off',
    at: 'false',
    says: /registry/,
  },
  {
    name: 'natOutgoing on',
    files: {
      't.netpath.yaml': SAME_LAN(REGISTRY),
      'pools.yaml': POOL('p', '10.48.0.0/16', '  natOutgoing: true\n'),
    },
    code: 'cni.nat-outgoing-off',
  },
  {
    name: 'IPIP Always',
    files: { 't.netpath.yaml': SAME_LAN(''), 'pools.yaml': POOL('p', '10.48.0.0/16', '  ipipMode: Always\n') },
    code: 'cni.ipip-underlay',
    at: 'Always',
    says: /protocol 4.*cannot see/,
  },
  {
    name: 'IPIP CrossSubnet with nodes on two networks',
    files: { 't.netpath.yaml': TWO_LANS(''), 'pools.yaml': POOL('p', '10.48.0.0/16', '  ipipMode: CrossSubnet\n') },
    code: 'cni.ipip-underlay',
    at: 'CrossSubnet',
  },
  {
    name: 'IPIP CrossSubnet with every node on one network',
    files: { 't.netpath.yaml': SAME_LAN(''), 'pools.yaml': POOL('p', '10.48.0.0/16', '  ipipMode: CrossSubnet\n') },
    code: 'cni.ipip-underlay',
  },
  {
    name: "a conflist copied from another node's range",
    files: { 'nodes.yaml': NODES('10.244.0.0/24', '10.244.1.0/24'), '10-kindnet.conflist': CONFLIST('10.244.7.0/24') },
    code: 'cni.ipam-range-mismatch',
    at: '"10.244.7.0/24"',
    says: /no node's podCIDR \(node-1: 10\.244\.0\.0\/24, node-2: 10\.244\.1\.0\/24\)/,
  },
  {
    name: 'a conflist range wider than the node range',
    files: { 'nodes.yaml': NODES('10.244.0.0/24', '10.244.1.0/24'), '10-kindnet.conflist': CONFLIST('10.244.0.0/16') },
    code: 'cni.ipam-range-mismatch',
    at: '"10.244.0.0/16"',
    says: /overlaps node-1's 10\.244\.0\.0\/24, node-2's 10\.244\.1\.0\/24/,
  },
  {
    name: "a conflist with the node's own range",
    files: { 'nodes.yaml': NODES('10.244.0.0/24', '10.244.1.0/24'), '10-kindnet.conflist': CONFLIST('10.244.1.0/24') },
    code: 'cni.ipam-range-mismatch',
  },
  {
    name: 'a conflist with usePodCidr',
    files: { 'nodes.yaml': NODES('10.244.0.0/24'), '10-kindnet.conflist': CONFLIST('usePodCidr') },
    code: 'cni.ipam-range-mismatch',
  },
  {
    name: 'a hostPort without portmap in the chain',
    files: {
      'nodes.yaml': NODES('10.244.0.0/24'),
      '10-kindnet.conflist': CONFLIST('10.244.0.0/24', false),
      'pod.yaml': POD('a', 'node-1', '10.244.0.5', '{containerPort: 80, hostPort: 8080}'),
    },
    code: 'cni.portmap-missing',
    at: '8080',
    says: /no portmap plug-in/,
  },
  {
    name: 'a hostPort with portmap',
    files: {
      'nodes.yaml': NODES('10.244.0.0/24'),
      '10-kindnet.conflist': CONFLIST('10.244.0.0/24'),
      'pod.yaml': POD('a', 'node-1', '10.244.0.5', '{containerPort: 80, hostPort: 8080}'),
    },
    code: 'cni.portmap-missing',
  },
  {
    name: 'two pods on one node with hostPort 80',
    files: {
      'nodes.yaml': NODES('10.244.0.0/24'),
      'a.yaml': POD('a', 'node-1', '10.244.0.5', '{containerPort: 80, hostPort: 80}'),
      'b.yaml': POD('b', 'node-1', '10.244.0.6', '{containerPort: 8080, hostPort: 80}'),
    },
    code: 'pod.hostport-conflict',
    at: '80',
    says: /web\/a and web\/b both take hostPort 80\/TCP on node node-1/,
  },
  {
    name: 'hostPort 80 over TCP and UDP',
    files: {
      'nodes.yaml': NODES('10.244.0.0/24'),
      'a.yaml': POD('a', 'node-1', '10.244.0.5', '{containerPort: 80, hostPort: 80}'),
      'b.yaml': POD('b', 'node-1', '10.244.0.6', '{containerPort: 80, hostPort: 80, protocol: UDP}'),
    },
    code: 'pod.hostport-conflict',
  },
  {
    name: 'hostPort 80 on one host IP and on every address',
    files: {
      'nodes.yaml': NODES('10.244.0.0/24'),
      'a.yaml': POD('a', 'node-1', '10.244.0.5', '{containerPort: 80, hostPort: 80, hostIP: 192.168.10.11}'),
      'b.yaml': POD('b', 'node-1', '10.244.0.6', '{containerPort: 80, hostPort: 80}'),
    },
    code: 'pod.hostport-conflict',
    at: '80',
  },
  {
    name: 'flannel VXLAN with another VNI in the old kube-system ConfigMap',
    files: {
      'a-old.yaml': FLANNEL('10.244.0.0/16', '"Type": "vxlan"', 'kube-system'),
      'b-new.yaml': FLANNEL('10.244.0.0/16', '"Type": "vxlan", "VNI": 4096'),
    },
    code: 'cni.vxlan-mismatch',
    at: '4096',
    says: /VNI is 4096 in ConfigMap kube-flannel\/kube-flannel-cfg but 1 in ConfigMap kube-system/,
  },
  {
    name: 'flannel host-gw in one ConfigMap (no VXLAN to disagree on)',
    files: {
      'a-old.yaml': FLANNEL('10.244.0.0/16', '"Type": "host-gw"', 'kube-system'),
      'b-new.yaml': FLANNEL('10.244.0.0/16', '"Type": "vxlan", "VNI": 4096'),
    },
    code: 'cni.vxlan-mismatch',
  },
];

describe('rules: CNI configurations', () => {
  for (const row of ROWS) {
    it(`${row.name}: ${row.at === undefined ? 'no' : ''} ${row.code}`, () => {
      const files = Object.entries(row.files).map(([name, text]) => ({ path: `/c/${name}`, text }));
      const a = analyse(files);
      const found = a.diagnostics.filter((d) => d.code === row.code);
      if (row.at === undefined) {
        assert.deepEqual(
          found.map((d) => d.message),
          [],
        );
        return;
      }
      assert.equal(found.length, 1, a.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
      const d = found[0];
      const text = files.find((f) => f.path === d.span.file)?.text.slice(d.span.start, d.span.end);
      assert.equal(text, row.at);
      if (row.says) assert.match(d.message, row.says);
      assert.ok(d.related.length || row.code === 'cni.ipip-underlay', 'points at the other side');
    });
  }
});
