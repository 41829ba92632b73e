/**
 * Evaluates one netfilter hook for one packet over a parsed nftables ruleset, as the kernel does:
 *
 * - Every base chain on the hook of a table of the packet's family (`ip` or `ip6`, and `inet`) runs, in priority
 *   order (declaration order breaks ties). `accept` ends one base chain; the next one still runs. `drop` and
 *   `reject` end the hook.
 * - Chains of type nat run only for the first packet of a connection (conntrack NEW); once one of them has set up
 *   a translation, the later nat chains of the hook are skipped (nf_nat_inet_fn). NAT statements end their chain
 *   with accept.
 * - `jump` returns to the rule after it; `goto` does not (the chain's end returns to the caller of the chain that
 *   did `goto`); `return` or the end of a base chain applies its policy.
 * - `numgen random mod N` never draws: the walk branches and each outcome carries its probability (values not in
 *   the map make the rule not match, with the rest of the probability).
 * - Dynamic sets (`update @set { ip saddr }`) start empty unless `ctx.dynamic` lists elements; updates on a path
 *   are returned and seen by later lookups on the same path.
 * - A rule marked unsupported by the parser is reported (`nftables.unsupported-reached`) and does not match.
 * - Walks are bounded: a chain already on the call stack is a loop (`nftables.loop`), deeper than `maxDepth` is
 *   `nftables.depth`; both end that path with drop.
 */
import { followedSides } from '../branches';
import { parseAddress, type Address } from '../net/address';
import { NO_SPAN, problem, type Problem } from '../problem';
import { work } from '../work';
import { LazyNftChains } from './lazy';
import type {
  NftChain,
  NftConntrack,
  NftDecision,
  NftElement,
  NftEvalContext,
  NftHook,
  NftHookResult,
  NftItem,
  NftNatRecord,
  NftOutcome,
  NftPacket,
  NftRhs,
  NftRule,
  NftRuleset,
  NftSelector,
  NftSet,
  NftTable,
  NftValue,
  NftVerdict,
} from './types';
import { CT_STATES, CT_STATUS, FIB_TYPES, PROTOCOLS } from './values';

export const NFT_UNSUPPORTED_REACHED = 'nftables.unsupported-reached';
export const NFT_LOOP = 'nftables.loop';
export const NFT_DEPTH = 'nftables.depth';
export const NFT_MASQUERADE_NO_ADDRESS = 'nftables.masquerade-no-address';

interface State {
  readonly packet: NftPacket;
  readonly conntrack: NftConntrack;
  readonly probability: number;
  readonly decisions: readonly NftDecision[];
  readonly nat: readonly NftNatRecord[];
  readonly dynamicAdded: readonly { readonly set: string; readonly address: string }[];
  readonly problems: readonly Problem[];
}

type End =
  | { readonly kind: 'fall' }
  | { readonly kind: 'return' }
  | { readonly kind: 'accept'; readonly nat?: boolean }
  | { readonly kind: 'drop' | 'reject'; readonly with?: string };

interface Branch {
  readonly state: State;
  readonly end: End;
}

interface Env {
  readonly table: NftTable;
  readonly label: string;
  readonly ctx: NftEvalContext;
  readonly hook: NftHook;
  readonly maxDepth: number;
  /** The priority of the base chain being walked. */
  readonly priority?: number;
  /** Set when the caller wants to answer sibling packets from this evaluation (see {@link NftSiblingRecorder}). */
  readonly recorder?: NftSiblingRecorder;
}

/**
 * The questions an evaluation asked of the fields a sibling packet may differ in (its destination and devices: see
 * `SiblingQuestion` in src/core/netfilter/evaluate.ts, the iptables evaluator's same design), each a set lookup or
 * match with what it answered; `alike` is cleared by what answers no sibling: a DNAT or redirect (its record names the
 * destination), a dynamic set updated with a sibling field, a numgen split (it spends the walk's budget of paths).
 */
export interface NftSiblingRecorder {
  readonly questions: NftSiblingQuestion[];
  alike: boolean;
}

/** A match or map lookup that read a sibling field, as the evaluation saw it, and what it answered. */
export interface NftSiblingQuestion {
  readonly env: Env;
  readonly item: Extract<NftItem, { kind: 'match' | 'vmap' }>;
  readonly state: State;
  readonly answer: readonly ItemResult[];
}

/** A base chain on a hook, with its table: what runs, in order. */
export interface NftHookChain {
  readonly table: NftTable;
  readonly chain: NftChain;
  readonly priority: number;
}

