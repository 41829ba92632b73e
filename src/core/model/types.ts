/**
 * The topology model: plain, immutable, JSON-serialisable data that every feature reads (diagnostics,
 * hover, the data plane, the tracer, the webviews). Nothing here refers to YAML; every element keeps the
 * span of the YAML node it came from (`span`) and of the values that matter (`spans`), so any feature can
 * point back into the source.
 *
 * Addresses are kept as the text the user wrote; `src/core/net` parses them where needed. A value that
 * does not parse stays in the model (as text) and is reported by the `cidr.invalid` rule.
 */
import type { CniPluginName } from '../cni/names';
import type { Span } from '../problem';

/** Where a model element or one of its fields came from. */
export interface Located {
  /** The whole YAML node of the element. */
  readonly span: Span;
  /** Spans of individual fields, by field name (`ip`, `podCIDR`, `podCIDRs.0`, ...), where known. */
  readonly spans: Readonly<Record<string, Span>>;
  /** Where the element was defined: a NetPath document or a Kubernetes object (`kind`). */
  readonly origin: Origin;
}

export type Origin =
  | 'netpath'
  | 'Node'
  | 'Pod'
  | 'Service'
  | 'EndpointSlice'
  | 'KubeProxyConfiguration'
  | 'ClusterConfiguration'
  | 'Cluster'
  | 'ConfigMap'
  | 'Namespace'
  | 'NetworkPolicy'
  | 'Endpoints'
  /** A CNI network configuration (`/etc/cni/net.d/*.conflist` or `.conf` JSON). */
  | 'CniConfig'
  /** A Calico IPPool resource (projectcalico.org/v3 or crd.projectcalico.org/v1). */
  | 'IPPool'
  | WorkloadKind
  | 'default';

/** Objects whose pod template makes pods (their labels count for Service selectors). */
export type WorkloadKind =
  'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicationController';

/** The transport protocols a Kubernetes port names. */
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export type LocalDetector = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix' | 'None';

export interface KubeProxySettings extends Located {
  /**
   * kube-proxy's mode. `nftables`: the `ip`/`ip6 kube-proxy` tables are generated and the nodes' packet filter is
   * the nftables backend (dataplane/nftables-filter.ts); `ipvs` is recognised only (see k8s.proxy-mode).
   */
  readonly mode: 'iptables' | 'nftables' | 'ipvs';
  readonly masqueradeAll: boolean;
  /** The bit of the packet mark KUBE-MARK-MASQ sets (kube-proxy's iptables.masqueradeBit, default 14). */
  readonly masqueradeBit: number;
  readonly localDetector: LocalDetector;
  /**
   * KubeProxyConfiguration's detectLocal.interfaceNamePrefix / bridgeInterface when written; otherwise the detector
   * follows the CNI plug-in (its host veths' prefix: `cali` for Calico, `veth` for the others; its bridge).
   */
  readonly interfaceNamePrefix?: string;
  readonly bridgeInterface?: string;
  /** nodePortAddresses: CIDRs whose local addresses answer NodePorts; empty = every local address. */
  readonly nodePortAddresses: readonly string[];
}

export interface CniSettings extends Located {
  /** The CNI plug-in of every node that does not name its own (src/core/cni; default `bridge`). */
  readonly plugin: CniPluginName;
  readonly bridge: string;
  readonly ipMasq: boolean;
  readonly hairpinMode: boolean;
  /**
   * The MTU the plug-in gives pods (their eth0, the host veths and the bridge); undefined: the plug-in's default
   * (flannel VXLAN: the underlay's MTU minus 50; otherwise the underlay's).
   */
  readonly mtu: number | undefined;
  /**
   * The CNI network's name (a conflist's `name`; without one, the plug-in's own: DEFAULT_CNI_NETWORK in cni/names.ts):
   * the plug-ins hash it with the container ID into their chain names (CNI-<hash>, CNI-DN-<hash>).
   */
  readonly network: string;
  /** The portmap plug-in (hostPort): whether it is in the chain, its hairpin SNAT and the mark bit it uses. */
  readonly portmap: PortmapSettings;
  /** flannel's net-conf.json (the kube-flannel-cfg ConfigMap, or `cni.flannel`); undefined when flannel is not read. */
  readonly flannel: FlannelSettings | undefined;
  /** Calico IP pools (IPPool resources, or `cni.ipPools`), in the order read. */
  readonly ipPools: readonly IPPool[];
  /** CNI network configurations read (conflists, single .conf files, or the JSON inside a ConfigMap). */
  readonly configs: readonly CniNetworkConfig[];
  /**
   * What the configurations read imply about the plug-in, when they say something NetPath does not model yet
   * (Calico before its plug-in exists, a flannel wireguard backend): the name they imply and where. Undefined when
   * all is modelled.
   */
  readonly unmodelled: { readonly what: string; readonly span: Span } | undefined;
  /** kind's `networking.disableDefaultCNI: true`: kindnet is not installed, the CNI comes from other objects. */
  readonly defaultCniDisabled: { readonly span: Span } | undefined;
}

