/**
 * Data types of the iptables model: a parsed ruleset (tables, chains, rules with their matches and
 * targets) and the packets and outcomes the evaluator works with. Everything is plain, immutable,
 * JSON-serialisable data: addresses are strings as written ("10.0.0.1", "fd00::1"), prefixes keep
 * the parsed {@link Prefix} from `net/address.ts` (bigints inside, so not JSON: only the ruleset holds them).
 */
import type { BranchBudget } from '../branches';
import type { Family, Prefix } from '../net/address';
import type { Problem, Span } from '../problem';

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter';
export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter'];

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export const HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** Built-in chains of each table, in the kernel's order. */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly Hook[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT';
export type Policy = 'ACCEPT' | 'DROP';

export type ConntrackState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';
/** What `--ctstate` can name: the real states plus the virtual DNAT/SNAT states. */
export type CtStateName = ConntrackState | 'DNAT' | 'SNAT';

export type AddrType = 'LOCAL' | 'UNICAST' | 'MULTICAST' | 'BROADCAST';

/** An inclusive port range; a single port has `from === to`. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

interface MatchBase {
  /**
   * Where the option (including its `!` and `-m` module) is in the file; for a rule parsed through a parse memo
   * (generated rules shared between nodes), the offsets from the start of its line, in the file `netpath:line`.
   */
  readonly span: Span;
  /** True when the match is negated with `!`. */
  readonly negated: boolean;
}

/** One condition of a rule. `negated` inverts it. */
export type Match =
  | (MatchBase & { readonly kind: 'source' | 'destination'; readonly prefix: Prefix })
  | (MatchBase & { readonly kind: 'protocol'; readonly protocol: string })
  | (MatchBase & { readonly kind: 'inInterface' | 'outInterface'; readonly name: string })
  | (MatchBase & { readonly kind: 'sport' | 'dport'; readonly range: PortRange })
  | (MatchBase & {
      readonly kind: 'multiport';
      readonly which: 'sports' | 'dports' | 'ports';
      readonly ranges: readonly PortRange[];
    })
  | (MatchBase & { readonly kind: 'comment'; readonly text: string })
  | (MatchBase & { readonly kind: 'statistic'; readonly mode: 'random'; readonly probability: number })
  | (MatchBase & { readonly kind: 'statistic'; readonly mode: 'nth'; readonly every: number; readonly packet: number })
  | (MatchBase & { readonly kind: 'mark' | 'connmark'; readonly value: number; readonly mask: number })
  | (MatchBase & {
      readonly kind: 'addrtype';
      readonly which: 'src' | 'dst';
      readonly types: readonly AddrType[];
      readonly limitIface?: 'in' | 'out';
    })
  | (MatchBase & { readonly kind: 'ctstate'; readonly states: readonly CtStateName[] })
  | (MatchBase & {
      readonly kind: 'recent';
      readonly name: string;
      readonly command: 'rcheck' | 'update' | 'set' | 'remove';
      readonly seconds?: number;
      readonly reap: boolean;
      readonly side: 'rsource' | 'rdest';
    })
  | (MatchBase & { readonly kind: 'physdevIsBridged' })
  | (MatchBase & { readonly kind: 'nfacct'; readonly name: string });

/** `address[-address][:port[-port]]` of DNAT/SNAT; only the first address and port are used. */
export interface NatTo {
  readonly address?: string;
  readonly port?: number;
  readonly text: string;
}

/** What a rule does when it matches. MARK-like targets are normalised to `(mark & ~mask) ^ xor`. */
export type Target =
  | { readonly kind: 'none' }
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reject'; readonly rejectWith?: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'jump' | 'goto'; readonly chain: string }
  | { readonly kind: 'mark'; readonly mask: number; readonly xor: number; readonly text: string }
  | {
      readonly kind: 'connmark';
      readonly op: 'set';
      readonly mask: number;
      readonly xor: number;
      readonly text: string;
    }
  | { readonly kind: 'connmark'; readonly op: 'save' | 'restore'; readonly text: string }
  | { readonly kind: 'dnat' | 'snat'; readonly to: NatTo }
  | { readonly kind: 'masquerade'; readonly toPort?: number; readonly randomFully: boolean }
  | { readonly kind: 'log'; readonly prefix?: string }
  | { readonly kind: 'notrack' };

export interface Rule {
  readonly table: TableName;
  readonly chain: string;
  /** The rule as written, from `-A` to the end of the line. */
  readonly text: string;
  readonly span: Span;
  readonly matches: readonly Match[];
  readonly target: Target;
  readonly targetSpan?: Span;
  /**
   * Why this rule cannot be evaluated faithfully (unknown match, option or target). Non-empty means the
   * evaluator reports `iptables.unsupported-reached` when a packet reaches the rule and treats it as not
   * matching.
   */
  readonly unsupported: readonly string[];
}

export interface Chain {
  readonly name: string;
  readonly builtin: boolean;
  /** Policy of a built-in chain; user chains have none. */
  readonly policy?: Policy;
  /** The `:CHAIN` line, or the first rule when the chain was never declared. */
  readonly span: Span;
  readonly rules: readonly Rule[];
}

export interface Table {
  readonly name: TableName;
  readonly span: Span;
  /** Built-in chains first (always present, policy ACCEPT unless declared), then user chains in order of declaration. */
  readonly chains: readonly Chain[];
}

export interface Ruleset {
  readonly tables: Readonly<Partial<Record<TableName, Table>>>;
}

/**
 * A packet as plain data. Addresses are strings (both families), ports numbers; `mark` is the 32-bit
 * skb mark. Interfaces are optional: a rule matching `-i`/`-o` never matches a packet without one.
 */
