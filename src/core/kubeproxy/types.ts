/**
 * What kube-proxy (iptables mode) needs to know on one node to write its rules. One call covers one IP
 * family, as kube-proxy runs one proxier per family: addresses of the other family are ignored.
 */

export type TrafficPolicy = 'Cluster' | 'Local';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/**
 * How kube-proxy tells pod traffic from other traffic (its `--detect-local-mode`):
 * ClusterCIDR (`-s <cluster CIDR>`), NodeCIDR (`-s <this node's pod CIDR>`), BridgeInterface (`-i <bridge>`),
 * InterfaceNamePrefix (`-i <prefix>+`), or None (no detector: no pod short-circuits, no "not local" masquerade).
 */
export type LocalDetector =
  | { readonly mode: 'ClusterCIDR'; readonly cidrs: readonly string[] }
  | { readonly mode: 'NodeCIDR'; readonly cidrs: readonly string[] }
  | { readonly mode: 'BridgeInterface'; readonly interface: string }
  | { readonly mode: 'InterfaceNamePrefix'; readonly prefix: string }
  | { readonly mode: 'None' };

export interface ServicePortInput {
  /** Port name; '' for the single unnamed port. */
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** 0 or absent when the service has no NodePort. */
  readonly nodePort?: number;
  /** Used for endpoints that give no port for this port name (numeric target ports only). */
  readonly targetPort?: number | string;
}

export interface EndpointInput {
  readonly ip: string;
  /** Port per service port name (EndpointSlice ports are matched to service ports by name). */
  readonly ports: Readonly<Record<string, number>>;
  /**
   * Node the endpoint runs on; it is "local" when equal to the input's nodeName. Named as the model names it, so the
   * model's endpoints are this input as they are (150,000 at Kubernetes' limits, not copied into another shape).
   */
  readonly node?: string | undefined;
  /** Default true. */
  readonly ready?: boolean;
  /** Default: equal to ready. */
  readonly serving?: boolean;
  /** Default false. */
  readonly terminating?: boolean;
}

export interface ServiceInput {
  readonly namespace: string;
  readonly name: string;
  /** Empty or 'None' (headless): kube-proxy writes nothing for the service. */
  readonly clusterIP?: string;
  readonly ports: readonly ServicePortInput[];
  readonly externalIPs?: readonly string[];
  /** `status.loadBalancer.ingress[].ip`. */
  readonly loadBalancerIPs?: readonly string[];
  /**
   * `status.loadBalancer.ingress[].ipMode` of each of `loadBalancerIPs`, index by index (absent: VIP). kube-proxy
   * writes rules only for VIP addresses; a Proxy one is the load balancer's own (see `vipLoadBalancerIPs`).
   */
  readonly loadBalancerIPModes?: readonly ('VIP' | 'Proxy')[];
  readonly loadBalancerSourceRanges?: readonly string[];
  /** Default Cluster. Only meaningful for externally accessible ports (NodePort, LB or external IPs). */
  readonly externalTrafficPolicy?: TrafficPolicy;
  /** Default Cluster. */
  readonly internalTrafficPolicy?: TrafficPolicy;
  /** ClientIP affinity is written, as kube-proxy does, with `-m recent` rules. */
  readonly sessionAffinity?: 'None' | 'ClientIP';
  /** Default 10800 (3 hours). */
  readonly sessionAffinityTimeoutSeconds?: number;
  /** Only set for LoadBalancer services with externalTrafficPolicy Local. */
  readonly healthCheckNodePort?: number;
  /** Endpoints in the order kube-proxy should use them. */
  readonly endpoints: readonly EndpointInput[];
  /**
   * The family of every one of `endpoints`, when the caller has read their addresses already (each `ip` a valid
   * address of it): the generator then does not read 150,000 addresses again at Kubernetes' limits.
   */
  readonly endpointsFamily?: 4 | 6;
  /**
   * No two of `endpoints` have the same address, each written without whitespace around it, when the caller has read
   * them so (with `endpointsFamily`): the generator then keeps no set of 150,000 addresses to find it out again.
   */
  readonly endpointsDistinct?: boolean;
}

export interface KubeProxyInput {
  readonly nodeName: string;
  /** Default 4. */
  readonly family?: 4 | 6;
  /** The node's addresses; the first of the family is "the node IP" (used for loadBalancerSourceRanges). */
  readonly nodeIPs: readonly string[];
  readonly localDetector: LocalDetector;
  readonly masqueradeAll?: boolean;
  /** Default 14, i.e. mark 0x4000. */
  readonly masqueradeBit?: number;
  /** CIDRs (or the keyword `primary`) NodePorts answer on; empty or absent means every local address. */
  readonly nodePortAddresses?: readonly string[];
  /** `--iptables-localhost-nodeports`, default true (IPv4 only). */
  readonly localhostNodePorts?: boolean;
  /** The node has `nf_conntrack_tcp_be_liberal` set: no INVALID drop rule. Default false. */
  readonly conntrackTCPLiberal?: boolean;
  /** The nfacct counters exist (adds `-m nfacct` to two rules). Default false. */
  readonly nfacct?: boolean;
  /** iptables supports MASQUERADE --random-fully (true on current systems). Default false. */
  readonly masqueradeRandomFully?: boolean;
  readonly services: readonly ServiceInput[];
}
