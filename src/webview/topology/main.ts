/**
 * The topology view: the cluster as a graph laid out by elkjs in a Web Worker (layout.ts: the view stays
 * responsive while a big cluster is laid out), with collapsible groups, filters, search, pan and zoom. Draws only
 * what the host sends; every name is text.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { TopologySummary, TopologyViewState } from '../../protocol/messages';
import { expandTopology } from '../../protocol/topology';
import { clip, el, initialState, onHostMessage, pageElement, reveal, svg, vscode } from '../shared/host';
import { applyStyles } from '../shared/styles';
import {
  allGroups,
  buildGraph,
  groupsHolding,
  nodeId,
  nodesGroupId,
  plural,
  servicesGroupId,
  type ElementInfo,
  type Filters,
  type Graph,
  warmUpGraph,
} from './graph';
import { LayoutWorker } from './layout';

applyStyles();
const app = pageElement('app');
const layouts = new LayoutWorker();

/** Large clusters open with every node collapsed. */
const OPEN_ALL_UP_TO_PODS = 200;
/**
 * "Expand all" draws every pod; past this many it would be minutes of layout and a drawing nobody can read, so
 * the button is off and says to open groups or search instead.
 */
const EXPAND_ALL_UP_TO_PODS = 3000;
/** A search opens the groups and nodes of its matches when they are in at most this many nodes (or Services). */
const OPEN_MATCHES_IN = 5;

interface Ui {
  expanded: string[];
  filters: Filters;
  view: { x: number; y: number; k: number } | null;
}
type Saved = TopologyViewState & { readonly ui?: Ui };

let state: Saved | undefined;
let data: TopologySummary | undefined;
let ui: Ui | undefined;
let graph: Graph | undefined;
let layoutRun = 0;
let transform = { x: 0, y: 0, k: 1 };
/** Whether the person has panned or zoomed; until then the graph is fitted again when the panel resizes. */
let userMoved = false;

/**
 * Where the page's time went until its latest drawing, in ms of the page's clock (performance.now()): when the
 * host's message arrived, when it was checked and decoded, when the graph was built, laid out and drawn. Kept on
 * #graph-holder as `data-timings` for the editor bench (bench/topology-view.ts), which says where Show Topology's
 * time goes inside the webview.
 */
const timings: Record<string, number> = {};
// Registered before onHostMessage's listener: it runs first, before the message is checked.
window.addEventListener('message', () => {
  timings.received = performance.now();
});

const save = () => state && ui && vscode.setState({ ...state, ui: { ...ui, view: transform } });

// ---------------------------------------------------------------- controls

function toolbar(t: TopologySummary, u: Ui): HTMLElement {
  const namespaces = [...new Set([...t.pods.map((p) => p.namespace), ...t.services.map((s) => s.namespace)])].sort();
  const ns = el('vscode-single-select', { id: 'filter-namespace', 'aria-label': 'Show the namespace' });
  ns.append(el('vscode-option', { value: '', ...(u.filters.namespace ? {} : { selected: '' }) }, 'All namespaces'));
  for (const n of namespaces)
    ns.append(el('vscode-option', { value: n, ...(n === u.filters.namespace ? { selected: '' } : {}) }, n));
  ns.addEventListener('change', () => setFilters({ namespace: (ns as unknown as { value: string }).value }));
  const label = el('vscode-textfield', {
    id: 'filter-label',
    placeholder: 'label, e.g. app=web',
    value: u.filters.label,
    'aria-label': 'Show pods with the label (key or key=value)',
  });
  label.addEventListener('change', () => setFilters({ label: (label as unknown as { value: string }).value }));
  const search = el('vscode-textfield', {
    id: 'search',
    placeholder: 'search names and addresses',
    value: u.filters.search,
    'aria-label': 'Search names and addresses',
  });
  search.addEventListener('change', () => setFilters({ search: (search as unknown as { value: string }).value }));
  const b = (id: string, text: string, title: string, run: () => void) => {
    const x = el('vscode-button', { id, secondary: '', title, 'aria-label': title }, text);
    x.addEventListener('click', run);
    return x;
  };
  return el(
    'div',
    { class: 'topology-bar', role: 'toolbar', 'aria-label': 'Filters and view' },
    el('label', { class: 'control' }, el('span', { class: 'muted' }, 'Namespace'), ns),
    el('label', { class: 'control' }, el('span', { class: 'muted' }, 'Label'), label),
    el('label', { class: 'control' }, el('span', { class: 'muted' }, 'Search'), search),
    el(
      'div',
      { class: 'zoom' },
      expandAll(t, b),
      b('collapse-all', 'Collapse all', 'Close every node', () => setExpanded([])),
      b('zoom-in', '+', 'Zoom in (+)', () => zoomBy(1.25)),
      b('zoom-out', '−', 'Zoom out (-)', () => zoomBy(0.8)),
      b('zoom-fit', 'Fit', 'Fit the graph (0)', () => fit()),
    ),
  );
}

