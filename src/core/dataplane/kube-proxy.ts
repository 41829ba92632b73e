/**
 * kube-proxy's rules for one node, from the generator in `src/core/kubeproxy` (the model's Services and
 * endpoints in, iptables-save text out).
 */
import type { Node, Topology } from '../model/types';

export function kubeProxyRules(_t: Topology, _node: Node): string {
  return '';
}
