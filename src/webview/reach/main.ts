/**
 * The reachability matrix view: which pod classes may open connections to which on one port, under the
 * cluster's NetworkPolicies. Rows are sources (pod classes, or namespaces that open into their classes),
 * columns destinations. The grid is virtual: only the cells in sight exist in the page, so a thousand classes
 * (15,000 pods) are a million cells the page never builds. A click explains a cell (the host answers with the
 * evaluator's verdict: deciding policies and rules, each revealable); a double-click or Enter traces the flow.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type {
  ReachExplain,
  ReachExplainSide,
  ReachFamily,
  ReachViewData,
  ReachViewGroup,
  ReachViewQuery,
  ReachViewState,
} from '../../protocol/messages';
import { clip, el, initialState, onHostMessage, pageElement, reveal, vscode } from '../shared/host';
import { applyStyles } from '../shared/styles';
import { aggregate, buildRows, cellAt, groupLabel, sanitizeFilters, shown, type Filters, type Row } from './model';

applyStyles();
const app = pageElement('app');

const CELL = 24;
const ROW_HEAD = 300;
const COL_HEAD = 140;

type Saved = ReachViewState & { readonly ui?: Filters };

let state: Saved | undefined;
let data: ReachViewData | undefined;
let filters: Filters = { fromNamespace: '', toNamespace: '', onlyBlocked: false, rows: 'groups', open: [] };
let rows: Row[] = [];
let columns: number[] = [];
/** The selected cell: a row index into `rows` and a column index into `columns`. */
let selected: { row: number; col: number } | undefined;
/** A double-click or Enter asked for the trace before the explanation arrived. */
let traceWhenExplained = false;
let explained: ReachExplain | undefined;

const save = () => state && vscode.setState({ ...state, ui: filters });
const value = (e: Element) => (e as unknown as { value: string }).value;

function send(query: ReachViewQuery): void {
  if (!state) return;
  state = { ...state, query };
  save();
  document.getElementById('reach-status')?.replaceChildren('Computing…');
  vscode.postMessage({ type: 'reachQuery', query });
}

// ---------------------------------------------------------------- controls

function select(id: string, label: string, options: [string, string][], current: string, change: (v: string) => void) {
  const s = el('vscode-single-select', { id, 'aria-label': label });
  for (const [v, text] of options)
    s.append(el('vscode-option', { value: v, ...(v === current ? { selected: '' } : {}) }, text));
  s.addEventListener('change', () => change(value(s)));
  return el('label', { class: 'control' }, el('span', { class: 'muted' }, label), s);
}

function textField(id: string, label: string, placeholder: string, current: string, change: (v: string) => void) {
  const f = el('vscode-textfield', { id, placeholder, value: current, 'aria-label': label });
  f.addEventListener('change', () => change(value(f).trim()));
  return el('label', { class: 'control' }, el('span', { class: 'muted' }, label), f);
}

