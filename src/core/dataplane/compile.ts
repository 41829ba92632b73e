/**
 * Compiles a topology into its data plane (see `types.ts`): what `ip addr`, `ip route`, `bridge link` and
 * `iptables-save` would show in each namespace of a cluster built as the model says.
 *
 * - A pod (not hostNetwork) gets a namespace with `lo` and `eth0` (its addresses with the node's pod-subnet
 *   length), a connected route, the routes its node's CNI plug-in gives it (the bridge plug-in: a default route
 *   via the bridge gateway), and a veth pair to its node.
 * - A node gets `lo`, its interfaces, the devices, bridges and routes its CNI plug-in creates (src/core/cni),
 *   connected routes, its declared routes and the host-gw routes implied by the model, and its packet filter.
 *   hostNetwork pods run in their node's namespace.
 * - An external client gets `lo` and `eth0` on its network, with connected routes.
 */
import {
  defaultPrefix,
  literalAddress,
  addressKey,
  canonical,
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Prefix,
} from '../net/address';
import { loadBalancerIPsOfMode, type Node, type Pod, type Topology } from '../model/types';
import { problem, type Problem } from '../problem';
import { cniPluginOf } from '../cni';
import type { CniPlugin } from '../cni/types';
import { ifaceAddress } from '../cni/bridge';
import { podMtuOf } from '../cni/mtu';
import { portmapLocalnetAddresses } from '../cni/portmap';
import { parseAddressOrPrefix } from '../netfilter/values';
import { DEFAULT_MTU } from '../cni/names';
import { KUBE_PROXY_IPTABLES_KNOWLEDGE } from '../kubeproxy/knowledge';
import type { PacketFilter } from './filter';
import { iptablesFilter } from './iptables-filter';
import { kubeProxyNftablesText } from './kube-proxy';
import { nftablesFilter } from './nftables-filter';
import { newNftShareMemo, sharedKubeProxyNft, type SharedKubeProxyNft } from './kube-proxy-nft-share';
import { buildNodeRules, newRulesMemo, rulesFileOf, type NodeRulesOptions } from './node-rules';
import { compareRoutes, connectedRoute, connectedRouteFrom, connectedRouteHead, routeText, sortRoutes } from './routes';
import { hostGwIndex, impliedDevice, routingInterfaces, type HostGwEntry } from '../model/host-gw';
import type {
  DataPlane,
  DpBridge,
  DpInterface,
  DpRoute,
  ImpliedRoutes,
  InterfaceAddress,
  Listener,
  Netns,
  NetnsId,
  ProxyLoadBalancer,
  Segment,
  SegmentMember,
  TunnelEntries,
  VethPair,
} from './types';
import { work } from '../work';
import { podsById, podsByNode } from '../model/pods-by-id';

export const podNetns = (id: string): NetnsId => `pod:${id}`;
export const nodeNetns = (name: string): NetnsId => `node:${name}`;
export const externalNetns = (name: string): NetnsId => `external:${name}`;

const LO: DpInterface = {
  name: 'lo',
  kind: 'loopback',
  addresses: [
    { family: 4, address: '127.0.0.1', length: 8 },
    { family: 6, address: '::1', length: 128 },
  ],
};

/** The prefix routes the kernel adds for interface addresses (none for an IPv4 /32, e.g. flannel's VTEP address). */
function connectedRoutes(ifaces: readonly DpInterface[]): DpRoute[] {
  // A plain loop: a node's interfaces include a host veth per pod (no addresses), and filter/flatMap made two
  // arrays for each of them.
  // Indexed loops, too: a trace builds a new pod's namespace per endpoint, in code too cold to be optimised, where a
  // for-of made an object per step.
  const out: DpRoute[] = [];
  for (let k = 0; k < ifaces.length; k++) {
    const i = ifaces[k];
    if (i.kind === 'loopback') continue;
    for (let j = 0; j < i.addresses.length; j++) {
      const x = i.addresses[j];
      if (x.family === 4 && x.length === 32) continue;
      const route = connectedRoute(i.name, x);
      if (route) out.push(route);
    }
  }
  return out;
}

export interface CompileOptions extends NodeRulesOptions {
  /** net.bridge.bridge-nf-call-iptables on every node (default true, as kube-proxy requires). */
  readonly brNetfilter?: boolean;
  /**
   * kube-proxy's nftables mode: share one generated and parsed ruleset between nodes that differ only in their
   * `nodeport-ips` (default true). False generates and parses it for each node: the reference the sharing is tested
   * against.
   */
  readonly shareKubeProxyNft?: boolean;
}

/**
 * A node's host-gw routes: looked up in the cluster's index of pod CIDRs (src/core/model/host-gw.ts), never
 * listed per node. Route objects are shared between the nodes that reach a CIDR over the same device name.
 */
