/**
 * The nftables backend of {@link PacketFilter}, for kube-proxy's nftables mode: kube-proxy's `ip`/`ip6 kube-proxy`
 * tables (generated, evaluated by src/core/nftables) and the other authors' iptables rules (the CNI plug-in,
 * ip-masq-agent, the node's own `iptables:` lines: iptables-nft tables at their fixed priorities) run on one hook
 * in the kernel's order: every base chain by priority, nat chains only for a new connection and only until one of
 * them translated it. The text is kube-proxy's nft tables followed by the iptables-save text.
 */
import { HOOK_TABLES, evaluateHook } from '../netfilter/evaluate';
import type { DecisionEffect, Hook, Ruleset, TableName } from '../netfilter/types';
import { evaluateNftHook, nftHookChains, parseNftRuleset, type NftDecision, type NftHookChain } from '../nftables';
import type { Span } from '../problem';
import type {
  ChainRole,
  FilterContext,
  FilterDecision,
  FilterNat,
  FilterOutcome,
  FilterPacket,
  FilterResult,
  FilterRuleSummary,
  PacketFilter,
} from './filter';
import { placeHookResult, placeRulesSpan } from './node-rules';
import type { NodeRules, RulesBlock } from './types';

/** iptables-nft tables' priorities (raw -300, mangle -150, nat dstnat -100 / srcnat 100, filter 0). */
function iptPriority(table: TableName, hook: Hook): number {
  if (table === 'raw') return -300;
  if (table === 'mangle') return -150;
  if (table === 'filter') return 0;
  return hook === 'POSTROUTING' || hook === 'INPUT' ? 100 : -100;
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
  ...effectOf(d.action),
});

type Step =
  | { readonly kind: 'nft'; readonly chain: NftHookChain; readonly priority: number; readonly nat: boolean }
  | { readonly kind: 'ipt'; readonly table: TableName; readonly priority: number; readonly nat: boolean };

export interface NftablesFilterInput {
  /** kube-proxy's tables as nft text. */
  readonly nftText: string;
  /** The other authors' iptables rules (kube-proxy left out). */
  readonly iptables: NodeRules;
  readonly rulesFile: string;
}

