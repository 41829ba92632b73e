import { canonical, parsePrefix } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';

/**
 * `cni.flannel-network-mismatch`: flannel's `Network` (net-conf.json) differs from the cluster pod range written
 * elsewhere (kube-controller-manager --cluster-cidr as kubeadm's podSubnet says it, kind's podSubnet, kube-proxy's
 * clusterCIDR). flannel hands out node subnets from its Network when it manages them, the controller manager from
 * the cluster CIDR otherwise, and kube-proxy tells pod traffic by the cluster CIDR: pods outside the one or the
 * other are treated as external (their Service traffic masqueraded) or never get a subnet. kubeadm's flannel
 * instructions say it: `--pod-network-cidr` must be flannel's Network (10.244.0.0/16 in kube-flannel.yml).
 */
export const cniFlannelNetworkMismatch: Rule = {
  code: 'cni.flannel-network-mismatch',
  severity: 'warning',
  description:
    "flannel's Network differs from the cluster pod range (kubeadm podSubnet, kind, kube-proxy clusterCIDR).",
  run({ topology }) {
    const f = topology.cluster.cni.flannel;
    if (!f) return [];
    const out: Problem[] = [];
    const nets = [f.network, f.ipv6Network].flatMap((n) => {
      const p = n ? parsePrefix(n) : undefined;
      return p ? [p] : [];
    });
    const netSpan = f.spans.Network ?? f.spans.network ?? f.span;
    const cluster = topology.cluster;
    // The cluster pod range from another source (the Network itself is used when nothing else declares one).
    const fromElsewhere = cluster.podCIDRs.flatMap((c, i) => {
      const p = parsePrefix(c);
      const span = cluster.spans[`podCIDRs.${i}`];
      return p && span && !(span.file === netSpan.file && span.start === netSpan.start) ? [{ c, p, span }] : [];
    });
    for (const x of fromElsewhere) {
      const n = nets.find((y) => y.family === x.p.family);
      if (!n || canonical(n) === canonical(x.p)) continue;
      out.push(
        problem(
          'cni.flannel-network-mismatch',
          'warning',
          `flannel's Network ${canonical(n)} differs from the cluster pod range ${x.c}: flannel hands out node subnets from ${canonical(n)} while kube-proxy and the controller manager use ${x.c}, so pods outside the one or the other are treated as external (masqueraded, or never given a subnet). Make them the same range.`,
          netSpan,
          [{ span: x.span, message: `cluster pod range ${x.c}` }],
        ),
      );
    }
    return out;
  },
};
