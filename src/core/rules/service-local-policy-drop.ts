import { problem } from '../problem';
import { usableEndpoints } from '../kubeproxy';
import type { Rule } from './rule';

/**
 * `service.local-policy-drop`: a NodePort or LoadBalancer Service with externalTrafficPolicy Local. kube-proxy
 * sends external traffic only to endpoints on the node it arrived at (KUBE-SVL) and drops it on nodes with
 * none; this names those nodes, so the load balancer's health checks can be set up to avoid them.
 */
export const serviceLocalPolicyDrop: Rule = {
  code: 'service.local-policy-drop',
  severity: 'info',
  description:
    'externalTrafficPolicy Local: the nodes that drop NodePort/LoadBalancer traffic because they run no endpoint.',
  run({ topology }) {
    return topology.services.flatMap((s) => {
      if (s.externalTrafficPolicy !== 'Local' || s.type === 'ClusterIP') return [];
      // Per node, as kube-proxy picks local endpoints: the ready ones, else the terminating ones that still serve.
      const byNode = new Map<string, (typeof s.endpoints)[number][]>();
      for (const e of s.endpoints) {
        if (!e.node) continue;
        const list = byNode.get(e.node);
        if (list) list.push(e);
        else byNode.set(e.node, [e]);
      }
      const withEndpoint = new Set([...byNode].filter(([, eps]) => usableEndpoints(eps).used.length).map(([n]) => n));
      if (!withEndpoint.size) return []; // service.no-endpoints
      const dropping = topology.nodes.filter((n) => !withEndpoint.has(n.name)).map((n) => n.name);
      if (!dropping.length) return [];
      const ports = s.ports.flatMap((p) => (p.nodePort === undefined ? [] : [String(p.nodePort)]));
      return [
        problem(
          'service.local-policy-drop',
          'info',
          `Service ${s.id} has externalTrafficPolicy Local: traffic to its ${ports.length ? `NodePort ${ports.join(', ')}` : 'node ports'}${s.type === 'LoadBalancer' ? ' or load balancer' : ''} arriving at ${dropping.slice(0, 6).join(', ')}${dropping.length > 6 ? ` and ${dropping.length - 6} more` : ''} is dropped, because ${dropping.length > 1 ? 'they run' : 'it runs'} no endpoint (endpoints run on ${[...withEndpoint].sort().join(', ')}). The client address is kept on the others.`,
          s.spans.externalTrafficPolicy ?? s.spans.name ?? s.span,
        ),
      ];
    });
  },
};
