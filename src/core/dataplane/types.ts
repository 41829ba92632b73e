/**
 * The data plane: the model compiled into what a Linux kernel would hold. Per network namespace its
 * interfaces, addresses, routes and (for nodes) bridges and a netfilter ruleset; the veth pairs between
 * namespaces; the underlay segments. Immutable data, built once per topology by {@link compileDataPlane}
 * and read by the tracer and the diagnostics. Node rulesets (the expensive part) are compiled lazily, on
 * first read, and memoised inside the data plane value: reading them twice gives the same object.
 */
import type { Address, Family, Prefix } from '../net/address';
import type { Ruleset } from '../netfilter/types';
import type { PacketFilter } from './filter';
import type { Problem, Span } from '../problem';
import type { Protocol } from '../model/types';

/** `pod:<namespace>/<name>`, `node:<name>` or `external:<name>`. */
export type NetnsId = string;

export interface InterfaceAddress {
  readonly family: Family;
  /** The address without prefix length, in canonical text. */
  readonly address: string;
  readonly length: number;
  /**
   * The address was added without its prefix route (`ip address add ... noprefixroute`): the CNI ptp plug-in adds
   * the pod's address with the subnet's length, then deletes the subnet route the kernel made for it.
   */
  readonly noPrefixRoute?: boolean;
}

export interface DpInterface {
  readonly name: string;
  /** `ipip`: the kernel's IPIP fallback device tunl0 (Calico IPIP), whose outer destination is the route's gateway. */
  readonly kind: 'loopback' | 'veth' | 'bridge' | 'physical' | 'vxlan' | 'ipip';
  readonly addresses: readonly InterfaceAddress[];
  /** For a veth: the other end. */
  readonly peer?: { readonly netns: NetnsId; readonly device: string };
  /** For a bridge port: the bridge it is enslaved to, and whether hairpin mode is on for the port. */
  readonly master?: string;
  readonly hairpin?: boolean;
  /** For a physical interface: the underlay network it is plugged into. */
  readonly network?: string;
  /**
   * Per-device sysctl net.ipv4.conf.<dev>.proxy_arp: the device answers ARP for addresses the namespace routes out
   * of another device (Calico's host-side cali veths answer for the pods' gateway 169.254.1.1 this way).
   */
  readonly proxyArp?: boolean;
  /**
   * Per-device sysctl net.ipv4.conf.<dev>.route_localnet: IPv4 packets with a 127/8 source or destination may be
   * routed out of and received on this device instead of being dropped as martians. The portmap plug-in sets it on
   * the node device that routes to a pod with a hostPort, so a node's own connection to 127.0.0.1:hostPort can be
   * DNATed to the pod.
   */
  readonly routeLocalnet?: boolean;
  /** The device's MTU when the model says (underlay interfaces, tunnel devices, pods' eth0); absent: 1500. */
  readonly mtu?: number;
  /** The device's MAC address when the model fixes it (a VTEP's, which other nodes' neighbour entries name). */
  readonly mac?: string;
  /** For a VXLAN device (a VTEP): how it encapsulates (`ip link add NAME type vxlan id VNI dstport PORT local LOCAL dev DEV`). */
  readonly vxlan?: VxlanSettings;
}

/** A VXLAN tunnel endpoint's settings, as `ip -d link show` prints them. */
export interface VxlanSettings {
  /** The VXLAN network identifier (flannel: 1; Calico: 4096). */
  readonly vni: number;
  /** The UDP destination port of the outer packet (flannel: 8472, the Linux default; Calico and IANA: 4789). */
  readonly port: number;
  /** The outer source address: the node's address on the underlay. */
  readonly local: string;
  /** The underlay device the outer packets leave by. */
  readonly dev: string;
  /** Whether the device learns remote MACs from received packets (flannel and Calico: off, `nolearning`). */
  readonly learning: boolean;
}