function expandAll(
  t: TopologySummary,
  b: (id: string, text: string, title: string, run: () => void) => HTMLElement,
): HTMLElement {
  const button = b('expand-all', 'Expand all', 'Open every node', () =>
    setExpanded([...allGroups(t.nodes.length, nodesGroupId), ...t.nodes.map((n) => nodeId(n.name))]),
  );
  if (t.pods.length > EXPAND_ALL_UP_TO_PODS) {
    button.setAttribute('disabled', '');
    const why = `${plural(t.pods.length, 'pod')} are too many to draw at once: open a group or a node, or search for a pod or node`;
    button.setAttribute('title', why);
    button.setAttribute('aria-label', why);
  }
  return button;
}

/**
 * What a search opens so its matches are drawn: the nodes holding matching pods with the groups around them, and
 * the groups around matching nodes and Services, when they are few (a search for "10." matches everything and
 * opens nothing; the groups holding matches are marked instead).
 */
function opensFor(t: TopologySummary, f: Filters): string[] {
  const q = f.search.trim().toLowerCase();
  if (!q) return [];
  const nodeIndex = new Map(t.nodes.map((n, i) => [n.name, i]));
  const open: string[] = [];
  const podNodes = new Set(
    t.pods
      .filter(
        (p) => (!f.namespace || p.namespace === f.namespace) && `${p.id} ${p.ips.join(' ')}`.toLowerCase().includes(q),
      )
      .map((p) => p.node),
  );
  if (podNodes.size && podNodes.size <= OPEN_MATCHES_IN)
    for (const name of podNodes) {
      const i = nodeIndex.get(name);
      if (i !== undefined) open.push(...groupsHolding(t.nodes.length, i, nodesGroupId));
      open.push(nodeId(name));
    }
  const nodes = t.nodes.flatMap((n, i) =>
    `${n.name} ${n.addresses.join(' ')} ${n.podCIDRs.join(' ')}`.toLowerCase().includes(q) ? [i] : [],
  );
  if (nodes.length <= OPEN_MATCHES_IN)
    for (const i of nodes) open.push(...groupsHolding(t.nodes.length, i, nodesGroupId));
  const services = t.services.filter((x) => !f.namespace || x.namespace === f.namespace);
  const found = services.flatMap((x, i) =>
    `${x.id} ${x.clusterIPs.join(' ')} ${x.ports.join(' ')}`.toLowerCase().includes(q) ? [i] : [],
  );
  if (found.length <= OPEN_MATCHES_IN)
    for (const i of found) open.push(...groupsHolding(services.length, i, servicesGroupId));
  return open;
}

function setFilters(f: Partial<Filters>): void {
  if (!ui) return;
  ui.filters = { ...ui.filters, ...f };
  // Searching opens what holds a match, when that stays a readable number of nodes and Services.
  if (f.search && data) ui.expanded = [...new Set([...ui.expanded, ...opensFor(data, ui.filters)])];
  void relayout(true);
}

function setExpanded(ids: string[]): void {
  if (!ui) return;
  ui.expanded = ids;
  void relayout(true);
}

