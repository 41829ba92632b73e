/**
 * The one validator of what crosses between the extension host and the webviews, beside the types it checks
 * (messages.ts, verify.ts): the webview checks host messages before anything is drawn, the host checks webview
 * messages before acting, and both check persisted view states. A value without the declared shape is refused,
 * never half-used.
 */
import {
  TRACE_PROTOCOLS,
  type HostMessage,
  type StepKind,
  type CompactTopology,
  type TraceViewData,
  type ViewState,
  type WebviewMessage,
} from './messages';
import { VERIFY_DEVICES_STATUSES, type VerifyReportData } from './verify';
import { isOneOf, ownValue } from '../core/lookup';
import type { ReachExplain, ReachViewData, ReachViewQuery } from './messages';
import type { Disposition, Reason } from '../core/trace/types';
import type { DecisionEffect } from '../core/netfilter/types';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const arrayOf = (v: unknown, item: (x: unknown) => boolean) => Array.isArray(v) && v.every(item);
/** An optional field: absent, or of its type (null is no value a `?:` field declares; JSON keeps it, so refuse it). */
const optional = (v: unknown, check: (x: unknown) => boolean) => v === undefined || check(v);
const isSpan = (v: unknown) => isRec(v) && isStr(v.file) && isNum(v.start) && isNum(v.end);
/** Exactly one of `words` (a closed union of the declared type). */
const oneOf =
  (...words: readonly string[]) =>
  (v: unknown) =>
    isOneOf(words, v);
const SEVERITIES = oneOf('error', 'warning', 'info', 'hint');
const isDiagnostics = (v: unknown) =>
  optional(v, (x) => arrayOf(x, (d) => isRec(d) && SEVERITIES(d.severity) && isStr(d.code) && isStr(d.message)));
const isPort = (v: unknown) => v === null || isNum(v);

const isTuple = (v: unknown): v is Rec =>
  isRec(v) && isStr(v.src) && isStr(v.dst) && isPort(v.sport) && isPort(v.dport);
const isRef = (v: unknown) => isRec(v) && isStr(v.netns) && isStr(v.device);
const isStepSpan = (v: Rec) => optional(v.file, isStr) && optional(v.start, isNum) && optional(v.end, isNum);
const isOuter = (v: Rec) =>
  oneOf('vxlan', 'geneve', 'ipip')(v.protocol) &&
  isStr(v.device) &&
  isRec(v.outer) &&
  isStr(v.outer.src) &&
  isStr(v.outer.dst) &&
  optional(v.udpPort, isNum) &&
  optional(v.vni, isNum) &&
  optional(v.inner, isTuple);
/** TraceHook, HookFamily and the evaluators' DecisionEffect (a netfilter step's verdict). */
const HOOKS = oneOf('PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING', 'INGRESS');
const FAMILIES = oneOf('netdev', 'bridge');
/** The tracer's words for how a walk ends and why: the views word each one, so an unknown one is refused. */
const DISPOSITIONS: Record<Disposition, true> = {
  delivered: true,
  dropped: true,
  rejected: true,
  'no-route': true,
  loop: true,
  exited: true,
};
const REASONS: Record<Reason, true> = {
  'netfilter-drop': true,
  'netfilter-reject': true,
  'no-route': true,
  'no-neighbor': true,
  blackhole: true,
  'no-listener': true,
  'hairpin-off': true,
  'ttl-exceeded': true,
  'source-range': true,
  loop: true,
  'not-forwarding': true,
  'left-model': true,
  'load-balancer': true,
  'policy-denied': true,
  'frag-needed': true,
  martian: true,
};
const isWord = (words: Record<string, true>) => (v: unknown) => isStr(v) && ownValue(words, v) === true;
const DECISION_EFFECTS: Record<DecisionEffect, true> = {
  ACCEPT: true,
  DROP: true,
  REJECT: true,
  RETURN: true,
  jump: true,
  goto: true,
  DNAT: true,
  SNAT: true,
  MASQUERADE: true,
  MARK: true,
  CONNMARK: true,
  LOG: true,
  NOTRACK: true,
  none: true,
  'not-chosen': true,
  skipped: true,
  unsupported: true,
  error: true,
};
const NAT_TYPES = oneOf('DNAT', 'SNAT', 'MASQUERADE');