function impliedRoutesOf(t: Topology, node: Node, shared: Map<HostGwEntry, Map<string, DpRoute>>): ImpliedRoutes {
  const index = hostGwIndex(t);
  // The node's routing interfaces and their networks, read when its routes are first asked for (a lint asks at a few
  // of 1,000s of nodes).
  let mine: ReturnType<typeof routingInterfaces> | undefined;
  let networks: readonly string[] = [];
  const routing = (): ReturnType<typeof routingInterfaces> => {
    if (mine) return mine;
    mine = routingInterfaces(t, node);
    networks = [...new Set(mine.map((i) => i.network))];
    return mine;
  };
  const route = (e: HostGwEntry): DpRoute | undefined => {
    const dev = impliedDevice(t, node, e, routing());
    if (!dev) return undefined;
    let byDev = shared.get(e);
    if (!byDev) shared.set(e, (byDev = new Map()));
    let r = byDev.get(dev);
    if (!r) {
      const to = canonical(e.prefix);
      const via = parseAddress(e.via);
      const viaText = via ? formatAddress(via) : e.via;
      r = {
        to,
        prefix: { ...e.prefix, text: to },
        via: viaText,
        dev,
        kind: 'implied',
        text: routeText(to, viaText, dev),
        span: e.span,
      };
      byDev.set(dev, r);
      work.routes++;
    }
    return r;
  };
  // The last destination asked and its routes: a lookup (lookupRoute) and the list of what it chose among (routesFor)
  // ask for the same address object one after the other, at each node of every path of a trace.
  let lastDst: Address | undefined;
  let lastRoutes: readonly DpRoute[] = [];
  return {
    matching(dst) {
      if (dst === lastDst) return lastRoutes;
      const out: DpRoute[] = [];
      routing();
      for (const n of networks)
        for (const e of index.networks.get(n)?.matching(dst) ?? []) {
          const r = route(e);
          if (r) out.push(r);
        }
      lastDst = dst;
      lastRoutes = out.sort(compareRoutes);
      return lastRoutes;
    },
    all() {
      return index.entries.flatMap((e) => route(e) ?? []);
    },
  };
}

/**
 * Whether kube-proxy sets net.ipv4.conf.all.route_localnet=1 on the nodes: its iptables proxier does when NodePorts
 * answer on 127.0.0.1 (localhostNodePorts, on by default, and nodePortAddresses empty or holding 127.0.0.1), its
 * ipvs proxier always; the IPv4 proxier only (IPv6 has no such switch), and never in nftables mode.
 */
export function kubeProxySetsRouteLocalnet(t: Topology): boolean {
  const kp = t.cluster.kubeProxy;
  if (kp.mode === 'nftables') return false;
  const families = [...t.cluster.serviceCIDRs, ...t.cluster.podCIDRs].map((c) => parsePrefix(c)?.family);
  if (families.length && !families.includes(4)) return false;
  if (kp.mode === 'ipvs') return true;
  if (kp.nodePortAddresses.length === 0) return true;
  const loopback = literalAddress('127.0.0.1');
  return kp.nodePortAddresses.some((c) => {
    const p = c === 'primary' ? undefined : parseAddressOrPrefix(c.trim());
    return p?.family === 4 && prefixContainsAddress(p, loopback);
  });
}

