/**
 * kube-proxy's iptables-mode chains, scanned and parsed once for all the nodes that write the same ones, on nodes
 * whose rulesets also have lines of their own.
 *
 * A node with nothing of its own shares its whole parsed ruleset with the nodes alike (node-rules.ts). Most clusters'
 * nodes have something: the bridge plug-in's ipMasq writes a chain per pod, flannel names the node's pod subnet,
 * portmap a chain per hostPort. Their rulesets differ, but kube-proxy's 100,000s of chains in them are the same
 * lines on every node whose kube-proxy output is the same object (the generator gives alike nodes one). Those are
 * scanned once into a "template": kube-proxy's tables alone, in a file of their own. Each node scans only its own
 * lines (the built-in chains, where kube-proxy's jumps and the others' rules meet, and the other authors' chains),
 * passing over kube-proxy's declarations and user chains by their length, so its offsets are its text's. Its ruleset
 * takes the built-in and its own chains from that scan and kube-proxy's user chains from the template: the same
 * chain and rule objects on every node, so a trace through a Service on one node finds the rules parsed and the
 * decisions made by the trace before on another. The template's spans are placed in the node's text by region
 * (kube-proxy's declarations and its rules of each table sit at their own offset among the node's lines).
 *
 * Without this, every node a trace crosses scanned kube-proxy's whole ruleset again: on 1,000 nodes with the bridge
 * plug-in's ipMasq, a quarter of a second per trace.
 */
import { chainsOf, knowChainsOf, offerRulesMentioning, rulesMentioningOf, type RuleRef } from '../netfilter/chains';
import { ChainMapView, lazyScanner, type LineFact, type ParseMemo } from '../netfilter/parse';
import {
  BUILTIN_CHAINS,
  TABLE_NAMES,
  type Chain,
  type ParseResult,
  type Ruleset,
  type Table,
  type TableName,
} from '../netfilter/types';
import { work } from '../work';
import { BUILTIN_DECLS, declsOf, walkAssembly, type Part, type RulesRun } from './node-rules';
import type { RulesBlock } from './types';

/** The file name a template is parsed under; its spans never leave the filter under it (see `placeRulesSpan`). */
export const IPTABLES_TEMPLATE_FILE = '\u0000kube-proxy-iptables-template';

/** kube-proxy's Service chains: the only ones no other line of a node jumps to (see `shadows`). */
const SERVICE_CHAIN = /^KUBE-(?:SVC|SVL|EXT|FW|SEP)-/;

/** Where kube-proxy's lines of one table are in the template's text. */
interface TemplateTable {
  /** kube-proxy's own declaration lines of built-in chains (as node-rules.ts writes them). */
  readonly builtinDecls: ReadonlyMap<string, string>;
  /** kube-proxy's user chain declarations: from `declStart` to `declEnd` (absent when it declares none). */
  readonly declStart?: number;
  readonly declEnd: number;
  /**
   * kube-proxy's user chains other than its Service chains, with their offset from `declStart`: declared again in
   * each node's own scan so that its lines' jumps to them (KUBE-SERVICES, KUBE-POSTROUTING...) are found there.
   */
  readonly shadows: readonly { readonly name: string; readonly at: number }[];
  /** kube-proxy's block of rules (after its label line): from `blockStart` to `blockEnd`. */
  readonly blockStart?: number;
  readonly blockEnd: number;
  /** kube-proxy's runs in built-in chains, with their offset from `blockStart` and length: scanned by each node. */
  readonly builtinRuns: readonly { readonly run: RulesRun; readonly at: number; readonly chars: number }[];
}

export interface IptablesTemplate {
  readonly tables: ReadonlyMap<TableName, TemplateTable>;
  readonly parsed: ParseResult;
}

const runChars = (r: RulesRun): number => {
  if (r.chars !== undefined) return r.chars;
  let n = 0;
  for (const l of r.rules) n += l.length + 1;
  return n;
};

/** kube-proxy's part alone, scanned and measured; undefined when the lazy scan does not take its text. */
export function makeIptablesTemplate(kubeProxy: Part, memo: ParseMemo): IptablesTemplate | undefined {
  const scan = lazyScanner(IPTABLES_TEMPLATE_FILE, memo);
  interface Building {
    builtinDecls: Map<string, string>;
    declStart?: number;
    declEnd: number;
    shadows: { name: string; at: number }[];
    blockStart?: number;
    blockEnd: number;
    builtinRuns: { run: RulesRun; at: number; chars: number }[];
  }
  const tables = new Map<TableName, Building>();
  let current: Building | undefined;
  let builtins: ReadonlySet<string> = new Set();
  let at = 0;
  walkAssembly(
    [],
    [kubeProxy],
    (line, part, fact) => {
      scan.line(line, fact);
      const name = line.slice(1);
      if (part === undefined && line.startsWith('*') && TABLE_NAMES.some((t) => t === name)) {
        const table = TABLE_NAMES.find((t) => t === name) ?? 'filter';
        current = { builtinDecls: new Map(), declEnd: 0, shadows: [], blockEnd: 0, builtinRuns: [] };
        tables.set(table, current);
        builtins = new Set(BUILTIN_DECLS[table]);
      } else if (part === kubeProxy && fact === undefined && line.startsWith(':'))
        current?.builtinDecls.set(line.slice(1, line.indexOf(' ')), line);
      at += line.length + 1;
    },
    (r) => {
      scan.run(r);
      const chars = runChars(r);
      if (current) {
        current.blockStart ??= at;
        if (builtins.has(r.chain)) current.builtinRuns.push({ run: r, at: at - current.blockStart, chars });
        current.blockEnd = at + chars;
      }
      at += chars;
    },
    (name) => {
      scan.decl(name);
      if (current) {
        current.declStart ??= at;
        if (!SERVICE_CHAIN.test(name)) current.shadows.push({ name, at: at - current.declStart });
        current.declEnd = at + name.length + 10;
      }
      at += name.length + 10;
    },
  );
  const parsed = scan.end();
  if (!parsed) return undefined;
  work.kubeProxyIptablesRulesets++;
  return { tables, parsed };
}

