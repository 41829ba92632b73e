/**
 * What the webviews draw, computed from an analysis. No `vscode` here: the webview tests build the same
 * messages under plain Node.
 */
import {
  compileDataPlane,
  destinationChoices,
  sourceChoices,
  traceFlow,
  type Analysis,
  type DataPlane,
  type Problem,
  type Topology,
} from '../core';
import type {
  CompactTopology,
  ElementDiagnostic,
  SpanRef,
  TopologySummary,
  TracePlace,
  TraceRequest,
  TraceViewData,
} from '../protocol/messages';
import { compactTopology } from '../protocol/topology';
import { cniViewOf } from '../core/cni';
import type { CniTunnelView } from '../core/cni/types';

const toDiagnostic = (p: Problem): ElementDiagnostic => ({ severity: p.severity, code: p.code, message: p.message });

/**
 * Diagnostics by the element whose span contains them (the innermost wins). Per file the spans are sorted by start,
 * with the running maximum of their ends: a problem looks only at the spans that start at or before it, walking back
 * until no earlier span reaches its end (near-linear: a 15,000-pod file with every element a span took seconds when
 * each problem tried every span and each list was copied to grow).
 */
function diagnosticsBySpan(problems: readonly Problem[], spans: readonly SpanRef[]): Map<SpanRef, ElementDiagnostic[]> {
  const out = new Map<SpanRef, ElementDiagnostic[]>();
  const byFile = new Map<string, SpanRef[]>();
  for (const s of spans) {
    const list = byFile.get(s.file);
    if (list) list.push(s);
    else byFile.set(s.file, [s]);
  }
  const index = new Map<string, { readonly sorted: SpanRef[]; readonly maxEnd: number[] }>();
  for (const [file, list] of byFile) {
    const sorted = list.sort((a, b) => a.start - b.start || b.end - a.end);
    const maxEnd: number[] = [];
    for (const s of sorted) maxEnd.push(Math.max(s.end, maxEnd[maxEnd.length - 1] ?? -Infinity));
    index.set(file, { sorted, maxEnd });
  }
  for (const p of problems) {
    const file = index.get(p.span.file);
    if (!file) continue;
    const { sorted, maxEnd } = file;
    // The last span that starts at or before the problem.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].start <= p.span.start) lo = mid + 1;
      else hi = mid;
    }
    let best: SpanRef | undefined;
    for (let i = lo - 1; i >= 0 && maxEnd[i] >= p.span.end; i--) {
      const s = sorted[i];
      if (p.span.end <= s.end && (!best || s.end - s.start < best.end - best.start)) best = s;
    }
    if (!best) continue;
    const list = out.get(best);
    if (list) list.push(toDiagnostic(p));
    else out.set(best, [toDiagnostic(p)]);
  }
  return out;
}

export function summarise(analysis: Analysis): TopologySummary {
  const t = analysis.topology;
  // The whole element's span decides which diagnostics it shows; the name's span is what a click reveals.
  const whole = [...t.nodes, ...t.pods, ...t.services, ...t.externals, ...t.networks].map((x) => x.span);
  const found = diagnosticsBySpan(analysis.diagnostics, whole);
  const problemsOf = (s: SpanRef) => found.get(s);
  return {
    name: t.name,
    nodes: t.nodes.map((n) => {
      // The plug-in's view with the topology: flannel's backend and Calico's pools decide whether there is a VTEP.
      const cni = cniViewOf(n, t);
      const tunnelOf = (tn: CniTunnelView) => ({
        protocol: tn.protocol,
        device: tn.device,
        ...(tn.vni !== undefined ? { vni: tn.vni } : {}),
        ...(tn.port !== undefined ? { port: tn.port } : {}),
        ...(tn.address !== undefined ? { address: tn.address } : {}),
        ...(tn.underlay !== undefined ? { underlay: tn.underlay } : {}),
      });
      return {
        name: n.name,
        addresses: n.interfaces.flatMap((i) => i.addresses.map((a) => `${i.name} ${a}`)),
        interfaces: n.interfaces.map((i) => ({ name: i.name, network: i.network, addresses: i.addresses })),
        podCIDRs: n.podCIDRs,
        cni: cni.plugin,
        bridge: n.bridge ? `${n.bridge.name} ${n.bridge.addresses.join(' ')}` : '',
        bridgeName: n.bridge?.name ?? '',
        bridgeAddresses: n.bridge?.addresses ?? [],
        ...(cni.tunnel ? { tunnel: tunnelOf(cni.tunnel) } : {}),
        ...(cni.tunnel6 ? { tunnel6: tunnelOf(cni.tunnel6) } : {}),
        span: n.spans.name ?? n.span,
        problems: problemsOf(n.span),
      };
    }),
    pods: t.pods.map((p) => ({
      id: p.id,
      namespace: p.namespace,
      node: p.node,
      ips: p.ips,
      veth: p.hostNetwork ? '(host network)' : p.hostVeth,
      hostNetwork: p.hostNetwork,
      labels: p.labels,
      span: p.spans.name ?? p.span,
      problems: problemsOf(p.span),
    })),
    services: t.services.map((s) => ({
      id: s.id,
      namespace: s.namespace,
      type: s.type,
      clusterIPs: s.clusterIPs,
      endpointPods: s.endpoints.flatMap((e) => (e.pod ? [e.pod] : [])),
      ports: s.ports.map(
        (p) =>
          `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}${p.nodePort !== undefined ? ` (NodePort ${p.nodePort})` : ''}`,
      ),
      span: s.spans.name ?? s.span,
      problems: problemsOf(s.span),
    })),
    externals: t.externals.map((x) => ({
      name: x.name,
      network: x.network,
      addresses: x.addresses,
      span: x.spans.name ?? x.span,
      problems: problemsOf(x.span),
    })),
    networks: t.networks.map((n) => ({
      name: n.name,
      cidr: n.cidr,
      span: n.spans.name ?? n.span,
      problems: problemsOf(n.span),
    })),
    diagnostics: analysis.diagnostics.length,
  };
}

