/**
 * Documents -> model. Reads every YAML document of the given files, sorts them by kind (NetPath
 * topologies, Kubernetes objects, tool configurations), merges them into one immutable `Topology` and
 * fills in documented defaults (docs/topology-format.md). Never throws on user input: what cannot be
 * used becomes a problem with a stable code and the span of the offending node.
 *
 * Precedence when several sources say the same thing: a NetPath document, then Kubernetes objects and
 * tool configurations, then defaults. A NetPath document may refine an object defined as a Kubernetes
 * object (same node name, same pod or Service namespace/name).
 */
import { NO_SPAN, problem, type Problem, type Span } from '../problem';
import { namespaceLabels, readNamespace, readNetworkPolicy } from './policy-read';
import {
  firstAddress,
  formatValue,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Prefix,
} from '../net/address';
import { getPath, parseYamlFile, type ParsedFile, type YDocument, type YMap, type YNode } from '../syntax/yaml';
import { bool, get, int, list, map, str, stringMap, strings } from './read';
import { TOPOLOGY_SCHEMA } from './schema';
import { validateAgainstSchema } from './validate';
import type {
  Bridge,
  ClusterSettings,
  Container,
  ContainerPort,
  Endpoint,
  External,
  Interface,
  LocalDetector,
  Namespace,
  Network,
  NetworkPolicy,
  Node,
  Origin,
  Pod,
  Protocol,
  Route,
  Service,
  ServicePort,
  SourceFile,
  Topology,
} from './types';
import { hostVethName } from './names';

export const NETPATH_API = 'netpath.dev/v1alpha1';

export interface BuildResult {
  readonly topology: Topology;
  readonly problems: readonly Problem[];
  /** Every parsed file, for features that need the syntax tree (hover, outline, definitions). */
  readonly parsed: readonly ParsedFile[];
  /** The text of every file read, exactly as analysed (for offset <-> line conversion at the edges). */
  readonly sources: readonly SourceFile[];
}

type Spans = Record<string, Span>;

/** What one source says about a node; merged later. */
interface NodeDraft {
  name: string;
  span: Span;
  spans: Spans;
  origin: Origin;
  interfaces?: Interface[];
  /** Node addresses without a prefix length (Kubernetes status.addresses). */
  k8sAddresses?: { value: string; span: Span }[];
  podCIDRs?: { value: string; span: Span }[];
  bridge?: YMap;
  routes?: Route[];
  iptables?: { text: string; span: Span };
  ipMasq?: boolean;
}

interface PodDraft {
  pod: Pod;
  /** Which fields the source set explicitly (a NetPath refinement only overrides these). */
  set: Set<keyof Pod>;
}

interface ServiceDraft {
  svc: Omit<Service, 'endpoints' | 'endpointSource'>;
  set: Set<string>;
  explicitEndpoints?: { ip: string; node?: string; port?: number; ready: boolean; span: Span }[];
}

interface SliceDraft {
  service: string; // namespace/name
  endpoints: { ip: string; node?: string; pod?: string; ready: boolean; span: Span }[];
  ports: { name: string; port: number; protocol: Protocol }[];
}

class Builder {
  readonly problems: Problem[] = [];
  topologyName: string | undefined;
  clusterNode: YMap | undefined;
  clusterSpan: Span | undefined;
  networks: Network[] = [];
  nodes = new Map<string, NodeDraft[]>();
  pods = new Map<string, PodDraft[]>();
  services = new Map<string, ServiceDraft[]>();
  externals: External[] = [];
  slices: SliceDraft[] = [];
  kubeProxy:
    | {
        clusterCIDRs?: { value: string; span: Span }[];
        masqueradeAll?: boolean;
        masqueradeBit?: number;
        detectLocalMode?: string;
        nodePortAddresses?: { value: string; span: Span }[];
        span: Span;
        spans: Spans;
      }
    | undefined;
  clusterConfig:
    | {
        podSubnet?: { value: string; span: Span }[];
        serviceSubnet?: { value: string; span: Span }[];
        span: Span;
        origin: Origin;
      }
    | undefined;
  masqAgent: { nonMasqueradeCIDRs: string[]; masqLinkLocal: boolean; span: Span; spans: Spans } | undefined;
  namespaces = new Map<string, Namespace>();
  policies = new Map<string, NetworkPolicy>();

  report(
    code: string,
    severity: Problem['severity'],
    message: string,
    span: Span,
    related: Problem['related'] = [],
  ): void {
    this.problems.push(problem(code, severity, message, span, related));
  }

  // ---------------------------------------------------------------- documents

  document(doc: YDocument): void {
    const root = doc.root;
    if (!root || root.kind !== 'map') return;
    const apiVersion = str(get(root, 'apiVersion'));
    const kind = str(get(root, 'kind'));
    if (apiVersion?.startsWith('netpath.dev/')) {
      if (apiVersion !== NETPATH_API) {
        this.report(
          'schema.api-version',
          'warning',
          `Unknown NetPath apiVersion '${apiVersion}': this version of NetPath reads ${NETPATH_API}. Reading it as ${NETPATH_API}.`,
          get(root, 'apiVersion')!.span,
        );
      }
      validateAgainstSchema(root, TOPOLOGY_SCHEMA, '', this.problems);
      this.netpath(root);
      return;
    }
    this.kubernetes(root, apiVersion, kind);
  }

  /** Known Kubernetes and tool kinds, with the apiVersions NetPath understands. */
  private static readonly KINDS: Record<string, readonly string[]> = {
    Node: ['v1'],
    Pod: ['v1'],
    Service: ['v1'],
    List: ['v1'],
    ConfigMap: ['v1'],
    EndpointSlice: ['discovery.k8s.io/v1'],
    KubeProxyConfiguration: ['kubeproxy.config.k8s.io/v1alpha1'],
    ClusterConfiguration: ['kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta2'],
    Cluster: ['kind.x-k8s.io/v1alpha4'],
    Namespace: ['v1'],
    NetworkPolicy: ['networking.k8s.io/v1'],
  };