function toolbar(s: Saved, d: ReachViewData): HTMLElement {
  const namespaces = [...new Set(d.groups.map((g) => g.namespace))].sort();
  const nsOptions: [string, string][] = [['', 'All namespaces'], ...namespaces.map((n): [string, string] => [n, n])];
  const ports: [string, string][] = d.ports.map((p) => [p, p]);
  if (s.query.port && !d.ports.includes(s.query.port)) ports.push([s.query.port, s.query.port]);
  const only = el('vscode-checkbox', {
    id: 'only-blocked',
    label: 'Only blocked',
    ...(filters.onlyBlocked ? { checked: '' } : {}),
  });
  only.addEventListener('change', () => setFilters({ onlyBlocked: (only as unknown as { checked: boolean }).checked }));
  const button = (id: string, text: string, title: string, run: () => void) => {
    const b = el('vscode-button', { id, secondary: '', title, 'aria-label': title }, text);
    b.addEventListener('click', run);
    return b;
  };
  const exportAs = (format: 'markdown' | 'csv') =>
    vscode.postMessage({
      type: 'exportReach',
      format,
      fromNamespace: filters.fromNamespace,
      toNamespace: filters.toNamespace,
      onlyBlocked: filters.onlyBlocked,
    });
  return el(
    'div',
    { class: 'controls reach-bar', role: 'toolbar', 'aria-label': 'Filters and export' },
    select('port', 'Port', ports, d.port ?? '', (v) => send({ ...s.query, port: v })),
    textField('other-port', 'Other port', 'TCP/9000', '', (v) => v && send({ ...s.query, port: v })),
    textField('from-selector', 'From pods', 'ns/prod or app=web', s.query.from, (v) => send({ ...s.query, from: v })),
    textField('to-selector', 'To pods', 'prod:tier in (db)', s.query.to, (v) => send({ ...s.query, to: v })),
    select('from-namespace', 'From namespace', nsOptions, filters.fromNamespace, (v) =>
      setFilters({ fromNamespace: v }),
    ),
    select('to-namespace', 'To namespace', nsOptions, filters.toNamespace, (v) => setFilters({ toNamespace: v })),
    select(
      'rows-by',
      'Rows',
      [
        ['groups', 'Pod classes'],
        ['namespaces', 'Namespaces'],
      ],
      filters.rows,
      (v) => setFilters({ rows: v === 'namespaces' ? 'namespaces' : 'groups', open: [] }),
    ),
    el('div', { class: 'control' }, only),
    el(
      'div',
      { class: 'exports' },
      button('export-markdown', 'Markdown', 'Copy the matrix as Markdown (with an offer to save it)', () =>
        exportAs('markdown'),
      ),
      button('export-csv', 'CSV', 'Save the matrix as CSV', () => exportAs('csv')),
    ),
  );
}

function setFilters(f: Partial<Filters>): void {
  filters = { ...filters, ...f };
  save();
  if (data) layoutGrid(data);
}

// ---------------------------------------------------------------- the grid

function status(d: ReachViewData): string {
  const pods = d.groups.reduce((n, g) => n + g.podCount, 0);
  const blocked = d.families.reduce((n, f) => n + [...f.cells].filter((c) => c !== 'a' && c !== 'n').length, 0);
  const cells = d.families.reduce((n, f) => n + [...f.cells].filter((c) => c !== 'n').length, 0);
  const from = (k: 'ipBlockPodIPs' | 'nodeTraffic') =>
    d.options.from[k] === 'topology'
      ? 'cluster.networkPolicy'
      : d.options.from[k] === 'setting'
        ? 'setting'
        : 'default';
  const choice = `ipBlock ${d.options.ipBlockPodIPs === 'match' ? 'matches' : 'ignores'} pod IPs (${from('ipBlockPodIPs')}), node traffic ${
    d.options.nodeTraffic === 'allow' ? 'always allowed' : 'judged by policy'
  } (${from('nodeTraffic')})`;
  return `${pods} pods in ${d.groups.length} classes on ${d.port ?? 'no port'}${
    d.families.length > 1 ? ` (${d.families.map((f) => f.family).join(' and ')})` : ''
  }: ${blocked} of ${cells} cells blocked. Plug-in choices: ${choice}.`;
}

function layoutGrid(d: ReachViewData): void {
  const view = shown(d, filters);
  columns = view.columns;
  rows = buildRows(d, view.rows, filters);
  selected = undefined;
  pending = undefined;
  const holder = pageElement('grid');
  const space = pageElement('grid-space');
  space.style.width = `${ROW_HEAD + columns.length * CELL}px`;
  space.style.height = `${COL_HEAD + rows.length * CELL}px`;
  document
    .getElementById('grid-count')
    ?.replaceChildren(
      `${rows.length} row${rows.length === 1 ? '' : 's'} × ${columns.length} column${columns.length === 1 ? '' : 's'} shown`,
    );
  holder.hidden = !rows.length || !columns.length;
  pageElement('grid-empty').hidden = !(d.port && (!rows.length || !columns.length));
  paint();
}

const familyMark = (f: ReachFamily) => (f === 'IPv4' ? '4' : '6');

