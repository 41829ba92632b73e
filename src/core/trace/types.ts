/**
 * A trace is plain JSON data (house style habit 9): the flow asked about and one path per possible
 * outcome (load balancing branches the walk), each with its probability, disposition, hops and NAT.
 * The JSON shape is binding (issue 5): `netpath trace --format json` prints exactly a {@link TraceResult}, and
 * it only grows. Steps are a closed union of typed kinds (issue 12); `npm run schema` turns these types into
 * schemas/trace.schema.json, described in docs/trace-format.md.
 */
import type { DecisionEffect } from '../netfilter/types';
import type { PolicyOptions } from '../policy/types';

/** How a walk ended; `delivered` is the one success. */
export type Disposition = 'delivered' | 'dropped' | 'rejected' | 'no-route' | 'loop' | 'exited';
export const SUCCESS_DISPOSITIONS: readonly Disposition[] = ['delivered'];

/** Why a walk did not deliver (docs/trace-format.md lists them). */
export type Reason =
  | 'netfilter-drop'
  | 'netfilter-reject'
  | 'no-route'
  | 'no-neighbor'
  | 'blackhole'
  | 'no-listener'
  | 'hairpin-off'
  | 'ttl-exceeded'
  | 'source-range'
  | 'loop'
  | 'not-forwarding'
  | 'left-model'
  | 'load-balancer'
  | 'policy-denied'
  | 'frag-needed'
  | 'martian';

/** The protocols a trace can follow, in the order pickers offer them. */
export const TRACE_PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp'] as const;
export type TraceProto = (typeof TRACE_PROTOCOLS)[number];

/** The flow asked about: the first packet as the source sends it (ports null for ICMP). */
export interface Flow {
  readonly proto: TraceProto;
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
  /**
   * The request packet's size in bytes (IP header included), sent with Don't Fragment set, when the request asked
   * for one: a device on the way whose MTU is smaller drops it (`frag-needed`). Absent: the size is not looked at.
   */
  readonly size?: number;
}

/** The packet as a capture on the hop's device would see it. */
export interface HopPacket {
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
  readonly ttl: number;
}

/** Where a step's rule or policy is written: the YAML for a node's own rules, else `netpath:rules/<node>` (offsets into the node's rules text). */
export interface StepSpan {
  readonly file?: string;
  readonly start?: number;
  readonly end?: number;
}

/** A device in a namespace. */
export interface DeviceRef {
  readonly netns: string;
  readonly device: string;
}

/** Every step has its kind and one line a person reads; no program reads `detail` (issue 12). */
interface StepBase {
  /** One line a person reads. Consumers read the typed fields, never this sentence. */
  readonly detail: string;
}

/** A routing decision in the hop's namespace. */
export interface RouteStep extends StepBase {
  readonly kind: 'route';
  /** The address looked up. */
  readonly destination: string;
  /** `local` when the destination is an address of the namespace (the kernel's local table), else `main`. */
  readonly table: 'local' | 'main';
  /** The route chosen, as `ip route` prints it; absent when no route matched. */
  readonly route?: string;
  /** The chosen route's device and gateway (absent: none chosen, or a directly connected destination). */
  readonly dev?: string;
  readonly via?: string;
  /** Every route of the table whose prefix holds the destination, most specific first (the chosen one first). */
  readonly considered: readonly string[];
  /** Set when the kernel routed again because NAT changed the destination: in OUTPUT, or at a bridge (br_netfilter). */
  readonly reroute?: 'after-dnat' | 'bridged-after-dnat';
}

