/**
 * What the reachability matrix view draws, computed from an analysis (no `vscode` here: the webview tests build
 * the same messages under plain Node).
 *
 * The core computes one matrix per address family over equivalence classes of pods. A dual-stack cluster's two
 * families can group pods differently (an ipBlock holds addresses of one family), so the view's classes are
 * the pods that share their class in every family: one row and column per such class, and one cell string per
 * family, each cell read from that family's matrix. A single-stack cluster has exactly the core's classes.
 */
import {
  declaredPorts,
  formatReachCsv,
  formatReachMarkdown,
  parsePodFilter,
  podFamilies,
  Reachability,
  reachIP,
  type Analysis,
  type DirectionVerdict,
  type PolicyChoiceSource,
  type PolicyOptions,
  type ReachCell,
  type ReachGroup,
  type ReachMatrix,
  type ReachPort,
} from '../core';
import type { Pod } from '../core/model/types';
import {
  REACH_PODS_SHOWN,
  type ReachExplain,
  type ReachExplainSide,
  type ReachFamily,
  type ReachViewData,
  type ReachViewQuery,
} from '../protocol/messages';
import { shownRowsAndColumns, type ReachShownFilter } from '../protocol/reach';

/** The plug-in choices in effect and where each came from, for the view's status line. */
export interface ReachOptions {
  readonly policy: PolicyOptions;
  readonly source: { readonly ipBlockPodIPs: PolicyChoiceSource; readonly nodeTraffic: PolicyChoiceSource };
}

interface ViewGroup {
  readonly members: Pod[];
  /** The class of the members in each family's matrix (-1: the pods have no address of that family). */
  readonly byFamily: number[];
}

/** The computation behind one view message, kept to explain cells and export without computing again. */
export interface ReachView {
  readonly data: ReachViewData;
  readonly matrices: readonly { readonly family: ReachFamily; readonly reach: Reachability }[];
  readonly groups: readonly ViewGroup[];
  readonly port: ReachPort | undefined;
}

const familyName = (f: 4 | 6): ReachFamily => (f === 4 ? 'IPv4' : 'IPv6');
const familyNumber = (f: ReachFamily): 4 | 6 => (f === 'IPv4' ? 4 : 6);
export const portText = (p: ReachPort): string => `${p.protocol}/${p.port}`;

/** `TCP/8080` (or `8080`, TCP) to a port; undefined when it is neither. */
export function parsePortText(text: string): ReachPort | undefined {
  const m = /^(?:(TCP|UDP|SCTP)\/)?(\d{1,5})$/i.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { protocol: (m[1]?.toUpperCase() ?? 'TCP') as ReachPort['protocol'], port };
}

/** The port most destination pods declare (the first of the sorted ports on a tie): where a matrix is telling. */
function mostDeclared(pods: readonly Pod[], ports: readonly ReachPort[]): ReachPort | undefined {
  const count = new Map<string, number>();
  for (const p of pods)
    for (const key of new Set(p.containers.flatMap((c) => c.ports.map((x) => `${x.protocol}/${x.containerPort}`))))
      count.set(key, (count.get(key) ?? 0) + 1);
  let best: ReachPort | undefined;
  for (const p of ports) if (!best || (count.get(portText(p)) ?? 0) > (count.get(portText(best)) ?? 0)) best = p;
  return best;
}

