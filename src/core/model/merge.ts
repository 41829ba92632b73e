/**
 * Merges the drafts into one immutable `Topology`: precedence between sources, documented defaults, Service
 * endpoints from selectors or EndpointSlices, implied host-gw routes, and the references between objects.
 */
import { NO_SPAN, type Span } from '../problem';
import { namespaceLabels } from './policy-read';
import {
  canonical,
  firstAddress,
  formatValue,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
} from '../net/address';
import { type YMap } from '../syntax/yaml';
import { get, getBool, getInt, getStr, map, str, strings } from './read';
import type {
  Bridge,
  ClusterSettings,
  Container,
  Endpoint,
  External,
  LocalDetector,
  Namespace,
  Network,
  Node,
  PendingBackend,
  Pod,
  Service,
  ServicePort,
  Topology,
} from './types';
import { Drafts, type ConfigRanges, type NodeDraft, type ServiceDraft, type SliceDraft, type Spans } from './drafts';
import { chooseConfigs, chooseProxyMode, echoSpans } from './config-conflicts';
import { cniPodRanges, cniSettings } from './cni-merge';
import { CNI_PLUGIN_NAMES, DEFAULT_MTU } from '../cni/names';
import { calicoVethName } from '../cni/calico';
import { netpathPodFieldsWritten } from './netpath-documents';
import { keepPodsById } from './pods-by-id';
import { work } from '../work';
import {
  addIndexedSpans,
  addressList,
  enumOf,
  detectorFromKubeProxyConfig,
  indexedSpans,
  spansOf,
  withLength,
} from './fields';

/** kube-proxy's --detect-local-mode values; another word falls back to ClusterCIDR, kube-proxy's default. */
const LOCAL_DETECTORS: readonly LocalDetector[] = [
  'ClusterCIDR',
  'NodeCIDR',
  'BridgeInterface',
  'InterfaceNamePrefix',
  'None',
];

/** What NetPath assumes when nothing read declares a Service range: kubeadm's default (`ClusterSettings.assumed`). */
export const ASSUMED_SERVICE_RANGE = '10.96.0.0/12';

/** The merged model: every draft reconciled, defaults filled in, references checked. */
export function finish(b: Drafts, files: readonly string[]): Topology {
  chooseConfigs(b);
  const cluster = clusterSettings(b, files[0] ?? '');
  const networks = mergedNetworks(b);
  const nodes = mergedNodes(b, cluster, networks);
  const pods = mergedPods(b, nodes);
  const services = mergedServices(b, pods);
  checkReferences(b, networks, nodes, pods, b.externals);
  const topology: Topology = {
    name: b.topologyName ?? 'topology',
    files,
    cluster,
    networks,
    nodes,
    pods,
    workloads: [...b.workloads.values()],
    services,
    externals: b.externals,
    namespaces: mergedNamespaces(b, pods, services),
    networkPolicies: [...b.policies.values()],
  };
  // The drafts' map of pods by id holds each id's model pod now (mergedPods): the rules and the data plane read it.
  keepPodsById(topology, b.pods);
  return topology;
}

/** Namespace objects, plus a namespace (with only its automatic label) for each one objects live in without one. */
function mergedNamespaces(b: Drafts, pods: readonly Pod[], services: readonly Service[]): Namespace[] {
  const out = [...b.namespaces.values()];
  const known = new Set(out.map((n) => n.name));
  // In this order: pods, workloads, Services, policies (no array of every object and of their namespaces).
  const lists: Iterable<{ readonly namespace: string }>[] = [b.workloads.values(), services, b.policies.values()];
  // A pod's namespace is mostly the one before it: checked against it first. The pods by index (a for-of over every
  // pod of a cluster made an object per step while the loop was still unoptimised).
  let last: string | undefined;
  const see = (name: string): void => {
    if (name === last) return;
    last = name;
    if (known.has(name)) return;
    known.add(name);
    out.push({
      name,
      labels: namespaceLabels(name, {}),
      span: NO_SPAN,
      spans: {},
      origin: 'default',
    });
  };
  for (let i = 0; i < pods.length; i++) see(pods[i].namespace);
  for (const objects of lists) for (const { namespace } of objects) see(namespace);
  return out;
}