/** Each kind with the fields the view reads (a step of an unknown kind is refused: the union is closed). */
const STEP_FIELDS: Record<StepKind, (v: Rec) => boolean> = {
  route: (v) =>
    isStr(v.destination) &&
    (v.table === 'local' || v.table === 'main') &&
    optional(v.route, isStr) &&
    optional(v.dev, isStr) &&
    optional(v.via, isStr) &&
    optional(v.reroute, oneOf('after-dnat', 'bridged-after-dnat')) &&
    isStrArray(v.considered),
  neighbor: (v) =>
    isStr(v.address) &&
    isRec(v.domain) &&
    oneOf('bridge', 'network', 'link', 'device')(v.domain.kind) &&
    isStr(v.domain.name) &&
    optional(
      v.answer,
      (a) => isRef(a) && isRec(a) && oneOf('bridge', 'bridge-port', 'host', 'proxy-arp', 'vtep')(a.role),
    ),
  bridge: (v) =>
    isStr(v.bridge) &&
    isStr(v.outPort) &&
    optional(v.inPort, isStr) &&
    oneOf('not-needed', 'on', 'off')(v.hairpin) &&
    oneOf('destination', 'nat-at-bridge')(v.lookup),
  veth: (v) => isRef(v.from) && isRef(v.to),
  netfilter: (v) =>
    HOOKS(v.hook) &&
    optional(v.family, FAMILIES) &&
    isStr(v.table) &&
    isStr(v.chain) &&
    isWord(DECISION_EFFECTS)(v.verdict) &&
    optional(v.rule, isStr) &&
    optional(v.policy, (x) => x === true) &&
    optional(v.target, isStr) &&
    optional(v.probability, isNum) &&
    optional(v.role, oneOf('service-firewall')) &&
    optional(v.priority, isNum) &&
    isStepSpan(v),
  nat: (v) =>
    NAT_TYPES(v.type) &&
    isStr(v.table) &&
    isStr(v.chain) &&
    isStr(v.rule) &&
    isTuple(v.before) &&
    isTuple(v.after) &&
    isStepSpan(v),
  conntrack: (v) =>
    oneOf('DNAT', 'SNAT')(v.undoes) &&
    oneOf('source', 'destination')(v.rewrites) &&
    isTuple(v.before) &&
    isTuple(v.after),
  ttl: (v) => isNum(v.before) && isNum(v.after),
  affinity: (v) => isStr(v.chain) && isStr(v.client) && isRec(v.backend) && isStr(v.backend.ip),
  encap: isOuter,
  decap: isOuter,
  policy: (v) =>
    oneOf('ingress', 'egress')(v.direction) &&
    oneOf('allowed', 'denied')(v.verdict) &&
    isStr(v.pod) &&
    isStrArray(v.policies) &&
    optional(v.policy, isStr) &&
    optional(v.ruleIndex, isNum) &&
    optional(v.exempt, oneOf('not-isolated', 'own-node', 'same-pod', 'reply')) &&
    isStepSpan(v),
  deliver: (v) =>
    isStr(v.netns) &&
    isStr(v.device) &&
    isPort(v.port) &&
    optional(v.reply, (x) => x === true) &&
    optional(v.pod, isStr) &&
    optional(v.container, isStr),
  drop: (v) =>
    isWord(DISPOSITIONS)(v.disposition) &&
    v.disposition !== 'delivered' &&
    isWord(REASONS)(v.reason) &&
    isStr(v.netns) &&
    optional(v.device, isStr) &&
    optional(v.hook, HOOKS) &&
    optional(v.family, FAMILIES) &&
    optional(v.table, isStr) &&
    optional(v.chain, isStr) &&
    optional(v.rule, isStr) &&
    optional(v.address, isStr) &&
    isStepSpan(v),
};
const isStepKind = (k: unknown): k is StepKind => isStr(k) && Object.hasOwn(STEP_FIELDS, k);
const isStep = (v: unknown) => isRec(v) && isStr(v.detail) && isStepKind(v.kind) && STEP_FIELDS[v.kind](v);
const isHop = (v: unknown) =>
  isRec(v) &&
  isStr(v.netns) &&
  isStr(v.device) &&
  (v.dir === 'in' || v.dir === 'out') &&
  isTuple(v.packet) &&
  isNum(v.packet.ttl) &&
  optional(v.outer, (o) => isRec(o) && isStr(o.protocol) && isStr(o.src) && isStr(o.dst) && isNum(o.ttl)) &&
  arrayOf(v.steps, isStep);
