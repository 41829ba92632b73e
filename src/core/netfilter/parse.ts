/**
 * Parser for iptables-save text (`*table`, `:CHAIN POLICY [p:b]`, `-A`/`-I`/`-N`/`-X`, `COMMIT`, `#` comments).
 *
 * Parsing never fails: the result is a ruleset plus problems. `iptables.syntax` (error) is for input
 * iptables-restore would refuse; `iptables.unsupported` (warning) is for valid input this model cannot
 * evaluate (an unknown table, match, option or target). A rule with anything unsupported is kept and
 * marked (`Rule.unsupported`) so the evaluator reports it when a packet reaches it.
 */
import { hostPrefix, parseAddress, parsePrefix, type Prefix } from '../net/address';
import { problem, type Problem, type Span } from '../problem';
import { tokenize, type Token } from './tokenize';
import {
  BUILTIN_CHAINS,
  TABLE_NAMES,
  type AddrType,
  type Chain,
  type CtStateName,
  type Match,
  type NatTo,
  type Policy,
  type PortRange,
  type Rule,
  type Ruleset,
  type Table,
  type TableName,
  type Target,
  type ParseResult,
} from './types';

export const SYNTAX = 'iptables.syntax';
export const UNSUPPORTED = 'iptables.unsupported';

/** Option arities per match module: how many values each option takes. */
const MODULE_OPTIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  tcp: {
    '--dport': 1,
    '--destination-port': 1,
    '--sport': 1,
    '--source-port': 1,
    '--syn': 0,
    '--tcp-flags': 2,
    '--tcp-option': 1,
  },
  udp: { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1 },
  sctp: { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1, '--chunk-types': 2 },
  icmp: { '--icmp-type': 1 },
  icmp6: { '--icmpv6-type': 1 },
  comment: { '--comment': 1 },
  statistic: { '--mode': 1, '--probability': 1, '--every': 1, '--packet': 1 },
  mark: { '--mark': 1 },
  connmark: { '--mark': 1 },
  addrtype: { '--src-type': 1, '--dst-type': 1, '--limit-iface-in': 0, '--limit-iface-out': 0 },
  conntrack: {
    '--ctstate': 1,
    '--ctproto': 1,
    '--ctorigsrc': 1,
    '--ctorigdst': 1,
    '--ctreplsrc': 1,
    '--ctrepldst': 1,
    '--ctorigsrcport': 1,
    '--ctorigdstport': 1,
    '--ctreplsrcport': 1,
    '--ctrepldstport': 1,
    '--ctstatus': 1,
    '--ctexpire': 1,
    '--ctdir': 1,
  },
  state: { '--state': 1 },
  multiport: { '--dports': 1, '--destination-ports': 1, '--sports': 1, '--source-ports': 1, '--ports': 1 },
  recent: {
    '--name': 1,
    '--set': 0,
    '--rcheck': 0,
    '--update': 0,
    '--remove': 0,
    '--seconds': 1,
    '--reap': 0,
    '--hitcount': 1,
    '--rttl': 0,
    '--rsource': 0,
    '--rdest': 0,
    '--mask': 1,
  },
  physdev: {
    '--physdev-is-bridged': 0,
    '--physdev-in': 1,
    '--physdev-out': 1,
    '--physdev-is-in': 0,
    '--physdev-is-out': 0,
  },
  nfacct: { '--nfacct-name': 1 },
  limit: { '--limit': 1, '--limit-burst': 1 },
};

/** Options this model understands; the rest of MODULE_OPTIONS parse but make the rule unsupported. */
const EVALUATED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  tcp: ['--dport', '--destination-port', '--sport', '--source-port'],
  udp: ['--dport', '--destination-port', '--sport', '--source-port'],
  sctp: ['--dport', '--destination-port', '--sport', '--source-port'],
  comment: ['--comment'],
  statistic: ['--mode', '--probability', '--every', '--packet'],
  mark: ['--mark'],
  connmark: ['--mark'],
  addrtype: ['--src-type', '--dst-type', '--limit-iface-in', '--limit-iface-out'],
  conntrack: ['--ctstate'],
  state: ['--state'],
  multiport: ['--dports', '--destination-ports', '--sports', '--source-ports', '--ports'],
  recent: ['--name', '--set', '--rcheck', '--update', '--remove', '--seconds', '--reap', '--rsource', '--rdest'],
  physdev: ['--physdev-is-bridged'],
  nfacct: ['--nfacct-name'],
};

