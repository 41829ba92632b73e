/**
 * The trace view: the packet's way through namespaces, devices and rules, hop by hop. Draws only what the
 * host sends (the tracer's JSON plus where each namespace sits); asks the host to re-trace, reveal and export.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type {
  Hop,
  NatStep,
  NatTuple,
  NetfilterStep,
  PolicyStep,
  Step,
  TraceProtocol,
  TraceRequest,
  TraceViewData,
  TraceViewState,
  VerifyViewState,
} from '../../protocol/messages';
import { isVerifyReportData } from '../../protocol/validate';
import { el, initialState, onHostMessage, pageElement, reveal, svg as svgEl, vscode } from '../shared/host';
import { applyStyles } from '../shared/styles';
import { outerText, stepText } from '../../core/trace/steps';
import { splitBracketedHostPort } from '../../core/net/address';
import { draw, layout, type Layout } from './diagram';
import { bridgeOfPort, drawRulePath, hasRulePath, hopMark, rulePath, rulePathLines } from './rulepath';
import { renderVerify } from './verify';
import {
  describeWalk,
  dispositionLabel,
  hostPort,
  markdown,
  mattered,
  natOf,
  percent,
  tupleText,
  type Walk,
} from './words';

applyStyles();
const app = pageElement('app');

/** What the page remembers across hide/show and reloads, beside the host's view state. */
interface Ui {
  path: number;
  hop: number;
  reply: boolean;
}
type Saved = TraceViewState & { readonly ui?: Ui };

let state: Saved | undefined;
let data: TraceViewData | undefined;
let ui: Ui = { path: 0, hop: 0, reply: false };
let diagramLayout: Layout | undefined;

const save = () => state && vscode.setState({ ...state, ui });
const currentWalk = (): Walk | undefined => {
  const p = data?.result?.paths[ui.path];
  return p && (ui.reply && p.reply ? p.reply : p);
};

// ---------------------------------------------------------------- controls

/** `svc/default/web:http` -> base `svc/default/web`, port `http`; IPv6 as `[fd00::1]:80`. */
export function splitPort(to: string): { base: string; port: string } {
  const v6 = splitBracketedHostPort(to);
  if (v6) return { base: `[${v6.host}]`, port: v6.port ?? '' };
  const colon = to.lastIndexOf(':');
  if (colon < 0 || colon < to.lastIndexOf('/') || (!to.includes('/') && to.indexOf(':') !== colon))
    return { base: to, port: '' };
  return { base: to.slice(0, colon), port: to.slice(colon + 1) };
}

function select(
  id: string,
  label: string,
  value: string,
  options: readonly { endpoint: string; label: string; description: string }[],
): HTMLElement {
  const s = el('vscode-single-select', { id, combobox: '', creatable: '', 'aria-label': label });
  const seen = new Set<string>();
  for (const o of [...options, { endpoint: value, label: value, description: '' }]) {
    if (seen.has(o.endpoint)) continue;
    seen.add(o.endpoint);
    s.append(
      el(
        'vscode-option',
        { value: o.endpoint, description: o.description, ...(o.endpoint === value ? { selected: '' } : {}) },
        o.endpoint,
      ),
    );
  }
  return s;
}

const valueOf = (id: string) =>
  ((document.getElementById(id) as unknown as { value?: string } | null)?.value ?? '').trim();

function requestFromControls(): TraceRequest | undefined {
  if (!state) return undefined;
  const from = valueOf('source') || state.request.from;
  const dest = splitPort(valueOf('destination') || state.request.to);
  const port = valueOf('port');
  const proto = (valueOf('proto') || state.request.proto) as TraceProtocol;
  const reply =
    (document.getElementById('reply') as unknown as { checked?: boolean } | null)?.checked ?? !!state.request.reply;
  return { from, to: port ? `${dest.base}:${port}` : dest.base, proto, reply };
}

function retrace(request: TraceRequest | undefined): void {
  if (!request) return;
  document.getElementById('status')?.replaceChildren('Tracing…');
  vscode.postMessage({ type: 'retrace', request });
}

