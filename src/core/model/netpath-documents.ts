/** NetPath documents (`apiVersion: netpath.dev/...`): cluster settings, networks, nodes, pods, Services, externals. */
import { type YMap, type YNode } from '../syntax/yaml';
import { boolAt, collectionAt, get, getBool, getInt, getStr, list, map, str, strAt, stringMap, strings } from './read';
import { LOAD_BALANCER_IP_MODES, type Interface, type Pod, type Route } from './types';
import { hostVethNameOfId } from './names';
import { DEFAULT_MTU } from '../cni/names';
import { Drafts, type Spans } from './drafts';
import type { Span } from '../problem';
import { boundNodeRules } from './node-rules-bound';
import {
  addIndexedSpans,
  addressList,
  blockScalarBodySpan,
  enumOf,
  exactArray,
  indexedSpans,
  readContainers,
  readServicePorts,
  spansOf,
  stringsWithSpansAt,
} from './fields';

export function netpath(b: Drafts, root: YMap): void {
  const name = getStr(get(root, 'metadata'), 'name');
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
    const name = getStr(n, 'name');
    if (!name) continue;
    b.networks.push({
      name,
      cidr: getStr(n, 'cidr') ?? '',
      mtu: getInt(n, 'mtu') ?? DEFAULT_MTU,
      span: n.span,
      spans: spansOf(n, ['name', 'cidr', 'mtu']),
      origin: 'netpath',
    });
  }
  // Indexed loops over the lists that hold a cluster's thousands of objects: each runs once, mostly before the engine
  // optimises it, and there a for-of makes an object per step.
  const nodes = list(get(root, 'nodes'));
  for (let i = 0; i < nodes.length; i++) netpathNode(b, nodes[i]);
  const pods = list(get(root, 'pods'));
  for (let i = 0; i < pods.length; i++) netpathPod(b, pods[i]);
  const services = list(get(root, 'services'));
  for (let i = 0; i < services.length; i++) netpathService(b, services[i]);
  for (const x of list(get(root, 'externals'))) {
    const name = getStr(x, 'name');
    if (!name) continue;
    const addresses = addressList(x, 'address', 'addresses');
    b.externals.push({
      name,
      network: getStr(x, 'network') ?? '',
      addresses: addresses.map((a) => a.value),
      span: x.span,
      spans: { ...spansOf(x, ['name', 'network']), ...indexedSpans('addresses', addresses) },
      origin: 'netpath',
    });
  }
}

