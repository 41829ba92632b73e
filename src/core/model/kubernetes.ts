/**
 * Kubernetes objects and tool configurations: Node, Pod, Service, EndpointSlice, List, kube-proxy's
 * KubeProxyConfiguration, kubeadm's ClusterConfiguration, kind's Cluster, ip-masq-agent's ConfigMap, Namespace, NetworkPolicy.
 */
import { type Span } from '../problem';
import { getPath, parseYamlFile, type YMap, type YNode } from '../syntax/yaml';
import { get, getBool, getInt, getStr, int, list, map, str, strAt, stringMap, strings } from './read';
import { LOAD_BALANCER_IP_MODES, type Origin, type Pod, type WorkloadKind } from './types';
import { hostVethNameOfId } from './names';
import { Drafts, type ConfigRanges, type Spans } from './drafts';
import {
  extraArg,
  kindDefaults,
  parsePortRange,
  validateKind,
  validateKubeadm,
  validateKubeProxy,
  validateService,
} from './k8s-validation';
import { readNamespace, readNetworkPolicy } from './policy-read';
import { isCniConfigMap, readCniConfigMap, readIPPool } from './cni-config';
import {
  stringsWithSpansAt,
  blockScalarBodySpan,
  enumOf,
  exactArray,
  indexedSpans,
  optionalSpan,
  protocolOf,
  readContainers,
  readServicePorts,
  splitComma,
} from './fields';
import { lookupTable } from '../lookup';

/** Known Kubernetes and tool kinds, with the apiVersions NetPath understands. */
const KINDS: Record<string, readonly string[]> = lookupTable({
  Node: ['v1'],
  Pod: ['v1'],
  Service: ['v1'],
  List: ['v1'],
  ConfigMap: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
  Endpoints: ['v1'],
  Deployment: ['apps/v1'],
  ReplicaSet: ['apps/v1'],
  StatefulSet: ['apps/v1'],
  DaemonSet: ['apps/v1'],
  Job: ['batch/v1'],
  CronJob: ['batch/v1'],
  ReplicationController: ['v1'],
  KubeProxyConfiguration: ['kubeproxy.config.k8s.io/v1alpha1'],
  ClusterConfiguration: ['kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta2'],
  Cluster: ['kind.x-k8s.io/v1alpha4'],
  Namespace: ['v1'],
  NetworkPolicy: ['networking.k8s.io/v1'],
  IPPool: ['projectcalico.org/v3', 'crd.projectcalico.org/v1'],
});

/** Whether NetPath reads objects of this kind (ConfigMaps only as ip-masq-agent's, Clusters only as kind's). */
export function isReadKind(kind: string): boolean {
  return kind in KINDS;
}

export function kubernetes(b: Drafts, root: YMap, apiVersion: string | undefined, kind: string | undefined): void {
  if (!kind || !(kind in KINDS)) return; // Other kinds are none of NetPath's business.
  if (kind === 'Cluster' && !apiVersion?.startsWith('kind.x-k8s.io/')) return; // Cluster API and others share the kind name.
  if (kind === 'ClusterConfiguration' && !apiVersion?.startsWith('kubeadm.k8s.io/')) return;
  if (kind === 'ConfigMap' && !isMasqAgentConfig(b, root) && !isCniConfigMap(root)) return;
  if (kind === 'IPPool' && !apiVersion?.includes('projectcalico.org/')) return;
  if (!apiVersion || !KINDS[kind].includes(apiVersion)) {
    const span = get(root, 'apiVersion')?.span ?? get(root, 'kind')?.span ?? root.span;
    b.report(
      'k8s.unknown-api-version',
      'warning',
      `${kind} with apiVersion '${apiVersion ?? '(none)'}' is not a version NetPath knows (${KINDS[kind].join(', ')}); reading it as if it were.`,
      span,
    );
  }
  switch (kind) {
    case 'List':
      for (const item of list(get(root, 'items'))) {
        if (!b.takeObject(item)) return;
        if (item.kind === 'map') kubernetes(b, item, getStr(item, 'apiVersion'), getStr(item, 'kind'));
      }
      return;
    case 'Node':
      return k8sNode(b, root);
    case 'Pod':
      return k8sPod(b, root);
    case 'Service':
      return k8sService(b, root);
    case 'EndpointSlice':
      return k8sEndpointSlice(b, root);
    case 'Endpoints':
      return k8sEndpoints(b, root);
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'CronJob':
    case 'ReplicationController':
      return k8sWorkload(b, root, kind);
    case 'KubeProxyConfiguration':
      return k8sKubeProxy(b, root);
    case 'ClusterConfiguration':
      return clusterNetworking(b, root, get(root, 'networking'), 'ClusterConfiguration');
    case 'Cluster':
      return clusterNetworking(b, root, get(root, 'networking'), 'Cluster');
    case 'ConfigMap':
      return isCniConfigMap(root) ? readCniConfigMap(b, root) : masqAgentConfigMap(b, root);
    case 'IPPool':
      return readIPPool(b, root);
    case 'Namespace':
      return k8sNamespace(b, root);
    case 'NetworkPolicy':
      return k8sNetworkPolicy(b, root);
  }
}

