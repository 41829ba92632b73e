/**
 * Synthetic clusters of any size up to Kubernetes' tested limits (5,000 nodes, 150,000 pods, 10,000 Services),
 * written two ways a user has them:
 *
 * - `netpathCluster`: one NetPath topology document (nodes on one host-gw underlay, pods spread evenly,
 *   each Service selecting its own pods, one fifth of them NodePorts, one external client);
 * - `kubernetesList`: the same cluster as `kubectl get nodes,pods,services -A -o yaml` prints it (a `List`,
 *   block style, the fields kubectl shows for a running pod, trimmed of managedFields), after the
 *   KubeProxyConfiguration and kubeadm ClusterConfiguration documents a cluster's config dump starts with.
 *
 * Addressing: pods in 10.128.0.0/9 (one /24 per node), Services in 10.96.0.0/12, nodes in 172.16.0.0/12.
 */
export interface ClusterSize {
  readonly name: string;
  readonly nodes: number;
  readonly pods: number;
  readonly services: number;
}

/** The four sizes of issue 16: up to Kubernetes' tested limits. */
export const SCALE_SIZES: readonly ClusterSize[] = [
  { name: '100', nodes: 100, pods: 3000, services: 100 },
  { name: '500', nodes: 500, pods: 15000, services: 1000 },
  { name: '1000', nodes: 1000, pods: 30000, services: 2000 },
  { name: '5000', nodes: 5000, pods: 150000, services: 10000 },
];

const dotted = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const IP = (a: number, b: number, c: number, d: number): number => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;

/** Node `i`'s (0-based) pod /24 as its base address. */
const podNet = (i: number): number => IP(10, 128, 0, 0) + (i + 1) * 256;
const nodeAddress = (i: number): string => dotted(IP(172, 16, 0, 10) + i);
const clusterIP = (s: number): string => dotted(IP(10, 96, 0, 10) + s);
const nodePortOf = (s: number): number | undefined => (s % 5 === 0 && s / 5 < 2700 ? 30000 + s / 5 : undefined);

interface Layout {
  readonly perNode: number;
  node(p: number): number;
  ip(p: number): string;
  app(p: number): string;
}

function layout(size: ClusterSize): Layout {
  const { nodes, pods, services } = size;
  if (nodes > 30000) throw new Error('at most 30,000 nodes (one /24 per node inside 10.128.0.0/9)');
  const perNode = Math.ceil(pods / nodes);
  if (perNode > 250) throw new Error('at most 250 pods per node');
  return {
    perNode,
    node: (p) => p % nodes,
    ip: (p) => dotted(podNet(p % nodes) + Math.floor(p / nodes) + 2),
    app: (p) => (services > 0 ? `app${p % services}` : 'none'),
  };
}

export function netpathCluster(size: ClusterSize): string {
  const { nodes, pods, services } = size;
  const l = layout(size);
  const out: string[] = [
    'apiVersion: netpath.dev/v1alpha1',
    'kind: Topology',
    'metadata:',
    `  name: bench-${size.name}`,
    'cluster:',
    '  podCIDRs: [10.128.0.0/9]',
    '  serviceCIDRs: [10.96.0.0/12]',
    '  routing: host-gw',
    '  kubeProxy: {mode: iptables, masqueradeAll: false, localDetector: ClusterCIDR}',
    '  cni: {bridge: cni0, ipMasq: false, hairpinMode: true}',
    'networks:',
    '  - {name: lan, cidr: 172.16.0.0/12}',
    'nodes:',
  ];
  for (let n = 0; n < nodes; n++) {
    out.push(
      `  - name: node${n + 1}`,
      `    interfaces: [{name: eth0, network: lan, address: ${nodeAddress(n)}/12}]`,
      `    podCIDR: ${dotted(podNet(n))}/24`,
    );
  }
  out.push('pods:');
  for (let p = 0; p < pods; p++) {
    out.push(
      `  - name: pod${p}`,
      `    node: node${l.node(p) + 1}`,
      `    ip: ${l.ip(p)}`,
      `    labels: {app: ${l.app(p)}}`,
      '    containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]',
    );
  }
  out.push('services:');
  for (let s = 0; s < services; s++) {
    const nodePort = nodePortOf(s);
    out.push(
      `  - name: svc${s}`,
      ...(nodePort !== undefined ? ['    type: NodePort'] : []),
      `    clusterIP: ${clusterIP(s)}`,
      `    selector: {app: app${s}}`,
      `    ports: [{name: http, port: 80, targetPort: http${nodePort !== undefined ? `, nodePort: ${nodePort}` : ''}}]`,
    );
  }
  out.push('externals:', '  - {name: laptop, network: lan, address: 172.31.255.250/12}');
  return `${out.join('\n')}\n`;
}

/**
 * The same NetPath topology with kube-proxy in its nftables mode: its rules are nft tables on every node (the
 * `nodeport-ips` set is each node's own), shared between nodes alike by the data plane.
 */
