/**
 * The rule path of one hop, drawn: the netfilter hooks the packet passed in that namespace in the order the
 * kernel ran them (each with its tables, the routing decision between PREROUTING and INPUT/FORWARD), the
 * chains it jumped through with the rule that sent it there, the branch it took at each statistic/numgen
 * split with its probability and the branches it did not take (from the trace's other paths), the verdict,
 * NAT before → after where it happened, and NetworkPolicy verdicts. Reads the typed steps only; works for any
 * packet filter whose steps carry hook, table and chain. iptables: one stage per table (its fixed priority);
 * nftables: one stage per base chain, named by table and priority as nft prints it (a table such as
 * `ip kube-proxy` has several base chains on one hook: `filter-prerouting-pre-dnat` at dstnat - 10, then
 * `nat-prerouting` at dstnat), numgen branches with their probabilities and verdict-map jumps as jumps.
 */
import type {
  BridgeStep,
  Hop,
  NatStep,
  NatTuple,
  NetfilterStep,
  PolicyStep,
  TracePath,
  TracePlace,
} from '../../protocol/messages';
import { nftPriorityText } from '../../core/nftables/priority';
import { hookLabel, type HookFamily } from '../../core/trace/types';
import { clip, svg } from '../shared/host';

/** The tables of each hook, in the kernel's priority order (iptables; nftables chains name their own). */
export const HOOK_TABLES: Readonly<Record<string, readonly string[]>> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'nat'],
  FORWARD: ['mangle', 'filter'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter'],
  POSTROUTING: ['mangle', 'nat'],
};

/** One chain on the walk: how the packet got there and what it did there. */
export interface ChainVisit {
  readonly chain: string;
  /** The rule that jumped here (absent for the hook's base chain, or a return into it). */
  readonly via?: string;
  /** `entry`: the base chain; `jump`/`goto`: sent here by a rule; `return`: back in a calling chain. */
  readonly how: 'entry' | 'jump' | 'goto' | 'return';
  /** The probability of the branch that led here (a statistic/numgen rule), when there was a split. */
  readonly probability?: number;
  /** Statistic branches passed over in this chain before the one taken (probability each was not taken). */
  readonly skipped: number[];
  /** The branches this split offered that this path did not take: other paths' jump targets from here. */
  readonly alternatives: { readonly target: string; readonly probability: number }[];
  /** Effects in this chain that did not end the walk (MARK, LOG, ...). */
  readonly effects: string[];
}

export interface Stage {
  readonly hook: string;
  /** The hook's family when it is not the IP stack's: a netdev ingress chain, a bridge-family chain. */
  readonly family?: HookFamily;
  readonly table: string;
  /** br_netfilter ran this IP hook for a frame the bridge was handling (from the bridge hook of the same name). */
  readonly bridged?: boolean;
  /** nftables: the base chain's priority (steps carry it; iptables stages leave it out). */
  readonly priority?: number;
  readonly visits: ChainVisit[];
  /** What ended the walk of this table: a verdict (ACCEPT, DROP, REJECT, DNAT, ...), a chain policy, or none. */
  readonly verdict?: {
    readonly verdict: string;
    readonly policy: boolean;
    readonly chain: string;
    readonly rule?: string;
  };
  readonly nat?: { readonly type: string; readonly before: NatTuple; readonly after: NatTuple };
}

/** A bridge-family hook a frame passed on a bridge with br_netfilter, which runs the IP hook of the same name there. */
export type BridgeHook = 'PREROUTING' | 'FORWARD' | 'POSTROUTING';

/**
 * Where the bridge sent the frame after its PREROUTING: out of a port (its forwarding database), back out of the port
 * it came in by (hairpin), or up to the node's own stack; `next-hop` when that happens at the trace's next hop (a
 * destination NATed at the bridge is routed again there).
 */
export interface BridgeDecision {
  readonly kind: 'port' | 'host' | 'next-hop';
  readonly outPort?: string;
  readonly hairpin?: BridgeStep['hairpin'];
  /** The port was chosen for the destination NAT gave the frame at the bridge (routed again, then bridged). */
  readonly afterNat?: boolean;
}

export type RuleItem =
  | { readonly kind: 'stage'; readonly stage: Stage }
  /** The IP routing decision after PREROUTING (a routed packet). */
  | { readonly kind: 'routing' }
  /** A bridge hook of a bridged frame: br_netfilter runs the IP hook's stages that follow it (none: nothing decided). */
  | { readonly kind: 'bridge-hook'; readonly hook: BridgeHook }
  /** The bridge's forwarding decision between its PREROUTING and FORWARD hooks (instead of the routing decision). */
  | { readonly kind: 'bridge-decision'; readonly decision: BridgeDecision }
  /**
   * NetworkPolicy verdicts where they were judged: the first rule of the filter table's chain, so after the chains
   * the kernel ran before it (nat OUTPUT, a bridge family's forward chain) and before the filter table's own rules.
   */
  | { readonly kind: 'policy'; readonly steps: readonly PolicyStep[] };