  private kubernetes(root: YMap, apiVersion: string | undefined, kind: string | undefined): void {
    if (!kind || !(kind in Builder.KINDS)) return; // Other kinds are none of NetPath's business.
    if (kind === 'Cluster' && !apiVersion?.startsWith('kind.x-k8s.io/')) return; // Cluster API and others share the kind name.
    if (kind === 'ClusterConfiguration' && !apiVersion?.startsWith('kubeadm.k8s.io/')) return;
    if (kind === 'ConfigMap' && !this.isMasqAgentConfig(root)) return;
    if (!apiVersion || !Builder.KINDS[kind].includes(apiVersion)) {
      const span = get(root, 'apiVersion')?.span ?? get(root, 'kind')!.span;
      this.report(
        'k8s.unknown-api-version',
        'warning',
        `${kind} with apiVersion '${apiVersion ?? '(none)'}' is not a version NetPath knows (${Builder.KINDS[kind].join(', ')}); reading it as if it were.`,
        span,
      );
    }
    switch (kind) {
      case 'List':
        for (const item of list(get(root, 'items'))) {
          if (item.kind === 'map') this.kubernetes(item, str(get(item, 'apiVersion')), str(get(item, 'kind')));
        }
        return;
      case 'Node':
        return this.k8sNode(root);
      case 'Pod':
        return this.k8sPod(root);
      case 'Service':
        return this.k8sService(root);
      case 'EndpointSlice':
        return this.k8sEndpointSlice(root);
      case 'KubeProxyConfiguration':
        return this.k8sKubeProxy(root);
      case 'ClusterConfiguration':
        return this.clusterNetworking(root, get(root, 'networking'), 'ClusterConfiguration');
      case 'Cluster':
        return this.clusterNetworking(root, get(root, 'networking'), 'Cluster');
      case 'ConfigMap':
        return this.masqAgentConfigMap(root);
      case 'Namespace':
        return this.k8sNamespace(root);
      case 'NetworkPolicy':
        return this.k8sNetworkPolicy(root);
    }
  }

  // ---------------------------------------------------------------- NetPath documents

  private netpath(root: YMap): void {
    const name = str(get(get(root, 'metadata'), 'name'));
    if (name && !this.topologyName) this.topologyName = name;
    const cluster = map(get(root, 'cluster'));
    if (cluster) {
      if (this.clusterNode)
        this.report(
          'name.duplicate',
          'error',
          'Cluster settings are given twice; only the first is used.',
          cluster.span,
          [{ span: this.clusterSpan!, message: 'first cluster settings' }],
        );
      else {
        this.clusterNode = cluster;
        this.clusterSpan = cluster.span;
      }
    }
    for (const n of list(get(root, 'networks'))) {
      const name = str(get(n, 'name'));
      if (!name) continue;
      this.networks.push({
        name,
        cidr: str(get(n, 'cidr')) ?? '',
        span: n.span,
        spans: spansOf(n, ['name', 'cidr']),
        origin: 'netpath',
      });
    }
    for (const n of list(get(root, 'nodes'))) this.netpathNode(n);
    for (const p of list(get(root, 'pods'))) this.netpathPod(p);
    for (const s of list(get(root, 'services'))) this.netpathService(s);
    for (const x of list(get(root, 'externals'))) {
      const name = str(get(x, 'name'));
      if (!name) continue;
      const addresses = addressList(x, 'address', 'addresses');
      this.externals.push({
        name,
        network: str(get(x, 'network')) ?? '',
        addresses: addresses.map((a) => a.value),
        span: x.span,
        spans: { ...spansOf(x, ['name', 'network']), ...indexedSpans('addresses', addresses) },
        origin: 'netpath',
      });
    }
  }

  private netpathNode(n: YNode): void {
    const name = str(get(n, 'name'));
    if (!name) return;
    const interfaces: Interface[] = list(get(n, 'interfaces')).flatMap((i) => {
      const iname = str(get(i, 'name'));
      if (!iname) return [];
      const addresses = addressList(i, 'address', 'addresses');
      return [
        {
          name: iname,
          network: str(get(i, 'network')) ?? '',
          addresses: addresses.map((a) => a.value),
          span: i.span,
          spans: { ...spansOf(i, ['name', 'network']), ...indexedSpans('addresses', addresses) },
          origin: 'netpath' as const,
        },
      ];
    });
    const podCIDRs = addressList(n, 'podCIDR', 'podCIDRs');
    const routes: Route[] = list(get(n, 'routes')).flatMap((r) => {
      const to = str(get(r, 'to'));
      if (!to) return [];
      return [
        {
          to,
          via: str(get(r, 'via')),
          dev: str(get(r, 'dev')),
          source: 'declared' as const,
          span: r.span,
          spans: spansOf(r, ['to', 'via', 'dev']),
          origin: 'netpath' as const,
        },
      ];
    });
    const ipt = get(n, 'iptables');
    const iptText = str(ipt);
    this.addNode({
      name,
      span: n.span,
      spans: {
        ...spansOf(n, ['name', 'interfaces', 'bridge', 'routes', 'iptables', 'ipMasq']),
        ...indexedSpans('podCIDRs', podCIDRs),
      },
      origin: 'netpath',
      interfaces: get(n, 'interfaces') ? interfaces : undefined,
      podCIDRs: podCIDRs.length ? podCIDRs : undefined,
      bridge: map(get(n, 'bridge')),
      routes: get(n, 'routes') ? routes : undefined,
      iptables: iptText !== undefined && ipt ? { text: iptText, span: blockScalarBodySpan(ipt) } : undefined,
      ipMasq: bool(get(n, 'ipMasq')),
    });
  }

  private netpathPod(p: YNode): void {
    const name = str(get(p, 'name'));
    if (!name) return;
    const namespace = str(get(p, 'namespace')) ?? 'default';
    const ips = addressList(p, 'ip', 'ips');
    const set = new Set<keyof Pod>();
    const has = (key: string) => get(p, key) !== undefined;
    if (has('node')) set.add('node');
    if (ips.length) set.add('ips');
    if (has('hostVeth')) set.add('hostVeth');
    if (has('hostNetwork')) set.add('hostNetwork');
    if (has('labels')) set.add('labels');
    if (has('containers')) set.add('containers');
    const pod: Pod = {
      name,
      namespace,
      id: `${namespace}/${name}`,
      node: str(get(p, 'node')) ?? '',
      ips: ips.map((i) => i.value),
      hostVeth: str(get(p, 'hostVeth')) ?? hostVethName(namespace, name),
      hostNetwork: bool(get(p, 'hostNetwork')) ?? false,
      labels: stringMap(get(p, 'labels')),
      containers: list(get(p, 'containers')).flatMap((c) => readContainer(c, 'netpath')),
      span: p.span,
      spans: {
        ...spansOf(p, ['name', 'namespace', 'node', 'hostVeth', 'hostNetwork', 'labels', 'containers']),
        ...indexedSpans('ips', ips),
      },
      origin: 'netpath',
    };
    this.addPod(pod, set);
  }

