/**
 * An nftables ruleset as data: tables of every family, chains, sets and maps, and rules made of typed
 * expressions and statements. Produced by {@link parseNftRuleset}, read by {@link evaluateNftHook}.
 */
import type { BranchBudget } from '../branches';
import type { Family } from '../net/address';
import type { Problem, Span } from '../problem';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
export type NftChainType = 'filter' | 'nat' | 'route';

/** What a value of a selector or set field is, which decides how its text is read. */
export type NftDataType =
  | 'ipv4_addr'
  | 'ipv6_addr'
  | 'inet_proto'
  | 'inet_service'
  | 'ifname'
  | 'mark'
  | 'ct_state'
  | 'ct_status'
  | 'fib_addrtype'
  | 'integer'
  | 'verdict';

/** One typed value: an interval of numbers (addresses, ports, protocols, flags), or an interface name. */
export type NftValue =
  | { readonly kind: 'range'; readonly lo: bigint; readonly hi: bigint }
  | { readonly kind: 'name'; readonly name: string; readonly wildcard: boolean };

export type NftVerdict =
  | { readonly kind: 'accept' | 'drop' | 'return' | 'continue' }
  | { readonly kind: 'jump' | 'goto'; readonly chain: string };

/** What a match reads from the packet. */
export type NftSelector =
  | {
      readonly kind: 'payload';
      readonly proto: 'ether' | 'ip' | 'ip6' | 'tcp' | 'udp' | 'sctp' | 'th' | 'icmp' | 'icmpv6';
      readonly field: string;
    }
  | {
      readonly kind: 'meta';
      /** `ibrname`/`obrname`: the bridge a bridge-family chain's frame came in by / goes out of. */
      readonly key: 'l4proto' | 'mark' | 'iifname' | 'oifname' | 'ibrname' | 'obrname' | 'nfproto' | 'protocol';
    }
  | { readonly kind: 'ct'; readonly key: 'state' | 'status' | 'mark' }
  | { readonly kind: 'fib'; readonly flags: readonly ('saddr' | 'daddr' | 'iif' | 'oif' | 'mark')[] }
  | { readonly kind: 'numgen'; readonly mode: 'random' | 'inc'; readonly mod: number; readonly offset: number }
  | { readonly kind: 'binop'; readonly inner: NftSelector; readonly op: 'and' | 'or' | 'xor'; readonly value: bigint };

/** The right-hand side of a match or lookup: values written in the rule, or a named set or map. */
export type NftRhs =
  | { readonly kind: 'values'; readonly elements: readonly NftElement[] }
  | { readonly kind: 'set'; readonly name: string };

/** One set or map element: a tuple of values (one per concatenated field) and, for a map, its verdict. */
export interface NftElement {
  readonly key: readonly NftValue[];
  readonly verdict?: NftVerdict;
  readonly comment?: string;
}

export type NftOp = '==' | '!=' | '<' | '>' | '<=' | '>=';

export type NftNat =
  | {
      readonly kind: 'dnat' | 'snat';
      readonly address?: string;
      readonly port?: number;
    }
  | { readonly kind: 'masquerade' | 'redirect'; readonly port?: number };

/** A rule's parts in order: matches filter, statements act, the verdict (if any) ends the rule. */
export type NftItem =
  | {
      readonly kind: 'match';
      readonly selectors: readonly NftSelector[];
      readonly op: NftOp;
      readonly rhs: NftRhs;
      /** Flag types (ct state/status) without an operator: any of the flags. */
      readonly flags: boolean;
    }
  | { readonly kind: 'vmap'; readonly selectors: readonly NftSelector[]; readonly map: NftRhs }
  | { readonly kind: 'verdict'; readonly verdict: NftVerdict }
  | { readonly kind: 'reject'; readonly with?: string }
  | { readonly kind: 'nat'; readonly nat: NftNat }
  | {
      readonly kind: 'mark-set';
      readonly target: 'meta' | 'ct';
      /** `mark set mark or 0x4000`: the new mark is (mark op value); without op, the value. */
      readonly op?: 'and' | 'or' | 'xor';
      readonly value: bigint;
    }
  | { readonly kind: 'set-update'; readonly set: string; readonly selectors: readonly NftSelector[] }
  | { readonly kind: 'counter' | 'log' | 'notrack' };

export interface NftRule {
  readonly items: readonly NftItem[];
  /** The rule as written, without its comment. */
  readonly text: string;
  readonly comment?: string;
  readonly span: Span;
  /** Set when the rule has a part NetPath does not model; the evaluator reports it when reached. */
  readonly unsupported?: string;
}

