/**
 * The topology as an ELK graph: nodes as groups holding a bridge and one group per namespace of pods (each
 * pod joined to the bridge by its veth), the underlay networks with the nodes' and externals' addresses on
 * the links, and Services with edges to their endpoints. Collapsed groups become one box with counts.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { ElementDiagnostic, SpanRef, TopologySummary } from '../../protocol/messages';

export type ElementKind =
  'nodes' | 'node' | 'ns' | 'pod' | 'bridge' | 'routes' | 'vtep' | 'services' | 'service' | 'external' | 'network';

/** What a drawn element stands for: its text, where it is in the YAML, and what a trace calls it. */
export interface ElementInfo {
  readonly id: string;
  readonly kind: ElementKind;
  readonly label: string;
  readonly sub: string;
  readonly span?: SpanRef;
  readonly problems: readonly ElementDiagnostic[];
  /** Trace endpoint syntax, for the context action. */
  readonly endpoint?: string;
  /** Groups: collapsed now, and how many pods they hold. */
  readonly collapsible?: boolean;
  readonly collapsed?: boolean;
  readonly search: string;
}

export interface Filters {
  readonly namespace: string;
  /** `key=value` or `key`. */
  readonly label: string;
  readonly search: string;
}

export interface Graph {
  readonly elk: ElkNode;
  readonly info: ReadonlyMap<string, ElementInfo>;
  readonly matches: readonly string[];
  readonly edgeClass: ReadonlyMap<string, string>;
  readonly counts: { readonly pods: number; readonly shown: number };
}

/** More nodes (or Services) than this are drawn in collapsed groups, so a big cluster fits the view, readably. */
export const MAX_SHOWN = 16;
/**
 * An open group with more members than this holds groups again (at most six, in order), so every level a person
 * opens draws a few dozen boxes at most and its layout stays quick: 5,000 nodes are 6 groups of 834, then 139, then
 * 24 nodes. A group of up to 30 draws its members.
 */
export const MAX_OPEN = 30;
/** How many groups at most: each holds at least 10 members. */
const MAX_GROUPS = 6;

const chunkSize = (count: number) => Math.max(10, Math.ceil(count / MAX_GROUPS));

