/**
 * The nftables backend of {@link PacketFilter}: nftables tables and iptables-nft tables on one node, as the kernel
 * runs them. The nftables tables are kube-proxy's `ip`/`ip6 kube-proxy` (its nftables mode, generated) and the node's
 * own `nftables:` text (any tables, evaluated as written, spans in the YAML); the iptables rules are the other
 * authors' (the CNI plug-in, ip-masq-agent, the node's own `iptables:` lines, and kube-proxy in iptables mode):
 * iptables-nft tables at their fixed priorities. On one hook every base chain runs by priority, nat chains only for
 * a new connection and only until one of them translated it. The text is kube-proxy's nft tables, the node's own
 * nft text, then the iptables-save text.
 */
import {
  HOOK_TABLES,
  evaluateHook,
  evaluateHookForSiblings,
  siblingAnswersAlike,
  siblingContextAlike,
  siblingKey,
  type SiblingQuestion,
} from '../netfilter/evaluate';
import type { DecisionEffect, EvalContext, Hook, Ruleset, TableName } from '../netfilter/types';
import {
  evaluateNftHook,
  nftSiblingAnswersAlike,
  type NftSiblingRecorder,
  nftHookChains,
  nftIngressChains,
  nftBridgeChains,
  parseNftRuleset,
  type NftDecision,
  type NftHookChain,
  type NftRule,
} from '../nftables';
import type { Problem, Span } from '../problem';
import { formatAddress, parsePrefix, type Prefix } from '../net/address';
import { KUBE_PROXY_IPTABLES_KNOWLEDGE } from '../kubeproxy/knowledge';
import { nftSpanMapper } from './problems';
import type {
  ChainRole,
  FilterContext,
  FilterDecision,
  FilterNat,
  FilterOutcome,
  FilterPacket,
  FilterResult,
  FilterRuleSummary,
  HookPart,
  PacketFilter,
} from './filter';
import { inHookPart, iptablesPriority } from './filter';
import { placeHookResult, placeRulesSpan } from './node-rules';
import type { NodeRules, RulesBlock } from './types';
import type { SharedKubeProxyNft } from './kube-proxy-nft-share';
import { SiblingAnswers } from './siblings';

/** The CIDR an address interval is, if it is one (`10.0.0.0 - 10.255.255.255` is `10.0.0.0/8`). */
function rangePrefix(family: 4 | 6, lo: bigint, hi: bigint): Prefix | undefined {
  const bits = family === 4 ? 32 : 128;
  const size = hi - lo + 1n;
  if (size <= 0n || (size & (size - 1n)) !== 0n || lo % size !== 0n) return undefined;
  const length = bits - (size.toString(2).length - 1);
  return parsePrefix(`${formatAddress({ family, value: lo })}/${length}`);
}

/** The addresses and interface names an nft rule matches on (what `rules()` reports for choosing flows). */
function nftRuleMatches(rule: NftRule): { prefixes: Prefix[]; interfaces: string[] } {
  const prefixes: Prefix[] = [];
  const interfaces: string[] = [];
  for (const it of rule.items) {
    if (it.kind !== 'match' || it.selectors.length !== 1 || it.rhs.kind !== 'values') continue;
    const s = it.selectors[0];
    if (s.kind === 'payload' && (s.proto === 'ip' || s.proto === 'ip6') && (s.field === 'saddr' || s.field === 'daddr'))
      for (const e of it.rhs.elements) {
        const v = e.key[0];
        const p = v?.kind === 'range' ? rangePrefix(s.proto === 'ip' ? 4 : 6, v.lo, v.hi) : undefined;
        if (p) prefixes.push(p);
      }
    if (s.kind === 'meta' && (s.key === 'iifname' || s.key === 'oifname'))
      for (const e of it.rhs.elements) if (e.key[0]?.kind === 'name') interfaces.push(e.key[0].name);
  }
  return { prefixes, interfaces };
}

