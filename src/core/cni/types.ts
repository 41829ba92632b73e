/**
 * A CNI plug-in: the wiring it creates on a node and for each pod (devices, addresses, routes, bridge behaviour)
 * and the masquerade rules it writes. `compileDataPlane` asks the node's plug-in for all of it, the kernel lab builds
 * what the data plane says (so the kernel checks the plug-in's wiring), and whatever draws or explains a node (the
 * topology view, the trace diagram, hovers, diagnostics) reads {@link CniNodeView} instead of assuming a bridge.
 */
import type {
  DpBridge,
  DpInterface,
  DpRoute,
  ImpliedRoutes,
  InterfaceAddress,
  TunnelEntries,
} from '../dataplane/types';
import type { Address } from '../net/address';
import type { Span } from '../problem';
import type { TableName } from '../netfilter/types';
import type { Node, Pod, Topology } from '../model/types';
import type { CniPluginName } from './names';

/** What a node looks like to someone drawing or explaining it. */
export interface CniNodeView {
  readonly plugin: CniPluginName;
  /** A sentence naming the plug-in and its wiring, for hovers. */
  readonly summary: string;
  /** The bridge the pods' host veths are ports of; absent for routed plug-ins. */
  readonly bridge?: { readonly name: string; readonly addresses: readonly string[]; readonly hairpin: boolean };
  /** Devices the plug-in gives the node with their addresses (with prefix length): the pods' gateways. */
  readonly devices: readonly { readonly name: string; readonly addresses: readonly string[] }[];
  /** The prefix of the pods' host veth names (`cali` for Calico; absent: `veth`), kube-proxy's InterfaceNamePrefix. */
  readonly hostVethPrefix?: string;
  /** The node device a packet from the pod side enters through (a trace starting "in the pods" of a node). */
  readonly podSideDevice?: string;
  /** The node's tunnel endpoint, for encapsulating plug-ins (flannel VXLAN): what to draw and explain. */
  readonly tunnel?: CniTunnelView;
  /** The IPv6 tunnel endpoint of a dual-stack overlay (flannel-v6.<VNI>, vxlan-v6.calico), beside `tunnel`. */
  readonly tunnel6?: CniTunnelView;
}

/** A node's tunnel endpoint (VTEP) as a view draws it. */
export interface CniTunnelView {
  readonly protocol: 'vxlan' | 'ipip';
  readonly device: string;
  readonly vni?: number;
  /** The outer packets' UDP destination port (VXLAN). */
  readonly port?: number;
  /** The VTEP's own address (flannel: the network address of the node's pod CIDR) and MAC. */
  readonly address?: string;
  readonly mac?: string;
  /** The underlay device and address the outer packets leave by and come from. */
  readonly underlay?: string;
  readonly local?: string;
}

/** The node side of the wiring: devices beyond the node's own interfaces, bridges, routes. */
export interface CniNodeWiring {
  /** Every device, in the order the node lists them (with a bridge, its host veths may be made when this is read). */
  readonly interfaces: readonly DpInterface[];
  /**
   * The devices of `interfaces` that hold addresses, in the same order, when the plug-in can say so without making
   * the others: a bridge's host veths hold none and add no route, so the data plane owns addresses and derives its
   * connected routes from these alone and makes a node's host veths (one per pod) only when something reads them.
   * Absent: `interfaces`.
   */
  readonly addressed?: readonly DpInterface[];
  readonly bridges: readonly DpBridge[];
  /** Routes the plug-in adds in the node namespace (a routed plug-in's route per pod); connected routes are derived. */
  readonly routes: readonly DpRoute[];
  /** Routes to the other nodes' pod CIDRs, looked up in a cluster-wide index (a tunnel plug-in's); absent: host-gw's. */
  readonly implied?: ImpliedRoutes;
  /** Permanent neighbour and FDB entries on the node's VTEP (a tunnel plug-in's). */
  readonly tunnels?: TunnelEntries;
}

/** The pod side: routes in the pod besides its connected ones (its default route). */
export interface CniPodWiring {
  readonly routes: readonly DpRoute[];
  /**
   * The pod's eth0 addresses when the plug-in gives them otherwise than with the node's pod-subnet length (Calico: a
   * /32; ptp: the subnet's length without the subnet route). Absent: the addresses it was given.
   */
  readonly addresses?: readonly InterfaceAddress[];
}

/** iptables-save lines per table, as the plug-in writes them on a node. */
export type CniRules = Partial<
  Record<TableName, { readonly chains: readonly string[]; readonly rules: readonly string[] }>
>;

export interface CniPlugin {
  readonly name: CniPluginName;
  /** `t` gives the cluster-wide settings some plug-ins need (flannel's backend); without it, what the node alone says. */
  describe(node: Node, t?: Topology): CniNodeView;
  /** The node's devices for its pods (`pods`: the node's pods that are not hostNetwork). */
  wireNode(node: Node, pods: readonly Pod[], t: Topology): CniNodeWiring;
  /** A pod's routes, given its eth0 addresses. */
  wirePod(node: Node, pod: Pod, addresses: readonly InterfaceAddress[], t: Topology): CniPodWiring;
  /**
   * The masquerade rules the plug-in writes on the node (empty when it writes none), and how to label them.
   * `sameOnEveryNode`: they do not depend on the node or its pods (kindnet's, Calico's), so nodes alike share one
   * parsed ruleset.
   */
  masquerade(
    node: Node,
    pods: readonly Pod[],
    t: Topology,
  ): { readonly label: string; readonly tables: CniRules; readonly sameOnEveryNode?: boolean };
  /**
   * Whether the plug-in's masquerade rules rewrite the source of a pod of `node` (address `src`) sending to `dest`
   * (for diagnostics that must not compile rulesets; the rules above decide traces).
   */
  masqueradesTo(node: Node, src: Address, dest: Address, t: Topology): boolean;
  /**
   * Who wrote the plug-in's masquerade rule in `chain` (a chain of its {@link CniPlugin.masquerade} rules a trace
   * matched for a pod's packet from `src`), said for a person, with the setting that controls it.
   */
  masqueradeCulprit(node: Node, t: Topology, chain: string, src: Address): CniMasqueradeCulprit;
  /** Why the plug-in leaves a pod's packet from `src` to outside the cluster unmasqueraded, and what would change that. */
  egressUnmasked(node: Node, t: Topology, src: Address): { readonly why: string; readonly fix: string };
}

/** A plug-in's masquerade rule explained: what wrote it and the setting that turns it off. */
export interface CniMasqueradeCulprit {
  /** Names the rule for a sentence ("the CNI bridge plugin's ipMasq rule"). */
  readonly what: string;
  /** Why the rule rewrites this traffic and what to change. */
  readonly advice: string;
  /** The setting where it is written (absent: defaulted, or a place NetPath does not read): where to point. */
  readonly span: Span | undefined;
  /**
   * The edit that turns the masquerade off at `span` (its value there): only when that key is written where the
   * user can edit it; `preferred` when it is the fix, not a trade (turning off a plug-in's egress masquerade).
   */
  readonly fix?: { readonly title: string; readonly newText: string; readonly preferred: boolean };
}