/** The look of one cell: its class, symbol and words. */
function cellLook(d: ReachViewData, row: Row, col: number): { cls: string; text: string; words: string } {
  if (row.kind === 'namespace') {
    const a = aggregate(d, row.positions, col);
    const cls = a === 'all' ? 'allowed' : a === 'none' ? 'blocked' : a === 'some' ? 'partial' : 'empty';
    const text = a === 'all' ? '✓' : a === 'none' ? '✕' : a === 'some' ? '◐' : '';
    return { cls, text, words: a === 'all' ? 'all allowed' : a === 'none' ? 'all blocked' : 'some blocked' };
  }
  const chars = d.families.map((f) => ({ family: f.family, c: cellAt(d, f.cells, row.position, col) }));
  const present = chars.filter((x) => x.c !== 'n');
  if (!present.length) return { cls: 'empty', text: '', words: 'no address of a common family' };
  const word = (c: string) =>
    c === 'a'
      ? 'allowed'
      : c === 'e'
        ? 'blocked by egress'
        : c === 'i'
          ? 'blocked by ingress'
          : 'blocked by egress and ingress';
  if (present.every((x) => x.c === present[0].c)) {
    const c = present[0].c;
    return { cls: c === 'a' ? 'allowed' : 'blocked', text: c === 'a' ? '✓' : '✕', words: word(c) };
  }
  // The families differ: one half per family.
  return {
    cls: 'split',
    text: present.map((x) => `${familyMark(x.family)}${x.c === 'a' ? '✓' : '✕'}`).join(' '),
    words: present.map((x) => `${x.family} ${word(x.c)}`).join(', '),
  };
}

function paint(): void {
  const d = data;
  const holder = document.getElementById('grid');
  const layer = document.getElementById('grid-layer');
  if (!d || !holder || !layer) return;
  const x0 = holder.scrollLeft;
  const y0 = holder.scrollTop;
  const firstCol = Math.max(0, Math.floor(x0 / CELL));
  const lastCol = Math.min(columns.length, Math.ceil((x0 + holder.clientWidth - ROW_HEAD) / CELL) + 1);
  const firstRow = Math.max(0, Math.floor(y0 / CELL));
  const lastRow = Math.min(rows.length, Math.ceil((y0 + holder.clientHeight - COL_HEAD) / CELL) + 1);
  const out: HTMLElement[] = [];
  const place = (e: HTMLElement, left: number, top: number) => {
    e.style.left = `${left}px`;
    e.style.top = `${top}px`;
    return e;
  };
  for (let r = firstRow; r < lastRow; r++) {
    const row = rows[r];
    for (let c = firstCol; c < lastCol; c++) {
      const look = cellLook(d, row, columns[c]);
      const to = d.groups[d.destinations[columns[c]]];
      const isSel = selected?.row === r && selected.col === c;
      const cell = el(
        'div',
        {
          class: `cell ${look.cls}${isSel ? ' selected' : ''}`,
          role: 'gridcell',
          'data-row': String(r),
          'data-col': String(c),
          'aria-selected': String(isSel),
          title: `${row.label} → ${groupLabel(to)}: ${look.words}`,
        },
        look.text,
      );
      out.push(place(cell, ROW_HEAD + c * CELL, COL_HEAD + r * CELL));
    }
  }
  // Headers stay in sight: column titles at the top edge, row titles at the left edge of the scrolled area.
  for (let c = firstCol; c < lastCol; c++) {
    const g = d.groups[d.destinations[columns[c]]];
    const head = el(
      'div',
      { class: 'col-head', role: 'columnheader', title: groupTitle(g) },
      el('span', {}, clip(groupLabel(g), 20)),
    );
    out.push(place(head, ROW_HEAD + c * CELL, y0));
  }
  for (let r = firstRow; r < lastRow; r++) {
    const row = rows[r];
    const head = el(
      'div',
      {
        class: `row-head${row.kind === 'namespace' ? ' ns' : row.nested ? ' nested' : ''}`,
        role: 'rowheader',
        title: row.kind === 'namespace' ? `namespace ${row.label}` : groupTitle(d.groups[d.sources[row.position]]),
        ...(row.kind === 'namespace' ? { 'aria-expanded': String(filters.open.includes(row.label)) } : {}),
      },
      row.kind === 'namespace' ? `${filters.open.includes(row.label) ? '▾' : '▸'} ${row.label}` : clip(row.label, 40),
    );
    if (row.kind === 'namespace')
      head.addEventListener('click', () =>
        setFilters({
          open: filters.open.includes(row.label)
            ? filters.open.filter((n) => n !== row.label)
            : [...filters.open, row.label],
        }),
      );
    out.push(place(head, x0, COL_HEAD + r * CELL));
  }
  out.push(place(el('div', { class: 'corner' }, 'from ↓  to →'), x0, y0));
  layer.replaceChildren(...out);
}