export function netpathNftablesCluster(size: ClusterSize): string {
  return netpathCluster(size).replace('  kubeProxy: {mode: iptables,', '  kubeProxy: {mode: nftables,');
}

/**
 * The same NetPath topology with a common mistake at scale: its Service range moved inside the pod range. It overlaps
 * every node's pod range and leaves every cluster IP outside it, a finding with a quick fix on every node and Service.
 */
export function netpathMisconfiguredCluster(size: ClusterSize): string {
  return netpathCluster(size).replace('serviceCIDRs: [10.96.0.0/12]', 'serviceCIDRs: [10.128.0.0/12]');
}

export function kubernetesList(size: ClusterSize): string {
  const { nodes, pods, services } = size;
  const l = layout(size);
  const uid = (kind: number, i: number): string =>
    `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const out: string[] = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    'mode: iptables',
    'clusterCIDR: 10.128.0.0/9',
    'detectLocalMode: ClusterCIDR',
    'iptables:',
    '  masqueradeAll: false',
    '  masqueradeBit: 14',
    '---',
    'apiVersion: kubeadm.k8s.io/v1beta3',
    'kind: ClusterConfiguration',
    'networking:',
    '  podSubnet: 10.128.0.0/9',
    '  serviceSubnet: 10.96.0.0/12',
    '---',
    'apiVersion: v1',
    'kind: List',
    'metadata:',
    '  resourceVersion: ""',
    'items:',
  ];
  for (let n = 0; n < nodes; n++) {
    const name = `node${n + 1}`;
    out.push(
      '- apiVersion: v1',
      '  kind: Node',
      '  metadata:',
      '    creationTimestamp: "2026-01-05T09:00:00Z"',
      '    labels:',
      '      kubernetes.io/arch: amd64',
      `      kubernetes.io/hostname: ${name}`,
      '      kubernetes.io/os: linux',
      `    name: ${name}`,
      `    resourceVersion: "${1000 + n}"`,
      `    uid: ${uid(1, n)}`,
      '  spec:',
      `    podCIDR: ${dotted(podNet(n))}/24`,
      '    podCIDRs:',
      `    - ${dotted(podNet(n))}/24`,
      '  status:',
      '    addresses:',
      `    - address: ${nodeAddress(n)}`,
      '      type: InternalIP',
      `    - address: ${name}`,
      '      type: Hostname',
      '    nodeInfo:',
      '      containerRuntimeVersion: containerd://1.7.22',
      '      kubeProxyVersion: v1.31.2',
      '      kubeletVersion: v1.31.2',
      '      operatingSystem: linux',
    );
  }
  for (let p = 0; p < pods; p++) {
    const node = l.node(p);
    const ip = l.ip(p);
    out.push(
      '- apiVersion: v1',
      '  kind: Pod',
      '  metadata:',
      '    creationTimestamp: "2026-01-05T09:10:00Z"',
      '    labels:',
      `      app: ${l.app(p)}`,
      `    name: pod${p}`,
      '    namespace: default',
      `    resourceVersion: "${100000 + p}"`,
      `    uid: ${uid(2, p)}`,
      '  spec:',
      '    containers:',
      '    - image: registry.example/app:1.4.2',
      '      imagePullPolicy: IfNotPresent',
      '      name: app',
      '      ports:',
      '      - containerPort: 8080',
      '        name: http',
      '        protocol: TCP',
      '      resources: {}',
      '    dnsPolicy: ClusterFirst',
      `    nodeName: node${node + 1}`,
      '    restartPolicy: Always',
      '  status:',
      `    hostIP: ${nodeAddress(node)}`,
      '    phase: Running',
      `    podIP: ${ip}`,
      '    podIPs:',
      `    - ip: ${ip}`,
      '    qosClass: BestEffort',
      '    startTime: "2026-01-05T09:10:01Z"',
    );
  }
  for (let s = 0; s < services; s++) {
    const nodePort = nodePortOf(s);
    out.push(
      '- apiVersion: v1',
      '  kind: Service',
      '  metadata:',
      '    creationTimestamp: "2026-01-05T09:05:00Z"',
      `    name: svc${s}`,
      '    namespace: default',
      `    resourceVersion: "${50000 + s}"`,
      `    uid: ${uid(3, s)}`,
      '  spec:',
      `    clusterIP: ${clusterIP(s)}`,
      '    clusterIPs:',
      `    - ${clusterIP(s)}`,
      '    internalTrafficPolicy: Cluster',
      '    ipFamilies:',
      '    - IPv4',
      '    ipFamilyPolicy: SingleStack',
      '    ports:',
      '    - name: http',
      ...(nodePort !== undefined ? [`      nodePort: ${nodePort}`] : []),
      '      port: 80',
      '      protocol: TCP',
      '      targetPort: http',
      '    selector:',
      `      app: app${s}`,
      '    sessionAffinity: None',
      `    type: ${nodePort !== undefined ? 'NodePort' : 'ClusterIP'}`,
      '  status:',
      '    loadBalancer: {}',
    );
  }
  return `${out.join('\n')}\n`;
}
