/**
 * The iptables backend of {@link PacketFilter}: a node's iptables-save ruleset (NodeRules, assembled by
 * node-rules.ts from kube-proxy, the CNI plug-in, ip-masq-agent and the node's own lines), evaluated by the
 * general iptables model in src/core/netfilter.
 */
import {
  HOOK_TABLES,
  chainsOf,
  evaluateHookForSiblings,
  siblingAnswersAlike,
  siblingContextAlike,
  SiblingKeys,
} from '../netfilter/evaluate';
import type { Chain, EvalContext, Hook, NatRecord, Ruleset, TableName } from '../netfilter/types';
import { rulesMentioningOf } from '../netfilter/chains';
import type { Prefix } from '../net/address';
import type { Span } from '../problem';
import type {
  ChainRole,
  FilterContext,
  FilterNat,
  FilterPacket,
  FilterResult,
  FilterRuleSummary,
  HookPart,
  PacketFilter,
  RulesKnowledge,
} from './filter';
import { TABLES_BEFORE_POLICY, inHookPart, iptablesPriority } from './filter';
import { placeHookResult, placeRulesSpan } from './node-rules';
import { SiblingAnswers } from './siblings';
import type { NodeRules, RulesBlock } from './types';

export interface IptablesFilter extends PacketFilter {
  readonly backend: 'iptables';
  /** The parsed ruleset (for tests and iptables-specific tools; the walk uses {@link PacketFilter} only). */
  readonly ruleset: Ruleset;
}

/**
 * A node's iptables filter. `rulesFile` is the pseudo file generated rules' spans point into (a rule outside it came
 * from the node's own YAML lines); `knowledge` is what the generators know of their chains.
 */
const REMEMBERING = new WeakMap<Ruleset, Map<string, { list: string; seconds?: number }>>();

const NOT_SEARCHED = Symbol('not searched');
const SEARCHED = new WeakMap<Ruleset, Map<string, FilterNat['remembers']>>();

/**
 * What the rule `text` of `chain` remembers, found without reading every rule of the ruleset when its parser offers a
 * search by text: the list its last `recent --set` names (as the full scan keeps the last one), and the `--seconds`
 * of the first rule that checks that list (`--rcheck` or `--update`), in table, chain and rule order. The default
 * list, which no line names, is left to the full scan.
 */
function rememberedBySearch(
  ruleset: Ruleset,
  table: string,
  chain: Chain,
  text: string,
): FilterNat['remembers'] | typeof NOT_SEARCHED {
  const search = rulesMentioningOf(ruleset);
  if (!search) return NOT_SEARCHED;
  let list: string | undefined;
  for (const rule of chain.rules)
    if (rule.text === text) for (const m of rule.matches) if (m.kind === 'recent' && m.command === 'set') list = m.name;
  if (list === undefined || list === 'DEFAULT') return NOT_SEARCHED;
  let cache = SEARCHED.get(ruleset);
  if (!cache) SEARCHED.set(ruleset, (cache = new Map()));
  const key = `${table}\u0000${chain.name}\u0000${text}`;
  if (cache.has(key)) return cache.get(key);
  let seconds: number | undefined;
  for (const { rule } of search(list)) {
    for (const m of rule.matches)
      if (m.kind === 'recent' && m.name === list && (m.command === 'rcheck' || m.command === 'update')) {
        if (m.seconds !== undefined) seconds = m.seconds;
        if (seconds !== undefined) break;
      }
    if (seconds !== undefined) break;
  }
  const out = seconds !== undefined ? { list, seconds } : { list };
  cache.set(key, out);
  return out;
}

/**
 * The tables of one part of a hook (see {@link HookPart}), by hook and part: the same few lists for every node, asked
 * at every hook of every path, so each is made once (and is the same array every time).
 */
const PART_TABLES = new Map<string, readonly TableName[]>();
function tablesOfPart(hook: Hook, part: HookPart): readonly TableName[] {
  const key = `${hook} ${part}`;
  let tables = PART_TABLES.get(key);
  if (!tables) {
    const before = TABLES_BEFORE_POLICY[hook];
    tables =
      part === 'before-reroute' || part === 'reroute-to-policy'
        ? HOOK_TABLES[hook].filter((t) => before.includes(t) && inHookPart(iptablesPriority(t, hook), false, part))
        : HOOK_TABLES[hook].filter((t) => before.includes(t) === (part === 'before-policy'));
    PART_TABLES.set(key, tables);
  }
  return tables;
}