const TARGET_OPTIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  ACCEPT: {},
  DROP: {},
  RETURN: {},
  NOTRACK: {},
  REJECT: { '--reject-with': 1 },
  MARK: { '--set-xmark': 1, '--set-mark': 1, '--and-mark': 1, '--or-mark': 1, '--xor-mark': 1 },
  CONNMARK: {
    '--set-xmark': 1,
    '--set-mark': 1,
    '--and-mark': 1,
    '--or-mark': 1,
    '--xor-mark': 1,
    '--save-mark': 0,
    '--restore-mark': 0,
    '--nfmask': 1,
    '--ctmask': 1,
    '--mask': 1,
  },
  DNAT: { '--to-destination': 1, '--random': 0, '--persistent': 0 },
  SNAT: { '--to-source': 1, '--random': 0, '--random-fully': 0, '--persistent': 0 },
  MASQUERADE: { '--to-ports': 1, '--random': 0, '--random-fully': 0 },
  LOG: {
    '--log-prefix': 1,
    '--log-level': 1,
    '--log-tcp-sequence': 0,
    '--log-tcp-options': 0,
    '--log-ip-options': 0,
    '--log-uid': 0,
    '--log-macdecode': 0,
  },
  CT: {
    '--notrack': 0,
    '--helper': 1,
    '--zone': 1,
    '--zone-orig': 1,
    '--zone-reply': 1,
    '--ctevents': 1,
    '--expevents': 1,
    '--timeout': 1,
  },
};

/** Real iptables targets this model does not evaluate: reported as unsupported, not as unknown chains. */
const KNOWN_UNSUPPORTED_TARGETS = new Set([
  'REDIRECT',
  'TPROXY',
  'QUEUE',
  'NFQUEUE',
  'TRACE',
  'TCPMSS',
  'DSCP',
  'TOS',
  'TTL',
  'HL',
  'HMARK',
  'CLASSIFY',
  'SET',
  'NFLOG',
  'ULOG',
  'AUDIT',
  'CHECKSUM',
  'CONNSECMARK',
  'SECMARK',
  'NETMAP',
  'TEE',
  'IDLETIMER',
  'LED',
  'RATEEST',
  'SYNPROXY',
  'CLUSTERIP',
]);

const NAT_ONLY_TARGETS = new Set(['DNAT', 'SNAT', 'MASQUERADE']);

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = {
  '0': 'all',
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'icmpv6',
  '132': 'sctp',
};
const PROTOCOLS = new Set(['all', 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'ipv6-icmp']);

const ADDR_TYPES = new Set<AddrType>(['LOCAL', 'UNICAST', 'MULTICAST', 'BROADCAST']);
const KNOWN_ADDR_TYPES = new Set([
  'UNSPEC',
  'ANYCAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
]);
const CT_STATES = new Set<CtStateName>(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'DNAT', 'SNAT']);
const STATE_STATES = new Set<CtStateName>(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED']);

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

/** An option of a rule with its values, as written. */
interface Opt {
  readonly name: string;
  readonly values: readonly Token[];
  readonly negated: boolean;
  /** From the `!` (if any) to the last value. */
  readonly span: Span;
}

interface ModuleUse {
  readonly name: string;
  readonly span: Span;
  readonly implicit: boolean;
  readonly opts: Opt[];
}

type Item = { readonly kind: 'match'; readonly match: Match } | { readonly kind: 'module'; readonly module: ModuleUse };

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
}

export const newParseMemo = (): ParseMemo => ({ rules: new Map() });

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

  const finish = (t: MutableTable): void => resolveTargets(t, problems);

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
          const list = current.chains.get(rule.chain)!.rules;
          list[list.lastIndexOf(rule)] = placed;
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
      if ((TABLE_NAMES as readonly string[]).includes(name)) {
        const tableName = name as TableName;
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
    const c = t.chains.get(name)!;
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
  const out: { -readonly [K in keyof Rule]: Rule[K] } = {
    ...r,
    span: { file, start: r.span.start + at, end: r.span.end + at },
  };
  if (r.targetSpan) out.targetSpan = { file, start: r.targetSpan.start + at, end: r.targetSpan.end + at };
  return out;
}

