/**
 * Evaluates one netfilter hook for one packet over a parsed ruleset.
 *
 * - Tables are visited in the kernel's priority order for the hook (see {@link HOOK_TABLES}); the nat table is
 *   consulted only for the first packet of a connection (`ctx.conntrack.state === 'NEW'`).
 * - `-m statistic` never uses real randomness: the walk branches, and every outcome carries the product of the
 *   choices on its path, so the outcomes of one call sum to 1 (`ctx.random` can force one side instead).
 *   `--mode nth --every N` is treated like `--mode random --probability 1/N` (over many connections that is the
 *   share it selects).
 * - `-m recent --rcheck/--update/--remove` match only addresses listed in `ctx.recent` (or set earlier on the same
 *   path): by default every client is "not previously seen". `--seconds`/`--reap` are assumed satisfied.
 * - A rule marked unsupported by the parser is reported (`iptables.unsupported-reached`) and treated as not matching.
 * - A rule whose address match is of the other family never matches (iptables and ip6tables hold separate rules).
 * - Walks are bounded: revisiting a chain already on the path is a loop (`iptables.loop`), nesting deeper than
 *   `maxDepth` is `iptables.depth`, more than `maxSteps` rules is `iptables.steps`; each ends that path with DROP.
 * - DNAT/SNAT take the first address and port of a range; MASQUERADE uses `ctx.outIfaceAddress` and keeps the source
 *   port unless `--to-ports` is given (`--random-fully` is accepted; the port it picks is not modelled).
 */
import { hostPort, parseAddress, prefixContainsAddress, parsePrefix, type Address, type Prefix } from '../net/address';
import { NO_SPAN, problem, type Problem } from '../problem';
import { chainsOf, indexedRulesOf, indexKey, INDEX_MIN_RULES, type ChainIndex } from './chains';
import type {
  AddrType,
  Chain,
  ConntrackInfo,
  Decision,
  DecisionEffect,
  EvalContext,
  Hook,
  HookResult,
  Match,
  NatEndpoint,
  NatRecord,
  Outcome,
  Packet,
  Rule,
  Ruleset,
  Table,
  TableName,
  Verdict,
} from './types';
import { followedSides } from '../branches';
import { work } from '../work';
import { lookupTable } from '../lookup';

/** Tables of each hook in the kernel's priority order (raw -300, mangle -150, dst nat -100, filter 0, src nat 100). */
export const HOOK_TABLES: Readonly<Record<Hook, readonly TableName[]>> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'nat'],
  FORWARD: ['mangle', 'filter'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter'],
  POSTROUTING: ['mangle', 'nat'],
};

export const UNSUPPORTED_REACHED = 'iptables.unsupported-reached';
export const LOOP = 'iptables.loop';
export const DEPTH = 'iptables.depth';
export const STEPS = 'iptables.steps';
export const MASQUERADE_NO_ADDRESS = 'iptables.masquerade-no-address';
export const BAD_PACKET = 'iptables.bad-packet';

interface State {
  readonly packet: Packet;
  readonly conntrack: ConntrackInfo;
  readonly probability: number;
  /** Newest first, as a list whose tails the branches of a statistic split share (an array copied per decision was quadratic). */
  readonly decisions: DecisionList;
  readonly nat: readonly NatRecord[];
  readonly recentSet: readonly { readonly name: string; readonly address: string }[];
  readonly problems: readonly Problem[];
  readonly steps: number;
}

type DecisionList = { readonly decision: Decision; readonly prev: DecisionList } | undefined;

function decisionArray(l: DecisionList): Decision[] {
  const out: Decision[] = [];
  for (let at = l; at; at = at.prev) out.push(at.decision);
  return out.reverse();
}

type End =
  | { readonly kind: 'fall' }
  | { readonly kind: 'return' }
  | { readonly kind: 'verdict'; readonly verdict: Verdict; readonly rejectWith?: string; readonly final?: boolean };

interface Branch {
  readonly state: State;
  readonly end: End;
}

interface Env {
  readonly table: Table;
  readonly ctx: EvalContext;
  readonly maxDepth: number;
  readonly maxSteps: number;
  readonly chains: ReadonlyMap<string, Chain>;
  /** Set when the caller wants to answer sibling packets from this evaluation (see {@link evaluateHookForSiblings}). */
  readonly recorder: Recorder | undefined;
}

const FALL: End = { kind: 'fall' };
const RETURN: End = { kind: 'return' };

export { chainsOf } from './chains';

const INDEXES = new WeakMap<Chain, ChainIndex | null>();

/** The index of a long chain from its parsed rules (undefined for a short one). */
export function chainIndex(chain: Chain): ChainIndex | undefined {
  let idx = INDEXES.get(chain);
  if (idx === undefined) {
    idx = null;
    if (chain.rules.length >= INDEX_MIN_RULES) {
      const byDst = new Map<string, number[]>();
      const byPort = new Map<number, number[]>();
      const rest: number[] = [];
      chain.rules.forEach((rule, i) => {
        if (rule.unsupported.length === 0) {
          const d = rule.matches.find(
            (m) => m.kind === 'destination' && !m.negated && m.prefix.length === (m.prefix.family === 4 ? 32 : 128),
          );
          if (d && d.kind === 'destination') {
            const key = indexKey(d.prefix.family, d.prefix.address);
            const l = byDst.get(key);
            if (l) l.push(i);
            else byDst.set(key, [i]);
            return;
          }
          const p = rule.matches.find((m) => m.kind === 'dport' && !m.negated && m.range.from === m.range.to);
          if (p && p.kind === 'dport') {
            const l = byPort.get(p.range.from);
            if (l) l.push(i);
            else byPort.set(p.range.from, [i]);
            return;
          }
        }
        rest.push(i);
      });
      idx = { byDst, byPort, rest };
    }
    INDEXES.set(chain, idx);
  }
  return idx ?? undefined;
}

