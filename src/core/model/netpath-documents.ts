/** NetPath documents (`apiVersion: netpath.dev/...`): cluster settings, networks, nodes, pods, Services, externals. */
import { type YMap, type YNode } from '../syntax/yaml';
import { bool, get, int, list, map, str, stringMap, strings } from './read';
import { LOAD_BALANCER_IP_MODES, type Interface, type Pod, type Route } from './types';
import { hostVethNameOfId } from './names';
import { DEFAULT_MTU } from '../cni/names';
import { Drafts, type Spans } from './drafts';
import { boundNodeRules } from './node-rules-bound';
import {
  addressList,
  blockScalarBodySpan,
  enumOf,
  exactArray,
  indexedSpans,
  readContainers,
  readServicePorts,
  spansOf,
  stringsWithSpans,
} from './fields';

export function netpath(b: Drafts, root: YMap): void {
  const name = str(get(get(root, 'metadata'), 'name'));
  if (name && !b.topologyName) b.topologyName = name;
  const cluster = map(get(root, 'cluster'));
  if (cluster) {
    if (b.clusterNode)
      b.report('name.duplicate', 'error', 'Cluster settings are given twice; only the first is used.', cluster.span, [
        { span: b.clusterSpan ?? cluster.span, message: 'first cluster settings' },
      ]);
    else {
      b.clusterNode = cluster;
      b.clusterSpan = cluster.span;
    }
  }
  for (const n of list(get(root, 'networks'))) {
    const name = str(get(n, 'name'));
    if (!name) continue;
    b.networks.push({
      name,
      cidr: str(get(n, 'cidr')) ?? '',
      mtu: int(get(n, 'mtu')) ?? DEFAULT_MTU,
      span: n.span,
      spans: spansOf(n, ['name', 'cidr', 'mtu']),
      origin: 'netpath',
    });
  }
  for (const n of list(get(root, 'nodes'))) netpathNode(b, n);
  for (const p of list(get(root, 'pods'))) netpathPod(b, p);
  for (const s of list(get(root, 'services'))) netpathService(b, s);
  for (const x of list(get(root, 'externals'))) {
    const name = str(get(x, 'name'));
    if (!name) continue;
    const addresses = addressList(x, 'address', 'addresses');
    b.externals.push({
      name,
      network: str(get(x, 'network')) ?? '',
      addresses: addresses.map((a) => a.value),
      span: x.span,
      spans: { ...spansOf(x, ['name', 'network']), ...indexedSpans('addresses', addresses) },
      origin: 'netpath',
    });
  }
}

function netpathNode(b: Drafts, n: YNode): void {
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
  const nft = get(n, 'nftables');
  const nftText = str(nft);
  b.addNode({
    name,
    span: n.span,
    spans: {
      ...spansOf(n, ['name', 'interfaces', 'cni', 'bridge', 'routes', 'iptables', 'nftables', 'ipMasq']),
      ...indexedSpans('podCIDRs', podCIDRs),
    },
    origin: 'netpath',
    interfaces: get(n, 'interfaces') ? interfaces : undefined,
    podCIDRs: podCIDRs.length ? podCIDRs : undefined,
    cni: str(get(n, 'cni')),
    bridge: map(get(n, 'bridge')),
    routes: get(n, 'routes') ? routes : undefined,
    iptables:
      iptText !== undefined && ipt
        ? {
            text: boundNodeRules(b, name, 'iptables', iptText, blockScalarBodySpan(ipt)),
            span: blockScalarBodySpan(ipt),
          }
        : undefined,
    nftables:
      nftText !== undefined && nft
        ? {
            text: boundNodeRules(b, name, 'nftables', nftText, blockScalarBodySpan(nft)),
            span: blockScalarBodySpan(nft),
          }
        : undefined,
    ipMasq: bool(get(n, 'ipMasq')),
  });
}

/** The fields a NetPath pod may set over a Pod object, in the order its `set` lists them (bit i: field i). */
const POD_SET_FIELDS: readonly (keyof Pod)[] = ['node', 'ips', 'hostVeth', 'hostNetwork', 'labels', 'containers'];
/**
 * One set per combination of fields written, shared by every pod that writes the same ones (most pods write the
 * same few): a Set per pod was tens of thousands of them alive until the model is built. Nothing adds to a draft's
 * set after it is made.
 */
const podFieldSets = new Map<number, ReadonlySet<keyof Pod>>();
function podFieldsSet(bits: number): ReadonlySet<keyof Pod> {
  let set = podFieldSets.get(bits);
  if (!set) {
    set = new Set(POD_SET_FIELDS.filter((_, i) => bits & (1 << i)));
    podFieldSets.set(bits, set);
  }
  return set;
}

