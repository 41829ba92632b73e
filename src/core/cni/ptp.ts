/**
 * The CNI `ptp` plug-in (containernetworking/plugins, plugins/main/ptp/ptp.go) and kindnet, kind's CNI, which runs
 * it (kubernetes-sigs/kind, images/kindnetd): a veth pair per pod and no bridge.
 *
 * - The pod's eth0 gets its address with the IPAM subnet's length, and ptp deletes the subnet route the kernel
 *   added, then adds `<gw> dev eth0 scope link src <pod>` and `<subnet> via <gw> dev eth0 src <pod>`: every
 *   destination, even a pod of the same node, is reached through the gateway. host-local IPAM's gateway is the
 *   subnet's first address (`.1`); its `routes` (kindnet: `0.0.0.0/0`, `::/0`) add `default via <gw> dev eth0`.
 * - The host end gets the gateway address with a host length (`<gw>/32` on every pod's host veth of the node) and
 *   the route `<pod> dev <veth> scope host` (ip.AddHostRoute).
 * - Between nodes, kindnetd routes each other node's pod CIDR via that node's InternalIP: `routing: host-gw`.
 * - kindnet masquerades with its KIND-MASQ-AGENT chain (images/kindnetd/cmd/kindnetd/masq.go): POSTROUTING sends
 *   everything not addressed to a local address there; it RETURNs for the cluster's pod range and MASQUERADEs the
 *   rest. Plain ptp masquerades per pod when `ipMasq: true` (the bridge plug-in's CNI-<hash> chains).
 */
import {
  canonical,
  firstAddress,
  formatValue,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Family,
} from '../net/address';
import type { DpInterface, DpRoute, InterfaceAddress } from '../dataplane/types';
import { pluginRoute } from '../dataplane/routes';
import type { Node, Pod, Topology } from '../model/types';
import { bridgeIpMasqRules, ipMasqAnswers, writtenSpan } from './bridge';
import type { CniNodeView, CniPlugin, CniRules } from './types';

/** host-local's default gateway of each family: the first address after the node's pod subnet's network address. */
export function ptpGateways(node: Node): Map<Family, { readonly address: string; readonly subnet: string }> {
  const out = new Map<Family, { address: string; subnet: string }>();
  for (const c of node.podCIDRs) {
    const p = parsePrefix(c);
    if (!p || out.has(p.family)) continue;
    out.set(p.family, { address: formatValue(p.family, firstAddress(p) + 1n), subnet: canonical(p) });
  }
  return out;
}

const hostLength = (f: Family): number => (f === 4 ? 32 : 128);

function view(node: Node, plugin: 'ptp' | 'kindnet'): CniNodeView {
  const gws = [...ptpGateways(node)].map(([family, g]) => `${g.address}/${hostLength(family)}`);
  const who = plugin === 'kindnet' ? 'kindnet (the CNI ptp plug-in)' : 'CNI ptp plug-in';
  return {
    plugin,
    summary: `${who}: a veth per pod, no bridge; every pod's host veth holds the gateway ${gws.join(', ') || '(no pod CIDR)'}, a /32 route per pod`,
    // The gateway is on every pod's host veth: `veth*` stands for them.
    devices: gws.length ? [{ name: 'veth*', addresses: gws }] : [],
  };
}

function wireNode(node: Node, pods: readonly Pod[]): { interfaces: DpInterface[]; routes: DpRoute[] } {
  const gws = ptpGateways(node);
  const interfaces: DpInterface[] = [];
  const routes: DpRoute[] = [];
  for (const p of pods) {
    const addresses: InterfaceAddress[] = [];
    for (const ip of p.ips) {
      const a = parseAddress(ip);
      const gw = a && gws.get(a.family);
      if (!a || !gw) continue;
      if (!addresses.some((x) => x.family === a.family))
        addresses.push({ family: a.family, address: gw.address, length: hostLength(a.family) });
      const r = pluginRoute(ip, { dev: p.hostVeth, scope: 'host' });
      if (r) routes.push(r);
    }
    interfaces.push({ name: p.hostVeth, kind: 'veth', addresses, peer: { netns: `pod:${p.id}`, device: 'eth0' } });
  }
  return { interfaces, routes };
}