/** Neighbour resolution (ARP / NDP) of the next hop in a layer-2 domain. */
export interface NeighborStep extends StepBase {
  readonly kind: 'neighbor';
  /** The next hop's address. */
  readonly address: string;
  /**
   * The domain asked: a bridge (e.g. `cni0`), an underlay network of the topology, a point-to-point link (a veth
   * without a bridge, named by the sending device: routed CNI plug-ins), or the permanent entries of a device
   * (`device`: a VTEP such as `flannel.1`, whose entries a tunnel plug-in installs; nobody answers ARP there).
   */
  readonly domain: { readonly kind: 'bridge' | 'network' | 'link' | 'device'; readonly name: string };
  /** The link-layer address found, when the model fixes it (a remote VTEP's MAC in a permanent entry). */
  readonly mac?: string;
  /**
   * Who answers: the bridge itself (the pods' gateway), the bridge port the owner is behind, a device of another
   * namespace holding the address (`host`), the far end of a link answering for an address it routes elsewhere
   * (`proxy-arp`), or a permanent entry naming a remote VTEP (`vtep`). Absent when nobody answers (the walk then
   * drops with `no-neighbor`).
   */
  readonly answer?: DeviceRef & { readonly role: 'bridge' | 'bridge-port' | 'host' | 'proxy-arp' | 'vtep' };
}

/** A bridge forwarding a frame from a port (or from the node itself) out of a port. */
export interface BridgeStep extends StepBase {
  readonly kind: 'bridge';
  readonly bridge: string;
  /** The port the frame came in by; absent when the node's own stack sent it out of the bridge device. */
  readonly inPort?: string;
  readonly outPort: string;
  /**
   * The hairpin decision: `not-needed` when the frame leaves by another port than it came in by; `on`/`off` when it
   * would leave by the port it came in by (the port's hairpin mode decides; `off` drops it).
   */
  readonly hairpin: 'not-needed' | 'on' | 'off';
  /** Why this port: the frame's destination is behind it, or a destination NATed at the bridge is. */
  readonly lookup: 'destination' | 'nat-at-bridge';
}

/** A packet crossing a veth pair, from one end to the other. */
export interface VethStep extends StepBase {
  readonly kind: 'veth';
  readonly from: DeviceRef;
  readonly to: DeviceRef;
}

/**
 * A netfilter hook: the IP stack's five, or `INGRESS` (a netdev ingress chain of the device the packet arrived on,
 * which runs before conntrack and every PREROUTING chain).
 */
export type TraceHook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING' | 'INGRESS';

/**
 * The netfilter family of a hook that is not the IP stack's: `netdev` (ingress of a device), `bridge` (the bridge
 * family's hooks, which see a bridged frame around br_netfilter's IP hooks). Absent: the IP stack's hook (iptables,
 * nftables ip/ip6/inet tables).
 */
export type HookFamily = 'netdev' | 'bridge';

/** A hook as a person reads it: `PREROUTING`, `netdev INGRESS`, `bridge FORWARD`. */
export const hookLabel = (hook: string, family?: HookFamily): string => (family ? `${family} ${hook}` : hook);

/**
 * One decision of a netfilter hook's evaluation. The netfilter steps of a hop, in order, are the chain walk
 * taken (jumps, statistic branches with their probability, the rule or policy that decided).
 */
export interface NetfilterStep extends StepBase, StepSpan {
  readonly kind: 'netfilter';
  readonly hook: TraceHook;
  /** Set when the hook is not the IP stack's: a netdev ingress chain, a bridge-family chain. */
  readonly family?: HookFamily;
  readonly table: string;
  readonly chain: string;
  /** The rule as iptables-save prints it; absent for a chain policy or a table-level note. */
  readonly rule?: string;
  /**
   * What the decision did: the evaluators' own {@link DecisionEffect} (a verdict that ends the hook, a move in the
   * chain walk, a translation, an effect after which the walk goes on, a statistic branch not taken, the nat table
   * skipped, a rule that cannot be evaluated, the evaluation stopped), the same for either backend.
   */
  readonly verdict: DecisionEffect;
  /** Set when the chain's policy decided (no rule matched). */
  readonly policy?: true;
  /** `jump`/`goto`: the chain the walk went to. */
  readonly target?: string;
  /** A statistic match: the probability of this branch (of the rule matching, or for `not-chosen` of not). */
  readonly probability?: number;
  /**
   * Set when the rule belongs to a Service's load-balancer firewall (`loadBalancerSourceRanges`), as the
   * generator of its rules knows (iptables mode: the KUBE-FW-* chain and KUBE-PROXY-FIREWALL; nftables mode: the
   * firewall chains of its table).
   */
  readonly role?: 'service-firewall';
  /**
   * nftables: the priority of the base chain the walk was in (a table can have several base chains on one hook, each
   * a stage of its own; iptables tables have fixed priorities and leave it out).
   */
  readonly priority?: number;
}