/** The topology view's summary as the host sends it (the webview expands it: src/protocol/topology.ts). */
export const compactSummary = (analysis: Analysis): CompactTopology => compactTopology(summarise(analysis));

/** Every namespace of the topology, as the trace diagram places them. */
export function tracePlaces(t: Topology): TracePlace[] {
  const places: TracePlace[] = [];
  for (const n of t.nodes) {
    const addresses: Record<string, readonly string[]> = Object.fromEntries(
      n.interfaces.map((i) => [i.name, i.addresses]),
    );
    const cni = cniViewOf(n, t);
    for (const d of cni.devices) addresses[d.name] = d.addresses;
    places.push({
      netns: `node:${n.name}`,
      kind: 'node',
      name: n.name,
      ...(cni.bridge ? { bridge: cni.bridge.name } : {}),
      addresses,
      span: n.spans.name ?? n.span,
    });
  }
  for (const p of t.pods) {
    if (p.hostNetwork) continue;
    places.push({
      netns: `pod:${p.id}`,
      kind: 'pod',
      name: p.id,
      node: p.node,
      hostVeth: p.hostVeth,
      addresses: { eth0: p.ips },
      span: p.spans.name ?? p.span,
    });
  }
  for (const x of t.externals)
    places.push({
      netns: `external:${x.name}`,
      kind: 'external',
      name: x.name,
      addresses: { eth0: x.addresses },
      span: x.spans.name ?? x.span,
    });
  return places;
}

const planes = new WeakMap<Topology, DataPlane>();

/** Traces `request` on the analysed topology; the data plane is compiled once per analysis. */
export function traceViewData(analysis: Analysis, request: TraceRequest): TraceViewData {
  const t = analysis.topology;
  let dp = planes.get(t);
  if (!dp) {
    dp = compileDataPlane(t);
    planes.set(t, dp);
  }
  const outcome = traceFlow(t, { from: request.from, to: request.to, proto: request.proto, reply: request.reply }, dp);
  const used = new Set(
    (outcome.result?.paths ?? []).flatMap((p) => [...p.hops, ...(p.reply?.hops ?? [])].map((h) => h.netns)),
  );
  const places = tracePlaces(t);
  const nodesUsed = new Set(places.filter((p) => used.has(p.netns) && p.node).map((p) => `node:${p.node}`));
  return {
    topology: t.name,
    result: outcome.result ?? null,
    problems: outcome.problems.filter((p) => p.severity === 'error').map((p) => p.message),
    places: places.filter((p) => used.has(p.netns) || nodesUsed.has(p.netns)),
    sources: sourceChoices(t).map((c) => ({ endpoint: c.endpoint, label: c.label.trim(), description: c.description })),
    destinations: destinationChoices(t, request.from).map((c) => ({
      endpoint: c.endpoint,
      label: c.label.trim(),
      description: c.description,
    })),
  };
}