  private netpathService(s: YNode): void {
    const name = str(get(s, 'name'));
    if (!name) return;
    const namespace = str(get(s, 'namespace')) ?? 'default';
    const set = new Set<string>();
    for (const key of [
      'type',
      'clusterIP',
      'clusterIPs',
      'selector',
      'ports',
      'externalTrafficPolicy',
      'internalTrafficPolicy',
      'externalIPs',
      'loadBalancerIP',
      'loadBalancerIPs',
      'loadBalancerSourceRanges',
      'sessionAffinity',
      'sessionAffinityTimeoutSeconds',
    ]) {
      if (get(s, key) !== undefined) set.add(key);
    }
    const clusterIPs = addressList(s, 'clusterIP', 'clusterIPs');
    const lbIPs = addressList(s, 'loadBalancerIP', 'loadBalancerIPs');
    const explicit = get(s, 'endpoints');
    this.addService({
      svc: {
        name,
        namespace,
        id: `${namespace}/${name}`,
        type: enumOf(str(get(s, 'type')), ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'ClusterIP'),
        clusterIPs: clusterIPs.map((c) => c.value),
        headless: false,
        selector: get(s, 'selector') ? stringMap(get(s, 'selector')) : undefined,
        ports: list(get(s, 'ports')).flatMap((p, i) => readServicePort(p, i, 'netpath')),
        externalTrafficPolicy: enumOf(str(get(s, 'externalTrafficPolicy')), ['Cluster', 'Local'] as const, 'Cluster'),
        internalTrafficPolicy: enumOf(str(get(s, 'internalTrafficPolicy')), ['Cluster', 'Local'] as const, 'Cluster'),
        externalIPs: strings(get(s, 'externalIPs')).map((x) => x.value),
        loadBalancerIPs: lbIPs.map((x) => x.value),
        loadBalancerSourceRanges: strings(get(s, 'loadBalancerSourceRanges')).map((x) => x.value),
        sessionAffinity: enumOf(str(get(s, 'sessionAffinity')), ['None', 'ClientIP'] as const, 'None'),
        sessionAffinityTimeoutSeconds: int(get(s, 'sessionAffinityTimeoutSeconds')) ?? 10800,
        span: s.span,
        spans: {
          ...spansOf(s, [
            'name',
            'namespace',
            'type',
            'selector',
            'ports',
            'externalTrafficPolicy',
            'internalTrafficPolicy',
            'externalIPs',
            'loadBalancerSourceRanges',
            'sessionAffinity',
          ]),
          ...indexedSpans('clusterIPs', clusterIPs),
          ...indexedSpans('loadBalancerIPs', lbIPs),
          ...indexedSpans('externalIPs', strings(get(s, 'externalIPs'))),
          ...indexedSpans('loadBalancerSourceRanges', strings(get(s, 'loadBalancerSourceRanges'))),
        },
        origin: 'netpath',
      },
      set,
      explicitEndpoints: explicit
        ? list(explicit).flatMap((e) => {
            const ip = str(get(e, 'ip'));
            return ip
              ? [
                  {
                    ip,
                    node: str(get(e, 'node')),
                    port: int(get(e, 'port')),
                    ready: bool(get(e, 'ready')) ?? true,
                    span: e.span,
                  },
                ]
              : [];
          })
        : undefined,
    });
  }

  // ---------------------------------------------------------------- Kubernetes objects

  private k8sNode(root: YMap): void {
    const metaName = get(get(root, 'metadata'), 'name');
    const name = str(metaName);
    if (!name) return;
    const spec = get(root, 'spec');
    const podCIDRs = strings(get(spec, 'podCIDRs')).length
      ? strings(get(spec, 'podCIDRs'))
      : strings(get(spec, 'podCIDR'));
    const addresses = list(get(get(root, 'status'), 'addresses'))
      .filter((a) => str(get(a, 'type')) === 'InternalIP')
      .flatMap((a) => strings(get(a, 'address')));
    this.addNode({
      name,
      span: root.span,
      spans: { name: metaName!.span, ...indexedSpans('podCIDRs', podCIDRs), ...indexedSpans('addresses', addresses) },
      origin: 'Node',
      podCIDRs: podCIDRs.length ? podCIDRs : undefined,
      k8sAddresses: addresses.length ? addresses : undefined,
    });
  }

  private k8sPod(root: YMap): void {
    const meta = get(root, 'metadata');
    const name = str(get(meta, 'name'));
    if (!name) return;
    const namespace = str(get(meta, 'namespace')) ?? 'default';
    const spec = get(root, 'spec');
    const status = get(root, 'status');
    let ips = list(get(status, 'podIPs')).flatMap((p) => strings(get(p, 'ip')));
    if (!ips.length) ips = strings(get(status, 'podIP'));
    const set = new Set<keyof Pod>(['node', 'hostNetwork', 'labels', 'containers']);
    if (ips.length) set.add('ips');
    const pod: Pod = {
      name,
      namespace,
      id: `${namespace}/${name}`,
      node: str(get(spec, 'nodeName')) ?? '',
      ips: ips.map((i) => i.value),
      hostVeth: hostVethName(namespace, name),
      hostNetwork: bool(get(spec, 'hostNetwork')) ?? false,
      labels: stringMap(get(meta, 'labels')),
      containers: list(get(spec, 'containers')).flatMap((c) => readContainer(c, 'Pod')),
      span: root.span,
      spans: {
        name: get(meta, 'name')!.span,
        ...optionalSpan('node', get(spec, 'nodeName')),
        ...optionalSpan('labels', get(meta, 'labels')),
        ...optionalSpan('containers', get(spec, 'containers')),
        ...indexedSpans('ips', ips),
      },
      origin: 'Pod',
    };
    this.addPod(pod, set);
  }