function effectOf(action: string): { effect: DecisionEffect; target?: string } {
  const last = action.split(', ').pop() ?? action;
  const [word, rest] = [last.split(' ')[0], last.split(' ').slice(1).join(' ')];
  switch (word) {
    case 'jump':
    case 'goto':
      return { effect: word, target: rest };
    case 'accept':
      return { effect: 'ACCEPT' };
    case 'drop':
      return { effect: 'DROP' };
    case 'reject':
      return { effect: 'REJECT' };
    case 'return':
      return { effect: 'RETURN' };
    case 'dnat':
    case 'redirect':
      return { effect: 'DNAT' };
    case 'snat':
      return { effect: 'SNAT' };
    case 'masquerade':
      return { effect: 'MASQUERADE' };
    case 'mark':
    case 'ct':
      return { effect: 'MARK' };
    case 'policy':
      return { effect: rest === 'drop' ? 'DROP' : 'ACCEPT' };
  }
  return { effect: 'none' };
}

const toDecision = (d: NftDecision): FilterDecision => ({
  table: d.table,
  chain: d.chain,
  ruleIndex: d.ruleIndex,
  ...(d.ruleText !== undefined ? { ruleText: d.ruleText } : {}),
  ...(d.span ? { span: d.span } : {}),
  matched: true,
  action: d.action,
  ...(d.probability !== undefined ? { probability: d.probability } : {}),
  ...(d.priority !== undefined ? { priority: d.priority } : {}),
  ...effectOf(d.action),
});

type Step =
  | {
      readonly kind: 'nft';
      readonly chain: NftHookChain;
      readonly priority: number;
      readonly nat: boolean;
      /** A netdev ingress chain (run at the `ingress` hook, before prerouting). */
      readonly ingress?: boolean;
      /** A bridge-family chain (its packet's interfaces are the bridge ports). */
      readonly bridge?: boolean;
    }
  | { readonly kind: 'ipt'; readonly table: TableName; readonly priority: number; readonly nat: boolean };

export interface NftablesFilterInput {
  /** kube-proxy's tables as nft text (empty when kube-proxy runs in iptables mode). */
  readonly nftText: string;
  /** The node's own `nftables:` text, and the YAML file's text to place its spans. */
  readonly own?: { readonly text: string; readonly span: Span; readonly fileText?: string };
  /** The other authors' iptables rules (kube-proxy's too when it runs in iptables mode). */
  readonly iptables: NodeRules;
  readonly rulesFile: string;
  /** kube-proxy's tables already parsed, shared with nodes alike (`nftText` is then their text on this node). */
  readonly kubeProxy?: SharedKubeProxyNft;
}

/** The file name the node's own nft text is parsed under, before its spans are moved to the YAML. */
const OWN = '\u0000own-nft';

/**
 * The packet as a bridge-family chain sees it: its interfaces are the bridge ports the frame came in and goes out by,
 * and the bridge is `ibrname`/`obrname` on the side that has a port.
 */
function bridgePacket(p: FilterPacket): FilterPacket & { inBridge?: string; outBridge?: string } {
  const { inIface: _in, outIface: _out, ...rest } = p;
  const f = p.bridgeFrame;
  return {
    ...rest,
    ...(f?.inPort ? { inIface: f.inPort, inBridge: f.bridge } : {}),
    ...(f?.outPort ? { outIface: f.outPort, outBridge: f.bridge } : {}),
  };
}

/**
 * Whether a step runs on `part`'s side of NetworkPolicy's place (the iptables filter table's first rule, priority 0):
 * before it every chain of lower priority (a bridge chain before br_netfilter's IP hook sorts far below 0), and
 * nftables chains at 0, which run before iptables' on a tie.
 */
function inPart(st: Step, part: HookPart | undefined): boolean {
  return inHookPart(st.priority, st.kind === 'nft', part);
}

/**
 * What sibling packets (a Service's endpoint paths at one hook of a node: see src/core/dataplane/siblings.ts) have in
 * common at `hook`, as text, with the chains that run for them (a netdev ingress chain is the device's); undefined for a
 * frame crossing a bridge, whose bridge chains read the ports as the devices.
 */