export function iptablesFilter(rules: NodeRules, rulesFile: string, knowledge?: RulesKnowledge): IptablesFilter {
  const ruleset = rules.ruleset;
  // Per node (its addresses are in the context): the endpoint paths of a Service cross its hooks as siblings.
  const siblings = new SiblingAnswers<EvalContext>();
  const siblingKeys = new SiblingKeys();
  /** The `recent --set` list of the rule at chain + text, with a `--seconds` some check of that list gives. */
  const remembersOf = (r: NatRecord): FilterNat['remembers'] => {
    // Only a rule that sets a recent list remembers: look at that rule alone before reading the whole ruleset
    // (whose chains are parsed as they are read).
    const table = ruleset.tables[r.table];
    const chain = table ? chainsOf(table).get(r.chain) : undefined;
    const sets = chain?.rules.some(
      (rule) => rule.text === r.ruleText && rule.matches.some((m) => m.kind === 'recent' && m.command === 'set'),
    );
    if (!sets || !chain) return undefined;
    const found = rememberedBySearch(ruleset, r.table, chain, r.ruleText);
    if (found !== NOT_SEARCHED) return found;
    // Once per parsed ruleset, not per node: alike nodes share one ruleset object.
    let remembering = REMEMBERING.get(ruleset);
    if (!remembering) {
      remembering = new Map();
      REMEMBERING.set(ruleset, remembering);
      const seconds = new Map<string, number>();
      for (const table of Object.values(ruleset.tables)) {
        if (!table) continue;
        for (const chain of table.chains) {
          for (const rule of chain.rules) {
            for (const m of rule.matches) {
              if (m.kind !== 'recent') continue;
              if (m.command === 'set')
                remembering.set(`${table.name}\u0000${chain.name}\u0000${rule.text}`, { list: m.name });
              else if (
                (m.command === 'rcheck' || m.command === 'update') &&
                m.seconds !== undefined &&
                !seconds.has(m.name)
              )
                seconds.set(m.name, m.seconds);
            }
          }
        }
      }
      for (const [k, v] of remembering) {
        const s = seconds.get(v.list);
        if (s !== undefined) remembering.set(k, { ...v, seconds: s });
      }
    }
    return remembering.get(`${r.table}\u0000${r.chain}\u0000${r.ruleText}`);
  };

  return {
    backend: 'iptables',
    ruleset,
    get text() {
      return rules.text;
    },
    get problems() {
      return rules.problems;
    },
    blocks: rules.blocks,
    evaluate(hook: Hook, packet: FilterPacket, ctx: FilterContext, part?: HookPart): FilterResult {
      // A hook in two parts around NetworkPolicy's place (the filter table's first rule): the tables of each side.
      // Around OUTPUT's re-route (after the nat table): the tables by their priority.
      const tables = part ? tablesOfPart(hook, part) : undefined;
      const context = tables ? { ...ctx, tables } : ctx;
      const key = siblingKeys.of(hook, packet, context);
      const answered = siblings.answer(key, packet, context);
      if (answered) return answered;
      const { result, questions } = evaluateHookForSiblings(ruleset, hook, packet, context);
      const res = placeHookResult(rules, result);
      const filtered: FilterResult = {
        outcomes: res.outcomes.map((o) => ({
          probability: o.probability,
          verdict: o.verdict,
          packet: o.packet,
          decisions: o.decisions,
          problems: o.problems,
          nat: o.nat.length
            ? o.nat.map((r) => {
                const remembers = r.type === 'DNAT' ? remembersOf(r) : undefined;
                return remembers ? { ...r, remembers } : r;
              })
            : o.nat,
        })),
      };
      if (key !== undefined && questions)
        siblings.keep(
          key,
          (sibling, ctx) => siblingContextAlike(context, ctx) && siblingAnswersAlike(questions, sibling, context),
          filtered,
        );
      return filtered;
    },
    authorAt(span: Span): RulesBlock['author'] | undefined {
      if (span.file !== rulesFile) return 'node-iptables';
      return rules.blocks.find((b) => span.start >= b.start && span.start < b.end)?.author;
    },
    *rules(): Iterable<FilterRuleSummary> {
      for (const table of Object.values(ruleset.tables)) {
        if (!table) continue;
        for (const chain of table.chains) {
          for (const rule of chain.rules) {
            const prefixes: Prefix[] = [];
            const interfaces: string[] = [];
            for (const m of rule.matches) {
              if (m.kind === 'source' || m.kind === 'destination') prefixes.push(m.prefix);
              if (m.kind === 'inInterface' || m.kind === 'outInterface') interfaces.push(m.name);
            }
            yield {
              table: table.name,
              chain: chain.name,
              text: rule.text,
              span: placeRulesSpan(rules, rule.span),
              prefixes,
              interfaces,
            };
          }
        }
      }
    },
    chainRole(table: string, chain: string): ChainRole | undefined {
      return knowledge?.chainRole(table, chain);
    },
  };
}