const NONE: readonly number[] = [];
const NO_RULES: readonly Rule[] = [];

/** Packet addresses parsed once, not once per rule that matches on them (bounded: cleared when large). */
const ADDRESSES = new Map<string, Address | undefined>();
function addressOf(text: string): Address | undefined {
  if (ADDRESSES.has(text)) return ADDRESSES.get(text);
  if (ADDRESSES.size > 4096) ADDRESSES.clear();
  const a = parseAddress(text);
  ADDRESSES.set(text, a);
  return a;
}

/** The first position in sorted `l` whose value is at least `from`. */
function lowerBound(l: readonly number[], from: number): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (l[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rules of an indexed chain that name `dst` as their destination (the same list object for every such address). */
function rulesForDestination(idx: ChainIndex, dst: string): readonly number[] {
  const a = addressOf(dst);
  return a ? (idx.byDst.get(indexKey(a.family, a.value)) ?? NONE) : NONE;
}

/** The rules of an indexed chain, from `from` on, that `packet` can match, in chain order. */
function candidates(idx: ChainIndex, packet: Packet, from: number, recorder: Recorder | undefined): number[] {
  const byDst = rulesForDestination(idx, packet.dst);
  if (recorder && !recorder.asked.has(idx)) {
    recorder.asked.add(idx);
    recorder.questions.push({ kind: 'index', index: idx, answer: byDst });
  }
  const byPort = packet.dport !== undefined ? (idx.byPort.get(packet.dport) ?? NONE) : NONE;
  return mergedFrom(byDst, byPort, idx.rest, from);
}

/**
 * The values of the sorted lists `a`, `b` and `c` from `from` on, in order (an equal value from each list it is in,
 * the earlier list's first). Three positions, not arrays of lists and positions: this runs for every stretch of an
 * indexed chain a packet walks.
 */
export function mergedFrom(a: readonly number[], b: readonly number[], c: readonly number[], from: number): number[] {
  let i = lowerBound(a, from);
  let j = lowerBound(b, from);
  let k = lowerBound(c, from);
  const out: number[] = [];
  // Presence tests, not an infinite sentinel: the positions and the values pushed stay small integers (a double among
  // them would make the candidates an array of doubles, and every rule index read from it one).
  for (;;) {
    const hasA = i < a.length;
    const hasB = j < b.length;
    const hasC = k < c.length;
    if (hasA && (!hasB || a[i] <= b[j]) && (!hasC || a[i] <= c[k])) out.push(a[i++]);
    else if (hasB && (!hasC || b[j] <= c[k])) out.push(b[j++]);
    else if (hasC) out.push(c[k++]);
    else return out;
  }
}

/** Evaluates `hook` for `packet`: a list of outcomes (one per statistic path) with verdict, rewritten packet and trace. */
export function evaluateHook(ruleset: Ruleset, hook: Hook, packet: Packet, ctx: EvalContext): HookResult {
  return evaluate(ruleset, hook, packet, ctx, undefined);
}

/**
 * Sibling packets: the packets of one flow's endpoint paths reach the same hooks of the same nodes alike but for
 * their destination address (the backend kube-proxy chose) and the devices they enter and leave by (each pod has its
 * own veth). A hook's rules rarely tell such packets apart (the destination is in the node's pod range, the device
 * matches `cali+`), so one evaluation can answer them all: while it runs, every question the rules ask of those
 * fields (an address or device match, the destination index of a long chain) is written down with its answer, and a
 * sibling whose answers are the same would take every rule the same way. An evaluation that reads them in any other
 * way (a DNAT, whose record names the destination; a `recent` list; a random choice, which spends the walk's budget of
 * paths) answers no sibling.
 */
export type SiblingQuestion =
  | { readonly kind: 'match'; readonly match: Match; readonly packet: Packet; readonly answer: boolean }
  | { readonly kind: 'index'; readonly index: ChainIndex; readonly answer: readonly number[] };

interface Recorder {
  readonly questions: SiblingQuestion[];
  /**
   * The indexes and the matches on the sibling fields alone asked already: the fields do not change during an
   * evaluation that answers siblings (only a DNAT writes one), so asked again, they answer the same.
   */
  readonly asked: Set<ChainIndex | Match>;
  alike: boolean;
}

function recordMatch(recorder: Recorder, m: Match, packet: Packet, answer: boolean): void {
  // An address type of the source (limited to a device) reads the source, which a rule may have rewritten since: each
  // such question is kept.
  if (m.kind !== 'addrtype' || m.which === 'dst') {
    if (recorder.asked.has(m)) return;
    recorder.asked.add(m);
  }
  recorder.questions.push({ kind: 'match', match: m, packet, answer });
}

/** The fields a sibling packet may differ in (see {@link SiblingQuestion}). */
export type SiblingFields = Pick<Packet, 'dst' | 'inIface' | 'outIface'>;

/**
 * What sibling packets and their contexts have in common, as text (undefined: this evaluation answers no sibling):
 * everything the evaluator reads but the {@link SiblingFields}' values (their presence is in it). The context's
 * address lists are compared by identity ({@link siblingContextAlike}).
 */
export function siblingKey(hook: Hook, packet: Packet, ctx: EvalContext): string | undefined {
  if (ctx.recent?.length) return undefined;
  const c = ctx.conntrack;
  return [
    hook,
    packet.family,
    packet.proto,
    packet.src,
    packet.sport,
    packet.dport,
    packet.mark,
    packet.ctmark,
    packet.bridged,
    packet.inIface === undefined,
    packet.outIface === undefined,
    c.state,
    c.dnat,
    c.snat,
    ctx.outIfaceAddress,
    ctx.random,
    ctx.maxDepth,
    ctx.maxSteps,
    ctx.tables?.join(','),
  ].join('|');
}

/** A hook's last {@link siblingKey}, with the packet's fields and the context it was made from. */
interface LastSiblingKey {
  family: Packet['family'];
  proto: string;
  src: string;
  sport: number | undefined;
  dport: number | undefined;
  mark: number;
  ctmark: number | undefined;
  bridged: boolean | undefined;
  noInIface: boolean;
  noOutIface: boolean;
  ctx: EvalContext;
  key: string | undefined;
}

/**
 * {@link siblingKey}, remembered per hook for the next packet alike: a Service's endpoint paths cross the hooks of a
 * node one after the other with packets that differ only in the {@link SiblingFields}, so each would join the same
 * text again (most of what a hook answered for a sibling cost), and a new text is hashed again at every lookup. The
 * context is compared by identity: its fields are read-only, and the walk gives one per node and address.
 */
export class SiblingKeys {
  private readonly last = new Map<Hook, LastSiblingKey>();

  of(hook: Hook, packet: Packet, ctx: EvalContext): string | undefined {
    const m = this.last.get(hook);
    const noInIface = packet.inIface === undefined;
    const noOutIface = packet.outIface === undefined;
    if (
      m &&
      m.ctx === ctx &&
      m.src === packet.src &&
      m.dport === packet.dport &&
      m.sport === packet.sport &&
      m.mark === packet.mark &&
      m.noInIface === noInIface &&
      m.noOutIface === noOutIface &&
      m.proto === packet.proto &&
      m.family === packet.family &&
      m.ctmark === packet.ctmark &&
      m.bridged === packet.bridged
    )
      return m.key;
    const key = siblingKey(hook, packet, ctx);
    const next: LastSiblingKey = {
      family: packet.family,
      proto: packet.proto,
      src: packet.src,
      sport: packet.sport,
      dport: packet.dport,
      mark: packet.mark,
      ctmark: packet.ctmark,
      bridged: packet.bridged,
      noInIface,
      noOutIface,
      ctx,
      key,
    };
    this.last.set(hook, next);
    return key;
  }
}

/** Whether two contexts with the same {@link siblingKey} give the rules the same addresses to read. */
export function siblingContextAlike(a: EvalContext, b: EvalContext): boolean {
  return (
    a.localAddresses === b.localAddresses &&
    a.interfaceAddresses === b.interfaceAddresses &&
    a.broadcastAddresses === b.broadcastAddresses
  );
}

/**
 * {@link evaluateHook}, with the questions it asked of the {@link SiblingFields} when a sibling packet whose answers
 * are the same ({@link siblingAnswersAlike}) would be evaluated the same way (undefined when none would).
 */
export function evaluateHookForSiblings(
  ruleset: Ruleset,
  hook: Hook,
  packet: Packet,
  ctx: EvalContext,
): { readonly result: HookResult; readonly questions: readonly SiblingQuestion[] | undefined } {
  const recorder: Recorder = { questions: [], asked: new Set(), alike: true };
  const result = evaluate(ruleset, hook, packet, ctx, recorder);
  return { result, questions: recorder.alike && result.problems.length === 0 ? recorder.questions : undefined };
}

/** Whether `sibling` gets the answers recorded (see {@link SiblingQuestion}); `ctx` is the evaluation's. */
export function siblingAnswersAlike(
  questions: readonly SiblingQuestion[],
  sibling: SiblingFields,
  ctx: EvalContext,
): boolean {
  for (let k = 0; k < questions.length; k++) {
    const q = questions[k];
    if (q.kind === 'index') {
      if (rulesForDestination(q.index, sibling.dst) !== q.answer) return false;
      continue;
    }
    const m = q.match;
    // Read on the sibling's fields, and for an address type of the source, the source as the question saw it.
    const answer =
      m.kind === 'destination'
        ? addressMatch(m.prefix, m.negated, sibling.dst)
        : m.kind === 'inInterface'
          ? ifaceMatches(m.name, sibling.inIface)
          : m.kind === 'outInterface'
            ? ifaceMatches(m.name, sibling.outIface)
            : m.kind === 'addrtype'
              ? addrTypeMatch(ctx, m, m.which === 'src' ? q.packet.src : sibling.dst, sibling.inIface, sibling.outIface)
              : matchOne(ctx, m, siblingPacket(q.packet, sibling), ctx.conntrack, NO_RECENT);
    if (answer !== q.answer) return false;
  }
  return true;
}

/**
 * `packet` (as a question saw it) with a sibling's fields, for that question alone. Its device fields are present
 * exactly when the sibling's are (that is in the {@link siblingKey}), so a spread that may set them undefined reads the same.
 */
function siblingPacket(packet: Packet, sibling: SiblingFields): Packet {
  return { ...packet, dst: sibling.dst, inIface: sibling.inIface, outIface: sibling.outIface };
}

const NO_RECENT: State['recentSet'] = [];

/** Whether match `m` reads a {@link SiblingFields} field (and nothing else a sibling may not share). */
function readsSiblingFields(m: Match): boolean {
  switch (m.kind) {
    case 'destination':
    case 'inInterface':
    case 'outInterface':
      return true;
    case 'addrtype':
      return m.which === 'dst' || m.limitIface !== undefined;
    default:
      return false;
  }
}

function evaluate(
  ruleset: Ruleset,
  hook: Hook,
  packet: Packet,
  ctx: EvalContext,
  recorder: Recorder | undefined,
): HookResult {
  let state: State = {
    packet: { ...packet, mark: packet.mark >>> 0 },
    conntrack: ctx.conntrack,
    probability: 1,
    decisions: undefined,
    nat: [],
    recentSet: [],
    problems: [],
    steps: 0,
  };
  // Through the memo the rules' matches read them with: the walk evaluates several hooks per packet.
  const src = addressOf(packet.src);
  const dst = addressOf(packet.dst);
  work.hookEvaluations++;
  if (!src || !dst || src.family !== packet.family || dst.family !== packet.family) {
    // The problem's message names the destination: no sibling shares it.
    if (recorder) recorder.alike = false;
    const p = problem(
      BAD_PACKET,
      'error',
      `The packet's addresses (${packet.src} -> ${packet.dst}) are not IPv${packet.family} addresses.`,
      NO_SPAN,
    );
    state = { ...state, problems: [p] };
    return { hook, outcomes: [toOutcome(state, { kind: 'verdict', verdict: 'DROP' })], problems: [p] };
  }

  let live: State[] = [state];
  const done: Outcome[] = [];
  for (const tableName of HOOK_TABLES[hook]) {
    if (ctx.tables && !ctx.tables.includes(tableName)) continue;
    const table = ruleset.tables[tableName];
    if (!table) continue;
    const chains = chainsOf(table);
    const chain = chains.get(hook);
    if (!chain) continue;
    const env: Env = {
      table,
      ctx,
      maxDepth: ctx.maxDepth ?? 64,
      maxSteps: ctx.maxSteps ?? 100000,
      chains,
      recorder,
    };
    const next: State[] = [];
    for (const s of live) {
      if (tableName === 'nat' && s.conntrack.state !== 'NEW') {
        next.push(
          decide(s, {
            table: tableName,
            chain: hook,
            ruleIndex: -1,
            matched: false,
            action: `nat skipped: not the first packet of a connection (${s.conntrack.state})`,
            effect: 'skipped',
          }),
        );
        continue;
      }
      for (const b of runFrom(env, chain, 0, s, [hook])) {
        if (b.end.kind === 'verdict') {
          if (b.end.verdict === 'ACCEPT' && !b.end.final) next.push(b.state);
          else done.push(toOutcome(b.state, b.end));
        } else {
          const policy = chain.policy ?? 'ACCEPT';
          const st = decide(b.state, {
            table: tableName,
            chain: hook,
            ruleIndex: -1,
            span: chain.span,
            matched: true,
            action: `policy ${policy}`,
            effect: policy === 'ACCEPT' ? 'ACCEPT' : 'DROP',
          });
          if (policy === 'ACCEPT') next.push(st);
          else done.push(toOutcome(st, { kind: 'verdict', verdict: 'DROP' }));
        }
      }
    }
    live = next;
  }
  for (const s of live) done.push(toOutcome(s, { kind: 'verdict', verdict: 'ACCEPT' }));

  const problems: Problem[] = [];
  // Most evaluations meet no problem: no set of keys to make then.
  if (done.some((o) => o.problems.length > 0)) {
    const seen = new Set<string>();
    for (const o of done) {
      for (const p of o.problems) {
        const key = `${p.code}|${p.span.file}|${p.span.start}|${p.span.end}|${p.message}`;
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(p);
        }
      }
    }
  }
  return { hook, outcomes: done, problems };
}

function toOutcome(s: State, end: End): Outcome {
  const verdict = end.kind === 'verdict' ? end.verdict : 'ACCEPT';
  const decisions = decisionArray(s.decisions);
  // Two literals, not a conditional spread in the middle of one (which copied into the object being built, field by
  // field): every outcome of every evaluation is made here, a Service's DNAT hook one per endpoint.
  if (end.kind === 'verdict' && end.rejectWith !== undefined)
    return {
      probability: s.probability,
      verdict,
      rejectWith: end.rejectWith,
      packet: s.packet,
      conntrack: s.conntrack,
      nat: s.nat,
      decisions,
      recentSet: s.recentSet,
      problems: s.problems,
    };
  return {
    probability: s.probability,
    verdict,
    packet: s.packet,
    conntrack: s.conntrack,
    nat: s.nat,
    decisions,
    recentSet: s.recentSet,
    problems: s.problems,
  };
}

function decide(s: State, d: Decision): State {
  return stateWith(s, { decision: d, prev: s.decisions }, s.probability, s.steps);
}

/**
 * `s` with its decisions, probability and count of rules looked at replaced. Field by field, not a spread: this runs
 * for every matching rule of every path, and a literal of one shape is cheaper than copying the state's properties (a
 * State has exactly these; evaluateHook makes the first).
 */
function stateWith(s: State, decisions: DecisionList, probability: number, steps: number): State {
  return {
    packet: s.packet,
    conntrack: s.conntrack,
    probability,
    decisions,
    nat: s.nat,
    recentSet: s.recentSet,
    problems: s.problems,
    steps,
  };
}

function withProblem(s: State, p: Problem): State {
  return { ...s, problems: [...s.problems, p] };
}

/**
 * The decisions each rule gave lately, newest first. A rule decides the same few ways on the packets that reach it (a
 * statistic rule: chosen on one endpoint path, not chosen on the next; the next trace through the node alike), so a
 * decision is one object per way, not one per packet: the trace places it and makes its step once. Weak: a ruleset's
 * rules and their decisions go together. (Decision objects are therefore shared between the outcomes of one
 * evaluation: a decision's identity says nothing of the decisions before it.)
 */
const DECISIONS_OF = new WeakMap<Rule, Decision[]>();
/** How many ways of one rule are kept (a rule decides at most a few ways: more are made again, not kept). */
const DECISIONS_PER_RULE = 4;

function ruleDecision(
  env: Env,
  chain: Chain,
  index: number,
  rule: Rule,
  matched: boolean,
  action: string,
  effect: DecisionEffect,
  probability?: number,
  target?: string,
): Decision {
  const kept = DECISIONS_OF.get(rule);
  if (!kept) {
    // The first way a rule decides, in a list of its size: most rules of a Service decide one way, and an empty list
    // grown by one element would be given room for many (kept for as long as the ruleset).
    const d = decisionOf(env.table.name, chain.name, index, rule, matched, action, effect, probability, target);
    DECISIONS_OF.set(rule, [d]);
    return d;
  }
  for (let k = 0; k < kept.length; k++) {
    const d = kept[k];
    if (
      d.action === action &&
      d.effect === effect &&
      d.matched === matched &&
      d.ruleIndex === index &&
      d.chain === chain.name &&
      d.table === env.table.name &&
      d.probability === probability &&
      d.target === target
    )
      return d;
  }
  const d = decisionOf(env.table.name, chain.name, index, rule, matched, action, effect, probability, target);
  if (kept.length >= DECISIONS_PER_RULE) kept.pop();
  kept.unshift(d);
  return d;
}

/**
 * A rule's decision, its optional fields present only when set. One literal per combination, not conditional spreads:
 * a trace to a Service no trace entered before makes a decision for each rule of its chains, and each spread made an
 * object to copy from (most of what a decision cost).
 */
export function decisionOf(
  table: TableName,
  chain: string,
  ruleIndex: number,
  rule: Pick<Rule, 'text' | 'span'>,
  matched: boolean,
  action: string,
  effect: DecisionEffect,
  probability: number | undefined,
  target: string | undefined,
): Decision {
  const ruleText = rule.text;
  const span = rule.span;
  if (probability !== undefined)
    return target !== undefined
      ? { table, chain, ruleIndex, ruleText, span, matched, action, effect, probability, target }
      : { table, chain, ruleIndex, ruleText, span, matched, action, effect, probability };
  return target !== undefined
    ? { table, chain, ruleIndex, ruleText, span, matched, action, effect, target }
    : { table, chain, ruleIndex, ruleText, span, matched, action, effect };
}

function natOfOtherFamily(t: Rule['target'], family: number): boolean {
  if (t.kind !== 'dnat' && t.kind !== 'snat') return false;
  // Through the memo: a DNAT rule is looked at on every path that reaches its chain.
  const a = t.to.address ? addressOf(t.to.address) : undefined;
  return !!a && a.family !== family;
}

/** Runs `chain` from rule `index`; each branch ends by falling off the chain, RETURN, or a verdict. */
function runFrom(env: Env, chain: Chain, index: number, start: State, stack: readonly string[]): Branch[] {
  const out: Branch[] = [];
  // The sides of statistic choices still to walk, the latest on top (the order recursion would take): a worklist,
  // so a chain of thousands of choices (KUBE-SVC-… of a Service with thousands of endpoints) cannot exhaust the stack.
  const pending: Pending[] = [{ index, state: start }];
  for (let next = pending.pop(); next; next = pending.pop())
    runStretch(env, chain, next.index, next.state, stack, out, pending);
  return out;
}

interface Pending {
  readonly index: number;
  readonly state: State;
}

/** Runs `chain` from rule `index` up to its end or its first statistic choice, whose sides go on `pending`. */
function runStretch(
  env: Env,
  chain: Chain,
  index: number,
  start: State,
  stack: readonly string[],
  out: Branch[],
  pending: Pending[],
): void {
  let state = start;
  // A chain indexed before it was parsed (KUBE-SERVICES): only the rules a packet can match are parsed, one by one.
  const indexed = indexedRulesOf(chain);
  const rules: readonly Rule[] = indexed ? NO_RULES : chain.rules;
  const idx = indexed ? indexed.index : chainIndex(chain);
  // With an index: the candidate rules for the packet's destination and port, recomputed if a rule changes them.
  let cand: readonly number[] = NONE;
  let k = 0;
  let dst = '';
  let dport: number | undefined;
  let prev = index - 1;
  let steps = start.steps;
  for (;;) {
    let i: number;
    if (idx) {
      if (k === 0 || state.packet.dst !== dst || state.packet.dport !== dport) {
        dst = state.packet.dst;
        dport = state.packet.dport;
        cand = candidates(idx, state.packet, prev + 1, env.recorder);
        k = 0;
      }
      if (k >= cand.length) break;
      i = cand[k++];
    } else {
      i = prev + 1;
      if (i >= rules.length) break;
    }
    prev = i;
    const rule = indexed ? indexed.ruleAt(i) : rules[i];
    work.rulesEvaluated++;
    // Counted here, written into the state only when the state moves on (most rules do not match).
    steps++;
    if (steps > env.maxSteps) {
      state = { ...state, steps };
      const p = problem(STEPS, 'error', `Evaluation stopped after ${env.maxSteps} rules.`, rule.span);
      out.push({
        state: withProblem(
          decide(state, ruleDecision(env, chain, i, rule, false, 'aborted: too many rules', 'error')),
          p,
        ),
        end: { kind: 'verdict', verdict: 'DROP', final: true },
      });
      return;
    }
    if (rule.unsupported.length > 0) {
      if (state.steps !== steps) state = stateWith(state, state.decisions, state.probability, steps);
      const p = problem(
        UNSUPPORTED_REACHED,
        'warning',
        `Reached a rule that cannot be evaluated (${rule.unsupported.join(' ')}); treated as not matching.`,
        rule.span,
      );
      state = withProblem(
        decide(state, ruleDecision(env, chain, i, rule, false, 'unsupported: treated as not matching', 'unsupported')),
        p,
      );
      continue;
    }
    // A DNAT/SNAT to an address of the other family belongs to the other tool's ruleset: it never matches.
    if (natOfOtherFamily(rule.target, state.packet.family)) continue;
    const m = evaluateMatches(env, rule, state);
    if (m.kind === 'no') continue;
    if (state.steps !== steps) state = stateWith(state, state.decisions, state.probability, steps);
    if (m.kind === 'yes') {
      const r = applyTarget(env, chain, i, rule, recordRecent(rule, state), stack, undefined);
      if (r.kind === 'continue') {
        state = r.state;
        continue;
      }
      out.push(...r.branches);
      return;
    }
    // A statistic choice: both sides, weighted (only the likelier one once the walk's budget of paths is spent).
    // It spends the budget: a sibling answered from this evaluation would not.
    if (env.recorder) env.recorder.alike = false;
    const pYes = m.probability;
    // One state with the new probability and the decision (decide's, without a state in between).
    const no = stateWith(
      state,
      {
        decision: ruleDecision(env, chain, i, rule, false, 'statistic not chosen', 'not-chosen', 1 - pYes),
        prev: state.decisions,
      },
      state.probability * (1 - pYes),
      state.steps,
    );
    const sides = followedSides(env.ctx.branches, [pYes, 1 - pYes]);
    if (sides.length === 1 && sides[0] === 1) {
      state = no;
      continue;
    }
    const yes = recordRecent(rule, stateWith(state, state.decisions, state.probability * pYes, state.steps));
    const r = applyTarget(env, chain, i, rule, yes, stack, pYes);
    if (sides.length > 1) pending.push({ index: i + 1, state: no });
    if (r.kind === 'continue') pending.push({ index: i + 1, state: r.state });
    else out.push(...r.branches);
    return;
  }
  if (state.steps !== steps) state = stateWith(state, state.decisions, state.probability, steps);
  out.push({ state, end: FALL });
}

/** Side effects of `-m recent --set/--remove` once the rule matched. */
function recordRecent(rule: Rule, state: State): State {
  let recentSet = state.recentSet;
  const matches = rule.matches;
  for (let k = 0; k < matches.length; k++) {
    const m = matches[k];
    if (m.kind !== 'recent' || m.negated) continue;
    const address = m.side === 'rsource' ? state.packet.src : state.packet.dst;
    if (m.command === 'set' || m.command === 'update') {
      if (!recentSet.some((e) => e.name === m.name && e.address === address))
        recentSet = [...recentSet, { name: m.name, address }];
    } else if (m.command === 'remove') {
      recentSet = recentSet.filter((e) => !(e.name === m.name && e.address === address));
    }
  }
  return recentSet === state.recentSet ? state : { ...state, recentSet };
}

type TargetResult =
  { readonly kind: 'continue'; readonly state: State } | { readonly kind: 'branches'; readonly branches: Branch[] };

/** Where a target applies: the rule, its place in its chain, and the probability its side of a statistic had. */
interface TargetSite {
  readonly env: Env;
  readonly chain: Chain;
  readonly index: number;
  readonly rule: Rule;
  readonly probability: number | undefined;
}

/** `s` with the decision of the rule at `at`, whose target applied. */
function decideAt(s: State, at: TargetSite, action: string, effect: DecisionEffect, target?: string): State {
  return decide(s, ruleDecision(at.env, at.chain, at.index, at.rule, true, action, effect, at.probability, target));
}

/** A target's one way on: `state` ending with `end`. */
function ended(state: State, end: End): TargetResult {
  return { kind: 'branches', branches: [{ state, end }] };
}

function applyTarget(
  env: Env,
  chain: Chain,
  index: number,
  rule: Rule,
  state0: State,
  stack: readonly string[],
  probability: number | undefined,
): TargetResult {
  const t = rule.target;
  // A plain object, not a closure: this runs for every matching rule of every hook of every path, and a closure made
  // per call (wrapped to keep its name under tsx/esbuild's keepNames) cost more than the rest of the function.
  const at: TargetSite = { env, chain, index, rule, probability };
  const s = state0;
  switch (t.kind) {
    case 'none':
      return {
        kind: 'continue',
        state: decideAt(s, at, 'no target (counters only)', 'none'),
      };
    case 'accept':
      return ended(decideAt(s, at, 'ACCEPT', 'ACCEPT'), {
        kind: 'verdict',
        verdict: 'ACCEPT',
      });
    case 'drop':
      return ended(decideAt(s, at, 'DROP', 'DROP'), {
        kind: 'verdict',
        verdict: 'DROP',
      });
    case 'reject':
      return ended(decideAt(s, at, t.rejectWith ? `REJECT --reject-with ${t.rejectWith}` : 'REJECT', 'REJECT'), {
        kind: 'verdict',
        verdict: 'REJECT',
        ...(t.rejectWith ? { rejectWith: t.rejectWith } : {}),
      });
    case 'return':
      return ended(decideAt(s, at, 'RETURN', 'RETURN'), RETURN);
    case 'log':
      return {
        kind: 'continue',
        state: decideAt(s, at, `LOG${t.prefix ? ` "${t.prefix}"` : ''} (no effect on the packet)`, 'LOG'),
      };
    case 'notrack':
      return {
        kind: 'continue',
        state: decideAt(
          { ...s, conntrack: { ...s.conntrack, state: 'UNTRACKED' } },
          at,
          'NOTRACK (connection untracked)',
          'NOTRACK',
        ),
      };
    case 'mark': {
      const mark = ((s.packet.mark & ~t.mask) ^ t.xor) >>> 0;
      return {
        kind: 'continue',
        state: decideAt({ ...s, packet: { ...s.packet, mark } }, at, `MARK ${t.text} -> ${hex(mark)}`, 'MARK'),
      };
    }
    case 'connmark': {
      const ctmark = s.packet.ctmark ?? 0;
      if (t.op === 'save')
        return {
          kind: 'continue',
          state: decideAt(
            { ...s, packet: { ...s.packet, ctmark: s.packet.mark } },
            at,
            'CONNMARK --save-mark',
            'CONNMARK',
          ),
        };
      if (t.op === 'restore')
        return {
          kind: 'continue',
          state: decideAt({ ...s, packet: { ...s.packet, mark: ctmark } }, at, 'CONNMARK --restore-mark', 'CONNMARK'),
        };
      if (t.op !== 'set') return { kind: 'continue', state: s };
      const next = ((ctmark & ~t.mask) ^ t.xor) >>> 0;
      return {
        kind: 'continue',
        state: decideAt(
          { ...s, packet: { ...s.packet, ctmark: next } },
          at,
          `CONNMARK ${t.text} -> ${hex(next)}`,
          'CONNMARK',
        ),
      };
    }
    case 'dnat':
    case 'snat': {
      const isD = t.kind === 'dnat';
      // The record names the destination it translated: no sibling shares it.
      if (isD && env.recorder) env.recorder.alike = false;
      const before: NatEndpoint = endpoint(isD ? s.packet.dst : s.packet.src, isD ? s.packet.dport : s.packet.sport);
      const after: NatEndpoint = endpoint(t.to.address ?? before.address, t.to.port ?? before.port);
      const packet: Packet = isD
        ? { ...s.packet, dst: after.address, ...(after.port !== undefined ? { dport: after.port } : {}) }
        : { ...s.packet, src: after.address, ...(after.port !== undefined ? { sport: after.port } : {}) };
      const rec: NatRecord = {
        type: isD ? 'DNAT' : 'SNAT',
        table: env.table.name,
        chain: chain.name,
        ruleText: rule.text,
        span: rule.span,
        before,
        after,
      };
      const st = decideAt(
        {
          ...s,
          packet,
          nat: [...s.nat, rec],
          conntrack: { ...s.conntrack, ...(isD ? { dnat: true } : { snat: true }) },
        },
        at,
        `${rec.type} ${fmt(before)} -> ${fmt(after)}`,
        rec.type,
      );
      return ended(st, { kind: 'verdict', verdict: 'ACCEPT' });
    }
    case 'masquerade': {
      const addr = env.ctx.outIfaceAddress;
      if (!addr) {
        const p = problem(
          MASQUERADE_NO_ADDRESS,
          'warning',
          'MASQUERADE reached but the outgoing interface has no address; the kernel drops the packet.',
          rule.span,
        );
        return ended(withProblem(decideAt(s, at, 'MASQUERADE without an address: dropped', 'error'), p), {
          kind: 'verdict',
          verdict: 'DROP',
          final: true,
        });
      }
      const before = endpoint(s.packet.src, s.packet.sport);
      const after = endpoint(addr, t.toPort ?? before.port);
      const rec: NatRecord = {
        type: 'MASQUERADE',
        table: env.table.name,
        chain: chain.name,
        ruleText: rule.text,
        span: rule.span,
        before,
        after,
      };
      const packet: Packet = {
        ...s.packet,
        src: after.address,
        ...(after.port !== undefined ? { sport: after.port } : {}),
      };
      return ended(
        decideAt(
          { ...s, packet, nat: [...s.nat, rec], conntrack: { ...s.conntrack, snat: true } },
          at,
          `MASQUERADE ${fmt(before)} -> ${fmt(after)}`,
          'MASQUERADE',
        ),
        {
          kind: 'verdict',
          verdict: 'ACCEPT',
        },
      );
    }
    case 'jump':
    case 'goto': {
      const target = env.chains.get(t.chain);
      const label = `${t.kind} ${t.chain}`;
      if (!target) {
        const p = problem(
          UNSUPPORTED_REACHED,
          'warning',
          `Chain '${t.chain}' does not exist; rule treated as not matching.`,
          rule.span,
        );
        return {
          kind: 'continue',
          state: withProblem(decideAt(s, at, `${label}: no such chain`, 'error', t.chain), p),
        };
      }
      if (stack.includes(t.chain)) {
        const p = problem(
          LOOP,
          'error',
          `Loop: chain '${t.chain}' is reached again through ${[...stack, t.chain].join(' -> ')}.`,
          rule.span,
        );
        return ended(withProblem(decideAt(s, at, `${label}: loop, stopped`, 'error', t.chain), p), {
          kind: 'verdict',
          verdict: 'DROP',
          final: true,
        });
      }
      if (stack.length >= env.maxDepth) {
        const p = problem(DEPTH, 'error', `Jumps nested deeper than ${env.maxDepth} chains.`, rule.span);
        return ended(withProblem(decideAt(s, at, `${label}: too deep, stopped`, 'error', t.chain), p), {
          kind: 'verdict',
          verdict: 'DROP',
          final: true,
        });
      }
      const sub = runFrom(env, target, 0, decideAt(s, at, label, t.kind, t.chain), [...stack, t.chain]);
      const branches: Branch[] = [];
      for (let k = 0; k < sub.length; k++) {
        const b = sub[k];
        if (b.end.kind === 'verdict') branches.push(b);
        else if (t.kind === 'goto') branches.push({ state: b.state, end: RETURN });
        else branches.push(...runFrom(env, chain, index + 1, b.state, stack));
      }
      return { kind: 'branches', branches };
    }
  }
}

function endpoint(address: string, port: number | undefined): NatEndpoint {
  return port === undefined ? { address } : { address, port };
}

function fmt(e: NatEndpoint): string {
  return hostPort(e.address, e.port);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

type MatchResult =
  { readonly kind: 'yes' } | { readonly kind: 'no' } | { readonly kind: 'maybe'; readonly probability: number };
const MATCHED: MatchResult = { kind: 'yes' };
const NOT_MATCHED: MatchResult = { kind: 'no' };

/** All deterministic matches first (any failure means no match); then the statistic ones give a probability. */
function evaluateMatches(env: Env, rule: Rule, state: State): MatchResult {
  let probability = 1;
  const recorder = env.recorder;
  // Indexed loops and the two plain answers made once: this runs for every rule a packet reaches, much of it in code
  // a trace runs too seldom to be optimised, where a for-of loop makes an object per step.
  const matches = rule.matches;
  for (let k = 0; k < matches.length; k++) {
    const m = matches[k];
    if (m.kind === 'statistic') continue;
    const yes = matchOne(env.ctx, m, state.packet, state.conntrack, state.recentSet);
    if (recorder) {
      // A recent list is read and written with the packet's addresses: no sibling shares them.
      if (m.kind === 'recent') recorder.alike = false;
      else if (readsSiblingFields(m)) recordMatch(recorder, m, state.packet, yes);
    }
    if (yes === m.negated) return NOT_MATCHED;
  }
  for (let k = 0; k < matches.length; k++) {
    const m = matches[k];
    if (m.kind !== 'statistic') continue;
    const p = m.mode === 'random' ? m.probability : 1 / m.every;
    probability *= m.negated ? 1 - p : p;
  }
  const policy = env.ctx.random ?? 'branch';
  if (probability >= 1) return MATCHED;
  if (probability <= 0) return NOT_MATCHED;
  if (policy === 'match') return MATCHED;
  if (policy === 'nomatch') return NOT_MATCHED;
  return { kind: 'maybe', probability };
}

const PROTO_ALIASES: Readonly<Record<string, string>> = lookupTable({
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'icmpv6',
  '132': 'sctp',
  'ipv6-icmp': 'icmpv6',
});

function normProto(p: string): string {
  const l = p.toLowerCase();
  return PROTO_ALIASES[l] ?? l;
}

function ifaceMatches(pattern: string, name: string | undefined): boolean {
  const n = name ?? '';
  return pattern.endsWith('+') ? n.startsWith(pattern.slice(0, -1)) : n === pattern;
}

/** The un-negated truth of one match. */
function matchOne(
  ctx: EvalContext,
  m: Match,
  p: Packet,
  conntrack: ConntrackInfo,
  recentSet: State['recentSet'],
): boolean {
  switch (m.kind) {
    case 'source':
    case 'destination':
      return addressMatch(m.prefix, m.negated, m.kind === 'source' ? p.src : p.dst);
    case 'protocol':
      return m.protocol === 'all' || normProto(m.protocol) === normProto(p.proto);
    case 'inInterface':
      return ifaceMatches(m.name, p.inIface);
    case 'outInterface':
      return ifaceMatches(m.name, p.outIface);
    case 'sport':
    case 'dport': {
      const port = m.kind === 'sport' ? p.sport : p.dport;
      return port !== undefined && port >= m.range.from && port <= m.range.to;
    }
    case 'multiport': {
      const ports = m.which === 'sports' ? [p.sport] : m.which === 'dports' ? [p.dport] : [p.sport, p.dport];
      return ports.some((port) => port !== undefined && m.ranges.some((r) => port >= r.from && port <= r.to));
    }
    case 'comment':
    case 'nfacct':
      return true;
    case 'mark':
      return (p.mark & m.mask) >>> 0 === m.value >>> 0;
    case 'connmark':
      return ((p.ctmark ?? 0) & m.mask) >>> 0 === m.value >>> 0;
    case 'addrtype':
      return addrTypeMatch(ctx, m, m.which === 'src' ? p.src : p.dst, p.inIface, p.outIface);
    case 'ctstate': {
      const ct = conntrack;
      return m.states.some((st) =>
        st === 'DNAT' ? ct.dnat === true : st === 'SNAT' ? ct.snat === true : st === ct.state,
      );
    }
    case 'recent': {
      const address = m.side === 'rsource' ? p.src : p.dst;
      if (m.command === 'set') return true;
      const listed = [...(ctx.recent ?? []), ...recentSet].some(
        (e) => e.name === m.name && sameAddressText(e.address, address),
      );
      return listed;
    }
    case 'physdevIsBridged':
      return p.bridged === true;
    case 'statistic':
      return true;
  }
}

/** The un-negated truth of an address type match on the address `text`, with the packet's devices. */
function addrTypeMatch(
  ctx: EvalContext,
  m: Extract<Match, { kind: 'addrtype' }>,
  text: string,
  inIface: string | undefined,
  outIface: string | undefined,
): boolean {
  const a = addressOf(text);
  if (!a) return false;
  const iface = m.limitIface === 'in' ? inIface : m.limitIface === 'out' ? outIface : undefined;
  return m.types.some((ty) => hasAddrType(ctx, a, text, ty, iface, m.limitIface !== undefined));
}

/** The un-negated truth of an address match (`negated` only for a rule of the other family, see below). */
function addressMatch(prefix: Prefix, negated: boolean, text: string): boolean {
  const a = addressOf(text);
  // A rule of the other family belongs to the other tool's ruleset: it never matches, negated or not.
  if (!a || a.family !== prefix.family) return negated;
  return prefixContainsAddress(prefix, a);
}

function sameAddressText(a: string, b: string): boolean {
  const x = addressOf(a);
  const y = addressOf(b);
  return !!x && !!y && x.family === y.family && x.value === y.value;
}

// Constants written here, not read from a file: they always parse.
// eslint-disable-next-line @typescript-eslint/no-non-null-assertion
const MULTICAST4 = parsePrefix('224.0.0.0/4')!;
// eslint-disable-next-line @typescript-eslint/no-non-null-assertion
const MULTICAST6 = parsePrefix('ff00::/8')!;

function hasAddrType(
  ctx: EvalContext,
  a: Address,
  text: string,
  ty: AddrType,
  iface: string | undefined,
  limited: boolean,
): boolean {
  const locals =
    limited && ctx.interfaceAddresses ? (iface ? (ctx.interfaceAddresses[iface] ?? []) : []) : ctx.localAddresses;
  const isLocal = locals.some((l) => sameAddressText(l, text));
  const isMulticast = prefixContainsAddress(a.family === 4 ? MULTICAST4 : MULTICAST6, a);
  const isBroadcast =
    (a.family === 4 && a.value === 0xffffffffn) || (ctx.broadcastAddresses ?? []).some((b) => sameAddressText(b, text));
  switch (ty) {
    case 'LOCAL':
      return isLocal;
    case 'MULTICAST':
      return isMulticast;
    case 'BROADCAST':
      return isBroadcast;
    case 'UNICAST':
      return !isLocal && !isMulticast && !isBroadcast;
  }
}