/** The base chains that see a packet of `family` at `hook`, in the order the kernel runs them. */
export function nftHookChains(ruleset: NftRuleset, hook: NftHook, family: 4 | 6): NftHookChain[] {
  const ipFamily = family === 4 ? 'ip' : 'ip6';
  return baseChainsByPriority(
    ruleset,
    (table, chain) => (table.family === 'inet' || table.family === ipFamily) && chain.base?.hook === hook,
  );
}

/**
 * The netdev ingress chains of `device`, in priority order: they run on every frame the device receives, before
 * the IP stack's prerouting hook (and before conntrack: `ct state` is not known there yet).
 */
export function nftIngressChains(ruleset: NftRuleset, device: string): NftHookChain[] {
  return baseChainsByPriority(
    ruleset,
    (table, chain) =>
      table.family === 'netdev' && chain.base?.hook === 'ingress' && !!chain.base.devices?.includes(device),
  );
}

/**
 * The bridge family's base chains on `hook`, in priority order: they see every frame crossing a bridge (port to port,
 * port to the bridge itself, the bridge device out to a port), whatever its protocol; `iifname`/`oifname` there are the
 * bridge ports.
 */
export function nftBridgeChains(ruleset: NftRuleset, hook: NftHook): NftHookChain[] {
  return baseChainsByPriority(ruleset, (table, chain) => table.family === 'bridge' && chain.base?.hook === hook);
}

/**
 * Each table's base chains in the order it lists them, found once per chain map: kube-proxy's tables hold a few base
 * chains among thousands of Service chains, and their chain map is shared by every node alike.
 */
const BASE_CHAINS = new WeakMap<ReadonlyMap<string, NftChain>, readonly NftChain[]>();

function baseChainsOf(table: NftTable): readonly NftChain[] {
  let found = BASE_CHAINS.get(table.chains);
  if (!found) {
    // A table parsed lazily parses only its base chains for this.
    found =
      table.chains instanceof LazyNftChains
        ? table.chains.baseChains()
        : [...table.chains.values()].filter((c) => c.base);
    BASE_CHAINS.set(table.chains, found);
  }
  return found;
}

/** The base chains `pick` keeps, by priority; chains of equal priority in the order the ruleset lists them. */
function baseChainsByPriority(
  ruleset: NftRuleset,
  pick: (table: NftTable, chain: NftChain) => boolean,
): NftHookChain[] {
  const out: NftHookChain[] = [];
  for (const table of ruleset.tables)
    for (const chain of baseChainsOf(table))
      if (chain.base && pick(table, chain)) out.push({ table, chain, priority: chain.base.priority });
  return out
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.priority - b.c.priority || a.i - b.i)
    .map((x) => x.c);
}

/** Evaluates `hook` for `packet`: one outcome per numgen path, each with verdict, rewritten packet and trace. */
export function evaluateNftHook(
  ruleset: NftRuleset,
  hook: NftHook,
  packet: NftPacket,
  ctx: NftEvalContext,
  /** Run only these base chains (a caller interleaving them with another filter's tables by priority). */
  only?: readonly NftHookChain[],
  recorder?: NftSiblingRecorder,
): NftHookResult {
  const start: State = {
    packet: { ...packet, mark: packet.mark >>> 0 },
    conntrack: ctx.conntrack,
    probability: 1,
    decisions: [],
    nat: [],
    dynamicAdded: [],
    problems: [],
  };
  let live: { state: State; natDone: boolean }[] = [{ state: start, natDone: false }];
  const done: NftOutcome[] = [];
  for (const { table, chain } of only ?? nftHookChains(ruleset, hook, packet.family)) {
    const base = chain.base;
    if (!base) continue;
    const env: Env = {
      table,
      label: `${table.family} ${table.name}`,
      ctx,
      hook,
      maxDepth: ctx.maxDepth ?? 64,
      priority: base.priority,
      ...(recorder ? { recorder } : {}),
    };
    const next: { state: State; natDone: boolean }[] = [];
    for (const l of live) {
      if (base.type === 'nat' && (l.state.conntrack.state !== 'NEW' || l.natDone)) {
        next.push(l);
        continue;
      }
      for (const b of runChain(env, chain, l.state, [chain.name])) {
        let end = b.end;
        let st = b.state;
        if (end.kind === 'fall' || end.kind === 'return') {
          st = decide(st, env, chain.name, -1, undefined, `policy ${base.policy}`);
          end = base.policy === 'drop' ? { kind: 'drop' } : { kind: 'accept' };
        }
        if (end.kind === 'drop' || end.kind === 'reject')
          done.push(outcome(st, end.kind === 'drop' ? 'DROP' : 'REJECT'));
        else
          next.push({ state: st, natDone: l.natDone || (base.type === 'nat' && end.kind === 'accept' && !!end.nat) });
      }
    }
    live = next;
  }
  for (const l of live) done.push(outcome(l.state, 'ACCEPT'));
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const o of done)
    for (const p of o.problems) {
      const k = `${p.code}|${p.span.file}|${p.span.start}|${p.message}`;
      if (!seen.has(k)) {
        seen.add(k);
        problems.push(p);
      }
    }
  return { hook, outcomes: done, problems };
}

