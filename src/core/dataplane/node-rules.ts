/**
 * A node's whole netfilter ruleset as iptables-save text: what kube-proxy writes for the model's
 * Services, the CNI plug-in's masquerade rules (the bridge plug-in's ipMasq), the ip-masq-agent chain, and the node's raw
 * `iptables:` text. This is the text the tracer evaluates ("Show Node Rules" shows exactly it).
 *
 * The parts are merged table by table into one section per table (iptables-restore flushes a table at each
 * `*table` header, so two `*nat` sections would not add up). Lines that came from the node's `iptables:`
 * keep a map to their offset in the YAML file, so problems and rule spans point into the topology file.
 */
import { cniPluginOf } from '../cni';
import { portmapRules } from '../cni/portmap';
import { canonical, parsePrefix } from '../net/address';
import type { Node, Pod, Topology } from '../model/types';
import {
  newParseMemo,
  lazyScanner,
  parseIptablesLines,
  parseIptablesSave,
  type ChainLayout,
  type LineFact,
  type LineOrigin,
  type ParseMemo,
} from '../netfilter/parse';
import { TABLE_NAMES, type TableName } from '../netfilter/types';
import type { Problem, Span } from '../problem';
import { kubeProxyNftablesText, kubeProxyTables, newKubeProxyMemo, type KubeProxyMemo } from './kube-proxy';
import type { NodeRules, RulesBlock } from './types';
import type { Decision, HookResult } from '../netfilter/types';
import { work } from '../work';
import { podsByNode } from '../model/pods-by-id';
import {
  IPTABLES_TEMPLATE_FILE,
  composeWithTemplate,
  makeIptablesTemplate,
  type IptablesTemplate,
} from './kube-proxy-iptables-share';

/** A piece of iptables-save text for one table: chain declarations and rules, in order. */
export interface TableText {
  readonly chains: readonly string[];
  readonly rules: readonly string[];
  /**
   * What a generator knows of its lines, so they are placed without being read back: the name each line of `chains`
   * declares (same order; the line is then `:NAME ACCEPT [0:0]` for a built-in chain of the table and
   * `:NAME - [0:0]` for any other, so `chains` need not be read), and `rules` as runs of one chain's lines.
   */
  readonly names?: readonly string[];
  readonly runs?: readonly RulesRun[];
  /** The same lines for a reader that looks a chain up by name instead of walking them all (see ChainLayout). */
  readonly layout?: ChainLayout;
}

/**
 * One chain's lines in a {@link TableText}; `count` and `chars` (newlines included), when given, say what they are
 * without reading `rules` (whose text kube-proxy's generator makes only for a chain that is read).
 */
export interface RulesRun {
  readonly chain: string;
  readonly rules: readonly string[];
  readonly count?: number;
  readonly chars?: number;
}

/** Rules grouped by table, as one contributor (kube-proxy, CNI, an agent) writes them. */
export type RulesByTable = Partial<Record<TableName, TableText>>;

/** What writes kube-proxy's rules for one node; replaceable so tests and other proxies can plug in. */
export type KubeProxyGenerator = (t: Topology, node: Node) => string;

/**
 * What every node's rules share, computed once per data plane (kube-proxy's chain hashes and Service input,
 * the pods of each node) so that compiling N nodes is not N times the whole cluster's work.
 */
export interface RulesMemo {
  readonly kubeProxy: KubeProxyMemo;
  /**
   * Parsed rulesets of nodes with nothing of their own, by their kube-proxy output (the same object for alike nodes)
   * and their CNI plug-in (its block label is part of the text).
   */
  readonly shared: WeakMap<object, Map<string, SharedRules>>;
  /** kube-proxy's chains scanned alone, by its output, for nodes with lines of their own (undefined: not scannable). */
  readonly templates: WeakMap<object, IptablesTemplate | undefined>;
  /** Rule lines parsed for one node and met again on the next (most of kube-proxy's lines are the same on every node). */
  readonly parse: ParseMemo;
}