export function reachView(analysis: Analysis, query: ReachViewQuery, options: ReachOptions): ReachView {
  const t = analysis.topology;
  const problems: string[] = [];
  const filter = (text: string, side: string) => {
    if (!text.trim()) return () => true;
    const parsed = parsePodFilter(text.trim());
    if ('error' in parsed) {
      problems.push(`${side}: ${parsed.error}`);
      return () => false;
    }
    return parsed.filter;
  };
  const from = filter(query.from, 'From');
  const to = filter(query.to, 'To');
  const targets = t.pods.filter((p) => !p.hostNetwork && to(p));
  const ports = declaredPorts(targets);
  let port = query.port ? parsePortText(query.port) : mostDeclared(targets, ports);
  if (query.port && !port) problems.push(`Port '${query.port}' is not a port: write TCP/8080, UDP/53 or 8080.`);
  if (!port && !query.port && !problems.length)
    problems.push('No destination pod declares a container port: type the port to judge.');
  const families = podFamilies(t.pods);
  const judged = port;
  const matrices = judged
    ? families.map((f) => ({
        family: familyName(f),
        reach: new Reachability(t, { ports: [judged], from, to, options: options.policy, family: f }),
      }))
    : [];
  if (!port) port = undefined;

  // The view's classes: pods that share their class in every family's matrix.
  const byKey = new Map<string, ViewGroup>();
  for (const pod of t.pods) {
    if (pod.hostNetwork || !matrices.length) continue;
    const byFamily = matrices.map((m) => m.reach.groupOfPod(pod.id) ?? -1);
    if (byFamily.every((g) => g < 0)) continue;
    const key = byFamily.join('|');
    const g = byKey.get(key);
    if (g) g.members.push(pod);
    else byKey.set(key, { members: [pod], byFamily });
  }
  const groups = [...byKey.values()];
  for (const g of groups) g.members.sort((a, b) => a.id.localeCompare(b.id));
  groups.sort(
    (a, b) =>
      a.members[0].namespace.localeCompare(b.members[0].namespace) ||
      a.byFamily.join(',').localeCompare(b.byFamily.join(',')) ||
      a.members[0].id.localeCompare(b.members[0].id),
  );
  const sources = groups.flatMap((g, i) => (g.members.some(from) ? [i] : []));
  const destinations = groups.flatMap((g, i) => (g.members.some(to) ? [i] : []));

  const cellStrings = matrices.map(({ family, reach }, k) => {
    const m = reach.matrix;
    const row = new Map(m.sources.map((s, i) => [s, i]));
    const col = new Map(m.destinations.map((d, j) => [d, j]));
    const width = m.destinations.length;
    const out: string[] = [];
    for (const s of sources) {
      const i = row.get(groups[s].byFamily[k]);
      const line: string[] = [];
      for (const d of destinations) {
        const j = col.get(groups[d].byFamily[k]);
        // A class without an address of this family: no cell of this family (the other family's cell stands).
        const c = i === undefined || j === undefined ? undefined : m.cells[i * width + j];
        line.push(c ? cellChar(c) : 'n');
      }
      out.push(line.join(''));
    }
    return { family, cells: out.join('') };
  });

  const viewGroups = groups.map((g) => {
    const k = g.byFamily.findIndex((x) => x >= 0);
    const core = matrices[k].reach.matrix.groups[g.byFamily[k]];
    return {
      namespace: core.namespace,
      labels: core.labels,
      pods: g.members.slice(0, REACH_PODS_SHOWN).map((m) => m.id),
      podCount: g.members.length,
      ingressPolicies: core.ingressPolicies,
      egressPolicies: core.egressPolicies,
    };
  });
  const omitted = new Map<string, string>();
  for (const { reach } of matrices)
    for (const o of reach.matrix.omitted) if (!byKey.size || !inAnyGroup(groups, o.pod)) omitted.set(o.pod, o.why);
  const data: ReachViewData = {
    topology: t.name,
    options: { ...options.policy, from: { ...options.source } },
    ports: ports.map(portText),
    port: port ? portText(port) : null,
    groups: viewGroups,
    sources,
    destinations,
    families: cellStrings,
    omitted: [...omitted].map(([pod, why]) => ({ pod, why })).slice(0, 200),
    problems,
  };
  return { data, matrices, groups, port };
}

const memberSets = new WeakMap<readonly ViewGroup[], Set<string>>();
function inAnyGroup(groups: readonly ViewGroup[], pod: string): boolean {
  let set = memberSets.get(groups);
  if (!set) memberSets.set(groups, (set = new Set(groups.flatMap((g) => g.members.map((m) => m.id)))));
  return set.has(pod);
}

function cellChar(c: ReachCell): string {
  if (c.allowed) return 'a';
  if (!c.egress && !c.ingress) return 'b';
  return c.egress ? 'i' : 'e';
}