function outcome(s: State, verdict: NftOutcome['verdict']): NftOutcome {
  return {
    probability: s.probability,
    verdict,
    packet: s.packet,
    conntrack: s.conntrack,
    nat: s.nat,
    decisions: s.decisions,
    dynamicAdded: s.dynamicAdded,
    problems: s.problems,
  };
}

function decide(
  s: State,
  env: Env,
  chain: string,
  index: number,
  rule: NftRule | undefined,
  action: string,
  probability?: number,
): State {
  const d: NftDecision = {
    table: env.label,
    chain,
    ruleIndex: index,
    ...(rule
      ? { ruleText: rule.comment !== undefined ? `${rule.text} comment "${rule.comment}"` : rule.text, span: rule.span }
      : {}),
    action,
    ...(probability !== undefined ? { probability } : {}),
    ...(env.priority !== undefined ? { priority: env.priority } : {}),
  };
  return { ...s, decisions: [...s.decisions, d] };
}

function addProblem(s: State, p: Problem): State {
  return { ...s, problems: [...s.problems, p] };
}

/** Runs `chain` from its first rule; the branches end with a verdict, `return` or falling off the end. */
function runChain(env: Env, chain: NftChain, state: State, stack: readonly string[]): Branch[] {
  let live: State[] = [state];
  const out: Branch[] = [];
  const rules = chain.rules;
  // Every state ended (a verdict or a return): the chain's remaining rules see no packet.
  for (let index = 0; index < rules.length && live.length > 0; index++) {
    const next: State[] = [];
    for (const s of live) {
      work.rulesEvaluated++;
      for (const b of runRule(env, chain, index, rules[index], s, stack)) {
        if (b.end.kind === 'fall') next.push(b.state);
        else out.push(b);
      }
    }
    live = next;
  }
  for (const s of live) out.push({ state: s, end: { kind: 'fall' } });
  return out;
}

/** One rule for one state: branches that fall through (`fall`: go on with the next rule) or end the chain. */
function runRule(
  env: Env,
  chain: NftChain,
  index: number,
  rule: NftRule,
  state: State,
  stack: readonly string[],
): Branch[] {
  if (rule.unsupported !== undefined) {
    const p = problem(
      NFT_UNSUPPORTED_REACHED,
      'warning',
      `The packet reached a rule NetPath does not model (${rule.unsupported}); it was treated as not matching.`,
      rule.span,
    );
    return [{ state: addProblem(state, p), end: { kind: 'fall' } }];
  }
  // Each pending path: its state, the items left, what it did (for the decision).
  let paths: { s: State; actions: string[]; prob?: number }[] = [{ s: state, actions: [] }];
  const out: Branch[] = [];
  for (const item of rule.items) {
    const next: typeof paths = [];
    for (const path of paths) {
      const all = runItem(env, item, path.s, chain.name, rule);
      // A numgen choice splits the path; once the walk's budget of paths is spent, only its likeliest sides go on.
      // It spends the budget: a sibling answered from this evaluation would not.
      if (all.length > 1 && env.recorder) env.recorder.alike = false;
      const r =
        all.length > 1
          ? followedSides(
              env.ctx.branches,
              all.map((x) => x.state.probability),
            ).map((k) => all[k])
          : all;
      for (const x of r) {
        if (x.kind === 'nomatch') {
          out.push({ state: x.state, end: { kind: 'fall' } });
          continue;
        }
        const actions = x.action ? [...path.actions, x.action] : path.actions;
        const prob = x.probability !== undefined ? (path.prob ?? 1) * x.probability : path.prob;
        if (x.kind === 'end') {
          const st = decide(x.state, env, chain.name, index, rule, actions.join(', ') || 'match', prob);
          out.push(...finish(env, st, x.verdict, stack));
        } else next.push({ s: x.state, actions, ...(prob !== undefined ? { prob } : {}) });
      }
    }
    paths = next;
  }
  for (const path of paths) {
    const st = decide(path.s, env, chain.name, index, rule, path.actions.join(', ') || 'match', path.prob);
    out.push({ state: st, end: { kind: 'fall' } });
  }
  return out;
}