export interface PortmapSettings extends Located {
  /** The portmap plug-in is in the chain: pods' hostPorts are opened (CNI-HOSTPORT-DNAT). */
  readonly enabled: boolean;
  /** `snat` (default true): hairpin and localhost connections to a hostPort are masqueraded (CNI-HOSTPORT-MASQ). */
  readonly snat: boolean;
  /** `markMasqBit` (default 13 = 0x2000): the mark CNI-HOSTPORT-SETMARK sets. */
  readonly markMasqBit: number;
}

/** flannel's network configuration (net-conf.json). */
export interface FlannelSettings extends Located {
  /** `Network`: the IPv4 range flannel hands node subnets out of (undefined when EnableIPv4 is false). */
  readonly network: string | undefined;
  /** `SubnetLen` (default 24): the prefix length of each node's subnet. */
  readonly subnetLen: number;
  readonly enableIPv6: boolean;
  readonly ipv6Network: string | undefined;
  /** `Backend.Type` as written (vxlan, host-gw, wireguard, udp, ...), lower case. */
  readonly backend: string;
  /** VXLAN: `Backend.VNI` (default 1) and `Backend.Port` (default 8472, the Linux kernel's VXLAN port). */
  readonly vni: number;
  readonly port: number;
  /**
   * flanneld's `--ip-masq` (kube-flannel.yml and k3s pass it; not in net-conf.json): flanneld writes FLANNEL-POSTRTG,
   * masquerading pod traffic that leaves the flannel Network. `cni.flannel.ipMasq` in a NetPath document; true otherwise.
   */
  readonly ipMasq: boolean;
}

/** A Calico IPPool: where Calico's IPAM takes pod addresses from, and how traffic between its blocks travels. */
export interface IPPool extends Located {
  readonly name: string;
  readonly cidr: string;
  /** The size of the per-node IPAM blocks (default 26 for IPv4, 122 for IPv6). */
  readonly blockSize: number;
  readonly ipipMode: 'Never' | 'Always' | 'CrossSubnet';
  readonly vxlanMode: 'Never' | 'Always' | 'CrossSubnet';
  /** Masquerade traffic from the pool to destinations outside every pool (Calico's default: false in the API, true in the operator's default pool). */
  readonly natOutgoing: boolean;
  readonly disabled: boolean;
  /** Which nodes take blocks from the pool (Calico selector syntax; `all()` by default). */
  readonly nodeSelector: string;
}

/** One CNI network configuration as read (a conflist, a single .conf, or the JSON in a ConfigMap). */
export interface CniNetworkConfig extends Located {
  readonly name: string;
  /** The plug-ins of the chain, in order, with the span of each `type`. */
  readonly plugins: readonly { readonly type: string; readonly span: Span }[];
  /** The bridge plug-in's (or flannel's delegate's) bridge name, hairpin mode, ipMasq, gateway settings. */
  readonly bridge: string | undefined;
  readonly hairpinMode: boolean | undefined;
  readonly ipMasq: boolean | undefined;
  readonly mtu: number | undefined;
  /** host-local IPAM: range sets (one per family, each a list of ranges) and routes. */
  readonly ipam: CniIpam | undefined;
}

export interface CniIpam {
  readonly type: string;
  readonly ranges: readonly (readonly CniIpamRange[])[];
  readonly routes: readonly { readonly dst: string; readonly gw: string | undefined; readonly span: Span }[];
  readonly span: Span;
}

export interface CniIpamRange {
  /** The subnet, or `usePodCidr` (the node's podCIDR, as kubelet passes it). */
  readonly subnet: string;
  readonly rangeStart: string | undefined;
  readonly rangeEnd: string | undefined;
  readonly gateway: string | undefined;
  readonly span: Span;
  readonly spans: Readonly<Record<string, Span>>;
}

