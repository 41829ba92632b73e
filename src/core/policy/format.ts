/**
 * The reachability matrix as text (the terminal), Markdown and CSV (exports). The CLI and the matrix view
 * print the same data through these functions. Every string from the input is printed with control
 * characters replaced, and CSV fields are quoted.
 */
import type { ReachCell, ReachGroup, ReachMatrix } from './reach';

/** Replaces control characters (a hostile file could carry terminal escapes in a label). */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function groupName(g: ReachGroup): string {
  return printable(`${g.namespace}${g.labels.length ? ` ${g.labels.join(',')}` : ''}`);
}

function podList(g: ReachGroup, max = 3): string {
  const shown = g.pods.slice(0, max).map(printable).join(' ');
  return g.pods.length > max ? `${shown} +${g.pods.length - max} more` : shown;
}

/**
 * Why the blocked cells of one port are blocked, one line per side that blocks: "ingress at G4 (isolated by
 * ...) admits none of G1 G2", "egress at G6 (isolated by ...) allows none of G1".
 */
export function blockedSummary(m: ReachMatrix, cells: readonly ReachCell[]): string[] {
  const ingress = new Map<number, number[]>();
  const egress = new Map<number, number[]>();
  for (const c of cells) {
    if (!c.ingress) ingress.set(c.to, [...(ingress.get(c.to) ?? []), c.from]);
    if (!c.egress) egress.set(c.from, [...(egress.get(c.from) ?? []), c.to]);
  }
  const list = (xs: number[]): string => xs.map((x) => `G${x + 1}`).join(' ');
  return [
    ...[...egress].map(
      ([s, ds]) =>
        `egress of G${s + 1} (isolated by ${m.groups[s].egressPolicies.map(printable).join(', ')}): no rule allows ${list(ds)}`,
    ),
    ...[...ingress].map(
      ([d, ss]) =>
        `ingress of G${d + 1} (isolated by ${m.groups[d].ingressPolicies.map(printable).join(', ')}): no rule allows ${list(ss)}`,
    ),
  ];
}

/** Why a cell is blocked, in words: which side and which policies isolate it. */
export function blockedReason(m: ReachMatrix, c: ReachCell): string {
  const parts: string[] = [];
  if (!c.egress)
    parts.push(`egress isolated by ${m.groups[c.from].egressPolicies.map(printable).join(', ')} and no rule allows it`);
  if (!c.ingress)
    parts.push(`ingress isolated by ${m.groups[c.to].ingressPolicies.map(printable).join(', ')} and no rule allows it`);
  return parts.join('; ');
}

const portName = (m: ReachMatrix, k: number): string => `${m.ports[k].protocol}/${m.ports[k].port}`;

const indexes = new WeakMap<readonly ReachCell[], Map<string, ReachCell>>();

function cellsByPort(m: ReachMatrix): ReachCell[][] {
  const by: ReachCell[][] = m.ports.map(() => []);
  for (const c of m.cells) by[c.port].push(c);
  return by;
}

/** Whether the cell (s, d) of one port's cells is allowed, through an index built once per port. */
function allowedAt(cells: readonly ReachCell[], s: number, d: number): boolean {
  let at = indexes.get(cells);
  if (!at) indexes.set(cells, (at = new Map(cells.map((c) => [`${c.from}|${c.to}`, c]))));
  return at.get(`${s}|${d}`)?.allowed ?? false;
}

function summary(m: ReachMatrix): string {
  const used = new Set([...m.sources, ...m.destinations]);
  const pods = [...used].reduce((n, i) => n + m.groups[i].pods.length, 0);
  const blocked = m.cells.filter((c) => !c.allowed).length;
  return `${pods} pods in ${used.size} groups; ${m.sources.length} x ${m.destinations.length} group pairs on ${m.ports.length} port(s); ${blocked} of ${m.cells.length} cells blocked`;
}