/** What a verdict does to this chain: jump/goto run the other chain, the rest end this chain. */
function finish(env: Env, state: State, v: NftVerdict | End, stack: readonly string[]): Branch[] {
  switch (v.kind) {
    case 'continue':
      return [{ state, end: { kind: 'fall' } }];
    case 'accept':
      return [{ state, end: 'nat' in v ? v : { kind: 'accept' } }];
    case 'drop':
    case 'reject':
      return [{ state, end: v as End }];
    case 'return':
      return [{ state, end: { kind: 'return' } }];
    case 'fall':
      return [{ state, end: v }];
    case 'jump':
    case 'goto': {
      const target = env.table.chains.get(v.chain);
      if (!target) return [{ state, end: { kind: 'fall' } }];
      if (stack.includes(v.chain)) {
        const p = problem(
          NFT_LOOP,
          'error',
          `Chain '${v.chain}' is reached again from itself: a loop (the packet is dropped).`,
          NO_SPAN,
        );
        return [{ state: addProblem(state, p), end: { kind: 'drop' } }];
      }
      if (stack.length >= env.maxDepth) {
        const p = problem(NFT_DEPTH, 'error', `Jumps nest deeper than ${env.maxDepth} chains.`, NO_SPAN);
        return [{ state: addProblem(state, p), end: { kind: 'drop' } }];
      }
      return runChain(env, target, state, [...stack, v.chain]).map((b) => {
        if (b.end.kind === 'fall' || b.end.kind === 'return')
          return { state: b.state, end: v.kind === 'jump' ? { kind: 'fall' } : { kind: 'return' } };
        return b;
      });
    }
  }
}

type ItemResult =
  | { readonly kind: 'go'; readonly state: State; readonly action?: string; readonly probability?: number }
  | { readonly kind: 'nomatch'; readonly state: State }
  | {
      readonly kind: 'end';
      readonly state: State;
      readonly verdict: NftVerdict | End;
      readonly action?: string;
      readonly probability?: number;
    };

const verdictText = (v: NftVerdict): string =>
  v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind;

function runItem(env: Env, item: NftItem, s: State, chain: string, rule: NftRule): ItemResult[] {
  switch (item.kind) {
    case 'counter':
    case 'log':
    case 'notrack':
      return [{ kind: 'go', state: s }];
    case 'verdict':
      return [{ kind: 'end', state: s, verdict: item.verdict, action: verdictText(item.verdict) }];
    case 'reject':
      return [
        {
          kind: 'end',
          state: s,
          verdict: { kind: 'reject', ...(item.with ? { with: item.with } : {}) },
          action: 'reject',
        },
      ];
    case 'mark-set': {
      const cur = BigInt(item.target === 'meta' ? s.packet.mark : (s.packet.ctmark ?? 0));
      const v =
        (item.op === 'or'
          ? cur | item.value
          : item.op === 'and'
            ? cur & item.value
            : item.op === 'xor'
              ? cur ^ item.value
              : item.value) & 0xffffffffn;
      const packet = item.target === 'meta' ? { ...s.packet, mark: Number(v) } : { ...s.packet, ctmark: Number(v) };
      return [
        {
          kind: 'go',
          state: { ...s, packet },
          action: `${item.target === 'ct' ? 'ct ' : ''}mark set 0x${v.toString(16)}`,
        },
      ];
    }
    case 'set-update': {
      // The set would hold the sibling's field, not this packet's.
      if (env.recorder && item.selectors.some(readsSiblingField)) env.recorder.alike = false;
      const sel = item.selectors[0];
      const v = sel && item.selectors.length === 1 ? selectorValue(env, sel, s) : undefined;
      if (v?.kind !== 'addr') return [{ kind: 'go', state: s }];
      const set = `${env.label} ${item.set}`;
      return [
        {
          kind: 'go',
          state: { ...s, dynamicAdded: [...s.dynamicAdded, { set, address: v.text }] },
          action: `update @${item.set} { ${v.text} }`,
        },
      ];
    }
    case 'nat':
      // A destination translation's record names the destination (or the device's address): no sibling shares it.
      if (env.recorder && (item.nat.kind === 'dnat' || item.nat.kind === 'redirect')) env.recorder.alike = false;
      return [natItem(env, item.nat, s, chain, rule)];
    case 'match':
    case 'vmap':
      return askedOf(env, item, s);
  }
}

