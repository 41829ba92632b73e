/**
 * A node namespace's packet filter, whatever writes it: the one interface the walk (src/core/trace/walk.ts), the
 * diagnostics and "Show Node Rules" use. iptables (iptables-filter.ts) is the first backend; kube-proxy's
 * nftables mode is the next (several tables of several families on one hook, each base chain at its priority: the
 * backend orders them, the walk only asks for a hook).
 *
 * Hooks are named as the kernel's netfilter hooks (iptables spells them in capitals); tables and chains are the
 * backend's own names (`nat`, `ip kube-proxy`), for showing and for the generator's knowledge, never parsed.
 */
import type { BranchBudget } from '../branches';
import type { Family, Prefix } from '../net/address';
import type { Decision, Hook, NatRecord, TableName } from '../netfilter/types';
import type { Problem, Span } from '../problem';
import type { RulesBlock } from './types';

export type { DecisionEffect, Hook } from '../netfilter/types';

/** The packet at a hook. */
export interface FilterPacket {
  readonly family: Family;
  /** Lower-case protocol name: `tcp`, `udp`, `sctp`, `icmp`, `icmpv6`, or a number as text. */
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly mark: number;
  readonly inIface?: string;
  readonly outIface?: string;
  /** Whether the packet is being bridged (br_netfilter). */
  readonly bridged?: boolean;
  /**
   * Set at a bridge's hooks: the frame crosses a bridge, so the bridge family's chains of the hook run too, where the
   * kernel runs them around br_netfilter's IP hooks, with `iifname`/`oifname` the bridge ports. `only`: just the
   * bridge family's chains (no br_netfilter, or the bridge's input and output hooks, which have no IP twin).
   */
  readonly bridgeFrame?: {
    readonly bridge: string;
    readonly inPort?: string;
    readonly outPort?: string;
    readonly only?: boolean;
  };
  /**
   * The netdev ingress chains of `inIface` at PREROUTING. Absent: they run first, as the kernel runs them for a packet
   * the device receives. `none`: not here (a frame arriving on a bridge port: the bridge device's ingress runs only if
   * the bridge passes the frame up to the node). `only`: just them (that frame, after the bridge's hooks, when
   * br_netfilter already ran the IP PREROUTING at the bridge).
   */
  readonly netdevIngress?: 'only' | 'none';
}

/**
 * NetworkPolicy's place on a hook in NetPath's model, where the lab enforces it (src/lab/policy.ts): the first rule
 * of the iptables filter table's chain of FORWARD, INPUT or OUTPUT (priority 0). The walk evaluates such a hook in
 * two parts around it when a policy may be judged there. `before-policy`: every chain the kernel runs before that
 * filter table (raw, mangle, nat OUTPUT's DNAT; nftables base chains of lower priority, and those at priority 0,
 * which the nftables backend orders before iptables' on a tie; a bridge family's chains that run before
 * br_netfilter's IP hook; netdev ingress). `after-policy`: the rest.
 */
export type HookPart = 'before-policy' | 'after-policy' | 'before-reroute' | 'reroute-to-policy';

/*
 * OUTPUT's re-route: the nat table's hook for locally generated packets (NF_IP_PRI_NAT_DST, -100) routes the packet
 * again when it changed the destination (nf_nat_ipv4_local_fn -> ip_route_me_harder), so the chains after it see the
 * new route's device. `before-reroute`: the chains up to and with the nat table (priority -100 and below);
 * `reroute-to-policy`: the chains after it and before NetworkPolicy's place (nftables chains between -100 and 0; no
 * iptables table sits there). A walk that splits OUTPUT at both asks for `before-reroute`, `reroute-to-policy`, then
 * `after-policy`.
 */
/** The priority of the nat table's OUTPUT (and PREROUTING) hook, NF_IP_PRI_NAT_DST: OUTPUT re-routes right after it. */
export const NAT_DST_PRIORITY = -100;

/** iptables' (iptables-nft's) tables' priorities on a hook: raw -300, mangle -150, nat dstnat -100 / srcnat 100, filter 0. */
export function iptablesPriority(table: TableName, hook: Hook): number {
  if (table === 'raw') return -300;
  if (table === 'mangle') return -150;
  if (table === 'filter') return 0;
  return hook === 'POSTROUTING' || hook === 'INPUT' ? 100 : NAT_DST_PRIORITY;
}

/**
 * Whether a chain at `priority` runs in `part` of its hook; `nftFirst`: an nftables base chain, which runs before
 * iptables' table on a tie at NetworkPolicy's place (priority 0). No part: every chain.
 */
export function inHookPart(priority: number, nftFirst: boolean, part: HookPart | undefined): boolean {
  if (!part) return true;
  const beforePolicy = priority < 0 || (priority === 0 && nftFirst);
  switch (part) {
    case 'before-policy':
      return beforePolicy;
    case 'after-policy':
      return !beforePolicy;
    case 'before-reroute':
      return priority <= NAT_DST_PRIORITY;
    case 'reroute-to-policy':
      return beforePolicy && priority > NAT_DST_PRIORITY;
  }
}