const side = (v: DirectionVerdict): ReachExplainSide => ({
  direction: v.direction,
  pod: v.pod,
  allowed: v.allowed,
  exempt: v.exempt,
  policies: v.policies.map((p) => ({ id: p.id, span: { ...p.span } })),
  allowedBy: v.allowedBy.map((r) => ({ policy: r.policy, index: r.index, span: { ...r.span } })),
});

/** Why the cell (from, to) of a family is what it is: the evaluator's verdict on one pod of each class. */
export function reachExplain(view: ReachView, from: number, to: number, family: ReachFamily): ReachExplain | undefined {
  const m = view.matrices.find((x) => x.family === family);
  const s = view.groups[from];
  const d = view.groups[to];
  const port = view.port;
  if (!m || !s || !d || !port) return undefined;
  const f = familyNumber(family);
  const withIP = (p: (typeof s.members)[number]) => {
    const ip = reachIP(p, f);
    return ip === undefined ? [] : [{ pod: p, ip }];
  };
  const sources = s.members.flatMap(withIP);
  const destinations = d.members.flatMap(withIP);
  const from1 = sources.at(0);
  const to1 = destinations.find((x) => x.pod !== from1?.pod) ?? destinations.at(0);
  if (!from1 || !to1) return undefined;
  const { pod: source, ip: sourceIP } = from1;
  const { pod: destination, ip: destinationIP } = to1;
  const v = m.reach.index.evaluate({ src: sourceIP, dst: destinationIP, proto: port.protocol, port: port.port });
  return {
    from,
    to,
    family,
    port: portText(port),
    source: source.id,
    destination: destination.id,
    sourceIP,
    destinationIP,
    allowed: v.allowed,
    egress: side(v.egress),
    ingress: side(v.ingress),
    // The tracer's pod endpoints; an address of the family when the pod has two.
    trace: {
      from: source.ips.length > 1 ? sourceIP : `pod/${source.namespace}/${source.name}`,
      to:
        destination.ips.length > 1
          ? `${f === 6 ? `[${destinationIP}]` : destinationIP}:${port.port}`
          : `pod/${destination.namespace}/${destination.name}:${port.port}`,
      proto: port.protocol.toLowerCase() as ReachExplain['trace']['proto'],
    },
  };
}

/** The view's matrix (its filters applied) as Markdown or CSV, through the core's formatters; one per family. */
export function reachExport(view: ReachView, format: 'markdown' | 'csv', f: ReachShownFilter): string {
  const { data, port } = view;
  if (!port) return '';
  const { rows, columns } = shownRowsAndColumns(data, f);
  const width = data.destinations.length;
  const groups: ReachGroup[] = view.groups.map((g, index) => ({
    index,
    namespace: data.groups[index].namespace,
    labels: data.groups[index].labels,
    pods: g.members.map((m) => m.id),
    ingressPolicies: data.groups[index].ingressPolicies,
    egressPolicies: data.groups[index].egressPolicies,
  }));
  const dual = data.families.length > 1;
  const parts = data.families.map(({ family, cells }) => {
    const out: ReachCell[] = [];
    for (const i of rows)
      for (const j of columns) {
        const c = cells[i * width + j];
        if (c === 'n') continue;
        out.push({
          from: data.sources[i],
          to: data.destinations[j],
          port: 0,
          allowed: c === 'a',
          egress: c === 'a' || c === 'i',
          ingress: c === 'a' || c === 'e',
        });
      }
    const m: ReachMatrix = {
      ports: [port],
      groups,
      sources: rows.map((i) => data.sources[i]),
      destinations: columns.map((j) => data.destinations[j]),
      cells: out,
      omitted: [],
    };
    if (format === 'csv') return formatReachCsv(m, dual ? family : undefined);
    const md = formatReachMarkdown(m);
    return dual ? md.replace(/^# NetworkPolicy reachability/, `# NetworkPolicy reachability (${family})`) : md;
  });
  if (format === 'csv') return parts.map((p, k) => (k ? p.slice(p.indexOf('\n') + 1) : p)).join('');
  return parts.join('\n');
}