/** A copy of a parsed rule at another place: every span moved by `delta` and into `file`. */
function moveRule(r: Rule, file: string, delta: number): Rule {
  const matches: Match[] = new Array<Match>(r.matches.length);
  for (let i = 0; i < r.matches.length; i++) {
    const m = r.matches[i];
    matches[i] = { ...m, span: { file, start: m.span.start + delta, end: m.span.end + delta } };
  }
  const out: { -readonly [K in keyof Rule]: Rule[K] } = {
    ...r,
    span: { file, start: r.span.start + delta, end: r.span.end + delta },
    matches,
  };
  if (r.targetSpan) out.targetSpan = { file, start: r.targetSpan.start + delta, end: r.targetSpan.end + delta };
  return out;
}

/** Parses one command line into its table; returns the rule when it was a clean `-A` (for the memo). */
function parseCommand(
  t: MutableTable,
  raw: string,
  lineStart: number,
  span: SpanFn,
  problems: Problem[],
): Rule | undefined {
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
  if (['-A', '--append', '-I', '--insert', '-N', '--new-chain', '-X', '--delete-chain'].includes(c) && !chainTok) {
    problems.push(problem(SYNTAX, 'error', `'${c}' needs a chain name.`, tspan(cmd)));
    return;
  }
  if (c === '-N' || c === '--new-chain') {
    const name = chainTok!.value;
    if (t.chains.has(name)) problems.push(problem(SYNTAX, 'error', `Chain '${name}' already exists.`, ruleSpan));
    else t.chains.set(name, { name, builtin: false, span: ruleSpan, declared: true, rules: [] });
    return;
  }
  if (c === '-X' || c === '--delete-chain') {
    const name = chainTok!.value;
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
  const chainName = chainTok!.value;
  let chain = t.chains.get(chainName);
  if (!chain) {
    problems.push(
      problem(
        SYNTAX,
        'error',
        `Chain '${chainName}' does not exist in table '${t.name}' (declare it with ':${chainName} - [0:0]').`,
        tspan(chainTok!),
      ),
    );
    chain = { name: chainName, builtin: false, span: tspan(chainTok!), declared: false, rules: [] };
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
  if (rule.target.kind === 'jump' || rule.target.kind === 'goto') t.pending.push(rule);
  if (c === '-A' || c === '--append') {
    chain.rules.push(rule);
    return rule;
  }
  chain.rules.splice(Math.max(0, Math.min((position ?? 1) - 1, chain.rules.length)), 0, rule);
  return undefined;
}

function parseRuleBody(
  table: TableName,
  chain: string,
  text: string,
  ruleSpan: Span,
  tokens: readonly Token[],
  tspan: (a: Token, b?: Token) => Span,
  problems: Problem[],
): Rule {
  const unsupported: string[] = [];
  const items: Item[] = [];
  const modules: ModuleUse[] = [];
  let target: Target = { kind: 'none' };
  let targetName: string | undefined;
  let targetSpan: Span | undefined;
  const targetOpts: Opt[] = [];

  const syntax = (message: string, sp: Span): void => {
    problems.push(problem(SYNTAX, 'error', message, sp));
    unsupported.push(message);
  };
  const unsup = (message: string, sp: Span): void => {
    problems.push(problem(UNSUPPORTED, 'warning', message, sp));
    unsupported.push(message);
  };

  let i = 0;
  let negStart: Token | undefined;
  const take = (n: number, opt: Token): Token[] | undefined => {
    const vals = tokens.slice(i + 1, i + 1 + n);
    if (vals.length < n || vals.some(isOptionLike)) {
      syntax(`Option '${opt.value}' needs ${n === 1 ? 'a value' : `${n} values`}.`, tspan(opt));
      return undefined;
    }
    return vals;
  };

  while (i < tokens.length) {
    const tok = tokens[i];
    const v = tok.value;
    if (v === '!') {
      if (negStart) syntax("Double '!'.", tspan(tok));
      negStart = tok;
      i++;
      continue;
    }
    const neg = negStart !== undefined;
    const from = negStart ?? tok;
    negStart = undefined;
    // General options.
    const general = GENERAL[v];
    if (general) {
      const vals = take(1, tok);
      if (!vals) {
        i++;
        continue;
      }
      const sp = tspan(from, vals[0]);
      const m = parseGeneral(general, vals[0].value, neg, sp, syntax, unsup);
      if (m) {
        items.push({ kind: 'match', match: m });
        if (
          m.kind === 'protocol' &&
          !neg &&
          MODULE_OPTIONS[m.protocol] &&
          !modules.some((x) => x.name === m.protocol)
        ) {
          // `-p tcp` loads the tcp match implicitly, so `--dport` works without `-m tcp`.
          const mod: ModuleUse = { name: m.protocol, span: sp, implicit: true, opts: [] };
          modules.push(mod);
          items.push({ kind: 'module', module: mod });
        }
      }
      i += 2;
      continue;
    }
    if (v === '-m' || v === '--match') {
      if (neg) syntax("'!' cannot negate '-m'.", tspan(from));
      const vals = take(1, tok);
      if (!vals) {
        i++;
        continue;
      }
      const name = vals[0].value;
      const existing = modules.find((x) => x.name === name && x.implicit);
      if (existing) {
        // `-m tcp -p tcp` / `-p tcp -m tcp`: one module.
        modules.splice(modules.indexOf(existing), 1);
      }
      const mod: ModuleUse = { name, span: tspan(tok, vals[0]), implicit: false, opts: existing ? existing.opts : [] };
      if (!MODULE_OPTIONS[name]) unsup(`Match module '${name}' is not supported.`, mod.span);
      modules.push(mod);
      if (existing) {
        const idx = items.findIndex((it) => it.kind === 'module' && it.module === existing);
        items[idx] = { kind: 'module', module: mod };
      } else {
        items.push({ kind: 'module', module: mod });
      }
      i += 2;
      continue;
    }
    if (v === '-j' || v === '--jump' || v === '-g' || v === '--goto') {
      if (neg) syntax(`'!' cannot negate '${v}'.`, tspan(from));
      const vals = take(1, tok);
      if (!vals) {
        i++;
        continue;
      }
      if (targetName !== undefined) syntax('A rule can have only one target.', tspan(tok, vals[0]));
      targetName = vals[0].value;
      targetSpan = tspan(tok, vals[0]);
      if (v === '-g' || v === '--goto') {
        target = { kind: 'goto', chain: targetName };
      } else if (!TARGET_OPTIONS[targetName]) {
        target = { kind: 'jump', chain: targetName };
      }
      i += 2;
      continue;
    }
    if (v.startsWith('--')) {
      // After -j an option of the target wins; otherwise the latest loaded module that knows it owns it.
      const tOpts = targetName !== undefined ? TARGET_OPTIONS[targetName] : undefined;
      const mod =
        tOpts?.[v] !== undefined
          ? undefined
          : [...modules].reverse().find((m) => MODULE_OPTIONS[m.name]?.[v] !== undefined);
      const arity = mod ? MODULE_OPTIONS[mod.name][v] : tOpts?.[v];
      if (arity === undefined) {
        // Unknown option: take the words up to the next option.
        let n = 0;
        while (tokens[i + 1 + n] && !isOptionLike(tokens[i + 1 + n])) n++;
        const last = tokens[i + n] ?? tok;
        const unknownModule = modules.some((m) => !MODULE_OPTIONS[m.name]);
        const unknownTarget = targetName !== undefined && !tOpts;
        // Options of unknown modules and targets are covered by the problem about the module or target.
        if (!unknownModule && !unknownTarget) {
          unsup(`Option '${v}' is not supported${targetName ? ` by target ${targetName}` : ''}.`, tspan(from, last));
        } else if (!unknownModule) {
          unsupported.push(`Option '${v}' of target ${targetName}.`);
        }
        i += 1 + n;
        continue;
      }
      const vals = arity === 0 ? [] : take(arity, tok);
      if (!vals) {
        i++;
        continue;
      }
      const opt: Opt = { name: v, values: vals, negated: neg, span: tspan(from, vals[vals.length - 1] ?? tok) };
      if (mod) mod.opts.push(opt);
      else targetOpts.push(opt);
      i += 1 + arity;
      continue;
    }
    syntax(`Unexpected '${v}'.`, tspan(tok));
    i++;
  }
  if (negStart) syntax("'!' at the end of the rule.", tspan(negStart));

  // Finish modules into matches, in order of appearance.
  const matches: Match[] = [];
  for (const it of items) {
    if (it.kind === 'match') matches.push(it.match);
    else matches.push(...finishModule(it.module, syntax, unsup));
  }

  if (targetName !== undefined && TARGET_OPTIONS[targetName] && target.kind === 'none') {
    const t = finishTarget(table, targetName, targetOpts, targetSpan!, syntax, unsup);
    if (t) target = t;
  }
  return { table, chain, text, span: ruleSpan, matches, target, targetSpan, unsupported };
}

/** Whether a word is an option or `!` rather than a value (quoted words are always values). */
function isOptionLike(t: Token): boolean {
  return !t.quoted && (t.value === '!' || (t.value.startsWith('-') && t.value.length > 1 && !/^-\d/.test(t.value)));
}

const GENERAL: Readonly<Record<string, 'source' | 'destination' | 'protocol' | 'inInterface' | 'outInterface'>> = {
  '-s': 'source',
  '--source': 'source',
  '--src': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '--dst': 'destination',
  '-p': 'protocol',
  '--protocol': 'protocol',
  '-i': 'inInterface',
  '--in-interface': 'inInterface',
  '-o': 'outInterface',
  '--out-interface': 'outInterface',
};

type Report = (message: string, span: Span) => void;

function parseGeneral(
  kind: 'source' | 'destination' | 'protocol' | 'inInterface' | 'outInterface',
  value: string,
  negated: boolean,
  span: Span,
  syntax: Report,
  unsup: Report,
): Match | undefined {
  if (kind === 'source' || kind === 'destination') {
    if (value.includes(',')) {
      unsup(`Address lists ('${value}') are not supported; iptables-save writes one rule per address.`, span);
      return undefined;
    }
    const prefix = parseAddressOrPrefix(value);
    if (!prefix) {
      syntax(`'${value}' is not an address or prefix.`, span);
      return undefined;
    }
    return { kind, prefix, negated, span };
  }
  if (kind === 'protocol') {
    const p = PROTOCOL_NUMBERS[value] ?? value.toLowerCase();
    if (!PROTOCOLS.has(p) && !/^\d+$/.test(p)) {
      syntax(`Unknown protocol '${value}'.`, span);
      return undefined;
    }
    return { kind, protocol: p === 'ipv6-icmp' ? 'icmpv6' : p, negated, span };
  }
  if (value === '' || value.length > 15) {
    syntax(`'${value}' is not an interface name.`, span);
    return undefined;
  }
  return { kind, name: value, negated, span };
}

export function parseAddressOrPrefix(value: string): Prefix | undefined {
  if (value.includes('/')) return parsePrefix(value);
  const a = parseAddress(value);
  return a ? hostPrefix(a) : undefined;
}

/** Parses a 32-bit number written in decimal or 0x hex. */
export function parseU32(value: string): number | undefined {
  if (!/^(?:0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 0xffffffff ? n : undefined;
}

function parseMarkValue(value: string): { value: number; mask: number } | undefined {
  const [v, m, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const vn = parseU32(v);
  const mn = m === undefined ? 0xffffffff : parseU32(m);
  if (vn === undefined || mn === undefined) return undefined;
  return { value: vn, mask: mn };
}

function parsePort(value: string): number | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 65535 ? n : undefined;
}

/** `80`, `1000:2000`, `1000:` (to 65535) or `:2000` (from 0). */
export function parsePortRange(value: string): PortRange | undefined {
  const parts = value.split(':');
  if (parts.length === 1) {
    const p = parsePort(value);
    return p === undefined ? undefined : { from: p, to: p };
  }
  if (parts.length !== 2) return undefined;
  const from = parts[0] === '' ? 0 : parsePort(parts[0]);
  const to = parts[1] === '' ? 65535 : parsePort(parts[1]);
  if (from === undefined || to === undefined || from > to) return undefined;
  return { from, to };
}

function finishModule(mod: ModuleUse, syntax: Report, unsup: Report): Match[] {
  const known = MODULE_OPTIONS[mod.name];
  if (!known) return [];
  const out: Match[] = [];
  const evaluated = EVALUATED_OPTIONS[mod.name] ?? [];
  for (const o of mod.opts) {
    if (!evaluated.includes(o.name)) unsup(`Option '${o.name}' of match '${mod.name}' is not supported.`, o.span);
  }
  const get = (...names: string[]): Opt | undefined => mod.opts.find((o) => names.includes(o.name));
  const val = (o: Opt): string => o.values[0]?.value ?? '';
  switch (mod.name) {
    case 'tcp':
    case 'udp':
    case 'sctp': {
      for (const o of mod.opts) {
        const which =
          o.name === '--dport' || o.name === '--destination-port'
            ? 'dport'
            : o.name === '--sport' || o.name === '--source-port'
              ? 'sport'
              : undefined;
        if (!which) continue;
        const range = parsePortRange(val(o));
        if (!range) syntax(`'${val(o)}' is not a port or port range.`, o.span);
        else out.push({ kind: which, range, negated: o.negated, span: o.span });
      }
      return out;
    }
    case 'comment': {
      const o = get('--comment');
      if (!o) syntax("Match 'comment' needs --comment.", mod.span);
      else out.push({ kind: 'comment', text: val(o), negated: false, span: o.span });
      return out;
    }
    case 'statistic': {
      const mode = get('--mode');
      if (!mode) {
        syntax("Match 'statistic' needs --mode random|nth.", mod.span);
        return out;
      }
      if (val(mode) === 'random') {
        const p = get('--probability');
        const prob = p ? Number(val(p)) : NaN;
        if (!p || !/^\d*\.?\d+(?:e-?\d+)?$/i.test(val(p)) || !(prob >= 0 && prob <= 1)) {
          syntax('--mode random needs --probability between 0 and 1.', p?.span ?? mode.span);
          return out;
        }
        out.push({
          kind: 'statistic',
          mode: 'random',
          probability: prob,
          negated: p.negated,
          span: spanOf(mod.span, p.span),
        });
      } else if (val(mode) === 'nth') {
        const every = get('--every');
        const packet = get('--packet');
        const e = every ? parseU32(val(every)) : undefined;
        const pk = packet ? parseU32(val(packet)) : 0;
        if (!e || e < 1 || pk === undefined || pk >= e) {
          syntax('--mode nth needs --every N (N >= 1) and optionally --packet P (P < N).', every?.span ?? mode.span);
          return out;
        }
        out.push({
          kind: 'statistic',
          mode: 'nth',
          every: e,
          packet: pk,
          negated: every!.negated,
          span: spanOf(mod.span, every!.span),
        });
      } else {
        syntax(`Unknown statistic mode '${val(mode)}'.`, mode.span);
      }
      return out;
    }
    case 'mark':
    case 'connmark': {
      const o = get('--mark');
      if (!o) {
        syntax(`Match '${mod.name}' needs --mark.`, mod.span);
        return out;
      }
      const mv = parseMarkValue(val(o));
      if (!mv) syntax(`'${val(o)}' is not a mark value[/mask].`, o.span);
      else out.push({ kind: mod.name, value: mv.value, mask: mv.mask, negated: o.negated, span: o.span });
      return out;
    }
    case 'addrtype': {
      const limitIn = get('--limit-iface-in');
      const limitOut = get('--limit-iface-out');
      if (limitIn && limitOut) syntax('--limit-iface-in and --limit-iface-out cannot be combined.', limitOut.span);
      const limitIface = limitIn ? 'in' : limitOut ? 'out' : undefined;
      for (const o of mod.opts) {
        if (o.name !== '--src-type' && o.name !== '--dst-type') continue;
        const types: AddrType[] = [];
        for (const ty of val(o).split(',')) {
          if (ADDR_TYPES.has(ty as AddrType)) types.push(ty as AddrType);
          else if (KNOWN_ADDR_TYPES.has(ty)) unsup(`Address type '${ty}' is not supported.`, o.span);
          else syntax(`Unknown address type '${ty}'.`, o.span);
        }
        const which = o.name === '--src-type' ? 'src' : 'dst';
        if (types.length)
          out.push({
            kind: 'addrtype',
            which,
            types,
            negated: o.negated,
            span: o.span,
            ...(limitIface ? { limitIface } : {}),
          });
      }
      if (!get('--src-type', '--dst-type')) syntax("Match 'addrtype' needs --src-type or --dst-type.", mod.span);
      return out;
    }
    case 'conntrack':
    case 'state': {
      const o = get(mod.name === 'state' ? '--state' : '--ctstate');
      if (!o) {
        if (mod.name === 'state') syntax("Match 'state' needs --state.", mod.span);
        return out;
      }
      const allowed = mod.name === 'state' ? STATE_STATES : CT_STATES;
      const states: CtStateName[] = [];
      for (const s of val(o).split(',')) {
        if (allowed.has(s as CtStateName)) states.push(s as CtStateName);
        else syntax(`Unknown connection state '${s}'.`, o.span);
      }
      if (states.length) out.push({ kind: 'ctstate', states, negated: o.negated, span: o.span });
      return out;
    }
    case 'multiport': {
      for (const o of mod.opts) {
        const which =
          o.name === '--dports' || o.name === '--destination-ports'
            ? 'dports'
            : o.name === '--sports' || o.name === '--source-ports'
              ? 'sports'
              : 'ports';
        const ranges: PortRange[] = [];
        const parts = val(o).split(',');
        for (const p of parts) {
          const r = parsePortRange(p);
          if (r) ranges.push(r);
          else syntax(`'${p}' is not a port or port range.`, o.span);
        }
        if (parts.length > 15) syntax('multiport takes at most 15 ports.', o.span);
        if (ranges.length) out.push({ kind: 'multiport', which, ranges, negated: o.negated, span: o.span });
      }
      return out;
    }
    case 'recent': {
      const commands = mod.opts.filter((o) => ['--set', '--rcheck', '--update', '--remove'].includes(o.name));
      if (commands.length !== 1) {
        syntax("Match 'recent' needs exactly one of --set, --rcheck, --update, --remove.", mod.span);
        return out;
      }
      const cmd = commands[0];
      const name = get('--name');
      const seconds = get('--seconds');
      const secs = seconds ? parseU32(val(seconds)) : undefined;
      if (seconds && secs === undefined) syntax(`'${val(seconds)}' is not a number of seconds.`, seconds.span);
      out.push({
        kind: 'recent',
        name: name ? val(name) : 'DEFAULT',
        command: cmd.name.slice(2) as 'set' | 'rcheck' | 'update' | 'remove',
        reap: get('--reap') !== undefined,
        side: get('--rdest') ? 'rdest' : 'rsource',
        negated: cmd.negated,
        span: spanOf(mod.span, mod.opts[mod.opts.length - 1].span),
        ...(secs !== undefined ? { seconds: secs } : {}),
      });
      return out;
    }
    case 'physdev': {
      const o = get('--physdev-is-bridged');
      if (o) out.push({ kind: 'physdevIsBridged', negated: o.negated, span: o.span });
      return out;
    }
    case 'nfacct': {
      const o = get('--nfacct-name');
      if (!o) syntax("Match 'nfacct' needs --nfacct-name.", mod.span);
      else out.push({ kind: 'nfacct', name: val(o), negated: false, span: o.span });
      return out;
    }
    default:
      // Known syntax, not evaluated (icmp types, limit): already reported per option.
      if (mod.opts.length === 0) unsup(`Match '${mod.name}' is not supported.`, mod.span);
      return out;
  }
}

function spanOf(a: Span, b: Span): Span {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

function parseNatTo(value: string): NatTo | undefined {
  // `[v6]:port`, `v6`, `v4`, `v4:port`, ranges `a-b` and `p1-p2` (the first is used).
  let addrPart = value;
  let portPart: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return undefined;
    addrPart = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portPart = rest.slice(1);
    }
  } else if (!value.includes(':') || value.indexOf(':') === value.lastIndexOf(':')) {
    const colon = value.indexOf(':');
    if (colon >= 0) {
      addrPart = value.slice(0, colon);
      portPart = value.slice(colon + 1);
    }
  }
  let address: string | undefined;
  if (addrPart !== '') {
    const first = addrPart.split('-')[0];
    if (!parseAddress(first) || addrPart.split('-').some((a) => !parseAddress(a))) return undefined;
    address = first;
  }
  let port: number | undefined;
  if (portPart !== undefined) {
    const ports = portPart.split('-');
    if (ports.length > 2 || ports.some((p) => parsePort(p) === undefined)) return undefined;
    port = parsePort(ports[0]);
  }
  if (address === undefined && port === undefined) return undefined;
  return { text: value, ...(address !== undefined ? { address } : {}), ...(port !== undefined ? { port } : {}) };
}

function finishTarget(
  table: TableName,
  name: string,
  opts: readonly Opt[],
  span: Span,
  syntax: Report,
  unsup: Report,
): Target | undefined {
  if (NAT_ONLY_TARGETS.has(name) && table !== 'nat') {
    syntax(`Target ${name} is only valid in the nat table.`, span);
    return undefined;
  }
  if (name === 'REJECT' && table !== 'filter') {
    syntax('Target REJECT is only valid in the filter table.', span);
    return undefined;
  }
  if ((name === 'NOTRACK' || name === 'CT') && table !== 'raw') {
    syntax(`Target ${name} is only valid in the raw table.`, span);
    return undefined;
  }
  const get = (o: string): Opt | undefined => opts.find((x) => x.name === o);
  const val = (o: Opt): string => o.values[0]?.value ?? '';
  for (const o of opts) if (o.negated) syntax(`'!' cannot negate target option '${o.name}'.`, o.span);
  switch (name) {
    case 'ACCEPT':
      return { kind: 'accept' };
    case 'DROP':
      return { kind: 'drop' };
    case 'RETURN':
      return { kind: 'return' };
    case 'NOTRACK':
      return { kind: 'notrack' };
    case 'CT':
      return { kind: 'notrack' };
    case 'REJECT': {
      const w = get('--reject-with');
      return w ? { kind: 'reject', rejectWith: val(w) } : { kind: 'reject' };
    }
    case 'LOG': {
      const p = get('--log-prefix');
      return p ? { kind: 'log', prefix: val(p) } : { kind: 'log' };
    }
    case 'MARK':
    case 'CONNMARK': {
      if (name === 'CONNMARK') {
        const save = get('--save-mark');
        const restore = get('--restore-mark');
        for (const extra of ['--nfmask', '--ctmask', '--mask']) {
          const o = get(extra);
          if (o) unsup(`CONNMARK option '${extra}' is not supported.`, o.span);
        }
        if (save) return { kind: 'connmark', op: 'save', text: save.name };
        if (restore) return { kind: 'connmark', op: 'restore', text: restore.name };
      }
      const ops = opts.filter((o) =>
        ['--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark'].includes(o.name),
      );
      if (ops.length !== 1) {
        syntax(
          `Target ${name} needs exactly one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark${name === 'CONNMARK' ? ', --save-mark, --restore-mark' : ''}.`,
          span,
        );
        return undefined;
      }
      const o = ops[0];
      const mv = parseMarkValue(val(o));
      const plain = o.name === '--and-mark' || o.name === '--or-mark' || o.name === '--xor-mark';
      if (!mv || (plain && val(o).includes('/'))) {
        syntax(`'${val(o)}' is not a valid value for ${o.name}.`, o.span);
        return undefined;
      }
      let mask: number;
      let xor: number;
      switch (o.name) {
        case '--set-xmark':
          mask = mv.mask;
          xor = mv.value;
          break;
        case '--set-mark':
          mask = (mv.mask | mv.value) >>> 0;
          xor = mv.value;
          break;
        case '--and-mark':
          mask = ~mv.value >>> 0;
          xor = 0;
          break;
        case '--or-mark':
          mask = mv.value;
          xor = mv.value;
          break;
        default:
          mask = 0;
          xor = mv.value;
      }
      const text = `${o.name} ${val(o)}`;
      return name === 'MARK' ? { kind: 'mark', mask, xor, text } : { kind: 'connmark', op: 'set', mask, xor, text };
    }
    case 'DNAT':
    case 'SNAT': {
      const o = get(name === 'DNAT' ? '--to-destination' : '--to-source');
      if (!o) {
        syntax(`Target ${name} needs ${name === 'DNAT' ? '--to-destination' : '--to-source'}.`, span);
        return undefined;
      }
      const to = parseNatTo(val(o));
      if (!to) {
        syntax(`'${val(o)}' is not address[:port] (IPv6: [address]:port).`, o.span);
        return undefined;
      }
      return { kind: name === 'DNAT' ? 'dnat' : 'snat', to };
    }
    case 'MASQUERADE': {
      const o = get('--to-ports');
      let toPort: number | undefined;
      if (o) {
        const r = val(o).split('-');
        toPort = r.length <= 2 && r.every((p) => parsePort(p) !== undefined) ? parsePort(r[0]) : undefined;
        if (toPort === undefined) syntax(`'${val(o)}' is not a port or port range.`, o.span);
      }
      return {
        kind: 'masquerade',
        randomFully: get('--random-fully') !== undefined,
        ...(toPort !== undefined ? { toPort } : {}),
      };
    }
    default:
      return undefined;
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
