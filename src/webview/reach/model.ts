/** The matrix view's rows: pod classes, or namespaces that open into their classes. No DOM here. */
import type { ReachViewData } from '../../protocol/messages';
import { aggregate, cellAt, groupLabel, shownRowsAndColumns, type ReachShownFilter } from '../../protocol/reach';

export { aggregate, cellAt, groupLabel };

export interface Filters extends ReachShownFilter {
  readonly rows: 'groups' | 'namespaces';
  /** Namespaces opened into their classes (rows by namespace). */
  readonly open: readonly string[];
}

export type Row =
  | { readonly kind: 'group'; readonly position: number; readonly label: string; readonly nested: boolean }
  | { readonly kind: 'namespace'; readonly positions: readonly number[]; readonly label: string };

export const shown = shownRowsAndColumns;

/** Restored UI state is whatever was stored: keep only well-formed fields. */
export function sanitizeFilters(v: unknown): Partial<Filters> {
  if (typeof v !== 'object' || v === null) return {};
  const r = v as Record<string, unknown>;
  return {
    ...(typeof r.fromNamespace === 'string' ? { fromNamespace: r.fromNamespace } : {}),
    ...(typeof r.toNamespace === 'string' ? { toNamespace: r.toNamespace } : {}),
    ...(typeof r.onlyBlocked === 'boolean' ? { onlyBlocked: r.onlyBlocked } : {}),
    ...(r.rows === 'groups' || r.rows === 'namespaces' ? { rows: r.rows } : {}),
    ...(Array.isArray(r.open) ? { open: r.open.filter((x): x is string => typeof x === 'string') } : {}),
  };
}

export function buildRows(d: ReachViewData, positions: readonly number[], f: Filters): Row[] {
  const label = (i: number) => groupLabel(d.groups[d.sources[i]]);
  if (f.rows === 'groups')
    return positions.map((position) => ({ kind: 'group', position, label: label(position), nested: false }));
  const byNs = new Map<string, number[]>();
  for (const i of positions) {
    const ns = d.groups[d.sources[i]].namespace;
    const list = byNs.get(ns);
    if (list) list.push(i);
    else byNs.set(ns, [i]);
  }
  const rows: Row[] = [];
  for (const [ns, list] of [...byNs].sort((a, b) => a[0].localeCompare(b[0]))) {
    rows.push({ kind: 'namespace', positions: list, label: ns });
    if (f.open.includes(ns))
      for (const position of list) rows.push({ kind: 'group', position, label: label(position), nested: true });
  }
  return rows;
}
