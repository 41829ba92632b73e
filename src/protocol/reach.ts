/**
 * Reading the matrix view's message (ReachViewData), on both sides: the webview draws with these functions and
 * the host exports with them, so what is exported is what is shown.
 */
import type { ReachViewData, ReachViewGroup } from './messages';

/** The filters the view applies itself (the selectors and the port are the host's). */
export interface ReachShownFilter {
  readonly fromNamespace: string;
  readonly toNamespace: string;
  readonly onlyBlocked: boolean;
}

/** The cell of the row at `i` (into sources) and the column at `j` (into destinations), one family's string. */
export const cellAt = (d: ReachViewData, cells: string, i: number, j: number): string =>
  cells[i * d.destinations.length + j] ?? 'n';

const isBlocked = (c: string) => c === 'e' || c === 'i' || c === 'b';

/**
 * Which rows (positions in `sources`) and columns (positions in `destinations`) the filters leave: the
 * namespaces, then with `onlyBlocked` only rows and columns that hold a blocked cell of some family.
 * Linear in the cells, once per filter change.
 */
export function shownRowsAndColumns(d: ReachViewData, f: ReachShownFilter): { rows: number[]; columns: number[] } {
  let rows = d.sources.flatMap((s, i) => (!f.fromNamespace || d.groups[s].namespace === f.fromNamespace ? [i] : []));
  let columns = d.destinations.flatMap((t, j) =>
    !f.toNamespace || d.groups[t].namespace === f.toNamespace ? [j] : [],
  );
  if (f.onlyBlocked) {
    const rowHit = new Uint8Array(d.sources.length);
    const colHit = new Uint8Array(d.destinations.length);
    const colOk = new Uint8Array(d.destinations.length);
    for (const j of columns) colOk[j] = 1;
    for (const i of rows)
      for (const fam of d.families)
        for (let j = 0; j < d.destinations.length; j++)
          if (colOk[j] && isBlocked(cellAt(d, fam.cells, i, j))) {
            rowHit[i] = 1;
            colHit[j] = 1;
          }
    rows = rows.filter((i) => rowHit[i]);
    columns = columns.filter((j) => colHit[j]);
  }
  return { rows, columns };
}

/** Whether the rows at `positions` may all, some or none reach the column (over every family that has cells). */
export function aggregate(
  d: ReachViewData,
  positions: readonly number[],
  j: number,
): 'all' | 'some' | 'none' | 'empty' {
  let allowed = 0;
  let blocked = 0;
  for (const i of positions)
    for (const f of d.families) {
      const c = cellAt(d, f.cells, i, j);
      if (c === 'a') allowed++;
      else if (c !== 'n') blocked++;
    }
  if (!allowed && !blocked) return 'empty';
  return !blocked ? 'all' : !allowed ? 'none' : 'some';
}

/** A class's name: its namespace and the labels some selector reads. */
export const groupLabel = (g: ReachViewGroup): string =>
  `${g.namespace}${g.labels.length ? ` ${g.labels.join(',')}` : g.podCount === 1 && g.pods[0] ? ` ${g.pods[0].split('/')[1] ?? ''}` : ''}`;