function groupTitle(g: ReachViewGroup): string {
  const pods = `${g.pods.join(', ')}${g.podCount > g.pods.length ? ` and ${g.podCount - g.pods.length} more` : ''}`;
  return `${groupLabel(g)}\n${g.podCount} pod${g.podCount === 1 ? '' : 's'}: ${pods}\ningress isolated by: ${
    g.ingressPolicies.join(', ') || 'none'
  }\negress isolated by: ${g.egressPolicies.join(', ') || 'none'}`;
}

/** The source position and family a click on (row, col) asks about (a namespace row: its first blocked class). */
function cellQuery(r: number, c: number): { from: number; to: number; family: ReachFamily } | undefined {
  const d = data;
  const row = rows[r];
  if (!d || !row || columns[c] === undefined) return undefined;
  let position = row.kind === 'group' ? row.position : undefined;
  if (row.kind === 'namespace') {
    const blocked = row.positions.find((p) =>
      d.families.some((f) => !'an'.includes(cellAt(d, f.cells, p, columns[c]))),
    );
    position = blocked ?? row.positions[0];
  }
  const at = position;
  if (at === undefined) return undefined;
  // The family whose verdict is the odd one out (blocked) when the families differ.
  const fam =
    d.families.find((f) => !'an'.includes(cellAt(d, f.cells, at, columns[c]))) ??
    d.families.find((f) => cellAt(d, f.cells, at, columns[c]) !== 'n');
  if (!fam) return undefined;
  return { from: d.sources[at], to: d.destinations[columns[c]], family: fam.family };
}

/** Marks the selected cell without drawing the grid again (a double-click needs its first target to stay). */
function markSelected(): void {
  for (const e of document.querySelectorAll('#grid .cell.selected')) {
    e.classList.remove('selected');
    e.setAttribute('aria-selected', 'false');
  }
  if (!selected) return;
  const cell = document.querySelector(`#grid .cell[data-row="${selected.row}"][data-col="${selected.col}"]`);
  cell?.classList.add('selected');
  cell?.setAttribute('aria-selected', 'true');
}

/** The cell whose explanation was asked for and has not arrived. */
let pending: string | undefined;

function choose(r: number, c: number, trace: boolean): void {
  if (r < 0 || c < 0 || r >= rows.length || c >= columns.length) return;
  selected = { row: r, col: c };
  const q = cellQuery(r, c);
  markSelected();
  if (!q) return;
  if (explained && explained.from === q.from && explained.to === q.to && explained.family === q.family) {
    if (trace) vscode.postMessage({ type: 'retrace', request: explained.trace });
    return;
  }
  const key = `${q.from}|${q.to}|${q.family}`;
  if (pending === key) {
    traceWhenExplained ||= trace;
    return;
  }
  traceWhenExplained = trace;
  pending = key;
  explained = undefined;
  document.getElementById('explain')?.replaceChildren(el('p', { class: 'muted' }, 'Asking the policies…'));
  vscode.postMessage({ type: 'explainCell', ...q });
}

// ---------------------------------------------------------------- the explanation