function k8sNode(b: Drafts, root: YMap): void {
  const metaName = get(get(root, 'metadata'), 'name');
  const name = str(metaName);
  if (!metaName || !name) return;
  const spec = get(root, 'spec');
  const podCIDRs = strings(get(spec, 'podCIDRs')).length
    ? strings(get(spec, 'podCIDRs'))
    : strings(get(spec, 'podCIDR'));
  const addresses = list(get(get(root, 'status'), 'addresses'))
    .filter((a) => getStr(a, 'type') === 'InternalIP')
    .flatMap((a) => strings(get(a, 'address')));
  b.addNode({
    name,
    span: root.span,
    spans: { name: metaName.span, ...indexedSpans('podCIDRs', podCIDRs), ...indexedSpans('addresses', addresses) },
    origin: 'Node',
    podCIDRs: podCIDRs.length ? podCIDRs : undefined,
    k8sAddresses: addresses.length ? addresses : undefined,
  });
}

function k8sPod(b: Drafts, root: YMap): void {
  const meta = map(get(root, 'metadata'));
  const nameAt = meta ? meta.indexOf('name') : -1;
  const name = meta && nameAt >= 0 ? strAt(meta, nameAt) : undefined;
  if (!meta || !name) return;
  const namespace = getStr(meta, 'namespace') ?? 'default';
  const spec = get(root, 'spec');
  const status = get(root, 'status');
  const spans = podSpans(meta.valueSpanAt(nameAt), spec);
  // Each address's span goes into the pod's spans as it is read, after the fields' (no `{ value, span }` pairs).
  let ips: string[] = [];
  for (const p of list(get(status, 'podIPs')))
    if (p.kind === 'map') stringsWithSpansAt(p, p.indexOf('ip'), 'ips', spans, ips);
  if (!ips.length && status?.kind === 'map') ips = stringsWithSpansAt(status, status.indexOf('podIP'), 'ips', spans);
  const id = `${namespace}/${name}`;
  const pod: Pod = {
    name,
    namespace,
    id,
    node: getStr(spec, 'nodeName') ?? '',
    ips: exactArray(ips),
    hostVeth: hostVethNameOfId(id),
    hostNetwork: getBool(spec, 'hostNetwork') ?? false,
    labels: stringMap(get(meta, 'labels')),
    containers: readContainers(b, get(spec, 'containers'), spans),
    span: root.span,
    spans,
    origin: 'Pod',
  };
  b.addPod(pod);
}

/**
 * A Pod object's spans (name, node, containers; the caller adds ips.<i>), set one by one: no object per optional
 * field, and no node for a value kept as text. No span of its labels: nothing points at them as a whole.
 */