function nftSiblingKey(
  hook: Hook,
  packet: FilterPacket,
  ctx: FilterContext,
  part: HookPart | undefined,
  plan: Plan,
): string | undefined {
  if (packet.bridgeFrame) return undefined;
  const common = siblingKey(hook, packet, ctx);
  if (common === undefined) return undefined;
  return `${common}|${part ?? ''}|${packet.netdevIngress ?? ''}|${plan.chains}`;
}

/** The steps of a hook, with the chains they run as text (part of the {@link nftSiblingKey}). */
interface Plan {
  readonly steps: readonly Step[];
  readonly chains: string;
}

function planOf(steps: readonly Step[]): Plan {
  const chains = steps.map((st) =>
    st.kind === 'nft' ? `${st.chain.table.family} ${st.chain.table.name} ${st.chain.chain.name}` : st.table,
  );
  return { steps, chains: chains.join(',') };
}

/**
 * What the steps of a hook depend on, for a packet that crosses no bridge: the hook, the family, the part, and the
 * device whose netdev ingress chains run (the same list of chains for every path that asks).
 */
function planKey(hook: Hook, packet: FilterPacket, part: HookPart | undefined): string {
  const ingress =
    hook === 'PREROUTING' && packet.inIface && !packet.bridged && packet.netdevIngress !== 'none' ? packet.inIface : '';
  return `${hook}|${packet.family}|${part ?? ''}|${packet.netdevIngress ?? ''}|${ingress}`;
}