function netpathPod(b: Drafts, p: YNode): void {
  if (p.kind !== 'map') return;
  // One pass over the pod's fields (a topology has tens of thousands of pods): the first value of each field, as
  // `get` reads it, and the spans the pod keeps in the order the fields are written (a field written twice keeps
  // the span of its last value, as spansOf does).
  let nameNode: YNode | undefined;
  let namespaceNode: YNode | undefined;
  let nodeNode: YNode | undefined;
  let ipNode: YNode | undefined;
  let ipsNode: YNode | undefined;
  let hostVethNode: YNode | undefined;
  let hostNetworkNode: YNode | undefined;
  let labelsNode: YNode | undefined;
  let containersNode: YNode | undefined;
  const spans: Spans = {};
  const size = p.size;
  for (let i = 0; i < size; i++) {
    const value = p.valueAt(i);
    switch (p.keyAt(i)) {
      case 'name':
        nameNode ??= value;
        spans.name = value.span;
        break;
      case 'namespace':
        namespaceNode ??= value;
        spans.namespace = value.span;
        break;
      case 'node':
        nodeNode ??= value;
        spans.node = value.span;
        break;
      case 'ip':
        ipNode ??= value;
        break;
      case 'ips':
        ipsNode ??= value;
        break;
      case 'hostVeth':
        hostVethNode ??= value;
        spans.hostVeth = value.span;
        break;
      case 'hostNetwork':
        hostNetworkNode ??= value;
        spans.hostNetwork = value.span;
        break;
      case 'labels':
        labelsNode ??= value;
        spans.labels = value.span;
        break;
      case 'containers':
        containersNode ??= value;
        spans.containers = value.span;
        break;
    }
  }
  const name = str(nameNode);
  if (!name) return;
  const namespace = str(namespaceNode) ?? 'default';
  // `ips`, or `ip` when `ips` holds no string (addressList); their spans follow the fields' in the pod's spans.
  let ips = stringsWithSpans(ipsNode, 'ips', spans);
  if (!ips.length) ips = stringsWithSpans(ipNode, 'ips', spans);
  const set = podFieldsSet(
    (nodeNode ? 1 : 0) |
      (ips.length ? 2 : 0) |
      (hostVethNode ? 4 : 0) |
      (hostNetworkNode ? 8 : 0) |
      (labelsNode ? 16 : 0) |
      (containersNode ? 32 : 0),
  );
  const id = `${namespace}/${name}`;
  const pod: Pod = {
    name,
    namespace,
    id,
    node: str(nodeNode) ?? '',
    ips: exactArray(ips),
    hostVeth: str(hostVethNode) ?? hostVethNameOfId(id),
    hostNetwork: bool(hostNetworkNode) ?? false,
    labels: stringMap(labelsNode),
    containers: readContainers(b, containersNode, 'netpath'),
    span: p.span,
    spans,
    origin: 'netpath',
  };
  b.addPod(pod, set);
}

function netpathService(b: Drafts, s: YNode): void {
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
    'loadBalancerIPMode',
    'loadBalancerSourceRanges',
    'sessionAffinity',
    'sessionAffinityTimeoutSeconds',
  ]) {
    if (get(s, key) !== undefined) set.add(key);
  }
  const clusterIPs = addressList(s, 'clusterIP', 'clusterIPs');
  const lbIPs = addressList(s, 'loadBalancerIP', 'loadBalancerIPs');
  // One ipMode for every load-balancer IP of the Service (a load-balancer controller sets the same on each); a value
  // other than VIP or Proxy is reported by the schema at its line and read as the default.
  const lbModeNode = get(s, 'loadBalancerIPMode');
  const lbMode = enumOf(str(lbModeNode), LOAD_BALANCER_IP_MODES, 'VIP');
  const explicit = get(s, 'endpoints');
  b.addService({
    svc: {
      name,
      namespace,
      id: `${namespace}/${name}`,
      type: enumOf(str(get(s, 'type')), ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'ClusterIP'),
      clusterIPs: clusterIPs.map((c) => c.value),
      headless: false,
      selector: get(s, 'selector') ? stringMap(get(s, 'selector')) : undefined,
      ports: readServicePorts(b, get(s, 'ports'), 'netpath'),
      externalTrafficPolicy: enumOf(str(get(s, 'externalTrafficPolicy')), ['Cluster', 'Local'] as const, 'Cluster'),
      internalTrafficPolicy: enumOf(str(get(s, 'internalTrafficPolicy')), ['Cluster', 'Local'] as const, 'Cluster'),
      externalIPs: strings(get(s, 'externalIPs')).map((x) => x.value),
      loadBalancerIPs: lbIPs.map((x) => x.value),
      loadBalancerIPModes: lbIPs.map(() => lbMode),
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
        ...(lbModeNode ? Object.fromEntries(lbIPs.map((_, i) => [`loadBalancerIPModes.${i}`, lbModeNode.span])) : {}),
        ...indexedSpans('externalIPs', strings(get(s, 'externalIPs'))),
        ...indexedSpans('loadBalancerSourceRanges', strings(get(s, 'loadBalancerSourceRanges'))),
      },
      origin: 'netpath',
    },
    set,
    loadBalancerIPMode: lbMode,
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
                  serving: bool(get(e, 'serving')) ?? true,
                  terminating: bool(get(e, 'terminating')) ?? false,
                  span: e.span,
                },
              ]
            : [];
        })
      : undefined,
  });
}
