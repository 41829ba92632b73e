import { problem } from '../problem';
import type { Service } from '../model/types';
import { usableEndpoints } from '../kubeproxy';
import type { Rule } from './rule';

/**
 * `service.no-endpoints`: a Service that has no endpoints and will get none — its selector matches no pod and no
 * workload's pod template (or only workloads scaled to zero), or it has no selector and no EndpointSlice or
 * Endpoints — or whose endpoints are all unready and none of them is a terminating endpoint that still serves (the
 * fallback kube-proxy uses when no endpoint is ready). kube-proxy then installs REJECT rules: clients get
 * "connection refused". Headless Services are left alone: kube-proxy writes nothing for them.
 */
export const serviceNoEndpoints: Rule = {
  code: 'service.no-endpoints',
  severity: 'warning',
  description: 'A Service with no (ready) endpoints and no pods to come: kube-proxy rejects connections to it.',
  run({ topology }) {
    return topology.services.flatMap((s) => {
      if (s.headless || usableEndpoints(s.endpoints).used.length) return [];
      const why = reason(s);
      if (why === undefined) return [];
      return [
        problem(
          'service.no-endpoints',
          'warning',
          `Service ${s.id} has no endpoints: ${why}. kube-proxy installs a REJECT rule for it, so clients get "connection refused".`,
          s.spans.selector ?? s.spans.name ?? s.span,
          s.pending.map((b) => ({ span: b.span, message: `${b.kind} ${b.id}, replicas: 0` })),
        ),
      ];
    });
  },
};

/** Why the Service has no endpoint, or undefined when pods that will exist match it. */
function reason(s: Service): string | undefined {
  if (s.endpoints.length) {
    const n = s.endpoints.length;
    const terminating = s.endpoints.filter((e) => e.terminating).length;
    return terminating
      ? `${n === 1 ? 'its endpoint is' : `all ${n} of its endpoints are`} not ready, and ${terminating === n ? (n === 1 ? 'it is terminating and no longer serving' : 'the terminating ones no longer serve') : 'the terminating ones no longer serve'}`
      : `all ${n} of its endpoints are not ready`;
  }
  const selector = Object.entries(s.selector ?? {});
  if (!selector.length) return 'it has no selector and no EndpointSlice or Endpoints object';
  // Pods without an address yet, and workloads that make pods, are endpoints to come.
  if (s.pending.some((b) => b.replicas !== 0)) return undefined;
  const text = selector.map(([k, v]) => `${k}=${v}`).join(',');
  if (s.pending.length)
    return `its selector ${text} matches only ${s.pending.map((b) => `${b.kind} ${b.id}`).join(', ')}, scaled to replicas: 0`;
  return `its selector ${text} matches no pod and no workload's pod template (Deployment, StatefulSet, DaemonSet, ...) in namespace ${s.namespace}`;
}