export interface RulePath {
  /** In the kernel's order: stages, the routing decision, and for a bridged frame the bridge hooks and decision. */
  readonly items: RuleItem[];
  readonly policies: readonly PolicyStep[];
  /** The bridge (with br_netfilter) the frame crossed at this hop: its hooks are drawn as a lane of their own. */
  readonly bridge?: { readonly name: string; readonly inPort?: string };
}

/**
 * The bridge whose port a hop arrived on (`node:n` receiving on a pod's host veth where n's plug-in has a bridge): a
 * frame entering a bridge port, whose PREROUTING br_netfilter runs from the bridge's PREROUTING.
 */
export function bridgeOfPort(hop: Hop, places: readonly TracePlace[]): string | undefined {
  if (hop.dir !== 'in' || !hop.netns.startsWith('node:')) return undefined;
  const node = places.find((p) => p.netns === hop.netns);
  if (!node?.bridge) return undefined;
  const name = hop.netns.slice('node:'.length);
  return places.some((p) => p.kind === 'pod' && p.node === name && p.hostVeth === hop.device) ? node.bridge : undefined;
}

/** What changed the packet or stopped it at a hop, for the mark on the device diagram. */
export function hopMark(h: Hop): 'DNAT' | 'SNAT' | 'MASQUERADE' | 'DROP' | 'REJECT' | 'POLICY' | undefined {
  // What ended the packet wins over what rewrote it on the way.
  for (const s of h.steps)
    if (s.kind === 'netfilter' && (s.verdict === 'DROP' || s.verdict === 'REJECT')) return s.verdict;
  for (const s of h.steps) if (s.kind === 'drop' && s.hook) return s.reason === 'netfilter-reject' ? 'REJECT' : 'DROP';
  for (const s of h.steps) if (s.kind === 'policy' && s.verdict === 'denied') return 'POLICY';
  for (const s of h.steps) if (s.kind === 'nat') return s.type;
  return undefined;
}

export const hasRulePath = (h: Hop) => h.steps.some((s) => s.kind === 'netfilter' || s.kind === 'policy');

/** The probability of the branch a path took in `chain`: the splits passed over times the one taken. */
function branchIn(steps: readonly NetfilterStep[], chain: string): { target?: string; p: number; split: boolean } {
  let p = 1;
  let split = false;
  let target: string | undefined;
  for (const s of steps) {
    if (s.chain !== chain) continue;
    if (s.verdict === 'not-chosen') {
      p *= s.probability ?? 1;
      split = true;
    } else if ((s.verdict === 'jump' || s.verdict === 'goto') && target === undefined) {
      target = s.target;
      if (s.probability !== undefined) {
        p *= s.probability;
        split = true;
      }
    }
  }
  return { target, p, split };
}

const netfilterOf = (h: Hop) => h.steps.filter((s): s is NetfilterStep => s.kind === 'netfilter');

/**
 * The rule path of `hop`; `paths` are every path of the trace (for the branches this one did not take, and the hop
 * after this one); `bridgePort` the bridge whose port the hop arrived on (bridgeOfPort), if any.
 */
