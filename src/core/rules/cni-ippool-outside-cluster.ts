import { parsePrefix, prefixContains } from '../net/address';
import { problem } from '../problem';
import type { Rule } from './rule';

/**
 * `cni.ippool-outside-cluster`: an enabled Calico IPPool not inside the cluster pod range (kube-proxy's
 * clusterCIDR, kubeadm's podSubnet). Pods with addresses from it are "outside the cluster" to kube-proxy: their
 * traffic to Services is masqueraded and the cluster-CIDR checks of other components miss them. Calico's
 * installation docs require the default pool to match the cluster CIDR (CALICO_IPV4POOL_CIDR, or the operator's
 * Installation ipPools, "must be within the cluster's pod CIDR").
 */
export const cniIppoolOutsideCluster: Rule = {
  code: 'cni.ippool-outside-cluster',
  severity: 'warning',
  description: 'An enabled Calico IPPool outside the cluster pod range (kube-proxy treats its pods as external).',
  run({ topology }) {
    const c = topology.cluster;
    // A cluster range NetPath took from a pool (nothing else declared one) says nothing about the pools.
    const fromPool = (s: { file: string; start: number } | undefined) =>
      !!s && c.cni.ipPools.some((p) => p.spans.cidr?.file === s.file && p.spans.cidr.start === s.start);
    const cluster = c.podCIDRs.flatMap((x, i) => {
      const p = parsePrefix(x);
      const span = c.spans[`podCIDRs.${i}`];
      return p && !fromPool(span) ? [{ p, text: x, span }] : [];
    });
    return c.cni.ipPools.flatMap((pool) => {
      const p = parsePrefix(pool.cidr);
      if (!p || pool.disabled) return [];
      const same = cluster.filter((x) => x.p.family === p.family);
      if (!same.length || same.some((x) => prefixContains(x.p, p))) return [];
      return [
        problem(
          'cni.ippool-outside-cluster',
          'warning',
          `IPPool ${pool.name} (${pool.cidr}) is outside the cluster pod range ${same.map((x) => x.text).join(', ')}: kube-proxy treats its pods as outside the cluster (their Service traffic is masqueraded) and Calico's docs require pools inside the cluster CIDR. Move the pool into the range, or widen the cluster range.`,
          pool.spans.cidr ?? pool.span,
          same.flatMap((x) => (x.span ? [{ span: x.span, message: `cluster pod range ${x.text}` }] : [])),
        ),
      ];
    });
  },
};