const isNat = (v: unknown) =>
  isRec(v) &&
  NAT_TYPES(v.type) &&
  optional(v.reverse, (x) => x === true) &&
  isStr(v.netns) &&
  isStr(v.chain) &&
  isStr(v.rule) &&
  isTuple(v.before) &&
  isTuple(v.after);
const isDelivered = (v: unknown) =>
  v === null ||
  (isRec(v) &&
    (v.kind === 'pod' || v.kind === 'node' || v.kind === 'external') &&
    isStr(v.name) &&
    isStr(v.ip) &&
    isPort(v.port) &&
    optional(v.container, isStr));
const isWalk = (v: unknown): boolean =>
  isRec(v) &&
  isWord(DISPOSITIONS)(v.disposition) &&
  (v.reason === null || isWord(REASONS)(v.reason)) &&
  isDelivered(v.delivered) &&
  (v.sourceSeen === null || isStr(v.sourceSeen)) &&
  arrayOf(v.hops, isHop) &&
  optional(v.origin, (o) => isRec(o) && isStr(o.netns) && arrayOf(o.steps, isStep)) &&
  arrayOf(v.nat, isNat);
const isPath = (v: unknown) => isRec(v) && isWalk(v) && isNum(v.probability) && optional(v.reply, isWalk);
const isResult = (v: unknown) =>
  isRec(v) &&
  isRec(v.flow) &&
  isStr(v.flow.src) &&
  isStr(v.flow.dst) &&
  isPort(v.flow.sport) &&
  isPort(v.flow.dport) &&
  isOneOf(TRACE_PROTOCOLS, v.flow.proto) &&
  arrayOf(v.paths, isPath);
const isOption = (v: unknown) => isRec(v) && isStr(v.endpoint) && isStr(v.label) && isStr(v.description);
const isPlace = (v: unknown) =>
  isRec(v) &&
  isStr(v.netns) &&
  (v.kind === 'pod' || v.kind === 'node' || v.kind === 'external') &&
  isStr(v.name) &&
  optional(v.node, isStr) &&
  optional(v.hostVeth, isStr) &&
  optional(v.bridge, isStr) &&
  isRec(v.addresses) &&
  Object.values(v.addresses).every(isStrArray) &&
  optional(v.span, isSpan);

/** A node's tunnel endpoint (TopologyTunnel). */
const isTopologyTunnel = (x: unknown): boolean =>
  isRec(x) &&
  (x.protocol === 'vxlan' || x.protocol === 'ipip') &&
  isStr(x.device) &&
  optional(x.vni, isNum) &&
  optional(x.port, isNum) &&
  optional(x.address, isStr) &&
  optional(x.underlay, isStr);

export function isTraceViewData(v: unknown): v is TraceViewData {
  return (
    isRec(v) &&
    isStr(v.topology) &&
    (v.result === null || isResult(v.result)) &&
    isStrArray(v.problems) &&
    arrayOf(v.places, isPlace) &&
    arrayOf(v.sources, isOption) &&
    arrayOf(v.destinations, isOption)
  );
}

