/**
 * Messages between the extension host and the webviews, declared once and imported by both sides.
 * Types only: each side validates what it receives (src/vscode/webview.ts, src/webview/shared/host.ts).
 */

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

export type ViewState = TopologyViewState | TraceViewState;

export interface TraceRequest {
  readonly from: string;
  readonly to: string;
  readonly proto: 'tcp' | 'udp' | 'sctp' | 'icmp';
  readonly reply?: boolean;
}

/** Host -> webview. */
export type HostMessage =
  | { readonly type: 'topology'; readonly state: TopologyViewState; readonly data: TopologySummary }
  | { readonly type: 'trace'; readonly state: TraceViewState; readonly data: unknown }
  | { readonly type: 'error'; readonly message: string };

/** Webview -> host. */
export type WebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reveal'; readonly file: string; readonly start: number; readonly end: number }
  | { readonly type: 'retrace'; readonly request: TraceRequest };

/** A compact description of a topology for the topology view. */
export interface TopologySummary {
  readonly name: string;
  readonly nodes: readonly { readonly name: string; readonly addresses: readonly string[]; readonly podCIDRs: readonly string[]; readonly bridge: string; readonly span: SpanRef }[];
  readonly pods: readonly { readonly id: string; readonly node: string; readonly ips: readonly string[]; readonly veth: string; readonly span: SpanRef }[];
  readonly services: readonly { readonly id: string; readonly clusterIPs: readonly string[]; readonly endpoints: readonly string[]; readonly span: SpanRef }[];
  readonly networks: readonly { readonly name: string; readonly cidr: string }[];
  readonly diagnostics: number;
}

export interface SpanRef {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}