export const newRulesMemo = (): RulesMemo => ({
  kubeProxy: newKubeProxyMemo(),
  parse: newParseMemo(),
  shared: new WeakMap(),
  templates: new WeakMap(),
});

/** A ruleset body (everything after the node's header lines) parsed once for every node that has it. */
interface SharedRules {
  readonly lines: readonly string[];
  readonly ruleset: NodeRules['ruleset'];
  readonly problems: readonly Problem[];
  readonly blocks: readonly RulesBlock[];
}

/** The file of the spans of a shared ruleset: offsets from the start of the body (after a node's header). */
export const SHARED_RULES_FILE = 'netpath:rules';

/** A span of a node's rules: one in a shared body moved into the node's own rules text. */
export function placeRulesSpan<S extends Span | undefined>(rules: NodeRules, span: S): S {
  const sh = rules.shared;
  if (!sh || !span || span.file !== sh.file) return span;
  // Each rule's span is placed once per node, not at every evaluation that decides by the rule (spans are plain
  // immutable data, so the decisions of every trace share them).
  let placed = PLACED.get(rules);
  if (!placed) PLACED.set(rules, (placed = { file: rulesFileOf(rules.nodeName), spans: new Map() }));
  let p = placed.spans.get(span);
  if (!p) {
    const by = sh.regions ? regionShift(sh.regions, span.start) : sh.shift;
    p = { ...span, file: placed.file, start: span.start + by, end: span.end + by };
    placed.spans.set(span, p);
  }
  return p as S;
}

/**
 * Per node: its rules file's name, made once (one string for every span placed there, not a new one per span that
 * each step and comparison would hold), and the spans placed so far.
 */
const PLACED = new WeakMap<NodeRules, { readonly file: string; readonly spans: Map<Span, Span> }>();

/** How far a shared ruleset's offset moves into a node's text: by the region it is in (a span is in one line). */
function regionShift(regions: NonNullable<NonNullable<NodeRules['shared']>['regions']>, at: number): number {
  for (const r of regions) if (at >= r.start && at < r.end) return r.shift;
  return 0;
}

/** An evaluation of a node's shared ruleset with every span moved into the node's own rules text. */
export function placeHookResult(rules: NodeRules, res: HookResult): HookResult {
  if (!rules.shared) return res;
  // A decision is one object per way its rule decides (src/core/netfilter/evaluate.ts; a Service with 30 endpoints: 30
  // outcomes with the same first dozens of decisions, and the next trace's alike), so its placed copy is kept with the
  // node's rules and made once. Problems and NAT records are the evaluation's own: placed once per evaluation.
  const placed = new Map<object, unknown>();
  let decisions = PLACED_DECISIONS.get(rules);
  if (!decisions) PLACED_DECISIONS.set(rules, (decisions = new Map()));
  const problems = res.problems.map((p) => placedOnce(rules, placed, p));
  // The outcomes of a statistic split come one after the other and share the decisions before it (a Service with E
  // endpoints: E outcomes, endpoint i's with the i-1 "not chosen" ones before its own): the placed copies of what an
  // outcome shares with the one before are taken from that one's, position by position, so placing them is O(E), not
  // a lookup per decision of every outcome (O(E^2)).
  let before: readonly Decision[] = [];
  let beforePlaced: Decision[] = [];
  const outcomes = res.outcomes.map((o) => {
    const ds = o.decisions;
    const out: Decision[] = new Array<Decision>(ds.length);
    let i = 0;
    for (; i < ds.length && i < before.length && ds[i] === before[i]; i++) out[i] = beforePlaced[i];
    work.decisionsPlaced += ds.length - i;
    for (; i < ds.length; i++) out[i] = placedOnce(rules, decisions, ds[i]);
    before = ds;
    beforePlaced = out;
    return {
      ...o,
      problems: o.problems.length ? o.problems.map((p) => placedOnce(rules, placed, p)) : o.problems,
      nat: o.nat.length ? o.nat.map((n) => placedOnce(rules, placed, n)) : o.nat,
      decisions: out,
    };
  });
  return { ...res, problems, outcomes };
}