  private k8sService(root: YMap): void {
    const meta = get(root, 'metadata');
    const name = str(get(meta, 'name'));
    if (!name) return;
    const namespace = str(get(meta, 'namespace')) ?? 'default';
    const spec = get(root, 'spec');
    let clusterIPs = strings(get(spec, 'clusterIPs'));
    if (!clusterIPs.length) clusterIPs = strings(get(spec, 'clusterIP'));
    const headless = clusterIPs[0]?.value === 'None';
    clusterIPs = clusterIPs.filter((c) => c.value !== 'None' && c.value !== '');
    const lbIngress = list(get(get(get(root, 'status'), 'loadBalancer'), 'ingress')).flatMap((i) =>
      strings(get(i, 'ip')),
    );
    const lbIPs = lbIngress.length ? lbIngress : strings(get(spec, 'loadBalancerIP'));
    const set = new Set<string>([
      'type',
      'clusterIP',
      'selector',
      'ports',
      'externalTrafficPolicy',
      'internalTrafficPolicy',
      'externalIPs',
      'loadBalancerIP',
      'loadBalancerSourceRanges',
      'sessionAffinity',
      'sessionAffinityTimeoutSeconds',
    ]);
    this.addService({
      svc: {
        name,
        namespace,
        id: `${namespace}/${name}`,
        type: enumOf(str(get(spec, 'type')), ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'ClusterIP'),
        clusterIPs: clusterIPs.map((c) => c.value),
        headless,
        selector: get(spec, 'selector') ? stringMap(get(spec, 'selector')) : undefined,
        ports: list(get(spec, 'ports')).flatMap((p, i) => readServicePort(p, i, 'Service')),
        externalTrafficPolicy: enumOf(
          str(get(spec, 'externalTrafficPolicy')),
          ['Cluster', 'Local'] as const,
          'Cluster',
        ),
        internalTrafficPolicy: enumOf(
          str(get(spec, 'internalTrafficPolicy')),
          ['Cluster', 'Local'] as const,
          'Cluster',
        ),
        externalIPs: strings(get(spec, 'externalIPs')).map((x) => x.value),
        loadBalancerIPs: lbIPs.map((x) => x.value),
        loadBalancerSourceRanges: strings(get(spec, 'loadBalancerSourceRanges')).map((x) => x.value),
        sessionAffinity: enumOf(str(get(spec, 'sessionAffinity')), ['None', 'ClientIP'] as const, 'None'),
        sessionAffinityTimeoutSeconds:
          int(getPath(spec, 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds')) ?? 10800,
        span: root.span,
        spans: {
          name: get(meta, 'name')!.span,
          ...optionalSpan('selector', get(spec, 'selector')),
          ...optionalSpan('ports', get(spec, 'ports')),
          ...optionalSpan('type', get(spec, 'type')),
          ...optionalSpan('externalTrafficPolicy', get(spec, 'externalTrafficPolicy')),
          ...indexedSpans('clusterIPs', clusterIPs),
          ...indexedSpans('loadBalancerIPs', lbIPs),
          ...indexedSpans('externalIPs', strings(get(spec, 'externalIPs'))),
          ...indexedSpans('loadBalancerSourceRanges', strings(get(spec, 'loadBalancerSourceRanges'))),
        },
        origin: 'Service',
      },
      set,
    });
  }

  private k8sEndpointSlice(root: YMap): void {
    const meta = get(root, 'metadata');
    const svcName = stringMap(get(meta, 'labels'))['kubernetes.io/service-name'];
    if (!svcName) {
      this.report(
        'k8s.endpointslice-unowned',
        'warning',
        'This EndpointSlice has no kubernetes.io/service-name label, so no Service uses it.',
        get(meta, 'name')?.span ?? root.span,
      );
      return;
    }
    const namespace = str(get(meta, 'namespace')) ?? 'default';
    this.slices.push({
      service: `${namespace}/${svcName}`,
      endpoints: list(get(root, 'endpoints')).flatMap((e) => {
        const ready = bool(get(get(e, 'conditions'), 'ready')) ?? true;
        const targetRef = get(e, 'targetRef');
        const podName = str(get(targetRef, 'kind')) === 'Pod' ? str(get(targetRef, 'name')) : undefined;
        const podNs = str(get(targetRef, 'namespace')) ?? namespace;
        return strings(get(e, 'addresses')).map((a) => ({
          ip: a.value,
          node: str(get(e, 'nodeName')),
          pod: podName ? `${podNs}/${podName}` : undefined,
          ready,
          span: a.span,
        }));
      }),
      ports: list(get(root, 'ports')).flatMap((p) => {
        const port = int(get(p, 'port'));
        return port === undefined
          ? []
          : [{ name: str(get(p, 'name')) ?? '', port, protocol: protocolOf(str(get(p, 'protocol'))) }];
      }),
    });
  }

  private k8sKubeProxy(root: YMap): void {
    const clusterCIDR = get(root, 'clusterCIDR');
    const text = str(clusterCIDR);
    this.kubeProxy = {
      clusterCIDRs: text && clusterCIDR ? splitComma(text, clusterCIDR.span) : undefined,
      masqueradeAll: bool(get(get(root, 'iptables'), 'masqueradeAll')),
      masqueradeBit: int(get(get(root, 'iptables'), 'masqueradeBit')),
      detectLocalMode: str(get(root, 'detectLocalMode')),
      nodePortAddresses: get(root, 'nodePortAddresses') ? strings(get(root, 'nodePortAddresses')) : undefined,
      span: root.span,
      spans: {
        ...optionalSpan('masqueradeAll', get(get(root, 'iptables'), 'masqueradeAll')),
        ...optionalSpan('mode', get(root, 'mode')),
        ...indexedSpans('nodePortAddresses', strings(get(root, 'nodePortAddresses'))),
      },
    };
    const mode = str(get(root, 'mode'));
    if (mode && mode !== 'iptables') {
      this.report(
        'k8s.proxy-mode',
        'warning',
        `kube-proxy mode '${mode}' is not modelled; NetPath evaluates the iptables-mode rules, which decide the same Service routing but with different chains.`,
        get(root, 'mode')!.span,
      );
    }
  }

  private clusterNetworking(root: YMap, networking: YNode | undefined, origin: Origin): void {
    const pod = get(networking, 'podSubnet');
    const svc = get(networking, 'serviceSubnet');
    const podText = str(pod);
    const svcText = str(svc);
    this.clusterConfig = {
      podSubnet: podText && pod ? splitComma(podText, pod.span) : undefined,
      serviceSubnet: svcText && svc ? splitComma(svcText, svc.span) : undefined,
      span: root.span,
      origin,
    };
  }

  private isMasqAgentConfig(root: YMap): boolean {
    const name = str(get(get(root, 'metadata'), 'name'));
    return (
      name === 'ip-masq-agent' || (get(get(root, 'data'), 'config') !== undefined && name?.includes('masq') === true)
    );
  }

  private masqAgentConfigMap(root: YMap): void {
    const config = get(get(root, 'data'), 'config');
    const text = str(config);
    if (!config || text === undefined) return;
    // The config is YAML (or JSON) inside a string: parse it and map offsets back into the outer file.
    const bodySpan = blockScalarBodySpan(config);
    const inner = parseYamlFile(config.span.file, text);
    const innerRoot = inner.documents[0]?.root;
    const shift = (s: Span): Span => ({ file: s.file, start: s.start + bodySpan.start, end: s.end + bodySpan.start });
    for (const p of inner.problems) this.problems.push({ ...p, span: shift(p.span) });
    const cidrs = strings(get(innerRoot, 'nonMasqueradeCIDRs'));
    this.masqAgent = {
      nonMasqueradeCIDRs: get(innerRoot, 'nonMasqueradeCIDRs')
        ? cidrs.map((c) => c.value)
        : ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
      masqLinkLocal: bool(get(innerRoot, 'masqLinkLocal')) ?? false,
      span: root.span,
      spans: Object.fromEntries(cidrs.map((c, i) => [`nonMasqueradeCIDRs.${i}`, shift(c.span)])),
    };
  }

  private k8sNamespace(root: YMap): void {
    const ns = readNamespace(root);
    if (!ns) return;
    const first = this.namespaces.get(ns.name);
    if (first) {
      this.report('name.duplicate', 'error', `Namespace '${ns.name}' is defined twice.`, ns.spans.name ?? ns.span, [
        { span: first.spans.name ?? first.span, message: 'first definition' },
      ]);
      return;
    }
    this.namespaces.set(ns.name, ns);
  }

  private k8sNetworkPolicy(root: YMap): void {
    const policy = readNetworkPolicy(root, this.problems);
    if (!policy) return;
    const first = this.policies.get(policy.id);
    if (first) {
      this.report(
        'name.duplicate',
        'error',
        `NetworkPolicy '${policy.id}' is defined twice.`,
        policy.spans.name ?? policy.span,
        [{ span: first.spans.name ?? first.span, message: 'first definition' }],
      );
      return;
    }
    this.policies.set(policy.id, policy);
  }

  // ---------------------------------------------------------------- collection

  private addNode(d: NodeDraft): void {
    const list = this.nodes.get(d.name) ?? [];
    const sameOrigin = list.find((x) => x.origin === d.origin);
    if (sameOrigin) {
      this.report('name.duplicate', 'error', `Node '${d.name}' is defined twice.`, d.spans.name ?? d.span, [
        { span: sameOrigin.spans.name ?? sameOrigin.span, message: 'first definition' },
      ]);
      return;
    }
    list.push(d);
    this.nodes.set(d.name, list);
  }

  private addPod(pod: Pod, set: Set<keyof Pod>): void {
    const list = this.pods.get(pod.id) ?? [];
    const sameOrigin = list.find((x) => x.pod.origin === pod.origin);
    if (sameOrigin) {
      this.report('name.duplicate', 'error', `Pod '${pod.id}' is defined twice.`, pod.spans.name ?? pod.span, [
        { span: sameOrigin.pod.spans.name ?? sameOrigin.pod.span, message: 'first definition' },
      ]);
      return;
    }
    list.push({ pod, set });
    this.pods.set(pod.id, list);
  }

  private addService(d: ServiceDraft): void {
    const list = this.services.get(d.svc.id) ?? [];
    const sameOrigin = list.find((x) => x.svc.origin === d.svc.origin);
    if (sameOrigin) {
      this.report(
        'name.duplicate',
        'error',
        `Service '${d.svc.id}' is defined twice.`,
        d.svc.spans.name ?? d.svc.span,
        [{ span: sameOrigin.svc.spans.name ?? sameOrigin.svc.span, message: 'first definition' }],
      );
      return;
    }
    list.push(d);
    this.services.set(d.svc.id, list);
  }

  // ---------------------------------------------------------------- merging

  finish(files: readonly string[]): Topology {
    const cluster = this.cluster(files[0] ?? '');
    const networks = this.mergedNetworks();
    const nodes = this.mergedNodes(cluster, networks);
    const pods = this.mergedPods(nodes);
    const services = this.mergedServices(pods);
    this.checkReferences(networks, nodes, pods, this.externals);
    const withRoutes = cluster.routing === 'host-gw' ? impliedRoutes(nodes, networks) : nodes;
    return {
      name: this.topologyName ?? 'topology',
      files,
      cluster,
      networks,
      nodes: withRoutes,
      pods,
      services,
      externals: this.externals,
      namespaces: this.mergedNamespaces(pods, services),
      networkPolicies: [...this.policies.values()],
    };
  }

  /** Namespace objects, plus a namespace (with only its automatic label) for each one objects live in without one. */
  private mergedNamespaces(pods: readonly Pod[], services: readonly Service[]): Namespace[] {
    const out = [...this.namespaces.values()];
    const known = new Set(out.map((n) => n.name));
    const used = [...pods, ...services, ...this.policies.values()].map((x) => x.namespace);
    for (const name of used) {
      if (known.has(name)) continue;
      known.add(name);
      out.push({
        name,
        labels: namespaceLabels(name, {}),
        span: NO_SPAN,
        spans: {},
        origin: 'default',
      });
    }
    return out;
  }

  private cluster(firstFile: string): ClusterSettings {
    const c = this.clusterNode;
    const spans: Spans = {};
    const defaultSpan: Span = { file: firstFile, start: 0, end: 0 };
    const pick = (key: string, ...fallbacks: ({ value: string; span: Span }[] | undefined)[]): string[] => {
      const own = c ? strings(get(c, key)) : [];
      const chosen = own.length ? own : (fallbacks.find((f) => f && f.length) ?? []);
      chosen.forEach((x, i) => (spans[`${key}.${i}`] = x.span));
      return chosen.map((x) => x.value);
    };
    const podCIDRs = pick('podCIDRs', this.kubeProxy?.clusterCIDRs, this.clusterConfig?.podSubnet);
    let serviceCIDRs = pick('serviceCIDRs', this.clusterConfig?.serviceSubnet);
    if (!serviceCIDRs.length) serviceCIDRs = ['10.96.0.0/12']; // kubeadm's default service range.
    const rangeNode = get(c, 'nodePortRange');
    const range = /^(\d+)-(\d+)$/.exec(str(rangeNode) ?? '');
    if (rangeNode) spans.nodePortRange = rangeNode.span;
    if (rangeNode && (!range || Number(range[1]) > Number(range[2]))) {
      this.report(
        'schema.type',
        'error',
        `nodePortRange must look like 30000-32767 (low-high), not '${str(rangeNode) ?? ''}'.`,
        rangeNode.span,
      );
    }
    const kp = map(get(c, 'kubeProxy'));
    const cni = map(get(c, 'cni'));
    const masq = map(get(c, 'masquerade'));
    const detector =
      str(get(kp, 'localDetector')) ?? detectorFromKubeProxyConfig(this.kubeProxy?.detectLocalMode) ?? 'ClusterCIDR';
    const npa =
      kp && get(kp, 'nodePortAddresses')
        ? strings(get(kp, 'nodePortAddresses')).map((x) => x.value)
        : (this.kubeProxy?.nodePortAddresses?.map((x) => x.value) ?? []);
    return {
      podCIDRs,
      serviceCIDRs,
      nodePortRange:
        range && Number(range[1]) <= Number(range[2])
          ? { min: Number(range[1]), max: Number(range[2]) }
          : { min: 30000, max: 32767 },
      routing: str(get(c, 'routing')) === 'manual' ? 'manual' : 'host-gw',
      kubeProxy: {
        mode: 'iptables',
        masqueradeAll: bool(get(kp, 'masqueradeAll')) ?? this.kubeProxy?.masqueradeAll ?? false,
        masqueradeBit: int(get(kp, 'masqueradeBit')) ?? this.kubeProxy?.masqueradeBit ?? 14,
        localDetector: (['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix', 'None'].includes(detector)
          ? detector
          : 'ClusterCIDR') as LocalDetector,
        nodePortAddresses: npa,
        span: kp?.span ?? this.kubeProxy?.span ?? defaultSpan,
        spans: kp
          ? {
              ...spansOf(kp, ['mode', 'masqueradeAll', 'masqueradeBit', 'localDetector', 'nodePortAddresses']),
              ...indexedSpans('nodePortAddresses', strings(get(kp, 'nodePortAddresses'))),
            }
          : (this.kubeProxy?.spans ?? {}),
        origin: kp ? 'netpath' : this.kubeProxy ? 'KubeProxyConfiguration' : 'default',
      },
      cni: {
        bridge: str(get(cni, 'bridge')) ?? 'cni0',
        ipMasq: bool(get(cni, 'ipMasq')) ?? false,
        hairpinMode: bool(get(cni, 'hairpinMode')) ?? true,
        span: cni?.span ?? defaultSpan,
        spans: cni ? spansOf(cni, ['bridge', 'ipMasq', 'hairpinMode']) : {},
        origin: cni ? 'netpath' : 'default',
      },
      masquerade: masq
        ? {
            nonMasqueradeCIDRs: get(masq, 'nonMasqueradeCIDRs')
              ? strings(get(masq, 'nonMasqueradeCIDRs')).map((x) => x.value)
              : ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
            masqLinkLocal: bool(get(masq, 'masqLinkLocal')) ?? false,
            span: masq.span,
            spans: {
              ...spansOf(masq, ['nonMasqueradeCIDRs', 'masqLinkLocal']),
              ...indexedSpans('nonMasqueradeCIDRs', strings(get(masq, 'nonMasqueradeCIDRs'))),
            },
            origin: 'netpath',
          }
        : this.masqAgent
          ? {
              nonMasqueradeCIDRs: this.masqAgent.nonMasqueradeCIDRs,
              masqLinkLocal: this.masqAgent.masqLinkLocal,
              span: this.masqAgent.span,
              spans: this.masqAgent.spans,
              origin: 'ConfigMap',
            }
          : undefined,
      span: c?.span ?? this.clusterConfig?.span ?? defaultSpan,
      spans: {
        ...spans,
        ...(c ? spansOf(c, ['podCIDRs', 'serviceCIDRs', 'routing', 'kubeProxy', 'cni', 'masquerade']) : {}),
      },
      origin: c ? 'netpath' : (this.clusterConfig?.origin ?? 'default'),
    };
  }

  private mergedNetworks(): Network[] {
    const seen = new Map<string, Network>();
    const out: Network[] = [];
    for (const n of this.networks) {
      const first = seen.get(n.name);
      if (first) {
        this.report('name.duplicate', 'error', `Network '${n.name}' is defined twice.`, n.spans.name ?? n.span, [
          { span: first.spans.name ?? first.span, message: 'first definition' },
        ]);
        continue;
      }
      seen.set(n.name, n);
      out.push(n);
    }
    return out;
  }

  private mergedNodes(cluster: ClusterSettings, networks: Network[]): Node[] {
    const defaultNetwork = this.defaultUnderlay(networks);
    const out: Node[] = [];
    for (const [name, drafts] of this.nodes) {
      // NetPath refinements win over Kubernetes objects, field by field.
      const np = drafts.find((d) => d.origin === 'netpath');
      const k8s = drafts.find((d) => d.origin === 'Node');
      const base = np ?? k8s!;
      const podCIDRs = np?.podCIDRs ?? k8s?.podCIDRs ?? [];
      let interfaces = np?.interfaces;
      if (!interfaces) {
        const addresses = k8s?.k8sAddresses ?? [];
        const net = defaultNetwork;
        interfaces =
          addresses.length && net
            ? [
                {
                  name: 'eth0',
                  network: net.name,
                  addresses: addresses.map((a) => withLength(a.value, net.cidr)),
                  span: addresses[0].span,
                  spans: indexedSpans('addresses', addresses),
                  origin: 'default',
                },
              ]
            : [];
      }
      const bridge = this.bridgeOf(
        np?.bridge,
        podCIDRs.map((p) => p.value),
        cluster,
        base.span,
      );
      out.push({
        name,
        interfaces,
        podCIDRs: podCIDRs.map((p) => p.value),
        bridge,
        routes: np?.routes ?? [],
        iptables: np?.iptables,
        cniIpMasq: np?.ipMasq ?? cluster.cni.ipMasq,
        span: base.span,
        spans: { ...(k8s?.spans ?? {}), ...(np?.spans ?? {}), ...indexedSpans('podCIDRs', podCIDRs) },
        origin: base.origin,
      });
    }
    return out;
  }

  /** Without declared networks, Kubernetes Node addresses share one underlay: the smallest prefix (at most /24) holding them all. */
  private defaultUnderlay(networks: Network[]): Network | undefined {
    if (networks.length) return networks.length === 1 ? networks[0] : undefined;
    const addrs = [...this.nodes.values()]
      .flatMap((ds) => ds.flatMap((d) => d.k8sAddresses ?? []))
      .map((a) => parseAddress(a.value))
      .filter((a) => a?.family === 4);
    if (!addrs.length) return undefined;
    let length = 24;
    const base = addrs[0]!.value;
    while (length > 0 && !addrs.every((a) => a!.value >> BigInt(32 - length) === base >> BigInt(32 - length))) length--;
    const cidr = `${formatValue(4, firstAddress({ family: 4, address: base, length, text: '' }))}/${length}`;
    const net: Network = { name: 'underlay', cidr, span: { file: '', start: 0, end: 0 }, spans: {}, origin: 'default' };
    networks.push(net);
    return net;
  }

  private bridgeOf(node: YMap | undefined, podCIDRs: string[], cluster: ClusterSettings, fallback: Span): Bridge {
    const addresses = node ? addressList(node, 'address', 'addresses') : [];
    return {
      name: str(get(node, 'name')) ?? cluster.cni.bridge,
      // The CNI bridge plugin's gateway defaults to the first address after the network address.
      addresses: addresses.length
        ? addresses.map((a) => a.value)
        : podCIDRs.flatMap((c) => {
            const p = parsePrefix(c);
            return p ? [`${formatValue(p.family, firstAddress(p) + 1n)}/${p.length}`] : [];
          }),
      hairpinMode: bool(get(node, 'hairpinMode')) ?? cluster.cni.hairpinMode,
      span: node?.span ?? fallback,
      spans: node ? { ...spansOf(node, ['name', 'hairpinMode']), ...indexedSpans('addresses', addresses) } : {},
      origin: node ? 'netpath' : 'default',
    };
  }

  private mergedPods(nodes: Node[]): Pod[] {
    const out: Pod[] = [];
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    for (const drafts of this.pods.values()) {
      const k8s = drafts.find((d) => d.pod.origin === 'Pod');
      const np = drafts.find((d) => d.pod.origin === 'netpath');
      let pod: Pod = k8s?.pod ?? np!.pod;
      if (k8s && np) {
        const refined: Record<string, unknown> = { ...k8s.pod, spans: { ...k8s.pod.spans, ...np.pod.spans } };
        for (const key of np.set) refined[key] = np.pod[key];
        pod = refined as unknown as Pod;
      }
      // A hostNetwork pod shares its node's namespace and addresses.
      if (pod.hostNetwork && !pod.ips.length) {
        const n = nodeByName.get(pod.node);
        if (n) pod = { ...pod, ips: n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])) };
      }
      out.push(pod);
    }
    return out;
  }

  private mergedServices(pods: Pod[]): Service[] {
    const slicesByService = new Map<string, SliceDraft[]>();
    for (const s of this.slices) slicesByService.set(s.service, [...(slicesByService.get(s.service) ?? []), s]);
    const selectorIndex = new LabelIndex(pods);
    const podByIP = new Map<string, Pod>();
    for (const p of pods) for (const ip of p.ips) if (!p.hostNetwork) podByIP.set(ip, p);
    const out: Service[] = [];
    for (const drafts of this.services.values()) {
      const k8s = drafts.find((d) => d.svc.origin === 'Service');
      const np = drafts.find((d) => d.svc.origin === 'netpath');
      let svc = (k8s ?? np!).svc;
      if (k8s && np) {
        const refined: Record<string, unknown> = { ...k8s.svc, spans: { ...k8s.svc.spans, ...np.svc.spans } };
        for (const key of np.set) {
          const field = key === 'clusterIP' ? 'clusterIPs' : key === 'loadBalancerIP' ? 'loadBalancerIPs' : key;
          refined[field] = (np.svc as unknown as Record<string, unknown>)[field];
          if (field === 'clusterIPs') refined.headless = false;
        }
        svc = refined as unknown as typeof svc;
      }
      const explicit = np?.explicitEndpoints ?? k8s?.explicitEndpoints;
      let endpoints: Endpoint[] = [];
      let endpointSource: Service['endpointSource'] = 'none';
      if (svc.selector && Object.keys(svc.selector).length) {
        endpointSource = 'selector';
        endpoints = selectorIndex
          .select(svc.namespace, svc.selector)
          .filter((p) => p.ips.length)
          .map((p) => ({
            ip: p.ips[0],
            pod: p.id,
            node: p.node,
            ready: true,
            span: p.spans.name ?? p.span,
            ports: Object.fromEntries(
              svc.ports.flatMap((sp) => {
                const target = resolveTargetPort(sp, p);
                return target === undefined ? [] : [[sp.name, target]];
              }),
            ),
          }));
        // Dual-stack pods: one endpoint per family, like one EndpointSlice per family.
        endpoints = endpoints.concat(
          selectorIndex
            .select(svc.namespace, svc.selector)
            .filter((p) => p.ips.length > 1)
            .flatMap((p) =>
              p.ips.slice(1).map((ip) => ({
                ip,
                pod: p.id,
                node: p.node,
                ready: true,
                span: p.spans.name ?? p.span,
                ports: Object.fromEntries(
                  svc.ports.flatMap((sp) => {
                    const t = resolveTargetPort(sp, p);
                    return t === undefined ? [] : [[sp.name, t]];
                  }),
                ),
              })),
            ),
        );
      } else if (explicit) {
        endpointSource = 'EndpointSlice';
        endpoints = explicit.map((e) => {
          const pod = podByIP.get(e.ip);
          return {
            ip: e.ip,
            pod: pod?.id,
            node: e.node ?? pod?.node,
            ready: e.ready,
            span: e.span,
            ports: Object.fromEntries(
              svc.ports.map((sp) => [sp.name, e.port ?? (typeof sp.targetPort === 'number' ? sp.targetPort : sp.port)]),
            ),
          };
        });
      } else if (slicesByService.has(svc.id)) {
        endpointSource = 'EndpointSlice';
        for (const slice of slicesByService.get(svc.id)!) {
          for (const e of slice.endpoints) {
            const pod = e.pod ? pods.find((p) => p.id === e.pod) : podByIP.get(e.ip);
            endpoints.push({
              ip: e.ip,
              pod: pod?.id ?? e.pod,
              node: e.node ?? pod?.node,
              ready: e.ready,
              span: e.span,
              ports: Object.fromEntries(
                svc.ports.flatMap((sp) => {
                  const match = slice.ports.find((p) => p.name === sp.name && p.protocol === sp.protocol);
                  return match ? [[sp.name, match.port]] : [];
                }),
              ),
            });
          }
        }
      }
      out.push({ ...svc, endpoints, endpointSource });
    }
    return out;
  }

  private checkReferences(networks: Network[], nodes: Node[], pods: Pod[], externals: External[]): void {
    const networkNames = new Set(networks.map((n) => n.name));
    const nodeNames = new Set(nodes.map((n) => n.name));
    const known = (kind: string, names: Set<string>) => [...names].slice(0, 8).join(', ') || `no ${kind}s are defined`;
    for (const n of nodes) {
      for (const i of n.interfaces) {
        if (i.origin !== 'default' && !networkNames.has(i.network)) {
          this.report(
            'ref.unknown',
            'error',
            `Interface ${n.name}/${i.name} is attached to network '${i.network}', which does not exist (known: ${known('network', networkNames)}).`,
            i.spans.network ?? i.span,
          );
        }
      }
      for (const r of n.routes) {
        if (r.dev && !n.interfaces.some((i) => i.name === r.dev) && r.dev !== n.bridge.name) {
          this.report(
            'ref.unknown',
            'error',
            `Route to ${r.to} on node ${n.name} uses device '${r.dev}', which the node does not have.`,
            r.spans.dev ?? r.span,
          );
        }
      }
    }
    for (const p of pods) {
      // A Pod without spec.nodeName is normal in a manifest (the scheduler sets it); a trace from or to it says what is missing.
      if (p.node && !nodeNames.has(p.node)) {
        this.report(
          'ref.unknown',
          'error',
          `Pod ${p.id} runs on node '${p.node}', which does not exist (known: ${known('node', nodeNames)}).`,
          p.spans.node ?? p.span,
        );
      }
    }
    for (const x of externals) {
      if (!networkNames.has(x.network)) {
        this.report(
          'ref.unknown',
          'error',
          `External ${x.name} is on network '${x.network}', which does not exist (known: ${known('network', networkNames)}).`,
          x.spans.network ?? x.span,
        );
      }
    }
  }
}