export function compileDataPlane(t: Topology, options: CompileOptions = {}): DataPlane {
  const problems: Problem[] = [];
  const namespaces = new LazyNamespaces(t);
  const owners = new AddressOwners(t);
  const own = (a: Address, netns: NetnsId, device: string): void => owners.own(addressKey(a), { netns, device });
  const ownText = (address: string, netns: NetnsId, device: string): void => {
    // An IPv4 address as formatAddress writes it (every interface address is): addressKey's text from its value,
    // without an address made (two per node).
    const v4 = canonicalIPv4Value(address);
    if (v4 !== undefined) {
      owners.own(`4:${v4}`, { netns, device });
      return;
    }
    const a = parseAddress(address);
    if (a) own(a, netns, device);
  };
  const podsOfNode = podsByNode(t);
  const nodeByName = new Map(t.nodes.map((n) => [n.name, n]));
  const mtuOf = new Map(t.networks.map((n) => [n.name, n.mtu]));
  const hostGw = hostGwIndex(t).entries.length > 0;
  const sharedImplied = new Map<HostGwEntry, Map<string, DpRoute>>();
  const brNetfilter = options.brNetfilter ?? true;
  // The one piece of mutable state: rulesets compiled so far, and what nodes share (chain hashes, Service input).
  const memo = newRulesMemo();
  const nftShare = newNftShareMemo();
  /** kube-proxy's nft tables on a node in its nftables mode: shared with nodes alike when they can be. */
  const kubeProxyNft = (node: Node): { nftText: string; kubeProxy?: SharedKubeProxyNft } => {
    if (t.cluster.kubeProxy.mode !== 'nftables') return { nftText: '' };
    const shared =
      options.shareKubeProxyNft === false ? undefined : sharedKubeProxyNft(t, node, nftShare, rulesFileOf(node.name));
    if (shared) return { nftText: shared.text, kubeProxy: shared };
    work.kubeProxyNftRulesets++;
    return { nftText: kubeProxyNftablesText(t, node) };
  };
  const filterOf = new Map<string, PacketFilter>();
  const lazyFilter = (node: Topology['nodes'][number]): PacketFilter => {
    let f = filterOf.get(node.name);
    if (!f) {
      const nftMode = t.cluster.kubeProxy.mode === 'nftables';
      // nftables tables on the node (kube-proxy's nftables mode, or the node's own `nftables:` text): the nftables
      // backend runs them with the iptables-nft tables by priority; otherwise iptables alone.
      f =
        nftMode || node.nftables
          ? nftablesFilter({
              ...kubeProxyNft(node),
              ...(node.nftables
                ? {
                    own: {
                      ...node.nftables,
                      ...(options.files?.has(node.nftables.span.file)
                        ? { fileText: options.files.get(node.nftables.span.file) }
                        : {}),
                    },
                  }
                : {}),
              iptables: buildNodeRules(t, node, nftMode ? { ...options, kubeProxy: () => '' } : options, memo),
              rulesFile: rulesFileOf(node.name),
            })
          : iptablesFilter(
              buildNodeRules(t, node, options, memo),
              rulesFileOf(node.name),
              KUBE_PROXY_IPTABLES_KNOWLEDGE,
            );
      filterOf.set(node.name, f);
    }
    return f;
  };

  const kubeProxyLocalnet = kubeProxySetsRouteLocalnet(t);
  // The underlay's members, nodes then externals: their physical interfaces (pods have none).
  const underlay: (SegmentMember & { readonly network: string })[] = [];
  for (const node of t.nodes) {
    const nsId = nodeNetns(node.name);
    const pods = podsOfNode.get(node.name) ?? [];
    // Each pod read once for whether it shares the node's namespace (few do): the others are the plug-in's to wire.
    let hostNetworkPods: Pod[] | undefined;
    // Indexed: the compile runs once, mostly before it is optimised, where a for-of made an object per pod.
    for (let i = 0; i < pods.length; i++) if (pods[i].hostNetwork) (hostNetworkPods ??= []).push(pods[i]);
    const wiredPods = hostNetworkPods ? pods.filter((p) => !p.hostNetwork) : pods;
    const physical: DpInterface[] = node.interfaces.map((i) => {
      const mtu = mtuOf.get(i.network);
      const addresses = i.addresses.flatMap((a) => ifaceAddress(a) ?? []);
      // Two literals rather than a spread of the optional MTU: one object of one shape per interface.
      return mtu !== undefined && mtu !== DEFAULT_MTU
        ? { name: i.name, kind: 'physical', network: i.network, addresses, mtu }
        : { name: i.name, kind: 'physical', network: i.network, addresses };
    });
    // The node's CNI plug-in wires its pods: devices, bridges, routes (src/core/cni).
    const wiring = cniPluginOf(node).wireNode(node, wiredPods, t);
    // The pods' MTU (the plug-in's `mtu`) holds on their host veths and bridge too.
    const podMtu = podMtuOf(t, node);
    const withPodMtu = (devices: readonly DpInterface[]): readonly DpInterface[] =>
      podMtu === undefined
        ? devices
        : devices.map((i) =>
            i.mtu === undefined && (i.kind === 'veth' || i.kind === 'bridge') ? { ...i, mtu: podMtu } : i,
          );
    // What the node's addresses and connected routes come from: the devices holding addresses (a bridge's host
    // veths, one per pod, hold none and are made only when the node's devices are read).
    const addressed = [LO, ...physical, ...withPodMtu(wiring.addressed ?? wiring.interfaces)];
    const routes: DpRoute[] = [...connectedRoutes(addressed), ...wiring.routes];
    for (const r of node.routes) {
      const p = r.to === 'default' ? undefined : parsePrefix(r.to);
      const via = r.via ? parseAddress(r.via) : undefined;
      const family = p?.family ?? via?.family ?? 4;
      const prefix = p ?? defaultPrefix(family);
      // Without `dev`, the kernel picks the interface whose connected route holds the gateway.
      const dev =
        r.dev ??
        (via ? routes.find((c) => c.kind === 'connected' && prefixContainsAddress(c.prefix, via))?.dev : undefined);
      if (!dev) {
        problems.push(
          problem(
            'route.no-device',
            'error',
            `Route to ${r.to} on node ${node.name}: no interface reaches the gateway ${r.via ?? '(none)'}, so the kernel would refuse it ("Nexthop has invalid gateway").`,
            r.spans.via ?? r.span,
          ),
        );
        continue;
      }
      const to = p ? canonical(p) : 'default';
      routes.push({
        to,
        prefix: { ...prefix, text: to },
        ...(via ? { via: formatAddress(via) } : {}),
        dev,
        kind: r.source,
        text: routeText(to, via ? formatAddress(via) : undefined, dev),
        span: r.span,
      });
    }
    const listeners: Listener[] = hostNetworkPods?.flatMap((p) => listenersOf(p)) ?? [];
    work.routes += routes.length;
    const sorted = sortRoutes(routes);
    // The node's devices, made on first read (see `addressed`), with portmap's route_localnet on the device that
    // routes to each pod with a hostPort (few pods: a scan each).
    let interfaces: readonly DpInterface[] | undefined;
    const interfacesOnce = (): readonly DpInterface[] => {
      if (interfaces) return interfaces;
      const all = [LO, ...physical, ...withPodMtu(wiring.interfaces)];
      const localnet = new Set(
        portmapLocalnetAddresses(t, pods).flatMap(
          (a) => sorted.find((r) => r.type !== 'blackhole' && prefixContainsAddress(r.prefix, a))?.dev ?? [],
        ),
      );
      interfaces = localnet.size ? all.map((i) => (localnet.has(i.name) ? { ...i, routeLocalnet: true } : i)) : all;
      return interfaces;
    };
    namespaces.set(
      nsId,
      nodeNamespace(nsId, sorted, listeners, hostNetworkPods?.map((p) => p.id) ?? [], brNetfilter, {
        node,
        interfaces: interfacesOnce,
        wiring,
        filters: lazyFilter,
        implied: wiring.implied ?? (hostGw ? impliedRoutesOf(t, node, sharedImplied) : undefined),
        tunnels: wiring.tunnels,
        routeLocalnet: kubeProxyLocalnet ? true : undefined,
      }),
    );
    for (let k = 0; k < addressed.length; k++) {
      const i = addressed[k];
      if (i.kind !== 'loopback')
        for (let j = 0; j < i.addresses.length; j++) ownText(i.addresses[j].address, nsId, i.name);
    }
    for (const i of physical)
      if (i.network) underlay.push({ netns: nsId, device: i.name, network: i.network, addresses: i.addresses });
  }

  // A pod's namespace is built when something asks for it (a trace crosses a few of 150,000 pods).
  // What the pods of a node share, made once per node: a trace to a new Service builds the namespaces of its 30
  // endpoints' pods, a few nodes' worth. The node's namespace id is one string every pod's eth0 peer names (not one
  // made per pod, each hashed again when the walk looks its namespace up).
  const podSides = new Map<string, PodSide | null>();
  const podSideOf = (nodeName: string): PodSide | undefined => {
    let side = podSides.get(nodeName);
    if (side === undefined) {
      const node = nodeByName.get(nodeName);
      side = node
        ? {
            node,
            subnets: node.podCIDRs.flatMap((c) => parsePrefix(c) ?? []),
            netns: nodeNetns(node.name),
            plugin: cniPluginOf(node),
            mtu: podMtuOf(t, node),
            connected: [],
          }
        : null;
      podSides.set(nodeName, side);
    }
    return side ?? undefined;
  };
  // What a pod's namespace is built from, when it is first asked for: its addresses with their lengths (from the
  // node's pod subnets), its wiring by the node's plug-in, its two interfaces and routes. `nsId`: the id it was asked
  // by (the same text as podNetns(pod.id)), kept rather than made again.
  const buildPodNetns = (pod: Pod, nsId: NetnsId): Netns => {
    const side = podSideOf(pod.node);
    const ips = pod.ips;
    // Arrays of the size they end up (a pod has one address or two): one pushed onto from empty reserves 17 slots,
    // and the namespace is kept for the rest of the session.
    const connected: DpRoute[] = [];
    let addresses: InterfaceAddress[];
    if (ips.length === 1) {
      const x = podAddress(ips[0], side, connected);
      addresses = x ? [x] : [];
    } else {
      addresses = [];
      for (let k = 0; k < ips.length; k++) {
        const x = podAddress(ips[k], side, connected);
        if (x) addresses.push(x);
      }
    }
    const podWiring = side?.plugin.wirePod(side.node, pod, addresses, t);
    const eth0Addresses = podWiring?.addresses ?? addresses;
    // One literal per shape, in the order of the fields as they were spread (a spread copies through the engine's
    // generic path). A pod on a node the topology does not have is wired to nothing (the walk finds no peer, not a
    // crash).
    const eth0: DpInterface = !side
      ? { name: 'eth0', kind: 'veth', addresses: eth0Addresses }
      : side.mtu === undefined
        ? { name: 'eth0', kind: 'veth', addresses: eth0Addresses, peer: { netns: side.netns, device: pod.hostVeth } }
        : {
            name: 'eth0',
            kind: 'veth',
            addresses: eth0Addresses,
            peer: { netns: side.netns, device: pod.hostVeth },
            mtu: side.mtu,
          };
    const interfaces = [LO, eth0];
    // The plug-in's own addresses (Calico's /32, ptp's) have their own connected routes.
    const routes = podWiring?.addresses ? connectedRoutes(interfaces) : connected;
    const wired = podWiring?.routes ?? [];
    for (let k = 0; k < wired.length; k++) routes.push(wired[k]);
    return {
      id: nsId,
      kind: 'pod',
      name: pod.id,
      node: pod.node,
      interfaces,
      // A copy of its size, sorted.
      routes: sortRoutes(routes),
      bridges: NO_BRIDGES,
      listeners: listenersOf(pod),
      pods: [pod.id],
      forwarding: false,
      brNetfilter: false,
    };
  };
  namespaces.buildPod = buildPodNetns;
  // Up front, per pod, only what the data plane needs of every pod at once: the owner of each of its addresses, kept
  // by its text. The pod itself stands for its namespace until one is asked for (found by id in the index the
  // trace's endpoints share: nothing per pod here).
  namespaces.podsAfterNodes();
  owners.podsOwned();

  for (const x of t.externals) {
    const nsId = externalNetns(x.name);
    const eth0: DpInterface = {
      name: 'eth0',
      kind: 'physical',
      network: x.network,
      addresses: x.addresses.flatMap((a) => ifaceAddress(a) ?? []),
    };
    const interfaces = [LO, eth0];
    namespaces.set(nsId, {
      id: nsId,
      kind: 'external',
      name: x.name,
      interfaces,
      routes: sortRoutes(connectedRoutes(interfaces)),
      bridges: [],
      listeners: [],
      pods: [],
      forwarding: false,
      brNetfilter: false,
    });
    for (const a of eth0.addresses) ownText(a.address, nsId, 'eth0');
    if (x.network) underlay.push({ netns: nsId, device: 'eth0', network: x.network, addresses: eth0.addresses });
  }

  const members = new Map<string, SegmentMember[]>(t.networks.map((n) => [n.name, []]));
  for (const { network, ...member } of underlay) members.get(network)?.push(member);
  const segments = new Map<string, Segment>(
    t.networks.map((n) => [n.name, { network: n.name, cidr: n.cidr, members: members.get(n.name) ?? [] }]),
  );
  const announced = new Map<string, NetnsId>();
  const proxyLoadBalancers = new Map<string, ProxyLoadBalancer>();
  for (const svc of t.services) {
    // A Proxy-mode load-balancer IP is the load balancer's own: no node answers for it, kube-proxy leaves it alone.
    for (const ip of loadBalancerIPsOfMode(svc, 'Proxy')) {
      const a = parseAddress(ip);
      if (a && !owners.has(addressKey(a)) && !proxyLoadBalancers.has(addressKey(a)))
        proxyLoadBalancers.set(addressKey(a), {
          service: svc.id,
          ports: svc.ports.map((p) => ({ port: p.port, protocol: p.protocol, nodePort: p.nodePort })),
        });
    }
    const announcedIPs = [...loadBalancerIPsOfMode(svc, 'VIP'), ...svc.externalIPs];
    // Which node answers is asked only of a Service with addresses to announce (few of 10,000s).
    if (!announcedIPs.length) continue;
    const local = svc.endpoints.find((e) => e.ready && e.node && nodeByName.has(e.node))?.node;
    const node = svc.externalTrafficPolicy === 'Local' ? local : t.nodes[0]?.name;
    if (!node) continue;
    for (const ip of announcedIPs) {
      const a = parseAddress(ip);
      if (a && !owners.has(addressKey(a)) && !announced.has(addressKey(a)))
        announced.set(addressKey(a), nodeNetns(node));
    }
  }
  let all: readonly Problem[] | undefined;
  let veths: readonly VethPair[] | undefined;
  return {
    namespaces,
    segments,
    // Made when read (nothing on a trace's path does): each pod's eth0 and its host veth in its node's namespace.
    get veths(): readonly VethPair[] {
      veths ??= vethPairsOf(t.pods.filter((p) => !p.hostNetwork && nodeByName.has(p.node)));
      return veths;
    },
    owners,
    announced,
    proxyLoadBalancers,
    structureProblems: problems,
    get problems(): readonly Problem[] {
      all ??= [...problems, ...t.nodes.flatMap((n) => lazyFilter(n).problems)];
      return all;
    },
  };
}