export function rulePath(hop: Hop, paths: readonly TracePath[], bridgePort?: string): RulePath {
  const steps = netfilterOf(hop);
  // A bridged frame: it came in by a port of a bridge (its PREROUTING ran from the bridge's), and/or the bridge
  // forwarded it at this hop (FORWARD and POSTROUTING after the bridge step ran from the bridge's).
  const bridgeAt = hop.steps.findIndex((s) => s.kind === 'bridge');
  const bridgeStep = bridgeAt >= 0 ? (hop.steps[bridgeAt] as BridgeStep) : undefined;
  const portIn = bridgePort ?? (bridgeStep?.inPort === hop.device && hop.dir === 'in' ? bridgeStep.bridge : undefined);
  const bridgeName = bridgeStep?.bridge ?? portIn;
  // An IP hook's step br_netfilter ran for the bridge (a bridge family's own chain is the bridge hook itself).
  const bridgedStep = (s: NetfilterStep) =>
    !s.family &&
    !!bridgeName &&
    steps.length > 0 &&
    (s.hook === 'PREROUTING'
      ? !!portIn && (bridgeAt < 0 || hop.steps.indexOf(s) < bridgeAt)
      : (s.hook === 'FORWARD' || s.hook === 'POSTROUTING') && bridgeAt >= 0 && hop.steps.indexOf(s) > bridgeAt);
  const walk = paths.flatMap((p) => [p.hops, ...(p.reply ? [p.reply.hops] : [])]).find((hs) => hs.includes(hop));
  const next = walk?.[walk.indexOf(hop) + 1];
  const lastOfWalk = !next;
  // The same namespace and hook on the other paths: where their walks split from this one.
  const others = paths
    .flatMap((p) => [...p.hops, ...(p.reply?.hops ?? [])])
    .filter((h) => h !== hop && h.netns === hop.netns)
    .map(netfilterOf);
  const items: RuleItem[] = [];
  const lane: BridgeHook[] = [];
  let decided = false;
  const decide = () => {
    if (decided) return;
    decided = true;
    items.push({ kind: 'bridge-decision', decision: decisionOf() });
  };
  /**
   * Adds the bridge hooks up to `hook` (in order) that were passed and not drawn yet, with the decision; `upTo` itself
   * only when `inclusive` (a bridge family's chain of that hook is not br_netfilter's part of it: the hook's box is
   * added when an IP stage br_netfilter ran from it follows).
   */
  const passBridge = (upTo: BridgeHook, inclusive = true) => {
    if (!bridgeName) return;
    const order: BridgeHook[] = ['PREROUTING', 'FORWARD', 'POSTROUTING'];
    for (const h of order.slice(0, order.indexOf(upTo) + 1)) {
      if (lane.includes(h)) continue;
      if (h === 'PREROUTING' && !portIn) continue;
      if (h !== 'PREROUTING' && !bridgeStep) continue;
      if (h === 'FORWARD') decide();
      if (h === upTo && !inclusive) break;
      lane.push(h);
      items.push({ kind: 'bridge-hook', hook: h });
    }
  };
  const decisionOf = (): BridgeDecision =>
    bridgeStep
      ? {
          kind: 'port',
          outPort: bridgeStep.outPort,
          hairpin: bridgeStep.hairpin,
          afterNat: bridgeStep.lookup === 'nat-at-bridge',
        }
      : next?.steps.some((s) => s.kind === 'bridge')
        ? { kind: 'next-hop' }
        : { kind: 'host' };
  // The policy verdicts in the hop's order among the stages.
  const policySteps = hop.steps.filter((s): s is PolicyStep => s.kind === 'policy');
  let nextPolicy = 0;
  const policiesUpTo = (at: number) => {
    const due: PolicyStep[] = [];
    while (nextPolicy < policySteps.length && (at < 0 || hop.steps.indexOf(policySteps[nextPolicy]) < at))
      due.push(policySteps[nextPolicy++]);
    if (due.length) items.push({ kind: 'policy', steps: due });
  };
  let i = 0;
  while (i < steps.length) {
    policiesUpTo(hop.steps.indexOf(steps[i]));
    const hook = steps[i].hook;
    const family = steps[i].family;
    const table = steps[i].table;
    const priority = steps[i].priority;
    const group: NetfilterStep[] = [];
    // One stage per table on the hook, and per base chain (by priority) where a table has several (nftables).
    while (
      i < steps.length &&
      steps[i].hook === hook &&
      steps[i].family === family &&
      steps[i].table === table &&
      steps[i].priority === priority
    )
      group.push(steps[i++]);
    const visits: ChainVisit[] = [];
    let verdict: Stage['verdict'];
    const visit = (chain: string, how: ChainVisit['how'], via?: string, probability?: number): ChainVisit => {
      const v: ChainVisit = { chain, how, via, probability, skipped: [], alternatives: [], effects: [] };
      visits.push(v);
      return v;
    };
    let current = visit(group[0].chain, 'entry');
    for (const s of group) {
      if (s.chain !== current.chain) current = visit(s.chain, 'return');
      if (s.verdict === 'jump' || s.verdict === 'goto') {
        const mine = branchIn(group, s.chain);
        if (s.probability !== undefined || mine.split) {
          for (const o of others) {
            const theirs = branchIn(
              o.filter((x) => x.hook === hook && x.family === family && x.table === table),
              s.chain,
            );
            if (
              theirs.target &&
              theirs.target !== s.target &&
              !current.alternatives.some((a) => a.target === theirs.target)
            )
              current.alternatives.push({ target: theirs.target, probability: theirs.p });
          }
        }
        current = visit(s.target ?? '?', s.verdict, s.rule, mine.split ? mine.p : undefined);
      } else if (s.verdict === 'not-chosen') current.skipped.push(s.probability ?? 0);
      else if (s.verdict === 'RETURN') current.effects.push('RETURN');
      else if (['MARK', 'CONNMARK', 'LOG', 'NOTRACK', 'skipped', 'unsupported', 'error'].includes(s.verdict))
        current.effects.push(s.verdict === 'skipped' ? 'nat skipped (not a new connection)' : s.verdict);
      else if (s.verdict !== 'none') verdict = { verdict: s.verdict, policy: !!s.policy, chain: s.chain, rule: s.rule };
    }
    const nat = hop.steps.find(
      (s): s is NatStep =>
        s.kind === 'nat' && s.table === table && group.some((g) => g.chain === s.chain && g.verdict === s.type),
    );
    const bridged = bridgedStep(group[0]);
    if (bridged) passBridge(hook as BridgeHook);
    else if (family === 'bridge' && bridgeName) {
      // A bridge family's chain: its place on the bridge's lane, by the kernel's order of the bridge hooks (before
      // br_netfilter's IP stages of that hook or after them, as the steps came); the input hook after the decision.
      if (hook === 'INPUT') {
        passBridge('PREROUTING');
        decide();
      } else passBridge(hook as BridgeHook, false);
    } else if (items.length && hook !== 'PREROUTING' && lastHook(items) === 'PREROUTING')
      items.push({ kind: 'routing' });
    items.push({
      kind: 'stage',
      stage: {
        hook,
        ...(family ? { family } : {}),
        table,
        ...(bridged ? { bridged } : {}),
        ...(priority !== undefined ? { priority } : {}),
        visits,
        verdict,
        ...(nat ? { nat: { type: nat.type, before: nat.before, after: nat.after } } : {}),
      },
    });
  }
  if (steps.length) policiesUpTo(-1);
  if (bridgeName && steps.length) {
    // The rest of the bridge's way at this hop: the decision where the frame went up to the node or on to the next
    // hop, or the hooks a forwarded frame passed where no IP rule decided (not when it ended at this hop).
    if (!bridgeStep) {
      if (portIn && !lane.includes('PREROUTING')) passBridge('PREROUTING');
      decide();
    } else if (!lastOfWalk) passBridge('POSTROUTING');
  }
  return {
    items,
    policies: hop.steps.filter((s): s is PolicyStep => s.kind === 'policy'),
    ...(bridgeName && steps.length ? { bridge: { name: bridgeName, ...(portIn ? { inPort: hop.device } : {}) } } : {}),
  };
}

