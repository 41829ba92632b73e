/**
 * Parser for iptables-save text (`*table`, `:CHAIN POLICY [p:b]`, `-A`/`-I`/`-N`/`-X`, `COMMIT`, `#` comments).
 *
 * Parsing never fails: the result is a ruleset plus problems. `iptables.syntax` (error) is for input
 * iptables-restore would refuse; `iptables.unsupported` (warning) is for valid input this model cannot
 * evaluate (an unknown table, match, option or target). A rule with anything unsupported is kept and
 * marked (`Rule.unsupported`) so the evaluator reports it when a packet reaches it.
 */
import { problem, type Problem, type Span } from '../problem';
import { parseRuleBody, SYNTAX, UNSUPPORTED } from './rule';
import { KNOWN_UNSUPPORTED_TARGETS, TARGET_OPTIONS } from './targets';
import { parseNatTo } from './targets/nat';
import { tokenize, type Token } from './tokenize';
import {
  BUILTIN_CHAINS,
  TABLE_NAMES,
  type Chain,
  type Match,
  type Policy,
  type Rule,
  type Ruleset,
  type Table,
  type TableName,
  type ParseResult,
} from './types';
import { work } from '../work';
import { isOneOf } from '../lookup';
import {
  indexKey,
  INDEX_MIN_RULES,
  knowChainsOf,
  offerIndexedRules,
  offerRulesMentioning,
  type IndexedRules,
  type RuleRef,
} from './chains';
import { parseAddressOrPrefix } from './values';
import { ipv4Number } from '../net/address';

export { SYNTAX, UNSUPPORTED } from './rule';
export { parseAddressOrPrefix, parsePortRange, parseU32 } from './values';

interface MutableChain {
  name: string;
  builtin: boolean;
  policy?: Policy;
  span: Span;
  declared: boolean;
  rules: Rule[];
}

interface MutableTable {
  name: TableName;
  span: Span;
  chains: Map<string, MutableChain>;
  /** Rules jumping to a chain, checked at COMMIT (the chain may be declared after the jump). */
  pending: Rule[];
}

/**
 * Rules already parsed, by table and line text, to parse many similar rulesets (one per node of a cluster, mostly
 * the same kube-proxy lines) once: a line seen before is placed with its own span moved instead of parsed again,
 * and its matches (plain immutable data) are shared by every ruleset that holds the line, so their spans are
 * relative to the start of the line, in the file {@link MEMO_FILE}. Only `-A` lines that parsed without any
 * problem are kept. Create one with {@link newParseMemo}; sharing it between parses cannot change their results.
 */
export interface ParseMemo {
  /** Per table, by line text: the rule with its spans relative to the line's start (`at` is 0). */
  readonly rules: Map<TableName, Map<string, { readonly rule: Rule; readonly at: number }>>;
  /**
   * Per table, by {@link lineShape} key: a rule of `rules` standing for the lines that differ from its line only in
   * their chain's name, the chain they jump to and the IPv4 addresses of `-s`, `-d` and `--to-destination` (each of
   * the same length, so every offset in the line is the same). kube-proxy writes the lines of every Service alike but
   * for those (in its large-cluster mode, without per-endpoint comments): a trace that reaches a new Service takes
   * its endpoint jumps and KUBE-SEP rules from the Service before instead of parsing each line again.
   */
  readonly shapes: Map<TableName, Map<string, ShapeTemplate>>;
}

export const newParseMemo = (): ParseMemo => ({ rules: new Map(), shapes: new Map() });

/** A chain name that tokenizes as itself (no quote, backslash, `!` or leading `-`). */
const PLAIN_CHAIN = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$/;

/** A word of a line that another line of its shape may have otherwise: what it is, and where it ends in the line. */
interface ShapeWord {
  readonly kind: 'chain' | 'jump' | 'address' | 'nat';
  readonly word: string;
  readonly end: number;
}

interface LineShape {
  readonly key: string;
  readonly words: readonly ShapeWord[];
}

/** A memo's rule standing for its shape, with the index of the match each `address` word of the shape is in. */
interface ShapeTemplate {
  readonly rule: Rule;
  readonly matchOf: readonly number[];
}

/**
 * The shape of an `-A` line written word by word (single spaces, no quote, backslash or tab, which the tokenizer
 * reads otherwise): the line with its chain's name, the user chain it jumps to (its last word, after `-j`) and the
 * IPv4 addresses after `-s`, `-d` and `--to-destination` left out, their lengths kept. Undefined for other lines.
 * Read in one pass over the line's text: a trace that enters a Service shapes each of its lines once, and splitting
 * a line into its words to join them again made the most garbage of that.
 */