/** What a node's namespace makes when read, and its optional parts (see {@link NodeNamespace}). */
interface NodeNamespaceParts {
  /** Its devices, made on first read. */
  readonly interfaces: () => readonly DpInterface[];
  /** The plug-in's wiring of the node, whose bridges are made when read. */
  readonly wiring: { readonly bridges: readonly DpBridge[] };
  /** The data plane's packet filter of a node, compiled on first read. */
  readonly filters: (node: Node) => PacketFilter;
  /** The node, for `filters`. */
  readonly node: Node;
  readonly implied: ImpliedRoutes | undefined;
  readonly tunnels: TunnelEntries | undefined;
  readonly routeLocalnet: true | undefined;
}

/** Where a node's namespace keeps what its getters read (see {@link nodeNamespace}). */
const NODE_PARTS = Symbol('node namespace parts');

type NodeNamespaceState = Netns & { readonly [NODE_PARTS]: NodeNamespaceParts };

/**
 * The getters of every node's namespace: the same three functions for all, reading the namespace's own parts. An
 * object literal with its own getters (new functions each time) is kept in dictionary mode by V8, a hash table of
 * its properties per node (5,000 at Kubernetes' limits) that every hop of a trace read by lookup; with shared getters
 * the namespaces share one shape. They stay own, enumerable properties: a copy (`{ ...ns }`) still has them.
 */