/** Splits `items` into consecutive groups (topology order) of equal size, at least 10 each, at most 6 groups. */
export function chunks<T>(items: readonly T[]): T[][] {
  const size = chunkSize(items.length);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Whether `count` members are drawn in groups: at the top level past MAX_SHOWN, inside an open group past MAX_OPEN. */
const grouped = (count: number, nested: boolean) => count > (nested ? MAX_OPEN : MAX_SHOWN);

/**
 * The ids of the groups that hold the `index`-th of `count` members, outermost first (none when they are drawn
 * alone): `top(0)`, then `top(0).3`, … — what must be open for that member to be drawn.
 */
export function groupsHolding(count: number, index: number, top: (i: number) => string): string[] {
  const out: string[] = [];
  let nested = false;
  while (grouped(count, nested)) {
    const size = chunkSize(count);
    const gi = Math.floor(index / size);
    out.push(nested ? `${out[out.length - 1]}.${gi}` : top(gi));
    count = Math.min(size, count - gi * size);
    index -= gi * size;
    nested = true;
  }
  return out;
}

/** Every group id of `count` members at every level (what "Expand all" opens). */
export function allGroups(count: number, top: (i: number) => string): string[] {
  const out: string[] = [];
  const walk = (n: number, nested: boolean, id: (i: number) => string) => {
    if (!grouped(n, nested)) return;
    const size = chunkSize(n);
    for (let gi = 0; gi * size < n; gi++) {
      const gid = id(gi);
      out.push(gid);
      walk(Math.min(size, n - gi * size), true, (i) => `${gid}.${i}`);
    }
  };
  walk(count, false, top);
  return out;
}

/**
 * One formatter for every count: `toLocaleString` with a locale builds a new one at each call, which cost a 15,000-pod
 * view's first graph about 10 ms of its thread for a few dozen labels.
 */
const COUNT = new Intl.NumberFormat('en-US');
export const plural = (n: number, one: string, many = `${one}s`) => `${COUNT.format(n)} ${n === 1 ? one : many}`;
export const nodesGroupId = (i: number) => `nodes:${i}`;
export const servicesGroupId = (i: number) => `services:${i}`;

const CHAR = 7;
const width = (label: string, sub: string, min: number) =>
  Math.max(min, Math.min(320, Math.max(label.length, sub.length) * CHAR + 24));

function labelMatches(labels: Readonly<Record<string, string>>, filter: string): boolean {
  if (!filter) return true;
  const [k, ...rest] = filter.split('=');
  const key = k.trim();
  if (!rest.length) return key in labels;
  return labels[key] === rest.join('=').trim();
}

export const nodeId = (name: string) => `node:${name}`;
export const nsId = (node: string, ns: string) => `ns:${node}/${ns}`;

/** Builds the graph for the current filters; `expanded` holds the ids of open groups. */
export function buildGraph(t: TopologySummary, expanded: ReadonlySet<string>, f: Filters): Graph {
  const info = new Map<string, ElementInfo>();
  const edges: ElkExtendedEdge[] = [];
  const search = f.search.trim().toLowerCase();
  const matches: string[] = [];
  const add = (i: ElementInfo) => {
    info.set(i.id, i);
    if (search && i.search.toLowerCase().includes(search)) matches.push(i.id);
  };
  const edgeIds = new Set<string>();
  const edgeClass = new Map<string, string>();
  const edge = (source: string, target: string, label?: string, cls = 'plain') => {
    const id = `e:${source}>${target}`;
    if (edgeIds.has(id)) return;
    edgeIds.add(id);
    edgeClass.set(id, cls);
    edges.push({
      id,
      sources: [source],
      targets: [target],
      labels: label ? [{ id: `${id}:l`, text: label, width: label.length * 6 + 4, height: 14 }] : [],
      layoutOptions: { 'elk.edgeLabels.placement': 'CENTER' },
    });
  };

  const pods = t.pods.filter((p) => (!f.namespace || p.namespace === f.namespace) && labelMatches(p.labels, f.label));
  const podsByNode = new Map<string, typeof pods>();
  for (const p of pods) {
    const list = podsByNode.get(p.node);
    if (list) list.push(p);
    else podsByNode.set(p.node, [p]);
  }
  /** Where a pod is drawn: itself, or the collapsed group that holds it. */
  const shownAs = new Map<string, string>();
  const children: ElkNode[] = [];

  // A big cluster's nodes in groups of alike size, each collapsed until opened; the nodes of an open group
  // are drawn inside it (or its groups, when it holds many). A small cluster's nodes are drawn at the top level.
  /** Where a node is drawn: itself, or its collapsed group. */
  const nodeShownAs = new Map<string, string>();
  placeNodes(t.nodes, children, false, nodesGroupId);

  function placeNodes(
    members: readonly TopologySummary['nodes'][number][],
    target: ElkNode[],
    nested: boolean,
    id: (i: number) => string,
  ): void {
    if (!grouped(members.length, nested)) {
      for (const n of members) {
        nodeShownAs.set(n.name, nodeId(n.name));
        drawNode(n, target);
      }
      return;
    }
    chunks(members).forEach((group, gi) => {
      const gid = id(gi);
      const podCount = group.reduce((k, n) => k + (podsByNode.get(n.name)?.length ?? 0), 0);
      const open = expanded.has(gid);
      const label = `nodes ${group[0].name} … ${group[group.length - 1].name}`;
      const sub = `${plural(group.length, 'node')} · ${plural(podCount, 'pod')}`;
      add({
        id: gid,
        kind: 'nodes',
        label,
        sub,
        problems: group.flatMap((n) => n.problems ?? []),
        collapsible: true,
        collapsed: !open,
        search: group.map((n) => `${n.name} ${n.addresses.join(' ')}`).join(' '),
      });
      if (!open) {
        for (const n of group) {
          nodeShownAs.set(n.name, gid);
          for (const p of podsByNode.get(n.name) ?? []) shownAs.set(p.id, gid);
        }
        target.push({ id: gid, width: width(label, sub, 220) + 30, height: 52 });
        return;
      }
      const inner: ElkNode[] = [];
      target.push({
        id: gid,
        children: inner,
        layoutOptions: { 'elk.padding': '[top=34,left=12,bottom=12,right=12]' },
      });
      placeNodes(group, inner, true, (i) => `${gid}.${i}`);
    });
  }

  function drawNode(n: TopologySummary['nodes'][number], children: ElkNode[]): void {
    const id = nodeId(n.name);
    const mine = podsByNode.get(n.name) ?? [];
    const open = expanded.has(id);
    const sub = `${n.podCIDRs.join(', ')} · ${mine.length} pod${mine.length === 1 ? '' : 's'}`;
    add({
      id,
      kind: 'node',
      label: `node ${n.name}`,
      sub,
      span: n.span,
      problems: n.problems ?? [],
      endpoint: `node/${n.name}`,
      collapsible: true,
      collapsed: !open,
      search: `${n.name} ${n.addresses.join(' ')} ${n.podCIDRs.join(' ')}`,
    });
    if (!open) {
      for (const p of mine) shownAs.set(p.id, id);
      children.push({ id, width: width(`node ${n.name}`, sub, 200) + 30, height: 52 });
    } else {
      const inner: ElkNode[] = [];
      const bridge = `bridge:${n.name}`;
      // Where the pods' veths end on the node: the CNI plug-in's bridge, or the node itself for a routed plug-in.
      const bsub = n.bridgeAddresses.join(', ');
      const blabel = n.bridgeName ? `bridge ${n.bridgeName}` : `${n.cni ?? 'CNI'}: no bridge, a route per pod`;
      add({
        id: bridge,
        kind: n.bridgeName ? 'bridge' : 'routes',
        label: blabel,
        sub: bsub,
        span: n.span,
        problems: [],
        search: `${n.bridgeName} ${bsub}`,
      });
      inner.push({ id: bridge, width: width(blabel, bsub, 160), height: 40 });
      // An encapsulating plug-in's tunnel endpoints: the pods' traffic to other nodes leaves through them (a
      // dual-stack overlay has a second one for IPv6, flannel-v6.1 or vxlan-v6.calico, with its own id).
      for (const [tn, vtep] of [
        [n.tunnel, `vtep:${n.name}`],
        [n.tunnel6, `vtep6:${n.name}`],
      ] as const) {
        if (!tn) continue;
        const vlabel = `${tn.protocol === 'vxlan' ? 'VTEP' : 'IPIP tunnel'} ${tn.device}`;
        const vsub = [
          tn.vni !== undefined ? `VNI ${tn.vni}` : tn.protocol === 'ipip' ? 'IP protocol 4' : '',
          tn.port !== undefined ? `UDP ${tn.port}` : '',
          tn.address ? `${tn.address}/${tn.address.includes(':') ? 128 : 32}` : '',
        ]
          .filter(Boolean)
          .join(' · ');
        add({
          id: vtep,
          kind: 'vtep',
          label: vlabel,
          sub: vsub,
          span: n.span,
          problems: [],
          search: `${tn.device} ${vsub} ${tn.underlay ?? ''}`,
        });
        inner.push({ id: vtep, width: width(vlabel, vsub, 160), height: 40 });
        edge(bridge, vtep, tn === n.tunnel6 ? 'IPv6 to other nodes' : 'to other nodes');
      }
      const byNs = new Map<string, typeof mine>();
      for (const p of mine) {
        const list = byNs.get(p.namespace);
        if (list) list.push(p);
        else byNs.set(p.namespace, [p]);
      }
      for (const [ns, list] of [...byNs].sort(([a], [b]) => a.localeCompare(b))) {
        const gid = nsId(n.name, ns);
        const nsOpen = !expanded.has(`closed:${gid}`);
        add({
          id: gid,
          kind: 'ns',
          label: `namespace ${ns}`,
          sub: `${list.length} pod${list.length === 1 ? '' : 's'}`,
          problems: [],
          collapsible: true,
          collapsed: !nsOpen,
          search: ns,
        });
        if (!nsOpen) {
          for (const p of list) shownAs.set(p.id, gid);
          inner.push({ id: gid, width: width(`namespace ${ns}`, '', 170) + 30, height: 48 });
          edge(gid, bridge, `${list.length} veths`);
          continue;
        }
        const podNodes: ElkNode[] = [];
        for (const p of list) {
          const pid = `pod:${p.id}`;
          const psub = p.ips.join(', ');
          add({
            id: pid,
            kind: 'pod',
            label: p.id,
            sub: psub,
            span: p.span,
            problems: p.problems ?? [],
            endpoint: `pod/${p.id}`,
            search: `${p.id} ${psub} ${Object.entries(p.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`,
          });
          shownAs.set(p.id, pid);
          podNodes.push({ id: pid, width: width(p.id, psub, 150), height: 40 });
          if (!p.hostNetwork) edge(pid, bridge, `eth0 ⇄ ${p.veth}`, 'veth');
        }
        inner.push({
          id: gid,
          children: podNodes,
          layoutOptions: { 'elk.padding': '[top=30,left=10,bottom=10,right=10]' },
        });
      }
      children.push({ id, children: inner, layoutOptions: { 'elk.padding': '[top=34,left=12,bottom=12,right=12]' } });
    }
  }

  for (const net of t.networks) {
    const id = `net:${net.name}`;
    add({
      id,
      kind: 'network',
      label: `network ${net.name}`,
      sub: net.cidr,
      span: net.span,
      problems: net.problems ?? [],
      search: `${net.name} ${net.cidr}`,
    });
    children.push({ id, width: width(`network ${net.name}`, net.cidr, 220), height: 40 });
  }
  const netIds = new Set(t.networks.map((n) => `net:${n.name}`));
  const groupLinks = new Map<string, number>();
  for (const n of t.nodes) {
    const shown = nodeShownAs.get(n.name) ?? nodeId(n.name);
    for (const i of n.interfaces) {
      if (!netIds.has(`net:${i.network}`)) continue;
      if (shown === nodeId(n.name)) edge(shown, `net:${i.network}`, `${i.name} ${i.addresses.join(', ')}`, 'underlay');
      else
        groupLinks.set(`${shown}\u0000net:${i.network}`, (groupLinks.get(`${shown}\u0000net:${i.network}`) ?? 0) + 1);
    }
  }
  for (const [key, count] of groupLinks) {
    const [from, to] = key.split('\u0000');
    edge(from, to, plural(count, 'interface'), 'underlay');
  }
  for (const x of t.externals) {
    const id = `external:${x.name}`;
    const sub = x.addresses.join(', ');
    add({
      id,
      kind: 'external',
      label: `external ${x.name}`,
      sub,
      span: x.span,
      problems: x.problems ?? [],
      endpoint: `external/${x.name}`,
      search: `${x.name} ${sub}`,
    });
    children.push({ id, width: width(`external ${x.name}`, sub, 160), height: 40 });
    if (netIds.has(`net:${x.network}`)) edge(id, `net:${x.network}`, sub, 'underlay');
  }
  const services = t.services.filter((s) => !f.namespace || s.namespace === f.namespace);
  placeServices(services, children, false, servicesGroupId);

  function placeServices(
    members: readonly TopologySummary['services'][number][],
    target: ElkNode[],
    nested: boolean,
    id: (i: number) => string,
  ): void {
    if (!grouped(members.length, nested)) {
      for (const s of members) drawService(s, target);
      return;
    }
    chunks(members).forEach((group, gi) => {
      const gid = id(gi);
      const open = expanded.has(gid);
      const label = `Services ${group[0].id} … ${group[group.length - 1].id}`;
      const sub = plural(group.length, 'Service');
      add({
        id: gid,
        kind: 'services',
        label,
        sub,
        problems: group.flatMap((m) => m.problems ?? []),
        collapsible: true,
        collapsed: !open,
        search: group.map((m) => `${m.id} ${m.clusterIPs.join(' ')}`).join(' '),
      });
      if (!open) {
        target.push({ id: gid, width: width(label, sub, 220) + 30, height: 52 });
        const targets = new Set<string>();
        for (const m of group)
          for (const p of m.endpointPods) {
            const to = shownAs.get(p);
            if (to) targets.add(to);
          }
        for (const to of targets) edge(gid, to, undefined, 'service');
        return;
      }
      const inner: ElkNode[] = [];
      target.push({
        id: gid,
        children: inner,
        layoutOptions: { 'elk.padding': '[top=34,left=12,bottom=12,right=12]' },
      });
      placeServices(group, inner, true, (i) => `${gid}.${i}`);
    });
  }

  function drawService(s: TopologySummary['services'][number], target: ElkNode[]): void {
    const id = `svc:${s.id}`;
    const sub = `${s.type} ${s.clusterIPs.join(', ')}`;
    add({
      id,
      kind: 'service',
      label: `Service ${s.id}`,
      sub,
      span: s.span,
      problems: s.problems ?? [],
      endpoint: `svc/${s.id}`,
      search: `${s.id} ${s.clusterIPs.join(' ')} ${s.ports.join(' ')}`,
    });
    target.push({ id, width: width(`Service ${s.id}`, sub, 170), height: 40 });
    for (const p of s.endpointPods) {
      const to = shownAs.get(p);
      if (to) edge(id, to, undefined, 'service');
    }
  }

  const elk: ElkNode = { id: 'root', layoutOptions: ROOT_LAYOUT, children, edges };
  return { elk, info, matches, edgeClass, counts: { pods: t.pods.length, shown: pods.length } };
}

/** How ELK lays out every graph of this view. */
const ROOT_LAYOUT: Readonly<Record<string, string>> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.json.edgeCoords': 'ROOT',
  'elk.spacing.nodeNode': '24',
  'elk.layered.spacing.nodeNodeBetweenLayers': '40',
  'elk.spacing.edgeLabel': '4',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.edgeRouting': 'ORTHOGONAL',
  // The nodes, pods and Services in the order the topology lists them, not the reverse.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.crossingMinimization.forceNodeModelOrder': 'true',
};

