/**
 * A trace as a hop table a person reads at a glance (what `netpath trace --format text` prints). It fits a
 * given width (the "what happened" column wraps, or moves under its row when the terminal is narrow),
 * colours with ANSI escapes when asked, and never prints an empty cell or the same words twice.
 */
import { hostPort } from '../net/address';
import { isBlocking, outerText, stepText } from './steps';
import { escapeDeep } from '../syntax/escape';
import type { Hop, NetfilterStep, TracePath, TraceResult } from './types';
import { hookLabel } from './types';

export interface TraceTextOptions {
  /** The terminal's width in columns; absent: lines are as long as they need to be (`--wide`, a pipe). */
  readonly width?: number;
  /** ANSI colours (the CLI asks only on a TTY without NO_COLOR). */
  readonly color?: boolean;
  /** Under each hop, the netfilter chain walk: hook and table, the chains jumped, branches skipped, the verdict. */
  readonly verbose?: boolean;
}

/** The narrowest "what happened" column worth wrapping into; narrower, the notes go under their row. */
const MIN_NOTE_WIDTH = 28;

type Paint = (s: string) => string;
interface Palette {
  readonly bold: Paint;
  readonly dim: Paint;
  readonly good: Paint;
  readonly bad: Paint;
  readonly nat: Paint;
}
const sgr =
  (open: number, close: number): Paint =>
  (s) =>
    s ? `\u001b[${open}m${s}\u001b[${close}m` : s;
const PLAIN: Palette = { bold: (s) => s, dim: (s) => s, good: (s) => s, bad: (s) => s, nat: (s) => s };
const ANSI: Palette = { bold: sgr(1, 22), dim: sgr(2, 22), good: sgr(32, 39), bad: sgr(31, 39), nat: sgr(33, 39) };

/** What happened on a hop, one sentence per step: every step but the netfilter walk, of which only a DROP or REJECT. */
function notesOf(h: Hop): string[] {
  const steps = h.steps.filter((s) => s.kind !== 'netfilter' || isBlocking(s)).map(stepText);
  return h.outer ? [`in the tunnel: ${outerText(h.outer)}`, ...steps] : steps;
}

/**
 * The hop's note without repeats (a sentence another sentence of the note already contains, as the route
 * step's "no route to X" inside the drop's "no route to X in node1"), and never empty: a hop whose steps
 * say nothing (a frame arriving on a bridge port) says where the packet goes on.
 */