export interface MasqueradeAgent extends Located {
  readonly nonMasqueradeCIDRs: readonly string[];
  readonly masqLinkLocal: boolean;
}

export interface ClusterSettings extends Located {
  readonly podCIDRs: readonly string[];
  readonly serviceCIDRs: readonly string[];
  readonly nodePortRange: { readonly min: number; readonly max: number };
  /**
   * Values NetPath assumed because nothing read declares them (kubeadm's default Service range, kube-apiserver's
   * default node-port range): checks that rest on them never report an error, and say where to declare the real value.
   */
  readonly assumed: { readonly serviceCIDRs: boolean; readonly nodePortRange: boolean };
  /**
   * The same cluster range written again in other configurations (kube-proxy's clusterCIDR repeating kubeadm's
   * podSubnet), by the key of the value used (`podCIDRs.0`): a quick fix that moves the range edits them too.
   */
  readonly echoes: Readonly<Record<string, readonly Span[]>>;
  readonly routing: 'host-gw' | 'manual';
  readonly kubeProxy: KubeProxySettings;
  readonly cni: CniSettings;
  /** ip-masq-agent; undefined when the cluster runs none. */
  readonly masquerade: MasqueradeAgent | undefined;
  /**
   * The NetworkPolicy choices the topology declares (`cluster.networkPolicy`), where Kubernetes leaves the
   * behaviour to the plug-in; only the keys written (the rest come from a caller's options or the defaults).
   */
  readonly networkPolicy: NetworkPolicyChoices;
}

/** `cluster.networkPolicy`: see PolicyOptions in src/core/policy/types.ts. */
export interface NetworkPolicyChoices {
  readonly ipBlockPodIPs?: 'match' | 'ignore';
  readonly nodeTraffic?: 'allow' | 'policy';
  /** Where each key is written. */
  readonly spans?: Readonly<Record<string, Span>>;
  /**
   * The editor's settings (`netpath.networkPolicy.*`), for the keys the topology does not write; set by
   * `analyse` from its options, never read from a file.
   */
  readonly settings?: { readonly ipBlockPodIPs?: 'match' | 'ignore'; readonly nodeTraffic?: 'allow' | 'policy' };
}

export interface Network extends Located {
  readonly name: string;
  readonly cidr: string;
  /** The underlay's MTU (the nodes' interfaces on it); 1500 unless written. */
  readonly mtu: number;
}

export interface Interface extends Located {
  readonly name: string;
  readonly network: string;
  /** Addresses with prefix length, e.g. `192.168.56.11/24`. */
  readonly addresses: readonly string[];
}

export interface Bridge extends Located {
  readonly name: string;
  /** Gateway addresses with the pod subnet's prefix length, one per family. */
  readonly addresses: readonly string[];
  readonly hairpinMode: boolean;
}

export interface Route extends Located {
  /** Destination prefix, or `default`. */
  readonly to: string;
  readonly via: string | undefined;
  readonly dev: string | undefined;
  /** `implied` routes come from `routing: host-gw`; `declared` ones were written by the user. */
  readonly source: 'declared' | 'implied';
}

export interface Node extends Located {
  readonly name: string;
  readonly interfaces: readonly Interface[];
  readonly podCIDRs: readonly string[];
  /** The CNI plug-in that wires this node and its pods (src/core/cni). */
  readonly cni: CniPluginName;
  /** The bridge plug-in's bridge; absent for plug-ins without one. Read it through `cniViewOf` to draw a node. */
  readonly bridge?: Bridge;
  readonly routes: readonly Route[];
  /** Raw iptables-save text for this node, evaluated as written; with the offset of its first character. */
  readonly iptables: { readonly text: string; readonly span: Span } | undefined;
  /**
   * Raw nftables text for this node (`nft list ruleset` output or an `nft -f` script), with the offset of its first
   * character. Parsed and checked; shown by Show Node Rules; evaluated by traces (dataplane/nftables-filter.ts) and loaded by the lab.
   */
  readonly nftables: { readonly text: string; readonly span: Span } | undefined;
  readonly cniIpMasq: boolean;
}