/**
 * A small graph of the same shape (groups holding boxes, labelled edges across them): laid out while the host is
 * still analysing, it gets ELK's code compiled in the worker before the first real layout needs it (the first
 * layout of a page took seconds longer than the next ones).
 */
export function warmUpGraph(): ElkNode {
  const box = (id: string) => ({ id, width: 150, height: 40 });
  const group = (id: string, members: string[]): ElkNode => ({
    id,
    children: members.map(box),
    layoutOptions: { 'elk.padding': '[top=34,left=12,bottom=12,right=12]' },
  });
  const edge = (id: string, from: string, to: string): ElkExtendedEdge => ({
    id,
    sources: [from],
    targets: [to],
    labels: [{ id: `${id}:l`, text: id, width: 40, height: 14 }],
    layoutOptions: { 'elk.edgeLabels.placement': 'CENTER' },
  });
  return {
    id: 'root',
    layoutOptions: ROOT_LAYOUT,
    children: [group('a', ['a1', 'a2', 'a3']), group('b', ['b1', 'b2']), box('net'), box('svc')],
    edges: [
      edge('e1', 'a1', 'a3'),
      edge('e2', 'a2', 'a3'),
      edge('e3', 'b1', 'b2'),
      edge('e4', 'a', 'net'),
      edge('e5', 'b', 'net'),
      edge('e6', 'svc', 'a1'),
      edge('e7', 'svc', 'b1'),
    ],
  };
}
