/**
 * Messages between the extension host and the webviews, declared once and imported by both sides.
 * Types (and the one list of protocols); validate.ts checks them, on both sides.
 */
import type { TraceProto, TraceResult } from '../core/trace/types';
import type { VerifyReportData } from './verify';

export type {
  TraceResult,
  TracePath,
  Hop,
  Step,
  StepKind,
  StepOf,
  RouteStep,
  NeighborStep,
  BridgeStep,
  VethStep,
  NetfilterStep,
  NatStep,
  ConntrackStep,
  TtlStep,
  AffinityStep,
  EncapStep,
  DecapStep,
  PolicyStep,
  DeliverStep,
  DropStep,
  NatEvent,
  NatTuple,
  Delivered,
  Flow,
  HopPacket,
} from '../core/trace/types';
export type {
  VerifyReportData,
  VerifyFlow,
  VerifyDeviceHop,
  VerifyPredictedOutcome,
  VerifyObservedOutcome,
} from './verify';

/** What a view shows; also its persisted state (setState + the panel serializer). */
export interface TopologyViewState {
  readonly view: 'topology';
  /** URI (as a string) of the topology's entry file. */
  readonly file: string;
}

export interface TraceViewState {
  readonly view: 'trace';
  readonly file: string;
  readonly request: TraceRequest;
}

/**
 * The trace view in verify mode: the kernel lab's report per flow (it cannot be recomputed without running the
 * lab again, so the report itself is the persisted state).
 */
export interface VerifyViewState {
  readonly view: 'verify';
  readonly file: string;
  readonly report: VerifyReportData;
}

/** The reachability matrix view: what the host computes (selectors, port); the rest of the filters are the view's. */
export interface ReachViewState {
  readonly view: 'reach';
  readonly file: string;
  readonly query: ReachViewQuery;
}

export interface ReachViewQuery {
  /** Sources / destinations in `netpath reach --from/--to` syntax (`ns/<name>`, `[<ns>:]<selector>`); '' = all. */
  readonly from: string;
  readonly to: string;
  /** `TCP/8080`; '' = the first port a destination declares. */
  readonly port: string;
}

export type ViewState = TopologyViewState | TraceViewState | VerifyViewState | ReachViewState;

export type TraceProtocol = TraceProto;
export { TRACE_PROTOCOLS } from '../core/trace/types';

export interface TraceRequest {
  /** Endpoints in the tracer's syntax (`pod/default/a`, `svc/default/web:80`, `10.0.0.1:80`, ...). */
  readonly from: string;
  readonly to: string;
  readonly proto: TraceProtocol;
  /** Also walk the answer back (conntrack's reverse NAT). */
  readonly reply?: boolean;
}

/** Host -> webview. */
export type HostMessage =
  /** The summary in its compact form (see CompactTopology): the webview expands it after checking it. */
  | { readonly type: 'topology'; readonly state: TopologyViewState; readonly data: CompactTopology }
  | { readonly type: 'trace'; readonly state: TraceViewState; readonly data: TraceViewData }
  | { readonly type: 'verify'; readonly state: VerifyViewState }
  | { readonly type: 'reach'; readonly state: ReachViewState; readonly data: ReachViewData }
  /** The answer to `explainCell`. */
  | { readonly type: 'reachExplain'; readonly explain: ReachExplain }
  | { readonly type: 'error'; readonly message: string };

