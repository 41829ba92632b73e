/**
 * The trace diagram: network namespaces as boxes (pods inside their node, nodes on the underlay, externals
 * outside the cluster), devices on the boxes' borders, and the packet's way drawn through them hop by hop.
 * The layout depends only on the namespaces and devices of every path of the trace, so switching paths or
 * stepping never moves a box.
 */
import { outerText, stepsOf } from '../../core/trace/steps';
import type { Hop, TracePlace } from '../../protocol/messages';
import { clip, svg } from '../shared/host';

const POD_W = 170;
const POD_H = 64;
const GAP = 24;
const NODE_TITLE = 30;
const VETH_DY = 34;
const BRIDGE_DY = 100;
const NODE_H = NODE_TITLE + POD_H + BRIDGE_DY + 56;
const TOP = 36;
const UNDERLAY_DY = 46;
const EXT_W = 170;
const EXT_H = 50;
/** How far above its node's bottom border a tunnel endpoint (VTEP) sits. */
const VTEP_DY = 26;
const NODE_GAP = 40;
const MARGIN_L = 24;
const MARGIN_R = 16;
/** Between a row of nodes' underlay line and the next row (a panel too narrow for every node in one row). */
const ROW_GAP = 40;

interface Box {
  readonly netns: string;
  readonly kind: 'pod' | 'node' | 'external';
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly place?: TracePlace;
}

interface DevicePos {
  readonly x: number;
  readonly y: number;
  readonly role: 'eth' | 'lo' | 'veth' | 'bridge' | 'underlay' | 'vtep' | 'other';
  /** The underlay line of the device's row (externals: the last row's). */
  readonly underlayY: number;
}

/** A tunnel the packet crossed: the VTEP that wrapped it, the one that unwrapped it, and the outer header between. */
export interface Tunnel {
  readonly from: string;
  readonly to: string;
  /** The hops between the two VTEPs (the underlay hops, whose `outer` is the outer packet). */
  readonly hops: readonly number[];
  readonly outer: NonNullable<Hop['outer']>;
}

/** The tunnels of a walk: each `encap` hop with the next `decap` hop after it. */
export function tunnelsOf(hops: readonly Hop[]): Tunnel[] {
  const out: Tunnel[] = [];
  hops.forEach((h, i) => {
    if (!h.steps.some((s) => s.kind === 'encap')) return;
    const j = hops.findIndex((x, k) => k > i && x.steps.some((s) => s.kind === 'decap'));
    const inner = hops.slice(i + 1, j < 0 ? hops.length : j).map((_, k) => i + 1 + k);
    const outer = inner.map((k) => hops[k].outer).find((o) => o);
    if (!outer) return;
    out.push({
      from: key(h.netns, h.device),
      to: j < 0 ? '' : key(hops[j].netns, hops[j].device),
      hops: inner,
      outer,
    });
  });
  return out;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** The last row's underlay line (externals hang under it). */
  readonly underlayY: number;
  /** Every row's underlay line, top to bottom; one network, so a trunk at `trunkX` joins them. */
  readonly underlays: readonly number[];
  readonly trunkX: number;
  /** The labels' width per character the boxes were sized for (labels are clipped to fit them). */
  readonly charW: number;
  readonly boxes: readonly Box[];
  readonly devices: ReadonlyMap<string, DevicePos>;
  /** veth pairs: pod eth0 key -> host end key. */
  readonly pairs: readonly [string, string][];
  readonly bridges: readonly { netns: string; name: string; x1: number; x2: number; y: number }[];
}

const key = (netns: string, device: string) => `${netns}|${device}`;

/** The place of a namespace; pods the host did not describe are placed by the veth steps of the trace (their ends). */
function placesFor(places: readonly TracePlace[], hops: readonly Hop[]): Map<string, TracePlace> {
  const out = new Map(places.map((p) => [p.netns, p]));
  for (const h of hops) {
    if (out.has(h.netns)) continue;
    const [kind, ...rest] = h.netns.split(':');
    const name = rest.join(':');
    if (kind === 'pod') {
      let node: string | undefined;
      let hostVeth: string | undefined;
      for (const s of stepsOf(hops, 'veth')) {
        const [pod, host] = s.from.netns === h.netns ? [s.from, s.to] : s.to.netns === h.netns ? [s.to, s.from] : [];
        if (pod && host?.netns.startsWith('node:')) [node, hostVeth] = [host.netns.slice(5), host.device];
      }
      out.set(h.netns, { netns: h.netns, kind: 'pod', name, node, hostVeth, addresses: {} });
    } else out.set(h.netns, { netns: h.netns, kind: kind === 'node' ? 'node' : 'external', name, addresses: {} });
  }
  return out;
}