/** An index into a list of `length` entries. */
const isIndexInto = (v: unknown, length: number): v is number => isIndex(v) && v < length;
const indexesInto = (v: unknown, length: number) => Array.isArray(v) && v.every((x) => isIndexInto(x, length));
/** What a diagnostics list must be where it is not optional. */
const hasDiagnostics = (v: unknown) => v !== undefined && isDiagnostics(v);

/**
 * The topology view's summary as the host sends it (CompactTopology): beside each field's type, every index it holds
 * points into its list and every column has one entry a pod, so expanding it (src/protocol/topology.ts) reads no
 * entry that is not there.
 */
export function isCompactTopology(v: unknown): v is CompactTopology {
  if (!(
    isRec(v) &&
    isStr(v.name) &&
    isNum(v.diagnostics) &&
    isStrArray(v.files) &&
    Array.isArray(v.labelSets) &&
    v.labelSets.every((l) => isStrArray(l) && l.length % 2 === 0)
  ))
    return false;
  const files = v.files.length;
  const { namespaces, nodeNames } = v;
  if (!isStrArray(namespaces) || !isStrArray(nodeNames)) return false;
  const isCompactSpan = (x: unknown) =>
    Array.isArray(x) && x.length === 3 && isIndexInto(x[0], files) && isNum(x[1]) && isNum(x[2]);
  const pods = v.pods;
  if (!isRec(pods) || !isStrArray(pods.names)) return false;
  const count = pods.names.length;
  const column = (c: unknown, item: (x: unknown) => boolean) => Array.isArray(c) && c.length === count && c.every(item);
  const spans = pods.spans;
  const labelSets = v.labelSets.length;
  return (
    column(pods.namespaces, (i) => isIndexInto(i, namespaces.length)) &&
    column(pods.nodes, (i) => isIndexInto(i, nodeNames.length)) &&
    column(pods.ips, isStrArray) &&
    arrayOf(pods.veths, (x) => isRec(x) && isIndexInto(x.pod, count) && isStr(x.veth)) &&
    column(pods.labels, (i) => isIndexInto(i, labelSets)) &&
    indexesInto(pods.wholeIds, count) &&
    indexesInto(pods.hostNetwork, count) &&
    Array.isArray(spans) &&
    spans.length === 3 * count &&
    spans.every((x, i) => (i % 3 ? isNum(x) : isIndexInto(x, files))) &&
    arrayOf(pods.problems, (x) => isRec(x) && isIndexInto(x.pod, count) && hasDiagnostics(x.problems)) &&
    arrayOf(
      v.nodes,
      (n) =>
        isRec(n) &&
        isStr(n.name) &&
        isStrArray(n.addresses) &&
        isStrArray(n.podCIDRs) &&
        isStr(n.bridge) &&
        optional(n.cni, isStr) &&
        isStr(n.bridgeName) &&
        isStrArray(n.bridgeAddresses) &&
        optional(n.tunnel, isTopologyTunnel) &&
        optional(n.tunnel6, isTopologyTunnel) &&
        isCompactSpan(n.span) &&
        isDiagnostics(n.problems) &&
        arrayOf(n.interfaces, (i) => isRec(i) && isStr(i.name) && isStr(i.network) && isStrArray(i.addresses)),
    ) &&
    arrayOf(
      v.services,
      (s) =>
        isRec(s) &&
        isStr(s.id) &&
        isStr(s.namespace) &&
        isStr(s.type) &&
        isStrArray(s.clusterIPs) &&
        arrayOf(s.endpointPods, (p) => isStr(p) || isIndexInto(p, count)) &&
        isStrArray(s.ports) &&
        isCompactSpan(s.span) &&
        isDiagnostics(s.problems),
    ) &&
    arrayOf(
      v.externals,
      (x) =>
        isRec(x) &&
        isStr(x.name) &&
        isStr(x.network) &&
        isStrArray(x.addresses) &&
        isCompactSpan(x.span) &&
        isDiagnostics(x.problems),
    ) &&
    arrayOf(
      v.networks,
      (n) => isRec(n) && isStr(n.name) && isStr(n.cidr) && optional(n.span, isCompactSpan) && isDiagnostics(n.problems),
    )
  );
}

