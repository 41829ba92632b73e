/** NetPath documents (`apiVersion: netpath.dev/...`): cluster settings, networks, nodes, pods, Services, externals. */
import { type YMap, type YNode } from '../syntax/yaml';
import { bool, get, int, list, map, str, stringMap, strings } from './read';
import { LOAD_BALANCER_IP_MODES, type Interface, type Pod, type Route } from './types';
import { hostVethName } from './names';
import { DEFAULT_MTU } from '../cni/names';
import { Drafts } from './drafts';
import { boundNodeRules } from './node-rules-bound';
import {
  addressList,
  blockScalarBodySpan,
  enumOf,
  indexedSpans,
  readContainers,
  readServicePorts,
  spansOf,
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

/** The fields of a NetPath pod whose spans the pod keeps. */
const POD_SPANS = ['name', 'namespace', 'node', 'hostVeth', 'hostNetwork', 'labels', 'containers'] as const;

function netpathPod(b: Drafts, p: YNode): void {
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
    containers: readContainers(b, get(p, 'containers'), 'netpath'),
    span: p.span,
    spans: Object.assign(spansOf(p, POD_SPANS), indexedSpans('ips', ips)),
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