function lastHook(items: RulePath['items']): string | undefined {
  for (let k = items.length - 1; k >= 0; k--) {
    const it = items[k];
    if (it.kind === 'stage') return it.stage.hook;
  }
  return undefined;
}

/** A connector from (x1, y1) to (x2, y2) with the path's arrowhead: between stages, down the lane, between rows. */
const arrow = (x1: number, y1: number, x2: number, y2: number) =>
  svg('line', { x1, y1, x2, y2, class: 'rp-link', 'marker-end': 'url(#rp-arrow)' });
const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

/** An nftables base chain's priority as nft prints it (`dstnat - 10`, `filter`, or the number). */
const priorityText = (s: Stage, priority: number): string => nftPriorityText(s.hook.toLowerCase(), priority, s.family);
const ep = (a: string, p: number | null) => (p === null ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
const tuple = (t: NatTuple) => `${ep(t.src, t.sport)} → ${ep(t.dst, t.dport)}`;

/** What the bridge did with the frame after its PREROUTING, in words. */
export function decisionText(d: BridgeDecision): string {
  if (d.kind === 'host') return "up to the node's own stack";
  if (d.kind === 'next-hop') return 'NAT changed the destination: routed again, bridged at the next hop';
  const out =
    d.hairpin === 'off'
      ? `back out of ${d.outPort}, where it came in: dropped (hairpin off)`
      : d.hairpin === 'on'
        ? `back out of ${d.outPort}, where it came in (hairpin on)`
        : `out of ${d.outPort}`;
  return d.afterNat ? `after DNAT at the bridge: ${out}` : out;
}

/** The same, short enough for the decision's box on the lane. */
function decisionShort(d: BridgeDecision): string {
  if (d.kind === 'host') return 'up to the node';
  if (d.kind === 'next-hop') return 'DNAT: routed again';
  if (d.hairpin === 'off') return 'hairpin off: dropped';
  return d.hairpin === 'on' ? `back out of ${d.outPort}` : `out of ${d.outPort}`;
}

/** A bridge family's own chain on a bridged frame's way: drawn on the bridge's lane, not under br_netfilter. */
const isBridgeChain = (it: RuleItem): it is { kind: 'stage'; stage: Stage } =>
  it.kind === 'stage' && it.stage.family === 'bridge';

/**
 * The items br_netfilter ran from a bridge hook: the IP stages after it up to the next lane item, with the
 * NetworkPolicy verdicts judged among them (in the filter table br_netfilter's FORWARD runs).
 */
function itemsUnder(items: readonly RuleItem[], k: number): number[] {
  const under: number[] = [];
  for (let j = k + 1; j < items.length; j++) {
    const it = items[j];
    if (!((it.kind === 'stage' && !isBridgeChain(it)) || it.kind === 'policy')) break;
    under.push(j);
  }
  // Verdicts after the hook's last stage were judged at another hook's place (the next lane hook's, or none).
  while (under.length && items[under[under.length - 1]].kind === 'policy') under.pop();
  return under;
}

/** How many IP stages br_netfilter ran from a bridge hook. */
function stagesUnder(items: readonly RuleItem[], k: number): number {
  return itemsUnder(items, k).filter((j) => items[j].kind === 'stage').length;
}

const policyText = (p: PolicyStep): string =>
  `${p.direction} of ${p.pod}: ${p.verdict}${p.policy ? ` by ${p.policy}` : p.policies.length ? '' : ' (not isolated)'}`;

/** The rule path as lines of text (Markdown export, screen readers): one line per stage, bridge hook and decision. */
export function rulePathLines(r: RulePath): string[] {
  const lines: string[] = [];
  if (r.bridge) {
    const lane = r.items.flatMap((it) =>
      it.kind === 'bridge-hook'
        ? [it.hook]
        : it.kind === 'bridge-decision'
          ? [decisionText(it.decision)]
          : isBridgeChain(it)
            ? [`${it.stage.hook} chain of ${it.stage.table}`]
            : [],
    );
    lines.push(
      `bridge ${r.bridge.name} with br_netfilter${r.bridge.inPort ? ` (in by ${r.bridge.inPort})` : ''}: ${lane.join(' → ')}`,
    );
  }
  r.items.forEach((it, k) => {
    if (it.kind === 'routing') {
      lines.push('routing decision');
      return;
    }
    if (it.kind === 'policy') {
      for (const p of it.steps) lines.push(`NetworkPolicy ${policyText(p)}`);
      return;
    }
    if (it.kind === 'bridge-hook') {
      const none = stagesUnder(r.items, k) === 0;
      lines.push(`bridge ${it.hook}: br_netfilter runs the IP ${it.hook} hook${none ? '; no IP rule decided' : ''}`);
      return;
    }
    if (it.kind === 'bridge-decision') {
      lines.push(`bridge decision: ${decisionText(it.decision)}`);
      return;
    }
    const s = it.stage;
    const walk = s.visits
      .map((v) => {
        const head = v.how === 'entry' ? v.chain : v.how === 'return' ? `↩ ${v.chain}` : `→ ${v.chain}`;
        const parts = [head];
        if (v.probability !== undefined) parts.push(`(branch ${pct(v.probability)})`);
        for (const p of v.skipped) parts.push(`[skipped a ${pct(1 - p)} branch]`);
        for (const a of v.alternatives) parts.push(`[not taken: ${a.target} ${pct(a.probability)}]`);
        for (const e of v.effects) parts.push(`[${e}]`);
        return parts.join(' ');
      })
      .join(' ');
    const end = s.verdict ? `: ${s.verdict.policy ? `policy ${s.verdict.verdict}` : s.verdict.verdict}` : '';
    const nat = s.nat ? ` (${tuple(s.nat.before)} ⇒ ${tuple(s.nat.after)})` : '';
    lines.push(
      `${hookLabel(s.hook, s.family)} ${s.table}${s.priority !== undefined ? ` (priority ${priorityText(s, s.priority)})` : ''}: ${walk}${end}${nat}`,
    );
  });
  // Verdicts with no stage around them (a hop with no netfilter step): after everything.
  if (!r.items.some((it) => it.kind === 'policy'))
    for (const p of r.policies) lines.push(`NetworkPolicy ${policyText(p)}`);
  return lines;
}

// ---------------------------------------------------------------- drawing

const COL_W = 300;
const COL_GAP = 36;
const HEAD_H = 44;
const ROW_H = 46;
const ALT_H = 16;
const CHARS = 40;
/** The bridge's lane (a bridged frame): its height, a bridge hook with no IP stage under it, the decision. */
const LANE_H = 78;
const EMPTY_HOOK_W = 170;
const DECISION_W = 190;
/** The NetworkPolicy verdicts' column, where they were judged among the stages. */
const POLICY_W = 340;

const verdictClass = (v: string) =>
  v === 'ACCEPT'
    ? 'ok'
    : v === 'DROP' || v === 'REJECT'
      ? 'bad'
      : ['DNAT', 'SNAT', 'MASQUERADE'].includes(v)
        ? 'nat'
        : 'other';

/** Draws the rule path as SVG; `onRule` is called with a visit's rule or a verdict's when one is clicked. */
export function drawRulePath(r: RulePath, label: string, onRule: (chain: string) => void): SVGSVGElement {
  const stages = r.items;
  const heights = stages.map((it) =>
    it.kind === 'policy'
      ? HEAD_H + it.steps.length * 34 + 8
      : it.kind !== 'stage'
        ? 0
        : HEAD_H +
          it.stage.visits.reduce(
            (h, v) => h + ROW_H + (2 * v.alternatives.length + v.skipped.length + (v.effects.length ? 1 : 0)) * ALT_H,
            0,
          ) +
          (it.stage.verdict ? 34 : 0) +
          (it.stage.nat ? 72 : 0) +
          12,
  );
  // The columns, left to right in the kernel's order: a bridge hook spans the IP stages br_netfilter ran from it
  // (its own column when none decided anything), the bridge's decision and the routing decision have their own.
  const colW = (it: RuleItem, k: number) =>
    it.kind === 'stage'
      ? COL_W
      : it.kind === 'policy'
        ? POLICY_W
        : it.kind === 'routing'
          ? 70
          : it.kind === 'bridge-decision'
            ? DECISION_W
            : stagesUnder(stages, k)
              ? 0
              : EMPTY_HOOK_W;
  const xs: number[] = [];
  let right = COL_GAP;
  stages.forEach((it, k) => {
    xs.push(right);
    const w = colW(it, k);
    if (w) right += w + COL_GAP;
  });
  // Verdicts judged among the stages are drawn there; only a hop with no stage lists them below.
  const inRow = stages.some((it) => it.kind === 'policy');
  const policyH = r.policies.length && !inRow ? 36 + r.policies.length * 34 : 0;
  const width = Math.max(320, right);
  // A bridged frame: the bridge's lane on top, the IP hooks br_netfilter ran under it.
  const laneTop = 10;
  const top = r.bridge ? laneTop + LANE_H + 26 : 26;
  // Only NetworkPolicy verdicts (no hook decided): no empty row of stages above them.
  const stagesH = stages.length ? top - 26 + Math.max(80, ...heights) + 40 : 12;
  const height = stagesH + policyH;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    class: 'rulepath',
    'aria-label': label,
  });
  root.append(svg('title', {}, label));
  const defs = svg('defs');
  defs.append(
    svg(
      'marker',
      { id: 'rp-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'rp-arrowhead' }),
    ),
  );
  root.append(defs);
  if (r.bridge) drawBridgeLane(root, r, xs, laneTop, top);
  let prevRight: number | undefined;
  for (const [k, it] of stages.entries()) {
    const x = xs[k];
    if (it.kind === 'bridge-hook' || it.kind === 'bridge-decision') {
      // Between bridge hooks the frame goes on along the bridge's lane, not along the row of IP hooks.
      prevRight = undefined;
      continue;
    }
    if (it.kind === 'policy') {
      const g = svg('g', { class: 'rp-policy-point', transform: `translate(${x} ${top})` });
      g.append(
        svg('rect', { width: POLICY_W, height: heights[k], rx: 6, class: 'rp-box' }),
        svg('text', { x: 10, y: 18, class: 'rp-hook' }, 'NetworkPolicy'),
        svg('text', { x: 10, y: 34, class: 'rp-small' }, "judged here: the filter table's first rule"),
      );
      it.steps.forEach((p, j) => {
        const text = policyText(p);
        const cls = p.verdict === 'denied' ? 'bad' : 'ok';
        const pill = svg('g', {
          class: `rp-verdict rp-policy-verdict ${cls}`,
          transform: `translate(10 ${HEAD_H + j * 34})`,
        });
        pill.append(
          svg('rect', { width: POLICY_W - 20, height: 26, rx: 13 }),
          svg('text', { x: 12, y: 17, class: `rp-policy ${cls}` }, clip(text, Math.floor((POLICY_W - 44) / 7))),
          svg('title', {}, text),
        );
        g.append(pill);
      });
      if (prevRight !== undefined) root.append(arrow(prevRight, top + 22, x, top + 22));
      root.append(g);
      prevRight = x + POLICY_W;
      continue;
    }
    if (it.kind === 'routing') {
      const cx = x + 35;
      const cy = top + 22;
      root.append(
        svg('path', {
          d: `M${cx},${cy - 18} L${cx + 30},${cy} L${cx},${cy + 18} L${cx - 30},${cy} z`,
          class: 'rp-routing',
        }),
        svg('text', { x: cx, y: cy + 34, 'text-anchor': 'middle', class: 'rp-small' }, 'routing'),
      );
      if (prevRight !== undefined) root.append(arrow(prevRight, cy, cx - 30, cy));
      prevRight = cx + 30;
      continue;
    }
    const s = it.stage;
    const g = svg('g', {
      class: 'rp-stage',
      transform: `translate(${x} ${top})`,
      'data-hook': s.hook,
      ...(s.family ? { 'data-family': s.family } : {}),
      'data-table': s.table,
      ...(s.bridged ? { 'data-bridged': 'true' } : {}),
    });
    const stageH = heights[k];
    g.append(svg('rect', { width: COL_W, height: stageH, rx: 6, class: 'rp-box' }));
    g.append(svg('text', { x: 10, y: 18, class: 'rp-hook' }, hookLabel(s.hook, s.family)));
    // iptables: the hook's tables in order, this one lit; nftables: the table and its base chain's priority.
    const tables = s.priority !== undefined ? [s.table] : (HOOK_TABLES[s.hook] ?? [s.table]);
    let tx = 10;
    if (s.priority !== undefined) {
      g.setAttribute('data-priority', String(s.priority));
      const label = `priority ${priorityText(s, s.priority)}`;
      g.append(svg('text', { x: COL_W - 10, y: 18, class: 'rp-priority', 'text-anchor': 'end' }, label));
    }
    for (const t of tables.includes(s.table) ? tables : [...tables, s.table]) {
      const on = t === s.table;
      const tt = svg('text', { x: tx, y: 34, class: on ? 'rp-table on' : 'rp-table' }, t);
      g.append(tt);
      tx += t.length * 7 + 10;
    }
    if (prevRight !== undefined) root.append(arrow(prevRight, top + 22, x, top + 22));
    let y = HEAD_H;
    s.visits.forEach((v, k) => {
      const chip = svg('g', {
        class: `rp-chain how-${v.how}`,
        transform: `translate(10 ${y})`,
        tabindex: 0,
        role: 'button',
        'data-chain': v.chain,
        'aria-label': `${v.how === 'entry' ? 'chain' : v.how === 'return' ? 'back in' : `${v.how} to`} ${v.chain}${v.probability !== undefined ? `, branch ${pct(v.probability)}` : ''}`,
      });
      chip.append(svg('rect', { width: COL_W - 20, height: 26, rx: 4 }));
      chip.append(
        svg(
          'text',
          { x: 8, y: 17, class: 'rp-chain-name' },
          clip(`${v.how === 'return' ? '↩ ' : ''}${v.chain}`, CHARS - (v.probability !== undefined ? 6 : 0)),
        ),
      );
      if (v.probability !== undefined)
        chip.append(svg('text', { x: COL_W - 28, y: 17, 'text-anchor': 'end', class: 'rp-prob' }, pct(v.probability)));
      chip.append(svg('title', {}, [v.chain, v.via ?? ''].filter(Boolean).join('\n')));
      chip.addEventListener('click', () => onRule(v.chain));
      chip.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') onRule(v.chain);
      });
      if (k > 0) g.append(arrow(24, y - ROW_H + 26, 24, y));
      g.append(chip);
      let ay = y + 26 + 13;
      for (const p of v.skipped) {
        g.append(svg('text', { x: 34, y: ay, class: 'rp-alt' }, `skipped a ${pct(1 - p)} branch`));
        ay += ALT_H;
      }
      for (const a of v.alternatives) {
        g.append(svg('text', { x: 34, y: ay, class: 'rp-alt' }, `not taken (${pct(a.probability)}):`));
        g.append(svg('text', { x: 44, y: ay + ALT_H, class: 'rp-alt rp-alt-chain' }, clip(a.target, CHARS)));
        ay += 2 * ALT_H;
      }
      if (v.effects.length) {
        g.append(svg('text', { x: 34, y: ay, class: 'rp-alt' }, clip(v.effects.join(', '), CHARS + 2)));
        ay += ALT_H;
      }
      y = ay - 13 + ROW_H - 26;
    });
    if (s.verdict) {
      const v = s.verdict;
      const pill = svg('g', { class: `rp-verdict ${verdictClass(v.verdict)}`, transform: `translate(10 ${y - 6})` });
      pill.append(svg('rect', { width: COL_W - 20, height: 26, rx: 13 }));
      pill.append(
        svg(
          'text',
          { x: (COL_W - 20) / 2, y: 17, 'text-anchor': 'middle' },
          `${v.policy ? `policy of ${clip(v.chain, 14)}: ` : ''}${v.verdict}`,
        ),
      );
      if (v.rule) pill.append(svg('title', {}, v.rule));
      g.append(pill);
      y += 34;
    }
    if (s.nat) {
      // Before and after, one endpoint a line, so IPv6 addresses fit too.
      const lines = [
        [`${ep(s.nat.before.src, s.nat.before.sport)} →`, ''],
        [`  ${ep(s.nat.before.dst, s.nat.before.dport)}`, ''],
        [`⇒ ${ep(s.nat.after.src, s.nat.after.sport)} →`, ' after'],
        [`  ${ep(s.nat.after.dst, s.nat.after.dport)}`, ' after'],
      ];
      lines.forEach(([text, cls], k) =>
        g.append(svg('text', { x: 10, y: y + 8 + k * 16, class: `rp-nat${cls}` }, clip(text, CHARS + 6))),
      );
    }
    root.append(g);
    prevRight = x + COL_W;
  }
  if (r.policies.length && !inRow) {
    // Each verdict a pill, as a hook's verdict: red when denied, green when allowed.
    let py = stagesH + 16;
    root.append(svg('text', { x: COL_GAP, y: py, class: 'rp-hook' }, 'NetworkPolicy'));
    py += 10;
    for (const p of r.policies) {
      const text = policyText(p);
      const w = Math.min(Math.max(COL_W - 20, text.length * 7 + 24), width - 2 * COL_GAP);
      const pill = svg('g', {
        class: `rp-verdict rp-policy-verdict ${p.verdict === 'denied' ? 'bad' : 'ok'}`,
        transform: `translate(${COL_GAP} ${py})`,
      });
      pill.append(
        svg('rect', { width: w, height: 26, rx: 13 }),
        svg(
          'text',
          { x: 12, y: 17, class: `rp-policy ${p.verdict === 'denied' ? 'bad' : 'ok'}` },
          clip(text, Math.floor((w - 24) / 7)),
        ),
        svg('title', {}, text),
      );
      root.append(pill);
      py += 34;
    }
  }
  return root;
}

