import type { Node, Topology } from '../model/types';
import { calicoMtus } from './calico';
import { flannelMtus } from './flannel';

/**
 * The pod MTU of a node's pods when the plug-in sets one (flannel; Calico with VXLAN: the underlay's minus 50) or
 * the configuration says (`cni.mtu`), for the pods' eth0 and host veths.
 */
export function podMtuOf(t: Topology, node: Node): number | undefined {
  if (node.cni === 'flannel') return flannelMtus(t, node).pod;
  if (node.cni === 'calico') return calicoMtus(t, node).pod;
  return t.cluster.cni.mtu;
}
