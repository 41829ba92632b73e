/**
 * The packet walk: small pure functions over an immutable walk state. Each function takes the state of one
 * packet at one place and returns the finished paths it leads to (several when netfilter's statistic match
 * branches). The kernel's order is followed:
 *
 * - pod and external namespaces have no rules: route, then transmit;
 * - a node receiving on an interface: PREROUTING, routing, then INPUT (local) or TTL-1, FORWARD, POSTROUTING;
 * - a node sending: routing, OUTPUT, re-routing when OUTPUT changed the destination, POSTROUTING;
 * - a frame entering a bridge port with br_netfilter on: PREROUTING at the bridge (so NAT happens before the
 *   bridge decides, and `cni0` already sees translated addresses); a destination NATed to an address behind
 *   the same bridge is bridged back out (needing hairpin mode when it is the port it came in on), with
 *   FORWARD and POSTROUTING; a frame for the bridge's own address goes up to the node's routing.
 * - conntrack: the nat table is consulted for the first packet of a connection; a reply (`reply: true`) gets
 *   the reverse translation of what each node did to the request.
 */
import type { BranchBudget } from '../branches';
import { IPIP_OVERHEAD, VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from '../cni/names';
import { deviceOfLocal, isLocalAddress, lookupRoute, routesFor, sourceAddressFor } from '../dataplane/routes';
import type {
  DataPlane,
  DpBridge,
  DpInterface,
  DpRoute,
  InterfaceAddress,
  Netns,
  NetnsId,
  Segment,
  SegmentMember,
} from '../dataplane/types';
import type { FilterContext, FilterDecision, FilterPacket, Hook, HookPart, PacketFilter } from '../dataplane/filter';
import { addressKey, formatAddress, hostPort, parseAddress, type Address, type Family } from '../net/address';
import type { PolicyIndex } from '../policy/evaluate';
import type { DirectionVerdict, PolicyConnection } from '../policy/types';
import type { Pod } from '../model/types';
import type { Span } from '../problem';
import type {
  BridgeStep,
  DeliverStep,
  Delivered,
  Disposition,
  DropStep,
  Hop,
  NatEvent,
  NatTuple,
  NetfilterStep,
  PolicyStep,
  Reason,
  RouteStep,
  Step,
  TtlStep,
  VethStep,
} from './types';
import { hookLabel } from './types';
import { work } from '../work';

export interface Pkt {
  readonly family: Family;
  readonly proto: string;
  readonly src: string;
  readonly sport: number | null;
  readonly dst: string;
  readonly dport: number | null;
  readonly ttl: number;
  readonly mark: number;
  /** The packet's size in bytes with Don't Fragment set, when the flow gives one (see `Flow.size`). */
  readonly size?: number;
}

/** What a node's conntrack remembers of the request: the tuple as it arrived and as it left. */
export interface CtEntry {
  readonly netns: NetnsId;
  readonly orig: NatTuple;
  readonly final: NatTuple;
}

export interface WalkState {
  readonly pkt: Pkt;
  readonly probability: number;
  /**
   * The hops so far, newest first, shared by every branch of the walk that crossed them; the last one's steps are in
   * `tail`. Read them as a list with {@link hopsOf}, which makes each Hop once.
   */
  readonly hops: HopList | undefined;
  /**
   * Steps taken since the last hop began (or, before any hop, since the walk began: they go on the first hop), newest
   * first: adding a step is O(1) and shares the list with every branch of the walk, instead of copying the hop's steps
   * at each step.
   */
  readonly tail?: StepList;
  readonly nat: readonly NatEvent[];
  /** The tuple as it entered the node being crossed (request direction). */
  readonly entry?: { readonly netns: NetnsId; readonly tuple: NatTuple };
  readonly ct: readonly CtEntry[];
  /** Set once the source pod's egress policies have judged the packet (they judge it once, at the first node). */
  readonly egressJudged?: true;
  /**
   * Set while the packet travels in a tunnel: `pkt` is then the outer packet (it is what the nodes' stacks route and
   * filter) and `inner` the packet of the flow, given back at the remote tunnel endpoint.
   */
  readonly tunnel?: Tunnel;
  /**
   * For a reply: the request's conntrack entries and NAT events (to name what each reverse translation undoes),
   * and the source rewrite still due at POSTROUTING.
   */
  readonly reply?: {
    readonly entries: readonly CtEntry[];
    readonly requestNat: readonly NatEvent[];
    readonly srcDue?: { readonly src: string; readonly sport: number | null };
  };
}

export interface Tunnel {
  readonly inner: Pkt;
  readonly protocol: 'vxlan' | 'ipip';
  readonly device: string;
  /** VXLAN's network identifier and UDP port (IPIP has neither). */
  readonly vni?: number;
  readonly port?: number;
}

export interface Finished {
  readonly state: WalkState;
  readonly disposition: Disposition;
  readonly reason: Reason | null;
  readonly delivered: Delivered | null;
  readonly netns: NetnsId;
}

export interface WalkEnv {
  readonly dp: DataPlane;
  /** The cluster's NetworkPolicies; absent when the topology has none (then no policy steps are taken). */
  readonly policy?: PolicyIndex;
  /** How many paths the walk may still split into (src/core/branches.ts); absent, it follows every choice. */
  readonly branches?: BranchBudget;
}

const MAX_HOPS = 256;

const tupleOf = (p: Pkt): NatTuple => ({ src: p.src, sport: p.sport, dst: p.dst, dport: p.dport });
const sameTuple = (a: NatTuple, b: NatTuple): boolean =>
  a.src === b.src && a.sport === b.sport && a.dst === b.dst && a.dport === b.dport;
/**
 * A packet address the walk holds as text, parsed once, not at every hop and route lookup of every path (bounded:
 * cleared when large).
 */
const PARSED = new Map<string, Address>();
function addr(text: string): Address {
  let a = PARSED.get(text);
  if (a === undefined) {
    if (PARSED.size > 4096) PARSED.clear();
    // Provably an address: traceFlow refuses a flow whose endpoints do not parse (trace.bad-input), and a rule's NAT
    // target that does not parse never matches (the parsers report it), so every address a packet carries parsed once.
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- provably parsed, as said above.
    a = parseAddress(text)!;
    PARSED.set(text, a);
  }
  return a;
}

/**
 * A hop as the walk records it: where a capture saw the packet, and the step list as it was when the packet got there
 * (before the first hop, the steps that go on it; after, the closing steps of the hop before). Its Hop is made only
 * when a finished path is read ({@link hopsOf}): a path's hops are not copied at every device, and the hops a
 * Service's endpoint paths share are made once for all of them.
 */
interface HopList {
  readonly netns: NetnsId;
  readonly device: string;
  readonly dir: 'in' | 'out';
  /** The packet the namespace routed here (the outer one in a tunnel): what a loop is recognised by. */
  readonly pkt: Pkt;
  readonly tunnel: Tunnel | undefined;
  readonly opening: StepList | undefined;
  readonly prev: HopList | undefined;
  /** How many hops up to this one. */
  readonly count: number;
  /** The Hop last made of this one (paths closing it alike share it), and the steps it was closed with. */
  made: Hop | undefined;
  madeClosing: StepList | undefined;
}

/** Whether the packet `p` was captured on `device` (`dir`) of `netns` before: the walk is in a loop. */
function wasSeen(list: HopList | undefined, netns: NetnsId, device: string, dir: 'in' | 'out', p: Pkt): boolean {
  for (let l = list; l; l = l.prev)
    if (
      l.netns === netns &&
      l.device === device &&
      l.dir === dir &&
      l.pkt.src === p.src &&
      l.pkt.sport === p.sport &&
      l.pkt.dst === p.dst &&
      l.pkt.dport === p.dport
    )
      return true;
  return false;
}

interface StepList {
  readonly step: Step;
  readonly prev: StepList | undefined;
}

/** Every field of `T`, the optional ones too (undefined when absent): a literal of this type names them all. */
type AllOf<T> = { readonly [K in keyof Required<T>]: T[K] };

function step(s: WalkState, st: Step): WalkState {
  return stateWith(s, s.pkt, s.probability, { step: st, prev: s.tail }, s.nat);
}

/**
 * `s` with a new packet, probability, step list and NAT record. Field by field, not a spread (a state is made at most
 * hops of every path; a literal of one shape is cheaper than copying the state's properties). The optional fields are
 * read as values only, so an absent one may be undefined; typed (AllOf) so that a field added to WalkState must be
 * added here too.
 */
function stateWith(
  s: WalkState,
  pkt: WalkState['pkt'],
  probability: number,
  tail: WalkState['tail'],
  nat: WalkState['nat'],
): WalkState {
  const next: AllOf<WalkState> = {
    pkt,
    probability,
    hops: s.hops,
    tail,
    nat,
    entry: s.entry,
    ct: s.ct,
    egressJudged: s.egressJudged,
    tunnel: s.tunnel,
    reply: s.reply,
  };
  return next;
}

function tailSteps(tail: StepList | undefined): Step[] {
  let n = 0;
  for (let l = tail; l; l = l.prev) n++;
  // Sized once and filled from the end: the list is newest first.
  const out = new Array<Step>(n);
  for (let l = tail; l; l = l.prev) out[--n] = l.step;
  return out;
}

/**
 * The steps of a walk that ended before the packet reached any device (they would go on the first hop), with the
 * namespace it ended in; undefined when it crossed a device or took no step.
 */
export function originOf(f: Finished): { netns: NetnsId; steps: Step[] } | undefined {
  if (f.state.hops) return undefined;
  const steps = tailSteps(f.state.tail);
  return steps.length ? { netns: f.netns, steps } : undefined;
}

/** The walk's hops with every step taken so far. */
export function hopsOf(s: WalkState): readonly Hop[] {
  const last = s.hops;
  if (!last) return [];
  const hops = new Array<Hop>(last.count);
  let closing = s.tail;
  for (let h: HopList | undefined = last; h; h = h.prev) {
    hops[h.count - 1] = hopOf(h, closing);
    closing = h.opening;
  }
  return hops;
}

/** The Hop of `h` closed by the steps `closing` (the hop's own, newest first, after those it opened with). */
function hopOf(h: HopList, closing: StepList | undefined): Hop {
  if (h.made && h.madeClosing === closing) return h.made;
  work.hopObjects++;
  // The first hop also carries the steps taken before it (its opening list); a later one's opening list is the hop
  // before's closing one.
  const steps = h.prev || !h.opening ? tailSteps(closing) : tailSteps(h.opening).concat(tailSteps(closing));
  const p = h.pkt;
  const t = h.tunnel;
  const flow = t ? t.inner : p;
  const packet = { src: flow.src, sport: flow.sport, dst: flow.dst, dport: flow.dport, ttl: flow.ttl };
  // Two literals (the same keys in the same order as the JSON shows them), not a spread.
  const hop: Hop = t
    ? {
        netns: h.netns,
        device: h.device,
        dir: h.dir,
        packet,
        outer: {
          protocol: t.protocol,
          src: p.src,
          dst: p.dst,
          ...(t.port !== undefined ? { udpPort: t.port } : {}),
          ...(t.vni !== undefined ? { vni: t.vni } : {}),
          ttl: p.ttl,
        },
        steps,
      }
    : { netns: h.netns, device: h.device, dir: h.dir, packet, steps };
  h.made = hop;
  h.madeClosing = closing;
  return hop;
}

/** What a drop step says beyond its kind, disposition, reason and namespace. */
type DropFacts = Omit<DropStep, 'kind' | 'detail' | 'disposition' | 'reason' | 'netns'>;

/** Ends the walk without delivery, with a typed `drop` step saying why and where. */
function finish(
  s: WalkState,
  netns: NetnsId,
  disposition: DropStep['disposition'],
  reason: Reason,
  detail: string,
  facts: DropFacts = {},
): Finished[] {
  return [
    {
      state: step(s, { kind: 'drop', detail, disposition, reason, netns, ...facts }),
      disposition,
      reason,
      delivered: null,
      netns,
    },
  ];
}

/** Ends the walk at a socket, with a typed `deliver` step. */
function arrive(
  s: WalkState,
  detail: string,
  at: Omit<DeliverStep, 'kind' | 'detail'>,
  delivered: Delivered,
): Finished[] {
  return [
    {
      state: step(s, { kind: 'deliver', detail, ...at }),
      disposition: 'delivered',
      reason: null,
      delivered,
      netns: at.netns,
    },
  ];
}

/**
 * A namespace's routing of one destination, each part looked up once (each endpoint path routes its backend's
 * address at two nodes, several times, and the next trace to the Service again): whether it is an address of the
 * namespace, the route chosen, and the texts of every route holding it (what a route step lists). By the parsed
 * address object (`addr` gives one per text); bounded per namespace.
 */
interface Routing {
  local?: boolean;
  route?: DpRoute | null;
  considered?: readonly string[];
}
const ROUTING = new WeakMap<Netns, Map<Address, Routing>>();
function routingOf(n: Netns, dst: Address): Routing {
  let m = ROUTING.get(n);
  if (!m) ROUTING.set(n, (m = new Map()));
  let r = m.get(dst);
  if (!r) {
    if (m.size >= 1024) m.clear();
    m.set(dst, (r = {}));
  }
  return r;
}
function isLocal(n: Netns, dst: Address): boolean {
  const r = routingOf(n, dst);
  return (r.local ??= isLocalAddress(n, dst));
}
function routeTo(n: Netns, dst: Address): DpRoute | undefined {
  const r = routingOf(n, dst);
  return (r.route ??= lookupRoute(n, dst) ?? null) ?? undefined;
}
function consideredRoutes(n: Netns, dst: Address): readonly string[] {
  const r = routingOf(n, dst);
  return (r.considered ??= routesFor(n, dst).map((x) => x.text));
}

/** A route step: the routes of the main table holding `dst`, the one chosen (absent: none). */
function routeStep(
  n: Netns,
  dst: Address,
  chosen: DpRoute | undefined,
  detail: string,
  reroute?: RouteStep['reroute'],
): RouteStep {
  // Field by field, as in makeDecisionStep (a route step is made at every node of every path).
  const st: { -readonly [K in keyof RouteStep]: RouteStep[K] } = {
    kind: 'route',
    detail,
    destination: fmtAddr(dst),
    table: 'main',
  } as RouteStep;
  if (chosen) {
    st.route = chosen.text;
    if (chosen.dev) st.dev = chosen.dev;
    if (chosen.via) st.via = chosen.via;
  }
  st.considered = consideredRoutes(n, dst);
  if (reroute) st.reroute = reroute;
  return st;
}

/** A route step for an address of the namespace itself (the local table). */
function localRouteStep(n: Netns, dst: Address, detail: string, dev?: string): RouteStep {
  const route = `local ${fmtAddr(dst)}`;
  const device = dev ?? deviceOfLocal(n, dst)?.name;
  return {
    kind: 'route',
    detail,
    destination: fmtAddr(dst),
    table: 'local',
    route,
    ...(device ? { dev: device } : {}),
    considered: [route],
  };
}

/** The TTL steps, by the TTL before: plain data, alike wherever a packet with that TTL is forwarded, so made once. */
const TTL_STEPS: TtlStep[] = [];
function ttlStep(before: number): TtlStep {
  return (TTL_STEPS[before] ??= {
    kind: 'ttl',
    detail: `forwarded: TTL ${before} -> ${before - 1}`,
    before,
    after: before - 1,
  });
}

function vethStep(from: NetnsId, fromDev: string, to: NetnsId, toDev: string): VethStep {
  return {
    kind: 'veth',
    detail: `veth ${from}/${fromDev} -> ${to}/${toDev}`,
    from: { netns: from, device: fromDev },
    to: { netns: to, device: toDev },
  };
}

/** Appends a hop (a capture on `device` would see the packet); ends the walk when the same packet was seen there before. */
function hop(
  s: WalkState,
  netns: NetnsId,
  device: string,
  dir: 'in' | 'out',
  then: (s: WalkState) => Finished[],
): Finished[] {
  const p = s.pkt;
  const last = s.hops;
  const h: HopList = {
    netns,
    device,
    dir,
    pkt: p,
    tunnel: s.tunnel,
    opening: s.tail,
    prev: last,
    count: (last?.count ?? 0) + 1,
    made: undefined,
    madeClosing: undefined,
  };
  // A packet that crossed into another namespace (a veth, the wire) lost its mark: veth_xmit and the receiving
  // device scrub the skb across namespaces, so a mark one node set never matches a rule of the next.
  const crossed = dir === 'in' && last !== undefined && last.netns !== netns && p.mark !== 0;
  // Field by field, as in step().
  const next: AllOf<WalkState> = {
    pkt: crossed ? { ...p, mark: 0 } : p,
    probability: s.probability,
    hops: h,
    tail: undefined,
    nat: s.nat,
    entry: s.entry,
    ct: s.ct,
    egressJudged: s.egressJudged,
    tunnel: s.tunnel,
    reply: s.reply,
  };
  if (wasSeen(last, netns, device, dir, p) || (last?.count ?? 0) >= MAX_HOPS) {
    return finish(next, netns, 'loop', 'loop', `loop: this packet already crossed ${device} (${dir}) in ${netns}`, {
      device,
    });
  }
  return then(next);
}

/**
 * A namespace the walk goes to. Every id it follows is one the compiler made together with its namespace: a veth's
 * peer (a pod on a node that does not exist gets no peer), a segment's member, a trace endpoint resolved against
 * the data plane.
 */
function ns(env: WalkEnv, id: NetnsId): Netns {
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above: made with its namespace.
  return env.dp.namespaces.get(id)!;
}

/**
 * A namespace's device by name (the first of that name, as a scan would find it), from a map made once per namespace:
 * a node has a veth per pod, and every endpoint path asks for devices by name several times.
 */
const DEVICES = new WeakMap<Netns, Map<string, DpInterface>>();
function deviceNamed(n: Netns, name: string | undefined): DpInterface | undefined {
  if (name === undefined) return undefined;
  // A pod's two devices (lo, eth0) are read directly: no map kept for each of the 30 new pods a trace to a new
  // Service meets, and two comparisons cost less than the weak map's lookup. (By kind: a node's devices are a getter.)
  if (n.kind === 'pod') {
    const devices = n.interfaces;
    for (let k = 0; k < devices.length; k++) if (devices[k].name === name) return devices[k];
    return undefined;
  }
  let m = DEVICES.get(n);
  if (!m) {
    m = new Map();
    // Indexed: once per namespace a trace meets, where a for-of made an object per device.
    const interfaces = n.interfaces;
    for (let k = 0; k < interfaces.length; k++)
      if (!m.has(interfaces[k].name)) m.set(interfaces[k].name, interfaces[k]);
    DEVICES.set(n, m);
  }
  return m.get(name);
}

/** Per bridge of a namespace: the first port (in port order) whose veth peer is in each namespace. */
const PORTS_BY_PEER = new WeakMap<Netns, Map<DpBridge, Map<NetnsId, string>>>();
function bridgePortTo(n: Netns, bridge: DpBridge, peerNetns: NetnsId): string | undefined {
  let byBridge = PORTS_BY_PEER.get(n);
  if (!byBridge) PORTS_BY_PEER.set(n, (byBridge = new Map()));
  let m = byBridge.get(bridge);
  if (!m) {
    m = new Map();
    for (const p of bridge.ports) {
      const peer = deviceNamed(n, p.device)?.peer;
      if (peer && !m.has(peer.netns)) m.set(peer.netns, p.device);
    }
    byBridge.set(bridge, m);
  }
  return m.get(peerNetns);
}

/**
 * A segment's members by address (in member order), made once per segment: the wire asks which member holds the
 * next hop on every path, and a 5,000-node underlay would be scanned (each address parsed) every time.
 */
const MEMBERS_BY_ADDRESS = new WeakMap<Segment, Map<string, SegmentMember[]>>();
function membersHolding(seg: Segment, a: Address): readonly SegmentMember[] {
  let m = MEMBERS_BY_ADDRESS.get(seg);
  if (!m) {
    m = new Map();
    for (const member of seg.members) {
      for (const x of member.addresses) {
        // (A scan compared only addresses of the next hop's family, parsing those: one that does not parse is skipped.)
        const a = parseAddress(x.address);
        if (!a || a.family !== x.family) continue;
        const key = addressKey(a);
        const l = m.get(key);
        if (!l) m.set(key, [member]);
        else if (l[l.length - 1] !== member) l.push(member);
      }
    }
    MEMBERS_BY_ADDRESS.set(seg, m);
  }
  return m.get(addressKey(a)) ?? [];
}

// ---------------------------------------------------------------- netfilter

interface HookOpts {
  readonly inIface?: string;
  readonly outIface?: string;
  readonly bridged?: boolean;
  /** The frame crosses a bridge: the bridge family's chains run too (see {@link FilterPacket.bridgeFrame}). */
  readonly bridgeFrame?: FilterPacket['bridgeFrame'];
  /** The address MASQUERADE takes: the outgoing interface's. */
  readonly outAddress?: string;
  /** Just the chains on one side of NetworkPolicy's place on the hook (see {@link hookAroundPolicy}). */
  readonly part?: HookPart;
  /** The netdev ingress chains of `inIface` (see {@link FilterPacket.netdevIngress}). */
  readonly netdevIngress?: FilterPacket['netdevIngress'];
}

type HookEnd =
  | { readonly state: WalkState; readonly verdict: 'ACCEPT' }
  | { readonly state: WalkState; readonly verdict: 'DROP' | 'REJECT'; readonly decision?: FilterDecision };

/** A decision's step and what it was made from (see {@link decisionStep}); the rule's other steps after it. */
interface MadeStep {
  readonly filter: PacketFilter;
  readonly hook: Hook;
  readonly decision: FilterDecision;
  readonly step: NetfilterStep;
  readonly next: MadeStep | undefined;
}

/**
 * The steps made for a rule's decisions, by the rule's (placed) span: a rule decides the same few ways on the packets
 * that reach it (a statistic rule: chosen on one endpoint path, not chosen on the next; the next trace through the
 * node alike), and a step is plain data, so each is made once. Weak: the spans go with their ruleset.
 */
const MADE_STEPS = new WeakMap<Span, MadeStep>();
/** How many ways of one rule are kept (a rule decides at most a few ways: more are made again, not kept). */
const MADE_STEPS_PER_RULE = 4;

/** Whether `a` and `b` say the same (every field {@link makeDecisionStep} reads). */
function sameDecision(a: FilterDecision, b: FilterDecision): boolean {
  return (
    a === b ||
    (a.action === b.action &&
      a.effect === b.effect &&
      a.ruleIndex === b.ruleIndex &&
      a.chain === b.chain &&
      a.table === b.table &&
      a.ruleText === b.ruleText &&
      a.span === b.span &&
      a.target === b.target &&
      a.probability === b.probability &&
      a.hook === b.hook &&
      a.family === b.family &&
      a.priority === b.priority)
  );
}

/**
 * The steps made for decisions that name no rule (an nftables base chain's policy, which has no line of its own), by
 * what they say, per filter: made once too. Bounded.
 */
const SPANLESS_STEPS = new WeakMap<PacketFilter, Map<string, NetfilterStep>>();

function decisionStep(filter: PacketFilter, hook: Hook, d: FilterDecision): NetfilterStep {
  if (!d.span) {
    let made = SPANLESS_STEPS.get(filter);
    if (!made) SPANLESS_STEPS.set(filter, (made = new Map()));
    // Every field makeDecisionStep reads (but the span, which there is none of).
    const key = JSON.stringify([
      hook,
      d.action,
      d.effect,
      d.ruleIndex,
      d.chain,
      d.table,
      d.ruleText,
      d.target,
      d.probability,
      d.hook,
      d.family,
      d.priority,
    ]);
    let st = made.get(key);
    if (!st) {
      if (made.size >= 1024) made.clear();
      made.set(key, (st = makeDecisionStep(filter, hook, d)));
    }
    return st;
  }
  const first = MADE_STEPS.get(d.span);
  let kept = 0;
  for (let m = first; m; m = m.next) {
    if (m.filter === filter && m.hook === hook && sameDecision(m.decision, d)) return m.step;
    kept++;
  }
  const step = makeDecisionStep(filter, hook, d);
  MADE_STEPS.set(d.span, { filter, hook, decision: d, step, next: kept < MADE_STEPS_PER_RULE ? first : undefined });
  return step;
}

/**
 * The steps of an outcome's decisions, by position (null: the decision makes no step), filled as the walk links them:
 * an evaluation kept for sibling packets (src/core/netfilter/evaluate.ts, `SiblingQuestion`) gives every sibling the
 * same decisions array, so each endpoint path links the steps found for the first. Weak: they go with the evaluation.
 */
const STEPS_OF_DECISIONS = new WeakMap<
  readonly FilterDecision[],
  { readonly filter: PacketFilter; readonly hook: Hook; readonly steps: (NetfilterStep | null | undefined)[] }
>();
function stepsOfDecisions(
  filter: PacketFilter,
  hook: Hook,
  decisions: readonly FilterDecision[],
): (NetfilterStep | null | undefined)[] {
  const kept = STEPS_OF_DECISIONS.get(decisions);
  if (kept && kept.filter === filter && kept.hook === hook) return kept.steps;
  // Of the decisions' size, its holes unfilled: filled from the first decision an outcome does not share with the one
  // before (not from the start), an empty list would grow room for half as many again (kept with the evaluation).
  const steps = new Array<NetfilterStep | null | undefined>(decisions.length);
  STEPS_OF_DECISIONS.set(decisions, { filter, hook, steps });
  return steps;
}

function makeDecisionStep(filter: PacketFilter, hook: Hook, d: FilterDecision): NetfilterStep {
  work.netfilterStepObjects++;
  const role = filter.chainRole(d.table, d.chain);
  // Field by field in the order the JSON shows them, the absent ones left out: a conditional spread would make an
  // object per optional field of every step (a trace to a Service it has not crossed makes a step per rule decision).
  const st: { -readonly [K in keyof NetfilterStep]: NetfilterStep[K] } = {
    kind: 'netfilter',
    detail: `${d.table} ${d.chain}: ${d.action}`,
    hook: d.hook ?? hook,
  } as NetfilterStep;
  if (d.family) st.family = d.family;
  st.table = d.table;
  st.chain = d.chain;
  if (d.ruleText) st.rule = d.ruleText;
  if (d.span) {
    st.file = d.span.file;
    st.start = d.span.start;
    st.end = d.span.end;
  }
  st.verdict = d.effect;
  if (d.ruleIndex < 0 && (d.effect === 'ACCEPT' || d.effect === 'DROP')) st.policy = true;
  if (d.target !== undefined) st.target = d.target;
  if (d.probability !== undefined) st.probability = d.probability;
  if (role) st.role = role;
  if (d.priority !== undefined) st.priority = d.priority;
  return st;
}

/** The NAT event of a reply undoing `of` (the request's events of that namespace and kind name the rule). */
function reverseEvent(
  s: WalkState,
  netns: NetnsId,
  kinds: readonly NatEvent['type'][],
  before: NatTuple,
  after: NatTuple,
): NatEvent {
  const of = s.reply?.requestNat.find((e) => e.netns === netns && kinds.includes(e.type));
  return {
    type: of?.type ?? kinds[0],
    reverse: true,
    netns,
    chain: of?.chain ?? 'conntrack',
    rule: of?.rule ?? '',
    before,
    after,
  };
}

/** Reverse NAT for a reply, as conntrack does it: the destination at PREROUTING/OUTPUT, the source at POSTROUTING/INPUT. */
function replyNat(s: WalkState, netns: NetnsId, hook: Hook): WalkState {
  if (!s.reply) return s;
  const p = s.pkt;
  if (hook === 'PREROUTING' || hook === 'OUTPUT') {
    const e = s.reply.entries.find(
      (x) =>
        x.netns === netns &&
        x.final.dst === p.src &&
        x.final.dport === p.sport &&
        x.final.src === p.dst &&
        x.final.sport === p.dport,
    );
    if (!e) return s;
    const srcDue = { src: e.orig.dst, sport: e.orig.dport };
    let next: WalkState = { ...s, reply: { ...s.reply, srcDue } };
    if (e.orig.src !== p.dst || e.orig.sport !== p.dport) {
      const before = tupleOf(p);
      next = { ...next, pkt: { ...p, dst: e.orig.src, dport: e.orig.sport } };
      const ev = reverseEvent(s, netns, ['MASQUERADE', 'SNAT'], before, tupleOf(next.pkt));
      next = step(
        { ...next, nat: [...next.nat, ev] },
        {
          kind: 'conntrack',
          detail: `conntrack (reply): destination ${hostPort(before.dst, before.dport)} -> ${hostPort(e.orig.src, e.orig.sport)} (reverse of the request's SNAT)`,
          undoes: 'SNAT',
          rewrites: 'destination',
          before,
          after: tupleOf(next.pkt),
        },
      );
    }
    return next;
  }
  const { srcDue: due, ...rest } = s.reply;
  if (!due || (due.src === p.src && due.sport === p.sport)) return due ? { ...s, reply: rest } : s;
  const before = tupleOf(p);
  const moved: Pkt = { ...p, src: due.src, sport: due.sport };
  const ev = reverseEvent(s, netns, ['DNAT'], before, tupleOf(moved));
  const next: WalkState = { ...s, pkt: moved, reply: rest, nat: [...s.nat, ev] };
  return step(next, {
    kind: 'conntrack',
    detail: `conntrack (reply): source ${hostPort(p.src, p.sport)} -> ${hostPort(due.src, due.sport)} (reverse of the request's DNAT)`,
    undoes: 'DNAT',
    rewrites: 'source',
    before,
    after: tupleOf(moved),
  });
}

function affinityText(chain: string, client: string, backend: string, list: string, seconds?: number): string {
  const forHow =
    seconds !== undefined ? `for ${seconds} s after its last connection` : 'while it stays in the recent list';
  return `session affinity (ClientIP): ${chain} remembers client ${client} (recent list ${list}); later connections from ${client} to this Service go to ${backend} ${forHow}, not to a new random backend`;
}

/**
 * A namespace's addresses as the packet filter reads them, listed once per namespace (not at every hook). Exported for
 * its test.
 */
const ADDRESSES = new WeakMap<
  Netns,
  { readonly local: readonly string[]; readonly byInterface: Readonly<Record<string, readonly string[]>> }
>();
export function addressesOf(n: Netns): {
  readonly local: readonly string[];
  readonly byInterface: Readonly<Record<string, readonly string[]>>;
} {
  let a = ADDRESSES.get(n);
  if (!a) {
    // One empty list for every device without an address: a node has a host veth per pod (none has one), and a
    // trace meets the nodes of a new Service's endpoints. By device name in an object without a prototype, which the
    // engine keeps as a hash table: an object literal took a new hidden class per name, and every node's veths have
    // names of their own (and a device named like an Object.prototype member read that member).
    const interfaces = n.interfaces;
    const local = interfaces.flatMap((i) => i.addresses.map(textOfInterfaceAddress));
    const byInterface: Record<string, readonly string[]> = Object.create(null);
    // The last device of a name wins, as in an object made from entries.
    for (let k = 0; k < interfaces.length; k++) {
      const i = interfaces[k];
      byInterface[i.name] = i.addresses.length ? i.addresses.map(textOfInterfaceAddress) : NO_ADDRESSES;
    }
    a = { local, byInterface };
    ADDRESSES.set(n, a);
  }
  return a;
}
const NO_ADDRESSES: readonly string[] = [];
const textOfInterfaceAddress = (x: InterfaceAddress): string => x.address;

/** A request's connection, as every hook of every path sees it (read only: one object for all). */
const NEW_CONNECTION: FilterContext['conntrack'] = { state: 'NEW' };

/** A reply's connection at a node: what the request's NAT there makes conntrack say of it. */
function replyConntrack(entry: CtEntry | undefined): FilterContext['conntrack'] {
  return {
    state: 'ESTABLISHED',
    ...(entry && entry.orig.dst !== entry.final.dst ? { dnat: true } : {}),
    ...(entry && entry.orig.src !== entry.final.src ? { snat: true } : {}),
  };
}

/** The context a hook of `n` is evaluated in. */
function filterContext(
  env: WalkEnv,
  n: Netns,
  conntrack: FilterContext['conntrack'],
  outAddress: string | undefined,
): FilterContext {
  const addresses = addressesOf(n);
  // One shape whatever is set (absent: undefined), as the hook's packet: the evaluator reads the context at every rule.
  return {
    localAddresses: addresses.local,
    interfaceAddresses: addresses.byInterface,
    conntrack,
    outIfaceAddress: outAddress || undefined,
    branches: env.branches,
  };
}

/**
 * A request's contexts, per namespace by the address MASQUERADE would take: the same few for every path crossing the
 * namespace (read only, as the evaluators take a context), kept while the walk's branch budget is the same (a trace's).
 */
const REQUEST_CONTEXTS = new WeakMap<Netns, Map<string, FilterContext>>();
function requestContext(env: WalkEnv, n: Netns, outAddress: string | undefined): FilterContext {
  let m = REQUEST_CONTEXTS.get(n);
  if (!m) REQUEST_CONTEXTS.set(n, (m = new Map()));
  const key = outAddress ?? '';
  let ctx = m.get(key);
  if (!ctx || ctx.branches !== env.branches) {
    if (m.size >= 64) m.clear();
    m.set(key, (ctx = filterContext(env, n, NEW_CONNECTION, outAddress)));
  }
  return ctx;
}

/**
 * Whether a hook of `n` runs no rules: a namespace without a filter (pods, externals), or a bridge-family or netdev hook
 * on a node whose filter is iptables (only the nftables backend has such tables: a node's own `nftables:` text).
 */
function runsNoRules(n: Netns, o: HookOpts): boolean {
  const filter = n.filter;
  return !filter || (isNotIpHook(o) && filter.backend !== 'nftables');
}

/**
 * A bridge-only hook (the bridge family's chains alone) or a device's netdev ingress alone: no IP hook, so conntrack
 * does not translate there.
 */
const isNotIpHook = (o: HookOpts): boolean => !!o.bridgeFrame?.only || o.netdevIngress === 'only';

/**
 * The walk as a hook's rules see it: a reply translated by conntrack, in an IP hook (conntrack does not translate in a
 * hook that is no IP hook, nor again in a hook's second part: it did in the first).
 */
function conntrackAt(s: WalkState, n: Netns, hook: Hook, o: HookOpts): WalkState {
  const laterPart = o.part === 'after-policy' || o.part === 'reroute-to-policy';
  return isNotIpHook(o) || laterPart ? s : replyNat(s, n.id, hook);
}

/** The NAT events whose rule remembers the client (session affinity): each is followed by an affinity step. */
const REMEMBERING = new WeakSet<NatEvent>();

/**
 * Whether a finished path may have a step that makes a note (an affinity step, or its end at a load balancer), so
 * that its steps need to be read for notes: most paths have neither.
 */
export function mayHaveNotes(f: Finished): boolean {
  if (f.reason === 'load-balancer') return true;
  const nat = f.state.nat;
  for (let k = 0; k < nat.length; k++) if (REMEMBERING.has(nat[k])) return true;
  return false;
}

/** Runs one hook of a namespace's ruleset (the caller has checked it has rules to run: {@link runsNoRules}). */
function runHook(env: WalkEnv, s0: WalkState, n: Netns, hook: Hook, o: HookOpts): HookEnd[] {
  const s = conntrackAt(s0, n, hook, o);
  const filter = n.filter;
  if (!filter) return [{ state: s, verdict: 'ACCEPT' }];
  const p = s.pkt;
  // One literal of one shape, the absent fields undefined: a packet is made at every hook of every path, and the
  // evaluator reads its fields at every rule; fields added one by one made a shape per combination of them (the
  // evaluator's reads saw many) and a second object for the fields past the literal's.
  const packet: FilterPacket = {
    family: p.family,
    proto: p.proto,
    src: p.src,
    dst: p.dst,
    mark: p.mark,
    sport: p.sport ?? undefined,
    dport: p.dport ?? undefined,
    inIface: o.inIface || undefined,
    outIface: o.outIface || undefined,
    bridged: o.bridged ? true : undefined,
    bridgeFrame: o.bridgeFrame,
    netdevIngress: o.netdevIngress,
  };
  const ctx = s.reply
    ? filterContext(env, n, replyConntrack(s.reply.entries.find((e) => e.netns === n.id)), o.outAddress)
    : requestContext(env, n, o.outAddress);
  const res = filter.evaluate(hook, packet, ctx, o.part);
  // Outcomes of a statistic split share the decisions before it, and come one after the other (the evaluator walks
  // each split's sides in turn): the step list up to the decisions an outcome has in common with the one before it is
  // that one's, so a Service's E endpoint outcomes link O(E) steps, not O(E^2) (endpoint i's outcome carries the i-1
  // "not chosen" decisions before it). Compared position by position from the start, as a decision object stands for
  // its rule's way of deciding wherever it comes (the same object on two paths does not mean the same ones before it).
  // Each outcome's state is built once, not spread per step.
  // (The outcome before's list after each of its decisions; cut back to what the next one shares, then extended.)
  let prevDecisions: readonly FilterDecision[] = [];
  // Only a hook with several outcomes needs the list after each decision (most hooks of a path end in one).
  const outcomes = res.outcomes;
  const tails: (StepList | undefined)[] | undefined = outcomes.length > 1 ? [] : undefined;
  const ends = new Array<HookEnd>(outcomes.length);
  for (let o = 0; o < outcomes.length; o++) {
    const out = outcomes[o];
    const ds = out.decisions;
    let from = 0;
    while (from < ds.length && from < prevDecisions.length && ds[from] === prevDecisions[from]) from++;
    let tail = from > 0 && tails ? tails[from - 1] : s.tail;
    if (tails) tails.length = from;
    const made = stepsOfDecisions(filter, hook, ds);
    for (let i = from; i < ds.length; i++) {
      let st = made[i];
      if (st === undefined) {
        const d = ds[i];
        made[i] = st = d.matched || d.probability !== undefined ? decisionStep(filter, hook, d) : null;
      }
      if (st) {
        tail = { step: st, prev: tail };
        work.netfilterSteps++;
      }
      tails?.push(tail);
    }
    prevDecisions = ds;
    const pkt = packetAfter(s.pkt, out.packet);
    let nat = s.nat;
    for (let k = 0; k < out.nat.length; k++) {
      const r = out.nat[k];
      const before = tupleOf(s.pkt);
      const ev: NatEvent = {
        type: r.type,
        netns: n.id,
        chain: r.chain,
        rule: r.ruleText,
        before: r.type === 'DNAT' ? before : { ...before },
        after:
          r.type === 'DNAT'
            ? { ...before, dst: r.after.address, dport: r.after.port ?? before.dport }
            : { ...before, src: r.after.address, sport: r.after.port ?? before.sport },
      };
      nat = [...nat, ev];
      tail = {
        step: {
          kind: 'nat',
          detail: `${r.type} ${hostPort(r.before.address, r.before.port ?? null)} -> ${hostPort(r.after.address, r.after.port ?? null)} (${r.chain})`,
          type: r.type,
          table: r.table,
          chain: r.chain,
          rule: r.ruleText,
          file: r.span.file,
          start: r.span.start,
          end: r.span.end,
          before: ev.before,
          after: ev.after,
        },
        prev: tail,
      };
      const aff = r.remembers;
      if (aff) {
        REMEMBERING.add(ev);
        tail = {
          step: {
            kind: 'affinity',
            detail: affinityText(r.chain, before.src, hostPort(ev.after.dst, ev.after.dport), aff.list, aff.seconds),
            chain: r.chain,
            rule: r.ruleText,
            client: before.src,
            backend: { ip: ev.after.dst, port: ev.after.dport },
            ...aff,
          },
          prev: tail,
        };
      }
    }
    const st = stateWith(s, pkt, s.probability * out.probability, tail, nat);
    if (out.verdict === 'ACCEPT') {
      ends[o] = { state: st, verdict: 'ACCEPT' };
      continue;
    }
    let last: FilterDecision | undefined;
    for (let i = out.decisions.length - 1; i >= 0 && !last; i--) if (out.decisions[i].matched) last = out.decisions[i];
    ends[o] = last ? { state: st, verdict: out.verdict, decision: last } : { state: st, verdict: out.verdict };
  }
  return ends;
}

/**
 * The walk's packet after a hook's outcome: the same object when the hook changed nothing of it (most hooks of a path:
 * only a NAT or a MARK writes), else a copy with what the rules wrote.
 */
function packetAfter(p: Pkt, np: FilterPacket): Pkt {
  const sport = np.sport ?? null;
  const dport = np.dport ?? null;
  if (np.src === p.src && np.dst === p.dst && sport === p.sport && dport === p.dport && np.mark === p.mark) return p;
  return { ...p, src: np.src, dst: np.dst, sport, dport, mark: np.mark };
}

function blocked(e: HookEnd & { verdict: 'DROP' | 'REJECT' }, n: Netns, hook: Hook): Finished[] {
  const netns = n.id;
  const d = e.decision;
  const fw = !!d && n.filter?.chainRole(d.table, d.chain) === 'service-firewall';
  const reason: Reason = fw ? 'source-range' : e.verdict === 'REJECT' ? 'netfilter-reject' : 'netfilter-drop';
  const where = d ? `${d.table} ${d.chain}${d.ruleText ? `: ${d.ruleText}` : ` (${d.action})`}` : hook;
  // The hook of the chain that decided: a netdev ingress or bridge-family chain runs beside the IP hook asked for.
  const at = d?.hook ?? hook;
  return finish(
    e.state,
    netns,
    e.verdict === 'REJECT' ? 'rejected' : 'dropped',
    reason,
    `${e.verdict === 'REJECT' ? 'rejected' : 'dropped'} at ${hookLabel(at, d?.family)} by ${where}`,
    {
      hook: at,
      ...(d?.family ? { family: d.family } : {}),
      ...(d
        ? {
            table: d.table,
            chain: d.chain,
            ...(d.ruleText ? { rule: d.ruleText } : {}),
            ...(d.span ? { file: d.span.file, start: d.span.start, end: d.span.end } : {}),
          }
        : {}),
    },
  );
}

/** Runs a hook and continues every accepted outcome with `then`. */
function hookThen(
  env: WalkEnv,
  s: WalkState,
  n: Netns,
  hook: Hook,
  o: HookOpts,
  then: (s: WalkState) => Finished[],
): Finished[] {
  // Most hooks of a path on an iptables node are the bridge family's, which it has none of: no evaluation, no outcome.
  if (runsNoRules(n, o)) return then(conntrackAt(s, n, hook, o));
  // A loop, not flatMap: most hooks end in one outcome, whose paths are passed on as they are.
  const ends = runHook(env, s, n, hook, o);
  let out: Finished[] | undefined;
  // Indexed loops: a for-of makes an object per step in code not yet optimised (a trace's first-time paths).
  for (let k = 0; k < ends.length; k++) {
    const e = ends[k];
    const paths = e.verdict === 'ACCEPT' ? then(e.state) : blocked(e, n, hook);
    if (!out) out = ends.length === 1 ? paths : paths.slice();
    else for (let j = 0; j < paths.length; j++) out.push(paths[j]);
  }
  return out ?? [];
}

/**
 * A hook where NetworkPolicy may be judged (FORWARD, INPUT, OUTPUT of a node): its chains up to the policy's place
 * (the iptables filter table's first rule, {@link HookPart}), the policy verdicts, then the rest; so a chain the
 * kernel runs earlier (a bridge family's forward chain at priority filter, nat OUTPUT's DNAT) decides first, and the
 * filter table's own rules come after the verdict. Where no policy can be judged, the whole hook at once.
 */
function hookAroundPolicy(
  env: WalkEnv,
  s: WalkState,
  n: Netns,
  hook: 'FORWARD' | 'INPUT' | 'OUTPUT',
  o: HookOpts,
  then: (s: WalkState) => Finished[],
): Finished[] {
  if (!env.policy || n.kind !== 'node' || s.tunnel) return hookThen(env, s, n, hook, o, then);
  return hookThen(env, s, n, hook, { ...o, part: 'before-policy' }, (a) =>
    policyAt(env, a, n, hook, (b) => hookThen(env, b, n, hook, { ...o, part: 'after-policy' }, then)),
  );
}

// ---------------------------------------------------------------- conntrack bookkeeping

function enterNode(s: WalkState, n: Netns): WalkState {
  if (n.kind !== 'node' || s.reply) return s;
  return conntrackWith(s, { netns: n.id, tuple: tupleOf(s.pkt) }, s.ct);
}

function leaveNode(s: WalkState, n: Netns): WalkState {
  if (n.kind !== 'node' || s.reply || !s.entry || s.entry.netns !== n.id) return s;
  const final = tupleOf(s.pkt);
  const ct = sameTuple(s.entry.tuple, final) ? s.ct : [...s.ct, { netns: n.id, orig: s.entry.tuple, final }];
  return conntrackWith(s, undefined, ct);
}

/** `s` with another node entry and conntrack list; field by field, as in stateWith. */
function conntrackWith(s: WalkState, entry: WalkState['entry'], ct: WalkState['ct']): WalkState {
  const next: AllOf<WalkState> = {
    pkt: s.pkt,
    probability: s.probability,
    hops: s.hops,
    tail: s.tail,
    nat: s.nat,
    entry,
    ct,
    egressJudged: s.egressJudged,
    tunnel: s.tunnel,
    reply: s.reply,
  };
  return next;
}

// ---------------------------------------------------------------- NetworkPolicy

function connectionOf(p: Pkt): PolicyConnection {
  const proto = p.proto.toUpperCase();
  return {
    src: p.src,
    dst: p.dst,
    proto: proto === 'TCP' || proto === 'UDP' || proto === 'SCTP' ? proto : 'ICMP',
    port: p.dport,
  };
}

/** The typed step for one direction's verdict (null when that end is no pod: no policy applies). */
function policyStep(v: DirectionVerdict, c: PolicyConnection): PolicyStep | null {
  if (!v.pod || v.exempt === 'not-a-pod' || v.exempt === 'host-network') return null;
  const what = `${v.direction === 'egress' ? 'egress from' : 'ingress to'} ${v.pod}`;
  const to = `${hostPort(v.direction === 'egress' ? c.dst : c.src, v.direction === 'egress' ? c.port : null)}`;
  const policies = v.policies.map((p) => p.id);
  const base = { kind: 'policy' as const, direction: v.direction, pod: v.pod, policies };
  if (v.exempt === 'not-isolated')
    return {
      ...base,
      verdict: 'allowed',
      exempt: 'not-isolated',
      detail: `${what}: no NetworkPolicy selects the pod for ${v.direction}, so it is not isolated`,
    };
  if (v.exempt === 'own-node' || v.exempt === 'same-pod')
    return {
      ...base,
      verdict: 'allowed',
      exempt: v.exempt,
      detail: `${what}: ${v.exempt === 'own-node' ? "traffic with the pod's own node" : 'traffic of the pod with itself'} is always allowed (isolated by ${policies.join(', ')})`,
    };
  const first = v.allowedBy[0];
  if (first)
    return {
      ...base,
      verdict: 'allowed',
      policy: first.policy,
      ruleIndex: first.index,
      file: first.span.file,
      start: first.span.start,
      end: first.span.end,
      detail: `${what} ${v.direction === 'egress' ? 'to' : 'from'} ${to} allowed by ${first.policy} ${v.direction}[${first.index}]`,
    };
  const at = v.policies[0]?.span;
  return {
    ...base,
    verdict: 'denied',
    ...(at ? { file: at.file, start: at.start, end: at.end } : {}),
    detail: `${what} ${v.direction === 'egress' ? 'to' : 'from'} ${to}: denied, no ${v.direction} rule of ${policies.join(', ')} allows it`,
  };
}

/** Adds a policy step; a denial ends the walk with a typed `policy-denied` drop naming the isolating policies. */
function policyThen(
  s: WalkState,
  n: Netns,
  v: DirectionVerdict,
  c: PolicyConnection,
  then: (s: WalkState) => Finished[],
): Finished[] {
  const st = policyStep(v, c);
  if (!st) return then(s);
  const next = step(s, st);
  if (st.verdict === 'allowed') return then(next);
  return finish(
    next,
    n.id,
    'dropped',
    'policy-denied',
    `NetworkPolicy ${st.policies.join(', ')} isolate${st.policies.length === 1 ? 's' : ''} ${st.pod} for ${st.direction} and no rule allows this connection`,
    {
      direction: st.direction,
      policies: st.policies,
      ...(st.file !== undefined ? { file: st.file, start: st.start, end: st.end } : {}),
    },
  );
}

/**
 * Where NetworkPolicy is judged: in the node namespaces, on the netfilter hook the packet takes there, before that
 * hook's own rules, as iptables-based plug-ins enforce it:
 *
 * - `FORWARD` (routed, or bridged with br_netfilter: after PREROUTING, so on the post-DNAT addresses; before
 *   POSTROUTING, so a masquerade on this node is not seen yet): egress of a source pod of this node, then ingress of
 *   a destination pod of this node;
 * - `INPUT` (delivered to the node itself): egress of a source pod of this node;
 * - `OUTPUT` (sent by the node, after its DNAT): ingress of a destination pod of this node.
 *
 * A denial drops the packet there, so the path ends in the hop the hook runs in (a frame bridged between two pods
 * ends on the source pod's port: FORWARD runs in the bridge's forwarding, before the frame reaches the other port).
 * Each pod is judged by its own node only: a pod's egress where it sends, a pod's ingress where it receives.
 */
function policyAt(
  env: WalkEnv,
  s: WalkState,
  n: Netns,
  hook: 'FORWARD' | 'INPUT' | 'OUTPUT',
  then: (s: WalkState) => Finished[],
): Finished[] {
  const policy = env.policy;
  if (!policy || n.kind !== 'node' || s.tunnel) return then(s);
  const c = connectionOf(s.pkt);
  const src = policy.endpoint(c.src);
  const dst = policy.endpoint(c.dst);
  const local = (e: typeof src): boolean => !!e.pod && e.pod.node === n.name;
  const ingress = (a: WalkState): Finished[] => {
    if (hook === 'INPUT' || !dst.pod || !local(dst)) return then(a);
    if (a.reply) return then(replyStep(a, dst.pod, policy));
    return policyThen(a, n, policy.judge('ingress', dst, src, c), c, then);
  };
  if (hook === 'OUTPUT' || s.reply || s.egressJudged || !local(src)) return ingress(s);
  return policyThen({ ...s, egressJudged: true }, n, policy.judge('egress', src, dst, c), c, ingress);
}

/** A reply of an allowed connection reaching its client pod: allowed whatever the policies say (conntrack). */
function replyStep(s: WalkState, pod: Pod, policy: PolicyIndex): WalkState {
  return step(s, {
    kind: 'policy',
    direction: 'ingress',
    verdict: 'allowed',
    pod: pod.id,
    policies: policy.isolating(pod, 'ingress').map((p) => p.id),
    exempt: 'reply',
    detail: `ingress to ${pod.id}: a reply of an allowed connection, allowed whatever the policies say`,
  });
}

// ---------------------------------------------------------------- delivery

function deliver(env: WalkEnv, s0: WalkState, n: Netns, device: string): Finished[] {
  const s = leaveNode(s0, n);
  const p = s.pkt;
  const kind = n.kind;
  if (s.reply) {
    return arrive(
      s,
      `reply delivered to the client socket in ${n.id}`,
      { netns: n.id, device, reply: true, port: p.dport },
      { kind, name: n.name, ip: p.dst, port: p.dport },
    );
  }
  if (p.proto === 'icmp' || kind === 'external') {
    return arrive(
      s,
      `delivered in ${n.id} (${device})`,
      { netns: n.id, device, port: p.dport },
      { kind, name: n.name, ip: p.dst, port: p.dport },
    );
  }
  const proto = p.proto.toUpperCase();
  const l = n.listeners.find((x) => x.port === p.dport && x.protocol === proto);
  if (!l) {
    const listening = n.listeners.map((x) => `${x.container}:${x.port}/${x.protocol}`);
    const known = listening.join(', ') || 'none';
    return finish(
      s,
      n.id,
      'rejected',
      'no-listener',
      `no container listens on ${p.proto} port ${p.dport} in ${n.id} (listening: ${known}); the kernel answers ${p.proto === 'tcp' ? 'with a reset' : 'port unreachable'}`,
      { device, address: p.dst, ...(p.dport !== null ? { port: p.dport } : {}), listening },
    );
  }
  const delivered: Delivered =
    n.kind === 'node'
      ? { kind: 'pod', name: l.pod, container: l.container, ip: p.dst, port: p.dport }
      : { kind: 'pod', name: l.pod, container: l.container, ip: p.dst, port: p.dport };
  return arrive(
    s,
    `delivered to container ${l.container} of pod ${l.pod}, listening on ${p.dport}/${l.protocol}`,
    { netns: n.id, device, pod: l.pod, container: l.container, port: p.dport },
    delivered,
  );
}

// ---------------------------------------------------------------- sending

/** Whether IPv4 packets with a 127/8 address may be routed by `dev` of `n` (net.ipv4.conf.{all,dev}.route_localnet). */
function routesLocalnet(n: Netns, dev: string): boolean {
  return !!n.routeLocalnet || !!deviceNamed(n, dev)?.routeLocalnet;
}

const isLoopback = (a: Address): boolean => (a.family === 4 ? a.value >> 24n === 127n : a.value === 1n);

/** The loopback address that makes a packet a martian: its source, else its destination. */
const martianAddress = (p: Pkt): string => (isLoopback(addr(p.src)) ? p.src : p.dst);

/**
 * A packet received on a device that is not `lo` with a loopback source or destination is a martian: IPv4 drops it
 * in input routing (after PREROUTING) unless the device routes localnet, IPv6 always (RFC 4291, before PREROUTING).
 * Returns why it is dropped, or undefined when it is not a martian.
 */
function martianIn(n: Netns, dev: string, p: Pkt): string | undefined {
  if (deviceNamed(n, dev)?.kind === 'loopback') return undefined;
  const which = isLoopback(addr(p.src)) ? 'source' : isLoopback(addr(p.dst)) ? 'destination' : undefined;
  if (!which) return undefined;
  const at = which === 'source' ? p.src : p.dst;
  if (p.family === 6) return `the loopback ${which} ${at} arrived on ${dev}, not lo: IPv6 drops it (RFC 4291)`;
  if (routesLocalnet(n, dev)) return undefined;
  return `martian ${which} ${at} on ${dev} of ${n.id}: net.ipv4.conf.${dev}.route_localnet is 0, so the kernel drops a 127/8 address arriving on a device other than lo`;
}

/**
 * arp_solicit gives an ARP request the packet's own source as its sender address when that is an address of the
 * namespace, so a packet still carrying 127.0.0.1 (DNATed in OUTPUT and not masqueraded) asks with sender 127.0.0.1.
 * The answerer's arp_process routes the sender back (ip_route_input) and drops the request as a martian unless its
 * device routes localnet: nobody answers (a neighbour entry learnt earlier would let the packet go, to be dropped as a
 * martian by the receiver instead; a trace describes a first connection). Returns why, or undefined.
 */
function loopbackArpRefused(p: Pkt, nextHop: Address, answerer: Netns, device: string): string | undefined {
  if (p.family !== 4 || !isLoopback(addr(p.src)) || routesLocalnet(answerer, device)) return undefined;
  return `ARP for ${fmtAddr(nextHop)} asks with the sender address ${p.src} (the packet's source): ${answerer.id} ${device} drops the request as a martian (route_localnet 0) and never answers`;
}

/** The namespace generates the packet (a socket in it sends). */
export function originate(env: WalkEnv, s0: WalkState, nsId: NetnsId): Finished[] {
  const n = ns(env, nsId);
  const s = enterNode(s0, n);
  const dst = addr(s.pkt.dst);
  // To an address of the namespace: by lo, through POSTROUTING and INPUT.
  const viaLo = (a: WalkState): Finished[] =>
    hookThen(env, a, n, 'POSTROUTING', { outIface: 'lo', outAddress: a.pkt.dst }, (b) =>
      hop(b, n.id, 'lo', 'out', (c) =>
        hop(c, n.id, 'lo', 'in', (d) =>
          hookThen(env, d, n, 'INPUT', { inIface: 'lo' }, (e) => deliver(env, e, n, 'lo')),
        ),
      ),
    );
  const send = (a: WalkState, dev: string, via: string | undefined): Finished[] => {
    const iface = deviceNamed(n, dev);
    const nextHop = addr(via ?? a.pkt.dst);
    return hookThen(
      env,
      a,
      n,
      'POSTROUTING',
      { outIface: dev, outAddress: sourceAddressFor(iface, a.pkt.family, nextHop, n) },
      (b) => transmit(env, leaveNode(b, n), n, dev, nextHop),
    );
  };
  // OUTPUT in the kernel's order around its re-route: raw, mangle and nat run on the route first looked up
  // (`before-reroute`); the nat hook routes again when it changed the destination; then the chains after it,
  // NetworkPolicy's place (ingress of a destination pod of this node, after DNAT) and the filter table. Their `-o`
  // still names the first route's device (`dev`): the hook's state was set when OUTPUT began and the re-route does
  // not change it (checked by the kernel tier: node-to-clusterip-filter-after-reroute); POSTROUTING sees the new one.
  const outputRest = (a: WalkState, dev: string, then: (b: WalkState) => Finished[]): Finished[] =>
    hookThen(env, a, n, 'OUTPUT', { outIface: dev, part: 'reroute-to-policy' }, (b) =>
      policyAt(env, b, n, 'OUTPUT', (c) =>
        hookThen(env, c, n, 'OUTPUT', { outIface: dev, part: 'after-policy' }, then),
      ),
    );
  // The nat table changed the destination (DNAT): the kernel routes again (ip_route_me_harder), keeping the source,
  // before the rest of OUTPUT.
  const reroute = (a: WalkState, firstDev: string): Finished[] => {
    const d2 = addr(a.pkt.dst);
    if (isLocal(n, d2)) return outputRest(a, firstDev, viaLo);
    const r2 = routeTo(n, d2);
    if (!r2 || r2.type === 'blackhole')
      return finish(a, n.id, 'no-route', 'no-route', `no route to ${a.pkt.dst} in ${n.id} (after DNAT)`, {
        address: a.pkt.dst,
      });
    const st2 = step(a, routeStep(n, d2, r2, `${r2.text} (re-routed after DNAT)`, 'after-dnat'));
    // A loopback source may leave by a device other than lo only where route_localnet allows it (__mkroute_output
    // refuses the route, EINVAL, and the hook drops the packet); portmap and kube-proxy's iptables mode set it.
    const out = deviceNamed(n, r2.dev);
    if (a.pkt.family === 4 && isLoopback(addr(a.pkt.src)) && out?.kind !== 'loopback' && !routesLocalnet(n, r2.dev))
      return finish(
        st2,
        n.id,
        'dropped',
        'martian',
        `the source ${a.pkt.src} may not leave by ${r2.dev} after DNAT to ${a.pkt.dst}: net.ipv4.conf.${r2.dev}.route_localnet is 0 (nor set for all), so the kernel refuses the route and the packet is dropped in OUTPUT`,
        { device: r2.dev, address: a.pkt.src },
      );
    return outputRest(st2, firstDev, (b) => send(b, r2.dev, r2.via));
  };
  if (isLocal(n, dst)) {
    const st = step(s, localRouteStep(n, dst, `local ${s.pkt.dst} dev lo table local`, 'lo'));
    return hookThen(env, st, n, 'OUTPUT', { outIface: 'lo', part: 'before-reroute' }, (a) =>
      a.pkt.dst === s.pkt.dst ? outputRest(a, 'lo', viaLo) : reroute(a, 'lo'),
    );
  }
  const r = routeTo(n, dst);
  if (!r)
    return finish(
      step(s, routeStep(n, dst, undefined, `no route to ${s.pkt.dst}`)),
      n.id,
      'no-route',
      'no-route',
      `no route to ${s.pkt.dst} in ${n.id}`,
      { address: s.pkt.dst },
    );
  const st = step(s, routeStep(n, dst, r, r.text));
  // A socket's connect() to a blackhole route fails at once (EINVAL): nothing is sent.
  if (r.type === 'blackhole')
    return finish(st, n.id, 'no-route', 'blackhole', `${s.pkt.dst} matches the blackhole route ${r.text} in ${n.id}`, {
      address: s.pkt.dst,
    });
  // A socket sending with Don't Fragment more than the route's MTU gets EMSGSIZE (a tunnel's outer packets are not
  // DF: the kernel fragments those).
  const tooBig = s.tunnel ? undefined : exceedsMtu(n, r.dev, s.pkt);
  if (tooBig !== undefined) return fragNeeded(st, n, r.dev, tooBig, 'sent');
  // The node's own packet to a pod of this node: the pod's ingress policies judge it in filter OUTPUT (after DNAT).
  return hookThen(env, st, n, 'OUTPUT', { outIface: r.dev, part: 'before-reroute' }, (a) =>
    a.pkt.dst === s.pkt.dst ? outputRest(a, r.dev, (b) => send(b, r.dev, r.via)) : reroute(a, r.dev),
  );
}

/**
 * Who owns an address in the data plane, by the parsed address object (`addr` gives one per text): each endpoint path
 * asks for its backend's owner at the bridge, and the owners map finds a pod's from the address's text. Bounded.
 */
const OWNERS = new WeakMap<DataPlane, Map<Address, ReturnType<DataPlane['owners']['get']> | null>>();
function ownerOfAddress(dp: DataPlane, a: Address): ReturnType<DataPlane['owners']['get']> {
  let m = OWNERS.get(dp);
  if (!m) OWNERS.set(dp, (m = new Map()));
  let o = m.get(a);
  if (o === undefined) {
    if (m.size >= 4096) m.clear();
    m.set(a, (o = dp.owners.get(addressKey(a)) ?? null));
  }
  return o ?? undefined;
}

/** Which bridge port leads to `target` (the pod behind the port owns it), or the bridge itself. */
function bridgeNeighbor(
  env: WalkEnv,
  n: Netns,
  bridge: DpBridge,
  target: Address,
): { kind: 'bridge' } | { kind: 'port'; device: string } | undefined {
  const br = deviceNamed(n, bridge.name);
  if (br?.addresses.some((a) => a.family === target.family && addr(a.address).value === target.value))
    return { kind: 'bridge' };
  const owner = ownerOfAddress(env.dp, target);
  if (!owner) return undefined;
  const device = bridgePortTo(n, bridge, owner.netns);
  return device !== undefined ? { kind: 'port', device } : undefined;
}

function bridgeOf(n: Netns, name: string | undefined): DpBridge | undefined {
  return n.bridges.find((b) => b.name === name);
}

/** Sends the packet out of `dev` towards `nextHop` (after POSTROUTING). */
function transmit(env: WalkEnv, s: WalkState, n: Netns, dev: string, nextHop: Address): Finished[] {
  const iface = deviceNamed(n, dev);
  if (!iface) return finish(s, n.id, 'dropped', 'no-route', `device ${dev} does not exist in ${n.id}`, { device: dev });
  if (iface.kind === 'bridge') {
    const bridge = bridgeOf(n, iface.name);
    if (!bridge)
      return finish(s, n.id, 'dropped', 'no-route', `bridge ${dev} of ${n.id} has no ports to forward to`, {
        device: dev,
      });
    const nb = bridgeNeighbor(env, n, bridge, nextHop);
    if (!nb || nb.kind === 'bridge')
      return hop(s, n.id, dev, 'out', (a) =>
        finish(a, n.id, 'dropped', 'no-neighbor', `no neighbour answers for ${fmtAddr(nextHop)} on bridge ${dev}`, {
          device: dev,
          address: fmtAddr(nextHop),
        }),
      );
    const behind = deviceNamed(n, nb.device)?.peer;
    const refused = behind && loopbackArpRefused(s.pkt, nextHop, ns(env, behind.netns), behind.device);
    if (refused)
      return hop(s, n.id, dev, 'out', (a) =>
        finish(
          step(a, {
            kind: 'neighbor',
            detail: refused,
            address: fmtAddr(nextHop),
            domain: { kind: 'bridge', name: dev },
          }),
          n.id,
          'dropped',
          'no-neighbor',
          `no neighbour answers for ${fmtAddr(nextHop)} on bridge ${dev}: ${refused}`,
          { device: dev, address: fmtAddr(nextHop) },
        ),
      );
    const bs: BridgeStep = {
      kind: 'bridge',
      detail: `bridge ${dev}: ${fmtAddr(nextHop)} is behind port ${nb.device}`,
      bridge: dev,
      outPort: nb.device,
      hairpin: 'not-needed',
      lookup: 'destination',
    };
    // The node's own stack sends by the bridge device (after its IP POSTROUTING): the bridge family's output and
    // postrouting chains see the frame (br_netfilter has nothing of it to give to the IP hooks again).
    const frame = { bridge: dev, outPort: nb.device, only: true };
    return hop(s, n.id, dev, 'out', (a) =>
      hookThen(env, step(a, bs), n, 'OUTPUT', { bridgeFrame: frame }, (b) =>
        hookThen(env, b, n, 'POSTROUTING', { bridgeFrame: frame }, (c) => crossPort(env, c, n, nb.device)),
      ),
    );
  }
  if (iface.kind === 'veth' && !iface.peer)
    return finish(s, n.id, 'dropped', 'no-route', `veth ${dev} of ${n.id} has no peer: the packet goes nowhere`, {
      device: dev,
    });
  if (iface.kind === 'veth' && iface.peer) {
    const peer = iface.peer;
    const pn = ns(env, peer.netns);
    const peerIface = deviceNamed(pn, peer.device);
    const bridge = bridgeOf(pn, peerIface?.master);
    if (bridge) {
      const nb = bridgeNeighbor(env, pn, bridge, nextHop);
      if (!nb)
        return hop(s, n.id, dev, 'out', (a) =>
          finish(
            step(a, {
              kind: 'neighbor',
              detail: `ARP for ${fmtAddr(nextHop)}: no answer on bridge ${bridge.name}`,
              address: fmtAddr(nextHop),
              domain: { kind: 'bridge', name: bridge.name },
            }),
            n.id,
            'dropped',
            'no-neighbor',
            `no neighbour answers for ${fmtAddr(nextHop)}`,
            { device: dev, address: fmtAddr(nextHop) },
          ),
        );
      return hop(s, n.id, dev, 'out', (a) => {
        const b = step(
          step(a, {
            kind: 'neighbor',
            detail: `neighbour ${fmtAddr(nextHop)}: ${nb.kind === 'bridge' ? `bridge ${bridge.name} (gateway)` : `behind port ${nb.device}`}`,
            address: fmtAddr(nextHop),
            domain: { kind: 'bridge', name: bridge.name },
            answer:
              nb.kind === 'bridge'
                ? { netns: pn.id, device: bridge.name, role: 'bridge' }
                : { netns: pn.id, device: nb.device, role: 'bridge-port' },
          }),
          vethStep(n.id, dev, pn.id, peer.device),
        );
        return hop(b, pn.id, peer.device, 'in', (c) =>
          bridgeIngress(env, enterNode(c, pn), pn, bridge, peer.device, nb.kind === 'bridge' ? undefined : nb.device),
        );
      });
    }
    // A point-to-point veth (routed plug-ins): the far end answers ARP/ND for its own addresses, and with proxy_arp
    // for an address its namespace routes out of another device (arp_process: a unicast route, not back out the
    // device asked on, forwarding on).
    const refused = loopbackArpRefused(s.pkt, nextHop, pn, peer.device);
    const answer = refused ? undefined : vethNeighbor(pn, peerIface, nextHop);
    const ask = (a: WalkState): WalkState =>
      step(a, {
        kind: 'neighbor',
        detail: answer
          ? `neighbour ${fmtAddr(nextHop)} on ${dev}: ${answer === 'proxy-arp' ? `${pn.id} ${peer.device} answers by proxy ARP` : `${pn.id} ${peer.device}`}`
          : (refused ??
            `${nextHop.family === 4 ? 'ARP' : 'neighbour solicitation'} for ${fmtAddr(nextHop)} on ${dev}: no answer from ${pn.id} ${peer.device}`),
        address: fmtAddr(nextHop),
        domain: { kind: 'link', name: dev },
        ...(answer ? { answer: { netns: pn.id, device: peer.device, role: answer } } : {}),
      });
    if (!answer)
      return hop(s, n.id, dev, 'out', (a) =>
        finish(ask(a), n.id, 'dropped', 'no-neighbor', `no neighbour answers for ${fmtAddr(nextHop)} on ${dev}`, {
          device: dev,
          address: fmtAddr(nextHop),
        }),
      );
    return hop(s, n.id, dev, 'out', (a) =>
      hop(step(ask(a), vethStep(n.id, dev, pn.id, peer.device)), pn.id, peer.device, 'in', (b) =>
        receive(env, b, pn, peer.device),
      ),
    );
  }
  if (iface.kind === 'loopback')
    return hop(s, n.id, 'lo', 'out', (a) => hop(a, n.id, 'lo', 'in', (b) => receive(env, b, n, 'lo')));
  if (iface.kind === 'vxlan') return hop(s, n.id, dev, 'out', (a) => encapsulate(env, a, n, iface, nextHop));
  if (iface.kind === 'ipip') return hop(s, n.id, dev, 'out', (a) => encapsulateIpip(env, a, n, iface, nextHop));
  // A physical interface on an underlay segment: ARP for the next hop among the segment's members.
  const seg = iface.network ? env.dp.segments.get(iface.network) : undefined;
  if (!seg)
    return hop(s, n.id, dev, 'out', (a) =>
      finish(a, n.id, 'exited', 'left-model', `left by ${dev}, which is on no modelled network`, { device: dev }),
    );
  const announcer = env.dp.announced.get(addressKey(nextHop));
  const member =
    membersHolding(seg, nextHop).find((m) => m.netns !== n.id) ??
    (announcer
      ? seg.members.find((m) => m.netns === announcer && m.addresses.some((x) => x.family === nextHop.family))
      : undefined);
  // No modelled host answers, and the destination is a load-balancer IP of ipMode Proxy: the load balancer (outside
  // the model) holds that address, kube-proxy wrote no rule for it, and the packet goes out to it undisturbed.
  const proxyLb = member ? undefined : env.dp.proxyLoadBalancers.get(addressKey(addr(s.pkt.dst)));
  if (proxyLb) {
    const lbIP = fmtAddr(addr(s.pkt.dst));
    const nodePort = proxyLb.ports.find(
      (p) => p.port === s.pkt.dport && p.protocol.toLowerCase() === s.pkt.proto,
    )?.nodePort;
    return hop(s, n.id, dev, 'out', (a) =>
      finish(
        a,
        n.id,
        'exited',
        'load-balancer',
        `leaves by ${dev} on ${seg.network} for the load balancer of Service ${proxyLb.service}: its IP ${lbIP} has ipMode Proxy, so kube-proxy wrote no rule for it and the load balancer, outside the model, takes the connection`,
        { device: dev, address: lbIP, service: proxyLb.service, ...(nodePort ? { nodePort } : {}) },
      ),
    );
  }
  if (!member) {
    return hop(s, n.id, dev, 'out', (a) =>
      finish(
        step(a, {
          kind: 'neighbor',
          detail: `ARP for ${fmtAddr(nextHop)} on ${seg.network}: no answer`,
          address: fmtAddr(nextHop),
          domain: { kind: 'network', name: seg.network },
        }),
        n.id,
        'dropped',
        'no-neighbor',
        `no neighbour answers for ${fmtAddr(nextHop)} on network ${seg.network}`,
        { device: dev, address: fmtAddr(nextHop) },
      ),
    );
  }
  const mn = ns(env, member.netns);
  return hop(s, n.id, dev, 'out', (a) =>
    hop(
      step(a, {
        kind: 'neighbor',
        detail: `neighbour ${fmtAddr(nextHop)} on ${seg.network}: ${mn.id} ${member.device}`,
        address: fmtAddr(nextHop),
        domain: { kind: 'network', name: seg.network },
        answer: { netns: mn.id, device: member.device, role: 'host' },
      }),
      mn.id,
      member.device,
      'in',
      (b) => receive(env, b, mn, member.device),
    ),
  );
}

/** Who answers for `target` at the far end `peer` of a veth without a bridge: its own address, proxy ARP, or nobody. */
function vethNeighbor(pn: Netns, peer: DpInterface | undefined, target: Address): 'host' | 'proxy-arp' | undefined {
  if (!peer) return undefined;
  if (isLocal(pn, target)) return 'host';
  if (target.family !== 4 || !peer.proxyArp || !pn.forwarding) return undefined;
  const r = routeTo(pn, target);
  return r && r.type !== 'blackhole' && r.dev !== peer.name ? 'proxy-arp' : undefined;
}

/** Addresses as text, once per address object (`addr` gives one per text): every path's steps name them. Weak. */
const FORMATTED = new WeakMap<Address, string>();
function fmtAddr(a: Address): string {
  let text = FORMATTED.get(a);
  if (text === undefined) FORMATTED.set(a, (text = formatAddress(a)));
  return text;
}

/** From a bridge port out to the pod behind it. */
function crossPort(env: WalkEnv, s: WalkState, n: Netns, port: string): Finished[] {
  const peer = deviceNamed(n, port)?.peer;
  if (!peer)
    return finish(s, n.id, 'dropped', 'no-route', `bridge port ${port} of ${n.id} leads to no pod`, { device: port });
  const pn = ns(env, peer.netns);
  return hop(leaveNode(s, n), n.id, port, 'out', (b) =>
    hop(step(b, vethStep(n.id, port, pn.id, peer.device)), pn.id, peer.device, 'in', (c) =>
      receive(env, c, pn, peer.device),
    ),
  );
}

// ---------------------------------------------------------------- receiving

/** A packet arrives on `device` of `n` (its hop is already recorded). */
function receive(env: WalkEnv, s0: WalkState, n: Netns, device: string): Finished[] {
  const s = enterNode(s0, n);
  const dst = addr(s.pkt.dst);
  // IPv6 checks the loopback addresses before PREROUTING (ip6_rcv_core); namespaces without rules route at once.
  const early = s.pkt.family === 6 || n.kind !== 'node' ? martianIn(n, device, s.pkt) : undefined;
  if (early) return finish(s, n.id, 'dropped', 'martian', early, { device, address: martianAddress(s.pkt) });
  if (n.kind !== 'node') {
    if (isLocal(n, dst)) return deliver(env, s, n, device);
    return finish(
      s,
      n.id,
      'dropped',
      'not-forwarding',
      `${n.id} does not forward packets (ip_forward=0) and ${s.pkt.dst} is not its address`,
      { device, address: s.pkt.dst },
    );
  }
  return hookThen(env, s, n, 'PREROUTING', { inIface: device }, (a) => routeInput(env, a, n, device));
}

/** The node's routing decision for a received packet (after PREROUTING). */
function routeInput(env: WalkEnv, s: WalkState, n: Netns, inDev: string): Finished[] {
  const dst = addr(s.pkt.dst);
  // IPv4's martian check is in input routing, after PREROUTING's NAT (a reply un-SNATed to 127.0.0.1 meets it here).
  const martian = s.pkt.family === 4 ? martianIn(n, inDev, s.pkt) : undefined;
  if (martian) return finish(s, n.id, 'dropped', 'martian', martian, { device: inDev, address: martianAddress(s.pkt) });
  if (isLocal(n, dst)) {
    const st = step(s, localRouteStep(n, dst, `local ${s.pkt.dst} table local`));
    return hookAroundPolicy(env, st, n, 'INPUT', { inIface: inDev }, (a) =>
      a.tunnel ? decapsulate(env, a, a.tunnel, n, inDev) : deliver(env, a, n, inDev),
    );
  }
  const r = routeTo(n, dst);
  if (!r)
    return finish(
      step(s, routeStep(n, dst, undefined, `no route to ${s.pkt.dst}`)),
      n.id,
      'no-route',
      'no-route',
      `no route to ${s.pkt.dst} in ${n.id}`,
      { device: inDev, address: s.pkt.dst },
    );
  let st = step(s, routeStep(n, dst, r, r.text));
  // A forwarded packet matching a blackhole route is discarded without an ICMP error.
  if (r.type === 'blackhole')
    return finish(st, n.id, 'dropped', 'blackhole', `${s.pkt.dst} matches the blackhole route ${r.text}: discarded`, {
      device: inDev,
      address: s.pkt.dst,
    });
  // ip_forward: a DF packet bigger than the out device's MTU is dropped (before the TTL is decremented and before
  // FORWARD), and ICMP fragmentation needed goes back to the source.
  const tooBig = exceedsMtu(n, r.dev, st.pkt);
  if (tooBig !== undefined) return fragNeeded(st, n, r.dev, tooBig, 'forwarded');
  if (st.pkt.ttl <= 1)
    return finish(st, n.id, 'dropped', 'ttl-exceeded', `TTL ${st.pkt.ttl} would reach 0: dropped, ICMP time exceeded`, {
      device: inDev,
      ttl: st.pkt.ttl,
    });
  st = step(stateWith(st, { ...st.pkt, ttl: st.pkt.ttl - 1 }, st.probability, st.tail, st.nat), ttlStep(st.pkt.ttl));
  const iface = deviceNamed(n, r.dev);
  const nextHop = addr(r.via ?? st.pkt.dst);
  return hookAroundPolicy(env, st, n, 'FORWARD', { inIface: inDev, outIface: r.dev }, (a) =>
    hookThen(
      env,
      a,
      n,
      'POSTROUTING',
      { outIface: r.dev, outAddress: sourceAddressFor(iface, a.pkt.family, nextHop, n) },
      (b) => transmit(env, leaveNode(b, n), n, r.dev, nextHop),
    ),
  );
}

/**
 * A frame enters bridge `bridge` by `port`. `toPort` is the port its destination MAC is behind, or undefined
 * when it is addressed to the bridge itself (the gateway).
 */
function bridgeIngress(
  env: WalkEnv,
  s: WalkState,
  n: Netns,
  bridge: DpBridge,
  port: string,
  toPort: string | undefined,
): Finished[] {
  const brIface = deviceNamed(n, bridge.name);
  const hairpinOf = (p: string): boolean => bridge.ports.find((x) => x.device === p)?.hairpin ?? false;
  const bridgeOut = (a: WalkState, out: string, lookup: BridgeStep['lookup']): Finished[] => {
    const why =
      lookup === 'destination'
        ? 'frame for a pod on this bridge'
        : `NATed destination ${a.pkt.dst} is behind this bridge`;
    const hairpin: BridgeStep['hairpin'] = out !== port ? 'not-needed' : hairpinOf(port) ? 'on' : 'off';
    const st = step(a, {
      kind: 'bridge',
      detail: `bridge ${bridge.name}: ${why}: out by port ${out}`,
      bridge: bridge.name,
      inPort: port,
      outPort: out,
      hairpin,
      lookup,
    });
    if (hairpin === 'off') {
      return finish(
        st,
        n.id,
        'dropped',
        'hairpin-off',
        `bridge ${bridge.name} would send the frame back out of ${port}, where it came in, and hairpin mode is off on that port`,
        { device: port },
      );
    }
    const frame = { bridge: bridge.name, inPort: port, outPort: out };
    // Without br_netfilter no IP hook sees a bridged frame, only the bridge family's forward and postrouting chains;
    // policy is still judged where br_netfilter's FORWARD would run (between the bridge chains below priority -1 and
    // the rest).
    if (!n.brNetfilter)
      return hookAroundPolicy(env, st, n, 'FORWARD', { bridgeFrame: { ...frame, only: true } }, (b) =>
        hookThen(env, b, n, 'POSTROUTING', { bridgeFrame: { ...frame, only: true } }, (c) => crossPort(env, c, n, out)),
      );
    return hookAroundPolicy(
      env,
      st,
      n,
      'FORWARD',
      { inIface: bridge.name, outIface: bridge.name, bridged: true, bridgeFrame: frame },
      (b) =>
        hookThen(
          env,
          b,
          n,
          'POSTROUTING',
          {
            outIface: bridge.name,
            bridged: true,
            bridgeFrame: frame,
            outAddress: sourceAddressFor(brIface, b.pkt.family, addr(b.pkt.dst)),
          },
          (c) => crossPort(env, c, n, out),
        ),
    );
  };
  // A frame for the bridge itself passes the bridge family's input chains on its way up to the node's stack.
  const upToNode = (a: WalkState, then: (b: WalkState) => Finished[]): Finished[] =>
    hookThen(env, a, n, 'INPUT', { bridgeFrame: { bridge: bridge.name, inPort: port, only: true } }, (b) =>
      hop(b, n.id, bridge.name, 'in', then),
    );
  if (!n.brNetfilter)
    return hookThen(env, s, n, 'PREROUTING', { bridgeFrame: { bridge: bridge.name, inPort: port, only: true } }, (a) =>
      toPort ? bridgeOut(a, toPort, 'destination') : upToNode(a, (b) => receive(env, b, n, bridge.name)),
    );
  const before = s.pkt.dst;
  // The frame arrives on a port: the bridge device's netdev ingress runs only when the bridge passes it up to the
  // node, after the bridge's hooks (`upToBridgeDevice`).
  const pre: HookOpts = {
    inIface: bridge.name,
    ...(toPort ? { bridged: true } : { netdevIngress: 'none' }),
    bridgeFrame: { bridge: bridge.name, inPort: port },
  };
  /** The frame received by the bridge device itself: its netdev ingress chains (br_netfilter ran PREROUTING). */
  const upToBridgeDevice = (a: WalkState, then: (b: WalkState) => Finished[]): Finished[] =>
    hop(a, n.id, bridge.name, 'in', (b) =>
      hookThen(env, b, n, 'PREROUTING', { inIface: bridge.name, netdevIngress: 'only' }, then),
    );
  return hookThen(env, s, n, 'PREROUTING', pre, (a) => {
    if (a.pkt.dst !== before) {
      // br_netfilter: a destination NATed at the bridge is routed again; if it is behind this bridge, it is bridged there.
      const d = addr(a.pkt.dst);
      const r = isLocal(n, d) ? undefined : routeTo(n, d);
      if (r && r.dev === bridge.name) {
        const nb = bridgeNeighbor(env, n, bridge, d);
        if (nb?.kind === 'port') {
          const viaBridge = (b: WalkState): Finished[] =>
            bridgeOut(
              step(b, routeStep(n, d, r, `${r.text} (bridged after DNAT at the bridge)`, 'bridged-after-dnat')),
              nb.device,
              'nat-at-bridge',
            );
          return toPort ? viaBridge(a) : upToBridgeDevice(a, viaBridge);
        }
      }
    }
    if (toPort) return bridgeOut(a, toPort, 'destination');
    return hookThen(env, a, n, 'INPUT', { bridgeFrame: { bridge: bridge.name, inPort: port, only: true } }, (b) =>
      upToBridgeDevice(b, (c) => routeInput(env, c, n, bridge.name)),
    );
  });
}

// ---------------------------------------------------------------- tunnels

/** The MTU of `dev` when a DF packet of the flow's size does not fit it (loopback: 65536; unset: 1500). */
/**
 * The drop of a Don't Fragment packet bigger than the MTU of `dev`, its route's device. `sent`: the namespace's own
 * socket sends it, and the kernel refuses at once (EMSGSIZE, nothing leaves); `forwarded`: ip_forward drops it and
 * sends ICMP fragmentation needed (IPv6: packet too big) back to the source.
 */
function fragNeeded(st: WalkState, n: Netns, dev: string, mtu: number, how: 'sent' | 'forwarded'): Finished[] {
  const fate =
    how === 'sent'
      ? 'the socket gets "message too long" and nothing is sent'
      : `dropped, ICMP ${st.pkt.family === 4 ? 'fragmentation needed' : 'packet too big'} sent to ${st.pkt.src}`;
  return finish(
    st,
    n.id,
    'dropped',
    'frag-needed',
    `${st.pkt.size} bytes with Don't Fragment set do not fit ${dev} (MTU ${mtu}): ${fate}`,
    { device: dev, address: st.pkt.dst, mtu },
  );
}

function exceedsMtu(n: Netns, dev: string, p: Pkt): number | undefined {
  if (p.size === undefined) return undefined;
  const iface = deviceNamed(n, dev);
  const mtu = iface?.mtu ?? (iface?.kind === 'loopback' ? 65536 : 1500);
  return p.size > mtu ? mtu : undefined;
}

/**
 * The VXLAN device `vtep` transmits the packet towards `nextHop` (after POSTROUTING, its `out` hop recorded): the
 * permanent neighbour entry gives the remote VTEP's MAC, the FDB entry for that MAC the remote node's address; the
 * packet is wrapped in outer IP/UDP/VXLAN headers and sent by the node's own stack (routing, OUTPUT, POSTROUTING on
 * the outer packet), as vxlan_xmit does (with `nolearning` and no entry, the kernel drops it).
 */
function encapsulate(env: WalkEnv, s: WalkState, n: Netns, vtep: DpInterface, nextHop: Address): Finished[] {
  const vx = vtep.vxlan;
  const target = fmtAddr(nextHop);
  const domain = { kind: 'device' as const, name: vtep.name };
  const nb = n.tunnels?.neighbor(vtep.name, nextHop);
  if (!vx || !nb)
    return finish(
      step(s, {
        kind: 'neighbor',
        detail: `neighbour ${target} on ${vtep.name}: no permanent entry (the VTEP does not learn), so the packet is dropped`,
        address: target,
        domain,
      }),
      n.id,
      'dropped',
      'no-neighbor',
      `no neighbour entry for ${target} on ${vtep.name}`,
      { device: vtep.name, address: target },
    );
  const fdb = n.tunnels?.fdb(vtep.name, nb.mac);
  const remote = fdb ? ownerOfAddress(env.dp, addr(fdb.dst)) : undefined;
  const st = step(s, {
    kind: 'neighbor',
    detail: `neighbour ${target} on ${vtep.name}: ${nb.mac} (permanent; the VTEP of ${nb.node})`,
    address: target,
    domain,
    mac: nb.mac,
    ...(remote ? { answer: { netns: remote.netns, device: vtep.name, role: 'vtep' as const } } : {}),
  });
  if (!fdb)
    return finish(
      st,
      n.id,
      'dropped',
      'no-neighbor',
      `no forwarding entry for ${nb.mac} on ${vtep.name}: the VTEP does not know where to send it`,
      { device: vtep.name, address: target },
    );
  const inner = st.pkt;
  const local = addr(vx.local);
  const outer: Pkt = {
    family: local.family,
    proto: 'udp',
    src: vx.local,
    sport: null,
    dst: fdb.dst,
    dport: vx.port,
    ttl: 64,
    mark: 0,
    // The outer IPv6 header is 20 bytes longer than the IPv4 one (flannel-v6.1, vxlan-v6.calico).
    ...(inner.size !== undefined ? { size: inner.size + (local.family === 6 ? VXLAN6_OVERHEAD : VXLAN_OVERHEAD) } : {}),
  };
  const wrapped = step(
    { ...st, pkt: outer, tunnel: { inner, protocol: 'vxlan', device: vtep.name, vni: vx.vni, port: vx.port } },
    {
      kind: 'encap',
      detail: `VXLAN encapsulation by ${vtep.name}: ${hostPort(inner.src, inner.sport)} -> ${hostPort(inner.dst, inner.dport)} inside UDP ${vx.local} -> ${hostPort(fdb.dst, vx.port)}, VNI ${vx.vni} (FDB: ${nb.mac} dst ${fdb.dst})`,
      protocol: 'vxlan',
      device: vtep.name,
      outer: { src: vx.local, dst: fdb.dst },
      udpPort: vx.port,
      vni: vx.vni,
      inner: tupleOf(inner),
      remote: { node: fdb.node, mac: nb.mac },
    },
  );
  return originate(env, wrapped, n.id);
}

/**
 * The IPIP fallback device (tunl0, no local or remote address) transmits the packet towards `nextHop` (the route's
 * gateway, a remote node's address): ipip_tunnel_xmit wraps it in an outer IPv4 header (protocol 4) to that address,
 * with the source the node's routing picks for it, and the node's own stack sends it (OUTPUT, POSTROUTING). No
 * neighbour lookup on tunl0 (NOARP).
 */
function encapsulateIpip(env: WalkEnv, s: WalkState, n: Netns, tunl: DpInterface, nextHop: Address): Finished[] {
  const inner = s.pkt;
  const r = routeTo(n, nextHop);
  const out = r ? deviceNamed(n, r.dev) : undefined;
  const src = out ? sourceAddressFor(out, 4, r?.via ? addr(r.via) : nextHop, n) : undefined;
  const dst = fmtAddr(nextHop);
  if (!src || nextHop.family !== 4)
    return finish(s, n.id, 'no-route', 'no-route', `${tunl.name}: no route to the tunnel's far end ${dst}`, {
      device: tunl.name,
      address: dst,
    });
  const remote = ownerOfAddress(env.dp, nextHop);
  const outer: Pkt = {
    family: 4,
    proto: 'ipip',
    src,
    sport: null,
    dst,
    dport: null,
    ttl: 64,
    mark: 0,
    ...(inner.size !== undefined ? { size: inner.size + IPIP_OVERHEAD } : {}),
  };
  const wrapped = step(
    { ...s, pkt: outer, tunnel: { inner, protocol: 'ipip', device: tunl.name } },
    {
      kind: 'encap',
      detail: `IPIP encapsulation by ${tunl.name}: ${hostPort(inner.src, inner.sport)} -> ${hostPort(inner.dst, inner.dport)} inside IP protocol 4 ${src} -> ${dst} (the route's gateway)`,
      protocol: 'ipip',
      device: tunl.name,
      outer: { src, dst },
      inner: tupleOf(inner),
      ...(remote ? { remote: { node: remote.netns.replace(/^node:/, '') } } : {}),
    },
  );
  return originate(env, wrapped, n.id);
}

/**
 * An IPIP packet reached a local address (after INPUT): the namespace's tunl0 (the fallback device takes protocol 4
 * from anyone) removes the outer header and receives the inner packet. Without an IPIP device the kernel answers
 * ICMP protocol unreachable.
 */
function decapsulateIpip(env: WalkEnv, s: WalkState, t: Tunnel, n: Netns, inDev: string): Finished[] {
  const outer = s.pkt;
  const tunl = n.interfaces.find((i) => i.kind === 'ipip');
  if (!tunl)
    return finish(
      s,
      n.id,
      'rejected',
      'no-listener',
      `no IPIP device in ${n.id}: the kernel answers protocol unreachable`,
      {
        device: inDev,
        address: outer.dst,
        listening: [],
      },
    );
  const { tunnel: _t, ...rest } = s;
  return hop({ ...rest, pkt: { ...t.inner, mark: s.pkt.mark } }, n.id, tunl.name, 'in', (a) =>
    receive(
      env,
      step(a, {
        kind: 'decap',
        detail: `IPIP decapsulation by ${tunl.name}: IP protocol 4 ${outer.src} -> ${outer.dst} removed; ${hostPort(t.inner.src, t.inner.sport)} -> ${hostPort(t.inner.dst, t.inner.dport)} received on ${tunl.name}`,
        protocol: 'ipip',
        device: tunl.name,
        outer: { src: outer.src, dst: outer.dst },
        inner: tupleOf(t.inner),
      }),
      n,
      tunl.name,
    ),
  );
}

/**
 * A tunnel packet reached a local UDP port (after INPUT): the VXLAN device listening on that port with the packet's
 * VNI takes the outer headers off and receives the inner packet, which enters the node's stack again by that device.
 * No device on the port: the kernel answers port unreachable; none with the VNI: vxlan_rcv drops it. A VXLAN device
 * listens on a socket of its `local` address's family only (IPv6 ones are v6only), so flannel.1 and flannel-v6.1 share
 * VNI and port: the outer packet's family picks the device.
 */
function decapsulate(env: WalkEnv, s: WalkState, t: Tunnel, n: Netns, inDev: string): Finished[] {
  if (t.protocol === 'ipip') return decapsulateIpip(env, s, t, n, inDev);
  const outer = s.pkt;
  const onPort = n.interfaces.filter(
    (i) => i.kind === 'vxlan' && i.vxlan?.port === outer.dport && parseAddress(i.vxlan.local)?.family === outer.family,
  );
  const vtep = onPort.find((i) => i.vxlan?.vni === t.vni);
  if (!vtep) {
    const what = onPort.length
      ? `no VXLAN device with VNI ${t.vni} on UDP ${outer.dport} (${onPort.map((i) => `${i.name}: VNI ${i.vxlan?.vni}`).join(', ')}): dropped`
      : `no VXLAN device listens on UDP ${outer.dport} in ${n.id}: the kernel answers port unreachable`;
    return finish(s, n.id, onPort.length ? 'dropped' : 'rejected', 'no-listener', what, {
      device: inDev,
      address: outer.dst,
      ...(outer.dport !== null ? { port: outer.dport } : {}),
      listening: n.interfaces.flatMap((i) => (i.vxlan ? [`${i.name}:${i.vxlan.port}/UDP`] : [])),
    });
  }
  const { tunnel: _t, ...rest } = s;
  // The unwrapped packet is the same skb: it carries the mark the outer packet has here, not the sender's.
  const inner: WalkState = { ...rest, pkt: { ...t.inner, mark: s.pkt.mark } };
  return hop(inner, n.id, vtep.name, 'in', (a) =>
    receive(
      env,
      step(a, {
        kind: 'decap',
        detail: `VXLAN decapsulation by ${vtep.name}: UDP ${outer.src} -> ${hostPort(outer.dst, outer.dport)}, VNI ${t.vni} removed; ${hostPort(t.inner.src, t.inner.sport)} -> ${hostPort(t.inner.dst, t.inner.dport)} received on ${vtep.name}`,
        protocol: 'vxlan',
        device: vtep.name,
        outer: { src: outer.src, dst: outer.dst },
        ...(outer.dport !== null ? { udpPort: outer.dport } : {}),
        vni: t.vni,
        inner: tupleOf(t.inner),
      }),
      n,
      vtep.name,
    ),
  );
}

export function emptyState(pkt: Pkt): WalkState {
  return { pkt, probability: 1, hops: undefined, nat: [], ct: [] };
}

/** Enters a packet into a node from outside (a bare address with `--at`): on `device`, or at the bridge as from a pod. */
export function enterAt(env: WalkEnv, s: WalkState, nsId: NetnsId, device: string): Finished[] {
  const n = ns(env, nsId);
  const iface: DpInterface | undefined = deviceNamed(n, device);
  if (iface?.kind === 'bridge') return hop(enterNode(s, n), n.id, device, 'in', (a) => receive(env, a, n, device));
  return hop(s, n.id, device, 'in', (a) => receive(env, a, n, device));
}