function wirePod(
  node: Node,
  addresses: readonly InterfaceAddress[],
): { routes: DpRoute[]; addresses: InterfaceAddress[] } {
  const gws = ptpGateways(node);
  const routes: DpRoute[] = [];
  const out: InterfaceAddress[] = [];
  for (const a of addresses) {
    const gw = gws.get(a.family);
    if (!gw) {
      out.push(a);
      continue;
    }
    out.push({ ...a, noPrefixRoute: true });
    for (const r of [
      pluginRoute(gw.address, { dev: 'eth0', scope: 'link', src: a.address }),
      pluginRoute(gw.subnet, { via: gw.address, dev: 'eth0', src: a.address }),
      pluginRoute('default', { via: gw.address, dev: 'eth0', kind: 'gateway' }),
    ])
      if (r) routes.push(r);
  }
  return { routes, addresses: out };
}

/**
 * kindnet's masquerade chain, one rule per cluster pod range of each family (kindnetd passes POD_SUBNET as its
 * non-masquerade CIDRs): pod traffic to another pod keeps its source, everything else leaving the node (other
 * nodes' addresses included) leaves with the node's.
 */
export function kindMasqRules(t: Topology): CniRules {
  const rules = [
    '-A POSTROUTING -m comment --comment "kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j KIND-MASQ-AGENT',
  ];
  for (const c of t.cluster.podCIDRs) {
    const p = parsePrefix(c);
    if (p)
      rules.push(
        `-A KIND-MASQ-AGENT -d ${canonical(p)} -m comment --comment "kind-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN`,
      );
  }
  rules.push(
    '-A KIND-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE',
  );
  return { nat: { chains: [':KIND-MASQ-AGENT - [0:0]'], rules } };
}

export const PTP_PLUGIN: CniPlugin = {
  name: 'ptp',
  describe: (node) => view(node, 'ptp'),
  wireNode: (node, pods) => ({ ...wireNode(node, pods), bridges: [] }),
  wirePod: (node, _pod, addresses) => wirePod(node, addresses),
  masquerade(node, pods, t) {
    return { label: 'CNI ptp plugin, ipMasq: true', tables: bridgeIpMasqRules(t, node, pods) };
  },
  ...ipMasqAnswers(
    'CNI ptp plugin',
    'kindnet runs ptp with ipMasq: false and masquerades egress with its KIND-MASQ-AGENT chain, which exempts the cluster pod range.',
  ),
};

/** Where the cluster pod range kindnetd exempts is written (kind's networking.podSubnet, or cluster.podCIDRs). */
const podRangeSpan = (t: Topology) =>
  writtenSpan(t.cluster.spans['podCIDRs.0']) ?? writtenSpan(t.cluster.spans.podCIDRs);

export const KINDNET_PLUGIN: CniPlugin = {
  name: 'kindnet',
  describe: (node) => view(node, 'kindnet'),
  wireNode: (node, pods) => ({ ...wireNode(node, pods), bridges: [] }),
  wirePod: (node, _pod, addresses) => wirePod(node, addresses),
  masquerade(_node, _pods, t) {
    return { label: 'kindnet (kindnetd KIND-MASQ-AGENT)', tables: kindMasqRules(t), sameOnEveryNode: true };
  },
  // Everything not addressed to the node itself and outside the cluster's pod ranges.
  masqueradesTo: (_node, _src, dest, t) =>
    !t.cluster.podCIDRs.some((c) => {
      const p = parsePrefix(c);
      return p !== undefined && prefixContainsAddress(p, dest);
    }),
  // kindnetd has no switch for its masquerade: what it exempts is the pod range it is given (POD_SUBNET).
  masqueradeCulprit: (_node, t) => ({
    what: "kindnet's KIND-MASQ-AGENT rule",
    advice: `kindnetd masquerades everything leaving the node that is not addressed to the cluster pod range (${t.cluster.podCIDRs.join(', ') || 'none'}: kind's networking.podSubnet, which kind passes to kindnetd as POD_SUBNET), so to kindnet a pod whose address is outside that range is the outside world. Give every pod an address inside the pod range, or widen podSubnet; kindnet has no setting that turns its masquerade off.`,
    span: podRangeSpan(t),
  }),
  egressUnmasked: (_node, t) => ({
    why: `kindnet's KIND-MASQ-AGENT exempts the cluster pod range (${t.cluster.podCIDRs.join(', ') || 'none'})`,
    fix: "Move the destination out of the cluster pod range (kind's networking.podSubnet): kindnetd masquerades everything else.",
  }),
};