function controls(s: TraceViewState, d: TraceViewData): HTMLElement {
  const { base, port } = splitPort(s.request.to);
  const proto = el('vscode-single-select', { id: 'proto', 'aria-label': 'Protocol' });
  for (const p of ['tcp', 'udp', 'sctp', 'icmp'])
    proto.append(
      el('vscode-option', { value: p, ...(p === s.request.proto ? { selected: '' } : {}) }, p.toUpperCase()),
    );
  const portField = el('vscode-textfield', {
    id: 'port',
    value: port,
    placeholder: 'port',
    'aria-label': 'Destination port (number or name)',
    size: '6',
  });
  const reply = el('vscode-checkbox', {
    id: 'reply',
    label: 'Show the reply path',
    ...(s.request.reply ? { checked: '' } : {}),
  });
  const go = el('vscode-button', { id: 'trace-button' }, 'Trace');
  go.addEventListener('click', () => retrace(requestFromControls()));
  portField.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') retrace(requestFromControls());
  });
  reply.addEventListener('change', () => retrace(requestFromControls()));
  const form = el(
    'div',
    { class: 'controls', role: 'group', 'aria-label': 'What to trace' },
    el(
      'label',
      { class: 'control' },
      el('span', { class: 'muted' }, 'From'),
      select('source', 'Source endpoint', s.request.from, d.sources),
    ),
    el(
      'label',
      { class: 'control' },
      el('span', { class: 'muted' }, 'To'),
      select(
        'destination',
        'Destination endpoint',
        base,
        d.destinations.map((o) => ({ ...o, endpoint: splitPort(o.endpoint).base })),
      ),
    ),
    el('label', { class: 'control narrow' }, el('span', { class: 'muted' }, 'Port'), portField),
    el('label', { class: 'control narrow' }, el('span', { class: 'muted' }, 'Protocol'), proto),
    el('div', { class: 'control' }, reply, go),
  );
  return form;
}

// ---------------------------------------------------------------- hop table

function natCell(before: NatTuple, after: NatTuple): HTMLElement {
  const part = (t: NatTuple, o: NatTuple, side: 'src' | 'dst') => {
    const [a, p, oa, op] = side === 'src' ? [t.src, t.sport, o.src, o.sport] : [t.dst, t.dport, o.dst, o.dport];
    const text = hostPort(a, p);
    return a !== oa || p !== op ? el('mark', { class: 'changed' }, text) : el('span', {}, text);
  };
  return el(
    'span',
    { class: 'nat mono' },
    part(before, after, 'src'),
    ' → ',
    part(before, after, 'dst'),
    el('span', { class: 'arrow', 'aria-label': 'becomes' }, '  ⇒  '),
    part(after, before, 'src'),
    ' → ',
    part(after, before, 'dst'),
  );
}

function ruleLink(s: NetfilterStep | NatStep): HTMLElement {
  const where = `${s.table} ${s.chain}`;
  const text = s.kind === 'nat' ? s.rule : (s.rule ?? `policy ${s.verdict}`);
  if (s.file === undefined || s.start === undefined) return el('span', { class: 'mono' }, text);
  const b = el(
    'button',
    { class: 'link mono rule', title: `Show this rule (${where})`, 'aria-label': `Show the rule in ${where}: ${text}` },
    text,
  );
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    reveal(s);
  });
  return b;
}

/** A policy step's link to the rule that allowed the packet, or to the policy that isolates the pod. */
function policyLink(s: PolicyStep): HTMLElement | undefined {
  if (s.file === undefined || s.start === undefined) return undefined;
  const text = s.policy !== undefined ? `${s.policy} ${s.direction}[${s.ruleIndex ?? 0}]` : (s.policies[0] ?? 'policy');
  const b = el(
    'button',
    {
      class: 'link mono rule',
      title: s.policy !== undefined ? 'Show the rule that allowed it' : 'Show the policy that isolates the pod',
      'aria-label': `Show NetworkPolicy ${text} in the YAML`,
    },
    text,
  );
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    reveal(s);
  });
  return b;
}