function lineShape(raw: string): LineShape | undefined {
  if (!raw.startsWith('-A ') || /["'\\\t]| {2}| $/.test(raw)) return undefined;
  const words: ShapeWord[] = [];
  let key = '';
  // Where the text not yet in the key starts, and where the word before the one read starts and ends.
  let copied = 0;
  let beforeStart = -1;
  let beforeEnd = -1;
  for (let start = 0, i = 0; start <= raw.length; i++) {
    const space = raw.indexOf(' ', start);
    const end = space < 0 ? raw.length : space;
    const last = space < 0;
    const kind: ShapeWord['kind'] | undefined =
      i === 1
        ? 'chain'
        : last && wordIs(raw, beforeStart, beforeEnd, '-j')
          ? 'jump'
          : (wordIs(raw, beforeStart, beforeEnd, '-s') || wordIs(raw, beforeStart, beforeEnd, '-d')) &&
              isIpv4(raw, start, end, false)
            ? 'address'
            : wordIs(raw, beforeStart, beforeEnd, '--to-destination') && isIpv4(raw, start, end, true)
              ? 'nat'
              : undefined;
    if (kind !== undefined) {
      const w = raw.slice(start, end);
      if ((kind === 'chain' || kind === 'jump') && (!PLAIN_CHAIN.test(w) || TARGET_OPTIONS[w] !== undefined))
        return undefined;
      words.push({ kind, word: w, end });
      key += raw.slice(copied, start) + shapeMark(kind, end - start);
      copied = end;
    }
    beforeStart = start;
    beforeEnd = end;
    start = end + 1;
  }
  return { key: copied < raw.length ? key + raw.slice(copied) : key, words };
}

/** Whether `raw` from `start` to `end` is `word`. */
function wordIs(raw: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && raw.startsWith(word, start);
}

/** Whether `raw` from `start` to `end` is an IPv4 address of four dotted groups of 1-3 digits (and a port, if `port`). */
function isIpv4(raw: string, start: number, end: number, port: boolean): boolean {
  let at = start;
  for (let group = 0; group < 4; group++) {
    if (group > 0) {
      if (raw.charCodeAt(at) !== 46 /* . */) return false;
      at++;
    }
    const from = at;
    while (at < end && at - from < 4 && isDigit(raw.charCodeAt(at))) at++;
    if (at === from || at - from > 3) return false;
  }
  if (at === end) return true;
  if (!port || raw.charCodeAt(at) !== 58 /* : */) return false;
  const from = ++at;
  while (at < end && isDigit(raw.charCodeAt(at))) at++;
  return at === end && at - from >= 1 && at - from <= 5;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** What stands in a shape's key for a word of `kind` and `length` characters: made once per kind and length. */
const SHAPE_MARKS: Record<ShapeWord['kind'], string[]> = { chain: [], jump: [], address: [], nat: [] };
function shapeMark(kind: ShapeWord['kind'], length: number): string {
  const marks = SHAPE_MARKS[kind];
  return (marks[length] ??= `\u0000${kind}${length}`);
}

/**
 * The rule of `raw` made from its shape's template, placed at `at` in `file` (as {@link placeRule} places a memo's
 * rule): the template's matches and spans (the same offsets), its chain, text, jump target, addresses and DNAT
 * destination from `raw`'s words; undefined when a word does not read as the template's did (the line is then parsed).
 */
function reshaped(like: ShapeTemplate, raw: string, shape: LineShape, file: string, at: number): Rule | undefined {
  const t = like.rule;
  let chain = t.chain;
  let target = t.target;
  let matches: Match[] | undefined;
  for (let k = 0; k < shape.words.length; k++) {
    const { kind, word } = shape.words[k];
    if (kind === 'chain') chain = word;
    else if (kind === 'jump') target = { kind: 'jump', chain: word };
    else if (kind === 'nat') {
      const to = parseNatTo(word);
      if (!to || target.kind !== 'dnat') return undefined;
      target = { kind: 'dnat', to };
    } else {
      const m = t.matches[like.matchOf[k]];
      const prefix = parseAddressOrPrefix(word);
      if (!prefix || (m.kind !== 'source' && m.kind !== 'destination')) return undefined;
      matches ??= t.matches.slice();
      matches[like.matchOf[k]] = { kind: m.kind, prefix, negated: m.negated, span: m.span };
    }
  }
  // The template's own keys replaced in place: the rule's key order (its JSON) is the parsed rule's.
  return withSpansMoved({ ...t, chain, text: raw, target, ...(matches ? { matches } : {}) }, file, at);
}

/**
 * `template` (the memo's rule of `raw`, parsed) as its shape's template, when made again from its own words it is
 * itself: each address word is the whole value of a `-s`/`-d` match, the jump and DNAT words the target's.
 */
function shapeTemplate(template: Rule, raw: string, shape: LineShape): ShapeTemplate | undefined {
  if (template.text !== raw || template.unsupported.length) return undefined;
  const matchOf = shape.words.map((w) =>
    w.kind === 'address' ? template.matches.findIndex((m) => m.span.end === w.end) : -1,
  );
  if (matchOf.some((i, k) => shape.words[k].kind === 'address' && i < 0)) return undefined;
  const like = { rule: template, matchOf };
  const again = reshaped(like, raw, shape, MEMO_FILE, 0);
  return again && sameRule(again, template) ? like : undefined;
}

/** Whether two rules are the same data (addresses' bigints compared as text). */
function sameRule(a: Rule, b: Rule): boolean {
  const text = (r: Rule): string => JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return text(a) === text(b);
}

/** Maps offsets of one line's coordinates to a span. */
type SpanFn = (start: number, end: number) => Span;

/** Where a line given to {@link parseIptablesLines} really comes from (e.g. a line of a YAML block scalar). */
export interface LineOrigin {
  readonly file: string;
  /** Offset of the line's first character in `file`. */
  readonly offset: number;
}

/** Parses iptables-save text. Spans are `baseOffset` + offsets in `text`, in `file`. */
export function parseIptablesSave(text: string, file: string, baseOffset = 0, memo?: ParseMemo): ParseResult {
  const parser = newParser(memo);
  const span: SpanFn = (start, end) => ({ file, start: baseOffset + start, end: baseOffset + end });
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    parser.line(text.slice(lineStart, lineEnd), lineStart, span, file, baseOffset);
    lineStart = lineEnd + 1;
  }
  return parser.end();
}

/**
 * Parses iptables-save text given as its lines (the text is `lines.join('\n')`, which is never built here): spans
 * are offsets in that text, in `file`, except for the lines listed in `origins`, whose spans point where they
 * came from. Lines that are the same string on every call (generated rules) are cheap to find in `memo`.
 */
export function parseIptablesLines(
  lines: readonly string[],
  file: string,
  memo?: ParseMemo,
  origins?: ReadonlyMap<number, LineOrigin>,
): ParseResult {
  const parser = newParser(memo);
  const span: SpanFn = (start, end) => ({ file, start, end });
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const o = origins?.get(i);
    if (o) {
      const d = o.offset - at;
      parser.line(lines[i], at, (start, end) => ({ file: o.file, start: start + d, end: end + d }));
    } else parser.line(lines[i], at, span, file, 0);
    at += lines[i].length + 1;
  }
  return parser.end();
}

interface Parser {
  /**
   * One line starting at `lineStart` in the coordinates `span` maps. `memoFile`/`memoBase`: the line may be
   * copied from the memo, into `memoFile` at `memoBase + lineStart` (absent: parse it, do not use the memo).
   */
  line(raw: string, lineStart: number, span: SpanFn, memoFile?: string, memoBase?: number): void;
  end(): ParseResult;
}

function newParser(memo: ParseMemo | undefined): Parser {
  const problems: Problem[] = [];
  const tables = new Map<TableName, MutableTable>();
  let current: MutableTable | undefined;
  /** Inside an unknown table: skip its lines until COMMIT. */
  let skipping = false;

  const finish = (t: MutableTable): void => {
    resolveTargets(t, problems);
    findLoops(t, problems);
  };

  const line = (text: string, lineStart: number, span: SpanFn, memoFile?: string, memoBase = 0): void => {
    let raw = text;
    if (raw.charCodeAt(raw.length - 1) === 13) raw = raw.slice(0, -1);
    const c0 = raw.charCodeAt(0);
    // Generated lines start with `-A`: skip the trimming and the memo key is the line itself.
    if (memo && memoFile !== undefined && c0 === 45 && current && !skipping) {
      let byLine = memo.rules.get(current.name);
      if (!byLine) memo.rules.set(current.name, (byLine = new Map()));
      const key = raw;
      const known = byLine.get(key);
      const chain = known ? current.chains.get(known.rule.chain) : undefined;
      if (known && chain) {
        const rule = placeRule(known.rule, memoFile, memoBase + lineStart);
        chain.rules.push(rule);
        if (rule.target.kind === 'jump' || rule.target.kind === 'goto') current.pending.push(rule);
      } else {
        const before = problems.length;
        const rule = parseCommand(current, raw, lineStart, span, problems);
        if (rule && problems.length === before) {
          // Kept with its matches relative to the line, shared from now on by every ruleset placing this line.
          const template = moveRule(rule, MEMO_FILE, -(memoBase + lineStart));
          byLine.set(key, { rule: template, at: 0 });
          const placed = placeRule(template, memoFile, memoBase + lineStart);
          // parseCommand just added `rule` to its chain (creating the chain if needed), so the chain is there.
          const list = current.chains.get(rule.chain)?.rules ?? [];
          const at = list.lastIndexOf(rule);
          if (at >= 0) list[at] = placed;
          const pending = current.pending;
          if (pending[pending.length - 1] === rule) pending[pending.length - 1] = placed;
        }
      }
      return;
    }
    const lead = raw.length - raw.trimStart().length;
    const line = raw.trim();
    const at = lineStart + lead;
    if (line === '' || line.startsWith('#')) return;
    const lineSpan = span(at, at + line.length);
    if (line.startsWith('*')) {
      if (current) {
        problems.push(
          problem(SYNTAX, 'error', `Table '${current.name}' has no COMMIT before the next table.`, current.span),
        );
        finish(current);
      }
      current = undefined;
      skipping = false;
      const name = line.slice(1).trim();
      if (isOneOf(TABLE_NAMES, name)) {
        const tableName = name;
        current = tables.get(tableName) ?? newTable(tableName, lineSpan);
        tables.set(tableName, current);
      } else {
        problems.push(
          problem(UNSUPPORTED, 'warning', `Table '${name}' is not supported; its rules are ignored.`, lineSpan),
        );
        skipping = true;
      }
    } else if (line === 'COMMIT') {
      if (current) finish(current);
      else if (!skipping) problems.push(problem(SYNTAX, 'error', 'COMMIT outside a table.', lineSpan));
      current = undefined;
      skipping = false;
    } else if (skipping) {
      // Lines of an unsupported table: already reported once on its header.
    } else if (!current) {
      problems.push(problem(SYNTAX, 'error', 'Line outside a table (expected `*filter`, `*nat`, ...).', lineSpan));
    } else if (line.startsWith(':')) {
      parseChainLine(current, line, at, span, problems);
    } else {
      parseCommand(current, raw, lineStart, span, problems);
    }
  };

  const end = (): ParseResult => {
    if (current) {
      problems.push(problem(SYNTAX, 'error', `Table '${current.name}' has no COMMIT.`, current.span));
      finish(current);
    }
    const out: Partial<Record<TableName, Table>> = {};
    for (const name of TABLE_NAMES) {
      const t = tables.get(name);
      if (t) out[name] = freezeTable(t);
    }
    const ruleset: Ruleset = { tables: out };
    return { ruleset, problems };
  };
  return { line, end };
}

function newTable(name: TableName, span: Span): MutableTable {
  const chains = new Map<string, MutableChain>();
  for (const c of BUILTIN_CHAINS[name])
    chains.set(c, { name: c, builtin: true, policy: 'ACCEPT', span, declared: false, rules: [] });
  return { name, span, chains, pending: [] };
}

function freezeTable(t: MutableTable): Table {
  const builtins: Chain[] = [];
  const users: Chain[] = [];
  for (const c of t.chains.values()) {
    const chain: Chain = c.builtin
      ? { name: c.name, builtin: true, policy: c.policy ?? 'ACCEPT', span: c.span, rules: c.rules }
      : { name: c.name, builtin: false, span: c.span, rules: c.rules };
    (c.builtin ? builtins : users).push(chain);
  }
  builtins.sort(
    (a, b) => BUILTIN_CHAINS[t.name].indexOf(a.name as never) - BUILTIN_CHAINS[t.name].indexOf(b.name as never),
  );
  return { name: t.name, span: t.span, chains: [...builtins, ...users] };
}

/** `:NAME POLICY [p:b]` with single spaces and no quotes (what generators write): its words without tokenizing. */
function plainChainLine(line: string): Token[] | undefined {
  if (line.length > 200 || /["'\\\t]| {2}/.test(line)) return undefined;
  const out: Token[] = [];
  let start = 0;
  const body = line.slice(1);
  for (const w of body.split(' ')) {
    if (w) out.push({ value: w, start, end: start + w.length, quoted: false });
    start += w.length + 1;
  }
  return out;
}

function parseChainLine(t: MutableTable, line: string, at: number, span: SpanFn, problems: Problem[]): void {
  const tokens = plainChainLine(line) ?? tokenize(line.slice(1)).tokens;
  const sp = span(at, at + line.length);
  const name = tokens[0]?.value ?? '';
  const policy = tokens[1]?.value;
  if (!name || policy === undefined) {
    problems.push(
      problem(SYNTAX, 'error', 'A chain line needs a name and a policy: `:NAME POLICY [packets:bytes]`.', sp),
    );
    return;
  }
  if (tokens[2] && !/^\[\d+:\d+\]$/.test(tokens[2].value)) {
    const tk = tokens[2];
    problems.push(
      problem(
        SYNTAX,
        'error',
        `Expected counters like [0:0], found '${tk.value}'.`,
        span(at + 1 + tk.start, at + 1 + tk.end),
      ),
    );
  }
  const isBuiltin = (BUILTIN_CHAINS[t.name] as readonly string[]).includes(name);
  const existing = t.chains.get(name);
  if (existing?.declared) {
    problems.push(problem(SYNTAX, 'error', `Chain '${name}' is declared twice in table '${t.name}'.`, sp));
    return;
  }
  if (isBuiltin) {
    if (policy !== 'ACCEPT' && policy !== 'DROP') {
      problems.push(
        problem(SYNTAX, 'error', `Built-in chain '${name}' needs the policy ACCEPT or DROP, not '${policy}'.`, sp),
      );
    }
    // Every table is created with its built-in chains (BUILTIN_CHAINS), and a built-in chain is never deleted.
    const c = t.chains.get(name);
    if (!c) return;
    c.policy = policy === 'DROP' ? 'DROP' : 'ACCEPT';
    c.span = sp;
    c.declared = true;
    return;
  }
  if (policy !== '-') {
    problems.push(
      problem(SYNTAX, 'error', `User-defined chain '${name}' cannot have a policy ('${policy}'); write '-'.`, sp),
    );
  }
  if (name.length > 28)
    problems.push(problem(SYNTAX, 'error', `Chain name '${name}' is longer than 28 characters.`, sp));
  if (existing) {
    existing.span = sp;
    existing.declared = true;
  } else {
    t.chains.set(name, { name, builtin: false, span: sp, declared: true, rules: [] });
  }
}

/** The file of the match spans of rules shared through a {@link ParseMemo}: offsets from the start of the rule's line. */
export const MEMO_FILE = 'netpath:line';

/** A memo's rule placed at `at` in `file`: its own span and target span moved there, its matches shared. */
function placeRule(r: Rule, file: string, at: number): Rule {
  work.ruleObjects++;
  return withSpansMoved({ ...r }, file, at);
}

/**
 * `out` (a rule's copy) with its span and target span moved by `delta` into `file`, in place (the keys keep their
 * order); its matches' spans are left as they are.
 */
function withSpansMoved(out: { -readonly [K in keyof Rule]: Rule[K] }, file: string, delta: number): Rule {
  out.span = { file, start: out.span.start + delta, end: out.span.end + delta };
  const ts = out.targetSpan;
  if (ts) out.targetSpan = { file, start: ts.start + delta, end: ts.end + delta };
  return out;
}

/** A copy of a parsed rule at another place: every span moved by `delta` and into `file`. */
function moveRule(r: Rule, file: string, delta: number): Rule {
  work.ruleObjects++;
  const matches: Match[] = new Array<Match>(r.matches.length);
  for (let i = 0; i < r.matches.length; i++) {
    const m = r.matches[i];
    matches[i] = { ...m, span: { file, start: m.span.start + delta, end: m.span.end + delta } };
  }
  return withSpansMoved({ ...r, matches }, file, delta);
}

/** Parses one command line into its table; returns the rule when it was a clean `-A` (for the memo). */
function parseCommand(
  t: MutableTable,
  raw: string,
  lineStart: number,
  span: SpanFn,
  problems: Problem[],
): Rule | undefined {
  work.iptablesLinesParsed++;
  const tk = tokenize(raw);
  const tokens = tk.tokens.slice();
  const tspan = (a: Token, b: Token = a): Span => span(lineStart + a.start, lineStart + b.end);
  if (tk.unterminatedQuote !== undefined) {
    problems.push(
      problem(SYNTAX, 'error', 'Unterminated quote.', span(lineStart + tk.unterminatedQuote, lineStart + raw.length)),
    );
    return;
  }
  // `iptables-save -c` puts counters before the command.
  if (tokens[0] && /^\[\d+:\d+\]$/.test(tokens[0].value)) tokens.shift();
  const cmd = tokens[0];
  if (!cmd) return;
  const ruleSpan = span(lineStart + cmd.start, lineStart + raw.trimEnd().length);
  const ruleText = raw.slice(cmd.start).trimEnd();
  const chainTok = tokens[1];
  const c = cmd.value;
  const needsChain = ['-A', '--append', '-I', '--insert', '-N', '--new-chain', '-X', '--delete-chain'].includes(c);
  if (needsChain && !chainTok) {
    problems.push(problem(SYNTAX, 'error', `'${c}' needs a chain name.`, tspan(cmd)));
    return;
  }
  if (!chainTok) {
    problems.push(
      problem(
        UNSUPPORTED,
        'warning',
        `Command '${c}' is not supported in iptables-save input; the line is ignored.`,
        ruleSpan,
      ),
    );
    return;
  }
  if (c === '-N' || c === '--new-chain') {
    const name = chainTok.value;
    if (t.chains.has(name)) problems.push(problem(SYNTAX, 'error', `Chain '${name}' already exists.`, ruleSpan));
    else t.chains.set(name, { name, builtin: false, span: ruleSpan, declared: true, rules: [] });
    return;
  }
  if (c === '-X' || c === '--delete-chain') {
    const name = chainTok.value;
    const ch = t.chains.get(name);
    if (!ch || ch.builtin)
      problems.push(
        problem(
          SYNTAX,
          'error',
          `Cannot delete chain '${name}': ${ch ? 'it is built in' : 'no such chain'}.`,
          ruleSpan,
        ),
      );
    else t.chains.delete(name);
    return;
  }
  if (c !== '-A' && c !== '--append' && c !== '-I' && c !== '--insert') {
    problems.push(
      problem(
        UNSUPPORTED,
        'warning',
        `Command '${c}' is not supported in iptables-save input; the line is ignored.`,
        ruleSpan,
      ),
    );
    return;
  }
  const chainName = chainTok.value;
  let chain = t.chains.get(chainName);
  if (!chain) {
    problems.push(
      problem(
        SYNTAX,
        'error',
        `Chain '${chainName}' does not exist in table '${t.name}' (declare it with ':${chainName} - [0:0]').`,
        tspan(chainTok),
      ),
    );
    chain = { name: chainName, builtin: false, span: tspan(chainTok), declared: false, rules: [] };
    t.chains.set(chainName, chain);
  }
  let rest = tokens.slice(2);
  let position: number | undefined;
  if ((c === '-I' || c === '--insert') && rest[0] && /^\d+$/.test(rest[0].value)) {
    position = Number(rest[0].value);
    if (position < 1) problems.push(problem(SYNTAX, 'error', 'Rule positions start at 1.', tspan(rest[0])));
    rest = rest.slice(1);
  }
  const rule = parseRuleBody(t.name, chainName, ruleText, ruleSpan, rest, tspan, problems);
  work.ruleObjects++;
  if (rule.target.kind === 'jump' || rule.target.kind === 'goto') t.pending.push(rule);
  if (c === '-A' || c === '--append') {
    chain.rules.push(rule);
    return rule;
  }
  chain.rules.splice(Math.max(0, Math.min((position ?? 1) - 1, chain.rules.length)), 0, rule);
  return undefined;
}

/**
 * At COMMIT: chains that jump (or go to) each other in a loop reachable from a built-in chain. The kernel walks
 * every chain from the hooks when it loads a table and refuses the whole table on a loop (iptables-restore fails
 * with ELOOP, "Too many levels of symbolic links"). Reported at the jump that closes each loop. Iterative
 * depth-first search: linear in rules, no recursion on deep chains.
 */
function findLoops(t: MutableTable, problems: Problem[]): void {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done.
  for (const root of t.chains.values()) {
    if (!root.builtin || state.has(root.name)) continue;
    const path: { chain: MutableChain; next: number }[] = [{ chain: root, next: 0 }];
    state.set(root.name, 1);
    while (path.length) {
      const top = path[path.length - 1];
      const rule = top.chain.rules[top.next++];
      if (!rule) {
        state.set(top.chain.name, 2);
        path.pop();
        continue;
      }
      if (rule.target.kind !== 'jump' && rule.target.kind !== 'goto') continue;
      const next = t.chains.get(rule.target.chain);
      if (!next || next.builtin) continue;
      const seen = state.get(next.name);
      if (seen === 2) continue;
      if (seen === 1) {
        const from = path.findIndex((p) => p.chain.name === next.name);
        const cycle = [...path.slice(from).map((p) => p.chain.name), next.name].join(' -> ');
        problems.push(
          problem(
            SYNTAX,
            'error',
            `This jump closes a loop of chains (${cycle}) in table '${t.name}': the kernel refuses to load the table (iptables-restore: "Too many levels of symbolic links").`,
            rule.targetSpan ?? rule.span,
          ),
        );
        continue;
      }
      state.set(next.name, 1);
      path.push({ chain: next, next: 0 });
    }
  }
}

/** At COMMIT: jumps must name a chain of the table; unknown target names are reported. */
function resolveTargets(t: MutableTable, problems: Problem[]): void {
  const bad = new Set<Rule>();
  for (const r of t.pending) {
    const name = (r.target as { readonly chain: string }).chain;
    const target = t.chains.get(name);
    if (!target || target.builtin) bad.add(r);
  }
  t.pending = [];
  if (!bad.size) return;
  // Reported in chain order, each bad rule replaced by a copy that says why it cannot be evaluated.
  for (const chain of t.chains.values()) {
    chain.rules = chain.rules.map((rule) => {
      if (!bad.has(rule)) return rule;
      const name = (rule.target as { readonly chain: string }).chain;
      const span = rule.targetSpan ?? rule.span;
      const target = t.chains.get(name);
      let message: string;
      if (target?.builtin) {
        message = `Cannot jump to built-in chain '${name}'.`;
        problems.push(problem(SYNTAX, 'error', message, span));
      } else if (KNOWN_UNSUPPORTED_TARGETS.has(name)) {
        message = `Target ${name} is not supported.`;
        problems.push(problem(UNSUPPORTED, 'warning', message, span));
      } else {
        message = `Chain or target '${name}' does not exist in table '${t.name}'.`;
        problems.push(problem(SYNTAX, 'error', message, span));
      }
      return { ...rule, unsupported: [...rule.unsupported, message] };
    });
  }
}

/**
 * {@link parseIptablesLines} for generated rulesets (kube-proxy's, shared by alike nodes): the tables and chains
 * at once, each chain's rules parsed when first read. A trace reads KUBE-SERVICES and the few chains its packet
 * jumps to, not the 100,000 rules of a 2,000-Service cluster. Reading `problems` parses everything (and finds
 * what the eager parse would: bad jumps, loops). Only for text made of `*table`, chain declarations, `-A` lines,
 * comments and `COMMIT`, each table once and every chain declared before its rules; anything else gives
 * undefined, and the caller parses eagerly. The rules are the ones the eager parse with a memo gives, spans
 * included (a rule's matches are the memo's, their spans relative to the line).
 */
export function parseIptablesLinesLazily(
  lines: readonly string[],
  file: string,
  memo: ParseMemo,
): ParseResult | undefined {
  const scan = lazyScanner(file, memo);
  for (const raw of lines) if (!scan.line(raw)) return undefined;
  return scan.end();
}

/**
 * What the writer of a line knows of it, so that {@link LazyScanner} need not read it: a `-A` line of `rule`'s
 * chain, or the declaration `:NAME - [0:0]` of the user chain `decl`.
 */
export type LineFact = { readonly rule: string; readonly decl?: undefined } | { readonly decl: string };

/**
 * {@link parseIptablesLinesLazily} fed one line at a time, for a caller that assembles the text's lines as it goes
 * (and never keeps them): `line` answers false when the text is not one the lazy parse takes (then parse eagerly),
 * `end` gives the ruleset. A line given with a {@link LineFact} is taken as the fact says, its characters unread:
 * a generator that wrote 100,000s of lines says where each one goes instead of having every one read back.
 */
/** One chain's run of lines handed to a {@link LazyScanner}. */
export interface ScannedRun {
  readonly chain: string;
  readonly rules: readonly string[];
  readonly count?: number;
  readonly chars?: number;
  /** With `count`: what its writer knows of each line before writing it (then `rules` is read only to parse it all). */
  readonly deferred?: DeferredLines;
}

/**
 * A run of lines its writer has not written yet (kube-proxy's per-Service lines in KUBE-SERVICES and the like), line by
 * line: the words each would have after `-A CHAIN` (enough to index it, see {@link indexArgs}), its length, and its
 * text, made when asked for (a packet that reaches the line).
 */
export interface DeferredLines {
  argsOf(i: number): readonly (string | readonly string[])[];
  /** The line's characters, its newline included. */
  charsOf(i: number): number;
  lineAt(i: number): string;
}

/**
 * Where the lines of one generator's table fall (kube-proxy's, src/core/kubeproxy/generate.ts), so its 100,000s of
 * Service chains are placed without a step per chain: a chain is found by name when it is looked up. Offsets are
 * relative to the first user chain declaration (`declAt`) and the first rule line (`at`, `runAt`), newlines included.
 */
export interface ChainLayout {
  /** The built-in chains it declares (first, and not counted in `declChars`). */
  readonly builtins: readonly string[];
  /** Every chain it declares, in order, the built-in ones first. */
  readonly names: readonly string[];
  /** Characters of its user chains' declarations, each `:NAME - [0:0]` and a newline. */
  readonly declChars: number;
  /** Characters of its rule lines. */
  readonly ruleChars: number;
  /** The user chains {@link find} does not know, with where each one's declaration starts. */
  readonly plainDecls: readonly { readonly name: string; readonly declAt: number }[];
  /**
   * The runs of the chains {@link find} does not know (built-in ones among them), with where each starts; one with a
   * `count` and `deferred` lines is placed without reading `rules` (see {@link ScannedRun}).
   */
  readonly plainRuns: readonly {
    readonly chain: string;
    readonly rules: readonly string[];
    readonly at: number;
    readonly count?: number;
    readonly deferred?: DeferredLines;
  }[];
  /**
   * A chain found by name: where its declaration and its lines start, their count, and the lines (read last).
   * `readWhole`: every packet that enters the chain reads all of its lines (none of them is kept to one destination
   * or port), so it is parsed whole when read rather than indexed line by line first (an index would list them all).
   */
  find(name: string):
    | {
        readonly declAt: number;
        readonly runAt: number;
        readonly count: number;
        readonly rules: readonly string[];
        readonly readWhole?: boolean;
      }
    | undefined;
  /**
   * Whether {@link find} knows `name`, answered without making what it would give (KUBE-SERVICES is checked for its
   * 10,000s of targets before a packet reads one). Absent: `find` is asked.
   */
  has?(name: string): boolean;
}

export interface LazyScanner {
  line(raw: string, fact?: LineFact): boolean;
  /**
   * Lines that are all `-A` lines of `chain`, one after the other (as `line` with the fact `{ rule: chain }` each).
   * With `count` and `chars` (their length, newlines included) they are placed without reading `rules`, which is
   * read when the chain is.
   */
  run(r: ScannedRun): boolean;
  /** The line `:NAME - [0:0]` declaring the user chain `name` (as `line` with the fact `{ decl: name }`), never made. */
  decl(name: string): boolean;
  /** `chars` characters of the text whose lines another scan parses (a shared ruleset's), passed over unread. */
  skip(chars: number): void;
  /**
   * The user chain declarations of a laid-out table (as `decl` for each user name of `layout.names`), handed before
   * any other user chain of the table is declared; each chain is made when it is looked up.
   */
  declLayout(layout: ChainLayout): boolean;
  /** The rule lines of the table whose declarations `declLayout` took (as `run` for each of its runs). */
  runLayout(layout: ChainLayout): boolean;
  end(): ParseResult | undefined;
}

export function lazyScanner(file: string, memo: ParseMemo): LazyScanner {
  const span: SpanFn = (start, end) => ({ file, start, end });
  const declProblems: Problem[] = [];
  const tables = new Map<TableName, LazyTable>();
  let current: LazyTable | undefined;
  let at = 0;
  let refused = false;
  const rule = (raw: string, lineStart: number, chain: string): boolean => {
    const decl = current?.table.chains.get(chain);
    if (!current || !decl || (!decl.declared && !decl.builtin)) return false;
    addSegment(current, chain, { start: lineStart, lines: [raw] });
    return true;
  };
  /** A user chain's declaration of `length` characters (newline excluded), at the current offset. */
  const declare = (name: string, length: number): boolean => {
    const lineStart = at;
    at += length + 1;
    const chains = current?.table.chains;
    // As the scan of the line would: a second declaration or a name iptables refuses is the eager parse's to report.
    if (!chains || chains.has(name) || name.length > 28) return false;
    lazyParseWork.chainEntries++;
    chains.set(name, { name, builtin: false, span: span(lineStart, at - 1), declared: true, rules: [] });
    return true;
  };
  const line = (raw: string, fact?: LineFact): boolean => {
    if (fact?.decl !== undefined) return declare(fact.decl, raw.length);
    const lineStart = at;
    at += raw.length + 1;
    if (fact) return rule(raw, lineStart, fact.rule);
    const c0 = raw.charCodeAt(0);
    if (raw === '' || c0 === 35 /* # */) return true;
    if (raw.charCodeAt(raw.length - 1) === 13) return false;
    // `-A` lines are read as they are (as the eager parse reads them through its memo); the others trimmed there.
    if (c0 === 45 /* - */) {
      if (!current || raw.charCodeAt(1) !== 65 /* A */ || raw.charCodeAt(2) !== 32) return false;
      const sp = raw.indexOf(' ', 3);
      return rule(raw, lineStart, raw.slice(3, sp < 0 ? raw.length : sp));
    } else if (raw !== raw.trim()) {
      return false;
    } else if (c0 === 42 /* * */) {
      const name = raw.slice(1);
      if (current || !isOneOf(TABLE_NAMES, name) || tables.has(name)) return false;
      current = { table: newTable(name, span(lineStart, at - 1)), ruleLines: new Map() };
      tables.set(name, current);
    } else if (c0 === 58 /* : */) {
      if (!current) return false;
      // What generators write for a user chain, `:NAME - [0:0]`, read without tokenizing; anything else as usual.
      const sp = raw.indexOf(' ');
      const name = raw.slice(1, sp);
      const chains = current.table.chains;
      if (sp > 1 && sp <= 29 && raw.endsWith(' - [0:0]') && raw.length === sp + 8 && !chains.has(name)) {
        lazyParseWork.chainEntries++;
        chains.set(name, { name, builtin: false, span: span(lineStart, at - 1), declared: true, rules: [] });
      } else parseChainLine(current.table, raw, lineStart, span, declProblems);
      if (declProblems.length) return false;
    } else if (raw === 'COMMIT') {
      if (!current) return false;
      current = undefined;
    } else return false;
    return true;
  };
  return {
    line(raw: string, fact?: LineFact): boolean {
      if (!refused && !line(raw, fact)) refused = true;
      return !refused;
    },
    decl(name: string): boolean {
      if (!refused && !declare(name, name.length + 9)) refused = true;
      return !refused;
    },
    declLayout(layout: ChainLayout): boolean {
      const chains = current?.table.chains;
      if (refused || !chains || chains instanceof LaidOutChains) return ((refused = true), false);
      // Only the built-in chains may be there before (the layout's names are then all new), and none of them is one
      // the layout declares as a user chain.
      const plain = new Map(layout.plainDecls.map((d) => [d.name, d.declAt]));
      for (const c of chains.values())
        if (!c.builtin || layout.find(c.name) || plain.has(c.name)) return ((refused = true), false);
      for (const b of layout.builtins) if (!chains.get(b)?.builtin) return ((refused = true), false);
      for (const d of layout.plainDecls) if (d.name.length > 28) return ((refused = true), false);
      const laid = new LaidOutChains(chains, layout, plain, at, span);
      if (current) current.table.chains = laid;
      at += layout.declChars;
      return true;
    },
    runLayout(layout: ChainLayout): boolean {
      const lt = current;
      const chains = lt?.table.chains;
      if (refused || !lt || !(chains instanceof LaidOutChains) || !chains.laidOut(layout))
        return ((refused = true), false);
      // A chain of the layout with lines from before would have them after the layout's own: left to the parse.
      for (const name of lt.ruleLines.keys()) if (layout.find(name)) return ((refused = true), false);
      lt.ruleLines = new LaidOutRuleLines(lt.ruleLines, layout, at);
      for (const r of layout.plainRuns) {
        const decl = chains.get(r.chain);
        if (!decl || (!decl.declared && !decl.builtin)) return ((refused = true), false);
        addSegment(
          lt,
          r.chain,
          r.count !== undefined ? new CountedSegment(at + r.at, r, r.count) : { start: at + r.at, lines: r.rules },
        );
      }
      at += layout.ruleChars;
      return true;
    },
    run(r: ScannedRun): boolean {
      const chain = r.chain;
      const decl = current?.table.chains.get(chain);
      if (refused || !current || !decl || (!decl.declared && !decl.builtin)) {
        refused = true;
        return false;
      }
      // Kept as the run it is (where it starts, its lines): the lines' own starts are worked out only for a chain
      // that is read, and a trace reads a few of kube-proxy's 100,000s.
      if (r.count !== undefined && r.chars !== undefined) {
        // Its text is read (and made) only with the chain's rules.
        addSegment(current, chain, new CountedSegment(at, r, r.count));
        at += r.chars;
        return true;
      }
      const lines = r.rules;
      addSegment(current, chain, { start: at, lines });
      for (let i = 0; i < lines.length; i++) at += lines[i].length + 1;
      return true;
    },
    skip(chars: number): void {
      at += chars;
    },
    end(): ParseResult | undefined {
      return refused || current ? undefined : lazyRuleset(tables, file, memo);
    },
  };
}

/**
 * A read-only map of chains that answers `get` and `has` itself and builds the whole map (`all`) only for a reader that
 * walks it or asks its size.
 */
export abstract class ChainMapView implements ReadonlyMap<string, Chain> {
  abstract get(name: string): Chain | undefined;
  abstract has(name: string): boolean;
  protected abstract all(): Map<string, Chain>;
  get size(): number {
    return this.all().size;
  }
  forEach(f: (value: Chain, key: string, map: ReadonlyMap<string, Chain>) => void): void {
    this.all().forEach((v, k) => f(v, k, this));
  }
  entries(): MapIterator<[string, Chain]> {
    return this.all().entries();
  }
  keys(): MapIterator<string> {
    return this.all().keys();
  }
  values(): MapIterator<Chain> {
    return this.all().values();
  }
  [Symbol.iterator](): MapIterator<[string, Chain]> {
    return this.all()[Symbol.iterator]();
  }
}

/**
 * A lazily parsed table's chains by name: a chain's object is made on its first lookup ({@link lazyRuleset}), and
 * the whole map only for a reader that walks it. A built-in chain is one the table lists (made up front).
 */
class ChainsByName extends ChainMapView {
  private whole: Map<string, Chain> | undefined;
  constructor(
    private readonly scanned: ReadonlyMap<string, MutableChain>,
    private readonly made: ReadonlyMap<string, Chain>,
    private readonly make: (c: MutableChain) => Chain,
    private readonly list: () => readonly Chain[],
  ) {
    super();
  }
  get(name: string): Chain | undefined {
    const c = this.scanned.get(name);
    if (!c) return undefined;
    return c.builtin ? this.made.get(name) : this.make(c);
  }
  has(name: string): boolean {
    const c = this.scanned.get(name);
    return c !== undefined && (!c.builtin || this.made.has(name));
  }
  protected all(): Map<string, Chain> {
    return (this.whole ??= new Map(this.list().map((c) => [c.name, c])));
  }
}

interface LazyTable {
  readonly table: MutableTable;
  /** Per chain: its `-A` lines, in order, as runs of consecutive lines (each with the offset of its first line). */
  ruleLines: Map<string, Segment | Segment[]>;
}

/**
 * A scanned table's chains with those of a {@link ChainLayout} among them: a laid-out chain's entry is made when it
 * is first looked up (once), and the whole list, in declaration order, only for a reader that walks it.
 */
class LaidOutChains extends Map<string, MutableChain> {
  /** The laid-out chains made so far. */
  private readonly made = new Map<string, MutableChain>();
  /** How many chains were declared before the layout's (the built-in ones). */
  private readonly before: number;
  constructor(
    chains: ReadonlyMap<string, MutableChain>,
    private readonly layout: ChainLayout,
    private readonly plain: ReadonlyMap<string, number>,
    /** Where the layout's first user chain declaration starts. */
    private readonly base: number,
    private readonly span: SpanFn,
  ) {
    super(chains);
    this.before = chains.size;
  }
  laidOut(layout: ChainLayout): boolean {
    return layout === this.layout;
  }
  private declAt(name: string): number | undefined {
    return this.layout.find(name)?.declAt ?? this.plain.get(name);
  }
  override get(name: string): MutableChain | undefined {
    const own = super.get(name);
    if (own) return own;
    let c = this.made.get(name);
    if (c) return c;
    const declAt = this.declAt(name);
    if (declAt === undefined) return undefined;
    const start = this.base + declAt;
    // As the declaration's scan would make it: `:NAME - [0:0]` is the name and 9 characters.
    lazyParseWork.chainEntries++;
    c = { name, builtin: false, span: this.span(start, start + name.length + 9), declared: true, rules: [] };
    this.made.set(name, c);
    return c;
  }
  override has(name: string): boolean {
    // Without asking where it is declared: a layout may know that before it knows where (kube-proxy's skimmed table).
    const layout = this.layout;
    return super.has(name) || (layout.has ? layout.has(name) : layout.find(name) !== undefined) || this.plain.has(name);
  }
  override get size(): number {
    return super.size + this.layout.names.length - this.layout.builtins.length;
  }
  override *values(): MapIterator<MutableChain> {
    let i = 0;
    const rest: MutableChain[] = [];
    for (const c of super.values()) {
      if (i++ < this.before) yield c;
      else rest.push(c);
    }
    const names = this.layout.names;
    for (let k = this.layout.builtins.length; k < names.length; k++) {
      const c = this.get(names[k]);
      if (c) yield c;
    }
    yield* rest;
  }
  override *keys(): MapIterator<string> {
    for (const c of this.values()) yield c.name;
  }
  override *entries(): MapIterator<[string, MutableChain]> {
    for (const c of this.values()) yield [c.name, c];
  }
  override [Symbol.iterator](): MapIterator<[string, MutableChain]> {
    return this.entries();
  }
  override forEach(f: (value: MutableChain, key: string, map: Map<string, MutableChain>) => void): void {
    for (const c of this.values()) f(c, c.name, this);
  }
}

/** A scanned table's lines by chain, those of a {@link ChainLayout}'s chains found by name when asked for. */
class LaidOutRuleLines extends Map<string, Segment | Segment[]> {
  constructor(
    lines: ReadonlyMap<string, Segment | Segment[]>,
    private readonly layout: ChainLayout,
    /** Where the layout's first rule line starts. */
    private readonly base: number,
  ) {
    super(lines);
  }
  override get(chain: string): Segment | Segment[] | undefined {
    const own = super.get(chain);
    if (own !== undefined) return own;
    const c = this.layout.find(chain);
    return c?.count ? new CountedSegment(this.base + c.runAt, c, c.count, c.readWhole === true) : undefined;
  }
}

const isSegmentList = (s: Segment | readonly Segment[]): s is readonly Segment[] => Array.isArray(s);

interface Segment {
  readonly start: number;
  readonly lines: readonly string[];
  /** The number of `lines`, when known without reading them (a generator's run whose text is made when read). */
  readonly count?: number;
  /** With `count`: its lines one by one, before they are written (see {@link DeferredLines}). */
  readonly deferred?: DeferredLines;
  /** Its writer says every packet reads all of its lines (see {@link ChainLayout.find}). */
  readonly readWhole?: boolean;
}

/** A run placed by its count: its lines read from it (and so made) only when the chain is. */
class CountedSegment implements Segment {
  readonly deferred: DeferredLines | undefined;
  constructor(
    readonly start: number,
    private readonly run: { readonly rules: readonly string[]; readonly deferred?: DeferredLines },
    readonly count: number,
    readonly readWhole = false,
  ) {
    this.deferred = run.deferred;
  }
  get lines(): readonly string[] {
    return this.run.rules;
  }
}

function addSegment(t: LazyTable, chain: string, seg: Segment): void {
  // Most chains have one run (a generator writes each of its chains in one piece): kept as it is, not in a list.
  const list = t.ruleLines.get(chain);
  if (list === undefined) t.ruleLines.set(chain, seg);
  else if (Array.isArray(list)) list.push(seg);
  else t.ruleLines.set(chain, [list, seg]);
}

/**
 * Whether a chain of these runs is worth indexing before it is parsed: it is long, and its writer does not say every
 * packet reads all of it (kube-proxy's chain of a Service's endpoint picks, whose `-m statistic` lines no index reads:
 * the offer of one read a line's words and fell back to the parse, for each Service a trace entered).
 */
function worthIndexing(segments: Segment | readonly Segment[] | undefined): boolean {
  if (segments === undefined || (!isSegmentList(segments) && segments.readWhole)) return false;
  return lineCount(segments) >= INDEX_MIN_RULES;
}

function lineCount(segments: Segment | readonly Segment[] | undefined): number {
  if (segments === undefined) return 0;
  if (!isSegmentList(segments)) return segments.count ?? segments.lines.length;
  let n = 0;
  for (const seg of segments) n += seg.count ?? seg.lines.length;
  return n;
}

/** What {@link indexLine} says of a line that goes in the index's `rest` (no port is 0). */
const REST = 0;
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
const FILTER_VERDICTS = new Set(['ACCEPT', 'DROP', 'REJECT']);
/** Characters the tokenizer gives a meaning (quotes, escapes): a line with them is left to the parser. */
const SPECIAL = /["'\\]/;
const SPECIALS = /["'\\]/g;

/**
 * Where a `-A` line of `chain` goes in the chain's index, read off its words without parsing it: the key of its
 * destination address when it has one that is not negated and a host prefix (the first), else its `--dport`, else
 * {@link REST}; undefined when the line is not one of the few shapes read here (a chain with such a line is parsed
 * and indexed as usual). The shapes are kube-proxy's dispatch lines: an optional comment, then `-m tcp -p tcp`
 * (udp, sctp), `[!] -d ADDRESS`, `--dport N`, `-m addrtype --dst-type LOCAL` (or `--src-type`) in any order, and
 * `-j` to a declared user chain of the table (ACCEPT, DROP or REJECT in the filter table). Every such line is a
 * rule the parser accepts with nothing unsupported, which is what lets the index be read without it (a test
 * parses what kube-proxy's generator writes for the corpus and checks both indexes agree).
 */
export function indexLine(
  raw: string,
  chain: string,
  table: TableName,
  chains: ReadonlyMap<string, { readonly builtin: boolean }>,
): string | number | undefined {
  if (!raw.startsWith('-A ') || !raw.startsWith(chain, 3) || raw.charCodeAt(3 + chain.length) !== 32) return undefined;
  let at = 4 + chain.length;
  if (raw.startsWith('-m comment --comment ', at)) {
    at += 21;
    const quoted = raw.charCodeAt(at) === 34;
    const end = quoted ? raw.indexOf('"', at + 1) : raw.indexOf(' ', at);
    if (end < 0 || SPECIAL.test(raw.slice(quoted ? at + 1 : at, end))) return undefined;
    at = quoted ? end + 1 : end;
    if (raw.charCodeAt(at) !== 32) return undefined;
    at++;
  }
  return indexWords(raw.slice(at).split(' '), 0, table, chains);
}

/**
 * What {@link indexLine} says of a line a generator has not written yet, from the words it would write after `-A` and
 * the chain (`args`, its lists flattened in place): the same answer the line would get, without making it.
 */
export function indexArgs(
  args: readonly (string | readonly string[])[],
  table: TableName,
  chains: ReadonlyMap<string, { readonly builtin: boolean }>,
): string | number | undefined {
  const flat: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (typeof a === 'string') flat.push(a);
    else for (let i = 0; i < a.length; i++) flat.push(a[i]);
  }
  // A comment first is read as indexLine reads it: the one word that may hold spaces (quoted then), and more after it.
  let from = 0;
  if (flat.length > 3 && flat[0] === '-m' && flat[1] === 'comment' && flat[2] === '--comment') {
    if (flat.length === 4 || !plainComment(flat[3])) return undefined;
    from = 4;
  }
  for (let k = from; k < flat.length; k++) {
    // Split as the line's reader splits them (a word with a space in it is two of the line's words).
    if (flat[k].includes(' ')) return indexWords(flat.slice(from).join(' ').split(' '), 0, table, chains);
  }
  return indexWords(flat, from, table, chains);
}

/**
 * Whether indexLine reads past a comment written as `word`: quoted with no quote or backslash inside, or a bare word
 * with no space, quote or backslash.
 */
function plainComment(word: string): boolean {
  if (word.charCodeAt(0) === 34)
    return word.length >= 2 && word.charCodeAt(word.length - 1) === 34 && !SPECIAL.test(word.slice(1, -1));
  return !word.includes(' ') && !SPECIAL.test(word);
}

/** The words of a line after its chain and comment (from `words[from]`), as {@link indexLine} reads them. */
function indexWords(
  words: readonly string[],
  from: number,
  table: TableName,
  chains: ReadonlyMap<string, { readonly builtin: boolean }>,
): string | number | undefined {
  let proto = false;
  let negated = false;
  let dst: string | undefined;
  let port: number | undefined;
  for (let k = from; k < words.length;) {
    const w = words[k];
    if (w === '' || SPECIAL.test(w)) return undefined;
    if (w === '!') {
      if (negated || words[k + 1] !== '-d') return undefined;
      negated = true;
      k++;
    } else if (w === '-d') {
      const v = words[k + 1];
      // A dotted quad (kube-proxy's cluster IPs, 10,000s of lines): its key from its value, with no address made.
      const v4 = v === undefined ? -1 : ipv4Number(v);
      if (v4 >= 0) {
        if (!negated && dst === undefined) dst = `4:${v4}`;
        negated = false;
        k += 2;
        continue;
      }
      const p = v === undefined || v.includes(',') || SPECIAL.test(v) ? undefined : parseAddressOrPrefix(v);
      if (!p) return undefined;
      if (!negated && dst === undefined && p.length === (p.family === 4 ? 32 : 128))
        dst = indexKey(p.family, p.address);
      negated = false;
      k += 2;
    } else if (
      w === '-m' &&
      PORT_PROTOCOLS.has(words[k + 1]) &&
      words[k + 2] === '-p' &&
      words[k + 3] === words[k + 1]
    ) {
      if (proto) return undefined;
      proto = true;
      k += 4;
    } else if (w === '--dport') {
      const v = words[k + 1];
      if (!proto || port !== undefined || v === undefined || !/^[1-9]\d{0,4}$/.test(v) || Number(v) > 65535)
        return undefined;
      port = Number(v);
      k += 2;
    } else if (
      w === '-m' &&
      words[k + 1] === 'addrtype' &&
      (words[k + 2] === '--dst-type' || words[k + 2] === '--src-type') &&
      words[k + 3] === 'LOCAL'
    ) {
      k += 4;
    } else if (w === '-j' && k + 2 === words.length) {
      const target = words[k + 1];
      // A built-in chain's name never starts with KUBE-, so a KUBE- chain the table has is a user chain (asked with
      // `has`: a laid-out table then records none of the 10,000s of chains KUBE-SERVICES jumps to).
      const ok = target.startsWith('KUBE-') ? chains.has(target) : table === 'filter' && FILTER_VERDICTS.has(target);
      return ok ? (dst ?? port ?? REST) : undefined;
    } else return undefined;
  }
  return undefined;
}

/**
 * A chain's lines by number across its runs, each with its offset: a run of {@link DeferredLines} is read line by
 * line, so indexing it and reaching one of its lines makes the text of that line alone.
 */
class ChainLines {
  readonly count: number;
  private readonly segments: readonly Segment[];
  /** The number of each segment's first line. */
  private readonly firsts: number[] = [];
  /** Per segment, each line's offset, worked out when one of its lines is first asked for. */
  private readonly starts: (number[] | undefined)[] = [];
  constructor(segments: Segment | readonly Segment[] | undefined) {
    this.segments = segments === undefined ? [] : isSegmentList(segments) ? segments : [segments];
    let n = 0;
    for (const seg of this.segments) {
      this.firsts.push(n);
      n += seg.count ?? seg.lines.length;
    }
    this.count = n;
  }
  /** The segment line `i` is in (a chain has a run or two: walked, not searched). */
  private segmentOf(i: number): number {
    let k = this.segments.length - 1;
    while (k > 0 && this.firsts[k] > i) k--;
    return k;
  }
  /** Where line `i` goes in the chain's index (see {@link indexLine}). */
  keyAt(
    i: number,
    chain: string,
    table: TableName,
    chains: ReadonlyMap<string, { readonly builtin: boolean }>,
  ): string | number | undefined {
    const k = this.segmentOf(i);
    const deferred = this.segments[k].deferred;
    return deferred
      ? indexArgs(deferred.argsOf(i - this.firsts[k]), table, chains)
      : indexLine(this.textAt(i), chain, table, chains);
  }
  textAt(i: number): string {
    const k = this.segmentOf(i);
    const seg = this.segments[k];
    return seg.deferred ? seg.deferred.lineAt(i - this.firsts[k]) : seg.lines[i - this.firsts[k]];
  }
  startAt(i: number): number {
    const k = this.segmentOf(i);
    let starts = this.starts[k];
    if (!starts) {
      const seg = this.segments[k];
      starts = [];
      let at = seg.start;
      const deferred = seg.deferred;
      if (deferred)
        for (let j = 0; j < (seg.count ?? 0); j++) {
          starts.push(at);
          at += deferred.charsOf(j);
        }
      else
        for (const raw of seg.lines) {
          starts.push(at);
          at += raw.length + 1;
        }
      this.starts[k] = starts;
    }
    return starts[i - this.firsts[k]] ?? 0;
  }
}

/** The ruleset of the scanned tables, each chain's rules parsed when first read. */
/** Work counters of the lazy parse (src/core/work.ts counts the rest): tests check what a trace makes. */
export const lazyParseWork = {
  /** Chain objects a lazily parsed table made (at a chain's first lookup, or all when its list is read). */
  chainObjects: 0,
  /**
   * Declared chains the lazy scan recorded (one per declaration line it read, one per laid-out chain looked up): a
   * generator's layout is taken without one per chain.
   */
  chainEntries: 0,
};

function lazyRuleset(tables: ReadonlyMap<TableName, LazyTable>, file: string, memo: ParseMemo): ParseResult {
  const span: SpanFn = (start, end) => ({ file, start, end });
  /** Per table and chain: the problems of its lines, and of its jumps (reported at COMMIT by the eager parse). */
  const lineProblems = new Map<string, Problem[]>();
  const jumpProblems = new Map<string, Problem[]>();
  const out: Partial<Record<TableName, Table>> = {};
  const parsers = new Map<TableName, (c: MutableChain) => readonly Rule[]>();
  /** Per table: one line of a chain parsed alone (as the chain's parse has it), or undefined when it is no rule. */
  const singles = new Map<TableName, (c: MutableChain, raw: string, lineStart: number) => Rule | undefined>();
  for (const name of TABLE_NAMES) {
    const lt = tables.get(name);
    if (!lt) continue;
    const t = lt.table;
    const parsedChains = new Map<string, readonly Rule[]>();
    let byLine = memo.rules.get(name);
    if (!byLine) memo.rules.set(name, (byLine = new Map()));
    const known = byLine;
    let byShape = memo.shapes.get(name);
    if (!byShape) memo.shapes.set(name, (byShape = new Map()));
    const shapes = byShape;
    /** One `-A` line of `c` parsed into `list` (through the memo), as the eager parse with a memo would. */
    const parseLine = (c: MutableChain, list: Rule[], raw: string, lineStart: number, problems: Problem[]): void => {
      const seen = known.get(raw);
      if (seen && seen.rule.chain === c.name) {
        list.push(placeRule(seen.rule, file, lineStart));
        return;
      }
      const shape = lineShape(raw);
      const sameShape = shape && shape.words[0]?.word === c.name ? shapes.get(shape.key) : undefined;
      // Made where it goes, and not kept by its text: a line of a shape differs from the others in a name or an
      // address, which (kube-proxy's endpoint lines) no other chain of the ruleset repeats.
      const fromShape = sameShape && shape ? reshaped(sameShape, raw, shape, file, lineStart) : undefined;
      if (fromShape) {
        work.ruleObjects++;
        list.push(fromShape);
        return;
      }
      const before = problems.length;
      const rule = parseCommand(scratchOf(c, list), raw, lineStart, span, problems);
      if (rule && problems.length === before) {
        const template = moveRule(rule, MEMO_FILE, -lineStart);
        known.set(raw, { rule: template, at: 0 });
        const newShape = shape && !shapes.has(shape.key) ? shapeTemplate(template, raw, shape) : undefined;
        if (shape && newShape) shapes.set(shape.key, newShape);
        list[list.length - 1] = placeRule(template, file, lineStart);
      }
    };
    // One line at a time: parseCommand adds the rule to this stand-in of the table, whose chain's rules are the list
    // being parsed. Made only for a line parsed in full (most come from the memo), not once per chain.
    const scratchOf = (c: MutableChain, list: Rule[]): MutableTable => ({
      name,
      span: t.span,
      chains: new Map([[c.name, { ...c, rules: list }]]),
      pending: [],
    });
    /** A jump to a chain that does not exist (or to a built-in one): as the eager parse marks it at COMMIT. */
    const checkJump = (rule: Rule, jumps: Problem[]): Rule => {
      if (rule.target.kind !== 'jump' && rule.target.kind !== 'goto') return rule;
      const target = t.chains.get(rule.target.chain);
      if (target && !target.builtin) return rule;
      const tspan = rule.targetSpan ?? rule.span;
      let message: string;
      if (target?.builtin) {
        message = `Cannot jump to built-in chain '${rule.target.chain}'.`;
        jumps.push(problem(SYNTAX, 'error', message, tspan));
      } else if (KNOWN_UNSUPPORTED_TARGETS.has(rule.target.chain)) {
        message = `Target ${rule.target.chain} is not supported.`;
        jumps.push(problem(UNSUPPORTED, 'warning', message, tspan));
      } else {
        message = `Chain or target '${rule.target.chain}' does not exist in table '${name}'.`;
        jumps.push(problem(SYNTAX, 'error', message, tspan));
      }
      return { ...rule, unsupported: [...rule.unsupported, message] };
    };
    singles.set(name, (c, raw, lineStart) => {
      const one: Rule[] = [];
      parseLine(c, one, raw, lineStart, []);
      return one.length === 1 ? checkJump(one[0], []) : undefined;
    });
    const rulesOf = (c: MutableChain): readonly Rule[] => {
      let rules = parsedChains.get(c.name);
      if (rules) return rules;
      const problems: Problem[] = [];
      const list: Rule[] = [];
      // The chain's runs read in place (a trace parses each chain of a Service it enters: no list of its lines and
      // their offsets is made first).
      const segments = lt.ruleLines.get(c.name);
      if (segments !== undefined) {
        const runs: readonly Segment[] = isSegmentList(segments) ? segments : [segments];
        for (let k = 0; k < runs.length; k++) {
          const lines = runs[k].lines;
          let at = runs[k].start;
          for (let i = 0; i < lines.length; i++) {
            parseLine(c, list, lines[i], at, problems);
            at += lines[i].length + 1;
          }
        }
      }
      const jumps: Problem[] = [];
      rules = list.map((rule) => checkJump(rule, jumps));
      parsedChains.set(c.name, rules);
      // Kept only when there are some: a reader finds none where none is kept.
      if (problems.length) lineProblems.set(`${name}\u0000${c.name}`, problems);
      if (jumps.length) jumpProblems.set(`${name}\u0000${c.name}`, jumps);
      return rules;
    };
    /**
     * A long chain indexed from its lines without parsing them, and its rules parsed one by one as a packet reaches
     * them (what `rulesOf` gives at that position). Undefined unless every line is one {@link indexLine} reads.
     */
    const indexedOf = (c: MutableChain): IndexedRules | undefined => {
      if (parsedChains.has(c.name)) return undefined;
      const lines = new ChainLines(lt.ruleLines.get(c.name));
      if (lines.count < INDEX_MIN_RULES) return undefined;
      const byDst = new Map<string, number[]>();
      const byPort = new Map<number, number[]>();
      const rest: number[] = [];
      for (let i = 0; i < lines.count; i++) {
        const key = lines.keyAt(i, c.name, name, t.chains);
        if (key === undefined) return undefined;
        if (typeof key === 'string') {
          const l = byDst.get(key);
          if (l) l.push(i);
          else byDst.set(key, [i]);
        } else if (key !== REST) {
          const l = byPort.get(key);
          if (l) l.push(i);
          else byPort.set(key, [i]);
        } else rest.push(i);
      }
      const parsed: Rule[] = [];
      return {
        index: { byDst, byPort, rest },
        ruleAt(i: number): Rule {
          let rule = parsed[i];
          if (rule) return rule;
          const one: Rule[] = [];
          // Problems of a single line are the full parse's to report (`problems` parses every chain).
          parseLine(c, one, lines.textAt(i), lines.startAt(i), []);
          // The line is one indexLine read, so it is one rule; were it not, the chain's full parse answers.
          rule = one.length === 1 ? checkJump(one[0], []) : rulesOf(c)[i];
          parsed[i] = rule;
          return rule;
        },
      };
    };
    const settle = (chain: Chain, c: MutableChain): readonly Rule[] => {
      const rules = rulesOf(c);
      Object.defineProperty(chain, 'rules', { value: rules, enumerable: true, writable: false });
      return rules;
    };
    // Built-in chains first, in the kernel's order, then the user chains in declaration order.
    const builtins: MutableChain[] = [];
    for (const b of BUILTIN_CHAINS[name]) {
      const c = t.chains.get(b);
      if (c?.builtin) builtins.push(c);
    }
    // A chain's object is made when it is first looked up (a trace looks up the few it jumps to, of kube-proxy's
    // 100,000s), or for all of them when the list is read; either way once, so every reader holds the same object.
    const made = new Map<string, Chain>();
    const make = (c: MutableChain): Chain => {
      const done = made.get(c.name);
      if (done) return done;
      lazyParseWork.chainObjects++;
      // Read once, the getter gives way to the parsed rules (the evaluator reads `rules` at every step). The getter is
      // written in the literal, not added by defineProperty: chains of one shape instead of as many dictionaries (an
      // own, enumerable, configurable accessor either way).
      const chain: Chain = c.builtin
        ? {
            name: c.name,
            builtin: true,
            policy: c.policy ?? 'ACCEPT',
            span: c.span,
            get rules(): readonly Rule[] {
              return settle(chain, c);
            },
          }
        : {
            name: c.name,
            builtin: false,
            span: c.span,
            get rules(): readonly Rule[] {
              return settle(chain, c);
            },
          };
      made.set(c.name, chain);
      if (worthIndexing(lt.ruleLines.get(c.name))) offerIndexedRules(chain, () => indexedOf(c));
      return chain;
    };
    const builtinChains = builtins.map(make);
    let all: Chain[] | undefined;
    const allChains = (): readonly Chain[] => {
      if (!all) {
        all = [...builtinChains];
        for (const c of t.chains.values()) if (!c.builtin) all.push(make(c));
      }
      return all;
    };
    const table: Table = {
      name,
      span: t.span,
      get chains(): readonly Chain[] {
        return allChains();
      },
    };
    // The chains by name as the evaluator looks them up, from the scan's own map (no second map of every chain).
    knowChainsOf(table, new ChainsByName(t.chains, made, make, allChains));
    out[name] = table;
    parsers.set(name, rulesOf);
  }
  const ruleset: Ruleset = { tables: out };
  // Rules found by their text without parsing every chain (a DNAT that remembers a recent list asks which rule
  // checks that list, and with what timeout: the answer must not parse the 100,000s of rules of a large cluster).
  offerRulesMentioning(ruleset, (needle) => {
    const found: RuleRef[] = [];
    // A word's value is its raw characters less some quotes and backslashes: without all of them on both sides,
    // a line that holds the word holds the needle.
    const bare = needle.replace(SPECIALS, '');
    for (const name of TABLE_NAMES) {
      const table = out[name];
      const lt = tables.get(name);
      const single = singles.get(name);
      if (!table || !lt || !single) continue;
      for (const chain of table.chains) {
        const c = lt.table.chains.get(chain.name);
        const segments = lt.ruleLines.get(chain.name);
        if (!c || segments === undefined) continue;
        for (const seg of isSegmentList(segments) ? segments : [segments]) {
          let at = seg.start;
          for (const raw of seg.lines) {
            if (raw.includes(needle) || (SPECIAL.test(raw) && raw.replace(SPECIALS, '').includes(bare))) {
              const rule = single(c, raw, at);
              if (rule) found.push({ table: name, chain: chain.name, rule });
            }
            at += raw.length + 1;
          }
        }
      }
    }
    return found;
  });
  let problems: Problem[] | undefined;
  return {
    ruleset,
    get problems(): readonly Problem[] {
      if (problems) return problems;
      const found: Problem[] = [];
      for (const [name, lt] of tables) {
        // parsers holds one entry per table of `tables`, set in the loop above.
        const rulesOf = parsers.get(name);
        if (!rulesOf) continue;
        const chains = [...lt.table.chains.values()];
        const forced: MutableTable = {
          name,
          span: lt.table.span,
          chains: new Map(chains.map((c) => [c.name, { ...c, rules: rulesOf(c) as Rule[] }])),
          pending: [],
        };
        const key = (c: MutableChain): string => `${name}\u0000${c.name}`;
        // As the eager parse reports them: each line's problems in line order, then at COMMIT the jumps (chain
        // by chain) and the loops.
        found.push(
          ...chains.flatMap((c) => lineProblems.get(key(c)) ?? []).sort((a, b) => a.span.start - b.span.start),
        );
        for (const c of chains) found.push(...(jumpProblems.get(key(c)) ?? []));
        findLoops(forced, found);
      }
      return (problems = found);
    },
  };
}