/**
 * A container port. It keeps no span: pods (and pod templates) whose containers read alike may share them (fields.ts
 * `readContainers`), so a port's numbers are located in its pod's `spans`, under
 * `containers.<i>.ports.<j>.containerPort` and `.hostPort` (indices into the model's lists).
 */
export interface ContainerPort {
  readonly name: string | undefined;
  readonly containerPort: number;
  readonly protocol: Protocol;
  /** `hostPort`: the node port the portmap plug-in forwards to this container port (CNI-HOSTPORT-DNAT). */
  readonly hostPort?: number;
  /** `hostIP`: the node address the hostPort is opened on (default: every local address). */
  readonly hostIP?: string;
}

/** A container, which pods whose containers read alike may share like its ports (no span: see ContainerPort). */
export interface Container {
  readonly name: string;
  readonly ports: readonly ContainerPort[];
}

export interface Pod extends Located {
  readonly name: string;
  readonly namespace: string;
  /** `namespace/name`. */
  readonly id: string;
  readonly node: string;
  readonly ips: readonly string[];
  readonly hostVeth: string;
  readonly hostNetwork: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly Container[];
}

/**
 * A workload (Deployment, StatefulSet, ...): the pods it will make, known only by their template. It has no
 * node and no address until the pods exist, so it takes no part in traces; it counts for Service selectors.
 */