/** Permanent entries a tunnel plug-in installs on a node's VTEP, per remote node (`ip neigh`, `bridge fdb`). */
export interface TunnelEntries {
  /** The neighbour entry of `dev` for `address`: the remote VTEP's MAC (`ip neigh add ADDR lladdr MAC dev DEV nud permanent`). */
  neighbor(dev: string, address: Address): TunnelNeighbor | undefined;
  /** The forwarding entry of `dev` for `mac`: the remote node address the outer packet goes to (`bridge fdb append MAC dev DEV dst IP`). */
  fdb(dev: string, mac: string): TunnelFdb | undefined;
  /** Every entry, in node order (O(nodes): for showing them and for the kernel lab, not for lookups). */
  all(): { readonly neighbors: readonly TunnelNeighbor[]; readonly fdb: readonly TunnelFdb[] };
}

export interface TunnelNeighbor {
  readonly dev: string;
  readonly address: string;
  readonly mac: string;
  /** The node the entry leads to. */
  readonly node: string;
}

export interface TunnelFdb {
  readonly dev: string;
  readonly mac: string;
  /** The remote node's underlay address. */
  readonly dst: string;
  readonly node: string;
}

export interface DpRoute {
  /** `default` or a prefix in canonical text. */
  readonly to: string;
  readonly prefix: Prefix;
  readonly via?: string;
  readonly dev: string;
  readonly onlink?: boolean;
  /**
   * The route's type when not unicast: `blackhole` discards what it matches (Calico's route for the node's own IPAM
   * block: addresses of the block that no pod holds go nowhere instead of leaving by the default route).
   */
  readonly type?: 'blackhole';
  /** The route's scope when given (`scope link`: the destination is on the link, no gateway; `scope host`). */
  readonly scope?: 'link' | 'host';
  /** The preferred source address (`src`) the route sets for traffic the namespace itself sends. */
  readonly src?: string;
  /**
   * connected: from an interface address; gateway: the pod's default route; cni: other routes a CNI plug-in installs
   * (a routed plug-in's route per pod, its blackhole, the pod's link routes); declared / implied: node routes.
   */
  readonly kind: 'connected' | 'gateway' | 'cni' | 'declared' | 'implied';
  /** As `ip route` prints it. */
  readonly text: string;
  readonly span?: Span;
}

/** A node's share of the routes `routing: host-gw` implies (src/core/model/host-gw.ts). */
export interface ImpliedRoutes {
  /** The implied routes whose prefix holds `dst`, in table order (longest prefix first); the caller's to read, not to sort. */
  matching(dst: Address): readonly DpRoute[];
  /** All of them (as many as there are other nodes' pod CIDRs: for showing, not for lookups). */
  all(): DpRoute[];
}

export interface Listener {
  readonly pod: string;
  readonly container: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly name?: string;
}

export interface DpBridge {
  readonly name: string;
  readonly ports: readonly { readonly device: string; readonly hairpin: boolean }[];
}

/** Where one contributor's rules of one table are in a node's rules text (offsets of its first and after its last rule line). */
export interface RulesBlock {
  readonly label: string;
  readonly author: 'kube-proxy' | 'cni-ipmasq' | 'cni-portmap' | 'ip-masq-agent' | 'node-iptables' | 'node-nftables';
  readonly start: number;
  readonly end: number;
}

export interface NodeRules {
  /** The node these rules are of. */
  readonly nodeName: string;
  /** The whole ruleset as one iptables-save text (built on first read; the ruleset does not need it). */
  readonly text: string;
  readonly ruleset: Ruleset;
  /** Problems of the text, mapped back to the YAML where the lines came from the node's `iptables:`. */
  readonly problems: readonly Problem[];
  /** The contributors' blocks of rules in `text`, in order: who wrote the generated rule at an offset. */
  readonly blocks: readonly RulesBlock[];
  /**
   * Set when `ruleset` is shared with the nodes kube-proxy treats alike (no rules of their own, no per-pod CNI
   * rules): its generated rules' spans are in `file` and sit `shift` characters later in this node's `text`
   * (`netpath:rules/<node>`). `placeHookResult` moves an evaluation's spans there.
   */
  readonly shared?: {
    readonly file: string;
    readonly shift: number;
    /**
     * When only kube-proxy's chains are shared (the node has CNI rules of its own): the regions of the shared text,
     * each moved by its own `shift` (kube-proxy's declarations and rules of each table sit among the node's lines).
     */
    readonly regions?: readonly { readonly start: number; readonly end: number; readonly shift: number }[];
  };
}