/** A match or map lookup, written down as a question when it reads a sibling field and a recorder listens. */
function askedOf(env: Env, item: Extract<NftItem, { kind: 'match' | 'vmap' }>, s: State): ItemResult[] {
  const answer = item.kind === 'match' ? matchItem(env, item, s) : vmapItem(env, item.selectors, item.map, s);
  if (env.recorder && item.selectors.some(readsSiblingField))
    env.recorder.questions.push({ env: { ...env, recorder: undefined }, item, state: s, answer });
  return answer;
}

/** Whether a selector reads a field sibling packets may differ in: the destination address, a device's name. */
function readsSiblingField(sel: NftSelector): boolean {
  switch (sel.kind) {
    case 'payload':
      return (sel.proto === 'ip' || sel.proto === 'ip6') && sel.field === 'daddr';
    case 'meta':
      return sel.key === 'iifname' || sel.key === 'oifname';
    case 'fib':
      return !sel.flags.includes('saddr');
    case 'binop':
      return readsSiblingField(sel.inner);
    default:
      return false;
  }
}

/**
 * Whether a sibling packet (this evaluation's packet with another destination and devices) gets every answer the
 * questions got: then every rule takes it the same way. Each question is asked again of the packet as it saw it,
 * with the sibling's fields.
 */
export function nftSiblingAnswersAlike(
  questions: readonly NftSiblingQuestion[],
  sibling: Pick<NftPacket, 'dst' | 'inIface' | 'outIface'>,
): boolean {
  for (const q of questions) {
    const state: State = {
      ...q.state,
      packet: { ...q.state.packet, dst: sibling.dst, inIface: sibling.inIface, outIface: sibling.outIface },
    };
    const again =
      q.item.kind === 'match' ? matchItem(q.env, q.item, state) : vmapItem(q.env, q.item.selectors, q.item.map, state);
    if (again.length !== q.answer.length) return false;
    for (let i = 0; i < again.length; i++) {
      const a = again[i];
      const b = q.answer[i];
      if (a.kind !== b.kind || (a.kind === 'end' && b.kind === 'end' && a.verdict !== b.verdict)) return false;
    }
  }
  return true;
}

function natItem(
  env: Env,
  nat: Extract<NftItem, { kind: 'nat' }>['nat'],
  s: State,
  chain: string,
  rule: NftRule,
): ItemResult {
  const p = s.packet;
  const rec = (
    type: NftNatRecord['type'],
    before: NftNatRecord['before'],
    after: NftNatRecord['after'],
  ): NftNatRecord => ({
    type,
    table: env.label,
    chain,
    ruleText: rule.text,
    span: rule.span,
    before,
    after,
  });
  const port = (x: number | undefined) => (x !== undefined ? { port: x } : {});
  if (nat.kind === 'dnat' || nat.kind === 'redirect') {
    const address =
      nat.kind === 'dnat' ? (nat.address ?? p.dst) : (env.ctx.inIfaceAddress ?? (p.family === 4 ? '127.0.0.1' : '::1'));
    const newPort = nat.port ?? p.dport;
    const before = { address: p.dst, ...port(p.dport) };
    const after = { address, ...port(newPort) };
    const packet: NftPacket = { ...p, dst: address, ...(newPort !== undefined ? { dport: newPort } : {}) };
    const r = rec(nat.kind === 'dnat' ? 'DNAT' : 'REDIRECT', before, after);
    return {
      kind: 'end',
      state: { ...s, packet, conntrack: { ...s.conntrack, dnat: true }, nat: [...s.nat, r] },
      verdict: { kind: 'accept', nat: true },
      action: `${nat.kind} to ${after.address}${after.port !== undefined ? `:${after.port}` : ''}`,
    };
  }
  let address: string | undefined = nat.kind === 'snat' ? (nat.address ?? p.src) : env.ctx.outIfaceAddress;
  let st = s;
  if (address === undefined) {
    st = addProblem(
      s,
      problem(
        NFT_MASQUERADE_NO_ADDRESS,
        'warning',
        'masquerade: the outgoing interface has no address; the source is kept.',
        NO_SPAN,
      ),
    );
    address = p.src;
  }
  const newPort = nat.port ?? p.sport;
  const before = { address: p.src, ...port(p.sport) };
  const after = { address, ...port(newPort) };
  const packet: NftPacket = { ...p, src: address, ...(newPort !== undefined ? { sport: newPort } : {}) };
  return {
    kind: 'end',
    state: {
      ...st,
      packet,
      conntrack: { ...st.conntrack, snat: true },
      nat: [...st.nat, rec(nat.kind === 'snat' ? 'SNAT' : 'MASQUERADE', before, after)],
    },
    verdict: { kind: 'accept', nat: true },
    action: `${nat.kind === 'snat' ? 'snat' : 'masquerade'} to ${address}`,
  };
}

