/**
 * A table's chains by name, kept beside the table (kube-proxy's nat table has 100,000s of chains): the evaluator
 * looks every jump up here. A parser that already holds its chains by name hands its map over instead of having
 * it built again from the list.
 */
import type { Chain, Rule, Ruleset, Table, TableName } from './types';

const CHAINS = new WeakMap<Table, ReadonlyMap<string, Chain>>();

/** The chains of `table` by name; the first chain of a name wins, as `table.chains.find` would. */
export function chainsOf(table: Table): ReadonlyMap<string, Chain> {
  let m = CHAINS.get(table);
  if (!m) {
    const byName = new Map<string, Chain>();
    for (const c of table.chains) if (!byName.has(c.name)) byName.set(c.name, c);
    CHAINS.set(table, (m = byName));
  }
  return m;
}

/** Records `byName` as the chains of `table` by name: it must hold exactly `table.chains`, each name once. */
export function knowChainsOf(table: Table, byName: ReadonlyMap<string, Chain>): void {
  CHAINS.set(table, byName);
}

/**
 * A long chain's rules looked up the way the kernel's own structures would answer (ipset / nft maps, and what
 * kube-proxy's KUBE-SERVICES dispatch amounts to): rules that can only match one destination address are listed
 * under it, rules that can only match one destination port under that, the rest in `rest`. A packet only needs
 * the rules under its destination and port plus the rest, in order. Skipping the others changes nothing: a rule
 * whose `-d` or `--dport` fails never matches, and iptables checks those before any match with a side effect.
 * Rules that cannot be evaluated stay in `rest`, so reaching them is still reported.
 */
export interface ChainIndex {
  readonly byDst: ReadonlyMap<string, readonly number[]>;
  readonly byPort: ReadonlyMap<number, readonly number[]>;
  readonly rest: readonly number[];
}

/** Chains shorter than this are walked rule by rule (the index would cost more than it saves). */
export const INDEX_MIN_RULES = 24;

export function indexKey(family: number, value: bigint): string {
  return `${family}:${value}`;
}

/**
 * A chain whose index is known before its rules are parsed (each line's destination and port read off the line as
 * its writer lays it out), so a packet parses only the rules it can match: the 10,000s of KUBE-SERVICES rules of a
 * large cluster are not all parsed for a trace that enters one Service. `ruleAt(i)` is the rule `rules[i]` would be.
 */
export interface IndexedRules {
  readonly index: ChainIndex;
  ruleAt(i: number): Rule;
}

const INDEXED = new WeakMap<Chain, () => IndexedRules | undefined>();
const INDEXED_DONE = new WeakMap<Chain, IndexedRules | null>();

/** Offers an index of `chain` made without parsing it (worked out on first use; undefined when it cannot be). */
export function offerIndexedRules(chain: Chain, make: () => IndexedRules | undefined): void {
  INDEXED.set(chain, make);
}

/** The index and single-rule access of `chain`, when its parser offered one that could be made. */
export function indexedRulesOf(chain: Chain): IndexedRules | undefined {
  let done = INDEXED_DONE.get(chain);
  if (done === undefined) {
    done = INDEXED.get(chain)?.() ?? null;
    INDEXED_DONE.set(chain, done);
  }
  return done ?? undefined;
}

/** A rule with the table and chain it is in. */
export interface RuleRef {
  readonly table: TableName;
  readonly chain: string;
  readonly rule: Rule;
}

const MENTIONING = new WeakMap<Ruleset, (needle: string) => RuleRef[]>();

/**
 * Offers a search of `ruleset`'s rules by their line's text: every rule with a word whose value is `needle` (its
 * line contains it once quotes and backslashes are left out of both), in table, chain and rule order. It may give
 * more rules than that, never fewer; only those lines are parsed.
 */
export function offerRulesMentioning(ruleset: Ruleset, search: (needle: string) => RuleRef[]): void {
  MENTIONING.set(ruleset, search);
}

/** The search {@link offerRulesMentioning} offered for `ruleset`, if its parser offered one. */
export function rulesMentioningOf(ruleset: Ruleset): ((needle: string) => RuleRef[]) | undefined {
  return MENTIONING.get(ruleset);
}
