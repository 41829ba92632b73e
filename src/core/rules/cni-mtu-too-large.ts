import { calicoIpipEnabled, calicoMtus, calicoVxlanEnabled } from '../cni/calico';
import { flannelBackend, flannelMtus } from '../cni/flannel';
import { cniViewOf } from '../cni';
import { DEFAULT_MTU, IPIP_OVERHEAD, VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from '../cni/names';
import { problem, type Problem, type RelatedInformation } from '../problem';
import type { Node, Topology } from '../model/types';
import { written } from './probes';
import type { Rule } from './rule';

/**
 * What the plug-in wraps each pod packet in between nodes: VXLAN's 50 bytes (flannel, Calico), 70 over IPv6 when the
 * node has a VTEP for IPv6 pod traffic too (flannel-v6.<VNI>, vxlan-v6.calico: the largest overhead decides what
 * fits), IPIP's 20, or nothing.
 */
function overheadOf(t: Topology, n: Node): { bytes: number; what: string } {
  if (cniViewOf(n, t).tunnel6?.protocol === 'vxlan')
    return {
      bytes: VXLAN6_OVERHEAD,
      what: `VXLAN over IPv6 (${cniViewOf(n, t).tunnel6?.device}) adds 70 bytes (outer IPv6 40, UDP 8, VXLAN 8, inner Ethernet 14)`,
    };
  const vxlan = (n.cni === 'flannel' && flannelBackend(t).vxlan) || (n.cni === 'calico' && calicoVxlanEnabled(t));
  if (vxlan)
    return { bytes: VXLAN_OVERHEAD, what: 'VXLAN adds 50 bytes (outer IP 20, UDP 8, VXLAN 8, inner Ethernet 14)' };
  if (n.cni === 'calico' && calicoIpipEnabled(t))
    return { bytes: IPIP_OVERHEAD, what: 'IPIP adds 20 bytes (an outer IPv4 header)' };
  return { bytes: 0, what: 'the plug-in adds no header' };
}

/** The underlay MTU a node's pod traffic crosses: its first interface's network. */
function underlayOf(t: Topology, n: Node): { mtu: number; network?: string } {
  if (n.cni === 'flannel') return { mtu: flannelMtus(t, n).underlay, network: n.interfaces[0]?.network };
  if (n.cni === 'calico') return { mtu: calicoMtus(t, n).underlay, network: n.interfaces[0]?.network };
  const network = n.interfaces[0]?.network;
  return { mtu: t.networks.find((x) => x.name === network)?.mtu ?? DEFAULT_MTU, network };
}

/**
 * `cni.mtu-too-large`: the pods' MTU (`cluster.cni.mtu`) is larger than the underlay's MTU minus what the plug-in
 * wraps each packet in (VXLAN: 50 bytes). Pods then send full-size packets with Don't Fragment set that the node
 * cannot forward: it drops them and answers ICMP fragmentation needed, which firewalls and some stacks lose, so
 * small requests work and large responses hang. One diagnostic at the setting, naming the nodes and the largest MTU
 * that fits them all.
 */
export const cniMtuTooLarge: Rule = {
  code: 'cni.mtu-too-large',
  severity: 'warning',
  description: "The pods' MTU is larger than the underlay's MTU minus the encapsulation overhead.",
  run({ topology: t }) {
    const mtu = t.cluster.cni.mtu;
    const span = written(t.cluster.cni.spans.mtu);
    if (mtu === undefined || !span) return [];
    const over: { node: Node; fits: number; underlay: number; network?: string; what: string }[] = [];
    for (const n of t.nodes) {
      const o = overheadOf(t, n);
      const u = underlayOf(t, n);
      const fits = u.mtu - o.bytes;
      if (mtu > fits) over.push({ node: n, fits, underlay: u.mtu, network: u.network, what: o.what });
    }
    if (!over.length) return [];
    const fits = Math.min(...over.map((o) => o.fits));
    const first = over[0];
    const names = over.map((o) => o.node.name);
    const related: RelatedInformation[] = [];
    const net = t.networks.find((x) => x.name === first.network);
    const netSpan = written(net?.spans.mtu) ?? written(net?.spans.name);
    if (net && netSpan) related.push({ span: netSpan, message: `network ${net.name}: MTU ${net.mtu}` });
    const out: Problem[] = [
      problem(
        'cni.mtu-too-large',
        'warning',
        `Pod MTU ${mtu} is larger than the underlay's MTU ${first.underlay} minus the encapsulation overhead on ${names.length > 1 ? `nodes ${names.join(', ')}` : `node ${names[0]}`} (${first.what}): the largest packet that fits is ${fits} bytes. Pods send full-size packets with Don't Fragment set; the node drops them and answers ICMP fragmentation needed, so small requests work and large responses hang (\`netpath trace --size ${mtu}\` shows the drop). Set the pod MTU to ${fits} or less.`,
        span,
        related,
        [{ title: `Set the pod MTU to ${fits}`, edits: [{ span, newText: String(fits) }], preferred: true }],
      ),
    ];
    return out;
  },
};