/** Pods indexed by namespace and label pair, so each selector costs the size of its smallest label set, not all pods. */
class LabelIndex {
  private readonly byPair = new Map<string, Pod[]>();
  constructor(pods: readonly Pod[]) {
    for (const p of pods) {
      for (const [k, v] of Object.entries(p.labels)) {
        const key = `${p.namespace}\u0000${k}\u0000${v}`;
        const list = this.byPair.get(key);
        if (list) list.push(p);
        else this.byPair.set(key, [p]);
      }
    }
  }
  select(namespace: string, selector: Readonly<Record<string, string>>): Pod[] {
    const lists = Object.entries(selector).map(([k, v]) => this.byPair.get(`${namespace}\u0000${k}\u0000${v}`) ?? []);
    lists.sort((a, b) => a.length - b.length);
    const entries = Object.entries(selector);
    return (lists[0] ?? []).filter((p) => entries.every(([k, v]) => p.labels[k] === v));
  }
}

function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  for (const c of pod.containers)
    for (const p of c.ports) if (p.name === sp.targetPort && p.protocol === sp.protocol) return p.containerPort;
  return undefined;
}

/** With routing: host-gw, every node routes each other node's pod CIDR via that node's address on a shared network. */
function impliedRoutes(nodes: Node[], networks: Network[]): Node[] {
  const networkNames = new Set(networks.map((n) => n.name));
  return nodes.map((n) => {
    const implied: Route[] = [];
    for (const other of nodes) {
      if (other === n) continue;
      for (const cidr of other.podCIDRs) {
        const family = parsePrefix(cidr)?.family;
        if (!family) continue;
        if (n.routes.some((r) => r.to === cidr)) continue; // A declared route wins.
        for (const mine of n.interfaces) {
          if (!networkNames.has(mine.network) && mine.origin !== 'default') continue;
          const theirs = other.interfaces.find((i) => i.network === mine.network);
          const via = theirs?.addresses.map((a) => a.split('/')[0]).find((a) => parseAddress(a)?.family === family);
          if (via) {
            implied.push({
              to: cidr,
              via,
              dev: mine.name,
              source: 'implied',
              span: other.spans[`podCIDRs.${other.podCIDRs.indexOf(cidr)}`] ?? other.span,
              spans: {},
              origin: 'default',
            });
            break;
          }
        }
      }
    }
    return implied.length ? { ...n, routes: [...n.routes, ...implied] } : n;
  });
}

