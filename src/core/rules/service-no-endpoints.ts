import { problem } from '../problem';
import type { Rule } from './rule';

/**
 * `service.no-endpoints`: a Service whose selector matches no pod (and that has no EndpointSlice), or whose
 * endpoints are all unready. kube-proxy then installs REJECT rules: clients get "connection refused".
 */
export const serviceNoEndpoints: Rule = {
  code: 'service.no-endpoints',
  severity: 'warning',
  description: 'A Service with no (ready) endpoints: kube-proxy rejects connections to it.',
  run({ topology }) {
    return topology.services.flatMap((s) => {
      if (s.endpoints.some((e) => e.ready)) return [];
      const why = s.endpoints.length
        ? `all ${s.endpoints.length} of its endpoints are not ready`
        : s.endpointSource === 'selector' || (s.selector && Object.keys(s.selector).length)
          ? `its selector ${Object.entries(s.selector ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(',')} matches no pod in namespace ${s.namespace}`
          : 'it has no selector and no EndpointSlice';
      return [
        problem(
          'service.no-endpoints',
          'warning',
          `Service ${s.id} has no endpoints: ${why}. kube-proxy installs a REJECT rule for it, so clients get "connection refused".`,
          s.spans.selector ?? s.spans.name ?? s.span,
        ),
      ];
    });
  },
};
