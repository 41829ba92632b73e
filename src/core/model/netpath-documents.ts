/** NetPath documents (`apiVersion: netpath.dev/...`): cluster settings, networks, nodes, pods, Services, externals. */
import { type YMap, type YNode } from '../syntax/yaml';
import {
  boolAt,
  collectionAt,
  get,
  getBool,
  getInt,
  getStr,
  intAt,
  list,
  map,
  str,
  strAt,
  stringMap,
  strings,
} from './read';
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

/**
 * The fields a NetPath Service reader looks at, by slot: first those whose value's span the Service keeps under the
 * field's name (slots below {@link SERVICE_SPAN_FIELD_COUNT}), then the others it reads.
 */
const SERVICE_FIELDS = [
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
  'clusterIP',
  'clusterIPs',
  'loadBalancerIP',
  'loadBalancerIPs',
  'loadBalancerIPMode',
  'sessionAffinityTimeoutSeconds',
  'endpoints',
] as const;
type ServiceField = (typeof SERVICE_FIELDS)[number];
const SERVICE_SPAN_FIELD_COUNT = 10;
const SERVICE_FIELD_SLOT: ReadonlyMap<string, number> = new Map(SERVICE_FIELDS.map((key, slot) => [key, slot]));
const slotOf = (key: ServiceField): number => SERVICE_FIELDS.indexOf(key);
const NAME = slotOf('name');
const NAMESPACE = slotOf('namespace');
const TYPE = slotOf('type');
const SELECTOR = slotOf('selector');
const PORTS = slotOf('ports');
const EXTERNAL_POLICY = slotOf('externalTrafficPolicy');
const INTERNAL_POLICY = slotOf('internalTrafficPolicy');
const EXTERNAL_IPS = slotOf('externalIPs');
const SOURCE_RANGES = slotOf('loadBalancerSourceRanges');
const AFFINITY = slotOf('sessionAffinity');
const CLUSTER_IP = slotOf('clusterIP');
const CLUSTER_IPS = slotOf('clusterIPs');
const LB_IP = slotOf('loadBalancerIP');
const LB_IPS = slotOf('loadBalancerIPs');
const LB_IP_MODE = slotOf('loadBalancerIPMode');
const AFFINITY_TIMEOUT = slotOf('sessionAffinityTimeoutSeconds');
const ENDPOINTS = slotOf('endpoints');
/** No field found yet: the slots a Service's pass starts from (copied, one array per Service). */
const NO_SERVICE_FIELDS: readonly number[] = SERVICE_FIELDS.map(() => -1);

/** The fields a NetPath Service may set over a Service object (its draft's `set` holds those it writes), with their slots. */
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
const SERVICE_SET_SLOTS: readonly number[] = SERVICE_SET_FIELDS.map(slotOf);

/**
 * The strings of entry `i` of `map` (a list, or one string), each with its span, as `strings` reads its value: no
 * node made for a value kept as text (nothing for -1).
 */
function stringsAt(map: YMap, i: number): { value: string; span: Span }[] {
  if (i < 0) return [];
  if (map.plainAt(i) === undefined) return strings(map.valueAt(i));
  const value = strAt(map, i);
  return value === undefined ? [] : [{ value, span: map.valueSpanAt(i) }];
}

/** `addressList` by index: the plural field's strings, or the single one's when it has none. */
function addressListAt(map: YMap, singleAt: number, pluralAt: number): { value: string; span: Span }[] {
  const many = stringsAt(map, pluralAt);
  return many.length ? many : stringsAt(map, singleAt);
}

/**
 * A NetPath Service, read in one pass over its fields (the first entry of each, as `get` finds it; the spans it keeps
 * in the order the fields are written, a field written twice keeping its last value's, as spansOf does), each value
 * then read by index. A lookup per field (seventeen walks of the mapping, a node made for each plain value read) and
 * a record per group of spans merged made a Service cost as much as a dozen pods.
 */