export interface Netns {
  readonly id: NetnsId;
  readonly kind: 'pod' | 'node' | 'external';
  readonly name: string;
  /** The node this namespace lives on (pods and nodes). */
  readonly node?: string;
  readonly interfaces: readonly DpInterface[];
  /**
   * The main routing table, longest prefixes first, without the routes `routing: host-gw` implies (see
   * `implied`): look routes up with `lookupRoute`/`routesFor`, list the whole table with `routeTable`.
   */
  readonly routes: readonly DpRoute[];
  /**
   * Routes implied per remote node (host-gw's, or a tunnel plug-in's route to each other node's pod CIDR), looked
   * up in a cluster-wide index instead of listed on every node.
   */
  readonly implied?: ImpliedRoutes;
  /** A tunnel plug-in's permanent neighbour and FDB entries on the node's VTEP (flannel VXLAN). */
  readonly tunnels?: TunnelEntries;
  readonly bridges: readonly DpBridge[];
  /** Sockets that accept connections here (containers' declared ports). */
  readonly listeners: readonly Listener[];
  /** Pods whose containers run in this namespace (one, or the hostNetwork pods of a node). */
  readonly pods: readonly string[];
  /**
   * A node's packet filter (iptables today; see filter.ts). Compiled on first read (a trace reaching the node,
   * "Show Node Rules", a rule reading it) and kept: a large cluster pays only for the nodes it looks at.
   */
  readonly filter?: PacketFilter;
  /** Whether the namespace forwards packets (nodes do; pods and externals do not). */
  readonly forwarding: boolean;
  /** Whether bridged IPv4/IPv6 traffic passes iptables (net.bridge.bridge-nf-call-iptables). */
  readonly brNetfilter: boolean;
  /**
   * net.ipv4.conf.all.route_localnet: every device of the namespace may route 127/8 (kube-proxy's iptables mode sets
   * it for NodePorts on localhost). Absent: only the devices whose own `routeLocalnet` is set.
   */
  readonly routeLocalnet?: boolean;
}

export interface SegmentMember {
  readonly netns: NetnsId;
  readonly device: string;
  readonly addresses: readonly InterfaceAddress[];
}

export interface Segment {
  readonly network: string;
  readonly cidr: string;
  readonly members: readonly SegmentMember[];
}

export interface VethPair {
  readonly a: { readonly netns: NetnsId; readonly device: string };
  readonly b: { readonly netns: NetnsId; readonly device: string };
}

/** A LoadBalancer IP of ipMode Proxy: its Service, and the Service's ports (where the load balancer sends on to). */
export interface ProxyLoadBalancer {
  readonly service: string;
  readonly ports: readonly { readonly port: number; readonly protocol: string; readonly nodePort?: number }[];
}

export interface DataPlane {
  readonly namespaces: ReadonlyMap<NetnsId, Netns>;
  readonly segments: ReadonlyMap<string, Segment>;
  readonly veths: readonly VethPair[];
  /** Which namespace owns an address (by `addressKey`), for resolving endpoints and neighbours in O(1). */
  readonly owners: ReadonlyMap<string, { readonly netns: NetnsId; readonly device: string }>;
  /**
   * Service addresses no interface holds (LoadBalancer and external IPs) and the node that answers ARP for
   * them on the underlay, as MetalLB's layer-2 mode does: for externalTrafficPolicy Local a node with a local
   * endpoint, else the first node.
   */
  readonly announced: ReadonlyMap<string, NetnsId>;
  /**
   * LoadBalancer IPs of ipMode Proxy (by `addressKey`) and their Service's id: the load balancer outside the model
   * holds them and no node answers for them, so a packet to one leaves for the load balancer.
   */
  readonly proxyLoadBalancers: ReadonlyMap<string, ProxyLoadBalancer>;
  /** Problems of the structure (routes, devices): known without compiling any node's ruleset. */
  readonly structureProblems: readonly Problem[];
  /** Every problem: the structure's and every node's ruleset's (reading this compiles every ruleset). */
  readonly problems: readonly Problem[];
}
