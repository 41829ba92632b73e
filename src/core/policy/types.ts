/**
 * What the NetworkPolicy evaluator answers, as plain JSON data. A connection is judged twice, as Kubernetes
 * defines it: egress at the source pod, ingress at the destination pod, both on the addresses and ports the
 * packet carries after kube-proxy's DNAT (so a Service connection is judged against the backend pod).
 */
import type { Span } from '../problem';
import type { Protocol } from '../model/types';

/**
 * Choices where Kubernetes leaves the behaviour to the network plugin (see docs/network-policy.md).
 * - `ipBlockPodIPs`: whether an ipBlock matches pod IPs. `match` is what the upstream conformance tests expect
 *   (and Calico, kube-router, Antrea do); `ignore` is what plugins that judge pods only by identity do (Cilium).
 * - `nodeTraffic`: traffic between a pod and the node it runs on. `allow` is the documented behaviour ("traffic
 *   to and from the node where a Pod is running is always allowed"); `policy` judges the node's addresses like
 *   any other address (some plugins can be configured so).
 */
export interface PolicyOptions {
  readonly ipBlockPodIPs: 'match' | 'ignore';
  readonly nodeTraffic: 'allow' | 'policy';
}

export const DEFAULT_POLICY_OPTIONS: PolicyOptions = Object.freeze({ ipBlockPodIPs: 'match', nodeTraffic: 'allow' });

export type PolicyDirection = 'ingress' | 'egress';

/** One connection to judge. `port` is null for protocols without ports (ICMP). */
export interface PolicyConnection {
  readonly src: string;
  readonly dst: string;
  readonly proto: Protocol | 'ICMP';
  readonly port: number | null;
}

/** A policy that selects the pod for the direction (it isolates the pod). */
export interface PolicyRef {
  readonly id: string;
  /** The policy's name in the YAML. */
  readonly span: Span;
}

/** The rule that allowed a connection: `spec.<direction>[index]` of `policy`. */
export interface RuleRef {
  readonly policy: string;
  readonly direction: PolicyDirection;
  readonly index: number;
  readonly span: Span;
}

/**
 * Why a direction was not judged by rules:
 * - `not-a-pod`: that end is no pod (a node, an external address): policies select pods only;
 * - `host-network`: the pod uses the node's network namespace, and policies do not select such pods;
 * - `not-isolated`: no policy selects the pod for this direction;
 * - `own-node`: traffic between a pod and its own node (with nodeTraffic `allow`);
 * - `same-pod`: a pod cannot block traffic to itself.
 */
export type Exemption = 'not-a-pod' | 'host-network' | 'not-isolated' | 'own-node' | 'same-pod';

export interface DirectionVerdict {
  readonly direction: PolicyDirection;
  /** The pod whose policies apply (`namespace/name`), or null when that end is no pod. */
  readonly pod: string | null;
  readonly allowed: boolean;
  /** Set when no rule had to allow the connection; null when the policies' rules decided. */
  readonly exempt: Exemption | null;
  /** The policies that select the pod for this direction, in namespace/name order. */
  readonly policies: readonly PolicyRef[];
  /** Every rule that allows the connection (empty when dropped or exempt). */
  readonly allowedBy: readonly RuleRef[];
}

export interface PolicyVerdict {
  readonly allowed: boolean;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}