function netpathService(b: Drafts, s: YNode): void {
  if (s.kind !== 'map') return;
  const at = NO_SERVICE_FIELDS.slice();
  const spans: Spans = {};
  const size = s.size;
  for (let i = 0; i < size; i++) {
    const key = s.keyAt(i);
    const slot = SERVICE_FIELD_SLOT.get(key);
    if (slot === undefined) continue;
    if (at[slot] < 0) at[slot] = i;
    if (slot < SERVICE_SPAN_FIELD_COUNT) spans[key] = s.valueSpanAt(i);
  }
  const name = at[NAME] < 0 ? undefined : strAt(s, at[NAME]);
  if (!name) return;
  const textAt = (slot: number): string | undefined => (at[slot] < 0 ? undefined : strAt(s, at[slot]));
  const namespace = textAt(NAMESPACE) ?? 'default';
  const set = new Set<string>();
  for (let k = 0; k < SERVICE_SET_FIELDS.length; k++) if (at[SERVICE_SET_SLOTS[k]] >= 0) set.add(SERVICE_SET_FIELDS[k]);
  const clusterIPs = addressListAt(s, at[CLUSTER_IP], at[CLUSTER_IPS]);
  const lbIPs = addressListAt(s, at[LB_IP], at[LB_IPS]);
  // One ipMode for every load-balancer IP of the Service (a load-balancer controller sets the same on each); a value
  // other than VIP or Proxy is reported by the schema at its line and read as the default.
  const lbModeAt = at[LB_IP_MODE];
  const lbMode = enumOf(textAt(LB_IP_MODE), LOAD_BALANCER_IP_MODES, 'VIP');
  const externalIPs = stringsAt(s, at[EXTERNAL_IPS]);
  const sourceRanges = stringsAt(s, at[SOURCE_RANGES]);
  addIndexedSpans(spans, 'clusterIPs', clusterIPs);
  addIndexedSpans(spans, 'loadBalancerIPs', lbIPs);
  // Every load-balancer IP's mode is written once, at loadBalancerIPMode.
  if (lbModeAt >= 0)
    addIndexedSpans(
      spans,
      'loadBalancerIPModes',
      lbIPs.map(() => ({ span: s.valueSpanAt(lbModeAt) })),
    );
  addIndexedSpans(spans, 'externalIPs', externalIPs);
  addIndexedSpans(spans, 'loadBalancerSourceRanges', sourceRanges);
  const endpointsAt = at[ENDPOINTS];
  b.addService({
    svc: {
      name,
      namespace,
      id: `${namespace}/${name}`,
      type: enumOf(textAt(TYPE), ['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'ClusterIP'),
      clusterIPs: clusterIPs.map((c) => c.value),
      headless: false,
      selector: at[SELECTOR] < 0 ? undefined : stringMap(collectionAt(s, at[SELECTOR])),
      ports: readServicePorts(b, collectionAt(s, at[PORTS]), 'netpath'),
      externalTrafficPolicy: enumOf(textAt(EXTERNAL_POLICY), ['Cluster', 'Local'] as const, 'Cluster'),
      internalTrafficPolicy: enumOf(textAt(INTERNAL_POLICY), ['Cluster', 'Local'] as const, 'Cluster'),
      externalIPs: externalIPs.map((x) => x.value),
      loadBalancerIPs: lbIPs.map((x) => x.value),
      loadBalancerIPModes: lbIPs.map(() => lbMode),
      loadBalancerSourceRanges: sourceRanges.map((x) => x.value),
      sessionAffinity: enumOf(textAt(AFFINITY), ['None', 'ClientIP'] as const, 'None'),
      sessionAffinityTimeoutSeconds: (at[AFFINITY_TIMEOUT] < 0 ? undefined : intAt(s, at[AFFINITY_TIMEOUT])) ?? 10800,
      span: s.span,
      spans,
      origin: 'netpath',
    },
    set,
    loadBalancerIPMode: lbMode,
    explicitEndpoints:
      endpointsAt >= 0
        ? list(s.valueAt(endpointsAt)).flatMap((e) => {
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
