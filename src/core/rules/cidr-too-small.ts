import { sizeOf } from '../net/address';
import { problem } from '../problem';
import type { Rule } from './rule';
import { KUBEADM_MIN_POD_ADDRESSES, KUBEADM_MIN_SERVICE_ADDRESSES } from '../model/k8s-validation';

/** kubeadm's minimums: a pod subnet of at least 14 addresses, a Service subnet of at least 10. */
const MIN_POD_ADDRESSES = KUBEADM_MIN_POD_ADDRESSES;
const MIN_SERVICE_ADDRESSES = KUBEADM_MIN_SERVICE_ADDRESSES;

/**
 * `cidr.too-small`: a pod CIDR (cluster or node) below 14 addresses or a Service range below 10, the limits
 * kubeadm enforces. A /29 leaves 5 pod addresses once the network, gateway and broadcast are taken.
 */
export const cidrTooSmall: Rule = {
  code: 'cidr.too-small',
  severity: 'warning',
  description: "A pod CIDR below 14 addresses or a Service range below 10 (kubeadm's minimums).",
  run({ ranges, topology }) {
    const c = topology.cluster;
    // A cluster range written in kubeadm's ClusterConfiguration is k8s.config-invalid there (an error: kubeadm init
    // refuses it), so it is not repeated here as a warning.
    const inKubeadm = (r: { role: string; span: { file: string; start: number; end: number } }) =>
      (r.role === 'cluster-pods' || r.role === 'services') &&
      c.origin === 'ClusterConfiguration' &&
      r.span.file === c.span.file &&
      r.span.start >= c.span.start &&
      r.span.end <= c.span.end;
    return ranges.ranges.flatMap((r) => {
      if (!r.prefix || inKubeadm(r)) return [];
      const size = sizeOf(r.prefix);
      if ((r.role === 'cluster-pods' || r.role === 'node-pods') && size < MIN_POD_ADDRESSES) {
        return [
          problem(
            'cidr.too-small',
            'warning',
            `The pod CIDR ${r.text} (${r.owner}) has only ${size} addresses; kubeadm requires at least ${MIN_POD_ADDRESSES}. After the network address, the bridge gateway and the broadcast address, ${size > 3n ? size - 3n : 0n} pods fit.`,
            r.span,
          ),
        ];
      }
      if (r.role === 'services' && size < MIN_SERVICE_ADDRESSES) {
        return [
          problem(
            'cidr.too-small',
            'warning',
            `The Service range ${r.text} has only ${size} addresses; kubeadm requires at least ${MIN_SERVICE_ADDRESSES}, and the first one goes to the kubernetes Service itself.`,
            r.span,
          ),
        ];
      }
      return [];
    });
  },
};