/** A node's ruleset: its own lines scanned, kube-proxy's user chains the template's. */
export interface ComposedRules {
  readonly ruleset: Ruleset;
  /** Problems of the node's own scan and of the template: both empty means the node's whole ruleset has none. */
  readonly ownProblems: () => readonly unknown[];
  readonly blocks: readonly RulesBlock[];
  /** Regions of the template's text and how far each moves into the node's. */
  readonly regions: readonly { readonly start: number; readonly end: number; readonly shift: number }[];
}

/** The chain a `-A` line adds to, or undefined for any other line. */
const chainOfLine = (line: string): string | undefined => {
  if (!line.startsWith('-A ')) return undefined;
  const sp = line.indexOf(' ', 3);
  return sp < 0 ? undefined : line.slice(3, sp);
};

/**
 * The node's ruleset from its own lines and the template, or undefined when another author touches one of
 * kube-proxy's user chains (its lines would be in the chain) or the node's own lines are not ones the lazy scan takes.
 * `parts` are the node's, kube-proxy's first (the part the template was made of).
 */
export function composeWithTemplate(
  header: readonly string[],
  parts: readonly Part[],
  template: IptablesTemplate,
  file: string,
  memo: ParseMemo,
): ComposedRules | undefined {
  const [kubeProxy, ...others] = parts;
  if (!kubeProxy) return undefined;
  const kubeProxyUser = (table: TableName, name: string): boolean => {
    const theirs = template.parsed.ruleset.tables[table];
    return theirs !== undefined && !BUILTIN_DECLS[table].includes(name) && chainsOf(theirs).has(name);
  };
  for (const table of TABLE_NAMES) {
    if (kubeProxy.tables[table] && !template.tables.has(table)) return undefined;
    for (const p of others) {
      const lines = p.tables[table];
      if (!lines) continue;
      let touches = false;
      declsOf(lines, BUILTIN_DECLS[table]).each((name) => (touches ||= kubeProxyUser(table, name)));
      if (lines.runs) touches ||= lines.runs.some((r) => kubeProxyUser(table, r.chain));
      else
        for (const l of lines.rules) {
          const chain = chainOfLine(l);
          if (chain === undefined || kubeProxyUser(table, chain)) touches = true;
        }
      if (touches) return undefined;
    }
  }

  // The node's text as node-rules.ts assembles it (walkAssembly), kube-proxy's user chains passed over.
  const scan = lazyScanner(file, memo);
  const blocks: RulesBlock[] = [];
  const regions: { start: number; end: number; shift: number }[] = [];
  let at = 0;
  const add = (line: string, fact?: LineFact): void => {
    scan.line(line, fact);
    at += line.length + 1;
  };
  for (const l of header) add(l);
  for (const table of TABLE_NAMES) {
    const present = parts.flatMap((p) => {
      const lines = p.tables[table];
      return lines ? [{ p, lines }] : [];
    });
    if (!present.length) continue;
    const mine = template.tables.get(table);
    add(`*${table}`);
    const builtins = BUILTIN_DECLS[table];
    const decls = present.map(({ p, lines }) => (p === kubeProxy ? undefined : declsOf(lines, builtins)));
    const declared = new Set<string>();
    for (const name of builtins) {
      let raw: string | undefined;
      present.forEach(({ p }, i) => {
        const l = p === kubeProxy ? mine?.builtinDecls.get(name) : decls[i]?.builtin.get(name);
        if (l) raw = l;
      });
      add(raw ?? `:${name} ACCEPT [0:0]`);
      declared.add(name);
    }
    for (const [i, { p, lines }] of present.entries()) {
      if (p === kubeProxy) {
        if (!mine) return undefined;
        if (mine.declStart === undefined) continue;
        regions.push({ start: mine.declStart, end: mine.declEnd, shift: at - mine.declStart });
        let done = 0;
        for (const s of mine.shadows) {
          scan.skip(s.at - done);
          scan.decl(s.name);
          done = s.at + s.name.length + 10;
        }
        scan.skip(mine.declEnd - mine.declStart - done);
        at += mine.declEnd - mine.declStart;
        continue;
      }
      const named = lines.names !== undefined;
      decls[i]?.each((name, l) => {
        if (declared.has(name)) return;
        declared.add(name);
        if (l !== undefined) add(l, named ? { decl: name } : undefined);
        else {
          scan.decl(name);
          at += name.length + 10;
        }
      });
    }
    for (const { p, lines } of present) {
      if (lines.runs ? !lines.runs.length : !lines.rules.length) continue;
      add(`# ${p.label}`);
      const start = at;
      if (p === kubeProxy) {
        if (!mine || mine.blockStart === undefined) return undefined;
        regions.push({ start: mine.blockStart, end: mine.blockEnd, shift: start - mine.blockStart });
        let done = 0;
        for (const b of mine.builtinRuns) {
          scan.skip(b.at - done);
          scan.run(b.run);
          done = b.at + b.chars;
        }
        scan.skip(mine.blockEnd - mine.blockStart - done);
        at += mine.blockEnd - mine.blockStart;
      } else if (!lines.runs) for (const r of lines.rules) add(r);
      else
        for (const r of lines.runs) {
          scan.run(r);
          at += runChars(r);
        }
      blocks.push({ label: p.label, author: p.author, start, end: at });
    }
    add('COMMIT');
  }
  const own = scan.end();
  if (!own) return undefined;

  const tables: Partial<Record<TableName, Table>> = {};
  for (const name of TABLE_NAMES) {
    const mine = own.ruleset.tables[name];
    const theirs = template.parsed.ruleset.tables[name];
    if (mine) tables[name] = theirs ? composeTable(mine, theirs) : mine;
  }
  const ruleset: Ruleset = { tables };
  const ownSearch = rulesMentioningOf(own.ruleset);
  const theirSearch = rulesMentioningOf(template.parsed.ruleset);
  if (ownSearch && theirSearch)
    offerRulesMentioning(ruleset, (needle) => {
      const a = ownSearch(needle);
      const b = theirSearch(needle);
      const builtin = (r: RuleRef): boolean => BUILTIN_DECLS[r.table].includes(r.chain);
      // In the composed tables' order: the built-in chains (the node's), kube-proxy's, then the node's own.
      return TABLE_NAMES.flatMap((table) => [
        ...a.filter((r) => r.table === table && builtin(r)),
        ...b.filter((r) => r.table === table && !builtin(r)),
        ...a.filter((r) => r.table === table && !builtin(r) && !kubeProxyUser(table, r.chain)),
      ]);
    });
  return {
    ruleset,
    ownProblems: () => [...own.problems, ...template.parsed.problems],
    blocks,
    regions,
  };
}

