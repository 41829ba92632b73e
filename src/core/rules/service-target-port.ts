import { problem, type Problem, type QuickFix } from '../problem';
import type { Endpoint, Pod } from '../model/types';
import { podsById } from '../model/pods-by-id';
import type { Rule } from './rule';

/**
 * `service.target-port`: a Service port whose targetPort none of the selected pods exposes. A named targetPort
 * that no container port carries gives the Service no endpoint port at all; a numbered one that no container
 * declares (when the pods do declare ports) most likely points at the wrong port.
 */
/**
 * Whether the selected pods (those of the endpoints) expose the target: a container port of the protocol with that
 * name (a named target), or with that number, or no container port of the protocol at all (a numbered target:
 * nothing declared, nothing to contradict). Read in place, from the endpoints, where a pod met twice or an unknown
 * one changes nothing: every Service port of a large cluster asks, nearly every one passes, most at the first pod.
 */
function exposes(
  endpoints: readonly Endpoint[],
  pods: ReadonlyMap<string, Pod>,
  protocol: string,
  target: number | string,
): boolean {
  let declared = false;
  // Indexed loops: every endpoint of every Service (150,000 at 5,000 nodes), mostly before the engine optimises them.
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i];
    const p = e.pod ? pods.get(e.pod) : undefined;
    if (!p) continue;
    const containers = p.containers;
    for (let j = 0; j < containers.length; j++) {
      const ports = containers[j].ports;
      for (let k = 0; k < ports.length; k++) {
        const cp = ports[k];
        if (cp.protocol !== protocol) continue;
        if (typeof target === 'string' ? cp.name === target : cp.containerPort === target) return true;
        declared = true;
      }
    }
  }
  return typeof target !== 'string' && !declared;
}

/** Each endpoint's pod once, in the endpoints' order. */
function selectedPods(endpoints: readonly Endpoint[], pods: ReadonlyMap<string, Pod>): Pod[] {
  const selected: Pod[] = [];
  const seen = new Set<string | undefined>();
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i];
    if (seen.has(e.pod)) continue;
    seen.add(e.pod);
    const pod = e.pod ? pods.get(e.pod) : undefined;
    if (pod) selected.push(pod);
  }
  return selected;
}

export const serviceTargetPort: Rule = {
  code: 'service.target-port',
  severity: 'warning',
  description: "A Service targetPort that the selected pods' containers do not expose.",
  run({ topology }) {
    const pods = podsById(topology);
    const out: Problem[] = [];
    for (const s of topology.services) {
      if (s.endpointSource !== 'selector') continue;
      let selected: Pod[] | undefined;
      for (const sp of s.ports) {
        if (exposes(s.endpoints, pods, sp.protocol, sp.targetPort)) continue;
        selected ??= selectedPods(s.endpoints, pods);
        if (!selected.length) break; // No pod known: nothing to say about this Service.
        const ports = selected.flatMap((p: Pod) =>
          p.containers.flatMap((c) => c.ports.filter((cp) => cp.protocol === sp.protocol)),
        );
        const target = sp.targetPort;
        const offered = [
          ...new Set(ports.map((cp) => (cp.name ? `${cp.name} (${cp.containerPort})` : String(cp.containerPort)))),
        ];
        const span = sp.spans.targetPort ?? sp.span;
        // The obvious fix: the pods expose exactly one port of this protocol (by name when the target was a name).
        const only = [
          ...new Set(ports.map((cp) => (typeof target === 'string' && cp.name ? cp.name : String(cp.containerPort)))),
        ];
        const fixes: QuickFix[] =
          sp.spans.targetPort && only.length === 1
            ? [{ title: `Change targetPort to ${only[0]}`, edits: [{ span, newText: only[0] }], preferred: true }]
            : [];
        out.push(
          problem(
            'service.target-port',
            'warning',
            `Port ${sp.name || sp.port} of Service ${s.id} targets ${typeof target === 'string' ? `the port named '${target}'` : `port ${target}/${sp.protocol}`}, but none of the ${selected.length} selected pod${selected.length > 1 ? 's' : ''} exposes it (they expose ${offered.join(', ') || 'no ports'}): ${typeof target === 'string' ? 'the Service gets no endpoint for this port and connections are rejected' : 'traffic is forwarded to a port nothing listens on, and connections are refused'}.`,
            span,
            selected
              .slice(0, 5)
              .map((p) => ({ span: p.spans.containers ?? p.spans.name ?? p.span, message: `selected pod ${p.id}` })),
            fixes,
          ),
        );
      }
    }
    return out;
  },
};