function clusterSettings(b: Drafts, firstFile: string): ClusterSettings {
  const c = b.clusterNode;
  const spans: Spans = {};
  const defaultSpan: Span = { file: firstFile, start: 0, end: 0 };
  const echoes: Record<string, Span[]> = {};
  const pick = (key: 'podCIDRs' | 'serviceCIDRs', ...fallbacks: (ConfigRanges | undefined)[]): string[] => {
    const own: ConfigRanges = c ? strings(get(c, key)) : [];
    const chosen = own.length ? own : (fallbacks.find((f) => f && f.length) ?? []);
    Object.assign(
      echoes,
      echoSpans(
        b,
        key,
        chosen.filter((x) => !x.defaulted),
      ),
    );
    // A tool's default was not written anywhere: its findings point at the configuration, never replace text.
    chosen.forEach((x, i) => {
      if (!x.defaulted) spans[`${key}.${i}`] = x.span;
    });
    return chosen.map((x) => x.value);
  };
  const podCIDRs = pick('podCIDRs', b.kubeProxy?.clusterCIDRs, b.clusterConfig?.podSubnet, cniPodRanges(b));
  let serviceCIDRs = pick('serviceCIDRs', b.clusterConfig?.serviceSubnet);
  const serviceCIDRsAssumed = !serviceCIDRs.length;
  if (serviceCIDRsAssumed) serviceCIDRs = [ASSUMED_SERVICE_RANGE]; // kubeadm's default service range.
  const rangeNode = get(c, 'nodePortRange');
  const range = /^(\d+)-(\d+)$/.exec(str(rangeNode) ?? '');
  if (rangeNode) spans.nodePortRange = rangeNode.span;
  // Without a NetPath cluster.nodePortRange, kubeadm's apiServer extraArgs service-node-port-range is the range.
  const kubeadmPorts = rangeNode ? undefined : b.clusterConfig?.nodePortRange;
  if (kubeadmPorts) spans.nodePortRange = kubeadmPorts.span;
  if (rangeNode && (!range || Number(range[1]) > Number(range[2]))) {
    b.report(
      'schema.type',
      'error',
      `nodePortRange must look like 30000-32767 (low-high), not '${str(rangeNode) ?? ''}'.`,
      rangeNode.span,
    );
  }
  const kp = map(get(c, 'kubeProxy'));
  const cni = map(get(c, 'cni'));
  const modeNode = kp ? get(kp, 'mode') : undefined;
  // Who says the mode: the NetPath document, then kube-proxy's own configuration, then kind's kubeProxyMode (kind
  // writes it into the KubeProxyConfiguration it generates); disagreements are k8s.config-conflict (config-conflicts.ts).
  const modeWritten = str(modeNode);
  const chosenMode = chooseProxyMode(
    b,
    modeNode && modeWritten ? { value: modeWritten, span: modeNode.span } : undefined,
  );
  const modeText = chosenMode?.value ?? 'iptables';
  const mode = modeText === 'nftables' || modeText === 'ipvs' ? modeText : 'iptables';
  const modeSpan = chosenMode?.span;
  // An invalid mode is k8s.config-invalid (k8s-validation.ts); NetPath then uses iptables.
  if (modeSpan && modeText === 'none') {
    b.report(
      'k8s.proxy-mode',
      'warning',
      "kube-proxy mode 'none': kind deploys no kube-proxy, so Services are served by whatever replaces it (a CNI's kube-proxy replacement), which NetPath does not model: traces, rules and hovers show kube-proxy's iptables mode. Set kubeProxyMode to iptables or nftables to trace a kube-proxy cluster.",
      modeSpan,
    );
  }
  if (modeSpan && mode === 'ipvs') {
    b.report(
      'k8s.proxy-mode',
      'warning',
      "kube-proxy mode 'ipvs' (deprecated upstream) is not modelled: NetPath's traces, rules and hovers show iptables mode, not IPVS virtual servers (kube-ipvs0, ipsets, IPVS scheduling). Use mode iptables or nftables to trace what this cluster does.",
      modeSpan,
    );
  }
  const masq = map(get(c, 'masquerade'));
  const np = map(get(c, 'networkPolicy'));
  const ipb = getStr(np, 'ipBlockPodIPs');
  const nodeTraffic = getStr(np, 'nodeTraffic');
  const detector =
    getStr(kp, 'localDetector') ?? detectorFromKubeProxyConfig(b.kubeProxy?.detectLocalMode) ?? 'ClusterCIDR';
  const npa =
    kp && get(kp, 'nodePortAddresses')
      ? strings(get(kp, 'nodePortAddresses')).map((x) => x.value)
      : (b.kubeProxy?.nodePortAddresses?.map((x) => x.value) ?? []);
  return {
    podCIDRs,
    serviceCIDRs,
    echoes,
    assumed: {
      serviceCIDRs: serviceCIDRsAssumed,
      nodePortRange: !(range && Number(range[1]) <= Number(range[2])) && !kubeadmPorts,
    },
    nodePortRange:
      range && Number(range[1]) <= Number(range[2])
        ? { min: Number(range[1]), max: Number(range[2]) }
        : kubeadmPorts
          ? { min: kubeadmPorts.min, max: kubeadmPorts.max }
          : { min: 30000, max: 32767 },
    routing: getStr(c, 'routing') === 'manual' ? 'manual' : 'host-gw',
    kubeProxy: {
      mode,
      masqueradeAll: getBool(kp, 'masqueradeAll') ?? b.kubeProxy?.masqueradeAll ?? false,
      masqueradeBit: getInt(kp, 'masqueradeBit') ?? b.kubeProxy?.masqueradeBit ?? 14,
      localDetector: enumOf(detector, LOCAL_DETECTORS, 'ClusterCIDR'),
      nodePortAddresses: npa,
      ...(b.kubeProxy?.interfaceNamePrefix ? { interfaceNamePrefix: b.kubeProxy.interfaceNamePrefix } : {}),
      ...(b.kubeProxy?.bridgeInterface ? { bridgeInterface: b.kubeProxy.bridgeInterface } : {}),
      span: kp?.span ?? b.kubeProxy?.span ?? defaultSpan,
      spans: {
        ...(kp
          ? {
              ...spansOf(kp, ['mode', 'masqueradeAll', 'masqueradeBit', 'localDetector', 'nodePortAddresses']),
              ...indexedSpans('nodePortAddresses', strings(get(kp, 'nodePortAddresses'))),
            }
          : (b.kubeProxy?.spans ?? {})),
        // The mode where it was said (kind's kubeProxyMode when nothing else says it).
        ...(modeSpan ? { mode: modeSpan } : {}),
      },
      origin: kp ? 'netpath' : b.kubeProxy ? 'KubeProxyConfiguration' : 'default',
    },
    cni: cniSettings(b, cni, defaultSpan),
    masquerade: masq
      ? {
          nonMasqueradeCIDRs: get(masq, 'nonMasqueradeCIDRs')
            ? strings(get(masq, 'nonMasqueradeCIDRs')).map((x) => x.value)
            : ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
          masqLinkLocal: getBool(masq, 'masqLinkLocal') ?? false,
          span: masq.span,
          spans: {
            ...spansOf(masq, ['nonMasqueradeCIDRs', 'masqLinkLocal']),
            ...indexedSpans('nonMasqueradeCIDRs', strings(get(masq, 'nonMasqueradeCIDRs'))),
          },
          origin: 'netpath',
        }
      : b.masqAgent
        ? {
            nonMasqueradeCIDRs: b.masqAgent.nonMasqueradeCIDRs,
            masqLinkLocal: b.masqAgent.masqLinkLocal,
            span: b.masqAgent.span,
            spans: b.masqAgent.spans,
            origin: 'ConfigMap',
          }
        : undefined,
    // Values outside the enums are schema.enum errors (validate.ts); the defaults apply then.
    networkPolicy: {
      ...(ipb === 'match' || ipb === 'ignore' ? { ipBlockPodIPs: ipb } : {}),
      ...(nodeTraffic === 'allow' || nodeTraffic === 'policy' ? { nodeTraffic } : {}),
      ...(np ? { spans: spansOf(np, ['ipBlockPodIPs', 'nodeTraffic']) } : {}),
    },
    span: c?.span ?? b.clusterConfig?.span ?? defaultSpan,
    spans: {
      ...spans,
      ...(c ? spansOf(c, ['podCIDRs', 'serviceCIDRs', 'routing', 'kubeProxy', 'cni', 'masquerade']) : {}),
    },
    origin: c ? 'netpath' : (b.clusterConfig?.origin ?? 'default'),
  };
}