/** A NAT rewrite by a rule (the request direction; a reply's reverse rewrites are `conntrack` steps). */
export interface NatStep extends StepBase, StepSpan {
  readonly kind: 'nat';
  readonly type: 'DNAT' | 'SNAT' | 'MASQUERADE';
  readonly table: string;
  readonly chain: string;
  readonly rule: string;
  readonly before: NatTuple;
  readonly after: NatTuple;
}

/** Conntrack rewriting a reply: undoing the request's translation. */
export interface ConntrackStep extends StepBase {
  readonly kind: 'conntrack';
  /** The kind of the request's translation undone (`SNAT` also stands for MASQUERADE). */
  readonly undoes: 'DNAT' | 'SNAT';
  /** Which side of the reply is rewritten: its destination (undoing an SNAT) or its source (undoing a DNAT). */
  readonly rewrites: 'source' | 'destination';
  readonly before: NatTuple;
  readonly after: NatTuple;
}

/** A forwarding namespace decrementing the TTL. */
export interface TtlStep extends StepBase {
  readonly kind: 'ttl';
  readonly before: number;
  readonly after: number;
}

/** Session affinity: the DNAT rule also remembers the client, so later connections go to the same backend. */
export interface AffinityStep extends StepBase {
  readonly kind: 'affinity';
  readonly chain: string;
  readonly rule: string;
  readonly client: string;
  readonly backend: { readonly ip: string; readonly port: number | null };
  /** The `-m recent` list that remembers the client. */
  readonly list: string;
  /** How long the client is remembered after its last connection; absent when no rule says. */
  readonly seconds?: number;
}

/**
 * Tunnel encapsulation (overlay CNIs): the packet (`inner`, before) is wrapped in an outer header (`outer`, after)
 * by the tunnel device and sent through the node's own stack to the remote tunnel endpoint.
 */
export interface EncapStep extends StepBase {
  readonly kind: 'encap';
  readonly protocol: 'vxlan' | 'geneve' | 'ipip';
  /** The tunnel device, e.g. `flannel.1`. */
  readonly device: string;
  /** The outer header: this node's underlay address to the remote node's. */
  readonly outer: { readonly src: string; readonly dst: string };
  /** The outer UDP destination port (VXLAN, Geneve). */
  readonly udpPort?: number;
  /** The VXLAN network identifier / Geneve VNI. */
  readonly vni?: number;
  /** The packet wrapped (the one the hop shows). */
  readonly inner?: NatTuple;
  /** The remote tunnel endpoint: its node and the MAC its forwarding entry maps to the outer destination. */
  readonly remote?: { readonly node: string; readonly mac?: string };
}

/** Tunnel decapsulation: the outer header removed, the inner packet received on `device`. */
export interface DecapStep extends StepBase {
  readonly kind: 'decap';
  readonly protocol: 'vxlan' | 'geneve' | 'ipip';
  readonly device: string;
  /** The outer header removed (before), the `inner` packet received on `device` (after). */
  readonly outer: { readonly src: string; readonly dst: string };
  readonly udpPort?: number;
  readonly vni?: number;
  readonly inner?: NatTuple;
}

/**
 * A NetworkPolicy verdict for a pod, in one direction (docs/network-policy.md): egress where the packet leaves
 * the source pod's node stack (after kube-proxy's DNAT), ingress where it enters the destination pod.
 * `file`/`start`/`end` locate the rule that allowed it (`policy` and `ruleIndex` name it), or, when no rule did, the
 * first isolating policy.
 */