const EXEMPT: Record<string, string> = {
  'not-a-pod': 'that end is no pod',
  'host-network': 'a hostNetwork pod: no policy selects it',
  'not-isolated': 'no policy selects the pod for this direction, so everything is allowed',
  'own-node': "traffic with the pod's own node is always allowed",
  'same-pod': 'a pod is never blocked from itself',
};

function sideBlock(s: ReachExplainSide): HTMLElement {
  const link = (text: string, span: { file: string; start: number; end: number }, id: string) => {
    const a = el('a', { class: 'link', href: '#', id, title: `Reveal in ${span.file}` }, text);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      reveal(span);
    });
    return a;
  };
  const where =
    s.direction === 'egress' ? `Egress at ${s.pod ?? 'the source'}` : `Ingress at ${s.pod ?? 'the destination'}`;
  const verdict = el(
    'span',
    { class: s.allowed ? 'verdict allowed' : 'verdict blocked' },
    s.allowed ? 'allowed' : 'blocked',
  );
  const parts: (Node | string)[] = [el('strong', {}, where), ': ', verdict];
  if (s.exempt) parts.push(` — ${EXEMPT[s.exempt] ?? s.exempt}.`);
  const list = el('ul', {});
  if (s.policies.length)
    list.append(
      el(
        'li',
        {},
        'Isolated by ',
        ...s.policies.flatMap((p, i) => [
          ...(i ? [', '] : []),
          link(p.id, p.span, `reveal-${s.direction}-policy-${i}`),
        ]),
      ),
    );
  if (s.allowedBy.length)
    list.append(
      el(
        'li',
        {},
        'Allowed by ',
        ...s.allowedBy.flatMap((r, i) => [
          ...(i ? [', '] : []),
          link(`${r.policy} ${s.direction}[${r.index}]`, r.span, `reveal-${s.direction}-rule-${i}`),
        ]),
      ),
    );
  else if (!s.allowed)
    list.append(el('li', {}, `No ${s.direction} rule of these policies matches this peer and port.`));
  return el('div', { class: `explain-side ${s.direction}` }, el('p', {}, ...parts), list);
}

function renderExplain(x: ReachExplain): void {
  explained = x;
  pending = undefined;
  const holder = document.getElementById('explain');
  if (!holder) return;
  const trace = el('vscode-button', { id: 'trace-cell', title: 'Open the trace of this flow' }, 'Trace this flow');
  trace.addEventListener('click', () => vscode.postMessage({ type: 'retrace', request: x.trace }));
  holder.replaceChildren(
    el(
      'h2',
      {},
      `${x.source} → ${x.destination} on ${x.port}`,
      data && data.families.length > 1 ? ` (${x.family})` : '',
      ': ',
      el('span', { class: x.allowed ? 'verdict allowed' : 'verdict blocked' }, x.allowed ? 'allowed' : 'blocked'),
    ),
    el('p', { class: 'muted mono' }, `${x.sourceIP} → ${x.destinationIP}`),
    sideBlock(x.egress),
    sideBlock(x.ingress),
    trace,
  );
  if (traceWhenExplained) {
    traceWhenExplained = false;
    vscode.postMessage({ type: 'retrace', request: x.trace });
  }
}

// ---------------------------------------------------------------- page