function mergedNetworks(b: Drafts): Network[] {
  const seen = new Map<string, Network>();
  const out: Network[] = [];
  for (const n of b.networks) {
    const first = seen.get(n.name);
    if (first) {
      b.report('name.duplicate', 'error', `Network '${n.name}' is defined twice.`, n.spans.name ?? n.span, [
        { span: first.spans.name ?? first.span, message: 'first definition' },
      ]);
      continue;
    }
    seen.set(n.name, n);
    out.push(n);
  }
  return out;
}

function mergedNodes(b: Drafts, cluster: ClusterSettings, networks: Network[]): Node[] {
  const defaultNetwork = defaultUnderlay(b, networks);
  const out: Node[] = [];
  for (const [name, drafts] of b.nodes) {
    // NetPath refinements win over Kubernetes objects, field by field.
    const np = drafts.find((d) => d.origin === 'netpath');
    const k8s = drafts.find((d) => d.origin === 'Node');
    const base = np ?? k8s;
    if (!base) continue; // Only NetPath nodes and Node objects make node drafts.
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
    const cni = enumOf(np?.cni, CNI_PLUGIN_NAMES, cluster.cni.plugin);
    // The bridge's settings are the bridge plug-in's (flannel delegates to it); other plug-ins have no bridge.
    const bridge =
      cni === 'bridge' || cni === 'flannel'
        ? bridgeOf(
            b,
            np?.bridge,
            podCIDRs.map((p) => p.value),
            cluster,
            base.span,
          )
        : undefined;
    out.push({
      name,
      interfaces,
      podCIDRs: podCIDRs.map((p) => p.value),
      cni,
      ...(bridge ? { bridge } : {}),
      routes: np?.routes ?? [],
      iptables: np?.iptables,
      nftables: np?.nftables,
      cniIpMasq: np?.ipMasq ?? cluster.cni.ipMasq,
      span: base.span,
      spans: nodeSpans(k8s, np, podCIDRs),
      origin: base.origin,
    });
  }
  return out;
}

