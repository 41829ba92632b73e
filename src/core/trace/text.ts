/** A trace as a hop table a person reads at a glance (what `netpath trace --format text` prints). */
import type { Hop, TracePath, TraceResult } from './types';

const ep = (a: string, p: number | null): string => (p === null ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

function noteOf(h: Hop): string {
  const notes = h.steps
    .filter((s) => s.kind !== 'netfilter' || /: (DROP|REJECT|policy DROP)/.test(s.detail))
    .map((s) => s.detail);
  return notes.join('; ');
}

function pathLines(p: TracePath, title: string): string[] {
  const head = `${title}: ${p.disposition}${p.reason ? ` (${p.reason})` : ''}`;
  const rows = [['#', 'netns', 'device', 'dir', 'src', 'dst', 'ttl', 'what happened']];
  p.hops.forEach((h, i) =>
    rows.push([
      String(i + 1),
      h.netns,
      h.device,
      h.dir,
      ep(h.packet.src, h.packet.sport),
      ep(h.packet.dst, h.packet.dport),
      String(h.packet.ttl),
      noteOf(h),
    ]),
  );
  const out = [head, ...pad(rows).map((l) => `  ${l}`)];
  for (const n of p.nat)
    out.push(
      `  ${n.reverse ? `reverse ${n.type} (conntrack)` : n.type} in ${n.netns} (${n.chain}): ${ep(n.before.src, n.before.sport)} -> ${ep(n.before.dst, n.before.dport)}  =>  ${ep(n.after.src, n.after.sport)} -> ${ep(n.after.dst, n.after.dport)}`,
    );
  for (const n of p.notes ?? []) out.push(`  note: ${n}`);
  if (p.delivered)
    out.push(
      `  delivered to ${p.delivered.kind} ${p.delivered.name}${p.delivered.container ? ` container ${p.delivered.container}` : ''} at ${ep(p.delivered.ip, p.delivered.port)}; the receiver sees source ${p.sourceSeen}`,
    );
  return out;
}

export function formatTraceText(r: TraceResult): string {
  const f = r.flow;
  const lines = [
    `${f.proto} ${ep(f.src, f.sport)} -> ${ep(f.dst, f.dport)}: ${r.paths.length} path${r.paths.length === 1 ? '' : 's'}`,
  ];
  r.paths.forEach((p, i) => {
    lines.push('', ...pathLines(p, `path ${i + 1} (probability ${Math.round(p.probability * 1000) / 10}%)`));
    if (p.reply)
      lines.push('', ...pathLines({ ...p.reply, probability: 1 }, `  reply of path ${i + 1}`).map((l) => `  ${l}`));
  });
  return lines.join('\n') + '\n';
}
