/**
 * The NetworkPolicy evaluator: a pure function of the model. It follows the concept page
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/) and the API reference
 * (NetworkPolicySpec, NetworkPolicyPeer, NetworkPolicyPort, IPBlock):
 *
 * - a pod is isolated for a direction when at least one policy of its namespace selects it and lists that
 *   direction in its (defaulted) policyTypes; otherwise everything the network allows is allowed;
 * - an isolated pod allows what the union of the rules of its selecting policies allows; a rule matches when
 *   one of its peers matches (none listed: every peer) and one of its ports matches (none listed: every port);
 * - a connection needs egress allowed at the source pod and ingress allowed at the destination pod;
 * - replies of an allowed connection are allowed (the caller judges only the first packet);
 * - hostNetwork pods are selected by no policy and matched by no pod selector: their traffic is the node's.
 */
import {
  addressKey,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Prefix,
} from '../net/address';
import type { IPBlock, NetworkPolicy, Pod, PolicyPeer, PolicyPort, PolicyRule, Topology } from '../model/types';
import { namespaceLabels } from '../model/policy-read';
import { selectorMatches, type Labels } from './selector';
import {
  DEFAULT_POLICY_OPTIONS,
  type DirectionVerdict,
  type Exemption,
  type PolicyConnection,
  type PolicyDirection,
  type PolicyOptions,
  type PolicyRef,
  type PolicyVerdict,
  type RuleRef,
} from './types';
import { cniViewOf } from '../cni';

/** The choices a topology declares (`cluster.networkPolicy`), without their spans. */
export function declaredPolicyOptions(topology: Topology): Partial<PolicyOptions> {
  return definedOnly(topology.cluster.networkPolicy ?? {});
}

const definedOnly = (o: Partial<PolicyOptions>): Partial<PolicyOptions> => ({
  ...(o.ipBlockPodIPs ? { ipBlockPodIPs: o.ipBlockPodIPs } : {}),
  ...(o.nodeTraffic ? { nodeTraffic: o.nodeTraffic } : {}),
});

/** Where a choice in effect comes from: the topology's `cluster.networkPolicy`, the editor's setting, the default. */
export type PolicyChoiceSource = 'topology' | 'setting' | 'default';

export interface PolicyChoices {
  readonly options: PolicyOptions;
  readonly source: { readonly ipBlockPodIPs: PolicyChoiceSource; readonly nodeTraffic: PolicyChoiceSource };
}

/** The choices in effect for a topology (before a caller's own options, e.g. command-line flags). */
export function policyChoices(topology: Topology): PolicyChoices {
  const declared = declaredPolicyOptions(topology);
  const settings = definedOnly(topology.cluster.networkPolicy?.settings ?? {});
  const from = (k: keyof PolicyOptions): PolicyChoiceSource =>
    declared[k] ? 'topology' : settings[k] ? 'setting' : 'default';
  return {
    options: { ...DEFAULT_POLICY_OPTIONS, ...settings, ...declared },
    source: { ipBlockPodIPs: from('ipBlockPodIPs'), nodeTraffic: from('nodeTraffic') },
  };
}

const SOURCE_WORDS: Record<PolicyChoiceSource, string> = {
  topology: 'cluster.networkPolicy',
  setting: 'the netpath.networkPolicy setting',
  default: "NetPath's default",
};

/** One sentence per choice in effect, for hovers and diagnostics: what it means and where it comes from. */
export function describePolicyChoice(c: PolicyChoices, key: keyof PolicyOptions): string {
  const from = SOURCE_WORDS[c.source[key]];
  if (key === 'ipBlockPodIPs')
    return c.options.ipBlockPodIPs === 'match'
      ? `ipBlockPodIPs: match, an ipBlock matches pod IPs too (${from})`
      : `ipBlockPodIPs: ignore, an ipBlock matches no pod (${from})`;
  return c.options.nodeTraffic === 'allow'
    ? `nodeTraffic: allow, a pod and its own node always reach each other (${from})`
    : `nodeTraffic: policy, the node's addresses are judged like any other (${from})`;
}

/** What is known about one address of a connection. */
export interface PolicyEndpoint {
  readonly ip: string;
  readonly address: Address | undefined;
  /** The pod with this IP, unless it is a hostNetwork pod. */
  readonly pod: Pod | undefined;
  /** The node this address belongs to (its interfaces, its bridge, its hostNetwork pods). */
  readonly node: string | undefined;
}