/** Webview -> host. */
export type WebviewMessage =
  | { readonly type: 'ready' }
  /** Show a span of a source file: a topology YAML path, or `netpath:rules/<node>` for generated rules. */
  | { readonly type: 'reveal'; readonly file: string; readonly start: number; readonly end: number }
  /** Trace again with other endpoints or protocol, or with/without the reply path; from verify mode: open that flow as a trace. */
  | { readonly type: 'retrace'; readonly request: TraceRequest }
  /** Save or copy an export of the trace view; `format` decides the file type. */
  | { readonly type: 'export'; readonly format: ExportFormat; readonly name: string; readonly content: string }
  /** The topology view's context action: open the trace view from or to an element. */
  | { readonly type: 'traceFrom'; readonly from?: string; readonly to?: string }
  /** The matrix view: compute again for other selectors or another port. */
  | { readonly type: 'reachQuery'; readonly query: ReachViewQuery }
  /** The matrix view: why a cell is what it is (the host answers with `reachExplain`). */
  | { readonly type: 'explainCell'; readonly from: number; readonly to: number; readonly family: ReachFamily }
  /** The matrix view: export what it shows (namespaces filtered, only blocked) through the core's formatters. */
  | {
      readonly type: 'exportReach';
      readonly format: 'markdown' | 'csv';
      readonly fromNamespace: string;
      readonly toNamespace: string;
      readonly onlyBlocked: boolean;
    };

export type ExportFormat = 'svg' | 'markdown';

export type ReachFamily = 'IPv4' | 'IPv6';

/** One class of pods every policy judges alike (see src/core/policy/reach.ts). */
export interface ReachViewGroup {
  readonly namespace: string;
  /** The labels some selector reads, `k=v`. */
  readonly labels: readonly string[];
  /** Up to {@link REACH_PODS_SHOWN} member pods (`namespace/name`); `podCount` says how many there are. */
  readonly pods: readonly string[];
  readonly podCount: number;
  readonly ingressPolicies: readonly string[];
  readonly egressPolicies: readonly string[];
}

export const REACH_PODS_SHOWN = 20;

/**
 * The cells of one address family, one character per (source, destination) pair, row-major over `sources` x
 * `destinations`: `a` allowed, `e` blocked by egress at the source, `i` by ingress at the destination, `b` both, `n` no
 * cell in this family (one of the two classes has no address of it).
 * A compact string, so a thousand groups (1,000,000 cells) cross as one megabyte and no object per cell.
 */
export interface ReachViewCells {
  readonly family: ReachFamily;
  readonly cells: string;
}

export interface ReachViewData {
  readonly topology: string;
  /** The plug-in choices in effect, and where each comes from (`topology`, `setting`, `default`). */
  readonly options: {
    readonly ipBlockPodIPs: string;
    readonly nodeTraffic: string;
    readonly from: { readonly ipBlockPodIPs: string; readonly nodeTraffic: string };
  };
  /** Every port a destination declares (`TCP/8080`), and the one the cells are for (null: none). */
  readonly ports: readonly string[];
  readonly port: string | null;
  readonly groups: readonly ReachViewGroup[];
  readonly sources: readonly number[];
  readonly destinations: readonly number[];
  /** One entry per family the pods have; two only when a dual-stack cluster's families differ somewhere. */
  readonly families: readonly ReachViewCells[];
  readonly omitted: readonly { readonly pod: string; readonly why: string }[];
  /** Why nothing (or less) is shown: a selector that does not parse, no port declared, ... */
  readonly problems: readonly string[];
}

/** One direction of a cell's verdict, as the evaluator gives it (spans to reveal the policy and the rule). */
export interface ReachExplainSide {
  readonly direction: 'ingress' | 'egress';
  readonly pod: string | null;
  readonly allowed: boolean;
  readonly exempt: string | null;
  readonly policies: readonly { readonly id: string; readonly span: SpanRef }[];
  readonly allowedBy: readonly { readonly policy: string; readonly index: number; readonly span: SpanRef }[];
}

export interface ReachExplain {
  readonly from: number;
  readonly to: number;
  readonly family: ReachFamily;
  readonly port: string;
  /** The two pods judged (one of each class) and their addresses. */
  readonly source: string;
  readonly destination: string;
  readonly sourceIP: string;
  readonly destinationIP: string;
  readonly allowed: boolean;
  readonly egress: ReachExplainSide;
  readonly ingress: ReachExplainSide;
  /** The trace of that flow, for the trace view. */
  readonly trace: TraceRequest;
}

