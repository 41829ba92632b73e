/**
 * Synthetic topologies for the benchmark: `nodes` nodes on one underlay (host-gw routing), `pods` pods spread
 * evenly over them, `services` ClusterIP/NodePort Services each selecting `pods / services` pods (one app label
 * per Service), and one external client. The text is a NetPath topology document, so the benchmark measures
 * the whole path a user's file takes (YAML -> model -> rules -> data plane -> trace).
 */
export interface BenchSize {
  readonly name: string;
  readonly nodes: number;
  readonly pods: number;
  readonly services: number;
}

export function benchTopology(size: BenchSize): string {
  const { nodes, pods, services } = size;
  if (nodes > 250) throw new Error('at most 250 nodes (one /24 per node inside 10.244.0.0/16)');
  const perNode = Math.ceil(pods / nodes);
  if (perNode > 250) throw new Error('at most 250 pods per node');
  const lines: string[] = [
    'apiVersion: netpath.dev/v1alpha1',
    'kind: Topology',
    'metadata:',
    `  name: bench-${size.name}`,
    'cluster:',
    '  podCIDRs: [10.244.0.0/16]',
    '  serviceCIDRs: [10.96.0.0/16]',
    '  routing: host-gw',
    '  kubeProxy: {mode: iptables, masqueradeAll: false, localDetector: ClusterCIDR}',
    '  cni: {bridge: cni0, ipMasq: false, hairpinMode: true}',
    'networks:',
    '  - {name: lan, cidr: 192.168.0.0/16}',
    'nodes:',
  ];
  for (let n = 0; n < nodes; n++) {
    lines.push(
      `  - name: node${n + 1}`,
      `    interfaces: [{name: eth0, network: lan, address: 192.168.${Math.floor((n + 1) / 250)}.${((n + 1) % 250) + 1}/16}]`,
      `    podCIDR: 10.244.${n + 1}.0/24`,
    );
  }
  lines.push('pods:');
  for (let p = 0; p < pods; p++) {
    const node = p % nodes;
    const slot = Math.floor(p / nodes);
    const app = services > 0 ? `app${p % services}` : 'none';
    lines.push(
      `  - name: pod${p}`,
      `    node: node${node + 1}`,
      `    ip: 10.244.${node + 1}.${slot + 2}`,
      `    labels: {app: ${app}}`,
      '    containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]',
    );
  }
  lines.push('services:');
  for (let s = 0; s < services; s++) {
    const nodePort = s % 5 === 0 && s / 5 < 2700;
    lines.push(
      `  - name: svc${s}`,
      ...(nodePort ? ['    type: NodePort'] : []),
      `    clusterIP: 10.96.${Math.floor((s + 10) / 250)}.${((s + 10) % 250) + 1}`,
      `    selector: {app: app${s}}`,
      `    ports: [{name: http, port: 80, targetPort: http${nodePort ? `, nodePort: ${30000 + s / 5}` : ''}}]`,
    );
  }
  lines.push('externals:', '  - {name: laptop, network: lan, address: 192.168.250.250/16}');
  return `${lines.join('\n')}\n`;
}