// Per node, a Map rather than a WeakMap: it lives as long as the node's rules (which hold the decisions anyway), and
// a WeakMap's entries are ephemerons, which every young-generation collection during a trace must visit again.
const PLACED_DECISIONS = new WeakMap<NodeRules, Map<object, unknown>>();

/** `x` (a problem, NAT record or decision) with its span placed, made once per evaluation (a decision once per node). */
function placedOnce<T extends { readonly span?: Span }>(
  rules: NodeRules,
  placed: { get(k: object): unknown; set(k: object, v: unknown): unknown },
  x: T,
): T {
  if (!x.span) return x;
  let y = placed.get(x) as T | undefined;
  if (y === undefined) placed.set(x, (y = { ...x, span: placeRulesSpan(rules, x.span) }));
  return y;
}

function podsOn(t: Topology, node: string): readonly Pod[] {
  return podsByNode(t).get(node) ?? [];
}

/**
 * ip-masq-agent's chain (kubernetes-sigs/ip-masq-agent, cmd/ip-masq-agent): POSTROUTING sends every packet
 * not addressed to a local address to IP-MASQ-AGENT, which RETURNs for each non-masquerade CIDR (and
 * link-local unless masqLinkLocal) and MASQUERADEs the rest. It matches destinations only.
 */
export function ipMasqAgentRules(t: Topology): RulesByTable {
  const agent = t.cluster.masquerade;
  if (!agent) return {};
  const rules = [
    '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
  ];
  if (!agent.masqLinkLocal) {
    rules.push(
      '-A IP-MASQ-AGENT -d 169.254.0.0/16 -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN',
    );
  }
  for (const cidr of agent.nonMasqueradeCIDRs) {
    const p = parsePrefix(cidr);
    if (!p) continue;
    rules.push(
      `-A IP-MASQ-AGENT -d ${canonical(p)} -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN`,
    );
  }
  rules.push(
    '-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE',
  );
  return { nat: { chains: [':IP-MASQ-AGENT - [0:0]'], rules } };
}

/** Splits iptables-save text into per-table chain lines and rule lines (other lines are dropped: the raw parse reports them). */
export function splitByTable(text: string): { tables: RulesByTable; lineOf: Map<string, number>[] } {
  const out: Partial<Record<TableName, { chains: string[]; rules: string[] }>> = {};
  let current: { chains: string[]; rules: string[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      const name = TABLE_NAMES.find((t) => t === line.slice(1).trim());
      current = name ? (out[name] ??= { chains: [], rules: [] }) : undefined;
    } else if (line === 'COMMIT') current = undefined;
    else if (current) (line.startsWith(':') ? current.chains : current.rules).push(line);
  }
  return { tables: out, lineOf: [] };
}

/** Parses the chain lines of one part: name -> line. */
function chainDecls(lines: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines) {
    const sp = l.indexOf(' ');
    const name = l.charCodeAt(1) !== 32 && sp > 1 ? l.slice(1, sp) : /^:\s*(\S+)/.exec(l)?.[1];
    if (name && !m.has(name)) m.set(name, l);
  }
  return m;
}

export const BUILTIN_DECLS: Readonly<Record<TableName, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export interface Part {
  readonly label: string;
  readonly author: RulesBlock['author'];
  readonly tables: RulesByTable;
  /** For the node's raw text: where each of its lines is in the YAML file. */
  readonly origin?: { readonly file: string; readonly offsets: ReadonlyMap<string, number[]> };
}

/**
 * Where each line of a node's raw `iptables:` text is in the file: the text of a block scalar has its
 * indentation removed, so each trimmed line is looked for inside the scalar's span, in order.
 */
export function rawLineOffsets(node: Node, fileText: string | undefined): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (!node.iptables || fileText === undefined) return out;
  const { span, text } = node.iptables;
  let cursor = span.start;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (!line) continue;
    const at = fileText.indexOf(line, cursor);
    if (at < 0 || at >= span.end) continue;
    cursor = at + line.length;
    out.set(line, [...(out.get(line) ?? []), at]);
  }
  return out;
}