/** A packet field's value: a number (addresses, ports, protocols, flags), an interface name, or absent. */
type Val =
  | { readonly kind: 'num'; readonly v: bigint }
  | { readonly kind: 'addr'; readonly v: bigint; readonly text: string }
  | { readonly kind: 'name'; readonly v: string }
  | { readonly kind: 'numgen'; readonly mod: number; readonly offset: number };

const num = (v: number | bigint): Val => ({ kind: 'num', v: BigInt(v) });

function protoNumber(proto: string): number | undefined {
  return PROTOCOLS[proto] ?? (/^\d+$/.test(proto) ? Number(proto) : undefined);
}

function addrVal(text: string, family: 4 | 6): Val | undefined {
  const a: Address | undefined = parseAddress(text);
  return a && a.family === family ? { kind: 'addr', v: a.value, text } : undefined;
}

function fibType(env: Env, address: string): number {
  const a = parseAddress(address);
  if (!a) return FIB_TYPES.unspec;
  if (env.ctx.localAddresses.some((l) => parseAddress(l)?.value === a.value && parseAddress(l)?.family === a.family))
    return FIB_TYPES.local;
  if (a.family === 4 && (address === '255.255.255.255' || env.ctx.broadcastAddresses?.includes(address)))
    return FIB_TYPES.broadcast;
  if (a.family === 4 ? a.value >> 28n === 0xen : a.value >> 120n === 0xffn) return FIB_TYPES.multicast;
  return FIB_TYPES.unicast;
}

function selectorValue(env: Env, sel: NftSelector, s: State): Val | undefined {
  const p = s.packet;
  switch (sel.kind) {
    case 'payload': {
      // The frame's EtherType (traces carry IPv4 or IPv6).
      if (sel.proto === 'ether') return num(p.family === 4 ? 0x0800 : 0x86dd);
      if (sel.proto === 'ip' || sel.proto === 'ip6') {
        if ((sel.proto === 'ip') !== (p.family === 4)) return undefined;
        if (sel.field === 'saddr') return addrVal(p.src, p.family);
        if (sel.field === 'daddr') return addrVal(p.dst, p.family);
        const n = protoNumber(p.proto);
        return n === undefined ? undefined : num(n);
      }
      if (sel.proto === 'icmp' || sel.proto === 'icmpv6') {
        // Traces send echo requests.
        if (p.proto !== sel.proto) return undefined;
        return num(sel.proto === 'icmp' ? 8 : 128);
      }
      const l4 = ['tcp', 'udp', 'sctp', 'udplite'];
      if (sel.proto === 'th' ? !l4.includes(p.proto) : p.proto !== sel.proto) return undefined;
      const port = sel.field === 'sport' ? p.sport : p.dport;
      return port === undefined ? undefined : num(port);
    }
    case 'meta':
      switch (sel.key) {
        case 'l4proto': {
          const n = protoNumber(p.proto);
          return n === undefined ? undefined : num(n);
        }
        case 'mark':
          return num(p.mark >>> 0);
        case 'iifname':
          return p.inIface === undefined ? undefined : { kind: 'name', v: p.inIface };
        case 'oifname':
          return p.outIface === undefined ? undefined : { kind: 'name', v: p.outIface };
        case 'ibrname':
          return p.inBridge === undefined ? undefined : { kind: 'name', v: p.inBridge };
        case 'obrname':
          return p.outBridge === undefined ? undefined : { kind: 'name', v: p.outBridge };
        case 'nfproto':
          return num(p.family === 4 ? 2 : 10);
        case 'protocol':
          return num(p.family === 4 ? 0x0800 : 0x86dd);
      }
      return undefined;
    case 'ct': {
      const c = s.conntrack;
      if (sel.key === 'mark') return num((p.ctmark ?? 0) >>> 0);
      if (sel.key === 'state') return num(CT_STATES[c.state.toLowerCase()] ?? 0);
      let v = 0;
      if (c.state !== 'NEW' && c.state !== 'UNTRACKED' && c.state !== 'INVALID')
        v |= CT_STATUS.confirmed | CT_STATUS['seen-reply'];
      if (c.dnat) v |= CT_STATUS.dnat;
      if (c.snat) v |= CT_STATUS.snat;
      return num(v);
    }
    case 'fib': {
      const which = sel.flags.includes('saddr') ? p.src : p.dst;
      return num(fibType(env, which));
    }
    case 'numgen':
      return { kind: 'numgen', mod: sel.mod, offset: sel.offset };
    case 'binop': {
      const inner = selectorValue(env, sel.inner, s);
      if (!inner || inner.kind !== 'num') return undefined;
      const v = sel.op === 'and' ? inner.v & sel.value : sel.op === 'or' ? inner.v | sel.value : inner.v ^ sel.value;
      return num(v);
    }
  }
}