/** iptables' tables of a hook that run before NetworkPolicy's place (see {@link HookPart}): lower priority than filter. */
export const TABLES_BEFORE_POLICY: Readonly<Record<Hook, readonly TableName[]>> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle'],
  FORWARD: ['mangle'],
  OUTPUT: ['raw', 'mangle', 'nat'],
  POSTROUTING: ['mangle', 'nat'],
};

/** What the namespace and its conntrack know when the hook runs. */
export interface FilterContext {
  /** Addresses assigned in this namespace, and per interface. */
  readonly localAddresses: readonly string[];
  readonly interfaceAddresses?: Readonly<Record<string, readonly string[]>>;
  /** The connection: NEW for a request's first packet (NAT is decided then), ESTABLISHED for its reply. */
  readonly conntrack: {
    readonly state: 'NEW' | 'ESTABLISHED';
    readonly dnat?: boolean;
    readonly snat?: boolean;
  };
  /** Primary address of the outgoing interface, for masquerading. */
  readonly outIfaceAddress?: string;
  /** The walk's budget of paths: once spent, a random choice follows only its likeliest side (src/core/branches.ts). */
  readonly branches?: BranchBudget;
}

/**
 * A rule, policy or branch that mattered at the hook: the general evaluators' decision (src/core/netfilter; the
 * nftables evaluator's has the same fields), with the table as the backend names it (`nat`, `ip kube-proxy`).
 */
export type FilterDecision = Omit<Decision, 'table'> & {
  readonly table: string;
  /** nftables: the priority of the base chain that made the decision (a table can have several on one hook). */
  readonly priority?: number;
  /**
   * Set when the decision was made at another hook than the one evaluated: a netdev ingress chain (`INGRESS`, run
   * before every PREROUTING chain), a bridge-family chain (`family: 'bridge'`, the same hook name).
   */
  readonly hook?: Hook | 'INGRESS';
  readonly family?: 'netdev' | 'bridge';
};

/** One address translation the filter did. */
export type FilterNat = Omit<NatRecord, 'table'> & {
  readonly table: string;
  /**
   * The translating rule also remembers the client for later connections (ClientIP session affinity: an
   * iptables `recent` list, an nftables set with a timeout): the list and, when the rules say, for how long.
   */
  readonly remembers?: { readonly list: string; readonly seconds?: number };
};

/** One way the hook can end (several when a rule chooses at random). */
export interface FilterOutcome {
  /** Outcomes of one evaluation sum to 1. */
  readonly probability: number;
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT';
  /** The packet after marks and translations. */
  readonly packet: FilterPacket;
  readonly nat: readonly FilterNat[];
  readonly decisions: readonly FilterDecision[];
  readonly problems: readonly Problem[];
}

export interface FilterResult {
  readonly outcomes: readonly FilterOutcome[];
}

/** What a rule matches on that classifies packets: addresses and interfaces (for choosing representative flows). */
export interface FilterRuleSummary {
  readonly table: string;
  readonly chain: string;
  readonly text: string;
  readonly span: Span;
  readonly prefixes: readonly Prefix[];
  readonly interfaces: readonly string[];
}

/**
 * What a chain is for, as the generator of the rules knows it (kube-proxy's Service firewall). The backend asks its
 * {@link RulesKnowledge}; the walk reads the role and never a chain name.
 */
export type ChainRole = 'service-firewall';

/** Knowledge of the tool that generated (some of) the rules, given to the backend by whoever assembled them. */
export interface RulesKnowledge {
  chainRole(table: string, chain: string): ChainRole | undefined;
}

export interface PacketFilter {
  /** Which backend evaluates the rules. */
  readonly backend: 'iptables' | 'nftables';
  /** Runs every table/base chain the backend has on `hook`, in the kernel's order; `part`: the ones on one side of NetworkPolicy's place. */
  evaluate(hook: Hook, packet: FilterPacket, ctx: FilterContext, part?: HookPart): FilterResult;
  /**
   * The rules as the backend's own tool prints them (`iptables-save`, `nft list ruleset`): what "Show Node Rules"
   * shows, what the kernel lab loads, and the text generated rules' spans point into (the file `netpath:rules/<node>`).
   * Built when first read.
   */
  readonly text: string;
  /** The rules' problems, mapped back to the YAML where the rules came from the node's own lines. */
  readonly problems: readonly Problem[];
  /** The contributors' blocks of `text`, in order. */
  readonly blocks: readonly RulesBlock[];
  /** Who wrote the rule at `span`: a contributor of a generated block, or the node's own rules (YAML spans). */
  authorAt(span: Span): RulesBlock['author'] | undefined;
  /** Every rule with what it matches on, in order. */
  rules(): Iterable<FilterRuleSummary>;
  /** What a chain is for, when the generator says (see {@link RulesKnowledge}). */
  chainRole(table: string, chain: string): ChainRole | undefined;
}