function stepCell(hop: Hop, walk: Walk): HTMLElement {
  const s = mattered(hop);
  const cell = el('div', { class: 'step' });
  if (!s) return cell;
  const nat = natOf(hop, s, walk);
  const kind = el('span', { class: `kind kind-${s.kind}` }, s.kind === 'netfilter' ? `${s.table} ${s.chain}` : s.kind);
  if (nat) {
    cell.append(
      el('div', {}, kind, ' ', el('strong', {}, nat.type), ' ', el('span', { class: 'muted' }, `(${nat.chain})`)),
      natCell(nat.before, nat.after),
    );
    const rule = hop.steps.find(
      (x): x is NetfilterStep => x.kind === 'netfilter' && x.chain === nat.chain && x.file !== undefined,
    );
    if (rule) cell.append(el('div', {}, ruleLink(rule)));
  } else if (s.kind === 'netfilter') cell.append(el('div', {}, kind, ' ', stepText(s)), el('div', {}, ruleLink(s)));
  else if (s.kind === 'policy') {
    cell.append(el('div', {}, kind, ' ', stepText(s)));
    const link = policyLink(s);
    if (link) cell.append(el('div', {}, link));
  } else if ((s.kind === 'encap' || s.kind === 'decap') && s.inner) {
    // Before -> after: the packet wrapped in the outer header at the sending VTEP, unwrapped at the receiving one.
    const outer = `${s.protocol.toUpperCase()} ${s.outer.src} -> ${s.outer.dst}${s.udpPort !== undefined ? ` udp/${s.udpPort}` : ''}${s.vni !== undefined ? ` vni ${s.vni}` : ''}`;
    const inner = tupleText(s.inner);
    const [before, after] = s.kind === 'encap' ? [inner, `${outer} [ ${inner} ]`] : [`${outer} [ ${inner} ]`, inner];
    cell.append(
      el(
        'div',
        {},
        kind,
        ' ',
        el('strong', {}, s.kind === 'encap' ? 'encapsulation' : 'decapsulation'),
        ' ',
        el('span', { class: 'muted' }, `(${s.device})`),
      ),
      el('div', { class: 'mono tunnel-change' }, before, ' → ', after),
    );
  } else cell.append(el('div', {}, kind, ' ', stepText(s)));
  if (hop.steps.length > 1)
    cell.append(el('details', {}, el('summary', {}, `all ${hop.steps.length} steps`), stepList(hop.steps)));
  return cell;
}

/** Every step, each with its kind and, where it has one, the link to its rule or policy in the YAML. */
function stepList(steps: readonly Step[]): HTMLElement {
  const list = el('ol', { class: 'steps' });
  for (const x of steps) {
    const li = el(
      'li',
      {},
      el('span', { class: `kind kind-${x.kind}` }, x.kind === 'netfilter' ? `${x.table} ${x.chain}` : x.kind),
      ' ',
      stepText(x),
    );
    if (x.kind === 'netfilter' && x.file !== undefined) li.append(' ', ruleLink(x));
    if (x.kind === 'policy') {
      const link = policyLink(x);
      if (link) li.append(' ', link);
    }
    list.append(li);
  }
  return list;
}

/** A walk that ended before any device (its sender's OUTPUT dropped it): where, and the steps taken there. */
function originBlock(walk: Walk): HTMLElement | null {
  if (!walk.origin || walk.hops.length) return null;
  return el(
    'section',
    { id: 'origin', class: 'origin', 'aria-label': 'Before any device' },
    el(
      'p',
      {},
      'The packet never reached a device: it ended in ',
      el('span', { class: 'mono' }, walk.origin.netns),
      '.',
    ),
    stepList(walk.origin.steps),
  );
}

function hopTable(walk: Walk): HTMLElement {
  const table = el('table', { id: 'hops', class: 'hops', 'aria-label': 'Hops of the selected path' });
  table.append(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['#', 'Namespace', 'Device', 'Dir', 'Packet as seen there', 'TTL', 'What mattered'].map((h) =>
          el('th', { scope: 'col' }, h),
        ),
      ),
    ),
  );
  const body = el('tbody');
  walk.hops.forEach((h, i) => {
    const row = el('tr', {
      'data-hop': String(i),
      tabindex: i === ui.hop ? '0' : '-1',
      'aria-selected': String(i === ui.hop),
      class: i === ui.hop ? 'current' : '',
    });
    row.append(
      el('td', {}, String(i + 1)),
      el('td', { class: 'mono' }, h.netns),
      el('td', { class: 'mono' }, h.device),
      el('td', {}, h.dir),
      h.outer
        ? el(
            'td',
            { class: 'mono' },
            tupleText(h.packet),
            el(
              'div',
              { class: 'outer', title: 'the outer header a capture on this device sees around the packet' },
              outerText(h.outer),
            ),
          )
        : el('td', { class: 'mono' }, tupleText(h.packet)),
      el('td', {}, String(h.packet.ttl)),
      el('td', {}, stepCell(h, walk)),
    );
    row.addEventListener('click', (e) => {
      setHop(i);
      // A click on the steps' list or a rule is about that step, not the hop.
      if (!(e.target as Element | null)?.closest('details, button')) revealHop(h);
    });
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') revealHop(h);
    });
    body.append(row);
  });
  table.append(body);
  return table;
}