/**
 * A node's spans: its Node object's, the NetPath node's over them, then each pod CIDR's. A NetPath node alone keeps
 * its draft's record, which holds exactly that (its pod CIDRs are its own, their spans already in it): no copy each.
 */
function nodeSpans(k8s: NodeDraft | undefined, np: NodeDraft | undefined, podCIDRs: readonly { span: Span }[]): Spans {
  if (np && !k8s && podCIDRs === np.podCIDRs) return np.spans;
  return addIndexedSpans({ ...(k8s?.spans ?? {}), ...(np?.spans ?? {}) }, 'podCIDRs', podCIDRs);
}

/** Without declared networks, Kubernetes Node addresses share one underlay: the smallest prefix (at most /24) holding them all. */
function defaultUnderlay(b: Drafts, networks: Network[]): Network | undefined {
  if (networks.length) return networks.length === 1 ? networks[0] : undefined;
  const addrs = [...b.nodes.values()]
    .flatMap((ds) => ds.flatMap((d) => d.k8sAddresses ?? []))
    .map((a) => parseAddress(a.value))
    .filter((a): a is Address => a?.family === 4);
  if (!addrs.length) return undefined;
  let length = 24;
  const base = addrs[0].value;
  while (length > 0 && !addrs.every((a) => a.value >> BigInt(32 - length) === base >> BigInt(32 - length))) length--;
  const cidr = `${formatValue(4, firstAddress({ family: 4, address: base, length, text: '' }))}/${length}`;
  const net: Network = {
    name: 'underlay',
    cidr,
    mtu: DEFAULT_MTU,
    span: { file: '', start: 0, end: 0 },
    spans: {},
    origin: 'default',
  };
  networks.push(net);
  return net;
}

function bridgeOf(
  b: Drafts,
  node: YMap | undefined,
  podCIDRs: string[],
  cluster: ClusterSettings,
  fallback: Span,
): Bridge {
  const addresses = node ? addressList(node, 'address', 'addresses') : [];
  return {
    name: getStr(node, 'name') ?? cluster.cni.bridge,
    // The CNI bridge plugin's gateway defaults to the first address after the network address.
    addresses: addresses.length
      ? addresses.map((a) => a.value)
      : podCIDRs.flatMap((c) => {
          const p = parsePrefix(c);
          // A host-local range of a CNI configuration for this pod CIDR with a `gateway`: the bridge holds it.
          // (No prefix written out for it without a CNI configuration: most clusters, a node each.)
          const gw = p && cluster.cni.configs.length ? gatewayOf(cluster, canonical(p)) : undefined;
          if (p && gw) return [`${gw}/${p.length}`];
          return p ? [`${formatValue(p.family, firstAddress(p) + 1n)}/${p.length}`] : [];
        }),
    hairpinMode: getBool(node, 'hairpinMode') ?? cluster.cni.hairpinMode,
    span: node?.span ?? fallback,
    spans: node ? { ...spansOf(node, ['name', 'hairpinMode']), ...indexedSpans('addresses', addresses) } : {},
    origin: node ? 'netpath' : 'default',
  };
}

/**
 * Every pod of the model, in the order first read; each id's merged pod replaces its first draft in `b.pods`, which
 * is then the model's pods by id (see finish).
 */
