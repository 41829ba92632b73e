import { parsePrefix } from '../net/address';
import { problem } from '../problem';
import type { Node, Topology } from '../model/types';
import type { Rule } from './rule';

/** The underlay network of a node's first IPv4 address, by the topology's networks. */
function subnetOf(t: Topology, n: Node): string | undefined {
  for (const i of n.interfaces) {
    const net = t.networks.find((x) => x.name === i.network);
    if (net) return net.name;
    const a = i.addresses.find((x) => !x.includes(':'));
    if (a) return a;
  }
  return undefined;
}

/**
 * `cni.ipip-underlay` (info): an enabled Calico IPPool that encapsulates in IP-in-IP between nodes (ipipMode
 * Always, or CrossSubnet with nodes on different subnets). IPIP is IP protocol 4, not TCP or UDP: cloud security
 * groups and firewalls that allow "all TCP and UDP" drop it, and some networks (Azure) do not carry it at all.
 * What the underlay lets through is not in any file NetPath reads, so it cannot know; it says what to check.
 */
export const cniIpipUnderlay: Rule = {
  code: 'cni.ipip-underlay',
  severity: 'info',
  description:
    'A Calico IPPool uses IP-in-IP between nodes: the underlay must pass IP protocol 4, which NetPath cannot see.',
  run({ topology }) {
    const subnets = new Set(topology.nodes.map((n) => subnetOf(topology, n) ?? ''));
    return topology.cluster.cni.ipPools
      .filter((p) => !p.disabled && parsePrefix(p.cidr)?.family === 4)
      .filter((p) => p.ipipMode === 'Always' || (p.ipipMode === 'CrossSubnet' && subnets.size > 1))
      .map((pool) =>
        problem(
          'cni.ipip-underlay',
          'info',
          `IPPool ${pool.name} encapsulates pod traffic between nodes in IP-in-IP (ipipMode ${pool.ipipMode}${pool.ipipMode === 'CrossSubnet' ? ': the nodes are on more than one subnet' : ''}). IPIP is IP protocol 4, neither TCP nor UDP: firewalls and cloud security groups that allow only TCP/UDP drop it, and some clouds (Azure) do not carry it. NetPath cannot see what the underlay lets through; check that protocol 4 passes between every pair of nodes, or use vxlanMode (UDP 4789).`,
          pool.spans.ipipMode ?? pool.spans.name ?? pool.span,
        ),
      );
  },
};