function revealHop(h: Hop): void {
  reveal(data?.places.find((p) => p.netns === h.netns)?.span);
}

// ---------------------------------------------------------------- drawing

function allHops(d: TraceViewData): Hop[] {
  return (d.result?.paths ?? []).flatMap((p) => [...p.hops, ...(p.reply?.hops ?? [])]);
}

/** The labels' width per character at the editor font (what the diagram sizes its boxes for), measured once. */
let labelCharW: number | undefined;
function measureCharW(holder: HTMLElement): number {
  if (labelCharW) return labelCharW;
  const probe = svgEl('svg', { class: 'diagram', width: 10, height: 10 });
  const sample = 'pod default/web-1 10.244.1.10/24';
  const text = svgEl('text', { class: 'box-label', x: 0, y: 10 }, sample);
  probe.append(text);
  holder.append(probe);
  const w = (text as SVGTextElement).getComputedTextLength() / sample.length;
  probe.remove();
  labelCharW = w > 2 ? w : 7.2;
  return labelCharW;
}

/** The layout for the holder's width now (recomputed only when that width changes). */
function layoutFor(holder: HTMLElement): Layout | undefined {
  if (!data) return undefined;
  const width = Math.max(320, Math.floor(holder.clientWidth));
  if (diagramLayout && diagramWidth === width) return diagramLayout;
  diagramWidth = width;
  diagramLayout = layout(data.places, allHops(data), { width, charW: measureCharW(holder) });
  return diagramLayout;
}
let diagramWidth = 0;

/** Redraws the diagram when its panel's width changes: it is laid out for the width, never scaled. */
const resized = new ResizeObserver(() => {
  const holder = document.getElementById('diagram');
  if (holder && data && Math.floor(holder.clientWidth) !== diagramWidth) drawDiagram();
});

function drawDiagram(): void {
  const holder = document.getElementById('diagram');
  const walk = currentWalk();
  const result = data?.result;
  if (!holder || !walk || !result) return;
  // A walk that never reached a device has no way to draw: the origin block says where it ended instead.
  holder.hidden = !walk.hops.length;
  if (holder.hidden) {
    holder.replaceChildren();
    return;
  }
  const diagramLayout = layoutFor(holder);
  if (!diagramLayout) return;
  const failed = walk.disposition !== 'delivered';
  const drawn = draw(diagramLayout, walk.hops, {
    current: ui.hop,
    failed,
    label: `Diagram of ${ui.reply ? 'the reply' : 'the packet'}'s way: ${walk.hops.length} hops, ${describeWalk(walk, result.flow.src)}`,
    onHop: (i) => setHop(i),
    onBox: (b) => reveal(b.place?.span),
  });
  // Drawn 1:1 (labels at the editor's font size), laid out to fill the panel's width.
  markHops(drawn, walk.hops);
  holder.replaceChildren(drawn);
  resized.disconnect();
  resized.observe(holder);
  drawRules();
}

/**
 * Marks on the diagram where a rule changed the packet or stopped it (DNAT, SNAT, MASQUERADE, DROP, REJECT,
 * a NetworkPolicy denial), beside the hop's badge; a click opens that hop's rule path.
 */
