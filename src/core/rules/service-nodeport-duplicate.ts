import { problem, type Problem, type QuickFix, type Span } from '../problem';
import { freePort } from './fixes';
import type { Rule } from './rule';

/**
 * `service.nodeport-duplicate`: two Service ports with the same nodePort. NodePorts are allocated per port
 * number across the cluster (one Service may use a number for both TCP and UDP, two Services may not): the
 * API server rejects the second one, and kube-proxy cannot send one node port to two Services.
 */
export const serviceNodePortDuplicate: Rule = {
  code: 'service.nodeport-duplicate',
  severity: 'error',
  description: 'Two Services (or two ports of one Service with the same protocol) use the same nodePort.',
  run({ topology }) {
    const { min, max } = topology.cluster.nodePortRange;
    const byPort = new Map<number, { service: string; protocol: string; span: Span; exact: boolean }[]>();
    for (const s of topology.services) {
      for (const p of s.ports) {
        if (p.nodePort === undefined) continue;
        const list = byPort.get(p.nodePort) ?? [];
        list.push({
          service: s.id,
          protocol: p.protocol,
          span: p.spans.nodePort ?? p.span,
          exact: p.spans.nodePort !== undefined,
        });
        byPort.set(p.nodePort, list);
      }
    }
    const used = new Set(byPort.keys());
    const out: Problem[] = [];
    for (const [port, users] of byPort) {
      if (users.length < 2) continue;
      // Each user after the first that clashes with an earlier one: another Service, or the same protocol.
      users.forEach((u, i) => {
        const clash = users.slice(0, i).find((o) => o.service !== u.service || o.protocol === u.protocol);
        if (!clash) return;
        const free = u.exact ? freePort(port, min, max, used) : undefined;
        if (free !== undefined) used.add(free);
        const fixes: QuickFix[] =
          free === undefined
            ? []
            : [
                {
                  title: `Change to ${free}, a free node port`,
                  edits: [{ span: u.span, newText: String(free) }],
                  preferred: true,
                },
              ];
        out.push(
          problem(
            'service.nodeport-duplicate',
            'error',
            `nodePort ${port} of Service ${u.service} is already used by ${clash.service === u.service ? `another ${clash.protocol} port of the same Service` : `Service ${clash.service}`}: the API server rejects the second allocation, and a node port can lead to only one Service.`,
            u.span,
            [{ span: clash.span, message: `nodePort ${port} of Service ${clash.service}` }],
            fixes,
          ),
        );
      });
    }
    return out;
  },
};