// ---------------------------------------------------------------- small readers

function spansOf(node: YNode, keys: string[]): Spans {
  const out: Spans = {};
  if (node.kind !== 'map') return out;
  for (const e of node.entries) if (keys.includes(e.key)) out[e.key] = e.value.span;
  return out;
}

function optionalSpan(key: string, node: YNode | undefined): Spans {
  return node ? { [key]: node.span } : {};
}

function indexedSpans(key: string, items: { span: Span }[]): Spans {
  return Object.fromEntries(items.map((x, i) => [`${key}.${i}`, x.span]));
}

/** `address` (one) or `addresses` (list): both spellings of the same field. */
function addressList(node: YNode, single: string, plural: string): { value: string; span: Span }[] {
  const many = strings(get(node, plural));
  return many.length ? many : strings(get(node, single));
}

function splitComma(text: string, span: Span): { value: string; span: Span }[] {
  let offset = 0;
  // Offsets inside a quoted scalar are shifted by the opening quote.
  const quote = text.length < span.end - span.start ? 1 : 0;
  return text
    .split(',')
    .map((part) => {
      const lead = part.length - part.trimStart().length;
      const s = {
        value: part.trim(),
        span: {
          file: span.file,
          start: span.start + quote + offset + lead,
          end: span.start + quote + offset + lead + part.trim().length,
        },
      };
      offset += part.length + 1;
      return s;
    })
    .filter((x) => x.value);
}

function enumOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  return value !== undefined && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function protocolOf(value: string | undefined): Protocol {
  return enumOf(value?.toUpperCase(), ['TCP', 'UDP', 'SCTP'] as const, 'TCP');
}

function detectorFromKubeProxyConfig(mode: string | undefined): string | undefined {
  if (mode === undefined || mode === '') return undefined;
  return mode === 'ClusterCIDR' || mode === 'NodeCIDR' || mode === 'BridgeInterface' || mode === 'InterfaceNamePrefix'
    ? mode
    : mode === 'None'
      ? 'None'
      : undefined;
}

function withLength(address: string, networkCidr: string): string {
  const p = parsePrefix(networkCidr);
  const a = parseAddress(address);
  if (p && a && prefixContainsAddress(p as Prefix, a)) return `${address}/${p.length}`;
  return `${address}/${a?.family === 6 ? 128 : 32}`;
}

function readContainer(c: YNode, origin: Origin): Container[] {
  const name = str(get(c, 'name'));
  if (!name) return [];
  const ports: ContainerPort[] = list(get(c, 'ports')).flatMap((p) => {
    const containerPort = int(get(p, 'containerPort'));
    if (containerPort === undefined) return [];
    return [
      {
        name: str(get(p, 'name')),
        containerPort,
        protocol: protocolOf(str(get(p, 'protocol'))),
        span: p.span,
        spans: spansOf(p, ['name', 'containerPort', 'protocol']),
        origin,
      },
    ];
  });
  return [{ name, ports, span: c.span, spans: spansOf(c, ['name', 'ports']), origin }];
}

