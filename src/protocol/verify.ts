/**
 * The kernel lab's report, declared once: `runVerify` (src/lab) returns it, `netpath verify --format json` prints
 * it, and the trace view's verify mode shows it (the webview needs nothing from the lab). Checked by
 * `isVerifyReportData` (validate.ts): the report arrives in messages and comes back from persisted state.
 */

/** A device a request crossed: namespace, device, direction. */
export interface VerifyDeviceHop {
  /** The tracer's namespace id (`pod:default/a`, `node:n1`). */
  readonly netns: string;
  readonly device: string;
  readonly dir: 'in' | 'out';
  /** Predicted only: the kernel may skip this hop, or show it in the other direction (a bridge between two of its ports). */
  readonly optional?: boolean;
}

/**
 * A NetworkPolicy verdict at one node: predicted (a trace's policy step) or seen (a counted rule of the lab's policy
 * chains, src/lab/policy.ts). Pods not isolated and replies are left out: the kernel passes them without a rule.
 */
export interface VerifyPolicyVerdict {
  /** The node namespace that judged it (`node:<name>`). */
  readonly netns: string;
  readonly direction: 'ingress' | 'egress';
  /** The pod judged (`namespace/name`). */
  readonly pod: string;
  readonly verdict: 'allowed' | 'denied';
  /** Allowed by a rule: the policy (`namespace/name`) and the rule's index in its `ingress`/`egress` list. */
  readonly policy?: string;
  readonly ruleIndex?: number;
  /** Allowed without a rule: the pod itself, or its own node (nodeTraffic `allow`). */
  readonly exempt?: 'same-pod' | 'own-node';
}

/** A policy verdict as one line: `node:n1 ingress shop/api-1 allowed by shop/api ingress[0]`. */
export function policyVerdictText(v: VerifyPolicyVerdict): string {
  const how =
    v.verdict === 'denied'
      ? 'denied'
      : v.exempt
        ? `allowed (${v.exempt})`
        : `allowed by ${v.policy ?? '?'} ${v.direction}[${v.ruleIndex ?? '?'}]`;
  return `${v.netns} ${v.direction} ${v.pod} ${how}`;
}

export interface VerifyPredictedOutcome {
  readonly probability: number;
  readonly disposition: string;
  readonly reason: string | null;
  /** `<pod namespace/name>:<port>` of the socket that answers, or null. */
  readonly answeredBy: string | null;
  readonly sourceSeen: string | null;
  /** `<netns> DNAT <addr> port <n>` / `<netns> SNAT <addr>`, one per namespace and kind, sorted. */
  readonly nat: readonly string[];
  /** The ordered devices crossed in pod and node namespaces (bridge hops the kernel may skip are `optional`). */
  readonly devices: readonly VerifyDeviceHop[];
  /** In a topology with NetworkPolicies: the verdicts of the path's policy steps, in order. */
  readonly policy?: readonly VerifyPolicyVerdict[];
}

export interface VerifyObservedOutcome {
  /** answered, refused, unreachable, denied, reset, timeout, error. */
  readonly result: string;
  readonly code?: string;
  readonly answeredBy: string | null;
  readonly sourceSeen: string | null;
  readonly nat: readonly string[];
  /** The ordered devices the request crossed in pod and node namespaces; null when not captured. */
  readonly devices: readonly VerifyDeviceHop[] | null;
  readonly count: number;
}

/**
 * The devices crossed: `compared` (every try whose outcome the trace predicts was followed through the captures),
 * `not observed` (a capture lost packets of the flow, also when it was tried again: neither an agreement nor a
 * difference; why in `devicesNote`), `not applicable` (nothing to compare: the flow failed before its tries, or no
 * try ended as predicted) or `off`.
 */
export type VerifyDevicesStatus = (typeof VERIFY_DEVICES_STATUSES)[number];
export const VERIFY_DEVICES_STATUSES = ['compared', 'not observed', 'not applicable', 'off'] as const;

export interface VerifyFlow {
  readonly from: string;
  readonly to: string;
  readonly proto: string;
  readonly kind?: string;
  readonly agree: boolean;
  readonly predicted: {
    readonly src: string;
    readonly dst: string;
    readonly dport: number | null;
    readonly outcomes: readonly VerifyPredictedOutcome[];
  } | null;
  readonly observed: {
    readonly tries: number;
    readonly sourceAddress: string | null;
    readonly outcomes: readonly VerifyObservedOutcome[];
  } | null;
  readonly differences: readonly string[];
  readonly ms: number;
  readonly devices?: VerifyDevicesStatus;
  /** Why the devices were not observed. */
  readonly devicesNote?: readonly string[];
  /**
   * In a topology with NetworkPolicies (the lab enforces them): the verdicts the kernel's policy rules reached during
   * the flow's tries, with the packets each counted.
   */
  readonly policy?: readonly (VerifyPolicyVerdict & { readonly packets: number })[];
}

export interface VerifyReportData {
  readonly topology: string;
  readonly prefix: string;
  readonly agree: boolean;
  readonly flows: readonly VerifyFlow[];
  readonly timings: { readonly setupMs: number; readonly flowsMs: number; readonly teardownMs: number };
  /** Pods the lab built no namespace for because they have no node (`namespace/name`). */
  readonly unplacedPods?: readonly string[];
  /** Device comparison over the run: flows compared and not observed, packets the kernel dropped for the captures, flows tried again. */
  readonly devices?: {
    readonly compared: number;
    readonly notObserved: number;
    readonly drops: number;
    readonly retried: number;
  };
}
