/**
 * A small cluster for the NetworkPolicy tests: two nodes, three namespaces (two with Namespace objects and
 * labels, kube-system implied), pods with labels and named ports, a hostNetwork pod and an external client.
 */
import { buildTopology } from '../../../src/core/model/build';
import type { Topology } from '../../../src/core/model/types';
import type { Problem } from '../../../src/core';

export const LAB = `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata: {name: policy-lab}
cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}
networks: [{name: lan, cidr: 192.168.56.0/24}]
nodes:
  - {name: node1, interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}], podCIDR: 10.244.1.0/24}
  - {name: node2, interfaces: [{name: eth0, network: lan, address: 192.168.56.12/24}], podCIDR: 10.244.2.0/24}
pods:
  - name: web
    namespace: prod
    node: node1
    ip: 10.244.1.10
    labels: {app: web, tier: front}
    containers: [{name: nginx, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]
  - name: db
    namespace: prod
    node: node2
    ip: 10.244.2.10
    labels: {app: db, tier: back}
    containers: [{name: pg, ports: [{name: pg, containerPort: 5432}]}]
  - {name: client, namespace: prod, node: node2, ip: 10.244.2.11, labels: {app: client}}
  - {name: tester, namespace: dev, node: node1, ip: 10.244.1.20, labels: {app: client}}
  - {name: runner, namespace: dev, node: node2, ip: 10.244.2.20, labels: {app: runner}}
  - name: dns
    namespace: kube-system
    node: node1
    ip: 10.244.1.53
    labels: {k8s-app: kube-dns}
    containers: [{name: coredns, ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]}]
  - {name: agent, namespace: kube-system, node: node2, hostNetwork: true, labels: {app: agent}}
services:
  - name: web
    namespace: prod
    clusterIP: 10.96.0.80
    selector: {app: web}
    ports: [{name: http, port: 80, targetPort: http}]
  - name: kube-dns
    namespace: kube-system
    clusterIP: 10.96.0.10
    selector: {k8s-app: kube-dns}
    ports: [{name: dns, port: 53, targetPort: 53, protocol: UDP}, {name: dns-tcp, port: 53, targetPort: 53}]
externals: [{name: laptop, network: lan, address: 192.168.56.100}]
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: production}}
---
apiVersion: v1
kind: Namespace
metadata:
  name: dev
  labels: {env: development}
`;

/** Addresses of the lab's endpoints by name. */
export const IP: Readonly<Record<string, string>> = {
  web: '10.244.1.10',
  db: '10.244.2.10',
  client: '10.244.2.11',
  tester: '10.244.1.20',
  runner: '10.244.2.20',
  dns: '10.244.1.53',
  agent: '192.168.56.12',
  node1: '192.168.56.11',
  node2: '192.168.56.12',
  node1bridge: '10.244.1.1',
  laptop: '192.168.56.100',
};

/** The lab plus the given YAML documents (policies, more objects), built into a model. */
export function lab(extra: string): { topology: Topology; problems: readonly Problem[] } {
  const built = buildTopology([
    { path: '/lab/topology.yaml', text: LAB },
    { path: '/lab/policies.yaml', text: extra },
  ]);
  return { topology: built.topology, problems: built.problems };
}

/** A NetworkPolicy document: `spec` is YAML flow or block text indented by two. */
export function policy(namespace: string, name: string, spec: string): string {
  return `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}