const NODE_NAMESPACE_GETTERS: PropertyDescriptorMap = {
  interfaces: {
    get(this: NodeNamespaceState): readonly DpInterface[] {
      return this[NODE_PARTS].interfaces();
    },
    enumerable: true,
  },
  bridges: {
    get(this: NodeNamespaceState): readonly DpBridge[] {
      return this[NODE_PARTS].wiring.bridges;
    },
    enumerable: true,
  },
  filter: {
    get(this: NodeNamespaceState): PacketFilter {
      const parts = this[NODE_PARTS];
      return parts.filters(parts.node);
    },
    enumerable: true,
  },
};

/** A node's namespace: its devices, bridges and packet filter made when read (see NODE_NAMESPACE_GETTERS). */
function nodeNamespace(
  id: NetnsId,
  routes: readonly DpRoute[],
  listeners: readonly Listener[],
  pods: readonly string[],
  brNetfilter: boolean,
  parts: NodeNamespaceParts,
): Netns {
  const ns = {
    id,
    kind: 'node' as const,
    name: parts.node.name,
    node: parts.node.name,
    routes,
    implied: parts.implied,
    tunnels: parts.tunnels,
    listeners,
    pods,
    forwarding: true,
    brNetfilter,
    routeLocalnet: parts.routeLocalnet,
    [NODE_PARTS]: parts,
  };
  return Object.defineProperties(ns, NODE_NAMESPACE_GETTERS) as typeof ns & Netns;
}

