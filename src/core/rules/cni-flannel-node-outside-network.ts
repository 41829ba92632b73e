import { canonical, parsePrefix, prefixContains } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';

export const CNI_FLANNEL_NODE_OUTSIDE = 'cni.flannel-node-outside-network';

/**
 * `cni.flannel-node-outside-network`: a node's podCIDR outside flannel's `Network` (net-conf.json). With `--kube-subnet-mgr` (the kube-flannel.yml default) flanneld takes each node's subnet from
 * Node spec.podCIDR and exits when the Network does not contain it (flannel-io/flannel pkg/subnet/kube/kube.go:
 * "subnet ... specified in the flannel net config doesn't contain ... PodCIDR of the ... node"): an error at
 * that node. (A Network that differs from the cluster range is `cni.flannel-network-mismatch`.)
 */
export const cniFlannelNodeOutsideNetwork: Rule = {
  code: CNI_FLANNEL_NODE_OUTSIDE,
  severity: 'error',
  description: "A node's podCIDR outside flannel's Network: flanneld refuses the node's subnet and exits on that node.",
  run({ topology }) {
    const f = topology.cluster.cni.flannel;
    if (!f) return [];
    const out: Problem[] = [];
    const nets = [f.network, f.ipv6Network].flatMap((n) => {
      const p = n ? parsePrefix(n) : undefined;
      return p ? [p] : [];
    });
    if (!nets.length) return [];
    const netSpan = f.spans.Network ?? f.spans.network ?? f.span;
    const text = nets.map(canonical).join(', ');
    for (const node of topology.nodes) {
      node.podCIDRs.forEach((c, i) => {
        const p = parsePrefix(c);
        const same = p && nets.filter((n) => n.family === p.family);
        if (!p || !same?.length || same.some((n) => prefixContains(n, p))) return;
        out.push(
          problem(
            CNI_FLANNEL_NODE_OUTSIDE,
            'error',
            `Node ${node.name}'s podCIDR ${c} is outside flannel's Network ${text}: flanneld (--kube-subnet-mgr) refuses the node's subnet and exits, so pods on ${node.name} get no network. Make flannel's Network the cluster pod range (kubeadm --pod-network-cidr).`,
            node.spans[`podCIDRs.${i}`] ?? node.span,
            [{ span: netSpan, message: `flannel Network ${text}` }],
          ),
        );
      });
    }
    return out;
  },
};
