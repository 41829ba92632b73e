import { parseAddress, sameAddress } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';
import { podScan } from './pod-scan';

/**
 * `pod.host-network-ip`: a hostNetwork pod whose IP is not one of its node's addresses. A hostNetwork pod
 * runs in the node's root network namespace, so its IP is the node's IP, whatever the manifest says.
 */
export const podHostNetworkIp: Rule = {
  code: 'pod.host-network-ip',
  severity: 'warning',
  description: "A hostNetwork pod whose IP is not its node's.",
  run({ topology }) {
    // Only the hostNetwork pods (few), found by the pod rules' shared pass.
    const pods = podScan(topology).hostNetwork;
    if (!pods.length) return [];
    const nodes = new Map(topology.nodes.map((n) => [n.name, n]));
    const out: Problem[] = [];
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i];
      const node = nodes.get(pod.node);
      if (!node) continue;
      const nodeIPs = node.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0]));
      const parsed = nodeIPs.map((t) => ({ text: t, address: parseAddress(t) }));
      pod.ips.forEach((ip, k) => {
        const a = parseAddress(ip);
        if (!a || !parsed.length || parsed.some((n) => n.address && sameAddress(n.address, a))) return;
        const span = pod.spans[`ips.${k}`];
        const replacement = parsed.find((n) => n.address?.family === a.family)?.text;
        out.push(
          problem(
            'pod.host-network-ip',
            'warning',
            `Pod ${pod.id} uses hostNetwork, so it shares node ${node.name}'s network namespace and its IP is the node's (${nodeIPs.join(', ')}), not ${ip}. Traffic to ${ip} does not reach it.`,
            span ?? pod.spans.name ?? pod.span,
            [{ span: node.spans.name ?? node.span, message: `node ${node.name}` }],
            span && replacement
              ? [
                  {
                    title: `Change to the node address ${replacement}`,
                    edits: [{ span, newText: replacement }],
                    preferred: true,
                  },
                ]
              : [],
          ),
        );
      });
    }
    return out;
  },
};