// ---------------------------------------------------------------- the reachability matrix

/** Selectors and ports are short; a longer one did not come from a person typing in the view. */
const isShortText = (v: unknown): v is string => isStr(v) && v.length <= 1000;
export const isReachQuery = (v: unknown): v is ReachViewQuery =>
  isRec(v) && isShortText(v.from) && isShortText(v.to) && isShortText(v.port);
const isFamily = (v: unknown) => v === 'IPv4' || v === 'IPv6';
const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isIndexList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isIndex);
const isFamilyCells = (v: unknown): v is { family: 'IPv4' | 'IPv6'; cells: string }[] =>
  arrayOf(v, (f) => isRec(f) && isFamily(f.family) && isStr(f.cells));

export function isReachViewData(v: unknown): v is ReachViewData {
  if (!(
    isRec(v) &&
    isStr(v.topology) &&
    isRec(v.options) &&
    isStr(v.options.ipBlockPodIPs) &&
    isStr(v.options.nodeTraffic) &&
    isRec(v.options.from) &&
    isStr(v.options.from.ipBlockPodIPs) &&
    isStr(v.options.from.nodeTraffic) &&
    isStrArray(v.ports) &&
    (v.port === null || isStr(v.port)) &&
    arrayOf(
      v.groups,
      (g) =>
        isRec(g) &&
        isStr(g.namespace) &&
        isStrArray(g.labels) &&
        isStrArray(g.pods) &&
        isNum(g.podCount) &&
        isStrArray(g.ingressPolicies) &&
        isStrArray(g.egressPolicies),
    ) &&
    isIndexList(v.sources) &&
    isIndexList(v.destinations) &&
    isFamilyCells(v.families) &&
    arrayOf(v.omitted, (o) => isRec(o) && isStr(o.pod) && isStr(o.why)) &&
    isStrArray(v.problems)
  ))
    return false;
  // Every index names a group and every family has exactly one cell per pair, of the four kinds.
  const { groups, sources, destinations, families } = v;
  // Checked above; checked again so that the compiler sees the types it reads here.
  if (!Array.isArray(groups) || !isIndexList(sources) || !isIndexList(destinations) || !isFamilyCells(families))
    return false;
  if (![...sources, ...destinations].every((i) => i < groups.length)) return false;
  const size = sources.length * destinations.length;
  return families.every((f) => f.cells.length === size && /^[aeibn]*$/.test(f.cells));
}

const isExplainSide = (v: unknown) =>
  isRec(v) &&
  (v.direction === 'ingress' || v.direction === 'egress') &&
  (v.pod === null || isStr(v.pod)) &&
  typeof v.allowed === 'boolean' &&
  (v.exempt === null || isStr(v.exempt)) &&
  arrayOf(v.policies, (p) => isRec(p) && isStr(p.id) && isSpan(p.span)) &&
  arrayOf(v.allowedBy, (r) => isRec(r) && isStr(r.policy) && isNum(r.index) && isSpan(r.span));

export function isReachExplain(v: unknown): v is ReachExplain {
  return (
    isRec(v) &&
    isNum(v.from) &&
    isNum(v.to) &&
    isFamily(v.family) &&
    isStr(v.port) &&
    isStr(v.source) &&
    isStr(v.destination) &&
    isStr(v.sourceIP) &&
    isStr(v.destinationIP) &&
    typeof v.allowed === 'boolean' &&
    isExplainSide(v.egress) &&
    isExplainSide(v.ingress) &&
    isTraceRequest(v.trace)
  );
}

/** Endpoints are short (`svc/default/web:http`); a longer one did not come from NetPath. */
const isEndpointText = (v: unknown): v is string => isStr(v) && v.length <= 500;
const isTraceRequest = (v: unknown) =>
  isRec(v) &&
  isEndpointText(v.from) &&
  isEndpointText(v.to) &&
  TRACE_PROTOCOLS.some((p) => p === v.proto) &&
  optional(v.reply, (x) => typeof x === 'boolean');

