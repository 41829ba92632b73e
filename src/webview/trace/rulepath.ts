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
import type { Hop, NatStep, NatTuple, NetfilterStep, PolicyStep, TracePath } from '../../protocol/messages';
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

export interface RulePath {
  /** Stages in the kernel's order; `routing` marks the routing decision after PREROUTING. */
  readonly items: ({ readonly kind: 'stage'; readonly stage: Stage } | { readonly kind: 'routing' })[];
  readonly policies: readonly PolicyStep[];
  /** Crossed a bridge with br_netfilter: the hooks ran for a bridged frame. */
  readonly bridged: boolean;
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

/** The rule path of `hop`; `paths` are every path of the trace (for the branches this one did not take). */
export function rulePath(hop: Hop, paths: readonly TracePath[]): RulePath {
  const steps = netfilterOf(hop);
  // The same namespace and hook on the other paths: where their walks split from this one.
  const others = paths
    .flatMap((p) => [...p.hops, ...(p.reply?.hops ?? [])])
    .filter((h) => h !== hop && h.netns === hop.netns)
    .map(netfilterOf);
  const items: RulePath['items'][number][] = [];
  let i = 0;
  while (i < steps.length) {
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
    if (items.length && hook !== 'PREROUTING' && lastHook(items) === 'PREROUTING') items.push({ kind: 'routing' });
    items.push({
      kind: 'stage',
      stage: {
        hook,
        ...(family ? { family } : {}),
        table,
        ...(priority !== undefined ? { priority } : {}),
        visits,
        verdict,
        ...(nat ? { nat: { type: nat.type, before: nat.before, after: nat.after } } : {}),
      },
    });
  }
  return {
    items,
    policies: hop.steps.filter((s): s is PolicyStep => s.kind === 'policy'),
    bridged: hop.steps.some((s) => s.kind === 'bridge') && steps.length > 0,
  };
}

function lastHook(items: RulePath['items']): string | undefined {
  for (let k = items.length - 1; k >= 0; k--) {
    const it = items[k];
    if (it.kind === 'stage') return it.stage.hook;
  }
  return undefined;
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

/** An nftables base chain's priority as nft prints it (`dstnat - 10`, `filter`, or the number). */
const priorityText = (s: Stage, priority: number): string => nftPriorityText(s.hook.toLowerCase(), priority, s.family);
const ep = (a: string, p: number | null) => (p === null ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
const tuple = (t: NatTuple) => `${ep(t.src, t.sport)} → ${ep(t.dst, t.dport)}`;

/** The rule path as lines of text (Markdown export, screen readers): one line per stage. */
export function rulePathLines(r: RulePath): string[] {
  const lines: string[] = [];
  for (const it of r.items) {
    if (it.kind === 'routing') {
      lines.push('routing decision');
      continue;
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
  }
  for (const p of r.policies)
    lines.push(
      `NetworkPolicy ${p.direction} of ${p.pod}: ${p.verdict}${p.policy ? ` by ${p.policy}` : p.policies.length ? '' : ' (not isolated)'}`,
    );
  return lines;
}

// ---------------------------------------------------------------- drawing

const COL_W = 300;
const COL_GAP = 36;
const HEAD_H = 44;
const ROW_H = 46;
const ALT_H = 16;
const CHARS = 40;

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
    it.kind === 'routing'
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
  const policyH = r.policies.length ? 30 + r.policies.length * 20 : 0;
  const width = Math.max(
    320,
    stages.reduce((w, it) => w + (it.kind === 'routing' ? 70 : COL_W) + COL_GAP, COL_GAP),
  );
  const height = Math.max(80, ...heights) + 40 + policyH;
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
  if (r.bridged)
    root.append(
      svg('text', { x: COL_GAP, y: 16, class: 'rp-note' }, 'a bridged frame: the hooks run through br_netfilter'),
    );
  let x = COL_GAP;
  const top = 26;
  let prevRight: number | undefined;
  for (const it of stages) {
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
      if (prevRight !== undefined)
        root.append(
          svg('line', { x1: prevRight, y1: cy, x2: cx - 30, y2: cy, class: 'rp-link', 'marker-end': 'url(#rp-arrow)' }),
        );
      prevRight = cx + 30;
      x += 70 + COL_GAP;
      continue;
    }
    const s = it.stage;
    const g = svg('g', {
      class: 'rp-stage',
      transform: `translate(${x} ${top})`,
      'data-hook': s.hook,
      ...(s.family ? { 'data-family': s.family } : {}),
      'data-table': s.table,
    });
    const stageH = heights[stages.indexOf(it)];
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
    if (prevRight !== undefined)
      root.append(
        svg('line', {
          x1: prevRight,
          y1: top + 22,
          x2: x,
          y2: top + 22,
          class: 'rp-link',
          'marker-end': 'url(#rp-arrow)',
        }),
      );
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
      if (k > 0)
        g.append(
          svg('line', { x1: 24, y1: y - ROW_H + 26, x2: 24, y2: y, class: 'rp-link', 'marker-end': 'url(#rp-arrow)' }),
        );
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
    x += COL_W + COL_GAP;
  }
  if (r.policies.length) {
    let py = height - policyH + 16;
    root.append(svg('text', { x: COL_GAP, y: py, class: 'rp-hook' }, 'NetworkPolicy'));
    for (const p of r.policies) {
      py += 20;
      root.append(
        svg(
          'text',
          { x: COL_GAP, y: py, class: `rp-policy ${p.verdict === 'denied' ? 'bad' : 'ok'}` },
          `${p.direction} of ${p.pod}: ${p.verdict}${p.policy ? ` by ${p.policy}` : p.policies.length ? '' : ' (not isolated)'}`,
        ),
      );
    }
  }
  return root;
}