interface ParsedBlock {
  readonly cidr: Prefix | undefined;
  readonly except: readonly Prefix[];
}

export class PolicyIndex {
  readonly options: PolicyOptions;
  private readonly podByIP = new Map<string, Pod>();
  private readonly nodeByIP = new Map<string, string>();
  /** Each node's addresses as text, for {@link nodeAddresses}. */
  private readonly ipsOfNode = new Map<string, string[]>();
  private readonly hostNetworkIPs = new Set<string>();
  private readonly nsLabels = new Map<string, Labels>();
  private readonly byNamespace = new Map<string, NetworkPolicy[]>();
  private readonly blocks = new WeakMap<IPBlock, ParsedBlock>();

  constructor(
    readonly topology: Topology,
    options: Partial<PolicyOptions> = {},
  ) {
    // The caller's options over the topology's own `cluster.networkPolicy` over the defaults.
    this.options = { ...policyChoices(topology).options, ...definedOnly(options) };
    for (const n of topology.nodes) {
      for (const i of n.interfaces) for (const a of i.addresses) this.addNodeIP(a, n.name);
      for (const d of cniViewOf(n, topology).devices) for (const a of d.addresses) this.addNodeIP(a, n.name);
    }
    for (const p of topology.pods) {
      for (const ip of p.ips) {
        const a = parseAddress(ip);
        if (!a) continue;
        if (p.hostNetwork) {
          this.hostNetworkIPs.add(addressKey(a));
          this.addNodeIP(ip, p.node);
        } else this.podByIP.set(addressKey(a), p);
      }
    }
    for (const ns of topology.namespaces) this.nsLabels.set(ns.name, ns.labels);
    const sorted = [...topology.networkPolicies].sort((a, b) => a.id.localeCompare(b.id));
    for (const p of sorted) {
      const list = this.byNamespace.get(p.namespace);
      if (list) list.push(p);
      else this.byNamespace.set(p.namespace, [p]);
    }
  }

  private addNodeIP(withLength: string, node: string): void {
    const text = withLength.split('/')[0];
    const a = parseAddress(text);
    if (!a || this.nodeByIP.has(addressKey(a))) return;
    this.nodeByIP.set(addressKey(a), node);
    const list = this.ipsOfNode.get(node);
    if (list) list.push(text);
    else this.ipsOfNode.set(node, [text]);
  }

  /** The addresses counted as `node` (its interfaces, its CNI devices such as the bridge, its hostNetwork pods). */
  nodeAddresses(node: string): readonly string[] {
    return this.ipsOfNode.get(node) ?? [];
  }

  namespaceLabels(name: string): Labels {
    return this.nsLabels.get(name) ?? namespaceLabels(name, {});
  }