export function isHostMessage(value: unknown): value is HostMessage {
  if (!isRec(value)) return false;
  switch (value.type) {
    case 'error':
      return isStr(value.message);
    case 'topology':
      return (
        isRec(value.state) &&
        value.state.view === 'topology' &&
        isStr(value.state.file) &&
        isCompactTopology(value.data)
      );
    case 'trace':
      return (
        isRec(value.state) &&
        value.state.view === 'trace' &&
        isStr(value.state.file) &&
        isTraceRequest(value.state.request) &&
        isTraceViewData(value.data)
      );
    case 'verify':
      return (
        isRec(value.state) &&
        value.state.view === 'verify' &&
        isStr(value.state.file) &&
        isVerifyReportData(value.state.report)
      );
    case 'reach':
      return (
        isRec(value.state) &&
        value.state.view === 'reach' &&
        isStr(value.state.file) &&
        isReachQuery(value.state.query) &&
        isReachViewData(value.data)
      );
    case 'reachExplain':
      return isReachExplain(value.explain);
    default:
      return false;
  }
}

// ---------------------------------------------------------------- the kernel lab's report

const strOrNull = (v: unknown) => v === null || isStr(v);
const isDeviceHop = (v: unknown) =>
  isRec(v) &&
  isStr(v.netns) &&
  isStr(v.device) &&
  (v.dir === 'in' || v.dir === 'out') &&
  (v.optional === undefined || typeof v.optional === 'boolean');
const isPolicyVerdict = (v: unknown) =>
  isRec(v) &&
  isStr(v.netns) &&
  (v.direction === 'ingress' || v.direction === 'egress') &&
  isStr(v.pod) &&
  (v.verdict === 'allowed' || v.verdict === 'denied') &&
  (v.policy === undefined || isStr(v.policy)) &&
  (v.ruleIndex === undefined || isNum(v.ruleIndex)) &&
  (v.exempt === undefined || v.exempt === 'same-pod' || v.exempt === 'own-node');
const isPredictedOutcome = (v: unknown) =>
  isRec(v) &&
  isNum(v.probability) &&
  isStr(v.disposition) &&
  strOrNull(v.reason) &&
  strOrNull(v.answeredBy) &&
  strOrNull(v.sourceSeen) &&
  isStrArray(v.nat) &&
  arrayOf(v.devices, isDeviceHop) &&
  (v.policy === undefined || arrayOf(v.policy, isPolicyVerdict));
const isObservedOutcome = (v: unknown) =>
  isRec(v) &&
  isStr(v.result) &&
  (v.code === undefined || isStr(v.code)) &&
  strOrNull(v.answeredBy) &&
  strOrNull(v.sourceSeen) &&
  isStrArray(v.nat) &&
  (v.devices === null || arrayOf(v.devices, isDeviceHop)) &&
  isNum(v.count);
const isVerifyFlow = (v: unknown) =>
  isRec(v) &&
  isStr(v.from) &&
  isStr(v.to) &&
  isStr(v.proto) &&
  (v.kind === undefined || isStr(v.kind)) &&
  typeof v.agree === 'boolean' &&
  isStrArray(v.differences) &&
  isNum(v.ms) &&
  (v.devices === undefined || isOneOf(VERIFY_DEVICES_STATUSES, v.devices)) &&
  (v.devicesNote === undefined || isStrArray(v.devicesNote)) &&
  (v.policy === undefined || arrayOf(v.policy, (p: unknown) => isPolicyVerdict(p) && isRec(p) && isNum(p.packets))) &&
  (v.predicted === null ||
    (isRec(v.predicted) &&
      isStr(v.predicted.src) &&
      isStr(v.predicted.dst) &&
      (v.predicted.dport === null || isNum(v.predicted.dport)) &&
      arrayOf(v.predicted.outcomes, isPredictedOutcome))) &&
  (v.observed === null ||
    (isRec(v.observed) &&
      isNum(v.observed.tries) &&
      strOrNull(v.observed.sourceAddress) &&
      arrayOf(v.observed.outcomes, isObservedOutcome)));