export function formatReachText(m: ReachMatrix): string {
  const lines: string[] = [
    `NetworkPolicy reachability: ${summary(m)}`,
    '',
    'Groups (pods that every policy judges alike):',
  ];
  const used = [...new Set([...m.sources, ...m.destinations])].sort((a, b) => a - b);
  for (const i of used)
    lines.push(`  G${i + 1}  ${groupName(m.groups[i])}  (${m.groups[i].pods.length}: ${podList(m.groups[i])})`);
  for (const i of m.omitted.map((o) => o)) lines.push(`  not in the matrix: ${printable(i.pod)} (${i.why})`);
  cellsByPort(m).forEach((cells, k) => {
    lines.push('', `${portName(m, k)}  (x allowed, . blocked; rows: from, columns: to)`);
    if (m.destinations.length <= 40) {
      const w = Math.max(...m.sources.map((i) => `G${i + 1}`.length), 4);
      const cw = Math.max(...m.destinations.map((i) => `G${i + 1}`.length));
      lines.push(`  ${''.padEnd(w)}  ${m.destinations.map((i) => `G${i + 1}`.padStart(cw)).join(' ')}`);
      for (const s of m.sources) {
        const row = m.destinations.map((d) => {
          return (allowedAt(cells, s, d) ? 'x' : '.').padStart(cw);
        });
        lines.push(`  ${`G${s + 1}`.padEnd(w)}  ${row.join(' ')}`);
      }
    }
    const why = blockedSummary(m, cells);
    if (why.length) {
      lines.push('  blocked because:');
      for (const w of why) lines.push(`    ${w}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

const md = (text: string): string => printable(text).replace(/[\\|`*_[\]<>]/g, (c) => `\\${c}`);

export function formatReachMarkdown(m: ReachMatrix): string {
  const lines = [
    `# NetworkPolicy reachability`,
    '',
    summary(m),
    '',
    '| Group | Namespace | Labels | Pods |',
    '|---|---|---|---|',
  ];
  const used = [...new Set([...m.sources, ...m.destinations])].sort((a, b) => a - b);
  for (const i of used) {
    const g = m.groups[i];
    lines.push(`| G${i + 1} | ${md(g.namespace)} | ${md(g.labels.join(', '))} | ${md(g.pods.join(', '))} |`);
  }
  cellsByPort(m).forEach((cells, k) => {
    lines.push(
      '',
      `## ${portName(m, k)}`,
      '',
      `| from \\ to | ${m.destinations.map((d) => `G${d + 1}`).join(' | ')} |`,
    );
    lines.push(`|---|${m.destinations.map(() => ':-:').join('|')}|`);
    for (const s of m.sources) {
      const row = m.destinations.map((d) => (allowedAt(cells, s, d) ? 'allowed' : 'blocked'));
      lines.push(`| G${s + 1} | ${row.join(' | ')} |`);
    }
    const why = blockedSummary(m, cells);
    if (why.length) {
      lines.push('', 'Blocked because:', '');
      for (const w of why) lines.push(`- ${md(w)}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

const csv = (text: string): string => `"${printable(text).replace(/"/g, '""')}"`;

export const CSV_HEADER = [
  'from_namespace',
  'from_labels',
  'from_pods',
  'to_namespace',
  'to_labels',
  'to_pods',
  'protocol',
  'port',
  'verdict',
  'egress',
  'ingress',
  'egress_policies',
  'ingress_policies',
];

/** One row per cell; with `family` (a dual-stack cluster's matrix of one family), a last column says which. */
export function formatReachCsv(m: ReachMatrix, family?: 'IPv4' | 'IPv6'): string {
  const rows = [[...CSV_HEADER, ...(family ? ['family'] : [])].join(',')];
  for (const c of m.cells) {
    const s = m.groups[c.from];
    const d = m.groups[c.to];
    const p = m.ports[c.port];
    rows.push(
      [
        csv(s.namespace),
        csv(s.labels.join(' ')),
        csv(s.pods.join(' ')),
        csv(d.namespace),
        csv(d.labels.join(' ')),
        csv(d.pods.join(' ')),
        p.protocol,
        String(p.port),
        c.allowed ? 'allowed' : 'blocked',
        c.egress ? 'allowed' : 'blocked',
        c.ingress ? 'allowed' : 'blocked',
        csv(s.egressPolicies.join(' ')),
        csv(d.ingressPolicies.join(' ')),
        ...(family ? [family] : []),
      ].join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}