function mergedPods(b: Drafts, nodes: Node[]): Pod[] {
  const out: Pod[] = [];
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  // Most clusters have no calico node: then no pod's node is looked up for it (a pod's node name is a string of
  // its own, hashed on its first lookup: 150,000 of them at 5,000 nodes).
  const anyCalico = nodes.some((n) => n.cni === 'calico');
  const byId = b.pods;
  const severalDrafts = b.podDrafts.size > 0;
  // forEach, not for-of: the loop runs once over every pod, mostly before the engine optimises it, and there a for-of
  // over a Map makes an entry array and a result object per step. Deleting or setting the visited key meanwhile is
  // allowed, as in the for-of it was.
  byId.forEach((read, id) => {
    // The first draft of each origin (most pods have one draft, kept alone: see Drafts.podDrafts).
    let k8s: Pod | undefined;
    let np: Pod | undefined;
    const drafts = severalDrafts ? b.podDrafts.get(id) : undefined;
    if (!drafts) {
      if (read.origin === 'Pod') k8s = read;
      else if (read.origin === 'netpath') np = read;
    } else
      for (const d of drafts) {
        if (d.origin === 'Pod') k8s ??= d;
        else if (d.origin === 'netpath') np ??= d;
      }
    const first = k8s ?? np;
    if (!first) {
      byId.delete(id); // Only NetPath pods and Pod objects make pod drafts.
      return;
    }
    const written = np && (k8s || anyCalico) ? netpathPodFieldsWritten(np) : undefined;
    let pod: Pod = first;
    if (k8s && np && written) {
      const refined: Record<string, unknown> = { ...k8s, spans: refinedPodSpans(k8s, np, written) };
      for (const key of written) refined[key] = np[key];
      pod = refined as unknown as Pod;
    }
    // Calico names the host veth itself (`cali` + sha1 of "<namespace>.<pod>"); a written hostVeth wins.
    if (anyCalico && !written?.includes('hostVeth') && nodeByName.get(pod.node)?.cni === 'calico')
      pod = { ...pod, hostVeth: calicoVethName(pod.namespace, pod.name) };
    // A hostNetwork pod shares its node's namespace and addresses.
    if (pod.hostNetwork && !pod.ips.length) {
      const n = nodeByName.get(pod.node);
      if (n) pod = { ...pod, ips: n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])) };
    }
    // In place: the key is there, so its order stays and the map does not grow.
    if (pod !== read) byId.set(id, pod);
    out.push(pod);
  });
  return out;
}

/**
 * The spans of a Pod object refined by a NetPath pod: the object's, then the NetPath pod's over them. The containers'
 * port spans are those of the draft whose containers the pod keeps (container-spans.ts): none of the object's past
 * the NetPath pod's ports.
 */
function refinedPodSpans(k8s: Pod, np: Pod, written: readonly (keyof Pod)[]): Spans {
  const npContainers = written.includes('containers');
  const spans: Spans = {};
  for (const [key, span] of Object.entries(k8s.spans))
    if (!npContainers || !key.startsWith('containers.')) spans[key] = span;
  return Object.assign(spans, np.spans);
}