function render(s: ReachViewState, d: ReachViewData): void {
  const restoredUi = state?.ui;
  state = { ...s, ...(restoredUi ? { ui: restoredUi } : {}) };
  data = d;
  explained = undefined;
  save();
  const grid = el(
    'div',
    { id: 'grid', class: 'reach-grid', role: 'grid', tabindex: '0', 'aria-label': 'Reachability matrix' },
    el('div', { id: 'grid-space' }, el('div', { id: 'grid-layer' })),
  );
  app.replaceChildren(
    el('h1', { id: 'view-title' }, `NetworkPolicy reachability: ${d.topology}`),
    toolbar(state, d),
    el('p', { id: 'reach-status', class: 'status', role: 'status' }, status(d)),
    ...d.problems.map((p) => el('p', { class: 'error', role: 'alert' }, p)),
    el(
      'p',
      { class: 'muted legend' },
      el('span', { class: 'cell-sample allowed' }, '✓'),
      ' allowed  ',
      el('span', { class: 'cell-sample blocked' }, '✕'),
      ' blocked  ',
      el('span', { class: 'cell-sample partial' }, '◐'),
      ' some blocked  ',
      ...(d.families.length > 1 ? [el('span', { class: 'cell-sample split' }, '4✓ 6✕'), ' the families differ  '] : []),
      el('span', { id: 'grid-count' }),
    ),
    el('p', { id: 'grid-empty', class: 'muted', hidden: '' }, 'No cell is left by these filters.'),
    el('div', { class: 'reach-body' }, grid, el('div', { id: 'explain', class: 'explain', 'aria-live': 'polite' })),
    ...(d.omitted.length
      ? [
          el(
            'details',
            { class: 'muted' },
            el('summary', {}, `${d.omitted.length} pod(s) not in the matrix`),
            el('ul', {}, ...d.omitted.map((o) => el('li', {}, `${o.pod}: ${o.why}`))),
          ),
        ]
      : []),
  );
  pageElement('explain').append(
    el('p', { class: 'muted' }, 'Click a cell to see which policies decide it; double-click to trace it.'),
  );
  grid.addEventListener('scroll', () => requestAnimationFrame(paint));
  grid.addEventListener('click', (e) => {
    const cell = (e.target as Element).closest('.cell');
    if (cell) choose(Number(cell.getAttribute('data-row')), Number(cell.getAttribute('data-col')), false);
  });
  grid.addEventListener('dblclick', (e) => {
    const cell = (e.target as Element).closest('.cell');
    if (cell) choose(Number(cell.getAttribute('data-row')), Number(cell.getAttribute('data-col')), true);
  });
  grid.addEventListener('keydown', (e) => {
    const k = (e as KeyboardEvent).key;
    const at = selected ?? { row: 0, col: 0 };
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    if (moves[k]) {
      e.preventDefault();
      const r = Math.min(rows.length - 1, Math.max(0, at.row + moves[k][0]));
      const c = Math.min(columns.length - 1, Math.max(0, at.col + moves[k][1]));
      choose(r, c, false);
      scrollIntoView(r, c);
    } else if (k === 'Enter' && selected) choose(selected.row, selected.col, true);
  });
  new ResizeObserver(() => paint()).observe(grid);
  layoutGrid(d);
}

function scrollIntoView(r: number, c: number): void {
  const g = document.getElementById('grid');
  if (!g) return;
  const x = c * CELL;
  const y = r * CELL;
  if (x < g.scrollLeft) g.scrollLeft = x;
  else if (x + CELL > g.scrollLeft + g.clientWidth - ROW_HEAD) g.scrollLeft = x + CELL - (g.clientWidth - ROW_HEAD);
  if (y < g.scrollTop) g.scrollTop = y;
  else if (y + CELL > g.scrollTop + g.clientHeight - COL_HEAD) g.scrollTop = y + CELL - (g.clientHeight - COL_HEAD);
}

onHostMessage(
  (message) => {
    if (message.type === 'reach') render(message.state, message.data);
    else if (message.type === 'reachExplain') {
      const q = selected && cellQuery(selected.row, selected.col);
      // Only the answer for the cell still selected (a slow answer to an earlier click is dropped).
      if (q && q.from === message.explain.from && q.to === message.explain.to) renderExplain(message.explain);
    } else if (message.type === 'error')
      app.replaceChildren(
        el('h1', { id: 'view-title' }, 'NetworkPolicy reachability'),
        el('p', { class: 'error', role: 'alert' }, message.message),
      );
  },
  () => document.getElementById('reach-status')?.append(' (ignored a malformed message from the host)'),
);

const restored = initialState() as Saved | undefined;
if (restored?.view === 'reach') {
  state = restored;
  filters = { ...filters, ...sanitizeFilters(restored.ui) };
  vscode.setState(restored);
}
app.replaceChildren(el('p', { class: 'muted' }, 'Computing the reachability matrix…'));
vscode.postMessage({ type: 'ready' });