function valueMatches(val: Val, el: NftValue): boolean {
  if (val.kind === 'name') return el.kind === 'name' && (el.wildcard ? val.v.startsWith(el.name) : val.v === el.name);
  if (val.kind === 'numgen' || el.kind !== 'range') return false;
  return el.lo <= val.v && val.v <= el.hi;
}

/** The elements of a set or map, with dynamic entries added for one-field address sets. */
function elementsOf(env: Env, rhs: NftRhs, s: State): readonly NftElement[] | undefined {
  if (rhs.kind === 'values') return rhs.elements;
  const set: NftSet | undefined = env.table.sets.get(rhs.name);
  if (!set) return undefined;
  const name = `${env.label} ${rhs.name}`;
  const dyn = [...(env.ctx.dynamic ?? []), ...s.dynamicAdded].filter((d) => d.set === name);
  if (!dyn.length) return set.elements;
  const extra: NftElement[] = [];
  for (const d of dyn) {
    const a = parseAddress(d.address);
    if (a) extra.push({ key: [{ kind: 'range', lo: a.value, hi: a.value }] });
  }
  return [...set.elements, ...extra];
}

/** Exact-match index of big sets (service-ips with thousands of elements): key -> element. */
const INDEX = new WeakMap<readonly NftElement[], { exact: Map<string, NftElement>; rest: NftElement[] }>();

function indexOf(els: readonly NftElement[]): { exact: Map<string, NftElement>; rest: NftElement[] } {
  let ix = INDEX.get(els);
  if (!ix) {
    ix = { exact: new Map(), rest: [] };
    for (const e of els) {
      const singles = e.key.every((k) => (k.kind === 'range' ? k.lo === k.hi : !k.wildcard));
      const key = e.key.map((k) => (k.kind === 'range' ? `#${k.lo}` : `n${k.name}`)).join('|');
      if (singles) {
        if (!ix.exact.has(key)) ix.exact.set(key, e);
      } else ix.rest.push(e);
    }
    INDEX.set(els, ix);
  }
  return ix;
}

/**
 * How many of numgen's values (`offset` to `offset + mod - 1`) each element takes, the first element holding a value
 * taking it, as nft's lookup does. Swept over the elements' bounds rather than value by value: `mod` comes from the
 * ruleset and may be anything up to 2^32 - 1, while the work here grows only with the elements.
 */
function numgenShares(
  g: { readonly mod: number; readonly offset: number },
  els: readonly NftElement[],
): Map<NftElement, number> {
  const shares = new Map<NftElement, number>();
  if (!Number.isSafeInteger(g.mod) || !Number.isSafeInteger(g.offset) || g.mod < 1) return shares;
  const first = BigInt(g.offset);
  const end = first + BigInt(g.mod);
  const cuts = new Set<bigint>([first, end]);
  const inside = (b: bigint): void => {
    if (b > first && b < end) cuts.add(b);
  };
  for (const e of els) {
    const k = e.key[0];
    if (k?.kind !== 'range') continue;
    inside(k.lo);
    inside(k.hi + 1n);
  }
  // Between two cuts every value is held by the same elements: look the first one up, count the whole stretch.
  const sorted = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 0; i + 1 < sorted.length; i++) {
    const e = els.find((x) => valueMatches(num(sorted[i]), x.key[0]));
    if (e) shares.set(e, (shares.get(e) ?? 0) + Number(sorted[i + 1] - sorted[i]));
  }
  return shares;
}