const POD_PREFIX = podNetns('');

/**
 * The namespaces of a data plane by id, in the order they were added (nodes, pods, externals). A pod's is built from
 * the pod (found by id in {@link podsById}) on first use: reading one namespace never builds the others, and the
 * compile keeps nothing per pod.
 */
class LazyNamespaces implements ReadonlyMap<NetnsId, Netns> {
  /** Nodes' and externals' namespaces. */
  private readonly given = new Map<NetnsId, Netns>();
  /** Pods' namespaces built so far. */
  private readonly built = new Map<NetnsId, Netns>();
  /** How many of `given` go before the pods' (the nodes'). */
  private podsAt = 0;
  private podCount: number | undefined;
  /** Builds a pod's namespace from the pod (set by the compile before the first read). */
  buildPod: (pod: Pod, id: NetnsId) => Netns = () => {
    throw new Error('pod namespaces read before the data plane was compiled');
  };

  constructor(private readonly t: Topology) {}

  set(id: NetnsId, ns: Netns): void {
    this.given.set(id, ns);
  }

  /** The pods' namespaces go here, after those given so far. */
  podsAfterNodes(): void {
    this.podsAt = this.given.size;
  }

  /** The pod whose namespace `id` is (not hostNetwork: those run in their node's). */
  private podOf(id: NetnsId): Pod | undefined {
    if (!id.startsWith(POD_PREFIX)) return undefined;
    const pod = podsById(this.t).get(id.slice(POD_PREFIX.length));
    return pod && !pod.hostNetwork ? pod : undefined;
  }

  /** The pods that have a namespace, in topology order. */
  private *pods(): Generator<Pod> {
    const byId = podsById(this.t);
    for (const p of this.t.pods) if (!p.hostNetwork && byId.get(p.id) === p) yield p;
  }

  get size(): number {
    if (this.podCount === undefined) {
      let n = 0;
      for (const _ of this.pods()) n++;
      this.podCount = n;
    }
    return this.given.size + this.podCount;
  }

  has(id: NetnsId): boolean {
    return this.given.has(id) || this.built.has(id) || this.podOf(id) !== undefined;
  }

  get(id: NetnsId): Netns | undefined {
    const ns = this.given.get(id) ?? this.built.get(id);
    if (ns) return ns;
    const pod = this.podOf(id);
    return pod && this.podNetns(pod, id);
  }

  /**
   * A pod's namespace, built on first use. `id`: podNetns(pod.id), as it was asked for (kept as the namespace's id: a
   * string that exists already, its hash computed).
   */
  private podNetns(pod: Pod, id: NetnsId): Netns {
    let ns = this.built.get(id);
    if (!ns) this.built.set(id, (ns = this.buildPod(pod, id)));
    return ns;
  }

  /** Every id in order: the given ones, with the pods' after the first `podsAt` of them. */
  *keys(): MapIterator<NetnsId> {
    let i = 0;
    for (const id of [...this.given.keys()]) {
      if (i++ === this.podsAt) for (const p of this.pods()) yield podNetns(p.id);
      yield id;
    }
    if (i <= this.podsAt) for (const p of this.pods()) yield podNetns(p.id);
  }

  *entries(): MapIterator<[NetnsId, Netns]> {
    for (const id of this.keys()) {
      const ns = this.get(id);
      if (ns) yield [id, ns];
    }
  }

  *values(): MapIterator<Netns> {
    for (const [, ns] of this.entries()) yield ns;
  }

  [Symbol.iterator](): MapIterator<[NetnsId, Netns]> {
    return this.entries();
  }

  forEach(f: (value: Netns, key: NetnsId, map: ReadonlyMap<NetnsId, Netns>) => void, thisArg?: unknown): void {
    for (const [id, ns] of this.entries()) f.call(thisArg, ns, id, this);
  }
}

type Owner = { readonly netns: NetnsId; readonly device: string };

/**
 * Up to this many pods, a pod's IPv4 address and its place in `t.pods` pack into one double (value * pods + place,
 * below 2^53), and the index of pod addresses is one sorted Float64Array; past it, a Map by address key.
 */
const MAX_PACKED_PODS = 2 ** 21;

/** The pods' addresses: what a data plane's owners read past the nodes' (see AddressOwners). */
interface PodAddressIndex {
  /** Pods' IPv4 addresses, each packed with the pod's place (see MAX_PACKED_PODS), sorted. */
  readonly pods4: Float64Array;
  /** Pods' addresses by key: the IPv6 ones, and the IPv4 ones too past MAX_PACKED_PODS pods. */
  readonly podsByKey: ReadonlyMap<string, Pod>;
}

/** Per topology, made on first use: every data plane of a topology (the lint's, then a trace's) shares it. */
const podAddressIndexes = new WeakMap<Topology, PodAddressIndex>();

