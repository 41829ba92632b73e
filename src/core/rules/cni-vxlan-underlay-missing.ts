import { calicoVxlan6Enabled } from '../cni/calico';
import { flannelBackend, flannelIpv6, flannelUnderlay, flannelVtep6Name } from '../cni/flannel';
import { ifaceAddress } from '../cni/bridge';
import { parsePrefix } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';

export const CNI_VXLAN_UNDERLAY_MISSING = 'cni.vxlan-underlay-missing';

/** A global IPv6 address (not link-local): what a VTEP over IPv6 can send from. */
const isGlobal6 = (text: string): boolean => {
  const a = ifaceAddress(text);
  return a?.family === 6 && !a.address.toLowerCase().startsWith('fe80:');
};

/**
 * `cni.vxlan-underlay-missing` (error): IPv6 pod traffic is to be carried in VXLAN over IPv6, and a node has no IPv6
 * address to send it from.
 *
 * - flannel VXLAN with IPv6 (net-conf.json EnableIPv6/IPv6Network): flanneld takes both families from one interface,
 *   the one of its IPv4 address, and exits when that interface has no IPv6 address ("failed to find IPv6 address
 *   for interface", flannel-io/flannel pkg/ip and main.go LookupExtIface). The node gets no lease, no flannel.1 and
 *   no flannel-v6.<VNI>: its pods have no network. An IPv6 address on another interface does not help.
 * - Calico with an IPv6 pool in VXLAN mode: felix builds vxlan-v6.calico over the node's IPv6 address (calico-node's
 *   IP6 autodetection), so a node without any has no IPv6 VTEP and the other nodes have no route to its IPv6 blocks
 *   (a dual-stack install's IP6=autodetect also stops calico-node there).
 *
 * Reported at the node's interface (flannel) or the node (Calico). NetPath builds no IPv6 VTEP for such a node, so
 * traces of IPv6 pod traffic to or from it stop with "no route" — the finding, not a gap of the model.
 */
export const cniVxlanUnderlayMissing: Rule = {
  code: CNI_VXLAN_UNDERLAY_MISSING,
  severity: 'error',
  description:
    'IPv6 pod traffic goes through a VXLAN VTEP over IPv6 (flannel-v6.<VNI>, vxlan-v6.calico), and a node has no IPv6 address for it.',
  run({ topology: t }) {
    const out: Problem[] = [];
    const f = flannelBackend(t);
    if (f.vxlan && flannelIpv6(t)) {
      const dev = flannelVtep6Name(f.vni);
      const setting = t.cluster.cni.flannel;
      const where = setting?.spans.IPv6Network ?? setting?.spans.ipv6Network;
      for (const node of t.nodes) {
        if (node.cni !== 'flannel') continue;
        const up = flannelUnderlay(t, node);
        const iface = up ? node.interfaces.find((i) => i.name === up.name) : undefined;
        if (!up || !iface || iface.addresses.some(isGlobal6)) continue;
        const elsewhere = node.interfaces.find((i) => i !== iface && i.addresses.some(isGlobal6));
        out.push(
          problem(
            CNI_VXLAN_UNDERLAY_MISSING,
            'error',
            `Node ${node.name}'s ${iface.name} (${up.address}, the interface flannel uses) has no IPv6 address: with IPv6 on, flanneld takes both families from that one interface and exits ("failed to find IPv6 address for interface ${iface.name}"), so ${node.name} gets neither flannel.${f.vni} nor ${dev} and its pods have no network.${elsewhere ? ` ${elsewhere.name}'s IPv6 address does not count: give ${iface.name} one (or move the IPv4 address to ${elsewhere.name}).` : ` Give ${iface.name} an IPv6 address.`}`,
            iface.span,
            where ? [{ span: where, message: 'IPv6 switched on for flannel here' }] : [],
          ),
        );
      }
    }
    if (calicoVxlan6Enabled(t)) {
      const written = t.cluster.cni.ipPools.find(
        (p) => !p.disabled && p.vxlanMode !== 'Never' && parsePrefix(p.cidr)?.family === 6,
      );
      for (const node of t.nodes) {
        if (node.cni !== 'calico' || node.interfaces.some((i) => i.addresses.some(isGlobal6))) continue;
        out.push(
          problem(
            CNI_VXLAN_UNDERLAY_MISSING,
            'error',
            `Node ${node.name} has no IPv6 address, and an IPv6 pool encapsulates in VXLAN: felix builds vxlan-v6.calico over the node's IPv6 address, so ${node.name} has no IPv6 VTEP and the other nodes no route to its IPv6 pods (calico-node with IP6=autodetect, as dual-stack installs set it, does not start there). Give the node an IPv6 address on the underlay.`,
            node.spans.name ?? node.span,
            written ? [{ span: written.spans.vxlanMode ?? written.span, message: 'IPv6 pool in VXLAN mode' }] : [],
          ),
        );
      }
    }
    return out;
  },
};
