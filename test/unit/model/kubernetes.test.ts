import { nodeRoutes } from '../../../src/core/model/host-gw';
import assert from 'node:assert/strict';
import { analysePaths, type FileHost } from '../../../src/core';
import { analyseYaml, modelCodes as codes, HEADER, spanText } from './helpers';

const NODES = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Node
    metadata: {name: kind-control-plane}
    spec: {podCIDR: 10.244.0.0/24, podCIDRs: [10.244.0.0/24]}
    status:
      addresses:
        - {type: InternalIP, address: 172.18.0.2}
        - {type: Hostname, address: kind-control-plane}
  - apiVersion: v1
    kind: Node
    metadata: {name: kind-worker}
    spec: {podCIDR: 10.244.1.0/24}
    status: {addresses: [{type: InternalIP, address: 172.18.0.3}]}
`;
const PODS = `apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, labels: {app: web}}
spec:
  nodeName: kind-worker
  containers:
    - name: nginx
      ports: [{name: http, containerPort: 80}]
status: {podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.12.34
  clusterIPs: [10.96.12.34]
  selector: {app: web}
  externalTrafficPolicy: Local
  ports: [{name: http, port: 80, targetPort: http, nodePort: 31080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: 10.96.0.50
  ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-abc, namespace: shop, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
endpoints:
  - addresses: [10.244.0.9]
    nodeName: kind-control-plane
    conditions: {ready: true}
ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored}
`;
const CONFIG = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: 10.244.0.0/16
iptables: {masqueradeAll: true, masqueradeBit: 15}
detectLocalMode: NodeCIDR
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/16}
`;

describe('model: Kubernetes objects without a NetPath document', () => {
  const a = analyseYaml({ '/m/nodes.yaml': NODES, '/m/app.yaml': PODS, '/m/config.yaml': CONFIG });
  const t = a.topology;

  it('reads Nodes from a List, with pod CIDRs and InternalIP addresses on a default underlay', () => {
    assert.deepEqual(codes(a), []);
    assert.deepEqual(
      t.nodes.map((n) => [n.name, n.podCIDRs, n.interfaces.map((i) => `${i.name} ${i.network} ${i.addresses}`)]),
      [
        ['kind-control-plane', ['10.244.0.0/24'], ['eth0 underlay 172.18.0.2/24']],
        ['kind-worker', ['10.244.1.0/24'], ['eth0 underlay 172.18.0.3/24']],
      ],
    );
    assert.deepEqual(
      t.networks.map((n) => [n.name, n.cidr, n.origin]),
      [['underlay', '172.18.0.0/24', 'default']],
    );
  });

  it('defaults bridges and host-gw routes for manifest-only clusters', () => {
    assert.deepEqual(t.nodes[1].bridge?.addresses, ['10.244.1.1/24']);
    assert.deepEqual(
      nodeRoutes(t, t.nodes[1]).map((r) => `${r.to} via ${r.via} dev ${r.dev}`),
      ['10.244.0.0/24 via 172.18.0.2 dev eth0'],
    );
  });

  it('reads Pods: node, labels, ports, status IPs', () => {
    const pod = t.pods[0];
    assert.deepEqual(
      [pod.id, pod.node, pod.ips, pod.labels, pod.containers[0].ports[0].containerPort],
      ['shop/web-0', 'kind-worker', ['10.244.1.5'], { app: 'web' }, 80],
    );
    assert.equal(spanText(a, pod.spans['ips.0']), '10.244.1.5');
  });

  it('reads Services and resolves selector endpoints with named ports', () => {
    const web = t.services.find((s) => s.name === 'web')!;
    assert.deepEqual(
      [web.type, web.clusterIPs, web.externalTrafficPolicy, web.ports[0].nodePort],
      ['NodePort', ['10.96.12.34'], 'Local', 31080],
    );
    assert.deepEqual(
      web.endpoints.map((e) => [e.ip, e.node, e.ports.http]),
      [['10.244.1.5', 'kind-worker', 80]],
    );
  });

  it('takes endpoints of selector-less Services from EndpointSlices', () => {
    const db = t.services.find((s) => s.name === 'db')!;
    assert.equal(db.endpointSource, 'EndpointSlice');
    assert.deepEqual(
      db.endpoints.map((e) => [e.ip, e.node, e.ports.pg, e.ready]),
      [['10.244.0.9', 'kind-control-plane', 5432, true]],
    );
  });

  it('reads KubeProxyConfiguration and kubeadm ClusterConfiguration', () => {
    assert.deepEqual(t.cluster.podCIDRs, ['10.244.0.0/16']);
    assert.deepEqual(t.cluster.serviceCIDRs, ['10.96.0.0/16']);
    assert.deepEqual(
      [t.cluster.kubeProxy.masqueradeAll, t.cluster.kubeProxy.masqueradeBit, t.cluster.kubeProxy.localDetector],
      [true, 15, 'NodeCIDR'],
    );
  });

  it('ignores documents of other kinds silently', () => {
    assert.ok(!a.diagnostics.some((d) => /Deployment/.test(d.message)));
  });
});

describe('model: tool configurations', () => {
  it('reads a kind Cluster config', () => {
    const a = analyseYaml({
      '/k/kind.yaml':
        'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  podSubnet: "10.240.0.0/16,fd00:10:240::/56"\n  serviceSubnet: "10.0.0.0/16"\n',
    });
    assert.deepEqual(a.topology.cluster.podCIDRs, ['10.240.0.0/16', 'fd00:10:240::/56']);
    assert.deepEqual(a.topology.cluster.serviceCIDRs, ['10.0.0.0/16']);
    assert.equal(spanText(a, a.topology.cluster.spans['podCIDRs.1']), 'fd00:10:240::/56');
  });

  it('reads the ip-masq-agent ConfigMap, with spans inside its config string', () => {
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ip-masq-agent, namespace: kube-system}\ndata:\n  config: |\n    nonMasqueradeCIDRs:\n      - 10.0.0.0/8\n    masqLinkLocal: true\n';
    const a = analyseYaml({ '/k/masq.yaml': text });
    assert.deepEqual(a.topology.cluster.masquerade?.nonMasqueradeCIDRs, ['10.0.0.0/8']);
    assert.equal(a.topology.cluster.masquerade?.masqLinkLocal, true);
  });

  it('a Cluster of another API group is not a kind config', () => {
    const a = analyseYaml({
      '/k/capi.yaml':
        'apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nspec: {clusterNetwork: {pods: {cidrBlocks: [192.168.0.0/16]}}}\n',
    });
    assert.deepEqual(codes(a), []);
    assert.deepEqual(a.topology.cluster.podCIDRs, []);
  });
});

describe('model: merging NetPath documents with Kubernetes objects', () => {
  it('a NetPath document refines a Kubernetes Node and Pod field by field', () => {
    const a = analyseYaml({
      '/m/lab.netpath.yaml': `${HEADER}networks: [{name: lan, cidr: 172.18.0.0/16}]\nnodes:\n  - name: kind-worker\n    interfaces: [{name: ens3, network: lan, address: 172.18.0.3/16}]\n    bridge: {hairpinMode: false}\npods:\n  - {name: web-0, namespace: shop, node: kind-worker, hostVeth: veth-web}\n`,
      '/m/nodes.yaml': NODES,
      '/m/app.yaml': PODS,
    });
    const worker = a.topology.nodes.find((n) => n.name === 'kind-worker')!;
    assert.deepEqual(
      worker.interfaces.map((i) => i.name),
      ['ens3'],
    );
    assert.deepEqual(worker.podCIDRs, ['10.244.1.0/24']);
    assert.equal(worker.bridge?.hairpinMode, false);
    const pod = a.topology.pods[0];
    assert.deepEqual([pod.hostVeth, pod.ips, pod.labels.app], ['veth-web', ['10.244.1.5'], 'web']);
  });

  it('a NetPath pod read after the Pod object sets only the fields it writes (labels written empty, too)', () => {
    const refined = (netpathPod: string) =>
      analyseYaml({
        '/m/app.yaml': PODS,
        '/m/lab.netpath.yaml': `${HEADER}pods:\n  - ${netpathPod}\n`,
      }).topology.pods.find((p) => p.id === 'shop/web-0')!;
    const kept = refined('{name: web-0, namespace: shop, ips: [10.244.1.9], containers: []}');
    assert.deepEqual(
      [kept.node, kept.ips, kept.labels, kept.containers, kept.hostNetwork, kept.origin],
      ['kind-worker', ['10.244.1.9'], { app: 'web' }, [], false, 'Pod'],
    );
    const emptied = refined('{name: web-0, namespace: shop, labels: {}, hostNetwork: false}');
    assert.deepEqual(
      [emptied.labels, emptied.ips, emptied.containers.map((c) => c.name)],
      [{}, ['10.244.1.5'], ['nginx']],
    );
  });
});

describe('model: dual-stack and IPv6', () => {
  it('reads one range per family everywhere', () => {
    const a =
      analyseYaml(`${HEADER}cluster: {podCIDRs: [10.244.0.0/16, "fd00:10:244::/56"], serviceCIDRs: [10.96.0.0/16, "fd00:10:96::/112"]}
networks: [{name: lan, cidr: 192.168.56.0/24}, {name: lan6, cidr: "fd00:56::/64"}]
nodes:
  - name: n1
    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}, {name: eth1, network: lan6, address: "fd00:56::11/64"}]
    podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]
  - name: n2
    interfaces: [{name: eth0, network: lan, address: 192.168.56.12/24}, {name: eth1, network: lan6, address: "fd00:56::12/64"}]
    podCIDRs: [10.244.2.0/24, "fd00:10:244:2::/64"]
pods: [{name: a, node: n1, ips: [10.244.1.10, "fd00:10:244:1::a"], labels: {app: a}}]
services: [{name: a, clusterIPs: [10.96.0.10, "fd00:10:96::a"], selector: {app: a}, ports: [{port: 80}]}]
`);
    const t = a.topology;
    assert.deepEqual(t.nodes[0].bridge?.addresses, ['10.244.1.1/24', 'fd00:10:244:1::1/64']);
    assert.deepEqual(
      nodeRoutes(t, t.nodes[0]).map((r) => `${r.to} via ${r.via} dev ${r.dev}`),
      ['10.244.2.0/24 via 192.168.56.12 dev eth0', 'fd00:10:244:2::/64 via fd00:56::12 dev eth1'],
    );
    assert.deepEqual(
      t.services[0].endpoints.map((e) => e.ip),
      ['10.244.1.10', 'fd00:10:244:1::a'],
    );
  });
});

describe('model: include', () => {
  const memoryHost = (files: Record<string, string>): FileHost => ({
    async readFile(p) {
      return files[p];
    },
    async glob(dir, pattern) {
      const re = new RegExp(
        '^' + (dir + '/' + pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '$',
      );
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
  });

  it('merges included files, relative to the including file, with globs', async () => {
    const files = {
      '/w/lab.netpath.yaml': `${HEADER}include: [manifests/*.yaml]\ncluster: {podCIDRs: [10.244.0.0/16]}\n`,
      '/w/manifests/nodes.yaml': NODES,
      '/w/manifests/app.yaml': PODS,
    };
    const a = await analysePaths(['/w/lab.netpath.yaml'], memoryHost(files));
    assert.deepEqual([...a.topology.files].sort(), Object.keys(files).sort());
    assert.equal(a.topology.nodes.length, 2);
  });

  it('ends include cycles, reading each file once', async () => {
    const files = {
      '/w/a.netpath.yaml': `${HEADER}include: [b.netpath.yaml]\nnodes: [{name: n1}]\n`,
      '/w/b.netpath.yaml': `${HEADER}include: [a.netpath.yaml]\nnodes: [{name: n2}]\n`,
    };
    const a = await analysePaths(['/w/a.netpath.yaml'], memoryHost(files));
    assert.deepEqual(
      a.topology.nodes.map((n) => n.name),
      ['n1', 'n2'],
    );
    assert.deepEqual(codes(a), []);
  });

  it('reports an include that matches nothing, on the include entry', async () => {
    const files = { '/w/a.netpath.yaml': `${HEADER}include: [missing/*.yaml, gone.yaml]\n` };
    const a = await analysePaths(['/w/a.netpath.yaml'], memoryHost(files));
    assert.deepEqual(codes(a), ['ref.unknown', 'ref.unknown']);
    assert.deepEqual(
      a.diagnostics.map((d) => files['/w/a.netpath.yaml'].slice(d.span.start, d.span.end)),
      ['missing/*.yaml', 'gone.yaml'],
    );
  });
});

describe('model: workloads and legacy Endpoints (pods that will exist)', () => {
  const a = analyseYaml({
    '/t/app.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {containers: [{name: r}], restartPolicy: OnFailure}
---
apiVersion: v1
kind: Pod
metadata: {name: web-pending, namespace: shop, labels: {app: web}}
spec: {containers: [{name: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: shop}
spec: {ports: [{name: pg, port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: legacy, namespace: shop}
subsets:
  - addresses: [{ip: 192.168.10.20}]
    notReadyAddresses: [{ip: 192.168.10.21}]
    ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: alias, namespace: shop}
spec: {type: ExternalName, externalName: db.example.com}
`,
  });
  const t = a.topology;

  it('reads workloads with their pod template labels (CronJob: jobTemplate.spec.template)', () => {
    assert.deepEqual(
      t.workloads.map((w) => [w.kind, w.id, w.replicas, w.labels]),
      [
        ['Deployment', 'shop/web', 3, { app: 'web', tier: 'front' }],
        ['CronJob', 'shop/report', undefined, { app: 'report' }],
      ],
    );
  });

  it('counts pods without an IP and matching workloads as pending backends, not endpoints', () => {
    const web = t.services.find((s) => s.id === 'shop/web')!;
    assert.deepEqual(web.endpoints, []);
    assert.deepEqual(
      web.pending.map((b) => [b.kind, b.id]),
      [
        ['Pod', 'shop/web-pending'],
        ['Deployment', 'shop/web'],
      ],
    );
    assert.deepEqual(a.diagnostics, []);
  });

  it('takes endpoints of a selector-less Service from legacy v1 Endpoints, ready and not ready', () => {
    const legacy = t.services.find((s) => s.id === 'shop/legacy')!;
    assert.equal(legacy.endpointSource, 'Endpoints');
    assert.deepEqual(
      legacy.endpoints.map((e) => [e.ip, e.ready, e.ports]),
      [
        ['192.168.10.20', true, { pg: 5432 }],
        ['192.168.10.21', false, { pg: 5432 }],
      ],
    );
  });

  it('prefers EndpointSlices over the Endpoints they mirror', () => {
    const b = analyseYaml({
      '/t/s.yaml': `apiVersion: v1
kind: Service
metadata: {name: legacy}
spec: {ports: [{name: pg, port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: legacy}
subsets: [{addresses: [{ip: 192.168.10.20}], ports: [{name: pg, port: 5432}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: legacy-abcde, labels: {kubernetes.io/service-name: legacy}}
addressType: IPv4
endpoints: [{addresses: [192.168.10.20], conditions: {ready: true}}]
ports: [{name: pg, port: 5432}]
`,
    });
    const s = b.topology.services[0];
    assert.equal(s.endpointSource, 'EndpointSlice');
    assert.equal(s.endpoints.length, 1);
  });

  it('leaves ExternalName Services out (a DNS alias, nothing for kube-proxy)', () => {
    assert.equal(
      t.services.some((s) => s.name === 'alias'),
      false,
    );
  });
});
