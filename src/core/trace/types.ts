/**
 * A trace is plain JSON data (house style habit 9): the flow asked about and one path per possible
 * outcome (load balancing branches the walk), each with its probability, disposition, hops and NAT.
 * The JSON shape is binding (issue 5): `netpath trace --format json` prints exactly a {@link TraceResult}.
 */

export type Disposition = 'delivered' | 'dropped' | 'rejected' | 'no-route' | 'loop' | 'exited';
export const SUCCESS_DISPOSITIONS: readonly Disposition[] = ['delivered'];

export type Reason =
  | 'netfilter-drop'
  | 'netfilter-reject'
  | 'no-route'
  | 'no-neighbor'
  | 'no-listener'
  | 'hairpin-off'
  | 'ttl-exceeded'
  | 'source-range'
  | 'loop'
  | 'not-forwarding'
  | 'left-model';

export type TraceProto = 'tcp' | 'udp' | 'sctp' | 'icmp';

export interface Flow {
  readonly proto: TraceProto;
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
}

export interface HopPacket {
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
  readonly ttl: number;
}

export type StepKind =
  | 'route'
  | 'netfilter'
  | 'nat'
  | 'bridge'
  | 'veth'
  | 'deliver'
  | 'drop'
  | 'neighbor'
  | 'conntrack'
  | 'ttl'
  | 'affinity';

export interface Step {
  readonly kind: StepKind;
  /** One line a person reads. */
  readonly detail: string;
  /** netfilter steps: where the decision was made and the rule that made it (absent for a chain policy). */
  readonly hook?: string;
  readonly table?: string;
  readonly chain?: string;
  readonly rule?: string;
  /** Where the rule is: the YAML for a node's own rules, else `netpath:rules/<node>` (offsets into the node's rules text). */
  readonly file?: string;
  readonly start?: number;
  readonly end?: number;
  /** route steps: the route chosen. */
  readonly route?: string;
}

export interface Hop {
  readonly netns: string;
  readonly device: string;
  readonly dir: 'in' | 'out';
  readonly packet: HopPacket;
  readonly steps: readonly Step[];
}

export interface NatTuple {
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
}

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

export interface Delivered {
  readonly kind: 'pod' | 'node' | 'external';
  readonly name: string;
  readonly container?: string;
  readonly ip: string;
  readonly port: number | null;
}

export interface TracePath {
  readonly probability: number;
  readonly disposition: Disposition;
  readonly reason: Reason | null;
  readonly delivered: Delivered | null;
  /** The source address the receiving socket sees (after every SNAT); null when not delivered. */
  readonly sourceSeen: string | null;
  readonly hops: readonly Hop[];
  readonly nat: readonly NatEvent[];
  /**
   * What the hops alone do not say, e.g. session affinity: a Service with `sessionAffinity: ClientIP` pins later
   * connections from the same client to the backend this path chose. Absent when there is nothing to note.
   */
  readonly notes?: readonly string[];
  /** With `reply`: the answer's walk back, through conntrack's reverse NAT (listed in its `nat` with `reverse: true`). */
  readonly reply?: Omit<TracePath, 'reply' | 'probability'>;
}

export interface TraceResult {
  readonly flow: Flow;
  readonly paths: readonly TracePath[];
}

/** What a caller asks: endpoints in the CLI's syntax (see `endpoints.ts`). */
export interface TraceRequest {
  readonly from: string;
  readonly to: string;
  readonly proto?: TraceProto;
  readonly sport?: number;
  /** `node/<name>`: where a bare source address enters. */
  readonly at?: string;
  readonly reply?: boolean;
}