/** What the layout fits: the panel's width in pixels (absent: one row, as wide as it needs), the labels' width per character. */
export interface Fit {
  readonly width?: number;
  readonly charW?: number;
}

/**
 * Places every namespace and device of the trace's paths. Given a width, nodes go in rows that fit it and each row is
 * stretched to fill it (drawn at 1:1, so labels keep the font's size); the same paths and width give the same layout.
 */
export function layout(placesIn: readonly TracePlace[], hops: readonly Hop[], fit: Fit = {}): Layout {
  const places = placesFor(placesIn, hops);
  // Devices per namespace, in order of first use.
  const devicesOf = new Map<string, string[]>();
  const use = (netns: string, device: string) => {
    const list = devicesOf.get(netns) ?? [];
    if (!list.includes(device)) list.push(device);
    devicesOf.set(netns, list);
  };
  for (const h of hops) use(h.netns, h.device);
  // Tunnel endpoints (a hop that wraps or unwraps the packet): drawn inside their node, above its underlay devices.
  const vteps = new Set(
    hops
      .filter((h) => h.steps.some((s) => s.kind === 'encap' || s.kind === 'decap'))
      .map((h) => key(h.netns, h.device)),
  );

  // Nodes in order of first use (a pod counts for its node), then pods per node, then externals.
  const nodeOrder: string[] = [];
  const podsOf = new Map<string, string[]>();
  const externals: string[] = [];
  const addNode = (name: string) => {
    if (!nodeOrder.includes(name)) nodeOrder.push(name);
  };
  for (const netns of [...new Set([...hops.map((h) => h.netns), ...places.keys()])]) {
    const p = places.get(netns); // placesFor has every hop's namespace.
    if (!p) continue;
    if (p.kind === 'node') addNode(p.name);
    else if (p.kind === 'pod' && p.node) {
      addNode(p.node);
      if (!devicesOf.has(netns) && !hops.length) continue;
      if (!devicesOf.has(netns)) continue;
      podsOf.set(p.node, [...(podsOf.get(p.node) ?? []), netns]);
    } else if (p.kind === 'external' || p.kind === 'pod') {
      if (devicesOf.has(netns)) externals.push(netns);
    }
  }

  const boxes: Box[] = [];
  const devices = new Map<string, DevicePos>();
  const pairs: [string, string][] = [];
  const bridges: Layout['bridges'][number][] = [];
  // Sizes follow the labels' font: a pod box holds about 22 characters of its label and address.
  const charW = fit.charW ?? 7.2;
  const podW = Math.max(POD_W, Math.round(charW * 22));
  const nodeParts = nodeOrder.map((node) => {
    const netns = `node:${node}`;
    const place = places.get(netns);
    const pods = podsOf.get(node) ?? [];
    const own = devicesOf.get(netns) ?? [];
    const bridge = place?.bridge;
    const hostVeths = new Map(pods.map((p) => [places.get(p)?.hostVeth ?? '', p]));
    const underlay = own.filter((d) => d !== bridge && d !== 'lo' && !hostVeths.has(d));
    const min = Math.max(pods.length * (podW + GAP) + GAP, underlay.length * 90 + 60, podW + 2 * GAP);
    return { node, netns, place, pods, own, bridge, underlay, min };
  });
  // Rows of nodes that fit the width (one row when no width is given), each row stretched to fill it.
  const avail = fit.width;
  const rowsOf: (typeof nodeParts)[] = [];
  for (const part of nodeParts) {
    const row = rowsOf[rowsOf.length - 1];
    const used = row ? row.reduce((w, p) => w + p.min + NODE_GAP, MARGIN_L) + part.min + MARGIN_R : 0;
    if (!row || (avail !== undefined && used > avail)) rowsOf.push([part]);
    else row.push(part);
  }
  const underlays: number[] = [];
  let rowTop = TOP;
  let right = 0;
  for (const row of rowsOf) {
    const natural = row.reduce((w, p) => w + p.min, 0) + NODE_GAP * (row.length - 1);
    const room = avail === undefined ? natural : avail - MARGIN_L - MARGIN_R;
    // A panel too narrow for one node's pods squeezes them (down to a floor), a wide one spreads the row.
    const squeeze = row.length === 1 && room < natural ? Math.max(0.6, room / natural) : 1;
    const extra = Math.max(0, room - natural);
    const rowUnderlay = rowTop + NODE_H + UNDERLAY_DY;
    underlays.push(rowUnderlay);
    let x = MARGIN_L;
    for (const { node, netns, place, pods, own, bridge, underlay, min } of row) {
      const w = Math.round(min * squeeze + (extra * min) / natural);
      boxes.push({ netns, kind: 'node', label: `node ${node}`, x, y: rowTop, w, h: NODE_H, place });
      const podY = rowTop + NODE_TITLE;
      const bridgeY = podY + POD_H + BRIDGE_DY - 14;
      // Each pod in a slot of the node's width, its box up to half as wide again as the natural one.
      const slot = pods.length ? (w - GAP) / pods.length : 0;
      const pw = Math.round(Math.min(slot - GAP, podW * 1.5));
      pods.forEach((podNetns, i) => {
        const px = Math.round(x + GAP + i * slot + (slot - GAP - pw) / 2);
        const pp = places.get(podNetns); // podsOf holds namespaces of `places` only.
        if (!pp) return;
        boxes.push({
          netns: podNetns,
          kind: 'pod',
          label: `pod ${pp.name}`,
          x: px,
          y: podY,
          w: pw,
          h: POD_H,
          place: pp,
        });
        const podDevices = devicesOf.get(podNetns) ?? [];
        const ethLike = podDevices.filter((d) => d !== 'lo');
        if (!ethLike.includes('eth0')) ethLike.unshift('eth0');
        ethLike.forEach((d, j) =>
          devices.set(key(podNetns, d), {
            x: px + pw / 2 + (j - (ethLike.length - 1) / 2) * 50,
            y: podY + POD_H,
            role: d === 'eth0' ? 'eth' : 'other',
            underlayY: rowUnderlay,
          }),
        );
        if (podDevices.includes('lo'))
          devices.set(key(podNetns, 'lo'), { x: px + pw - 22, y: podY, role: 'lo', underlayY: rowUnderlay });
        const veth = pp.hostVeth;
        const eth = devices.get(key(podNetns, 'eth0')); // Placed just above.
        if (veth && eth) {
          devices.set(key(netns, veth), { x: eth.x, y: podY + POD_H + VETH_DY, role: 'veth', underlayY: rowUnderlay });
          pairs.push([key(podNetns, 'eth0'), key(netns, veth)]);
        }
      });
      if (bridge && (pods.length || own.includes(bridge))) {
        const x1 = x + GAP;
        const x2 = x + Math.max(w - GAP, GAP + Math.min(podW, w - 2 * GAP));
        bridges.push({ netns, name: bridge, x1, x2, y: bridgeY });
        devices.set(key(netns, bridge), { x: (x1 + x2) / 2, y: bridgeY, role: 'bridge', underlayY: rowUnderlay });
      }
      if (own.includes('lo'))
        devices.set(key(netns, 'lo'), { x: x + w, y: rowTop + NODE_H / 2, role: 'lo', underlayY: rowUnderlay });
      underlay.forEach((d, j) => {
        const vtep = vteps.has(key(netns, d));
        devices.set(key(netns, d), {
          x: x + w / 2 + (j - (underlay.length - 1) / 2) * 90,
          y: vtep ? rowTop + NODE_H - VTEP_DY : rowTop + NODE_H,
          role: vtep ? 'vtep' : 'underlay',
          underlayY: rowUnderlay,
        });
      });
      x += w + NODE_GAP;
    }
    right = Math.max(right, x - NODE_GAP);
    rowTop = rowUnderlay + ROW_GAP;
  }
  const underlayY = underlays[underlays.length - 1] ?? TOP + NODE_H + UNDERLAY_DY;
  // Externals hang under the last underlay line, in rows that fit the width, spread over it.
  const extPerRow =
    avail === undefined
      ? Math.max(1, externals.length)
      : Math.max(1, Math.floor((avail - MARGIN_L - MARGIN_R + NODE_GAP) / (EXT_W + NODE_GAP)));
  const extRows = Math.ceil(externals.length / extPerRow);
  externals.forEach((netns, k) => {
    const p = places.get(netns); // externals holds namespaces of `places` only.
    if (!p) return;
    const row = Math.floor(k / extPerRow);
    const inRow = Math.min(extPerRow, externals.length - row * extPerRow);
    const span = avail === undefined ? inRow * (EXT_W + NODE_GAP) : (avail - MARGIN_L - MARGIN_R + NODE_GAP) / inRow;
    const ex = Math.round(MARGIN_L + (k % extPerRow) * span + (span - NODE_GAP - EXT_W) / 2);
    const extY = underlayY + 44 + row * (EXT_H + 40);
    boxes.push({
      netns,
      kind: 'external',
      label: `${p.kind === 'pod' ? 'pod' : 'external'} ${p.name}`,
      x: ex,
      y: extY,
      w: EXT_W,
      h: EXT_H,
      place: p,
    });
    const own = devicesOf.get(netns) ?? ['eth0'];
    own.forEach((d, j) =>
      devices.set(key(netns, d), {
        x: ex + EXT_W / 2 + (j - (own.length - 1) / 2) * 50,
        y: d === 'lo' ? extY + EXT_H : extY,
        role: d === 'lo' ? 'lo' : 'underlay',
        underlayY,
      }),
    );
    right = Math.max(right, ex + EXT_W);
  });
  const width = avail === undefined ? right + MARGIN_R : Math.max(avail, right + MARGIN_R);
  const height = extRows ? underlayY + 44 + extRows * (EXT_H + 40) - 10 : underlayY + 30;
  return { width, height, underlayY, underlays, trunkX: width - 12, charW, boxes, devices, pairs, bridges };
}