/**
 * The lane of a bridged frame (br_netfilter): the bridge's PREROUTING, its forwarding decision, FORWARD and
 * POSTROUTING in the kernel's order, each hook above the IP hook's stages it ran (a dashed line down to them).
 */
function drawBridgeLane(root: SVGSVGElement, r: RulePath, xs: readonly number[], laneTop: number, top: number): void {
  const items = r.items;
  const laneIdx = items.flatMap((it, k) =>
    it.kind === 'bridge-hook' || it.kind === 'bridge-decision' || isBridgeChain(it) ? [k] : [],
  );
  if (!r.bridge || !laneIdx.length) return;
  /**
   * A lane item's extent: a hook spans the IP stages br_netfilter ran from it (or its own column), the decision its
   * column, a bridge family's chain the column of its stage.
   */
  const extent = (k: number): [number, number] => {
    const it = items[k];
    if (it.kind === 'bridge-decision') return [xs[k], xs[k] + DECISION_W];
    if (it.kind === 'stage') return [xs[k], xs[k] + COL_W];
    const under = itemsUnder(items, k);
    // (The last item under a hook is a stage: verdicts after its last stage belong to no stage of it.)
    return under.length ? [xs[under[0]], xs[under[under.length - 1]] + COL_W] : [xs[k], xs[k] + EMPTY_HOOK_W];
  };
  const [x1] = extent(laneIdx[0]);
  const [, x2] = extent(laneIdx[laneIdx.length - 1]);
  const lane = svg('g', {
    class: 'rp-bridge-lane',
    'data-bridge': r.bridge.name,
    role: 'group',
    'aria-label': `bridge ${r.bridge.name} with br_netfilter`,
  });
  lane.append(
    svg('rect', { x: x1 - 12, y: laneTop, width: x2 - x1 + 24, height: LANE_H, rx: 8, class: 'rp-lane' }),
    svg(
      'text',
      { x: x1 - 2, y: laneTop + 16, class: 'rp-lane-title' },
      clip(
        `bridge ${r.bridge.name}${r.bridge.inPort ? `, in by ${r.bridge.inPort}` : ''} · br_netfilter runs the IP hooks`,
        Math.max(30, Math.floor((x2 - x1) / 6.5)),
      ),
    ),
  );
  const boxY = laneTop + 26;
  const boxH = 42;
  let prev: number | undefined;
  for (const k of laneIdx) {
    const it = items[k];
    const [a, b] = extent(k);
    if (prev !== undefined) lane.append(arrow(prev, boxY + boxH / 2, a, boxY + boxH / 2));
    if (it.kind === 'bridge-decision') {
      const text = decisionText(it.decision);
      const head = it.decision.afterNat ? 'after DNAT' : it.decision.hairpin === 'on' ? 'hairpin' : 'bridge decision';
      const g = svg('g', {
        class: `rp-bridge-decision${it.decision.hairpin === 'off' ? ' bad' : ''}`,
        'data-kind': it.decision.kind,
        ...(it.decision.outPort ? { 'data-out': it.decision.outPort } : {}),
      });
      g.append(
        svg('rect', { x: a, y: boxY, width: b - a, height: boxH, rx: boxH / 2 }),
        svg('text', { x: (a + b) / 2, y: boxY + 17, 'text-anchor': 'middle', class: 'rp-small' }, head),
        svg('text', { x: (a + b) / 2, y: boxY + 33, 'text-anchor': 'middle' }, clip(decisionShort(it.decision), 28)),
        svg('title', {}, `bridge decision: ${text}`),
      );
      lane.append(g);
    } else if (it.kind === 'stage') {
      // The bridge family's own chain of this hook, run by the bridge itself (not by br_netfilter): a solid line down.
      const st = it.stage;
      const g = svg('g', { class: 'rp-bridge-chain', 'data-hook': st.hook, 'data-table': st.table });
      g.append(
        svg('rect', { x: a, y: boxY, width: b - a, height: boxH, rx: 6 }),
        svg('text', { x: a + 10, y: boxY + 17, class: 'rp-hook' }, `bridge ${st.hook}`),
        svg(
          'text',
          { x: a + 10, y: boxY + 33, class: 'rp-small' },
          clip(
            `chain of ${st.table}${st.priority !== undefined ? ` · priority ${priorityText(st, st.priority)}` : ''}`,
            CHARS,
          ),
        ),
        arrow(xs[k] + COL_W / 2, boxY + boxH, xs[k] + COL_W / 2, top),
      );
      lane.append(g);
    } else if (it.kind === 'bridge-hook') {
      const n = stagesUnder(items, k);
      const g = svg('g', { class: 'rp-bridge-hook', 'data-hook': it.hook });
      g.append(
        svg('rect', { x: a, y: boxY, width: b - a, height: boxH, rx: 6 }),
        svg('text', { x: a + 10, y: boxY + 17, class: 'rp-hook' }, `bridge ${it.hook}`),
        svg(
          'text',
          { x: a + 10, y: boxY + 33, class: 'rp-small' },
          n ? `br_netfilter → IP ${it.hook}` : `IP ${it.hook}: no rule decided`,
        ),
      );
      lane.append(g);
      // Down to each IP stage br_netfilter ran from this hook.
      for (const j of itemsUnder(items, k).filter((x) => items[x].kind === 'stage'))
        lane.append(
          svg('line', {
            x1: xs[j] + COL_W / 2,
            y1: boxY + boxH,
            x2: xs[j] + COL_W / 2,
            y2: top,
            class: 'rp-brnf',
            'marker-end': 'url(#rp-arrow)',
          }),
        );
    }
    prev = b;
  }
  root.append(lane);
}