export function nftablesFilter({ nftText, iptables, rulesFile }: NftablesFilterInput): PacketFilter {
  const parsed = parseNftRuleset(nftText, rulesFile, 0);
  const shift = nftText.length + 1;
  const moveSpan = <S extends Span | undefined>(s: S): S => {
    const placed = placeRulesSpan(iptables, s);
    return (
      placed && placed.file === rulesFile ? { ...placed, start: placed.start + shift, end: placed.end + shift } : placed
    ) as S;
  };
  const steps = (hook: Hook, family: 4 | 6): Step[] => {
    const nft: Step[] = nftHookChains(parsed.ruleset, hook.toLowerCase() as never, family).map((c) => ({
      kind: 'nft',
      chain: c,
      priority: c.priority,
      nat: c.chain.base?.type === 'nat',
    }));
    const ipt: Step[] = HOOK_TABLES[hook]
      .filter((t) => iptables.ruleset.tables[t]?.chains.some((c) => c.name === hook && c.rules.length))
      .map((t) => ({ kind: 'ipt', table: t, priority: iptPriority(t, hook), nat: t === 'nat' }));
    // nftables chains first on a tie: kube-proxy's tables are registered after iptables-nft's fixed ones is not
    // guaranteed either way; the two never both translate one connection (the first translation wins).
    return [...nft, ...ipt]
      .map((s, i) => ({ s, i }))
      .sort((a, b) => a.s.priority - b.s.priority || a.i - b.i)
      .map((x) => x.s);
  };
  /** ClientIP affinity: the set an endpoint chain updates with the client (`update @affinity-… { ip saddr }`). */
  const remembersOf = (table: string, chain: string): FilterNat['remembers'] => {
    const t = parsed.ruleset.tables.find((x) => `${x.family} ${x.name}` === table);
    for (const rule of t?.chains.get(chain)?.rules ?? [])
      for (const it of rule.items)
        if (it.kind === 'set-update') {
          const seconds = t?.sets.get(it.set)?.timeout;
          return { list: it.set, ...(seconds !== undefined ? { seconds } : {}) };
        }
    return undefined;
  };
  let text: string | undefined;
  const blocks: RulesBlock[] = [
    { label: 'kube-proxy (nftables mode)', author: 'kube-proxy', start: 0, end: nftText.length },
    ...iptables.blocks.map((b) => ({ ...b, start: b.start + shift, end: b.end + shift })),
  ];
  return {
    backend: 'nftables',
    get text() {
      return (text ??= `${nftText}\n${iptables.text}`);
    },
    problems: [...parsed.problems, ...iptables.problems.map((p) => ({ ...p, span: moveSpan(p.span) }))],
    blocks,
    evaluate(hook: Hook, packet: FilterPacket, ctx: FilterContext): FilterResult {
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
      for (const step of steps(hook, packet.family)) {
        const next: Live[] = [];
        for (const l of live) {
          if (step.nat && (l.natDone || l.conntrack.state !== 'NEW')) {
            next.push(l);
            continue;
          }
          const c = { ...ctx, conntrack: l.conntrack };
          const outs: { o: FilterOutcome; conntrack: FilterContext['conntrack'] }[] =
            step.kind === 'nft'
              ? evaluateNftHook(parsed.ruleset, hook.toLowerCase() as never, l.packet, c, [step.chain]).outcomes.map(
                  (o) => ({
                    o: {
                      probability: o.probability,
                      verdict: o.verdict,
                      packet: { ...l.packet, ...o.packet },
                      nat: o.nat.map((n): FilterNat => {
                        const remembers = n.type === 'DNAT' ? remembersOf(n.table, n.chain) : undefined;
                        return {
                          ...n,
                          type: n.type === 'REDIRECT' ? 'DNAT' : n.type,
                          ...(remembers ? { remembers } : {}),
                        };
                      }),
                      decisions: o.decisions.map(toDecision),
                      problems: o.problems,
                    },
                    conntrack: {
                      ...l.conntrack,
                      ...(o.conntrack.dnat ? { dnat: true } : {}),
                      ...(o.conntrack.snat ? { snat: true } : {}),
                    },
                  }),
                )
              : placeHookResult(
                  iptables,
                  evaluateHook(
                    { tables: { [step.table]: iptables.ruleset.tables[step.table] } } as Ruleset,
                    hook,
                    l.packet,
                    c,
                  ),
                ).outcomes.map((o) => ({
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
      return {
        outcomes: done.map((o) => ({
          probability: o.probability,
          verdict: o.verdict,
          packet: o.packet,
          nat: o.nat,
          decisions: o.decisions,
          problems: o.problems,
        })),
      };
    },
    authorAt(span: Span): RulesBlock['author'] | undefined {
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
              span: rule.span,
              prefixes: [],
              interfaces: [],
            };
      for (const table of Object.values(iptables.ruleset.tables))
        for (const chain of table?.chains ?? [])
          for (const rule of chain.rules) {
            const prefixes = rule.matches.flatMap((m) =>
              m.kind === 'source' || m.kind === 'destination' ? [m.prefix] : [],
            );
            const interfaces = rule.matches.flatMap((m) =>
              m.kind === 'inInterface' || m.kind === 'outInterface' ? [m.name] : [],
            );
            yield {
              table: table!.name,
              chain: chain.name,
              text: rule.text,
              span: moveSpan(rule.span),
              prefixes,
              interfaces,
            };
          }
    },
    chainRole(table: string, chain: string): ChainRole | undefined {
      if (!/^ip6? kube-proxy$/.test(table)) return undefined;
      return chain === 'firewall-check' || chain.startsWith('firewall-') ? 'service-firewall' : undefined;
    },
  };
}