function cellOf(h: Hop, next: Hop | undefined): string {
  const parts = notesOf(h).filter((p) => p.trim());
  const kept = parts.filter((p, i) => !parts.some((q, j) => j !== i && q.includes(p) && (q !== p || j < i)));
  if (kept.length) return kept.join('; ');
  if (next && next.netns === h.netns) return `received; on to ${next.device} in the same namespace`;
  if (next) return `received; on to ${next.netns} ${next.device}`;
  return h.dir === 'in' ? 'received' : 'sent';
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

/**
 * The hop's netfilter walk, one line per hook and table, e.g. `PREROUTING nat: PREROUTING → KUBE-SERVICES →
 * KUBE-SVC-… (skips a 50% branch) → KUBE-SEP-…: DNAT; this branch 50%`.
 */
export function chainWalk(h: Hop): string[] {
  const lines: string[] = [];
  let group: NetfilterStep[] = [];
  const flush = () => {
    if (!group.length) return;
    const first = group[0];
    let text = `${hookLabel(first.hook, first.family)} ${first.table}: ${first.chain}`;
    let branch = 1;
    let statistic = false;
    let current = first.chain;
    for (const s of group) {
      // Back in a calling chain: the called one ended (or returned) without a verdict.
      if (s.chain !== current) text += ` ↩ ${s.chain}`;
      current = s.chain;
      if (s.verdict === 'jump' || s.verdict === 'goto') {
        current = s.target ?? '';
        text += ` → ${s.target ?? '?'}`;
        if (s.probability !== undefined) {
          text += ` (${pct(s.probability)})`;
          branch *= s.probability;
          statistic = true;
        }
      } else if (s.verdict === 'not-chosen') {
        text += ` (skips a ${pct(1 - (s.probability ?? 0))} branch)`;
        branch *= s.probability ?? 1;
        statistic = true;
      } else if (s.verdict === 'RETURN') current = '';
      else if (s.verdict === 'skipped') text += ' (not the first packet of its connection: nat skipped)';
      else if (s.verdict === 'none') continue;
      else text += `: ${s.policy ? `policy ${s.verdict}` : s.verdict}`;
    }
    if (statistic) text += `; this branch ${pct(branch)}`;
    lines.push(text);
    group = [];
  };
  for (const s of h.steps) {
    if (s.kind !== 'netfilter') continue;
    if (group.length && (group[0].hook !== s.hook || group[0].family !== s.family || group[0].table !== s.table))
      flush();
    group.push(s);
  }
  flush();
  return lines;
}

/** Splits `text` into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
  if (width < 1 || text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let w = word;
    while (w.length > width) {
      if (line) {
        lines.push(line);
        line = '';
      }
      lines.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= width) line += ' ' + w;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line || !lines.length) lines.push(line);
  return lines.map((l) => l.trimEnd());
}

/** A line wrapped to `width` with every continuation indented by `hang` spaces more than `indent`. */
function wrapped(text: string, indent: string, width: number | undefined, hang = 4, paint: Paint = (x) => x): string[] {
  if (width === undefined) return [indent + paint(text)];
  const room = Math.max(20, width - indent.length);
  const [first, ...rest] = wrapText(text, room);
  const cont = rest.join(' ');
  return [
    indent + paint(first),
    ...(cont ? wrapText(cont, Math.max(16, room - hang)).map((l) => indent + ' '.repeat(hang) + paint(l)) : []),
  ];
}

function pathLines(p: TracePath, title: string, indent: string, o: TraceTextOptions, c: Palette): string[] {
  const state = p.disposition === 'delivered' ? c.good(p.disposition) : c.bad(p.disposition);
  const reason = p.reason && p.reason !== p.disposition ? ` (${p.reason})` : '';
  const out = [`${indent}${c.bold(title)}: ${state}${reason}`];
  const inner = indent + '  ';
  const header = ['#', 'netns', 'device', 'dir', 'src', 'dst', 'ttl'];
  const rows = p.hops.map((h, i) => [
    String(i + 1),
    h.netns,
    h.device,
    h.dir,
    hostPort(h.packet.src, h.packet.sport),
    hostPort(h.packet.dst, h.packet.dport),
    String(h.packet.ttl),
  ]);
  const notes = p.hops.map((h, i) => cellOf(h, p.hops[i + 1]));
  const widths = header.map((_, i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
  const fixed = widths.reduce((a, b) => a + b + 2, 0);
  const noteRoom = o.width === undefined ? Infinity : o.width - inner.length - fixed;
  const beside = noteRoom >= MIN_NOTE_WIDTH;
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  // Narrower than the table's own columns: each hop stacked, where, then addresses, then what happened.
  const stacked = o.width !== undefined && inner.length + line(header).trimEnd().length > o.width;
  if (p.origin && !p.hops.length) {
    // It never reached a device (its sender's OUTPUT dropped it): what happened there instead of an empty table.
    out.push(...wrapped(`in ${p.origin.netns}, before any device:`, inner, o.width));
    for (const s of p.origin.steps) out.push(...wrapped(stepText(s), inner + '  ', o.width, 2));
  } else if (!stacked) out.push(inner + c.dim(beside ? `${line(header)}  what happened` : line(header).trimEnd()));
  const walkIndent = inner + ' '.repeat(widths[0] + 2);
  const walks = (i: number) =>
    o.verbose ? chainWalk(p.hops[i]).flatMap((w) => wrapped(w, walkIndent, o.width, 2, c.dim)) : [];
  rows.forEach((r, i) => {
    if (stacked) {
      const [n, netns, device, dir, src, dst, ttl] = r;
      const hang = inner + ' '.repeat(n.length + 2);
      out.push(...wrapped(`${n}  ${netns} ${device} ${dir}, ttl ${ttl}`, inner, o.width, n.length + 2));
      out.push(...wrapped(`${src} -> ${dst}`, hang, o.width, 2));
      out.push(...wrapped(notes[i], hang, o.width, 2));
    } else if (beside) {
      const [first, ...rest] = noteRoom === Infinity ? [notes[i]] : wrapText(notes[i], noteRoom);
      out.push(inner + `${line(r)}  ${first}`);
      for (const more of rest) out.push(inner + ' '.repeat(fixed) + more);
    } else {
      out.push(inner + line(r).trimEnd());
      out.push(...wrapped(notes[i], inner + ' '.repeat(widths[0] + 2), o.width, 2));
    }
    out.push(...walks(i));
  });
  for (const n of p.nat) {
    const what = `${n.reverse ? `reverse ${n.type} (conntrack)` : n.type} in ${n.netns} (${n.chain}): ${hostPort(n.before.src, n.before.sport)} -> ${hostPort(n.before.dst, n.before.dport)}  =>  ${hostPort(n.after.src, n.after.sport)} -> ${hostPort(n.after.dst, n.after.dport)}`;
    out.push(...wrapped(what, inner, o.width, 4, c.nat));
  }
  for (const n of p.notes ?? []) out.push(...wrapped(`note: ${n}`, inner, o.width));
  if (p.delivered)
    out.push(
      ...wrapped(
        `delivered to ${p.delivered.kind} ${p.delivered.name}${p.delivered.container ? ` container ${p.delivered.container}` : ''} at ${hostPort(p.delivered.ip, p.delivered.port)}; the receiver sees source ${p.sourceSeen}`,
        inner,
        o.width,
      ),
    );
  return out;
}

export function formatTraceText(trace: TraceResult, options: TraceTextOptions = {}): string {
  // Names come from the repository: no control character of theirs reaches the terminal, each line stays one line.
  const r = escapeDeep(trace);
  const c = options.color ? ANSI : PLAIN;
  const f = r.flow;
  const lines = wrapped(
    `${f.proto} ${hostPort(f.src, f.sport)} -> ${hostPort(f.dst, f.dport)}${f.size !== undefined ? ` (${f.size} bytes, DF)` : ''}: ${r.paths.length} path${r.paths.length === 1 ? '' : 's'}`,
    '',
    options.width,
    4,
    c.bold,
  );
  if (r.notFollowed)
    lines.push(
      ...wrapped(
        `warning: more random choices than ${r.notFollowed.limit} paths hold; each later choice followed only its likeliest side, and ${Math.round(r.notFollowed.probability * 1000) / 10}% of the probability was not followed (trace.too-many-branches)`,
        '',
        options.width,
      ),
    );
  r.paths.forEach((p, i) => {
    lines.push(
      '',
      ...pathLines(p, `path ${i + 1} (probability ${Math.round(p.probability * 1000) / 10}%)`, '', options, c),
    );
    if (p.reply)
      lines.push('', ...pathLines({ ...p.reply, probability: 1 }, `reply of path ${i + 1}`, '    ', options, c));
  });
  return lines.join('\n') + '\n';
}
