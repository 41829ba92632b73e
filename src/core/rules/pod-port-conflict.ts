import { problem, type Problem, type Span } from '../problem';
import { containerPortSpan } from '../model/container-spans';
import type { Rule } from './rule';
import { podScan } from './pod-scan';

/**
 * `pod.port-conflict`: two container ports of one pod on the same port and protocol. The containers of a pod
 * share one network namespace and one port space: the API server only warns, and at run time the second
 * container to bind fails with EADDRINUSE.
 */
export const podPortConflict: Rule = {
  code: 'pod.port-conflict',
  severity: 'error',
  description:
    'Two containers of one pod listen on the same port and protocol (one network namespace, one port space).',
  run({ topology }) {
    const out: Problem[] = [];
    // Only the pods with two ports or more (few), found by the pod rules' shared pass: a pod with one port has nothing
    // to conflict with.
    const pods = podScan(topology).severalPorts;
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i];
      // Each port's span is the pod's (container-spans.ts), by the port's place in the pod's lists.
      const first = new Map<string, { container: string; span: Span }>();
      const containers = pod.containers;
      for (let ci = 0; ci < containers.length; ci++) {
        const c = containers[ci];
        for (let pi = 0; pi < c.ports.length; pi++) {
          const port = c.ports[pi];
          const key = `${port.containerPort}/${port.protocol}`;
          const seen = first.get(key);
          const span = containerPortSpan(pod, ci, pi, 'containerPort') ?? pod.spans.containers ?? pod.span;
          if (!seen) {
            first.set(key, { container: c.name, span });
            continue;
          }
          const same = seen.container === c.name;
          out.push(
            problem(
              'pod.port-conflict',
              'error',
              same
                ? `Container ${c.name} of pod ${pod.id} lists ${key} twice.`
                : `Containers ${seen.container} and ${c.name} of pod ${pod.id} both listen on ${key}: they share the pod's network namespace, so the second one to start fails to bind (EADDRINUSE).`,
              span,
              [
                {
                  span: seen.span,
                  message: `${key} of container ${seen.container}`,
                },
              ],
            ),
          );
        }
      }
    }
    return out;
  },
};
