/**
 * The topology view's summary in the compact form the host sends (CompactTopology, messages.ts) and back: the host
 * compacts what view-data.ts summarises, the webview expands what validate.ts accepted. Expanding what was compacted
 * gives the summary again, field for field (test/unit/views/compact-topology.test.ts).
 */
import type {
  CompactPods,
  CompactSpan,
  CompactTopology,
  ElementDiagnostic,
  SpanRef,
  TopologyPod,
  TopologySummary,
} from './messages';
import { hostVethNameOfId } from '../core/model/names';

/** Numbers for strings, in the order they are first seen. */
class Table {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  of(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

/** Key and value, one after the other: a label set's text, and the key it is numbered by. */
const labelPairs = (labels: Readonly<Record<string, string>>) => Object.entries(labels).flat();

export function compactTopology(t: TopologySummary): CompactTopology {
  const files = new Table();
  const namespaces = new Table();
  const nodeNames = new Table();
  // Label sets repeat across the replicas of a workload: numbered by their JSON (which keeps the key order).
  const labelSets: string[][] = [];
  const labelIndex = new Map<string, number>();
  const span = (s: SpanRef): CompactSpan => [files.of(s.file), s.start, s.end];
  const podIndex = new Map<string, number>();
  const pods: {
    names: string[];
    wholeIds: number[];
    namespaces: number[];
    nodes: number[];
    ips: (readonly string[])[];
    veths: { pod: number; veth: string }[];
    hostNetwork: number[];
    labels: number[];
    spans: number[];
    problems: { pod: number; problems: readonly ElementDiagnostic[] }[];
  } = {
    names: [],
    wholeIds: [],
    namespaces: [],
    nodes: [],
    ips: [],
    veths: [],
    hostNetwork: [],
    labels: [],
    spans: [],
    problems: [],
  };
  let lastStart = 0;
  t.pods.forEach((p, i) => {
    podIndex.set(p.id, i);
    const prefix = `${p.namespace}/`;
    if (p.id.startsWith(prefix)) pods.names.push(p.id.slice(prefix.length));
    else {
      pods.names.push(p.id);
      pods.wholeIds.push(i);
    }
    pods.namespaces.push(namespaces.of(p.namespace));
    pods.nodes.push(nodeNames.of(p.node));
    pods.ips.push(p.ips);
    if (p.veth !== hostVethNameOfId(p.id)) pods.veths.push({ pod: i, veth: p.veth });
    if (p.hostNetwork) pods.hostNetwork.push(i);
    const pairs = labelPairs(p.labels);
    const key = JSON.stringify(pairs);
    let l = labelIndex.get(key);
    if (l === undefined) {
      l = labelSets.length;
      labelSets.push(pairs);
      labelIndex.set(key, l);
    }
    pods.labels.push(l);
    pods.spans.push(files.of(p.span.file), p.span.start - lastStart, p.span.end - p.span.start);
    lastStart = p.span.start;
    if (p.problems) pods.problems.push({ pod: i, problems: p.problems });
  });
  return {
    name: t.name,
    diagnostics: t.diagnostics,
    nodes: t.nodes.map((n) => ({ ...n, span: span(n.span) })),
    pods,
    services: t.services.map((s) => ({
      ...s,
      span: span(s.span),
      endpointPods: s.endpointPods.map((id) => podIndex.get(id) ?? id),
    })),
    externals: t.externals.map((x) => ({ ...x, span: span(x.span) })),
    networks: t.networks.map(({ span: s, ...n }) => (s ? { ...n, span: span(s) } : n)),
    files: files.values,
    namespaces: namespaces.values,
    nodeNames: nodeNames.values,
    labelSets,
  };
}

/**
 * The summary `c` stands for. `c` has passed validate.ts's isCompactTopology: every index it holds is in range.
 * Objects that repeat (a label set, a span's file) are shared between the pods that have them.
 */
export function expandTopology(c: CompactTopology): TopologySummary {
  const span = (s: CompactSpan): SpanRef => ({ file: c.files[s[0]], start: s[1], end: s[2] });
  const labelSets = c.labelSets.map((pairs) => {
    const labels: Record<string, string> = {};
    // defineProperty, not assignment: a label named __proto__ stays a label.
    for (let k = 0; k + 1 < pairs.length; k += 2)
      Object.defineProperty(labels, pairs[k], {
        value: pairs[k + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return labels;
  });
  const pods = expandPods(c, c.pods, labelSets);
  return {
    name: c.name,
    nodes: c.nodes.map((n) => ({ ...n, span: span(n.span) })),
    pods,
    services: c.services.map((s) => ({
      ...s,
      span: span(s.span),
      endpointPods: s.endpointPods.map((p) => (typeof p === 'number' ? pods[p].id : p)),
    })),
    externals: c.externals.map((x) => ({ ...x, span: span(x.span) })),
    networks: c.networks.map(({ span: s, ...n }) => (s ? { ...n, span: span(s) } : n)),
    diagnostics: c.diagnostics,
  };
}

function expandPods(
  c: CompactTopology,
  p: CompactPods,
  labelSets: readonly Readonly<Record<string, string>>[],
): TopologyPod[] {
  const whole = new Set(p.wholeIds);
  const host = new Set(p.hostNetwork);
  const problems = new Map(p.problems.map((x) => [x.pod, x.problems]));
  const veths = new Map(p.veths.map((x) => [x.pod, x.veth]));
  let start = 0;
  return p.names.map((name, i) => {
    const namespace = c.namespaces[p.namespaces[i]];
    const id = whole.has(i) ? name : `${namespace}/${name}`;
    start += p.spans[3 * i + 1];
    const pod: TopologyPod = {
      id,
      namespace,
      node: c.nodeNames[p.nodes[i]],
      ips: p.ips[i],
      veth: veths.get(i) ?? hostVethNameOfId(id),
      hostNetwork: host.has(i),
      labels: labelSets[p.labels[i]],
      span: { file: c.files[p.spans[3 * i]], start, end: start + p.spans[3 * i + 2] },
    };
    const found = problems.get(i);
    return found ? { ...pod, problems: found } : pod;
  });
}