/**
 * Joins the parts into the lines of one iptables-save text (never built here), with the YAML origin of the lines
 * that came from the node's raw text and where each contributor's block of rules is.
 */
export function assemble(
  header: readonly string[],
  parts: readonly Part[],
): { lines: string[]; origins: Map<number, LineOrigin>; blocks: RulesBlock[] } {
  const lines: string[] = [];
  const origins = new Map<number, LineOrigin>();
  const used = new Map<string, number>();
  const blocks = walkAssembly(header, parts, (line, part) => {
    if (part?.origin) {
      const offs = part.origin.offsets.get(line);
      const k = used.get(line) ?? 0;
      const off = offs?.[Math.min(k, offs.length - 1)];
      if (off !== undefined) origins.set(lines.length, { file: part.origin.file, offset: off });
      used.set(line, k + 1);
    }
    lines.push(line);
  });
  return { lines, origins, blocks };
}

/**
 * The lines of the assembled text in order, each handed to `emit` with the part it came from (none: a header,
 * table, label or default declaration line) and what its generator knows of it; returns the contributors' blocks.
 */
export function walkAssembly(
  header: readonly string[],
  parts: readonly Part[],
  emit: (line: string, part: Part | undefined, fact: LineFact | undefined) => void,
  run?: (r: RulesRun) => void,
  decl?: (name: string) => void,
  laidOut?: { decls(layout: ChainLayout): void; runs(layout: ChainLayout): void },
): RulesBlock[] {
  const blocks: RulesBlock[] = [];
  let at = 0;
  const add = (line: string, part?: Part, fact?: LineFact): void => {
    emit(line, part, fact);
    at += line.length + 1;
  };
  for (const l of header) add(l);
  for (const table of TABLE_NAMES) {
    // Each part with this table, and the table's lines in it.
    const present = parts.flatMap((p) => {
      const lines = p.tables[table];
      return lines ? [{ ...p, lines }] : [];
    });
    if (!present.length) continue;
    add(`*${table}`);
    const declared = new Set<string>();
    // Built-in chains first; a policy given in the raw text wins.
    const builtins = BUILTIN_DECLS[table];
    const decls = present.map((p) => declsOf(p.lines, builtins));
    for (const name of builtins) {
      let raw: { p: Part; l: string } | undefined;
      present.forEach((p, i) => {
        const l = decls[i].builtin.get(name);
        if (l) raw = { p, l };
      });
      if (raw) add(raw.l, raw.p);
      else add(`:${name} ACCEPT [0:0]`);
      declared.add(name);
    }
    // The first part's chains are all new but for the built-in ones: a part that knows where its lines fall hands
    // them over at once (kube-proxy's 100,000s of Service chains, found by name when a trace looks one up).
    const layout = laidOut && present[0]?.lines.layout;
    const laid = layout && layout.builtins.every((b) => declared.has(b)) ? layout : undefined;
    const laidNames = new Set(laid?.plainDecls.map((d) => d.name));
    if (laid && laidOut) {
      laidOut.decls(laid);
      at += laid.declChars;
    }
    for (const [i, p] of present.entries()) {
      if (i === 0 && laid) continue;
      const named = p.lines.names !== undefined;
      decls[i].each((name, l) => {
        if (declared.has(name) || laidNames.has(name) || laid?.find(name)) return;
        declared.add(name);
        // A generator's user chain is declared `:NAME - [0:0]`: placed by its length, its line never made.
        if (l !== undefined) add(l, p, named ? { decl: name } : undefined);
        else if (decl) {
          decl(name);
          at += name.length + 10;
        } else add(`:${name} - [0:0]`, p, { decl: name });
      });
    }
    for (const p of present) {
      const t = p.lines;
      // A laid-out part is measured: it has lines when it has characters of them (its runs need not be listed).
      const laidHere = laid && laidOut && t.layout === laid && p === present[0];
      if (laidHere ? !laid.ruleChars : t.runs ? !t.runs.length : !t.rules.length) continue;
      add(`# ${p.label}`);
      const start = at;
      if (laidHere) {
        laidOut.runs(laid);
        at += laid.ruleChars;
      } else if (!t.runs) for (const r of t.rules) add(r, p);
      else if (!run) for (const r of t.runs) for (const l of r.rules) add(l, p, { rule: r.chain });
      else
        for (const r of t.runs) {
          run(r);
          if (r.chars !== undefined) at += r.chars;
          else for (const l of r.rules) at += l.length + 1;
        }
      blocks.push({ label: p.label, author: p.author, start, end: at });
    }
    add('COMMIT');
  }
  return blocks;
}