function toggle(id: string): void {
  if (!ui) return;
  const isNs = id.startsWith('ns:');
  const k = isNs ? `closed:${id}` : id;
  ui.expanded = ui.expanded.includes(k) ? ui.expanded.filter((x) => x !== k) : [...ui.expanded, k];
  void relayout(false, id);
}

// ---------------------------------------------------------------- pan and zoom

function applyTransform(): void {
  document
    .getElementById('viewport')
    ?.setAttribute('transform', `translate(${transform.x} ${transform.y}) scale(${transform.k})`);
}

function zoomBy(f: number, cx?: number, cy?: number): void {
  userMoved = true;
  const holder = document.getElementById('graph-holder');
  if (!holder) return;
  const x = cx ?? holder.clientWidth / 2;
  const y = cy ?? holder.clientHeight / 2;
  const k = Math.max(0.05, Math.min(4, transform.k * f));
  transform = { k, x: x - ((x - transform.x) * k) / transform.k, y: y - ((y - transform.y) * k) / transform.k };
  applyTransform();
  save();
}

/**
 * Fits the graph to the panel, centred, never larger than 1.5×. A panel that has no size yet (the webview
 * is still being shown) is fitted when it gets one: the resize observer in render() calls this again.
 */
function fit(): void {
  const holder = document.getElementById('graph-holder');
  const g = graph?.elk;
  if (!holder || !g?.width || !g.height) return;
  userMoved = false;
  if (holder.clientWidth < 40 || holder.clientHeight < 40) return;
  const k = Math.min(1.5, (holder.clientWidth - 20) / g.width, (holder.clientHeight - 20) / g.height);
  transform = {
    k,
    x: (holder.clientWidth - g.width * k) / 2,
    y: Math.max(10, (holder.clientHeight - g.height * k) / 2),
  };
  applyTransform();
  save();
}

function centerOn(x: number, y: number): void {
  const holder = document.getElementById('graph-holder');
  if (!holder) return;
  transform = {
    ...transform,
    x: holder.clientWidth / 2 - x * transform.k,
    y: holder.clientHeight / 2 - y * transform.k,
  };
  applyTransform();
}

/** Below this scale the graph's 12px titles cannot be read. */
const READABLE_SCALE = 0.6;

/** An element's box in the graph's own coordinates (those of #viewport's content). */
function boxOf(id: string): DOMRect | undefined {
  const e = document.querySelector<SVGGraphicsElement>(`#graph .el[data-id="${CSS.escape(id)}"]`);
  const vp = document.getElementById('viewport') as unknown as SVGGraphicsElement | null;
  const b = e?.getBBox();
  const m = e?.getCTM();
  const v = vp?.getCTM();
  if (!b || !m || !v) return undefined;
  const local = v.inverse().multiply(m);
  const a = new DOMPoint(b.x, b.y).matrixTransform(local);
  const z = new DOMPoint(b.x + b.width, b.y + b.height).matrixTransform(local);
  return new DOMRect(a.x, a.y, z.x - a.x, z.y - a.y);
}

/** Whether `box` (graph coordinates) is wholly inside the panel as the graph is drawn now. */
function inView(box: DOMRect): boolean {
  const holder = document.getElementById('graph-holder');
  if (!holder) return false;
  const { x, y, k } = transform;
  return (
    box.x * k + x >= 0 &&
    box.y * k + y >= 0 &&
    (box.x + box.width) * k + x <= holder.clientWidth &&
    (box.y + box.height) * k + y <= holder.clientHeight
  );
}

/**
 * Shows `box` (graph coordinates): whole and centred, at most at 1:1; a box too big for that at a readable scale
 * (a node with many pods) is shown readable from its top-left corner, the rest a pan away.
 */