export interface PolicyStep extends StepBase, StepSpan {
  readonly kind: 'policy';
  readonly direction: 'ingress' | 'egress';
  readonly verdict: 'allowed' | 'denied';
  /** The pod the policies apply to (`namespace/name`). */
  readonly pod: string;
  /** The policies selecting the pod for this direction (`namespace/name`); empty: the pod is not isolated. */
  readonly policies: readonly string[];
  /** The policy whose rule allowed the packet (absent when denied or not isolated). */
  readonly policy?: string;
  /** The index of that rule in the policy's `ingress` or `egress` list. */
  readonly ruleIndex?: number;
  /**
   * Why no rule had to allow it: the pod is not isolated, the other end is the pod's own node, the pod itself,
   * or the packet is a reply of an allowed connection.
   */
  readonly exempt?: 'not-isolated' | 'own-node' | 'same-pod' | 'reply';
}

/** The packet reaching its socket. */
export interface DeliverStep extends StepBase {
  readonly kind: 'deliver';
  readonly netns: string;
  readonly device: string;
  /** The answer reaching the client socket (a reply walk). */
  readonly reply?: true;
  /** The listening pod and container (a pod or host-network pod's listener). */
  readonly pod?: string;
  readonly container?: string;
  readonly port: number | null;
}

/** The walk ends without delivery: why (typed) and where. */
export interface DropStep extends StepBase, StepSpan {
  readonly kind: 'drop';
  readonly disposition: Exclude<Disposition, 'delivered'>;
  readonly reason: Reason;
  readonly netns: string;
  readonly device?: string;
  /** `netfilter-*` and `source-range`: the hook, and the rule or policy that decided (absent fields: a policy). */
  readonly hook?: TraceHook;
  /** The hook's family when it is not the IP stack's (see {@link NetfilterStep.family}). */
  readonly family?: HookFamily;
  readonly table?: string;
  readonly chain?: string;
  readonly rule?: string;
  /** `no-route`, `no-neighbor`, `not-forwarding`: the address that could not be reached; `load-balancer`: its IP. */
  readonly address?: string;
  /** `load-balancer`: the Service whose load-balancer IP (ipMode Proxy) the packet left for (`namespace/name`). */
  readonly service?: string;
  /** `load-balancer`: the nodePort of the Service port asked for, where such a load balancer usually connects to. */
  readonly nodePort?: number;
  /** `no-listener`: the port nobody listens on. */
  readonly port?: number;
  /** `no-listener`: what listens in the namespace (`container:port/PROTO`). */
  readonly listening?: readonly string[];
  /** `ttl-exceeded`: the TTL the packet arrived with. */
  readonly ttl?: number;
  /** `frag-needed`: the MTU of the device the packet would leave by (`device`), smaller than the packet. */
  readonly mtu?: number;
  /** `policy-denied`: the direction and the policies isolating the pod, none of whose rules allows the packet. */
  readonly direction?: 'ingress' | 'egress';
  readonly policies?: readonly string[];
}

/** A closed union: a consumer switching on `kind` handles every case (see docs/architecture.md, "Adding a step kind"). */
export type Step =
  | RouteStep
  | NeighborStep
  | BridgeStep
  | VethStep
  | NetfilterStep
  | NatStep
  | ConntrackStep
  | TtlStep
  | AffinityStep
  | EncapStep
  | DecapStep
  | PolicyStep
  | DeliverStep
  | DropStep;

export type StepKind = Step['kind'];

/** Every step kind, in the order a reader meets them. */
export const STEP_KINDS: readonly StepKind[] = [
  'route',
  'neighbor',
  'bridge',
  'veth',
  'netfilter',
  'nat',
  'conntrack',
  'ttl',
  'affinity',
  'encap',
  'decap',
  'policy',
  'deliver',
  'drop',
];

/** The step of a kind, e.g. `StepOf<'netfilter'>`. */
export type StepOf<K extends StepKind> = Extract<Step, { readonly kind: K }>;

/** The outer header of a packet travelling in a tunnel (what a capture on the underlay sees around `packet`). */
export interface OuterPacket {
  readonly protocol: 'vxlan' | 'geneve' | 'ipip';
  /** The node addresses: the sending tunnel endpoint's and the receiving one's. */
  readonly src: string;
  readonly dst: string;
  /** The outer UDP destination port (VXLAN, Geneve); the source port is the kernel's hash of the inner flow. */
  readonly udpPort?: number;
  readonly vni?: number;
  readonly ttl: number;
}