/** The index of the pods' addresses (not hostNetwork pods': those are their node's). */
function podAddressIndex(t: Topology): PodAddressIndex {
  const known = podAddressIndexes.get(t);
  if (known) return known;
  const pods = t.pods;
  const packed = pods.length <= MAX_PACKED_PODS;
  const values: number[] = [];
  const podsByKey = new Map<string, Pod>();
  const ownKey = (key: string, pod: Pod): void => {
    if (!podsByKey.has(key)) podsByKey.set(key, pod);
  };
  for (let place = 0; place < pods.length; place++) {
    const pod = pods[place];
    if (pod.hostNetwork) continue;
    // Indexed, as the loop over the pods: once per topology, mostly before it is optimised (a for-of made an object
    // per address).
    for (let k = 0; k < pod.ips.length; k++) {
      const ip = pod.ips[k];
      work.podOwnerAddresses++;
      if (ip.includes(':')) {
        const a = parseAddress(ip);
        if (a) ownKey(addressKey(a), pod);
        continue;
      }
      const value = canonicalIPv4Value(ip.trim());
      if (value === undefined) continue; // no address the lookups' keys can spell
      if (packed) values.push(value * pods.length + place);
      else ownKey(`4:${value}`, pod);
    }
  }
  // Sorted by value, then by place: the first pod to hold an address is found first.
  const index = { pods4: Float64Array.from(values).sort(), podsByKey };
  podAddressIndexes.set(t, index);
  return index;
}

/**
 * Which namespace owns an address (by `addressKey`): the first to hold it of the nodes, the pods and the externals,
 * in that order. The pods' addresses are indexed on the first lookup that gets past the nodes' (a lint asks about
 * nodes' gateways, which the nodes own; a trace about pods): a valid IPv4 address has one spelling, the one
 * `formatAddress` writes, so a pod's trimmed text in that spelling is read as its value by a scan of its characters,
 * and the values are sorted with each pod's place (once per topology). A Map of 150,000 address strings, made in every compile, cost
 * more than the rest of the data plane's pods together. An IPv6 text is parsed for its key. A pod's owner entry is
 * made when asked for.
 */
class AddressOwners implements ReadonlyMap<string, Owner> {
  private readonly nodes = new Map<string, Owner>();
  private readonly externals = new Map<string, Owner>();
  private podsDone = false;
  private all: Map<string, Owner> | undefined;

  constructor(private readonly t: Topology) {}

  /**
   * `key` is owned by `owner` unless a node or an earlier external owns it. An external's address a pod holds is kept
   * too, and never found: lookups ask the pods first (so the pods need no index to own an external's address).
   */
  own(key: string, owner: Owner): void {
    if (!this.nodes.has(key) && !this.externals.has(key)) (this.podsDone ? this.externals : this.nodes).set(key, owner);
  }

  /** The pods' addresses are owned from here on (after the nodes', before the externals'). */
  podsOwned(): void {
    this.podsDone = true;
  }