  policiesIn(namespace: string): readonly NetworkPolicy[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  endpoint(ip: string): PolicyEndpoint {
    const address = parseAddress(ip);
    const key = address ? addressKey(address) : '';
    const pod = address ? this.podByIP.get(key) : undefined;
    return { ip, address, pod, node: pod?.node ?? (address ? this.nodeByIP.get(key) : undefined) };
  }

  /** The policies of the pod's namespace that select it for `direction` (none for a hostNetwork pod). */
  isolating(pod: Pod, direction: PolicyDirection): NetworkPolicy[] {
    if (pod.hostNetwork) return [];
    const type = direction === 'ingress' ? 'Ingress' : 'Egress';
    return this.policiesIn(pod.namespace).filter(
      (p) => p.policyTypes.includes(type) && selectorMatches(p.podSelector, pod.labels),
    );
  }

  private parsedBlock(b: IPBlock): ParsedBlock {
    let parsed = this.blocks.get(b);
    if (!parsed) {
      const cidr = parsePrefix(b.cidr);
      const except = b.except.flatMap((e) => parsePrefix(e) ?? []);
      parsed = { cidr, except };
      this.blocks.set(b, parsed);
    }
    return parsed;
  }

  /** Whether an ipBlock holds the address: inside `cidr` and outside every `except`. */
  blockContains(b: IPBlock, a: Address): boolean {
    const { cidr, except } = this.parsedBlock(b);
    if (!cidr || cidr.family !== a.family || !prefixContainsAddress(cidr, a)) return false;
    return !except.some((e) => e.family === a.family && prefixContainsAddress(e, a));
  }

  /** Whether `peer` of a policy in `namespace` matches the other end of a connection. */
  peerMatches(namespace: string, peer: PolicyPeer, other: PolicyEndpoint): boolean {
    if (peer.ipBlock) {
      if (!other.address) return false;
      if (other.pod && this.options.ipBlockPodIPs === 'ignore') return false;
      return this.blockContains(peer.ipBlock, other.address);
    }
    const pod = other.pod;
    if (!pod) return false; // Selectors match pods only; a hostNetwork pod's traffic is its node's.
    if (peer.namespaceSelector) {
      if (!selectorMatches(peer.namespaceSelector, this.namespaceLabels(pod.namespace))) return false;
    } else if (pod.namespace !== namespace) return false;
    return peer.podSelector ? selectorMatches(peer.podSelector, pod.labels) : true;
  }

  /** Whether a rule's ports hold the destination port; a named port is looked up on the destination pod. */
  portMatches(
    ports: readonly PolicyPort[],
    proto: PolicyConnection['proto'],
    port: number | null,
    dst: Pod | undefined,
  ): boolean {
    if (!ports.length) return true;
    if (port === null || proto === 'ICMP') return false;
    return ports.some((p) => {
      if (p.protocol !== proto) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
      if (!dst) return false;
      return dst.containers.some((c) =>
        c.ports.some((cp) => cp.name === p.port && cp.protocol === proto && cp.containerPort === port),
      );
    });
  }

  ruleMatches(
    policy: NetworkPolicy,
    rule: PolicyRule,
    other: PolicyEndpoint,
    conn: PolicyConnection,
    dst: Pod | undefined,
  ): boolean {
    return (
      (!rule.peers.length || rule.peers.some((peer) => this.peerMatches(policy.namespace, peer, other))) &&
      this.portMatches(rule.ports, conn.proto, conn.port, dst)
    );
  }

  /** Judges one direction at `self` (the source pod for egress, the destination pod for ingress). */
  judge(
    direction: PolicyDirection,
    self: PolicyEndpoint,
    other: PolicyEndpoint,
    conn: PolicyConnection,
  ): DirectionVerdict {
    const open = (pod: string | null, exempt: Exemption, policies: PolicyRef[] = []): DirectionVerdict => ({
      direction,
      pod,
      allowed: true,
      exempt,
      policies,
      allowedBy: [],
    });
    const pod = self.pod;
    if (!pod) {
      const hostPod = self.address && this.hostNetworkIPs.has(addressKey(self.address));
      return open(null, hostPod ? 'host-network' : 'not-a-pod');
    }
    const isolating = this.isolating(pod, direction);
    const refs = isolating.map((p) => ({ id: p.id, span: p.spans.name ?? p.span }));
    if (!isolating.length) return open(pod.id, 'not-isolated');
    if (other.pod === pod) return open(pod.id, 'same-pod', refs);
    if (this.options.nodeTraffic === 'allow' && !other.pod && other.node !== undefined && other.node === pod.node)
      return open(pod.id, 'own-node', refs);
    const dst = direction === 'ingress' ? pod : other.pod;
    const allowedBy: RuleRef[] = [];
    for (const policy of isolating) {
      const rules = direction === 'ingress' ? policy.ingress : policy.egress;
      for (const rule of rules) {
        if (this.ruleMatches(policy, rule, other, conn, dst))
          allowedBy.push({ policy: policy.id, direction, index: rule.index, span: rule.span });
      }
    }
    return { direction, pod: pod.id, allowed: allowedBy.length > 0, exempt: null, policies: refs, allowedBy };
  }

  /** Judges a connection: egress at the source, ingress at the destination (post-DNAT addresses). */
  evaluate(conn: PolicyConnection): PolicyVerdict {
    const src = this.endpoint(conn.src);
    const dst = this.endpoint(conn.dst);
    const egress = this.judge('egress', src, dst, conn);
    const ingress = this.judge('ingress', dst, src, conn);
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }
}

/** Judges one connection on a topology (builds an index each call; use {@link PolicyIndex} for many). */
export function evaluatePolicies(
  topology: Topology,
  conn: PolicyConnection,
  options: Partial<PolicyOptions> = {},
): PolicyVerdict {
  return new PolicyIndex(topology, options).evaluate(conn);
}