function zoomTo(box: DOMRect): void {
  const holder = document.getElementById('graph-holder');
  if (!holder || holder.clientWidth < 40 || holder.clientHeight < 40 || !box.width || !box.height) return;
  const fits = Math.min(1, (holder.clientWidth - 40) / box.width, (holder.clientHeight - 40) / box.height);
  const k = Math.max(READABLE_SCALE, fits);
  transform =
    k === fits
      ? {
          k,
          x: holder.clientWidth / 2 - (box.x + box.width / 2) * k,
          y: holder.clientHeight / 2 - (box.y + box.height / 2) * k,
        }
      : { k, x: 20 - box.x * k, y: 20 - box.y * k };
  userMoved = true;
  applyTransform();
}

function panZoom(holder: HTMLElement): void {
  let drag: { x: number; y: number; tx: number; ty: number } | undefined;
  holder.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = holder.getBoundingClientRect();
      zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - r.left, e.clientY - r.top);
    },
    { passive: false },
  );
  holder.addEventListener('pointerdown', (e) => {
    if ((e.target as Element).closest('.el, .toggle-g, #menu') || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, tx: transform.x, ty: transform.y };
    userMoved = true;
    holder.setPointerCapture(e.pointerId);
  });
  holder.addEventListener('pointermove', (e) => {
    if (!drag) return;
    transform = { ...transform, x: drag.tx + e.clientX - drag.x, y: drag.ty + e.clientY - drag.y };
    applyTransform();
  });
  holder.addEventListener('pointerup', () => {
    drag = undefined;
    save();
  });
  holder.addEventListener('keydown', (e) => {
    if (e.target !== holder) return;
    const step = 60;
    const moves: Record<string, () => void> = {
      '+': () => zoomBy(1.25),
      '=': () => zoomBy(1.25),
      '-': () => zoomBy(0.8),
      '0': () => fit(),
      ArrowLeft: () => ((transform.x += step), applyTransform()),
      ArrowRight: () => ((transform.x -= step), applyTransform()),
      ArrowUp: () => ((transform.y += step), applyTransform()),
      ArrowDown: () => ((transform.y -= step), applyTransform()),
    };
    const run = moves[e.key];
    if (run) {
      e.preventDefault();
      if (e.key !== '0') userMoved = true;
      run();
    }
  });
}

// ---------------------------------------------------------------- context menu

function closeMenu(): void {
  document.getElementById('menu')?.remove();
}

function openMenu(i: ElementInfo, x: number, y: number): void {
  closeMenu();
  if (!i.endpoint) return;
  const holder = pageElement('graph-holder');
  const item = (text: string, run: () => void) => {
    const b = el('button', { role: 'menuitem' }, text);
    b.addEventListener('click', () => {
      closeMenu();
      run();
    });
    return b;
  };
  const endpoint = i.endpoint;
  const menu = el(
    'div',
    { id: 'menu', class: 'menu', role: 'menu', 'aria-label': `Actions for ${i.label}` },
    ...(i.kind !== 'service'
      ? [item(`Trace from ${i.label}`, () => vscode.postMessage({ type: 'traceFrom', from: endpoint }))]
      : []),
    item(`Trace to ${i.label}`, () => vscode.postMessage({ type: 'traceFrom', to: endpoint })),
    ...(i.span ? [item('Show in the topology file', () => reveal(i.span))] : []),
  );
  const r = holder.getBoundingClientRect();
  menu.style.left = `${Math.min(x - r.left, r.width - 200)}px`;
  menu.style.top = `${y - r.top}px`;
  menu.addEventListener('keydown', (e) => {
    const items = [...menu.querySelectorAll('button')];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') {
      closeMenu();
      (document.querySelector(`[data-id="${CSS.escape(i.id)}"]`) as HTMLElement | null)?.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      items[(at + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus();
    }
  });
  holder.append(menu);
  menu.querySelector('button')?.focus();
}

// ---------------------------------------------------------------- drawing

function details(i: ElementInfo | undefined): void {
  const box = document.getElementById('details');
  if (!box) return;
  if (!i) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    el('h2', {}, i.label),
    el('p', { class: 'mono' }, i.sub),
    ...(i.problems.length
      ? [
          el(
            'ul',
            { class: 'problems', 'aria-label': 'Diagnostics' },
            ...i.problems.map((p) =>
              el('li', { class: p.severity === 'error' ? 'error' : '' }, `${p.severity} ${p.code}: ${p.message}`),
            ),
          ),
        ]
      : []),
  );
}