export interface DiagramOptions {
  readonly current: number;
  readonly failed: boolean;
  readonly onHop: (index: number) => void;
  readonly onBox: (box: { netns: string; place?: TracePlace }) => void;
  readonly label: string;
}

/** Points the packet passes between two hops: across the underlay, or straight. */
function segment(l: Layout, a: DevicePos, b: DevicePos): [number, number][] {
  const across = a.role === 'underlay' || b.role === 'underlay';
  const vtep = a.role === 'vtep' || b.role === 'vtep';
  if (across && !vtep && a !== b && a.underlayY !== b.underlayY)
    // Another row: along this row's underlay to the trunk, along the trunk, along the other row's.
    return [
      [a.x, a.y],
      [a.x, a.underlayY],
      [l.trunkX, a.underlayY],
      [l.trunkX, b.underlayY],
      [b.x, b.underlayY],
      [b.x, b.y],
    ];
  if (across && !vtep && a !== b && Math.abs(a.x - b.x) > 1)
    return [
      [a.x, a.y],
      [a.x, a.underlayY],
      [b.x, b.underlayY],
      [b.x, b.y],
    ];
  return [
    [a.x, a.y],
    [b.x, b.y],
  ];
}

export function draw(l: Layout, hops: readonly Hop[], o: DiagramOptions): SVGSVGElement {
  const root = svg('svg', {
    viewBox: `0 0 ${l.width} ${l.height}`,
    width: l.width,
    height: l.height,
    role: 'img',
    class: 'diagram',
    'aria-label': o.label,
  });
  root.append(svg('title', {}, o.label));
  const defs = svg('defs');
  defs.append(
    svg(
      'marker',
      {
        id: 'arrow',
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
      },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }),
    ),
  );
  root.append(defs);

  // The underlay and the cluster frame.
  const nodes = l.boxes.filter((b) => b.kind === 'node');
  if (nodes.length) {
    const x2 = Math.max(...nodes.map((b) => b.x + b.w));
    root.append(svg('rect', { x: 10, y: 10, width: x2 + 4, height: l.underlayY + 14 - 10, class: 'cluster', rx: 6 }));
    root.append(svg('text', { x: 18, y: 26, class: 'caption' }, 'cluster'));
  }
  for (const y of l.underlays) root.append(svg('line', { x1: 10, y1: y, x2: l.width - 10, y2: y, class: 'underlay' }));
  if (l.underlays.length > 1)
    root.append(
      svg('line', { x1: l.trunkX, y1: l.underlays[0], x2: l.trunkX, y2: l.underlayY, class: 'underlay trunk' }),
    );
  root.append(
    svg('text', { x: l.width - 14, y: l.underlayY - 6, class: 'caption', 'text-anchor': 'end' }, 'underlay network'),
  );

  for (const b of l.boxes) {
    const g = svg('g', {
      class: `box ${b.kind}`,
      tabindex: b.place?.span ? 0 : -1,
      role: b.place?.span ? 'button' : 'group',
      'aria-label': `${b.label}${b.place?.span ? ', show in the topology file' : ''}`,
      'data-netns': b.netns,
    });
    g.append(svg('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: b.kind === 'pod' ? 4 : 6 }));
    const text = svg(
      'text',
      { x: b.x + 8, y: b.y + 18, class: 'box-label' },
      clip(b.label, Math.floor((b.w - 12) / (l.charW * 1.05))),
    );
    g.append(svg('title', {}, `${b.label} (${b.netns})`), text);
    const eth0 = b.place?.addresses.eth0;
    if (b.kind !== 'node' && eth0?.length)
      g.append(
        svg(
          'text',
          { x: b.x + 8, y: b.y + 36, class: 'address' },
          clip(eth0.join(', '), Math.floor((b.w - 12) / l.charW)),
        ),
      );
    if (b.place?.span) {
      g.addEventListener('click', () => o.onBox(b));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          o.onBox(b);
        }
      });
    }
    root.append(g);
  }
  for (const br of l.bridges) {
    root.append(svg('rect', { x: br.x1, y: br.y - 5, width: br.x2 - br.x1, height: 10, rx: 5, class: 'bridge' }));
    root.append(svg('text', { x: br.x1 + 4, y: br.y + 20, class: 'device-label' }, `bridge ${clip(br.name, 24)}`));
  }
  for (const [a, b] of l.pairs) {
    const pa = l.devices.get(a);
    const pb = l.devices.get(b);
    if (!pa || !pb) continue; // Both ends are placed with the pair.
    root.append(
      svg('line', { x1: pa.x - 3, y1: pa.y, x2: pb.x - 3, y2: pb.y, class: 'veth' }),
      svg('line', { x1: pa.x + 3, y1: pa.y, x2: pb.x + 3, y2: pb.y, class: 'veth' }),
    );
    const br = l.bridges.find((x) => x.netns === b.split('|')[0]);
    if (br) root.append(svg('line', { x1: pb.x, y1: pb.y, x2: pb.x, y2: br.y, class: 'link' }));
  }
  for (const [k, d] of l.devices) {
    if (d.role === 'underlay') root.append(svg('line', { x1: d.x, y1: d.y, x2: d.x, y2: d.underlayY, class: 'link' }));
    if (d.role === 'bridge') continue;
    const name = k.split('|')[1];
    const g = svg('g', { class: `device dev-${d.role}` });
    g.append(svg('circle', { cx: d.x, cy: d.y, r: 7 }));
    // Labels go outside the box the device sits on: below the node's bottom border, above an external's top.
    const netnsOf = k.split('|')[0];
    const below = d.role === 'veth' || (d.role === 'underlay' && netnsOf.startsWith('node:'));
    g.append(svg('text', { x: d.x + 10, y: d.y + (below ? 18 : -8), class: 'device-label' }, clip(name, 16)));
    g.append(svg('title', {}, `${name} in ${k.split('|')[0]}`));
    root.append(g);
  }

  // Tunnels: from the VTEP that wrapped the packet, along the underlay, to the one that unwrapped it, labelled with
  // the outer header the underlay carries.
  for (const t of tunnelsOf(hops)) {
    const a = l.devices.get(t.from);
    const b = t.to ? l.devices.get(t.to) : undefined;
    if (!a) continue;
    const y = a.underlayY - 12;
    const bx = b ? b.x : a.x + 120;
    const text = outerText(t.outer);
    // A VTEP in another row: along this row's underlay to the trunk, up or down it, along the other row's.
    const via =
      b && b.underlayY !== a.underlayY
        ? ` L${l.trunkX - 12},${y} L${l.trunkX - 12},${b.underlayY - 12} L${bx},${b.underlayY - 12}`
        : ` L${bx},${y}`;
    const g = svg('g', {
      class: 'tunnel',
      'data-from': t.from,
      'data-to': t.to,
      role: 'img',
      'aria-label': `tunnel from ${t.from.replace('|', ' ')}${t.to ? ` to ${t.to.replace('|', ' ')}` : ''}: ${text}`,
    });
    g.append(
      svg('title', {}, `${t.outer.protocol.toUpperCase()} tunnel: ${text}`),
      svg('path', {
        d: `M${a.x},${a.y} L${a.x},${y}${via}${b ? ` L${b.x},${b.y}` : ''}`,
        class: 'tunnel-pipe',
      }),
      svg(
        'text',
        { x: (a.x + bx) / 2, y: y - 10, class: 'tunnel-label', 'text-anchor': 'middle' },
        clip(text, Math.max(24, Math.floor(Math.abs(bx - a.x) / 6.4))),
      ),
    );
    root.append(g);
  }

  // The packet's way: all of it faint, the part up to the current hop strong, the current hop ringed.
  const pts = hops.map((h) => l.devices.get(key(h.netns, h.device)));
  // A hop on a bridge runs along it: in below the port it came from, out above the port it leaves by.
  const stops: [number, number][][] = pts.map((p, i) => {
    if (!p) return [];
    if (p.role !== 'bridge') return [[p.x, p.y]];
    const before = pts[i - 1];
    const after = pts[i + 1];
    const x1 = before ? before.x : p.x;
    const x2 = after ? after.x : p.x;
    return x1 === x2
      ? [[x1, p.y]]
      : [
          [x1, p.y],
          [x2, p.y],
        ];
  });
  const all: [number, number][] = [];
  const done: [number, number][] = [];
  let last: DevicePos | undefined;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i];
    if (!p) continue;
    const first = stops[i][0];
    const seg = last ? segment(l, last, { ...p, x: first[0], y: first[1] }).slice(1) : [first];
    seg.push(...stops[i].slice(1));
    const tail = stops[i][stops[i].length - 1];
    last = { ...p, x: tail[0], y: tail[1] };
    all.push(...seg);
    if (i <= o.current) done.push(...(i === o.current ? seg.slice(0, seg.length - stops[i].length + 1) : seg));
  }
  const poly = (points: [number, number][], cls: string, marker: boolean) =>
    svg('polyline', {
      points: points.map(([a, b]) => `${a},${b}`).join(' '),
      class: cls,
      ...(marker ? { 'marker-end': 'url(#arrow)' } : {}),
    });
  if (all.length > 1) root.append(poly(all, 'way', false));
  if (done.length > 1)
    root.append(poly(done, o.failed && o.current === hops.length - 1 ? 'way done failed' : 'way done', true));
  const visits = new Map<string, number>();
  hops.forEach((h, i) => {
    const p = pts[i];
    if (!p) return;
    const [px, py] = stops[i][0];
    const k = key(h.netns, h.device);
    const n = visits.get(k) ?? 0;
    visits.set(k, n + 1);
    const g = svg('g', {
      class: `hop${i === o.current ? ' current' : ''}${i < o.current ? ' passed' : ''}`,
      'data-hop': i,
      tabindex: -1,
      role: 'button',
      'aria-label': `hop ${i + 1}: ${h.netns} ${h.device} ${h.dir}`,
    });
    const bx = px - 22 - n * 20;
    const by = py - 8;
    if (i === o.current) g.append(svg('circle', { cx: px, cy: py, r: 12, class: 'ring' }));
    g.append(
      svg('rect', { x: bx - 8, y: by - 8, width: 16, height: 16, rx: 8, class: 'badge' }),
      svg('text', { x: bx, y: by + 4, class: 'badge-text', 'text-anchor': 'middle' }, String(i + 1)),
    );
    g.addEventListener('click', () => o.onHop(i));
    root.append(g);
  });
  return root;
}