/** Where a capture would see the packet, and the steps taken there in the kernel's order. */
export interface Hop {
  readonly netns: string;
  readonly device: string;
  readonly dir: 'in' | 'out';
  /** The packet of the flow (inside the tunnel when `outer` is set). */
  readonly packet: HopPacket;
  /** Set on the hops where the packet travels encapsulated (the underlay between two tunnel endpoints): the outer header. */
  readonly outer?: OuterPacket;
  readonly steps: readonly Step[];
}

/** Addresses and ports of a packet (ports null for ICMP). */
export interface NatTuple {
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
}

/** A translation on the path (a reply's conntrack undo has `reverse: true`). */
export interface NatEvent {
  /** For a reply's reverse translation: the type of the request's translation it undoes. */
  readonly type: 'DNAT' | 'SNAT' | 'MASQUERADE';
  /** Set on a reply path: conntrack undoing the request's translation (`chain` and `rule` are the request's). */
  readonly reverse?: true;
  readonly netns: string;
  readonly chain: string;
  readonly rule: string;
  readonly before: NatTuple;
  readonly after: NatTuple;
}

/** Who received the packet. */
export interface Delivered {
  readonly kind: 'pod' | 'node' | 'external';
  readonly name: string;
  readonly container?: string;
  readonly ip: string;
  readonly port: number | null;
}

/** One walk of the packet: how it ended, the hops it crossed and the NAT done on the way. */
export interface TraceWalk {
  readonly disposition: Disposition;
  readonly reason: Reason | null;
  readonly delivered: Delivered | null;
  /** The source address the receiving socket sees (after every SNAT); null when not delivered. */
  readonly sourceSeen: string | null;
  readonly hops: readonly Hop[];
  /**
   * Set when the walk ended before the packet reached any device (its sender's own OUTPUT dropped it, e.g. a
   * NetworkPolicy judging a node's connection to its pod, or a rule of the node's): the namespace it was sent from
   * and the steps taken there. Otherwise those steps are on the first hop.
   */
  readonly origin?: { readonly netns: string; readonly steps: readonly Step[] };
  readonly nat: readonly NatEvent[];
  /**
   * What the hops alone do not say, e.g. session affinity: a Service with `sessionAffinity: ClientIP` pins later
   * connections from the same client to the backend this path chose. Absent when there is nothing to note.
   */
  readonly notes?: readonly string[];
}

/** One possible outcome of the flow (load balancing branches the walk), with its probability. */
export interface TracePath extends TraceWalk {
  readonly probability: number;
  /** With `reply`: the answer's walk back, through conntrack's reverse NAT (listed in its `nat` with `reverse: true`). */
  readonly reply?: TraceWalk;
}

/** What `netpath trace --format json` prints. */
export interface TraceResult {
  readonly flow: Flow;
  readonly paths: readonly TracePath[];
  /**
   * Set when the packet met more random choices (iptables' statistic match, nftables' numgen) than `limit` paths
   * hold: each choice after that followed only its likeliest side, so `paths` holds at most `limit` paths and their
   * probabilities sum to 1 minus `probability`, the share not followed.
   */
  readonly notFollowed?: { readonly limit: number; readonly probability: number };
}

/** What a caller asks: endpoints in the CLI's syntax (see `endpoints.ts`). */
export interface TraceRequest {
  readonly from: string;
  readonly to: string;
  readonly proto?: TraceProto;
  readonly sport?: number;
  /** `node/<name>`: where a bare source address enters. */
  readonly at?: string;
  /** The request packet's size in bytes (IP header included), sent with Don't Fragment set (see {@link Flow.size}). */
  readonly size?: number;
  readonly reply?: boolean;
  /** Where Kubernetes leaves NetworkPolicy behaviour to the plugin: the choices (docs/network-policy.md). */
  readonly policy?: Partial<PolicyOptions>;
}
