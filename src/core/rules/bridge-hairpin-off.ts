import type { Node, Pod } from '../model/types';
import { problem, type Problem, type Span } from '../problem';
import { MAX_TRACES, trace, written } from './probes';
import { podsById } from '../model/pods-by-id';
import type { Rule } from './rule';

/**
 * `bridge.hairpin-off`: hairpin mode is off on a node's bridge while a pod there is a backend of a Service
 * it can call. kube-proxy may pick the caller itself; the DNATed frame must then leave by the bridge port it
 * came in on, which the bridge refuses without hairpin mode. Confirmed per node by tracing from such a pod to
 * the Service: one of the load-balanced paths must end with the tracer's `hairpin-off` reason. One
 * diagnostic per hairpin setting (a cluster-wide `cni.hairpinMode` covers every node).
 */
export const bridgeHairpinOff: Rule = {
  code: 'bridge.hairpin-off',
  severity: 'warning',
  description: 'Hairpin mode is off while a pod is a backend of a Service it can call.',
  needs: ['dataplane'],
  run({ topology: t, dataplane }) {
    if (!dataplane) return []; // runRules skips the rule without one; a direct caller gets no findings.
    const dp = dataplane;
    const off = new Map(t.nodes.filter((n) => n.bridge && !n.bridge.hairpinMode).map((n) => [n.name, n]));
    if (!off.size) return [];
    const podById = podsById(t);
    const hits = new Map<string, { span: Span; node: Node; nodes: string[]; pod: Pod; service: string }>();
    let budget = MAX_TRACES;
    const confirmed = new Set<string>();
    for (const svc of t.services) {
      if (!svc.clusterIPs.length || !svc.ports.length) continue;
      for (const e of svc.endpoints) {
        const pod = e.pod ? podById.get(e.pod) : undefined;
        const node = pod ? off.get(pod.node) : undefined;
        if (!pod || !node || pod.hostNetwork || !e.ready || confirmed.has(node.name)) continue;
        if (budget-- <= 0) break;
        const result = trace(t, dp, `pod/${pod.id}`, `svc/${svc.id}:${svc.ports[0].port}`);
        if (!result?.paths.some((p) => p.reason === 'hairpin-off')) continue;
        confirmed.add(node.name);
        const span =
          written(node.bridge?.spans.hairpinMode) ??
          written(t.cluster.cni.spans.hairpinMode) ??
          written(node.spans.name) ??
          node.span;
        const key = `${span.file}|${span.start}|${span.end}`;
        const hit = hits.get(key);
        if (hit) hit.nodes.push(node.name);
        else hits.set(key, { span, node, nodes: [node.name], pod, service: svc.id });
      }
    }
    const out: Problem[] = [];
    for (const h of hits.values()) {
      const fixes =
        h.span === written(h.node.bridge?.spans.hairpinMode) || h.span === written(t.cluster.cni.spans.hairpinMode)
          ? [{ title: 'Set hairpinMode to true', edits: [{ span: h.span, newText: 'true' }], preferred: true }]
          : [];
      out.push(
        problem(
          'bridge.hairpin-off',
          'warning',
          `Hairpin mode is off on the bridge of ${h.nodes.length > 1 ? `nodes ${h.nodes.join(', ')}` : `node ${h.nodes[0]}`}, and pod ${h.pod.id} there is a backend of Service ${h.service}: when kube-proxy picks the calling pod itself, the frame has to leave by the bridge port it came in on, the bridge drops it, and the connection hangs (a trace from ${h.pod.id} to the Service shows the path ending with 'hairpin-off'). Turn hairpin mode on (the CNI bridge plugin's hairpinMode: true, or kubelet's hairpin-veth mode).`,
          h.span,
          [{ span: written(h.pod.spans.name) ?? h.pod.span, message: `pod ${h.pod.id}, a backend of ${h.service}` }],
          fixes,
        ),
      );
    }
    return out;
  },
};