function netpathNode(b: Drafts, n: YNode): void {
  const name = getStr(n, 'name');
  if (!name) return;
  const interfaces: Interface[] = list(get(n, 'interfaces')).flatMap((i) => {
    const iname = getStr(i, 'name');
    if (!iname) return [];
    const addresses = addressList(i, 'address', 'addresses');
    return [
      {
        name: iname,
        network: getStr(i, 'network') ?? '',
        addresses: addresses.map((a) => a.value),
        span: i.span,
        spans: addIndexedSpans(spansOf(i, ['name', 'network']), 'addresses', addresses),
        origin: 'netpath' as const,
      },
    ];
  });
  const podCIDRs = addressList(n, 'podCIDR', 'podCIDRs');
  const routes: Route[] = list(get(n, 'routes')).flatMap((r) => {
    const to = getStr(r, 'to');
    if (!to) return [];
    return [
      {
        to,
        via: getStr(r, 'via'),
        dev: getStr(r, 'dev'),
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
    // One record, the fields' spans and then each pod CIDR's (no record each merged by a spread: a node each).
    spans: addIndexedSpans(
      spansOf(n, ['name', 'interfaces', 'cni', 'bridge', 'routes', 'iptables', 'nftables', 'ipMasq']),
      'podCIDRs',
      podCIDRs,
    ),
    origin: 'netpath',
    interfaces: get(n, 'interfaces') ? interfaces : undefined,
    podCIDRs: podCIDRs.length ? podCIDRs : undefined,
    cni: getStr(n, 'cni'),
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
    ipMasq: getBool(n, 'ipMasq'),
  });
}

/**
 * The labels of a NetPath pod that writes none: one record for all of them, frozen as the model is immutable. Its
 * identity says the pod wrote no `labels` ({@link netpathPodFieldsWritten}).
 */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The fields a NetPath pod wrote, which it sets over a Pod object of the same id (merge.ts), read back from the pod:
 * each written field has its span in the pod's spans (its addresses theirs, `ips.0` on), and labels not written are
 * {@link NO_LABELS}. A set (or a draft object holding one) kept per pod was 150,000 objects at 5,000 nodes for the
 * few pods that two sources describe.
 */
export function netpathPodFieldsWritten(pod: Pod): (keyof Pod)[] {
  const written: (keyof Pod)[] = [];
  if (pod.spans.node) written.push('node');
  if (pod.ips.length) written.push('ips');
  if (pod.spans.hostVeth) written.push('hostVeth');
  if (pod.spans.hostNetwork) written.push('hostNetwork');
  if (pod.labels !== NO_LABELS) written.push('labels');
  if (pod.spans.containers) written.push('containers');
  return written;
}

function netpathPod(b: Drafts, p: YNode): void {
  if (p.kind !== 'map') return;
  // One pass over the pod's fields (a topology has tens of thousands of pods): the first entry of each field, as
  // `get` finds it, and the spans the pod keeps in the order the fields are written (a field written twice keeps
  // the span of its last value, as spansOf does). Values are read by index: no node for a value kept as text.
  let nameAt = -1;
  let namespaceAt = -1;
  let nodeAt = -1;
  let ipAt = -1;
  let ipsAt = -1;
  let hostVethAt = -1;
  let hostNetworkAt = -1;
  let labelsAt = -1;
  let containersAt = -1;
  const spans: Spans = {};
  const size = p.size;
  for (let i = 0; i < size; i++) {
    switch (p.keyAt(i)) {
      case 'name':
        if (nameAt < 0) nameAt = i;
        spans.name = p.valueSpanAt(i);
        break;
      case 'namespace':
        if (namespaceAt < 0) namespaceAt = i;
        spans.namespace = p.valueSpanAt(i);
        break;
      case 'node':
        if (nodeAt < 0) nodeAt = i;
        spans.node = p.valueSpanAt(i);
        break;
      case 'ip':
        if (ipAt < 0) ipAt = i;
        break;
      case 'ips':
        if (ipsAt < 0) ipsAt = i;
        break;
      case 'hostVeth':
        if (hostVethAt < 0) hostVethAt = i;
        spans.hostVeth = p.valueSpanAt(i);
        break;
      case 'hostNetwork':
        if (hostNetworkAt < 0) hostNetworkAt = i;
        spans.hostNetwork = p.valueSpanAt(i);
        break;
      case 'labels':
        // No span: nothing points at a pod's labels as a whole (a label's problems point into the syntax tree).
        if (labelsAt < 0) labelsAt = i;
        break;
      case 'containers':
        if (containersAt < 0) containersAt = i;
        spans.containers = p.valueSpanAt(i);
        break;
    }
  }
  const name = nameAt < 0 ? undefined : strAt(p, nameAt);
  if (!name) return;
  const namespace = (namespaceAt < 0 ? undefined : strAt(p, namespaceAt)) ?? 'default';
  // `ips`, or `ip` when `ips` holds no string (addressList); their spans follow the fields' in the pod's spans.
  let ips: string[];
  const ip = ipsAt < 0 && ipAt >= 0 && p.plainAt(ipAt) !== undefined ? strAt(p, ipAt) : undefined;
  if (ip !== undefined) {
    // Most pods: one address written as `ip: <address>`, its span stored under a name written out (a store under
    // a key held in a variable takes the engine's slow path on a fresh object).
    spans['ips.0'] = p.valueSpanAt(ipAt);
    ips = [ip];
  } else {
    ips = exactArray(stringsWithSpansAt(p, ipsAt, 'ips', spans));
    if (!ips.length) ips = exactArray(stringsWithSpansAt(p, ipAt, 'ips', spans));
  }
  const id = `${namespace}/${name}`;
  const pod: Pod = {
    name,
    namespace,
    id,
    node: (nodeAt < 0 ? undefined : strAt(p, nodeAt)) ?? '',
    ips,
    hostVeth: (hostVethAt < 0 ? undefined : strAt(p, hostVethAt)) ?? hostVethNameOfId(id),
    hostNetwork: (hostNetworkAt < 0 ? undefined : boolAt(p, hostNetworkAt)) ?? false,
    labels: labelsAt < 0 ? NO_LABELS : stringMap(collectionAt(p, labelsAt)),
    containers: readContainers(b, collectionAt(p, containersAt), spans),
    span: p.span,
    spans,
    origin: 'netpath',
  };
  b.addPod(pod);
}

/** The fields of a NetPath Service whose value's span the Service keeps under the field's name. */
const SERVICE_SPAN_FIELDS = [
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
];

/**
 * A NetPath Service's spans: its fields' (in the order written), then each address's, in one record. A record per
 * group merged by spreads was five objects and a generic copy per Service, 10,000 of them at 5,000 nodes.
 */
function serviceSpans(
  s: YMap,
  clusterIPs: readonly { span: Span }[],
  lbIPs: readonly { span: Span }[],
  lbModeNode: YNode | undefined,
  externalIPs: readonly { span: Span }[],
  sourceRanges: readonly { span: Span }[],
): Spans {
  const spans = spansOf(s, SERVICE_SPAN_FIELDS);
  addIndexedSpans(spans, 'clusterIPs', clusterIPs);
  addIndexedSpans(spans, 'loadBalancerIPs', lbIPs);
  // Every load-balancer IP's mode is written once, at loadBalancerIPMode.
  if (lbModeNode)
    addIndexedSpans(
      spans,
      'loadBalancerIPModes',
      lbIPs.map(() => lbModeNode),
    );
  addIndexedSpans(spans, 'externalIPs', externalIPs);
  addIndexedSpans(spans, 'loadBalancerSourceRanges', sourceRanges);
  return spans;
}

/** The fields a NetPath Service may set over a Service object (its draft's `set` holds those it writes). */
const SERVICE_SET_FIELDS = [
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
] as const;

function netpathService(b: Drafts, s: YNode): void {
  if (s.kind !== 'map') return;
  const name = getStr(s, 'name');
  if (!name) return;
  const namespace = getStr(s, 'namespace') ?? 'default';
  const set = new Set<string>();
  // By index: no node made for a value kept as text only to see that it is there.
  for (const key of SERVICE_SET_FIELDS) if (s.indexOf(key) >= 0) set.add(key);
  const clusterIPs = addressList(s, 'clusterIP', 'clusterIPs');
  const lbIPs = addressList(s, 'loadBalancerIP', 'loadBalancerIPs');
  // One ipMode for every load-balancer IP of the Service (a load-balancer controller sets the same on each); a value
  // other than VIP or Proxy is reported by the schema at its line and read as the default.
  const lbModeNode = get(s, 'loadBalancerIPMode');
  const lbMode = enumOf(str(lbModeNode), LOAD_BALANCER_IP_MODES, 'VIP');
  const explicit = get(s, 'endpoints');
  const selector = get(s, 'selector');
  const externalIPs = strings(get(s, 'externalIPs'));
  const sourceRanges = strings(get(s, 'loadBalancerSourceRanges'));
  b.addService({
    svc: {
      name,
      namespace,
      id: `${namespace}/${name}`,
      type: enumOf(getStr(s, 'type'), ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'ClusterIP'),
      clusterIPs: clusterIPs.map((c) => c.value),
      headless: false,
      selector: selector ? stringMap(selector) : undefined,
      ports: readServicePorts(b, get(s, 'ports'), 'netpath'),
      externalTrafficPolicy: enumOf(getStr(s, 'externalTrafficPolicy'), ['Cluster', 'Local'] as const, 'Cluster'),
      internalTrafficPolicy: enumOf(getStr(s, 'internalTrafficPolicy'), ['Cluster', 'Local'] as const, 'Cluster'),
      externalIPs: externalIPs.map((x) => x.value),
      loadBalancerIPs: lbIPs.map((x) => x.value),
      loadBalancerIPModes: lbIPs.map(() => lbMode),
      loadBalancerSourceRanges: sourceRanges.map((x) => x.value),
      sessionAffinity: enumOf(getStr(s, 'sessionAffinity'), ['None', 'ClientIP'] as const, 'None'),
      sessionAffinityTimeoutSeconds: getInt(s, 'sessionAffinityTimeoutSeconds') ?? 10800,
      span: s.span,
      spans: serviceSpans(s, clusterIPs, lbIPs, lbModeNode, externalIPs, sourceRanges),
      origin: 'netpath',
    },
    set,
    loadBalancerIPMode: lbMode,
    explicitEndpoints: explicit
      ? list(explicit).flatMap((e) => {
          const ip = getStr(e, 'ip');
          return ip
            ? [
                {
                  ip,
                  node: getStr(e, 'node'),
                  port: getInt(e, 'port'),
                  ready: getBool(e, 'ready') ?? true,
                  serving: getBool(e, 'serving') ?? true,
                  terminating: getBool(e, 'terminating') ?? false,
                  span: e.span,
                },
              ]
            : [];
        })
      : undefined,
  });
}