export interface NftBase {
  readonly type: NftChainType;
  readonly hook: NftHook;
  readonly priority: number;
  readonly policy: 'accept' | 'drop';
  /** netdev chains: the devices the hook is on (`device eth0`, `devices = { eth0, eth1 }`). */
  readonly devices?: readonly string[];
  /** The `type … hook … priority …` line as written. */
  readonly text: string;
  readonly span: Span;
}

export interface NftChain {
  readonly name: string;
  readonly base?: NftBase;
  readonly rules: readonly NftRule[];
  readonly comment?: string;
  readonly span: Span;
}

export interface NftSet {
  readonly kind: 'set' | 'map';
  readonly name: string;
  /** One data type per concatenated field. */
  readonly keyType: readonly NftDataType[];
  /** `verdict` for a verdict map; other map data types are kept but not evaluated. */
  readonly dataType?: string;
  readonly flags: readonly string[];
  /** `timeout` of the set's elements, in seconds. */
  readonly timeout?: number;
  readonly elements: readonly NftElement[];
  readonly span: Span;
}

export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly sets: ReadonlyMap<string, NftSet>;
  readonly span: Span;
}

export interface NftRuleset {
  readonly tables: readonly NftTable[];
}

export interface NftParseResult {
  readonly ruleset: NftRuleset;
  readonly problems: readonly Problem[];
}

/** The packet and its connection, as the evaluator sees them (the same shape as the iptables evaluator's). */
export interface NftPacket {
  readonly family: Family;
  /** Lower-case protocol name: `tcp`, `udp`, `sctp`, `icmp`, `icmpv6`, or a number as text. */
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly mark: number;
  readonly ctmark?: number;
  readonly inIface?: string;
  readonly outIface?: string;
  /** A frame crossing a bridge (bridge-family chains): the bridge it came in by and goes out of (`meta ibrname`/`obrname`). */
  readonly inBridge?: string;
  readonly outBridge?: string;
}

export interface NftConntrack {
  readonly state: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';
  readonly dnat?: boolean;
  readonly snat?: boolean;
}

export interface NftEvalContext {
  /** Addresses of this network namespace (`fib … type local`). */
  readonly localAddresses: readonly string[];
  readonly broadcastAddresses?: readonly string[];
  readonly conntrack: NftConntrack;
  /** Primary address of the outgoing interface, for `masquerade`. */
  readonly outIfaceAddress?: string;
  /** Primary address of the incoming interface, for `redirect` (127.0.0.1 / ::1 when absent). */
  readonly inIfaceAddress?: string;
  /** Elements already in dynamic sets (affinity): `{ set, address }`, the set named as `table-family table set`. */
  readonly dynamic?: readonly { readonly set: string; readonly address: string }[];
  readonly maxDepth?: number;
  readonly maxSteps?: number;
  /** The walk's budget of paths: once spent, a random choice follows only its likeliest side (src/core/branches.ts). */
  readonly branches?: BranchBudget;
}

/** A step that mattered: a matched rule, a numgen choice, a policy. Names are as nft prints them. */
export interface NftDecision {
  /** `ip kube-proxy`, `inet filter`. */
  readonly table: string;
  readonly chain: string;
  /** Index in the chain; -1 for a policy. */
  readonly ruleIndex: number;
  readonly ruleText?: string;
  readonly span?: Span;
  /** `jump services`, `goto endpoint-…`, `accept`, `dnat to 10.0.1.1:80`, `policy drop`, `mark 0x4000`. */
  readonly action: string;
  readonly probability?: number;
  /** The priority of the base chain whose walk made this decision (several base chains of a table share a hook). */
  readonly priority?: number;
}

export interface NftNatRecord {
  readonly type: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT';
  readonly table: string;
  readonly chain: string;
  readonly ruleText: string;
  readonly span: Span;
  readonly before: { readonly address: string; readonly port?: number };
  readonly after: { readonly address: string; readonly port?: number };
}

export interface NftOutcome {
  readonly probability: number;
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT';
  readonly packet: NftPacket;
  readonly conntrack: NftConntrack;
  readonly nat: readonly NftNatRecord[];
  readonly decisions: readonly NftDecision[];
  /** `update @set { ip saddr }` done on this path. */
  readonly dynamicAdded: readonly { readonly set: string; readonly address: string }[];
  readonly problems: readonly Problem[];
}

export interface NftHookResult {
  readonly hook: NftHook;
  readonly outcomes: readonly NftOutcome[];
  readonly problems: readonly Problem[];
}