function mergedServices(b: Drafts, pods: Pod[]): Service[] {
  const slicesByService = new Map<string, SliceDraft[]>();
  for (const s of b.slices) {
    // Appended in place: copying the list for each slice was quadratic in a Service's slices.
    const list = slicesByService.get(s.service);
    if (list) list.push(s);
    else slicesByService.set(s.service, [s]);
  }
  const selectorIndex = new LabelIndex(pods);
  const workloadIndex = new LabelIndex([...b.workloads.values()]);
  // Pods by address and by id are read only for Services with explicit endpoints or EndpointSlices (a NetPath
  // topology's Services select their pods): built on first use, not two maps of every pod for nothing.
  let podByIPMap: Map<string, Pod> | undefined;
  const podByIP = (ip: string): Pod | undefined => {
    if (!podByIPMap) {
      podByIPMap = new Map<string, Pod>();
      for (let i = 0; i < pods.length; i++) {
        const p = pods[i];
        if (!p.hostNetwork) for (let k = 0; k < p.ips.length; k++) podByIPMap.set(p.ips[k], p);
      }
    }
    return podByIPMap.get(ip);
  };
  let podByIdMap: Map<string, Pod> | undefined;
  const podById = (id: string): Pod | undefined => {
    podByIdMap ??= new Map(pods.map((p) => [p.id, p]));
    return podByIdMap.get(id);
  };
  const out: Service[] = [];
  for (const drafts of b.services.values()) {
    const k8s = drafts.find((d) => d.svc.origin === 'Service');
    const np = drafts.find((d) => d.svc.origin === 'netpath');
    const first = k8s ?? np;
    if (!first) continue; // Only NetPath Services and Service objects make Service drafts.
    let svc = first.svc;
    if (k8s && np) {
      const refined: Record<string, unknown> = { ...k8s.svc, spans: { ...k8s.svc.spans, ...np.svc.spans } };
      for (const key of np.set) {
        if (key === 'loadBalancerIPMode') {
          // The NetPath mode over the object's own ingress IPs (unless the NetPath Service lists its own IPs too).
          if (!np.set.has('loadBalancerIP') && !np.set.has('loadBalancerIPs'))
            refined.loadBalancerIPModes = k8s.svc.loadBalancerIPs.map(() => np.loadBalancerIPMode ?? 'VIP');
          continue;
        }
        const field = key === 'clusterIP' ? 'clusterIPs' : key === 'loadBalancerIP' ? 'loadBalancerIPs' : key;
        refined[field] = (np.svc as unknown as Record<string, unknown>)[field];
        if (field === 'clusterIPs') refined.headless = false;
        // The IPs and their modes come together: the NetPath Service's modes are those of its own IPs.
        if (field === 'loadBalancerIPs') refined.loadBalancerIPModes = np.svc.loadBalancerIPModes;
      }
      svc = refined as unknown as typeof svc;
    }
    const explicit = np?.explicitEndpoints ?? k8s?.explicitEndpoints;
    let endpoints: Endpoint[] = [];
    let endpointSource: Service['endpointSource'] = 'none';
    const pending: PendingBackend[] = [];
    if (svc.selector && Object.keys(svc.selector).length) {
      endpointSource = 'selector';
      const selected = selectorIndex.select(svc.namespace, svc.selector);
      const ports = servicePortsOf(svc.ports);
      // One endpoint per pod and family, like one EndpointSlice per family: every pod's first address, then the others.
      // Indexed: 150,000 endpoints at 5,000 nodes, read mostly before the engine optimises these loops.
      // The containers the last endpoint's ports were resolved for: a pod with the very same list (replicas share
      // theirs, fields.ts readContainers) resolves them alike, with nothing to look up.
      let resolvedFor: readonly Container[] | undefined;
      for (let k = 0; k < selected.length; k++) {
        const p = selected[k];
        if (!p.ips.length) continue;
        endpoints.push(selectorEndpoint(p.ips[0], p, ports, endpoints, p.containers === resolvedFor));
        resolvedFor = p.containers;
      }
      for (let k = 0; k < selected.length; k++) {
        const p = selected[k];
        for (let i = 1; i < p.ips.length; i++) {
          endpoints.push(selectorEndpoint(p.ips[i], p, ports, endpoints, p.containers === resolvedFor));
          resolvedFor = p.containers;
        }
      }
      // Pods that will exist: matched pods without an address yet, and workloads' pod templates.
      for (let k = 0; k < selected.length; k++) {
        const p = selected[k];
        if (!p.ips.length) pending.push({ kind: 'Pod', id: p.id, replicas: undefined, span: p.spans.name ?? p.span });
      }
      for (const w of workloadIndex.select(svc.namespace, svc.selector))
        pending.push({ kind: w.kind, id: w.id, replicas: w.replicas, span: w.spans.name ?? w.span });
    } else if (explicit) {
      endpointSource = 'EndpointSlice';
      endpoints = explicit.map((e) => {
        const pod = podByIP(e.ip);
        return {
          ip: e.ip,
          pod: pod?.id,
          node: e.node ?? pod?.node,
          ready: e.ready,
          serving: e.serving,
          terminating: e.terminating,
          span: e.span,
          ports: Object.fromEntries(
            svc.ports.map((sp) => [sp.name, e.port ?? (typeof sp.targetPort === 'number' ? sp.targetPort : sp.port)]),
          ),
        };
      });
    } else if (slicesByService.get(svc.id)?.length) {
      const all = slicesByService.get(svc.id) ?? [];
      // Kubernetes mirrors legacy Endpoints to EndpointSlices: when both were read, the slices are the same facts.
      const slices = all.some((x) => x.kind === 'EndpointSlice') ? all.filter((x) => x.kind === 'EndpointSlice') : all;
      endpointSource = slices[0].kind;
      for (const slice of slices) {
        for (const e of slice.endpoints) {
          const pod = e.pod ? podById(e.pod) : podByIP(e.ip);
          endpoints.push({
            ip: e.ip,
            pod: pod?.id ?? e.pod,
            node: e.node ?? pod?.node,
            ready: e.ready,
            serving: e.serving,
            terminating: e.terminating,
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
    out.push(serviceWith(svc, endpoints, endpointSource, pending));
  }
  return out;
}

/**
 * A Service draft with its endpoints: every field named, in one object of one shape. A spread of the draft copied
 * its twenty fields through the engine's generic path, microseconds a Service at 10,000 of them. The type names
 * every field of Service: one added there must be copied here before this compiles.
 */
function serviceWith(
  svc: ServiceDraft['svc'],
  endpoints: readonly Endpoint[],
  endpointSource: Service['endpointSource'],
  pending: readonly PendingBackend[],
): Service {
  const service: { readonly [K in keyof Service]-?: Service[K] } = {
    name: svc.name,
    namespace: svc.namespace,
    id: svc.id,
    type: svc.type,
    clusterIPs: svc.clusterIPs,
    headless: svc.headless,
    selector: svc.selector,
    ports: svc.ports,
    externalTrafficPolicy: svc.externalTrafficPolicy,
    internalTrafficPolicy: svc.internalTrafficPolicy,
    externalIPs: svc.externalIPs,
    loadBalancerIPs: svc.loadBalancerIPs,
    loadBalancerIPModes: svc.loadBalancerIPModes,
    loadBalancerSourceRanges: svc.loadBalancerSourceRanges,
    sessionAffinity: svc.sessionAffinity,
    sessionAffinityTimeoutSeconds: svc.sessionAffinityTimeoutSeconds,
    endpoints,
    endpointSource,
    pending,
    span: svc.span,
    spans: svc.spans,
    origin: svc.origin,
  };
  return service;
}

/**
 * The endpoint of a selected pod's address. Its `ports` are the record of the endpoint before it (`before`, the
 * Service's so far) when they are the same: a Service's pods nearly always resolve its ports alike, and a record of
 * its own was one more object per pod that the model keeps (the model is immutable, so sharing one is safe).
 * `sameContainers`: the endpoint before was resolved for this very list of containers, so this one resolves alike
 * (target ports depend on nothing else of the pod) and is not resolved again.
 */
function selectorEndpoint(
  ip: string,
  p: Pod,
  servicePorts: ServicePorts,
  before: readonly Endpoint[],
  sameContainers: boolean,
): Endpoint {
  const previous = before.length ? before[before.length - 1].ports : undefined;
  return {
    ip,
    pod: p.id,
    node: p.node,
    ready: true,
    serving: true,
    terminating: false,
    span: p.spans.name ?? p.span,
    ports:
      previous && (sameContainers || resolvesAlike(previous, servicePorts, p))
        ? previous
        : targetPorts(servicePorts.ports, p),
  };
}

/** A Service's ports, and whether no two of them have the same name (then a later one overwrites an earlier one's). */
interface ServicePorts {
  readonly ports: readonly ServicePort[];
  readonly distinctNames: boolean;
}

function servicePortsOf(ports: readonly ServicePort[]): ServicePorts {
  return { ports, distinctNames: new Set(ports.map((sp) => sp.name)).size === ports.length };
}

/** The target port of each Service port the pod resolves, by the Service port's name. */
function targetPorts(servicePorts: readonly ServicePort[], p: Pod): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const sp of servicePorts) {
    const target = resolveTargetPort(sp, p);
    if (target !== undefined) setOwn(ports, sp.name, target);
  }
  return ports;
}

/**
 * Whether `targetPorts(servicePorts, p)` would equal `ports`, a record it made for the same Service (same keys in
 * the same order, same numbers), with nothing made to compare: a record and two key arrays per endpoint were most of
 * the garbage of a Service's endpoints. A Service that names two ports alike (its later one overwrites the earlier)
 * is compared on the record made.
 */
function resolvesAlike(ports: Readonly<Record<string, number>>, servicePorts: ServicePorts, p: Pod): boolean {
  if (!servicePorts.distinctNames) return sameNumbers(ports, targetPorts(servicePorts.ports, p));
  let keys = 0;
  for (const sp of servicePorts.ports) {
    const target = resolveTargetPort(sp, p);
    if (target === undefined) continue;
    if (!Object.hasOwn(ports, sp.name) || ports[sp.name] !== target) return false;
    keys++;
  }
  // Every key of `ports` is a Service port's name, so as many keys means the same keys, and both are in the
  // Service's order.
  let own = 0;
  for (const k in ports) if (Object.hasOwn(ports, k)) own++;
  return own === keys;
}

/** Whether two records hold the same keys (in the same order) with the same numbers. */
function sameNumbers(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== other[i] || a[keys[i]] !== b[keys[i]]) return false;
  return true;
}

/**
 * `record[key] = value` as Object.fromEntries does it: a port named `__proto__` is an own property like any other
 * name, never the object's prototype.
 */
function setOwn(record: Record<string, number>, key: string, value: number): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
}

function checkReferences(b: Drafts, networks: Network[], nodes: Node[], pods: Pod[], externals: External[]): void {
  const networkNames = new Set(networks.map((n) => n.name));
  const nodeNames = new Set(nodes.map((n) => n.name));
  const known = (kind: string, names: Set<string>) => [...names].slice(0, 8).join(', ') || `no ${kind}s are defined`;
  for (const n of nodes) {
    for (const i of n.interfaces) {
      if (i.origin !== 'default' && !networkNames.has(i.network)) {
        b.report(
          'ref.unknown',
          'error',
          `Interface ${n.name}/${i.name} is attached to network '${i.network}', which does not exist (known: ${known('network', networkNames)}).`,
          i.spans.network ?? i.span,
        );
      }
    }
    for (const r of n.routes) {
      if (r.dev && !n.interfaces.some((i) => i.name === r.dev) && r.dev !== n.bridge?.name) {
        b.report(
          'ref.unknown',
          'error',
          `Route to ${r.to} on node ${n.name} uses device '${r.dev}', which the node does not have.`,
          r.spans.dev ?? r.span,
        );
      }
    }
  }
  for (let i = 0; i < pods.length; i++) {
    const p = pods[i];
    // A Pod without spec.nodeName is normal in a manifest (the scheduler sets it); a trace from or to it says what
    // is missing. A node name is checked only when nodes were read at all: without any, it points outside the files.
    if (p.node && nodeNames.size && !nodeNames.has(p.node)) {
      b.report(
        'ref.unknown',
        'error',
        `Pod ${p.id} runs on node '${p.node}', which does not exist (known: ${known('node', nodeNames)}).`,
        p.spans.node ?? p.span,
      );
    }
  }
  for (const x of externals) {
    if (!networkNames.has(x.network)) {
      b.report(
        'ref.unknown',
        'error',
        `External ${x.name} is on network '${x.network}', which does not exist (known: ${known('network', networkNames)}).`,
        x.spans.network ?? x.span,
      );
    }
  }
}

/**
 * Pods (or workloads) indexed by namespace and label pair, so each selector costs the size of its smallest label set,
 * not all pods. Nested maps (namespace, then key, then value) rather than one map on the three joined: a joined key
 * was a new string per pod and label, hashed once and thrown away (150,000 of them at 5,000 nodes).
 */
class LabelIndex<T extends { readonly namespace: string; readonly labels: Readonly<Record<string, string>> }> {
  private readonly byNamespace = new Map<string, Map<string, Map<string, T[]>>>();
  constructor(pods: readonly T[]) {
    // The index of the namespace of the item before: most items are in the namespace of the one before them.
    let lastNamespace: string | undefined;
    let lastByKey: Map<string, Map<string, T[]>> | undefined;
    for (let i = 0; i < pods.length; i++) {
      const p = pods[i];
      const labels = p.labels;
      let byKey: Map<string, Map<string, T[]>> | undefined;
      for (const k in labels) {
        if (!Object.prototype.hasOwnProperty.call(labels, k)) continue;
        if (!byKey) {
          if (lastByKey && p.namespace === lastNamespace) byKey = lastByKey;
          else {
            byKey = this.byNamespace.get(p.namespace);
            if (!byKey) this.byNamespace.set(p.namespace, (byKey = new Map()));
            lastNamespace = p.namespace;
            lastByKey = byKey;
          }
        }
        let byValue = byKey.get(k);
        if (!byValue) byKey.set(k, (byValue = new Map()));
        const list = byValue.get(labels[k]);
        if (list) list.push(p);
        else byValue.set(labels[k], [p]);
      }
    }
  }
  /** The items `selector` selects, in the order indexed; read only (it may be the index's own list). */
  select(namespace: string, selector: Readonly<Record<string, string>>): readonly T[] {
    // The smallest list of one selector pair, filtered by the other pairs.
    const byKey = this.byNamespace.get(namespace);
    let smallest: readonly T[] | undefined;
    let pairs = 0;
    for (const k in selector) {
      if (!Object.prototype.hasOwnProperty.call(selector, k)) continue;
      pairs++;
      const list = byKey?.get(k)?.get(selector[k]) ?? NOTHING;
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    // A selector of one pair (most Services) selects its list as it is: no copy of it, no test of each item.
    if (pairs === 1 && smallest) return smallest;
    return smallest ? smallest.filter((p) => matches(p.labels, selector)) : NOTHING;
  }
}

/** The list of a label pair no pod carries (shared: `select` only reads it). */
const NOTHING: readonly never[] = [];

/** Whether `labels` holds every pair of `selector`. */
function matches(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean {
  for (const k in selector)
    if (Object.prototype.hasOwnProperty.call(selector, k) && labels[k] !== selector[k]) return false;
  return true;
}

/** The port of `pod` that Service port `sp` targets (its number, or its name looked up in the pod's containers). */
function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  work.targetPortsResolved++;
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  // Indexed: once per endpoint (150,000 at 5,000 nodes).
  const containers = pod.containers;
  for (let i = 0; i < containers.length; i++) {
    const ports = containers[i].ports;
    for (let k = 0; k < ports.length; k++) {
      const p = ports[k];
      if (p.name === sp.targetPort && p.protocol === sp.protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The `gateway` a CNI configuration's host-local range gives the pod subnet `cidr` (canonical), if any. */
function gatewayOf(cluster: ClusterSettings, cidr: string): string | undefined {
  for (const conf of cluster.cni.configs)
    for (const set of conf.ipam?.ranges ?? [])
      for (const r of set) {
        const p = parsePrefix(r.subnet);
        const gw = r.gateway ? parseAddress(r.gateway) : undefined;
        // A gateway outside its subnet is refused by host-local (cni.config-invalid) and used by no one.
        if (gw && p && canonical(p) === cidr && prefixContainsAddress(p, gw)) return r.gateway;
      }
  return undefined;
}