/** Whether `v` is a well-formed verify report (anything may arrive in a message or a persisted state). */
export function isVerifyReportData(v: unknown): v is VerifyReportData {
  return (
    isRec(v) &&
    isStr(v.topology) &&
    isStr(v.prefix) &&
    typeof v.agree === 'boolean' &&
    arrayOf(v.flows, isVerifyFlow) &&
    isRec(v.timings) &&
    isNum(v.timings.setupMs) &&
    isNum(v.timings.flowsMs) &&
    isNum(v.timings.teardownMs) &&
    (v.unplacedPods === undefined || arrayOf(v.unplacedPods, isStr)) &&
    (v.devices === undefined ||
      (isRec(v.devices) &&
        isNum(v.devices.compared) &&
        isNum(v.devices.notObserved) &&
        isNum(v.devices.drops) &&
        isNum(v.devices.retried)))
  );
}

// ---------------------------------------------------------------- webview -> host, persisted state

/**
 * The keys each webview message has. A webview is a separate page and may send anything: a message with a key its
 * type does not declare did not come from NetPath's views and is refused whole, as one of a wrong type is.
 */
const WEBVIEW_MESSAGE_KEYS: Record<WebviewMessage['type'], readonly string[]> = {
  ready: [],
  reveal: ['file', 'start', 'end'],
  retrace: ['request'],
  export: ['format', 'name', 'content'],
  traceFrom: ['from', 'to'],
  reachQuery: ['query'],
  explainCell: ['from', 'to', 'family'],
  exportReach: ['format', 'fromNamespace', 'toNamespace', 'onlyBlocked'],
};
const TRACE_REQUEST_KEYS = ['from', 'to', 'proto', 'reply'];
const REACH_QUERY_KEYS = ['from', 'to', 'port'];
/** Every own key of `v` (an object) is `type` or one of `keys`. */
const onlyKeys = (v: unknown, keys: readonly string[]) =>
  isRec(v) && Object.keys(v).every((k) => k === 'type' || keys.includes(k));

/** A message from a webview: a webview is a separate page and may send anything. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!isRec(value)) return false;
  const keys = isStr(value.type) ? ownValue(WEBVIEW_MESSAGE_KEYS, value.type) : undefined;
  if (!keys || !onlyKeys(value, keys)) return false;
  switch (value.type) {
    case 'ready':
      return true;
    case 'reveal':
      return isStr(value.file) && Number.isInteger(value.start) && Number.isInteger(value.end);
    case 'retrace':
      return isTraceRequest(value.request) && onlyKeys(value.request, TRACE_REQUEST_KEYS);
    case 'export':
      return (
        (value.format === 'svg' || value.format === 'markdown') &&
        isStr(value.name) &&
        /^[\w.\- ]{1,100}$/.test(value.name) &&
        isStr(value.content)
      );
    case 'traceFrom':
      return (
        (value.from === undefined || isStr(value.from)) &&
        (value.to === undefined || isStr(value.to)) &&
        (value.from !== undefined || value.to !== undefined)
      );
    case 'reachQuery':
      return isReachQuery(value.query) && onlyKeys(value.query, REACH_QUERY_KEYS);
    case 'explainCell':
      return isIndex(value.from) && isIndex(value.to) && isFamily(value.family);
    case 'exportReach':
      return (
        (value.format === 'markdown' || value.format === 'csv') &&
        isShortText(value.fromNamespace) &&
        isShortText(value.toNamespace) &&
        typeof value.onlyBlocked === 'boolean'
      );
    default:
      return false;
  }
}

/** A view's persisted state (the panel serializer's or the webview's own): anything may be stored there. */
export function isViewState(v: unknown): v is ViewState {
  if (!isRec(v) || !isStr(v.file)) return false;
  switch (v.view) {
    case 'topology':
      return true;
    case 'trace':
      return isTraceRequest(v.request);
    case 'verify':
      return isVerifyReportData(v.report);
    case 'reach':
      return isReachQuery(v.query);
    default:
      return false;
  }
}