function markHops(root: SVGSVGElement, hops: readonly Hop[]): void {
  hops.forEach((h, i) => {
    const mark = hopMark(h);
    const badge = root.querySelector<SVGRectElement>(`.hop[data-hop="${i}"] rect.badge`);
    if (!mark || !badge) return;
    const x = Number(badge.getAttribute('x')) - 4;
    const y = Number(badge.getAttribute('y')) - 8;
    // Every rewrite of the hop (a NodePort hop is DNAT and MASQUERADE), or what stopped the packet.
    const nats = [...new Set(h.steps.flatMap((x) => (x.kind === 'nat' ? [x.type] : [])))];
    const text = (['DNAT', 'SNAT', 'MASQUERADE'].includes(mark) ? nats : [mark])
      .map((m) => (m === 'MASQUERADE' ? 'MASQ' : m))
      .join('+');
    const g = svgEl('g', {
      class: `mark mark-${mark.toLowerCase()}`,
      'data-mark': String(i),
      tabindex: 0,
      role: 'button',
      'aria-label': `hop ${i + 1}: ${mark}; show its rule path`,
    });
    g.append(
      // 10px bold capitals: about 7.5px each.
      svgEl('rect', { x: x - text.length * 7.5 - 8, y: y - 4, width: text.length * 7.5 + 8, height: 16, rx: 3 }),
      svgEl('text', { x: x - text.length * 7.5 - 4, y: y + 8 }, text),
    );
    const open = () => {
      setHop(i);
      document.getElementById('rulepath')?.scrollIntoView({ block: 'nearest' });
      document.getElementById('rulepath-holder')?.focus({ preventScroll: true });
    };
    g.addEventListener('click', (e) => {
      e.stopPropagation();
      open();
    });
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') open();
    });
    root.append(g);
  });
}

/** The tallest rule path of a walk (cached per walk): the holder keeps that height, so stepping never resizes the page. */
let tallest: { walk: Walk; height: number } | undefined;
function tallestRulePath(walk: Walk): number {
  if (tallest?.walk === walk) return tallest.height;
  let height = 0;
  for (const h of walk.hops)
    if (hasRulePath(h) && data?.result)
      height = Math.max(
        height,
        Number(
          drawRulePath(rulePath(h, data.result.paths, bridgeOfPort(h, data.places)), '', () => {}).getAttribute(
            'height',
          ),
        ),
      );
  tallest = { walk, height };
  return height;
}

/** The current hop's rule path, drawn under the diagram. */
function drawRules(): void {
  const holder = document.getElementById('rulepath-holder');
  const title = document.getElementById('rulepath-title');
  const walk = currentWalk();
  const hop = walk?.hops[ui.hop];
  if (!holder || !title || !hop || !walk || !data?.result) return;
  // Room for the tallest and for a scroll bar under a rule path wider than the panel.
  holder.style.minHeight = `${tallestRulePath(walk) + 24}px`;
  title.replaceChildren(`Rule path at hop ${ui.hop + 1}: ${hop.netns} ${hop.device} (${hop.dir})`);
  if (!hasRulePath(hop)) {
    holder.replaceChildren(
      el('p', { class: 'muted' }, 'No netfilter hook or NetworkPolicy decided anything at this hop.'),
    );
    return;
  }
  const r = rulePath(hop, data.result.paths, bridgeOfPort(hop, data.places));
  const lines = rulePathLines(r);
  holder.replaceChildren(
    drawRulePath(r, `Rule path at hop ${ui.hop + 1}: ${lines.join('; ')}`, (chain) =>
      reveal(
        hop.steps.find(
          (x): x is NetfilterStep =>
            x.kind === 'netfilter' && (x.chain === chain || x.target === chain) && x.file !== undefined,
        ),
      ),
    ),
  );
}

function setHop(i: number, focus = false): void {
  const walk = currentWalk();
  if (!walk || !walk.hops.length) return;
  ui.hop = Math.max(0, Math.min(walk.hops.length - 1, i));
  save();
  drawDiagram();
  for (const row of document.querySelectorAll<HTMLTableRowElement>('#hops tbody tr')) {
    const on = row.dataset.hop === String(ui.hop);
    row.classList.toggle('current', on);
    row.setAttribute('aria-selected', String(on));
    row.tabIndex = on ? 0 : -1;
    if (on && focus) row.focus({ preventScroll: true });
    if (on) scrollRowIntoBox(row);
  }
  const h = walk.hops[ui.hop];
  document
    .getElementById('hop-position')
    ?.replaceChildren(`Hop ${ui.hop + 1} of ${walk.hops.length}: ${h.netns} ${h.device} (${h.dir})`);
}