  private podOf(key: string): Pod | undefined {
    if (!this.podsDone) return undefined;
    const { pods4, podsByKey } = podAddressIndex(this.t);
    const pods = this.t.pods;
    if (key.startsWith('6:') || pods.length > MAX_PACKED_PODS) return podsByKey.get(key);
    // addressKey writes an IPv4 address as its value in decimal.
    const m = /^4:(\d{1,10})$/.exec(key);
    const value = m ? Number(m[1]) : NaN;
    if (!(value <= 0xffffffff)) return undefined;
    // The first packed entry at or past the value's first slot.
    const from = value * pods.length;
    let lo = 0;
    let hi = pods4.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pods4[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < pods4.length && pods4[lo] < from + pods.length ? pods[pods4[lo] - from] : undefined;
  }

  get(key: string): Owner | undefined {
    const owner = this.nodes.get(key);
    if (owner) return owner;
    const pod = this.podOf(key);
    return pod ? { netns: podNetns(pod.id), device: 'eth0' } : this.externals.get(key);
  }

  has(key: string): boolean {
    return this.nodes.has(key) || this.podOf(key) !== undefined || this.externals.has(key);
  }

  /** Every entry, in the order they were owned (parses every pod's addresses: for listing, not for lookups). */
  private entriesOnce(): Map<string, Owner> {
    if (this.all) return this.all;
    const all = new Map(this.nodes);
    for (const pod of this.t.pods) {
      if (pod.hostNetwork) continue;
      for (const ip of pod.ips) {
        const a = parseAddress(ip);
        if (a && !all.has(addressKey(a))) all.set(addressKey(a), { netns: podNetns(pod.id), device: 'eth0' });
      }
    }
    for (const [key, owner] of this.externals) if (!all.has(key)) all.set(key, owner);
    this.all = all;
    return all;
  }

  get size(): number {
    return this.entriesOnce().size;
  }

  keys(): MapIterator<string> {
    return this.entriesOnce().keys();
  }

  values(): MapIterator<Owner> {
    return this.entriesOnce().values();
  }

  entries(): MapIterator<[string, Owner]> {
    return this.entriesOnce().entries();
  }

  [Symbol.iterator](): MapIterator<[string, Owner]> {
    return this.entries();
  }

  forEach(f: (value: Owner, key: string, map: ReadonlyMap<string, Owner>) => void, thisArg?: unknown): void {
    for (const [key, owner] of this.entries()) f.call(thisArg, owner, key, this);
  }
}

/** Each pod's veth pair: its eth0, and the host end in its node's namespace (one id string per node, shared). */
function vethPairsOf(pods: readonly Pod[]): VethPair[] {
  const nodeNsIds = new Map<string, NetnsId>();
  return pods.map((pod) => {
    let nodeNs = nodeNsIds.get(pod.node);
    if (nodeNs === undefined) nodeNsIds.set(pod.node, (nodeNs = nodeNetns(pod.node)));
    return { a: { netns: podNetns(pod.id), device: 'eth0' }, b: { netns: nodeNs, device: pod.hostVeth } };
  });
}

/**
 * The value of an IPv4 address written as `formatAddress` writes it (four decimals from 0 to 255, without leading
 * zeros), read from its characters; `undefined` for any other text.
 */
function canonicalIPv4Value(text: string): number | undefined {
  let value = 0;
  let octets = 0;
  let i = 0;
  while (i < text.length) {
    let octet = 0;
    const start = i;
    for (; i < text.length; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
      if (octet > 255) return undefined;
    }
    const digits = i - start;
    if (digits === 0 || (digits > 1 && text.charCodeAt(start) === 48)) return undefined;
    value = value * 256 + octet;
    if (++octets === 4) return i === text.length ? value : undefined;
    if (text.charCodeAt(i) !== 46 /* . */) return undefined;
    i++;
  }
  return undefined;
}

/** What the pods of a node share (see compileDataPlane's podSideOf). */
interface PodSide {
  readonly node: Node;
  /** The node's pod subnets, parsed. */
  readonly subnets: readonly Prefix[];
  /** The node's namespace id. */
  readonly netns: NetnsId;
  readonly plugin: CniPlugin;
  /** The MTU of its pods' eth0 (absent: not set). */
  readonly mtu: number | undefined;
  /**
   * Per subnet (as `subnets`), made when a pod in it is first built: its text, and its pods' connected route texts up
   * to their own address.
   */
  readonly connected: ({ readonly to: string; readonly head: string } | undefined)[];
}

/**
 * A pod's eth0 address: as formatAddress writes it, with the length of the node's pod subnet holding it. Its connected
 * route goes onto `connected`, made from the parts parsed here and the subnet's texts, which the pods of the subnet
 * share (connectedRoute parsed the address again, and wrote the subnet and the text anew for each pod).
 */
function podAddress(ip: string, side: PodSide | undefined, connected: DpRoute[]): InterfaceAddress | undefined {
  const a = parseAddress(ip);
  if (!a) return undefined;
  const at = side ? subnetIndexHolding(side.subnets, a) : -1;
  if (at < 0 || !side) {
    const x: InterfaceAddress = { family: a.family, address: canonicalText(ip, a), length: a.family === 4 ? 32 : 128 };
    const route = connectedRoute('eth0', x);
    if (route) connected.push(route);
    return x;
  }
  const subnet = side.subnets[at];
  const x: InterfaceAddress = { family: a.family, address: canonicalText(ip, a), length: subnet.length };
  // None for an IPv4 /32, as connectedRoute.
  if (a.family === 4 && subnet.length === 32) return x;
  let texts = side.connected[at];
  if (!texts) {
    const to = canonical(subnet);
    side.connected[at] = texts = { to, head: connectedRouteHead(to, 'eth0') };
  }
  connected.push(connectedRouteFrom('eth0', x, a.value, texts.to, texts.head));
  return x;
}

/** A pod namespace's bridges: none, one empty array for all (read only, as a namespace is). */
const NO_BRIDGES: readonly DpBridge[] = [];

/** Where the first of a node's pod subnets holding `a` is in them, -1 if none does. */
function subnetIndexHolding(subnets: readonly Prefix[], a: Address): number {
  for (let k = 0; k < subnets.length; k++) {
    const p = subnets[k];
    if (p.family === a.family && prefixContainsAddress(p, a)) return k;
  }
  return -1;
}

/**
 * An address as `formatAddress` writes it. An IPv4 address that parsed is already written that way (four decimals
 * without leading zeros), so only its surrounding whitespace goes; IPv6 has several spellings and is formatted.
 */
function canonicalText(text: string, a: Address): string {
  return a.family === 4 ? text.trim() : formatAddress(a);
}

function listenersOf(p: Topology['pods'][number]): Listener[] {
  // Loops and one literal per shape: a trace to a Service builds the namespaces of its endpoints' pods, mostly new
  // (a flatMap of maps, with a spread per port, was most of building a pod's namespace).
  // One container with one port (the usual pod) gets a list of its size: one pushed onto from empty reserves 17
  // slots, kept with the namespace for the rest of the session.
  if (p.containers.length === 1 && p.containers[0].ports.length === 1) return [listenerOf(p, p.containers[0], 0)];
  const out: Listener[] = [];
  for (let i = 0; i < p.containers.length; i++) {
    const c = p.containers[i];
    for (let j = 0; j < c.ports.length; j++) {
      out.push(listenerOf(p, c, j));
    }
  }
  return out;
}

function listenerOf(p: Pod, c: Pod['containers'][number], j: number): Listener {
  const port = c.ports[j];
  return port.name
    ? { pod: p.id, container: c.name, port: port.containerPort, protocol: port.protocol, name: port.name }
    : { pod: p.id, container: c.name, port: port.containerPort, protocol: port.protocol };
}

/** The address of a namespace's interface holding `a` exactly, for messages. */
export function ownerOf(dp: DataPlane, a: Address): { netns: NetnsId; device: string } | undefined {
  return dp.owners.get(addressKey(a));
}
