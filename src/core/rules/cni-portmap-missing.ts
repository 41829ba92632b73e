import { problem } from '../problem';
import type { Rule } from './rule';
import { podScan } from './pod-scan';
import { containerPortSpan } from '../model/container-spans';

/**
 * `cni.portmap-missing`: a pod asks for a hostPort, but the CNI configuration read has no portmap plug-in in its
 * chain. hostPort is not done by kube-proxy or the kubelet: the CNI runtime passes the port mappings to plug-ins
 * with the `portMappings` capability, and without portmap nothing opens the port (the kubelet accepts the pod,
 * the port silently does not answer; kubernetes.io "Network Plugins": "hostPort ... requires the portmap plugin").
 */
export const cniPortmapMissing: Rule = {
  code: 'cni.portmap-missing',
  severity: 'warning',
  description: "A pod's hostPort, but the CNI configuration has no portmap plug-in: the port is never opened.",
  run({ topology }) {
    const pm = topology.cluster.cni.portmap;
    if (pm.enabled) return [];
    // Only the pods that take a port of their node, found by the pod rules' shared pass.
    return podScan(topology).nodePorts.flatMap((pod) =>
      pod.hostNetwork
        ? []
        : pod.containers.flatMap((c, ci) =>
            c.ports.flatMap((p, pi) =>
              p.hostPort
                ? [
                    problem(
                      'cni.portmap-missing',
                      'warning',
                      `Pod ${pod.id} asks for hostPort ${p.hostPort}/${p.protocol}, but the CNI configuration has no portmap plug-in: nothing DNATs the node's port to the pod, so connections to it are refused. Add {"type": "portmap", "capabilities": {"portMappings": true}} to the conflist's plugins.`,
                      containerPortSpan(pod, ci, pi, 'hostPort') ?? pod.spans.containers ?? pod.span,
                      [{ span: pm.span, message: 'the CNI configuration' }],
                    ),
                  ]
                : [],
            ),
          ),
    );
  },
};
