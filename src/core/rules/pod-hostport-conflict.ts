import { problem, type Problem, type Span } from '../problem';
import { containerPortSpan } from '../model/container-spans';
import type { ContainerPort, Pod } from '../model/types';
import type { Rule } from './rule';
import { podScan } from './pod-scan';

/** Where a port's hostPort is written, or its containerPort (a hostNetwork pod's). */
function portSpan(pod: Pod, container: number, port: number): Span {
  return (
    containerPortSpan(pod, container, port, 'hostPort') ??
    containerPortSpan(pod, container, port, 'containerPort') ??
    pod.spans.containers ??
    pod.span
  );
}

const ANY = new Set(['', '0.0.0.0', '::']);

/**
 * `pod.hostport-conflict`: two pods on one node that take the same hostPort and protocol on overlapping host IPs
 * (unset, 0.0.0.0 and :: mean every address). The scheduler never places the second (NodePorts filter,
 * pkg/scheduler/framework/plugins/nodeports: "node(s) didn't have free ports for the requested pod ports"), and
 * the kubelet rejects one bound with spec.nodeName (its admission runs the same check). Two hostPorts of one pod
 * that collide are the API server's business (it refuses them).
 */
export const podHostportConflict: Rule = {
  code: 'pod.hostport-conflict',
  severity: 'error',
  description: 'Two pods on one node take the same hostPort and protocol (the second is never scheduled).',
  run({ topology }) {
    const out: Problem[] = [];
    // Each port's span is its pod's (container-spans.ts), found by the port's place in the pod's lists.
    const byKey = new Map<string, { pod: Pod; port: ContainerPort; span: Span }[]>();
    // Only the pods that take a port of their node (few), found by the pod rules' shared pass. Indexed loops: the rule
    // runs once per analysis, mostly before the engine optimises it, where a for-of made an object per step.
    const pods = podScan(topology).nodePorts;
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i];
      if (!pod.node) continue;
      const containers = pod.containers;
      for (let ci = 0; ci < containers.length; ci++)
        for (let pi = 0; pi < containers[ci].ports.length; pi++) {
          const port = containers[ci].ports[pi];
          // hostNetwork pods take their containerPort on the node (hostPort defaults to it).
          const hostPort = port.hostPort ?? (pod.hostNetwork ? port.containerPort : undefined);
          if (!hostPort) continue;
          const key = `${pod.node}\u0000${hostPort}\u0000${port.protocol}`;
          const list = byKey.get(key) ?? [];
          const clash = list.find(
            (x) =>
              x.pod.id !== pod.id &&
              (ANY.has(x.port.hostIP ?? '') || ANY.has(port.hostIP ?? '') || x.port.hostIP === port.hostIP),
          );
          if (clash) {
            out.push(
              problem(
                'pod.hostport-conflict',
                'error',
                `Pods ${clash.pod.id} and ${pod.id} both take hostPort ${hostPort}/${port.protocol} on node ${pod.node}: only one process can own a node port, so the scheduler never places the second ("didn't have free ports for the requested pod ports") and the kubelet refuses one bound to the node directly. Give one another hostPort or node, or use a Service.`,
                portSpan(pod, ci, pi),
                [
                  {
                    span: clash.span,
                    message: `hostPort ${hostPort}/${port.protocol} of ${clash.pod.id}`,
                  },
                ],
              ),
            );
            continue;
          }
          list.push({ pod, port, span: portSpan(pod, ci, pi) });
          byKey.set(key, list);
        }
    }
    return out;
  },
};