export function nftablesFilter({ nftText, own, iptables, rulesFile, kubeProxy }: NftablesFilterInput): PacketFilter {
  const kp = kubeProxy ?? parseNftRuleset(nftText, rulesFile, 0);
  const mine = own ? parseNftRuleset(own.text, OWN, 0) : undefined;
  const toYaml = own ? nftSpanMapper(own, own.fileText) : undefined;
  const parsed = { ruleset: { tables: [...kp.ruleset.tables, ...(mine?.ruleset.tables ?? [])] } };
  const toOwnYaml = <S extends Span | undefined>(s: S): S => (s && s.file === OWN && toYaml ? toYaml(s) : s) as S;
  // Every nft span leaves the filter through here: the node's own text's go to the YAML, a shared template's to this
  // node's text.
  // Each span is placed once per filter, so a rule's decisions carry the same span object on every evaluation: the walk
  // keeps the step it made for a rule's way of deciding by that span (src/core/trace/walk.ts `decisionStep`), and a
  // span made anew per evaluation made every step of every trace anew.
  const ownSpans = new WeakMap<Span, Span>();
  const ownSpan = (s: Span): Span => {
    let placed = ownSpans.get(s);
    if (!placed) ownSpans.set(s, (placed = kubeProxy ? kubeProxy.placeSpan(toOwnYaml(s)) : toOwnYaml(s)));
    return placed;
  };
  const ownProblem = (p: Problem): Problem => ({
    ...p,
    span: ownSpan(p.span),
    ...(p.related ? { related: p.related.map((r) => ({ ...r, span: ownSpan(r.span) })) } : {}),
  });
  const shift = nftText ? nftText.length + 1 : 0;
  const movedSpans = new WeakMap<Span, Span>();
  const moveSpan = (s: Span): Span => {
    let moved = movedSpans.get(s);
    if (!moved) {
      const placed = placeRulesSpan(iptables, s);
      moved = placed.file === rulesFile ? { ...placed, start: placed.start + shift, end: placed.end + shift } : placed;
      movedSpans.set(s, moved);
    }
    return moved;
  };
  const steps = (hook: Hook, packet: FilterPacket, part?: HookPart): Step[] => {
    const family = packet.family;
    // netdev ingress of the device the packet arrived on: before every prerouting chain. A bridged frame (port to
    // port) never reaches the bridge device's ingress, and a frame the bridge passes up to the node reaches it only
    // after the bridge's hooks (the walk asks for it then, `netdevIngress: 'only'`); the port's own ingress is not
    // modelled (the walk's hooks see the bridge, not its ports).
    const ingress: Step[] =
      hook === 'PREROUTING' && packet.inIface && !packet.bridged && packet.netdevIngress !== 'none'
        ? nftIngressChains(parsed.ruleset, packet.inIface).map((c) => ({
            kind: 'nft',
            chain: c,
            priority: -Infinity,
            nat: false,
            ingress: true,
          }))
        : [];
    if (packet.netdevIngress === 'only') return ingress;
    // The bridge family's chains of a frame crossing a bridge, around br_netfilter's IP hooks as the kernel runs them:
    // br_netfilter sits at priority 0 of the bridge's prerouting (chains below it run first, the rest after the IP
    // prerouting hook gave the frame back), just below 0 on forward (br_nf_forward_ip at -1), and last on
    // postrouting (every bridge chain before the IP postrouting hook).
    const frame = packet.bridgeFrame;
    const bridgeSteps = frame ? nftBridgeChains(parsed.ruleset, hook.toLowerCase() as never) : [];
    const afterIp = (priority: number): boolean =>
      hook === 'POSTROUTING' ? false : hook === 'FORWARD' ? priority >= -1 : priority >= 0;
    const bridge: Step[] = bridgeSteps.map((c) => ({
      kind: 'nft',
      chain: c,
      // Before every IP chain, or after them all, keeping their own order.
      priority: (afterIp(c.priority) ? 1e12 : -1e12) + c.priority,
      nat: false,
      bridge: true,
    }));
    if (frame?.only) return bridge.filter((st) => inPart(st, part));
    const nft: Step[] = nftHookChains(parsed.ruleset, hook.toLowerCase() as never, family).map((c) => ({
      kind: 'nft',
      chain: c,
      priority: c.priority,
      nat: c.chain.base?.type === 'nat',
    }));
    const ipt: Step[] = HOOK_TABLES[hook]
      .filter((t) => iptables.ruleset.tables[t]?.chains.some((c) => c.name === hook && c.rules.length))
      .map((t) => ({ kind: 'ipt', table: t, priority: iptablesPriority(t, hook), nat: t === 'nat' }));
    // nftables chains first on a tie: kube-proxy's tables are registered after iptables-nft's fixed ones is not
    // guaranteed either way; the two never both translate one connection (the first translation wins).
    return [...ingress, ...bridge, ...nft, ...ipt]
      .map((s, i) => ({ s, i }))
      .sort((a, b) => a.s.priority - b.s.priority || a.i - b.i)
      .map((x) => x.s)
      .filter((st) => inPart(st, part));
  };
  /** ClientIP affinity: the set an endpoint chain updates with the client (`update @affinity-… { ip saddr }`). */
  const remembersOf = (table: string, chain: string): FilterNat['remembers'] => {
    const t = kp.ruleset.tables.find((x) => `${x.family} ${x.name}` === table);
    for (const rule of t?.chains.get(chain)?.rules ?? [])
      for (const it of rule.items)
        if (it.kind === 'set-update') {
          const seconds = t?.sets.get(it.set)?.timeout;
          return { list: it.set, ...(seconds !== undefined ? { seconds } : {}) };
        }
    return undefined;
  };
  let text: string | undefined;
  const ownText = own ? `${own.text.trimEnd()}\n` : '';
  const blocks: RulesBlock[] = [
    ...(nftText
      ? [{ label: 'kube-proxy (nftables mode)', author: 'kube-proxy' as const, start: 0, end: nftText.length }]
      : []),
    ...iptables.blocks.map((b) => ({ ...b, start: b.start + shift, end: b.end + shift })),
  ];
  // Per node (its addresses are in the context): the endpoint paths of a Service cross its hooks as siblings.
  const siblings = new SiblingAnswers<FilterContext>();
  const plans = new Map<string, Plan>();
  const inOwn = (span: Span): boolean =>
    !!own && span.file === own.span.file && span.start >= own.span.start && span.start < own.span.end;
  return {
    backend: 'nftables',
    get text() {
      return (text ??= `${nftText ? `${nftText}\n` : ''}${iptables.text}${ownText ? `\n${ownText}` : ''}`);
    },
    problems: [
      ...kp.problems,
      ...(mine?.problems ?? []).map(ownProblem),
      ...iptables.problems.map((p) => ({ ...p, span: moveSpan(p.span) })),
    ],
    blocks,
    evaluate(hook: Hook, packet: FilterPacket, ctx: FilterContext, part?: HookPart): FilterResult {
      type Live = FilterOutcome & { natDone: boolean; conntrack: FilterContext['conntrack'] };
      let live: Live[] = [
        {
          probability: 1,
          verdict: 'ACCEPT',
          packet,
          nat: [],
          decisions: [],
          problems: [],
          natDone: false,
          conntrack: ctx.conntrack,
        },
      ];
      const done: FilterOutcome[] = [];
      // The steps of a hook are the same for every path that asks with the same devices (a frame crossing a bridge
      // has its ports in them: not kept).
      let plan: Plan | undefined;
      if (packet.bridgeFrame) plan = planOf(steps(hook, packet, part));
      else {
        const k = planKey(hook, packet, part);
        plan = plans.get(k);
        if (!plan) plans.set(k, (plan = planOf(steps(hook, packet, part))));
      }
      const key = nftSiblingKey(hook, packet, ctx, part, plan);
      const answered = siblings.answer(key, packet, ctx);
      if (answered) return answered;
      // The questions the rules ask of the fields siblings differ in, nftables' and iptables' (per outcome's context).
      const recorder: NftSiblingRecorder | undefined = key === undefined ? undefined : { questions: [], alike: true };
      const iptQuestions: { readonly questions: readonly SiblingQuestion[]; readonly ctx: EvalContext }[] = [];
      const iptEvaluate = (table: TableName, p: FilterPacket, c: EvalContext) => {
        const ruleset = { tables: { [table]: iptables.ruleset.tables[table] } } as Ruleset;
        if (!recorder) return evaluateHook(ruleset, hook, p, c);
        const { result, questions } = evaluateHookForSiblings(ruleset, hook, p, c);
        if (questions) iptQuestions.push({ questions, ctx: c });
        else recorder.alike = false;
        return result;
      };
      for (const step of plan.steps) {
        const next: Live[] = [];
        for (const l of live) {
          if (step.nat && (l.natDone || l.conntrack.state !== 'NEW')) {
            next.push(l);
            continue;
          }
          const c = { ...ctx, conntrack: l.conntrack };
          const outs: { o: FilterOutcome; conntrack: FilterContext['conntrack'] }[] =
            step.kind === 'nft'
              ? evaluateNftHook(
                  parsed.ruleset,
                  step.ingress ? 'ingress' : (hook.toLowerCase() as never),
                  step.bridge ? bridgePacket(l.packet) : l.packet,
                  c,
                  [step.chain],
                  recorder,
                ).outcomes.map((o) => ({
                  o: {
                    probability: o.probability,
                    verdict: o.verdict,
                    // (A bridge chain's view of the interfaces, the ports, stays its own.)
                    packet: {
                      ...l.packet,
                      ...o.packet,
                      ...(step.bridge ? { inIface: l.packet.inIface, outIface: l.packet.outIface } : {}),
                    },
                    nat: o.nat.map((n): FilterNat => {
                      const remembers = n.type === 'DNAT' ? remembersOf(n.table, n.chain) : undefined;
                      return {
                        ...n,
                        span: ownSpan(n.span),
                        type: n.type === 'REDIRECT' ? 'DNAT' : n.type,
                        ...(remembers ? { remembers } : {}),
                      };
                    }),
                    decisions: o.decisions.map((d) => ({
                      ...toDecision(d.span ? { ...d, span: ownSpan(d.span) } : d),
                      ...(step.ingress ? { hook: 'INGRESS' as const, family: 'netdev' as const } : {}),
                      ...(step.bridge ? { hook, family: 'bridge' as const } : {}),
                    })),
                    problems: o.problems.map(ownProblem),
                  },
                  conntrack: {
                    ...l.conntrack,
                    ...(o.conntrack.dnat ? { dnat: true } : {}),
                    ...(o.conntrack.snat ? { snat: true } : {}),
                  },
                }))
              : placeHookResult(iptables, iptEvaluate(step.table, l.packet, c)).outcomes.map((o) => ({
                  o: {
                    probability: o.probability,
                    verdict: o.verdict,
                    packet: o.packet,
                    nat: o.nat.map((n) => ({ ...n, span: moveSpan(n.span) })),
                    decisions: o.decisions.map((d) => ({ ...d, ...(d.span ? { span: moveSpan(d.span) } : {}) })),
                    problems: o.problems,
                  },
                  conntrack: {
                    ...l.conntrack,
                    ...(o.conntrack.dnat ? { dnat: true } : {}),
                    ...(o.conntrack.snat ? { snat: true } : {}),
                  },
                }));
          for (const { o, conntrack } of outs) {
            const merged: Live = {
              probability: l.probability * o.probability,
              verdict: o.verdict,
              packet: o.packet,
              nat: [...l.nat, ...o.nat],
              decisions: [...l.decisions, ...o.decisions],
              problems: [...l.problems, ...o.problems],
              natDone: l.natDone || (step.nat && o.nat.length > 0),
              conntrack,
            };
            if (o.verdict === 'ACCEPT') next.push(merged);
            else done.push(merged);
          }
        }
        live = next;
      }
      for (const l of live) done.push(l);
      const result: FilterResult = {
        outcomes: done.map((o) => ({
          probability: o.probability,
          verdict: o.verdict,
          packet: o.packet,
          nat: o.nat,
          decisions: o.decisions,
          problems: o.problems,
        })),
      };
      if (key !== undefined && recorder?.alike && done.every((o) => o.problems.length === 0)) {
        const { questions } = recorder;
        siblings.keep(
          key,
          (sibling, c) =>
            siblingContextAlike(ctx, c) &&
            nftSiblingAnswersAlike(questions, sibling) &&
            iptQuestions.every((q) => siblingAnswersAlike(q.questions, sibling, q.ctx)),
          result,
        );
      }
      return result;
    },
    authorAt(span: Span): RulesBlock['author'] | undefined {
      if (inOwn(span)) return 'node-nftables';
      if (span.file !== rulesFile) return 'node-iptables';
      return blocks.find((b) => span.start >= b.start && span.start < b.end)?.author;
    },
    *rules(): Iterable<FilterRuleSummary> {
      for (const table of parsed.ruleset.tables)
        for (const chain of table.chains.values())
          for (const rule of chain.rules)
            yield {
              table: `${table.family} ${table.name}`,
              chain: chain.name,
              text: rule.text,
              span: ownSpan(rule.span),
              ...nftRuleMatches(rule),
            };
      for (const table of Object.values(iptables.ruleset.tables).flatMap((t) => t ?? []))
        for (const chain of table.chains)
          for (const rule of chain.rules) {
            const prefixes = rule.matches.flatMap((m) =>
              m.kind === 'source' || m.kind === 'destination' ? [m.prefix] : [],
            );
            const interfaces = rule.matches.flatMap((m) =>
              m.kind === 'inInterface' || m.kind === 'outInterface' ? [m.name] : [],
            );
            yield {
              table: table.name,
              chain: chain.name,
              text: rule.text,
              span: moveSpan(rule.span),
              prefixes,
              interfaces,
            };
          }
    },
    chainRole(table: string, chain: string): ChainRole | undefined {
      if (/^ip6? kube-proxy$/.test(table))
        return nftText && (chain === 'firewall-check' || chain.startsWith('firewall-'))
          ? 'service-firewall'
          : undefined;
      // kube-proxy in iptables mode beside the node's own nft tables.
      return !table.includes(' ') && !nftText ? KUBE_PROXY_IPTABLES_KNOWLEDGE.chainRole(table, chain) : undefined;
    },
  };
}