/**
 * A part's chain declarations (the first of a name wins), from the generator's names or else read from the lines: the
 * built-in chains' lines by name, and every declaration in order. A generator's 100,000s of names are walked as they
 * are, not copied into a map.
 */
export function declsOf(
  t: TableText,
  builtins: readonly string[],
): { builtin: Map<string, string>; each(f: (name: string, line: string | undefined) => void): void } {
  const isBuiltin = new Set(builtins);
  // A laid-out table declares its built-in chains first, as its layout says: its names are read only to walk them
  // (kube-proxy's skimmed nat table names its 100,000s of chains only for a reader of them).
  const layout = t.layout;
  if (layout) {
    const builtin = new Map<string, string>();
    for (const b of layout.builtins) if (isBuiltin.has(b) && !builtin.has(b)) builtin.set(b, `:${b} ACCEPT [0:0]`);
    return {
      builtin,
      each(f): void {
        const names = layout.names;
        for (let i = 0; i < names.length; i++) f(names[i], isBuiltin.has(names[i]) ? builtin.get(names[i]) : undefined);
      },
    };
  }
  const names = t.names;
  if (!names) {
    const m = chainDecls(t.chains);
    return { builtin: m, each: (f) => m.forEach((line, name) => f(name, line)) };
  }
  // With names, the lines are known without reading `chains` (see TableText.names).
  const builtin = new Map<string, string>();
  for (let i = 0; i < names.length; i++)
    if (isBuiltin.has(names[i]) && !builtin.has(names[i])) builtin.set(names[i], `:${names[i]} ACCEPT [0:0]`);
  return {
    builtin,
    // A name given twice is skipped by the caller, which declares each name once (its first line wins). The built-in
    // names are declared before (the caller skips them here), so every line handed on is a user chain's.
    each(f): void {
      for (let i = 0; i < names.length; i++) f(names[i], isBuiltin.has(names[i]) ? builtin.get(names[i]) : undefined);
    },
  };
}

/** Moves a span of the assembled text to the YAML line it came from, if it came from the node's raw text. */
function mapSpan(
  span: Span,
  lineStarts: readonly number[],
  mapped: ReadonlyMap<number, { file: string; offset: number }>,
  generatedFile: string,
): Span {
  if (span.file !== generatedFile) return span;
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= span.start) lo = mid;
    else hi = mid - 1;
  }
  const m = mapped.get(lo);
  if (!m) return span;
  const d = m.offset - lineStarts[lo];
  return { file: m.file, start: span.start + d, end: span.end + d };
}

/** The pseudo file name of a node's generated rules (spans of generated rules point into this text). */
export const rulesFileOf = (nodeName: string): string => `netpath:rules/${nodeName}`;

export interface NodeRulesOptions {
  readonly kubeProxy?: KubeProxyGenerator;
  /**
   * kube-proxy's iptables mode: nodes with nothing of their own whose kube-proxy lines are the same (the generator
   * gives alike nodes one output) share one parsed ruleset and its evaluation caches (default true). False scans and
   * parses each node's ruleset for it alone: the reference the sharing is tested against.
   */
  readonly shareKubeProxyIptables?: boolean;
  /** File texts by path, to map the raw `iptables:` lines back into the YAML. */
  readonly files?: ReadonlyMap<string, string>;
}