/** The first element matching the tuple, as nft finds it (an exact element, else the first interval holding it). */
function lookup(els: readonly NftElement[], vals: readonly Val[]): NftElement | undefined {
  if (els.length > 16) {
    const ix = indexOf(els);
    const key = vals.map((v) => (v.kind === 'name' ? `n${v.v}` : v.kind === 'numgen' ? '' : `#${v.v}`)).join('|');
    const hit = ix.exact.get(key);
    if (hit) return hit;
    return ix.rest.find((e) => e.key.every((k, i) => valueMatches(vals[i], k)));
  }
  return els.find((e) => e.key.length === vals.length && e.key.every((k, i) => valueMatches(vals[i], k)));
}

/** The name of the set a rule refers to (elementsOf finds no elements only for a named set that does not exist). */
const setName = (rhs: NftRhs): string => (rhs.kind === 'set' ? rhs.name : '(inline)');

function unknownSet(s: State, name: string): State {
  return addProblem(
    s,
    problem(NFT_UNSUPPORTED_REACHED, 'warning', `The set '${name}' does not exist; the rule does not match.`, NO_SPAN),
  );
}

function matchItem(env: Env, item: Extract<NftItem, { kind: 'match' }>, s: State): ItemResult[] {
  const els = elementsOf(env, item.rhs, s);
  if (!els) return [{ kind: 'nomatch', state: unknownSet(s, setName(item.rhs)) }];
  if (item.selectors.length === 1 && item.selectors[0].kind === 'numgen') {
    // numgen compared with values: branch on how many of its values match.
    const g = item.selectors[0];
    let hits = 0;
    for (const c of numgenShares(g, els).values()) hits += c;
    const pm = item.op === '!=' ? 1 - hits / g.mod : hits / g.mod;
    const out: ItemResult[] = [];
    if (pm > 0) out.push({ kind: 'go', state: { ...s, probability: s.probability * pm }, probability: pm });
    if (pm < 1) out.push({ kind: 'nomatch', state: { ...s, probability: s.probability * (1 - pm) } });
    return out;
  }
  const vals: Val[] = [];
  for (const sel of item.selectors) {
    const v = selectorValue(env, sel, s);
    if (!v) return [{ kind: 'nomatch', state: s }];
    vals.push(v);
  }
  let matched: boolean;
  if (item.flags) {
    const v = vals[0].kind === 'num' ? vals[0].v : 0n;
    let mask = 0n;
    for (const e of els) if (e.key[0]?.kind === 'range') mask |= e.key[0].lo;
    matched = (v & mask) !== 0n || (mask === 0n && v === 0n);
  } else if (item.op === '==' || item.op === '!=') {
    const hit = lookup(els, vals) !== undefined;
    matched = item.op === '==' ? hit : !hit;
  } else {
    const v = vals[0];
    const e = els[0]?.key[0];
    if (v.kind !== 'num' && v.kind !== 'addr') matched = false;
    else if (!e || e.kind !== 'range') matched = false;
    else
      matched =
        item.op === '<' ? v.v < e.lo : item.op === '>' ? v.v > e.hi : item.op === '<=' ? v.v <= e.hi : v.v >= e.lo;
  }
  return [matched ? { kind: 'go', state: s } : { kind: 'nomatch', state: s }];
}

function vmapItem(env: Env, selectors: readonly NftSelector[], map: NftRhs, s: State): ItemResult[] {
  const els = elementsOf(env, map, s);
  if (!els) return [{ kind: 'nomatch', state: unknownSet(s, setName(map)) }];
  if (selectors.length === 1 && selectors[0].kind === 'numgen') {
    const g = selectors[0];
    const counts = numgenShares(g, els);
    const out: ItemResult[] = [];
    let covered = 0;
    for (const [e, c] of counts) {
      if (!e.verdict) continue;
      const pr = c / g.mod;
      covered += c;
      out.push({
        kind: 'end',
        state: { ...s, probability: s.probability * pr },
        verdict: e.verdict,
        action: verdictText(e.verdict),
        probability: pr,
      });
    }
    if (covered < g.mod)
      out.push({ kind: 'nomatch', state: { ...s, probability: s.probability * (1 - covered / g.mod) } });
    return out;
  }
  const vals: Val[] = [];
  for (const sel of selectors) {
    const v = selectorValue(env, sel, s);
    if (!v) return [{ kind: 'nomatch', state: s }];
    vals.push(v);
  }
  const e = lookup(els, vals);
  if (!e?.verdict) return [{ kind: 'nomatch', state: s }];
  return [{ kind: 'end', state: s, verdict: e.verdict, action: verdictText(e.verdict) }];
}