/** Where a source span is; `file` is a path as in the model's spans. */
export interface SpanRef {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

/** One network namespace a trace passes through, with what the diagram needs to place it. */
export interface TracePlace {
  /** The tracer's netns label: `pod:<ns>/<name>`, `node:<name>`, `external:<name>`. */
  readonly netns: string;
  readonly kind: 'pod' | 'node' | 'external';
  /** The pod's `<ns>/<name>`, the node's or the external's name. */
  readonly name: string;
  /** Pods: the node they run on; their host-side veth; whether they use the node's namespace. */
  readonly node?: string;
  readonly hostVeth?: string;
  /** Nodes: the bridge its CNI plug-in plugs pods into (absent for plug-ins without one). */
  readonly bridge?: string;
  /** Addresses by device (`eth0` -> [`10.244.1.10/24`]). */
  readonly addresses: Readonly<Record<string, readonly string[]>>;
  readonly span?: SpanRef;
}

/** An endpoint a person can pick in the trace view's controls. */
export interface EndpointOption {
  readonly endpoint: string;
  readonly label: string;
  readonly description: string;
}

/** Everything the trace view draws; the trace itself is the tracer's binding JSON. */
export interface TraceViewData {
  readonly topology: string;
  /** Undefined when the request could not be traced (see `problems`). */
  readonly result: TraceResult | null;
  readonly problems: readonly string[];
  readonly places: readonly TracePlace[];
  readonly sources: readonly EndpointOption[];
  readonly destinations: readonly EndpointOption[];
}

/** A diagnostic shown on the element it concerns. */
export interface ElementDiagnostic {
  readonly severity: 'error' | 'warning' | 'info' | 'hint';
  readonly code: string;
  readonly message: string;
}

/** A compact description of a topology for the topology view. */
export interface TopologySummary {
  readonly name: string;
  readonly nodes: readonly TopologyNode[];
  readonly pods: readonly TopologyPod[];
  readonly services: readonly TopologyService[];
  readonly externals: readonly TopologyExternal[];
  readonly networks: readonly {
    readonly name: string;
    readonly cidr: string;
    readonly span?: SpanRef;
    readonly problems?: readonly ElementDiagnostic[];
  }[];
  readonly diagnostics: number;
}

export interface TopologyInterface {
  readonly name: string;
  readonly network: string;
  readonly addresses: readonly string[];
}

export interface TopologyNode {
  readonly name: string;
  /** Kept for older readers: `<interface> <address>` strings. */
  readonly addresses: readonly string[];
  readonly interfaces: readonly TopologyInterface[];
  readonly podCIDRs: readonly string[];
  /** The CNI plug-in that wires the node's pods (`bridge`, ...). */
  readonly cni?: string;
  /** `<bridge> <addresses>`; empty for a plug-in without a bridge (as are bridgeName and bridgeAddresses). */
  readonly bridge: string;
  readonly bridgeName: string;
  readonly bridgeAddresses: readonly string[];
  /** The node's tunnel endpoint when the plug-in encapsulates (flannel.1, vxlan.calico, tunl0). */
  readonly tunnel?: TopologyTunnel;
  /** The node's IPv6 tunnel endpoint on a dual-stack overlay (flannel-v6.1, vxlan-v6.calico), beside `tunnel`. */
  readonly tunnel6?: TopologyTunnel;
  readonly span: SpanRef;
  readonly problems?: readonly ElementDiagnostic[];
}

export interface TopologyTunnel {
  readonly protocol: 'vxlan' | 'ipip';
  readonly device: string;
  readonly vni?: number;
  readonly port?: number;
  /** The tunnel device's own address (flannel: the pod CIDR's .0; Calico: the tunnel address from its block). */
  readonly address?: string;
  /** The underlay device the outer packets leave by. */
  readonly underlay?: string;
}

export interface TopologyPod {
  readonly id: string;
  readonly namespace: string;
  readonly node: string;
  readonly ips: readonly string[];
  readonly veth: string;
  readonly hostNetwork: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly span: SpanRef;
  readonly problems?: readonly ElementDiagnostic[];
}

export interface TopologyService {
  readonly id: string;
  readonly namespace: string;
  readonly type: string;
  readonly clusterIPs: readonly string[];
  /** Pod ids of the endpoints that are pods. */
  readonly endpointPods: readonly string[];
  readonly ports: readonly string[];
  readonly span: SpanRef;
  readonly problems?: readonly ElementDiagnostic[];
}

export interface TopologyExternal {
  readonly name: string;
  readonly network: string;
  readonly addresses: readonly string[];
  readonly span: SpanRef;
  readonly problems?: readonly ElementDiagnostic[];
}

/**
 * A TopologySummary as the host sends it to the topology view (src/protocol/topology.ts makes one and expands it
 * back): the pods a column per field instead of an object each, and what repeats (span files, namespaces, node names,
 * label sets) named once and referred to by its index. A 15,000-pod summary was 4.6 MB of JSON, most of it the same
 * keys, file path and labels again for every pod; sending it took the host 0.7 to 1.4 s.
 */
export interface CompactTopology {
  readonly name: string;
  readonly diagnostics: number;
  /** The files spans point into. */
  readonly files: readonly string[];
  readonly namespaces: readonly string[];
  /** The nodes pods name (a pod may name one the topology lacks). */
  readonly nodeNames: readonly string[];
  /** Label sets, each `[key, value, key, value, …]`. */
  readonly labelSets: readonly (readonly string[])[];
  readonly nodes: readonly CompactNode[];
  readonly pods: CompactPods;
  readonly services: readonly CompactService[];
  readonly externals: readonly CompactExternal[];
  readonly networks: readonly CompactNetwork[];
}

/** `[index into CompactTopology.files, start, end]`. */
export type CompactSpan = readonly [number, number, number];

export type CompactNode = Omit<TopologyNode, 'span'> & { readonly span: CompactSpan };
export type CompactExternal = Omit<TopologyExternal, 'span'> & { readonly span: CompactSpan };
export type CompactNetwork = Omit<TopologySummary['networks'][number], 'span'> & { readonly span?: CompactSpan };
/** A Service; its endpoints that are pods by their index in CompactPods (by id when no pod has it). */
export type CompactService = Omit<TopologyService, 'span' | 'endpointPods'> & {
  readonly span: CompactSpan;
  readonly endpointPods: readonly (number | string)[];
};

/** The pods in topology order, a column per field: the i-th pod is the i-th entry of each. */
export interface CompactPods {
  /** The pod's id without its `<namespace>/` (whole when it does not start with it: see `wholeIds`). */
  readonly names: readonly string[];
  /** The pods whose entry in `names` is their whole id. */
  readonly wholeIds: readonly number[];
  /** Indexes into CompactTopology.namespaces. */
  readonly namespaces: readonly number[];
  /** Indexes into CompactTopology.nodeNames. */
  readonly nodes: readonly number[];
  readonly ips: readonly (readonly string[])[];
  /** The pods whose host-side veth is not the one NetPath names after their id (src/core/model/names.ts). */
  readonly veths: readonly { readonly pod: number; readonly veth: string }[];
  /** The pods that use their node's network namespace. */
  readonly hostNetwork: readonly number[];
  /** Indexes into CompactTopology.labelSets. */
  readonly labels: readonly number[];
  /**
   * Three numbers a pod: its span's file (index into CompactTopology.files), its start less the previous pod's start
   * (the first pod's: less 0), and its length. Pods come in the order of their file, so the numbers are short.
   */
  readonly spans: readonly number[];
  /** The pods that have diagnostics, with them. */
  readonly problems: readonly { readonly pod: number; readonly problems: readonly ElementDiagnostic[] }[];
}