/** Builds, parses and maps a node's ruleset. Pass one `memo` for all nodes of a topology to share their common work. */
export function buildNodeRules(
  t: Topology,
  node: Node,
  options: NodeRulesOptions = {},
  memo: RulesMemo = newRulesMemo(),
): NodeRules {
  const header = [
    `# Generated by NetPath for node ${node.name} of topology ${t.name}`,
    "# The rules the tracer evaluates: kube-proxy (iptables mode), the CNI bridge plugin's ipMasq, the ip-masq-agent, then the node's own iptables text.",
  ];
  const parts: Part[] = [];
  const kubeProxy = options.kubeProxy
    ? splitByTable(options.kubeProxy(t, node)).tables
    : kubeProxyTables(t, node, memo.kubeProxy);
  parts.push({ label: 'kube-proxy (iptables mode)', author: 'kube-proxy', tables: kubeProxy });
  const cni = cniPluginOf(node).masquerade(
    node,
    podsOn(t, node.name).filter((p) => !p.hostNetwork),
    t,
  );
  parts.push({ label: cni.label, author: 'cni-ipmasq', tables: cni.tables });
  parts.push({ label: 'ip-masq-agent', author: 'ip-masq-agent', tables: ipMasqAgentRules(t) });
  // The portmap plug-in's hostPort chains: only on nodes with a pod that has a hostPort.
  const portmap = portmapRules(
    t,
    node,
    podsOn(t, node.name).filter((p) => !p.hostNetwork),
  );
  parts.push({ label: 'CNI portmap plug-in (hostPort)', author: 'cni-portmap', tables: portmap });
  // A node with nothing of its own (no raw text, no per-pod CNI rules, the usual kube-proxy) shares its parsed
  // ruleset with every node like it: parsed once, only the header (which names the node) differs.
  if (
    !options.kubeProxy &&
    options.shareKubeProxyIptables !== false &&
    !node.iptables &&
    !portmap.nat &&
    (cni.sameOnEveryNode || (!cni.tables.nat && !cni.tables.filter))
  ) {
    let byPlugin = memo.shared.get(kubeProxy);
    if (!byPlugin) memo.shared.set(kubeProxy, (byPlugin = new Map()));
    let body = byPlugin.get(node.cni);
    if (!body) {
      // Chains parsed as they are read (a trace reads a few of kube-proxy's thousands); all of them for `problems`.
      // The lines go to the parse as they are assembled, kube-proxy's placed by what its generator knows of them
      // (not read back one by one); they are kept as one list only once the text is asked for.
      work.kubeProxyIptablesRulesets++;
      const scan = lazyScanner(SHARED_RULES_FILE, memo.parse);
      const blocks = walkAssembly(
        [],
        parts,
        (line, _part, fact) => scan.line(line, fact),
        (r) => scan.run(r),
        (name) => scan.decl(name),
        { decls: (l) => scan.declLayout(l), runs: (l) => scan.runLayout(l) },
      );
      let lines: string[] | undefined;
      const linesOf = (): string[] => (lines ??= assemble([], parts).lines);
      const parsed = scan.end() ?? parseIptablesLines(linesOf(), SHARED_RULES_FILE, memo.parse);
      body = {
        get lines() {
          return linesOf();
        },
        ruleset: parsed.ruleset,
        get problems() {
          return parsed.problems;
        },
        blocks,
      };
      byPlugin.set(node.cni, body);
    }
    const shift = header.reduce((n, l) => n + l.length + 1, 0);
    const shared = body;
    const place = { nodeName: node.name, shared: { file: SHARED_RULES_FILE, shift } } as NodeRules;
    let text: string | undefined;
    let problems: Problem[] | undefined;
    return {
      nodeName: node.name,
      get text(): string {
        return (text ??= `${[...header, ...shared.lines].join('\n')}\n`);
      },
      ruleset: shared.ruleset,
      get problems(): Problem[] {
        return (problems ??= shared.problems.map((p) => ({ ...p, span: placeRulesSpan(place, p.span) })));
      },
      blocks: shared.blocks.map((b) => ({ ...b, start: b.start + shift, end: b.end + shift })),
      shared: place.shared,
    };
  }
  // A node whose rules are all generated but some are its own (flannel's rules name its pod subnet, the bridge
  // plug-in's ipMasq writes a chain per pod, portmap one per hostPort): its whole text is scanned as it is assembled
  // and its chains parsed as they are read, like a shared body, so the thousands of kube-proxy chains a trace never
  // enters are not parsed again for every node (those it enters come from the parse memo's templates).
  if (!options.kubeProxy && !node.iptables) {
    const file = rulesFileOf(node.name);
    let lines: string[] | undefined;
    const linesOf = (): string[] => (lines ??= assemble(header, parts).lines);
    let text: string | undefined;
    const ownRules = (): NodeRules => {
      work.kubeProxyIptablesRulesets++;
      const scan = lazyScanner(file, memo.parse);
      const blocks = walkAssembly(
        header,
        parts,
        (line, _part, fact) => scan.line(line, fact),
        (r) => scan.run(r),
        (name) => scan.decl(name),
        { decls: (l) => scan.declLayout(l), runs: (l) => scan.runLayout(l) },
      );
      const parsed = scan.end() ?? parseIptablesLines(linesOf(), file, memo.parse);
      let problems: Problem[] | undefined;
      return {
        nodeName: node.name,
        get text(): string {
          return (text ??= `${linesOf().join('\n')}\n`);
        },
        ruleset: parsed.ruleset,
        get problems(): Problem[] {
          return (problems ??= distinctProblems(parsed.problems));
        },
        blocks,
      };
    };
    // kube-proxy's chains from the template of the nodes with its same output; the node's own lines scanned alone. A
    // node with kube-proxy's lines alone needs no template: its scan takes kube-proxy's laid-out tables at once, and
    // nodes alike share that parse through the parse memo.
    const kubeProxyPart = parts[0];
    if (options.shareKubeProxyIptables !== false && kubeProxyPart && parts.length > 1) {
      let template = memo.templates.get(kubeProxy);
      if (!memo.templates.has(kubeProxy)) {
        template = makeIptablesTemplate(kubeProxyPart, memo.parse);
        memo.templates.set(kubeProxy, template);
      }
      const composed = template && composeWithTemplate(header, parts, template, file, memo.parse);
      if (composed) {
        let problems: readonly Problem[] | undefined;
        return {
          nodeName: node.name,
          get text(): string {
            return (text ??= `${linesOf().join('\n')}\n`);
          },
          ruleset: composed.ruleset,
          // Problems are rare in generated rules: when a part has any, the node's whole ruleset is parsed for them
          // (a jump between the node's lines and kube-proxy's is only checked there).
          get problems(): readonly Problem[] {
            return (problems ??= composed.ownProblems().length ? ownRules().problems : []);
          },
          blocks: composed.blocks,
          shared: { file: IPTABLES_TEMPLATE_FILE, shift: 0, regions: composed.regions },
        };
      }
    }
    return ownRules();
  }
  const rawProblems: Problem[] = [];
  if (node.iptables) {
    const file = node.iptables.span.file;
    const offsets = rawLineOffsets(node, options.files?.get(file));
    parts.push({
      label: `node ${node.name}: iptables from the topology`,
      author: 'node-iptables',
      tables: splitByTable(node.iptables.text).tables,
      origin: { file, offsets },
    });
    rawProblems.push(...rawTextProblems(node, offsets));
  }
  if (!options.kubeProxy) work.kubeProxyIptablesRulesets++;
  const { lines, origins, blocks } = assemble(header, parts);
  const file = rulesFileOf(node.name);
  // Parsed from the lines: the generated ones are the same strings on every node, found in the memo at once.
  const parsed = parseIptablesLines(lines, file, memo.parse, origins);
  const problems = distinctProblems([...rawProblems, ...parsed.problems]);
  // The text is built only when read ("Show Node Rules", the kernel lab): the tracer and the rules read the ruleset.
  let text: string | undefined;
  return {
    nodeName: node.name,
    get text(): string {
      return (text ??= `${lines.join('\n')}\n`);
    },
    ruleset: parsed.ruleset,
    problems,
    blocks,
  };
}

