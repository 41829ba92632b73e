/**
 * A synthetic cluster with NetworkPolicies for the reachability benchmark: `namespaces` namespaces of `apps`
 * apps of `replicas` pods each (with the labels real workloads carry, pod-template-hash and a per-pod
 * StatefulSet name included), spread over 100 nodes, and `policiesPerNamespace` policies per namespace:
 * default deny, DNS egress, per-app ingress from other apps, cross-namespace allowances by namespace and pod
 * selector (AND form), ipBlock egress with except, named and ranged ports.
 */
export interface PolicyBenchSize {
  readonly namespaces: number;
  readonly apps: number;
  readonly replicas: number;
  readonly policiesPerNamespace: number;
}

export function policyBenchFiles(size: PolicyBenchSize): { path: string; text: string }[] {
  const nodes = 100;
  const lines: string[] = [
    'apiVersion: netpath.dev/v1alpha1',
    'kind: Topology',
    'metadata: {name: bench-policies}',
    'cluster: {podCIDRs: [10.0.0.0/8], serviceCIDRs: [172.20.0.0/16]}',
    'networks: [{name: lan, cidr: 192.168.0.0/16}]',
    'nodes:',
  ];
  for (let n = 0; n < nodes; n++)
    lines.push(
      `  - name: node${n}`,
      `    interfaces: [{name: eth0, network: lan, address: 192.168.1.${n + 1}/16}]`,
      `    podCIDR: 10.${Math.floor(n / 250) + 1}.${n % 250}.0/24`,
    );
  lines.push('pods:');
  let p = 0;
  for (let ns = 0; ns < size.namespaces; ns++)
    for (let a = 0; a < size.apps; a++)
      for (let r = 0; r < size.replicas; r++, p++) {
        const node = p % nodes;
        const slot = Math.floor(p / nodes);
        const ip = `10.${Math.floor(node / 250) + 1}.${node % 250}.${slot + 2}`;
        if (slot > 250) throw new Error('too many pods per node');
        const tier = ['front', 'back', 'db'][a % 3];
        lines.push(
          `  - name: app${a}-${r}`,
          `    namespace: ns${ns}`,
          `    node: node${node}`,
          `    ip: ${ip}`,
          `    labels: {app: app${a}, tier: ${tier}, version: v${r % 2}, pod-template-hash: h${a}x${r % 2}, statefulset.kubernetes.io/pod-name: app${a}-${r}}`,
          `    containers: [{name: main, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]`,
        );
      }
  const topology = `${lines.join('\n')}\n`;
  const docs: string[] = [];
  for (let ns = 0; ns < size.namespaces; ns++) {
    docs.push(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ns${ns}, labels: {team: t${ns % 10}, env: ${ns % 2 ? 'dev' : 'prod'}}}\n`,
    );
    const pol = (name: string, spec: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ns${ns}}\nspec:\n${spec}`;
    const made: string[] = [
      pol('default-deny', '  podSelector: {}\n  policyTypes: [Ingress, Egress]\n'),
      pol(
        'allow-dns',
        '  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n',
      ),
    ];
    for (let i = 0; made.length < size.policiesPerNamespace; i++) {
      const a = i % size.apps;
      const b = (i * 7 + 3) % size.apps;
      switch (i % 4) {
        case 0:
          made.push(
            pol(
              `app${a}-from-app${b}-${i}`,
              `  podSelector: {matchLabels: {app: app${a}}}\n  ingress:\n    - from: [{podSelector: {matchLabels: {app: app${b}}}}]\n      ports: [{port: http}]\n`,
            ),
          );
          break;
        case 1:
          made.push(
            pol(
              `app${a}-from-team-${i}`,
              `  podSelector: {matchLabels: {app: app${a}}}\n  ingress:\n    - from:\n        - namespaceSelector: {matchLabels: {team: t${i % 10}}}\n          podSelector: {matchExpressions: [{key: tier, operator: In, values: [front, back]}]}\n      ports: [{protocol: TCP, port: 8000, endPort: 8100}, {port: metrics}]\n`,
            ),
          );
          break;
        case 2:
          made.push(
            pol(
              `app${a}-egress-${i}`,
              `  podSelector: {matchLabels: {app: app${a}}}\n  policyTypes: [Egress]\n  egress:\n    - to: [{podSelector: {matchLabels: {app: app${b}}}}, {namespaceSelector: {matchLabels: {env: prod}}}]\n      ports: [{port: http}]\n`,
            ),
          );
          break;
        default:
          made.push(
            pol(
              `app${a}-internet-${i}`,
              `  podSelector: {matchLabels: {tier: front, version: v${i % 2}}}\n  policyTypes: [Egress]\n  egress:\n    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12]}}]\n    - to: [{ipBlock: {cidr: 10.${(i % 2) + 1}.${i % 250}.0/24}}]\n      ports: [{port: 443}]\n`,
            ),
          );
      }
    }
    docs.push(...made);
  }
  return [
    { path: 'bench-policies.netpath.yaml', text: topology },
    { path: 'bench-policies.yaml', text: docs.join('---\n') },
  ];
}