function drawElement(n: ElkNode, parent: SVGGElement, g: Graph, matches: ReadonlySet<string>): void {
  const i = g.info.get(n.id);
  if (!i) return;
  const x = n.x ?? 0;
  const y = n.y ?? 0;
  const w = n.width ?? 0;
  const h = n.height ?? 0;
  const group = svg('g', {
    class: `el ${i.kind}${matches.has(n.id) ? ' match' : ''}`,
    transform: `translate(${x} ${y})`,
    'data-id': n.id,
  });
  const shape = svg('g', {
    tabindex: 0,
    role: 'button',
    'aria-label': `${i.label}, ${i.sub}${i.problems.length ? `, ${i.problems.length} diagnostic${i.problems.length > 1 ? 's' : ''}` : ''}${i.collapsed ? ', collapsed' : ''}`,
    'data-id': n.id,
    class: 'shape',
  });
  shape.append(svg('rect', { width: w, height: h, rx: i.kind === 'bridge' || i.kind === 'network' ? h / 2 : 5 }));
  const chars = Math.floor((w - 20) / 7);
  const open = !!n.children?.length;
  shape.append(
    svg('text', { x: i.collapsible ? 28 : 10, y: 17, class: 'title' }, clip(i.label, chars - (i.collapsible ? 3 : 0))),
  );
  shape.append(
    svg('text', { x: i.collapsible ? 28 : 10, y: open ? 0 : 33, class: 'sub' }, open ? '' : clip(i.sub, chars)),
  );
  shape.append(
    svg('title', {}, [i.label, i.sub, ...i.problems.map((p) => `${p.severity} ${p.code}: ${p.message}`)].join('\n')),
  );
  if (i.problems.length) {
    const worst = ['error', 'warning', 'info', 'hint'].find((s) => i.problems.some((p) => p.severity === s)) ?? 'info';
    shape.append(
      svg('circle', { cx: w - 10, cy: 10, r: 8, class: `diag ${worst}` }),
      svg('text', { x: w - 10, y: 14, 'text-anchor': 'middle', class: 'diag-text' }, String(i.problems.length)),
    );
  }
  shape.addEventListener('click', (e) => {
    e.stopPropagation();
    details(i);
    reveal(i.span);
  });
  shape.addEventListener('contextmenu', (e) => {
    e.preventDefault();
    openMenu(i, e.clientX, e.clientY);
  });
  shape.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      details(i);
      reveal(i.span);
    } else if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
      e.preventDefault();
      const r = shape.getBoundingClientRect();
      openMenu(i, r.left + 10, r.bottom);
    } else if ((e.key === ' ' || e.key === '-' || e.key === '+') && i.collapsible) {
      e.preventDefault();
      toggle(n.id);
    }
  });
  group.append(shape);
  if (i.collapsible) {
    const t = svg('g', {
      class: 'toggle-g',
      role: 'button',
      tabindex: 0,
      'aria-label': `${i.collapsed ? 'Expand' : 'Collapse'} ${i.label}`,
      'aria-expanded': String(!i.collapsed),
      'data-toggle': n.id,
    });
    t.append(
      svg('rect', { x: 6, y: 5, width: 16, height: 16, rx: 3, class: 'toggle' }),
      svg('text', { x: 14, y: 17, 'text-anchor': 'middle', class: 'toggle-text' }, i.collapsed ? '+' : '−'),
    );
    t.addEventListener('click', (e) => {
      e.stopPropagation();
      toggle(n.id);
    });
    t.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        toggle(n.id);
      }
    });
    group.append(t);
  }
  parent.append(group);
  for (const c of n.children ?? []) drawElement(c, group, g, matches);
}