/** A table with the node's built-in and own chains and kube-proxy's user chains from the template. */
function composeTable(mine: Table, theirs: Table): Table {
  const builtins = new Set<string>(BUILTIN_CHAINS[mine.name]);
  const ownByName = chainsOf(mine);
  const theirByName = chainsOf(theirs);
  const fromTemplate = (name: string): boolean => !builtins.has(name) && theirByName.has(name);
  let list: Chain[] | undefined;
  const all = (): readonly Chain[] =>
    (list ??= [
      ...mine.chains.filter((c) => c.builtin),
      ...userChainsOf(theirs),
      ...mine.chains.filter((c) => !c.builtin && !fromTemplate(c.name)),
    ]);
  const table: Table = {
    name: mine.name,
    span: mine.span,
    get chains(): readonly Chain[] {
      return all();
    },
  };
  knowChainsOf(
    table,
    new ComposedChains(
      (name) => (fromTemplate(name) ? theirByName.get(name) : ownByName.get(name)),
      (name) => fromTemplate(name) || ownByName.has(name),
      all,
    ),
  );
  return table;
}

const USER_CHAINS = new WeakMap<Table, readonly Chain[]>();

/** A template table's user chains (kube-proxy's 100,000s), listed once for all the nodes that read the list. */
function userChainsOf(theirs: Table): readonly Chain[] {
  let list = USER_CHAINS.get(theirs);
  if (!list) USER_CHAINS.set(theirs, (list = theirs.chains.filter((c) => !c.builtin)));
  return list;
}

/** The composed table's chains by name, looked up in the part they come from (the whole map only for a walk). */
class ComposedChains extends ChainMapView {
  private whole: Map<string, Chain> | undefined;
  constructor(
    private readonly lookUp: (name: string) => Chain | undefined,
    private readonly holds: (name: string) => boolean,
    private readonly list: () => readonly Chain[],
  ) {
    super();
  }
  get(name: string): Chain | undefined {
    return this.lookUp(name);
  }
  has(name: string): boolean {
    return this.holds(name);
  }
  protected all(): Map<string, Chain> {
    if (!this.whole) {
      const m = new Map<string, Chain>();
      for (const c of this.list()) if (!m.has(c.name)) m.set(c.name, c);
      this.whole = m;
    }
    return this.whole;
  }
}