/**
 * Brings the current hop's row into view inside the table's own scroll box, never by scrolling the page
 * (`scrollIntoView` scrolls every scrollable ancestor, the document too, and the stepper would move away
 * from under the mouse).
 */
function scrollRowIntoBox(row: HTMLTableRowElement): void {
  const box = row.closest<HTMLElement>('.hops-scroll');
  if (!box) return;
  const head = box.querySelector('thead')?.getBoundingClientRect().height ?? 0;
  const top = row.offsetTop;
  if (top - head < box.scrollTop) box.scrollTop = top - head;
  else if (top + row.offsetHeight > box.scrollTop + box.clientHeight)
    box.scrollTop = top + row.offsetHeight - box.clientHeight;
}

function stepper(): HTMLElement {
  const b = (id: string, text: string, label: string, to: () => number) => {
    const x = el('vscode-button', { id, secondary: '', 'aria-label': label, title: label }, text);
    x.addEventListener('click', () => setHop(to()));
    return x;
  };
  return el(
    'div',
    { class: 'stepper', role: 'toolbar', 'aria-label': 'Step through the hops (arrow keys)' },
    b('hop-first', 'First', 'First hop (Home)', () => 0),
    b('hop-prev', '◀ Previous', 'Previous hop (Left arrow)', () => ui.hop - 1),
    b('hop-next', 'Next ▶', 'Next hop (Right arrow)', () => ui.hop + 1),
    b('hop-last', 'Last', 'Last hop (End)', () => Number.MAX_SAFE_INTEGER),
    el('span', { id: 'hop-position', class: 'muted', 'aria-live': 'polite' }),
  );
}

function pathPicker(d: TraceViewData): HTMLElement | string {
  const paths = d.result?.paths ?? [];
  const group = el('vscode-radio-group', {
    id: 'paths',
    'aria-label': 'Possible paths (load balancing)',
    variant: 'vertical',
  });
  paths.forEach((p, i) => {
    const where = p.delivered
      ? ` to ${p.delivered.name}${p.delivered.port !== null ? `:${p.delivered.port}` : ''}`
      : p.reason
        ? ` (${p.reason})`
        : '';
    const r = el('vscode-radio', {
      name: 'path',
      value: String(i),
      label: `Path ${i + 1}: ${percent(p.probability)} — ${dispositionLabel(p.disposition)}${where}`,
      'data-path': String(i),
      ...(i === ui.path ? { checked: '' } : {}),
    });
    r.addEventListener('change', () => {
      if ((r as unknown as { checked: boolean }).checked) selectPath(i);
    });
    group.append(r);
  });
  return group;
}

function selectPath(i: number): void {
  ui = { ...ui, path: i, hop: 0, reply: ui.reply && !!data?.result?.paths[i]?.reply };
  save();
  renderBody();
}

function directionPicker(): HTMLElement | string {
  const p = data?.result?.paths[ui.path];
  if (!p?.reply) return '';
  const b = (reply: boolean, text: string) => {
    const x = el(
      'vscode-button',
      {
        id: reply ? 'show-reply' : 'show-request',
        ...(ui.reply === reply ? {} : { secondary: '' }),
        'aria-pressed': String(ui.reply === reply),
      },
      text,
    );
    x.addEventListener('click', () => {
      ui = { ...ui, reply, hop: 0 };
      save();
      renderBody();
    });
    return x;
  };
  return el(
    'div',
    { class: 'direction', role: 'group', 'aria-label': 'Direction' },
    b(false, 'Request'),
    b(true, 'Reply'),
  );
}

/** Inlines the theme's computed colours, so the exported file looks the same outside VS Code. */
function exportSvg(selector = '#diagram svg'): string {
  const live = document.querySelector<SVGSVGElement>(selector);
  if (!live) return '';
  const copy = live.cloneNode(true) as SVGSVGElement;
  const props = [
    'fill',
    'stroke',
    'stroke-width',
    'stroke-dasharray',
    'opacity',
    'font-family',
    'font-size',
    'font-weight',
  ];
  const src = [live, ...live.querySelectorAll('*')];
  const dst = [copy, ...copy.querySelectorAll('*')];
  src.forEach((e, i) => {
    const cs = getComputedStyle(e);
    (dst[i] as SVGElement).style.cssText = props.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(';');
  });
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  // The file has the diagram's own size, not the panel's.
  const [, , w, h] = (live.getAttribute('viewBox') ?? '').split(' ');
  if (w && h) {
    copy.setAttribute('width', w);
    copy.setAttribute('height', h);
  }
  copy.style.background = getComputedStyle(document.body).backgroundColor;
  return new XMLSerializer().serializeToString(copy);
}