function drawEdge(e: ElkExtendedEdge, parent: SVGGElement, g: Graph): void {
  const cls = g.edgeClass.get(e.id) ?? 'plain';
  for (const s of e.sections ?? []) {
    const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${p.x},${p.y}`).join(' ');
    parent.append(svg('polyline', { points: pts, class: `edge ${cls}` }));
  }
  for (const l of e.labels ?? []) {
    if (l.x === undefined || l.y === undefined || !l.text) continue;
    parent.append(svg('text', { x: l.x, y: (l.y ?? 0) + 11, class: 'edge-label' }, l.text));
  }
}

/**
 * Resolves in a task of its own, after the browser has had the chance to draw and to take input: work split at it
 * never holds the view's thread for both parts together.
 */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function relayout(refit: boolean, focusId?: string): Promise<void> {
  if (!data || !ui) return;
  const run = ++layoutRun;
  // The graph is built in a task of its own, after the page is drawn (see the topology message's handler) and after a
  // control that changed the filters or opened a group has been redrawn.
  await nextTask();
  if (run !== layoutRun || !data || !ui) return;
  const started = performance.now();
  const g = buildGraph(data, new Set(ui.expanded), ui.filters);
  const built = performance.now();
  const status = document.getElementById('graph-status');
  const t0 = performance.now();
  // What is drawn stays on screen and interactive while the worker lays out the next graph; the status says
  // how long it has been running, so a big layout is visibly alive.
  const laying = `Laying out ${plural(g.info.size, 'element')} in the background`;
  status?.replaceChildren(`${laying}…`);
  status?.setAttribute('aria-busy', 'true');
  const ticker = setInterval(() => {
    if (run === layoutRun) status?.replaceChildren(`${laying}… ${Math.round((performance.now() - t0) / 1000)} s`);
  }, 1000);
  let laid: ElkNode | undefined;
  try {
    laid = await layouts.layout(g.elk);
  } catch (err) {
    if (run === layoutRun) {
      status?.replaceChildren(`The layout failed: ${err instanceof Error ? err.message : String(err)}`);
      status?.removeAttribute('aria-busy');
    }
    return;
  } finally {
    clearInterval(ticker);
  }
  if (!laid || run !== layoutRun) return;
  const laidOut = performance.now();
  status?.removeAttribute('aria-busy');
  graph = { ...g, elk: laid };
  const holder = document.getElementById('graph-holder');
  if (!holder) return;
  const matches = new Set(g.matches);
  const viewport = svg('g', { id: 'viewport' });
  const edgesLayer = svg('g', { class: 'edges' });
  const nodesLayer = svg('g', { class: 'nodes' });
  for (const c of laid.children ?? []) drawElement(c, nodesLayer, graph, matches);
  for (const e of laid.edges ?? []) drawEdge(e, edgesLayer, graph);
  viewport.append(nodesLayer, edgesLayer);
  const root = svg(
    'svg',
    { class: 'graph', id: 'graph', role: 'group', 'aria-label': `Topology graph of ${data.name}` },
    viewport,
  );
  holder.querySelector('svg')?.remove();
  holder.prepend(root);
  const ms = Math.round(performance.now() - t0);
  const shown = [...g.info.values()].filter((i) => i.kind === 'pod').length;
  const drawn =
    shown === g.counts.shown
      ? g.counts.shown === g.counts.pods
        ? `all ${plural(shown, 'pod')} drawn`
        : `${g.counts.shown} of ${plural(g.counts.pods, 'pod')} match, all drawn`
      : `${g.counts.shown} of ${plural(g.counts.pods, 'pod')} match; ${shown} drawn, ${g.counts.shown - shown} in collapsed groups`;
  const found = g.matches.length ? `; ${plural(g.matches.length, 'search match', 'search matches')}` : '';
  document.getElementById('graph-status')?.replaceChildren(`${drawn}${found} (laid out in ${ms} ms)`);
  holder.dataset.layoutMs = String(ms);
  if (refit || !userMoved) fit();
  else applyTransform();
  // What was just opened, closed or found is shown: zoomed to when the whole graph fitted in the panel is too small
  // to read (a node opened inside a big cluster) or it does not fit the view as it is; else a match is centred.
  const showId = g.matches.length && ui.filters.search ? g.matches[0] : focusId;
  const box = showId ? boxOf(showId) : undefined;
  if (box && (transform.k < READABLE_SCALE || !inView(box))) zoomTo(box);
  else if (box && g.matches.length && ui.filters.search) centerOn(box.x + box.width / 2, box.y + box.height / 2);
  if (focusId)
    holder.querySelector<SVGElement>(`[data-toggle="${CSS.escape(focusId)}"]`)?.focus({ preventScroll: true });
  Object.assign(timings, { started, built, laidOut, drawn: performance.now() });
  holder.dataset.timings = JSON.stringify(timings, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v));
  holder.dataset.ready = String(run);
  save();
}

function render(s: TopologyViewState, t: TopologySummary): void {
  state = { ...s, ui: ui ?? undefined };
  data = t;
  const current = (ui ??= {
    expanded: t.pods.length <= OPEN_ALL_UP_TO_PODS ? t.nodes.map((n) => nodeId(n.name)) : [],
    filters: { namespace: '', label: '', search: '' },
    view: null,
  });
  if (ui?.view) {
    transform = ui.view;
    userMoved = true;
  }
  const holder = el('div', {
    id: 'graph-holder',
    class: 'graph-holder',
    tabindex: '0',
    'aria-label':
      'Topology graph: drag or arrow keys to pan, wheel or +/- to zoom, 0 to fit; Tab to the elements, Enter shows one in the YAML, Shift+F10 for its actions',
  });
  panZoom(holder);
  holder.addEventListener('click', () => closeMenu());
  // Opens fitted, and stays fitted while the panel is resized, until the person pans or zooms.
  new ResizeObserver(() => {
    if (!userMoved) fit();
  }).observe(holder);
  app.replaceChildren(
    el('h1', { id: 'view-title' }, t.name),
    el(
      'p',
      { class: 'muted', id: 'summary' },
      [
        plural(t.nodes.length, 'node'),
        plural(t.pods.length, 'pod'),
        plural(t.services.length, 'Service'),
        plural(t.externals.length, 'external'),
        plural(t.diagnostics, 'diagnostic'),
      ].join(', '),
    ),
    toolbar(t, current),
    el('p', { class: 'muted', id: 'graph-status', 'aria-live': 'polite' }),
    holder,
    el('div', { id: 'details', class: 'details', 'aria-live': 'polite' }),
  );
  void relayout(!ui?.view);
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeMenu();
});

/**
 * The topologies and errors the host sent so far: a topology drawn tasks after it came is not drawn over a later one.
 */
let pagesSent = 0;

onHostMessage(
  (message) => {
    if (message.type === 'topology') {
      const seq = ++pagesSent;
      timings.checked = performance.now();
      // The message is checked in this task, decoded in the next, the page drawn in a third and the graph built in a
      // fourth (relayout): for 15,000 pods each takes 10-45 ms, and as one task they froze the view for 55-70 ms.
      void (async () => {
        await nextTask();
        if (seq !== pagesSent) return;
        const t = expandTopology(message.data);
        await nextTask();
        if (seq === pagesSent) render(message.state, t);
      })();
    } else if (message.type === 'error') {
      pagesSent++;
      app.replaceChildren(
        el('h1', { id: 'view-title' }, 'Topology'),
        el('p', { class: 'error', role: 'alert' }, message.message),
      );
    }
  },
  () => document.getElementById('graph-status')?.append(' (ignored a malformed message from the host)'),
);

const restored = initialState() as Saved | undefined;
if (restored?.view === 'topology') {
  state = restored;
  if (restored.ui) ui = { ...restored.ui, expanded: [...restored.ui.expanded] };
  vscode.setState(restored);
}
app.replaceChildren(el('p', { class: 'muted' }, 'Loading the topology…'));
timings.asked = performance.now();
vscode.postMessage({ type: 'ready' });
layouts.warm(warmUpGraph());