function readServicePort(p: YNode, index: number, origin: Origin): ServicePort[] {
  const port = int(get(p, 'port'));
  if (port === undefined) return [];
  const targetNode = get(p, 'targetPort');
  const target = int(targetNode) ?? str(targetNode) ?? port;
  return [
    {
      name: str(get(p, 'name')) ?? (index === 0 ? '' : String(port)),
      port,
      targetPort: typeof target === 'string' && /^\d+$/.test(target) ? Number(target) : target,
      nodePort: int(get(p, 'nodePort')),
      protocol: protocolOf(str(get(p, 'protocol'))),
      span: p.span,
      spans: spansOf(p, ['name', 'port', 'targetPort', 'nodePort', 'protocol']),
      origin,
    },
  ];
}

/**
 * The span of a string's content. For a block scalar (`|`), the content starts on the line after the
 * indicator; the yaml library's range covers the indicator too. Offsets of rules inside raw iptables text
 * are relative to this start, then shifted by the indentation of each line (see the netfilter parser).
 */
function blockScalarBodySpan(node: YNode): Span {
  return node.span;
}

// ---------------------------------------------------------------- entry point

/** Builds the model from already-read files. */
export function buildTopology(files: readonly SourceFile[]): BuildResult {
  const b = new Builder();
  const parsed = files.map((f) => parseYamlFile(f.path, f.text));
  for (const p of parsed) {
    b.problems.push(...p.problems);
    for (const d of p.documents) b.document(d);
  }
  const topology = b.finish(files.map((f) => f.path));
  return { topology, problems: b.problems, parsed, sources: files };
}