export interface Packet {
  readonly family: Family;
  /** Lower-case protocol name: `tcp`, `udp`, `sctp`, `icmp`, `icmpv6`, or a number as text. */
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly mark: number;
  /** The connection's mark (CONNMARK / `-m connmark`); 0 when absent. */
  readonly ctmark?: number;
  readonly inIface?: string;
  readonly outIface?: string;
  /** Whether the packet is being bridged (for `-m physdev --physdev-is-bridged`). */
  readonly bridged?: boolean;
}

export interface ConntrackInfo {
  readonly state: ConntrackState;
  /** The connection was destination-NATed earlier (virtual `--ctstate DNAT`). */
  readonly dnat?: boolean;
  /** The connection was source-NATed earlier (virtual `--ctstate SNAT`). */
  readonly snat?: boolean;
}

/**
 * How `-m statistic` choices are made. `branch` (the default) explores both sides and weights each outcome
 * by its probability; `match` / `nomatch` force every statistic match one way (one outcome).
 */
export type RandomPolicy = 'branch' | 'match' | 'nomatch';

export interface EvalContext {
  /** Addresses assigned in this network namespace (for `-m addrtype LOCAL`). */
  readonly localAddresses: readonly string[];
  /** Per-interface addresses, used only by `--limit-iface-in/out`; without it all local addresses count. */
  readonly interfaceAddresses?: Readonly<Record<string, readonly string[]>>;
  /** Broadcast addresses of this namespace's interfaces (for `-m addrtype BROADCAST`); 255.255.255.255 always counts. */
  readonly broadcastAddresses?: readonly string[];
  readonly conntrack: ConntrackInfo;
  /** Primary address of the outgoing interface, for MASQUERADE. */
  readonly outIfaceAddress?: string;
  readonly random?: RandomPolicy;
  /** The walk's budget of paths: once spent, a random choice follows only its likeliest side (src/core/branches.ts). */
  readonly branches?: BranchBudget;
  /**
   * Entries already in `-m recent` lists: `{ name, address }`. A `--rcheck`/`--update` matches only when the
   * packet's source (or destination with `--rdest`) is listed under that name; `--seconds` is assumed
   * satisfied. With no entries every address counts as "not previously seen".
   */
  readonly recent?: readonly { readonly name: string; readonly address: string }[];
  /** Maximum nesting of jumps (default 64) and of rules visited per outcome path (default 100000). */
  readonly maxDepth?: number;
  readonly maxSteps?: number;
  /** Only these tables' chains of the hook run (a hook evaluated in parts); absent: every table. */
  readonly tables?: readonly TableName[];
}

export interface NatEndpoint {
  readonly address: string;
  readonly port?: number;
}

/** One address translation, with where it came from. */
export interface NatRecord {
  readonly type: 'DNAT' | 'SNAT' | 'MASQUERADE';
  readonly table: TableName;
  readonly chain: string;
  readonly ruleText: string;
  readonly span: Span;
  readonly before: NatEndpoint;
  readonly after: NatEndpoint;
}

/** A step of the walk that mattered: a matched rule, a statistic branch not taken, a policy, a skipped table. */
export interface Decision {
  readonly table: TableName;
  readonly chain: string;
  /** Index of the rule in its chain; -1 for a policy or a table-level note. */
  readonly ruleIndex: number;
  readonly ruleText?: string;
  readonly span?: Span;
  readonly matched: boolean;
  /** What happened, e.g. `jump KUBE-SVC-X`, `ACCEPT`, `MARK 0x4000/0x4000`, `DNAT`, `policy DROP`, `statistic not chosen`. */
  readonly action: string;
  /** Probability of this statistic choice, when there was one. */
  readonly probability?: number;
  /** What the decision did, as data (`action` says it in words). */
  readonly effect: DecisionEffect;
  /** `jump`/`goto`: the chain jumped to. */
  readonly target?: string;
}

/**
 * A decision's effect: a verdict (`ACCEPT`, `DROP`, `REJECT`; a chain policy says `ACCEPT` or `DROP`), a move in
 * the walk (`jump`, `goto`, `RETURN`), a translation, an effect after which the walk goes on, a statistic branch
 * not taken (`not-chosen`), the nat table skipped (`skipped`), a rule that cannot be evaluated (`unsupported`), or
 * the evaluation stopped (`error`).
 */
export type DecisionEffect =
  | 'ACCEPT'
  | 'DROP'
  | 'REJECT'
  | 'RETURN'
  | 'jump'
  | 'goto'
  | 'DNAT'
  | 'SNAT'
  | 'MASQUERADE'
  | 'MARK'
  | 'CONNMARK'
  | 'LOG'
  | 'NOTRACK'
  | 'none'
  | 'not-chosen'
  | 'skipped'
  | 'unsupported'
  | 'error';

export interface Outcome {
  /** Product of the statistic choices on the way. Outcomes of one evaluation sum to 1. */
  readonly probability: number;
  readonly verdict: Verdict;
  readonly rejectWith?: string;
  /** The packet after MARK and NAT. */
  readonly packet: Packet;
  /** Conntrack status after this hook (DNAT/SNAT flags set by NAT done here). */
  readonly conntrack: ConntrackInfo;
  readonly nat: readonly NatRecord[];
  readonly decisions: readonly Decision[];
  /** `-m recent --set` entries this walk would add. */
  readonly recentSet: readonly { readonly name: string; readonly address: string }[];
  /** Problems met on this path (unsupported rule reached, loop, depth, MASQUERADE without address). */
  readonly problems: readonly Problem[];
}

export interface HookResult {
  readonly hook: Hook;
  readonly outcomes: readonly Outcome[];
  /** All problems of all outcomes, without duplicates. */
  readonly problems: readonly Problem[];
}

export interface ParseResult {
  readonly ruleset: Ruleset;
  readonly problems: readonly Problem[];
}