/** Problems without repeats (one code, place and message once). */
export function distinctProblems(all: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const p of all) {
    const key = `${p.code}|${p.span.file}|${p.span.start}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

/**
 * Problems of a node's raw `iptables:` text read alone, at their YAML position: its parse problems and the
 * structure problems (lines outside tables, a missing COMMIT) that only show in the raw text itself. Cheap: it
 * parses only the raw text, not the generated rules.
 */
export function rawTextProblems(node: Node, offsets: ReadonlyMap<string, readonly number[]>): Problem[] {
  if (!node.iptables) return [];
  const rawSpan = node.iptables.span;
  const file = rawSpan.file;
  const own = parseIptablesSave(node.iptables.text, '\u0000raw', 0);
  const rawLines = node.iptables.text.split('\n');
  const starts: number[] = [];
  let acc = 0;
  for (const l of rawLines) {
    starts.push(acc);
    acc += l.length + 1;
  }
  const rawMapped = new Map<number, { file: string; offset: number }>();
  const used = new Map<string, number>();
  rawLines.forEach((l, i) => {
    const line = l.replace(/\r$/, '').trim();
    const offs = offsets.get(line);
    const k = used.get(line) ?? 0;
    used.set(line, k + 1);
    const lead = l.length - l.trimStart().length;
    if (offs?.[k] !== undefined) rawMapped.set(i, { file, offset: offs[k] - lead });
  });
  return own.problems.map((p) => {
    const mapped = mapSpan(p.span, starts, rawMapped, '\u0000raw');
    return { ...p, span: mapped.file === '\u0000raw' ? rawSpan : mapped };
  });
}

/**
 * What a kernel lab loads on a node: the iptables-save text (for iptables-nft-restore) and an `nft -f` script:
 * kube-proxy's tables in its nftables mode, then the node's own `nftables:` text (both evaluated by traces).
 */
export function nodeRulesParts(t: Topology, nodeName: string): { iptables: string; nftables?: string } | undefined {
  const node = t.nodes.find((n) => n.name === nodeName);
  if (!node) return undefined;
  const own = node.nftables ? `${node.nftables.text.trimEnd()}\n` : '';
  if (t.cluster.kubeProxy.mode !== 'nftables')
    return { iptables: buildNodeRules(t, node).text, ...(own ? { nftables: own } : {}) };
  return {
    iptables: buildNodeRules(t, node, { kubeProxy: () => '' }).text,
    nftables: `${kubeProxyNftablesText(t, node).trimEnd()}\n${own}`,
  };
}

/** The text "Show Node Rules" displays: exactly what the tracer evaluates. */
export function nodeRulesText(t: Topology, nodeName: string): string | undefined {
  const node = t.nodes.find((n) => n.name === nodeName);
  if (!node) return undefined;
  const ownNft = node.nftables
    ? `\n# node ${node.name}: nftables from the topology (evaluated by traces with the rules above, each base chain at its priority)\n${node.nftables.text.trimEnd()}\n`
    : '';
  if (t.cluster.kubeProxy.mode !== 'nftables') return buildNodeRules(t, node).text + ownNft;
  // nftables mode: kube-proxy's tables in nft syntax; the other authors still write iptables (iptables-nft) rules.
  const others = buildNodeRules(t, node, { kubeProxy: () => '' })
    .text.split('\n')
    .filter((l) => !l.startsWith('# Generated by NetPath') && !l.startsWith('# The rules the tracer'));
  if (!others.some((l) => l.trim() !== '')) others.push('# No iptables rules of other authors on this node.');
  return (
    [
      `# Generated by NetPath for node ${node.name} of topology ${t.name}`,
      '# kube-proxy (nftables mode): its tables as `nft list ruleset` prints them (load with `nft -f`).',
      "# Traces evaluate these tables and the other authors' iptables (iptables-nft) rules below, each base chain at its priority.",
      '',
      kubeProxyNftablesText(t, node).trimEnd(),
      '',
      ...others,
    ].join('\n') + ownNft
  );
}