function podSpans(name: Span, spec: YNode | undefined): Spans {
  const spans: Spans = { name };
  const nodeNameAt = spec?.kind === 'map' ? spec.indexOf('nodeName') : -1;
  if (spec?.kind === 'map' && nodeNameAt >= 0) spans.node = spec.valueSpanAt(nodeNameAt);
  const containers = get(spec, 'containers');
  if (containers) spans.containers = containers.span;
  return spans;
}

function k8sService(b: Drafts, root: YMap): void {
  const meta = get(root, 'metadata');
  const nameNode = get(meta, 'name');
  const name = str(nameNode);
  if (!nameNode || !name) return;
  const namespace = getStr(meta, 'namespace') ?? 'default';
  const spec = get(root, 'spec');
  validateService(b, root);
  // An ExternalName Service is a DNS alias (a CNAME): no cluster IP, no endpoints, nothing for kube-proxy.
  if (getStr(spec, 'type') === 'ExternalName') return;
  let clusterIPs = strings(get(spec, 'clusterIPs'));
  if (!clusterIPs.length) clusterIPs = strings(get(spec, 'clusterIP'));
  const headless = clusterIPs[0]?.value === 'None';
  clusterIPs = clusterIPs.filter((c) => c.value !== 'None' && c.value !== '');
  // Each ingress entry's ip with its ipMode (unset: VIP); an entry without an ip is skipped, as kube-proxy does. A
  // value other than VIP or Proxy is the API server's to refuse (validateService) and is read as the default.
  const lbIngress = list(get(get(get(root, 'status'), 'loadBalancer'), 'ingress')).flatMap((i) => {
    const modeNode = get(i, 'ipMode');
    const mode = enumOf(str(modeNode), LOAD_BALANCER_IP_MODES, 'VIP');
    return strings(get(i, 'ip')).map((ip) => ({ ...ip, mode, modeSpan: modeNode?.span }));
  });
  const lbIPs = lbIngress.length
    ? lbIngress
    : strings(get(spec, 'loadBalancerIP')).map((ip) => ({ ...ip, mode: 'VIP' as const, modeSpan: undefined }));
  const lbModeSpans: Record<string, Span> = {};
  lbIPs.forEach((x, i) => {
    if (x.modeSpan) lbModeSpans[`loadBalancerIPModes.${i}`] = x.modeSpan;
  });
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
  b.addService({
    svc: {
      name,
      namespace,
      id: `${namespace}/${name}`,
      type: enumOf(getStr(spec, 'type'), ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'ClusterIP'),
      clusterIPs: clusterIPs.map((c) => c.value),
      headless,
      selector: get(spec, 'selector') ? stringMap(get(spec, 'selector')) : undefined,
      ports: readServicePorts(b, get(spec, 'ports'), 'Service'),
      externalTrafficPolicy: enumOf(getStr(spec, 'externalTrafficPolicy'), ['Cluster', 'Local'] as const, 'Cluster'),
      internalTrafficPolicy: enumOf(getStr(spec, 'internalTrafficPolicy'), ['Cluster', 'Local'] as const, 'Cluster'),
      externalIPs: strings(get(spec, 'externalIPs')).map((x) => x.value),
      loadBalancerIPs: lbIPs.map((x) => x.value),
      loadBalancerIPModes: lbIPs.map((x) => x.mode),
      loadBalancerSourceRanges: strings(get(spec, 'loadBalancerSourceRanges')).map((x) => x.value),
      sessionAffinity: enumOf(getStr(spec, 'sessionAffinity'), ['None', 'ClientIP'] as const, 'None'),
      sessionAffinityTimeoutSeconds: int(getPath(spec, 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds')) ?? 10800,
      span: root.span,
      spans: {
        name: nameNode.span,
        ...optionalSpan('selector', get(spec, 'selector')),
        ...optionalSpan('ports', get(spec, 'ports')),
        ...optionalSpan('type', get(spec, 'type')),
        ...optionalSpan('externalTrafficPolicy', get(spec, 'externalTrafficPolicy')),
        ...indexedSpans('clusterIPs', clusterIPs),
        ...indexedSpans('loadBalancerIPs', lbIPs),
        ...lbModeSpans,
        ...indexedSpans('externalIPs', strings(get(spec, 'externalIPs'))),
        ...indexedSpans('loadBalancerSourceRanges', strings(get(spec, 'loadBalancerSourceRanges'))),
      },
      origin: 'Service',
    },
    set,
  });
}

function k8sEndpointSlice(b: Drafts, root: YMap): void {
  const meta = get(root, 'metadata');
  const svcName = stringMap(get(meta, 'labels'))['kubernetes.io/service-name'];
  if (!svcName) {
    b.report(
      'k8s.endpointslice-unowned',
      'warning',
      'This EndpointSlice has no kubernetes.io/service-name label, so no Service uses it.',
      get(meta, 'name')?.span ?? root.span,
    );
    return;
  }
  const namespace = getStr(meta, 'namespace') ?? 'default';
  b.slices.push({
    service: `${namespace}/${svcName}`,
    kind: 'EndpointSlice',
    endpoints: list(get(root, 'endpoints')).flatMap((e) => {
      // As kube-proxy reads the conditions (endpointslicecache): ready and serving unset mean true, terminating false.
      const conditions = get(e, 'conditions');
      const ready = getBool(conditions, 'ready') ?? true;
      const serving = getBool(conditions, 'serving') ?? true;
      const terminating = getBool(conditions, 'terminating') ?? false;
      const targetRef = get(e, 'targetRef');
      const podName = getStr(targetRef, 'kind') === 'Pod' ? getStr(targetRef, 'name') : undefined;
      const podNs = getStr(targetRef, 'namespace') ?? namespace;
      return strings(get(e, 'addresses')).map((a) => ({
        ip: a.value,
        node: getStr(e, 'nodeName'),
        pod: podName ? `${podNs}/${podName}` : undefined,
        ready,
        serving,
        terminating,
        span: a.span,
      }));
    }),
    ports: list(get(root, 'ports')).flatMap((p) => {
      const port = getInt(p, 'port');
      return port === undefined
        ? []
        : [{ name: getStr(p, 'name') ?? '', port, protocol: protocolOf(getStr(p, 'protocol')) }];
    }),
  });
}

/**
 * Legacy v1 Endpoints (`kubectl get endpoints`, or written by hand for a Service without selector): subsets of
 * addresses (ready) and notReadyAddresses, each with the subset's ports. Kubernetes mirrors them to
 * EndpointSlices; NetPath uses them for a Service only when no EndpointSlice of it was read.
 */
function k8sEndpoints(b: Drafts, root: YMap): void {
  const meta = get(root, 'metadata');
  const nameNode = get(meta, 'name');
  const name = str(nameNode);
  if (!nameNode || !name) return;
  const namespace = getStr(meta, 'namespace') ?? 'default';
  for (const subset of list(get(root, 'subsets'))) {
    const address = (ready: boolean) => (a: YNode) => {
      const ip = get(a, 'ip');
      const value = str(ip);
      if (!ip || !value) return [];
      const targetRef = get(a, 'targetRef');
      const podName = getStr(targetRef, 'kind') === 'Pod' ? getStr(targetRef, 'name') : undefined;
      const podNs = getStr(targetRef, 'namespace') ?? namespace;
      return [
        {
          ip: value,
          node: getStr(a, 'nodeName'),
          pod: podName ? `${podNs}/${podName}` : undefined,
          ready,
          // The mirroring controller writes only `ready`; kube-proxy reads the unset serving as true.
          serving: true,
          terminating: false,
          span: ip.span,
        },
      ];
    };
    b.slices.push({
      service: `${namespace}/${name}`,
      kind: 'Endpoints',
      endpoints: [
        ...list(get(subset, 'addresses')).flatMap(address(true)),
        ...list(get(subset, 'notReadyAddresses')).flatMap(address(false)),
      ],
      ports: list(get(subset, 'ports')).flatMap((p) => {
        const port = getInt(p, 'port');
        return port === undefined
          ? []
          : [{ name: getStr(p, 'name') ?? '', port, protocol: protocolOf(getStr(p, 'protocol')) }];
      }),
    });
  }
}

/** A workload's pod template: the labels and ports of pods that will exist (CronJob: spec.jobTemplate.spec.template). */
function k8sWorkload(b: Drafts, root: YMap, kind: WorkloadKind): void {
  const meta = get(root, 'metadata');
  const nameNode = get(meta, 'name');
  const name = str(nameNode);
  if (!name || !nameNode) return;
  const namespace = getStr(meta, 'namespace') ?? 'default';
  const spec = get(root, 'spec');
  const template = kind === 'CronJob' ? getPath(spec, 'jobTemplate', 'spec', 'template') : get(spec, 'template');
  const podSpec = get(template, 'spec');
  const labels = get(get(template, 'metadata'), 'labels');
  const id = `${namespace}/${name}`;
  const key = `${kind}/${id}`;
  const first = b.workloads.get(key);
  if (first) {
    b.report('name.duplicate', 'error', `${kind} '${id}' is defined twice.`, nameNode.span, [
      { span: first.spans.name ?? first.span, message: 'first definition' },
    ]);
    return;
  }
  const spans: Spans = {
    name: nameNode.span,
    ...optionalSpan('labels', labels),
    ...optionalSpan('replicas', get(spec, 'replicas')),
  };
  // The template's container ports' spans follow in the same record (container-spans.ts).
  const containers = readContainers(b, get(podSpec, 'containers'), spans);
  b.workloads.set(key, {
    kind,
    name,
    namespace,
    id,
    replicas: kind === 'DaemonSet' || kind === 'Job' || kind === 'CronJob' ? undefined : getInt(spec, 'replicas'),
    labels: stringMap(labels),
    hostNetwork: getBool(podSpec, 'hostNetwork') ?? false,
    containers,
    span: root.span,
    spans,
    origin: kind,
  });
}

function k8sKubeProxy(b: Drafts, root: YMap): void {
  const clusterCIDR = get(root, 'clusterCIDR');
  const text = str(clusterCIDR);
  validateKubeProxy(b, root);
  b.kubeProxies.push({
    clusterCIDRs: text && clusterCIDR ? splitComma(text, clusterCIDR.span) : undefined,
    masqueradeAll: getBool(get(root, 'iptables'), 'masqueradeAll'),
    masqueradeBit: getInt(get(root, 'iptables'), 'masqueradeBit'),
    detectLocalMode: getStr(root, 'detectLocalMode'),
    interfaceNamePrefix: getStr(get(root, 'detectLocal'), 'interfaceNamePrefix'),
    bridgeInterface: getStr(get(root, 'detectLocal'), 'bridgeInterface'),
    mode: getStr(root, 'mode'),
    nodePortAddresses: get(root, 'nodePortAddresses') ? strings(get(root, 'nodePortAddresses')) : undefined,
    span: root.span,
    spans: {
      ...optionalSpan('masqueradeAll', get(get(root, 'iptables'), 'masqueradeAll')),
      ...optionalSpan('mode', get(root, 'mode')),
      ...indexedSpans('nodePortAddresses', strings(get(root, 'nodePortAddresses'))),
    },
  });
}

function clusterNetworking(b: Drafts, root: YMap, networking: YNode | undefined, origin: Origin): void {
  const pod = get(networking, 'podSubnet');
  const svc = get(networking, 'serviceSubnet');
  const podText = str(pod);
  const svcText = str(svc);
  let podSubnet: ConfigRanges | undefined = podText && pod ? splitComma(podText, pod.span) : undefined;
  let serviceSubnet: ConfigRanges | undefined = svcText && svc ? splitComma(svcText, svc.span) : undefined;
  if (origin === 'Cluster') {
    validateKind(b, root);
    // kind fills in its own defaults, by ipFamily (no pod subnet when its default CNI is disabled).
    const defaults = kindDefaults(getStr(networking, 'ipFamily'));
    const at = (get(networking, 'ipFamily') ?? networking ?? root).span;
    const defaulted = (values: string[]) => values.map((value) => ({ value, span: at, defaulted: true as const }));
    const disable = get(networking, 'disableDefaultCNI');
    if (!podSubnet && str(disable) !== 'true') podSubnet = defaulted(defaults.pods);
    b.kindCni.push({ disabled: str(disable) === 'true', span: disable?.span ?? at, config: root.span });
    serviceSubnet ??= defaulted(defaults.services);
  } else validateKubeadm(b, root);
  const portArg = origin === 'Cluster' ? undefined : extraArg(root, 'service-node-port-range', 'apiServer');
  const ports = portArg && parsePortRange(portArg.value);
  const nodePortRange = ports && portArg ? { ...ports, span: portArg.span } : undefined;
  const modeNode = origin === 'Cluster' ? get(networking, 'kubeProxyMode') : undefined;
  const mode = str(modeNode);
  b.clusterConfigs.push({
    podSubnet,
    serviceSubnet,
    nodePortRange,
    ...(modeNode && mode ? { kubeProxyMode: { value: mode, span: modeNode.span } } : {}),
    span: root.span,
    origin,
  });
}

function isMasqAgentConfig(b: Drafts, root: YMap): boolean {
  const name = getStr(get(root, 'metadata'), 'name');
  return (
    name === 'ip-masq-agent' || (get(get(root, 'data'), 'config') !== undefined && name?.includes('masq') === true)
  );
}

function masqAgentConfigMap(b: Drafts, root: YMap): void {
  const config = get(get(root, 'data'), 'config');
  const text = str(config);
  if (!config || text === undefined) return;
  // The config is YAML (or JSON) inside a string: parse it and map offsets back into the outer file.
  const bodySpan = blockScalarBodySpan(config);
  const inner = parseYamlFile(config.span.file, text);
  const innerRoot = inner.documents[0]?.root;
  const shift = (s: Span): Span => ({ file: s.file, start: s.start + bodySpan.start, end: s.end + bodySpan.start });
  for (const p of inner.problems) b.problems.push({ ...p, span: shift(p.span) });
  const cidrs = strings(get(innerRoot, 'nonMasqueradeCIDRs'));
  b.masqAgent = {
    nonMasqueradeCIDRs: get(innerRoot, 'nonMasqueradeCIDRs')
      ? cidrs.map((c) => c.value)
      : ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    masqLinkLocal: getBool(innerRoot, 'masqLinkLocal') ?? false,
    span: root.span,
    spans: Object.fromEntries(cidrs.map((c, i) => [`nonMasqueradeCIDRs.${i}`, shift(c.span)])),
  };
}

function k8sNamespace(b: Drafts, root: YMap): void {
  const ns = readNamespace(root);
  if (!ns) return;
  const first = b.namespaces.get(ns.name);
  if (first) {
    b.report('name.duplicate', 'error', `Namespace '${ns.name}' is defined twice.`, ns.spans.name ?? ns.span, [
      { span: first.spans.name ?? first.span, message: 'first definition' },
    ]);
    return;
  }
  b.namespaces.set(ns.name, ns);
}

function k8sNetworkPolicy(b: Drafts, root: YMap): void {
  const policy = readNetworkPolicy(root, b.problems);
  if (!policy) return;
  const first = b.policies.get(policy.id);
  if (first) {
    b.report(
      'name.duplicate',
      'error',
      `NetworkPolicy '${policy.id}' is defined twice.`,
      policy.spans.name ?? policy.span,
      [{ span: first.spans.name ?? first.span, message: 'first definition' }],
    );
    return;
  }
  b.policies.set(policy.id, policy);
}