/** The rule path of every hop that has one, as Markdown under the hop table. */
function rulePathsMarkdown(hops: readonly Hop[]): string {
  const out: string[] = [];
  hops.forEach((h, i) => {
    if (!hasRulePath(h) || !data?.result) return;
    out.push('', `Rule path at hop ${i + 1} (${h.netns} ${h.device} ${h.dir}):`, '');
    for (const line of rulePathLines(rulePath(h, data.result.paths, bridgeOfPort(h, data.places))))
      out.push(`- ${line.replace(/([`*_<[\]|])/g, '\\$1')}`);
  });
  return out.length ? `${out.join('\n')}\n` : '';
}

const fileName = (ext: string) =>
  `trace ${state?.request.from ?? ''} to ${state?.request.to ?? ''}`.replace(/[^\w.\- ]+/g, '-').slice(0, 90) + ext;

function exportButtons(): HTMLElement {
  const svgButton = el(
    'vscode-button',
    { id: 'export-svg', secondary: '', title: 'Save the diagram as an SVG file' },
    'Export SVG',
  );
  svgButton.addEventListener('click', () =>
    vscode.postMessage({ type: 'export', format: 'svg', name: fileName('.svg'), content: exportSvg() }),
  );
  const md = el(
    'vscode-button',
    { id: 'export-markdown', secondary: '', title: 'Copy the hop table as Markdown' },
    'Copy Markdown',
  );
  md.addEventListener('click', () => {
    const walk = currentWalk();
    const p = data?.result?.paths[ui.path];
    if (!walk || !data?.result || !p || !state) return;
    vscode.postMessage({
      type: 'export',
      format: 'markdown',
      name: fileName('.md'),
      content:
        markdown(
          data.result,
          walk,
          `${state.request.from} → ${state.request.to}${ui.reply ? ' (reply)' : ''}`,
          p.probability,
        ) + rulePathsMarkdown(walk.hops),
    });
  });
  const rules = el(
    'vscode-button',
    { id: 'export-rulepath-svg', secondary: '', title: "Save the current hop's rule path as an SVG file" },
    'Export rule path SVG',
  );
  rules.addEventListener('click', () => {
    const content = exportSvg('#rulepath-holder svg');
    if (content)
      vscode.postMessage({ type: 'export', format: 'svg', name: fileName(` hop ${ui.hop + 1} rules.svg`), content });
  });
  return el('div', { class: 'exports' }, svgButton, rules, md);
}

/** Everything below the controls: paths, disposition, stepper, diagram and hop table. */
function renderBody(): void {
  const body = document.getElementById('trace-body');
  if (!body || !data) return;
  const result = data.result;
  if (!result) {
    body.replaceChildren(
      el('p', { class: 'error', role: 'alert' }, data.problems.join(' ') || 'This request could not be traced.'),
    );
    return;
  }
  if (!result.paths.length) {
    body.replaceChildren(el('p', { class: 'muted' }, 'The tracer found no path.'));
    return;
  }
  ui.path = Math.min(ui.path, result.paths.length - 1);
  const walk = currentWalk();
  if (!walk) return; // There is a path at ui.path: clamped above.
  ui.hop = Math.min(ui.hop, Math.max(0, walk.hops.length - 1));
  const f = result.flow;
  const client = ui.reply ? f.dst : f.src;
  body.replaceChildren(
    el('h2', {}, result.paths.length > 1 ? `${result.paths.length} possible paths` : 'Path'),
    pathPicker(data),
    el(
      'p',
      { id: 'disposition', class: `disposition ${walk.disposition === 'delivered' ? 'ok' : 'bad'}`, role: 'status' },
      el('strong', {}, `${ui.reply ? 'Reply: ' : ''}${dispositionLabel(walk.disposition)}`),
      ` — ${describeWalk(walk, client, ui.reply ? 'the server' : 'the client')}`,
    ),
    // Sticky: the stepper stays where it is, under the mouse, however far the page is scrolled.
    el('div', { class: 'toolbar sticky', id: 'trace-toolbar' }, directionPicker(), stepper(), exportButtons()),
    el('div', {
      id: 'diagram',
      class: 'diagram-holder',
      tabindex: '0',
      'aria-label': 'Path diagram; use the arrow keys to step',
      // A walk that never reached a device has nothing to draw: the origin block below says where it ended.
      ...(walk.hops.length ? {} : { hidden: '' }),
    }),
    el(
      'section',
      { id: 'rulepath', 'aria-labelledby': 'rulepath-title' },
      el('h2', { id: 'rulepath-title' }),
      el('div', {
        id: 'rulepath-holder',
        class: 'rulepath-holder',
        tabindex: '0',
        'aria-label': 'Rule path of the current hop',
      }),
    ),
    el('h2', {}, ui.reply ? 'Reply hops' : 'Hops'),
    originBlock(walk) ?? el('div', { class: 'hops-scroll', id: 'hops-scroll' }, hopTable(walk)),
  );
  setHop(ui.hop);
}

function render(s: TraceViewState, d: TraceViewData): void {
  const sameRequest = state && JSON.stringify(state.request) === JSON.stringify(s.request);
  state = { ...s, ui };
  data = d;
  if (!sameRequest) ui = { ...ui, path: 0, hop: 0 };
  ui.reply = !!s.request.reply && ui.reply;
  diagramLayout = undefined;
  const f = d.result?.flow;
  app.replaceChildren(
    el('h1', { id: 'view-title' }, `${s.request.from} → ${s.request.to}`),
    el(
      'p',
      { class: 'muted', id: 'flow' },
      `${d.topology}${f ? ` · ${f.proto.toUpperCase()} ${hostPort(f.src, f.sport)} → ${hostPort(f.dst, f.dport)}` : ''}`,
      el('span', { id: 'status', class: 'status', 'aria-live': 'polite' }),
    ),
    controls(s, d),
    el('div', { id: 'trace-body' }),
  );
  renderBody();
  save();
}

// ---------------------------------------------------------------- keyboard

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement | null;
  if (t?.closest('vscode-single-select, vscode-textfield, input, textarea, select, vscode-radio-group')) return;
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const inTable = !!t?.closest('#hops');
  const moves: Record<string, number | undefined> = {
    ArrowRight: ui.hop + 1,
    ArrowLeft: ui.hop - 1,
    Home: 0,
    End: Number.MAX_SAFE_INTEGER,
    ...(inTable ? { ArrowDown: ui.hop + 1, ArrowUp: ui.hop - 1 } : {}),
  };
  const to = moves[e.key];
  if (to === undefined) return;
  e.preventDefault();
  setHop(to, inTable);
});

// ---------------------------------------------------------------- host

onHostMessage(
  (message) => {
    if (message.type === 'trace') render(message.state, message.data);
    else if (message.type === 'verify') showVerify(message.state);
    else if (message.type === 'error')
      app.replaceChildren(
        el('h1', { id: 'view-title' }, 'Trace'),
        el('p', { class: 'error', role: 'alert' }, message.message),
      );
  },
  () => document.getElementById('status')?.replaceChildren(' (ignored a malformed message from the host)'),
);

/** Verify mode: the report is the state; a flow opens as a trace (the host opens a trace view for it). */
function showVerify(s: VerifyViewState): void {
  state = undefined;
  vscode.setState(s);
  renderVerify(app, s, (request) => vscode.postMessage({ type: 'retrace', request }));
}

const restored = initialState() as Saved | VerifyViewState | undefined;
if (restored?.view === 'verify') {
  if (isVerifyReportData(restored.report)) showVerify(restored);
} else if (restored?.view === 'trace') {
  if (restored.ui) ui = { ...restored.ui };
  state = restored;
  vscode.setState(restored);
  app.replaceChildren(
    el('h1', { id: 'view-title' }, `${restored.request.from} → ${restored.request.to}`),
    el('p', { class: 'muted' }, 'Tracing…'),
  );
}
vscode.postMessage({ type: 'ready' });