export interface Workload extends Located {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
  /** `namespace/name`. */
  readonly id: string;
  /** spec.replicas where the kind has it (undefined: the default of 1, or a DaemonSet's one per node). */
  readonly replicas: number | undefined;
  /** The pod template's labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly hostNetwork: boolean;
  readonly containers: readonly Container[];
}

/** Backends a Service's selector matches that have no address yet: pods without an IP, workloads' pod templates. */
export interface PendingBackend {
  readonly kind: 'Pod' | WorkloadKind;
  /** `namespace/name` of the pod or workload. */
  readonly id: string;
  /** The workload's spec.replicas, when written. */
  readonly replicas: number | undefined;
  readonly span: Span;
}

export interface ServicePort extends Located {
  readonly name: string;
  readonly port: number;
  /** A number, or the name of a container port. */
  readonly targetPort: number | string;
  readonly nodePort: number | undefined;
  readonly protocol: Protocol;
}

export interface Endpoint {
  readonly ip: string;
  /** The pod behind the endpoint (`namespace/name`), when known. */
  readonly pod: string | undefined;
  readonly node: string | undefined;
  /** Resolved target port per service port name. */
  readonly ports: Readonly<Record<string, number>>;
  /** EndpointSlice `conditions.ready` (unset: true). kube-proxy sends traffic to ready endpoints first. */
  readonly ready: boolean;
  /**
   * `conditions.serving` (unset: true, as kube-proxy reads it): a terminating endpoint that still serves is the
   * fallback when a traffic policy leaves no ready endpoint; one that does not serve is never used.
   */
  readonly serving: boolean;
  /** `conditions.terminating` (unset: false). */
  readonly terminating: boolean;
  readonly span: Span;
}

/**
 * `status.loadBalancer.ingress[].ipMode` (Kubernetes 1.30+, LoadBalancerIPMode): `VIP`, the default, when the load
 * balancer delivers packets with the destination still its own address, which kube-proxy then catches on the node;
 * `Proxy` when the load balancer ends the connection itself and opens its own to the cluster, so kube-proxy writes no
 * rule for the address and a pod's packet to it goes out to the load balancer.
 */
export type LoadBalancerIPMode = 'VIP' | 'Proxy';
export const LOAD_BALANCER_IP_MODES: readonly LoadBalancerIPMode[] = ['VIP', 'Proxy'];

/**
 * A LoadBalancer Service's load-balancer IPs of one ipMode: `VIP` ones get kube-proxy's rules (and a node answers
 * ARP for them in the lab), `Proxy` ones belong to the load balancer alone. Other Service types have none.
 */
export function loadBalancerIPsOfMode(
  svc: Pick<Service, 'type' | 'loadBalancerIPs' | 'loadBalancerIPModes'>,
  mode: LoadBalancerIPMode,
): string[] {
  if (svc.type !== 'LoadBalancer') return [];
  return svc.loadBalancerIPs.filter((_, i) => (svc.loadBalancerIPModes[i] ?? 'VIP') === mode);
}

export interface Service extends Located {
  readonly name: string;
  readonly namespace: string;
  readonly id: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  readonly clusterIPs: readonly string[];
  /**
   * `clusterIP: None`: kube-proxy writes nothing for it and DNS answers with the pods' addresses. A Service with
   * no clusterIP written is not headless: the API server allocates one from the Service range when it is created.
   */
  readonly headless: boolean;
  /** undefined: no selector (endpoints come from EndpointSlices). */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  /** The ipMode of each of `loadBalancerIPs`, index by index (spans `loadBalancerIPModes.<i>` where written). */
  readonly loadBalancerIPModes: readonly LoadBalancerIPMode[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** How long ClientIP affinity pins a client to its endpoint (sessionAffinityConfig.clientIP.timeoutSeconds). */
  readonly sessionAffinityTimeoutSeconds: number;
  readonly endpoints: readonly Endpoint[];
  /** Where endpoints came from (`Endpoints`: legacy v1 Endpoints, which Kubernetes mirrors to EndpointSlices). */
  readonly endpointSource: 'selector' | 'EndpointSlice' | 'Endpoints' | 'none';
  /** What the selector matches that has no address yet (pods that will exist); not endpoints of any trace. */
  readonly pending: readonly PendingBackend[];
}

export interface External extends Located {
  readonly name: string;
  readonly network: string;
  readonly addresses: readonly string[];
}

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** A Kubernetes namespace: from a Namespace object, or implied by the objects that live in it (origin `default`). */
export interface Namespace extends Located {
  readonly name: string;
  /**
   * Its labels, always including `kubernetes.io/metadata.name: <name>`, which the API server sets on every
   * namespace (Kubernetes 1.22+) and which no one can change.
   */
  readonly labels: Readonly<Record<string, string>>;
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/**
 * A Kubernetes label selector: `matchLabels` and `matchExpressions`, ANDed. An empty selector matches
 * everything. A selector the API server would refuse (an unknown operator, In without values) is kept with
 * `invalid: true`, matches nothing, and is reported.
 */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
  readonly span: Span;
  readonly invalid?: true;
}

export interface IPBlock {
  readonly cidr: string;
  readonly except: readonly string[];
  readonly span: Span;
  /** Spans of `cidr` and of each `except.<i>`. */
  readonly spans: Readonly<Record<string, Span>>;
}

/**
 * One entry of a rule's `from` or `to`. With only `podSelector`: pods of the policy's namespace; only
 * `namespaceSelector`: every pod of the matching namespaces; both: the matching pods of the matching
 * namespaces (AND); `ipBlock`: addresses.
 */
export interface PolicyPeer {
  readonly podSelector: LabelSelector | undefined;
  readonly namespaceSelector: LabelSelector | undefined;
  readonly ipBlock: IPBlock | undefined;
  readonly span: Span;
}

export interface PolicyPort {
  readonly protocol: Protocol;
  /** A number, a container port name, or undefined for every port of the protocol. */
  readonly port: number | string | undefined;
  /** With a numeric `port`: the last port of the range `port..endPort`. */
  readonly endPort: number | undefined;
  readonly span: Span;
}

/** One ingress or egress rule. An empty `peers` list allows every peer; an empty `ports` list, every port. */
export interface PolicyRule {
  /** Index in the policy's `ingress` or `egress` list. */
  readonly index: number;
  readonly peers: readonly PolicyPeer[];
  readonly ports: readonly PolicyPort[];
  readonly span: Span;
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicy extends Located {
  readonly name: string;
  readonly namespace: string;
  /** `namespace/name`. */
  readonly id: string;
  readonly podSelector: LabelSelector;
  /**
   * The directions this policy isolates, after the API server's defaulting: when `policyTypes` is not given,
   * Ingress, plus Egress when the policy has at least one egress rule.
   */
  readonly policyTypes: readonly PolicyType[];
  /** Whether `policyTypes` was written (false: defaulted). */
  readonly policyTypesExplicit: boolean;
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

export interface Topology {
  readonly name: string;
  readonly files: readonly string[];
  readonly cluster: ClusterSettings;
  readonly networks: readonly Network[];
  readonly nodes: readonly Node[];
  readonly pods: readonly Pod[];
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly externals: readonly External[];
  /** Every namespace: from Namespace objects, and the ones pods, Services and policies live in. */
  readonly namespaces: readonly Namespace[];
  readonly networkPolicies: readonly NetworkPolicy[];
}
