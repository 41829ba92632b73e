/**
 * Calico's routed data plane (projectcalico/calico: the CNI plug-in cni-plugin/pkg/dataplane/linux, felix's route
 * and iptables management, BIRD for BGP), without encapsulation (`cni.calico.encapsulation: none`):
 *
 * - Each pod gets a veth whose host end is `cali` + the first 11 hex characters of sha1("<namespace>.<pod>"),
 *   with no address and no bridge; felix turns on proxy ARP on it (net.ipv4.conf.<cali>.proxy_arp=1,
 *   neigh.<cali>.proxy_delay=0). The pod's eth0 holds its address as a /32 and the routes
 *   `169.254.1.1 dev eth0 scope link` and `default via 169.254.1.1 dev eth0`: nobody holds 169.254.1.1, the cali
 *   veth answers ARP for it (the node routes it elsewhere), so every packet leaves the pod to the node.
 * - Calico IPAM hands each node blocks of `blockSize` (default /26) from the IP pools; felix routes the node's
 *   local pods with `<pod> dev <cali> scope link`, and BIRD installs `blackhole <block>` for each local block (an
 *   address of the block that no pod holds is discarded, not sent to the default route) and, on the other nodes,
 *   `<block> via <node IP> dev <iface>` as learned over BGP: `routing: host-gw` over blocks instead of podCIDRs.
 *   NetPath derives a node's blocks from its pods' addresses.
 * - natOutgoing (felix's cali-nat-outgoing chain): traffic from a pool with natOutgoing to a destination outside
 *   every pool is masqueraded. Felix matches ipsets (cali40masq-ipam-pools, cali40all-ipam-pools); NetPath writes
 *   the same decision as one rule per pool.
 *
 * VXLAN and IPIP encapsulation (pools with vxlanMode/ipipMode, the plug-ins `calico-vxlan`, `calico-ipip`) change how
 * remote blocks are reached; the pods' wiring and the local routes here stay the same in those modes.
 */
import {
  canonical,
  mask,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Prefix,
} from '../net/address';
import { sha1Hex } from '../hash';
import type { DpInterface, DpRoute, InterfaceAddress } from '../dataplane/types';
import { pluginRoute } from '../dataplane/routes';
import type { Topology } from '../model/types';
import type { Span } from '../problem';
import type { CniPlugin, CniRules } from './types';

/** The pods' gateway: a link-local address nobody holds, answered by proxy ARP. */
export const CALICO_GATEWAY = '169.254.1.1';

/** Calico's name for a pod's host veth (libcalico-go VethNameForWorkload, FELIX_INTERFACEPREFIX `cali`). */
export function calicoVethName(namespace: string, name: string, prefix = 'cali'): string {
  return `${prefix}${sha1Hex(`${namespace}.${name}`).slice(0, 11)}`;
}

/** An IPAM block affine to a node, with the span of the pod that shows it. */
export interface CalicoBlock {
  readonly prefix: Prefix;
  readonly cidr: string;
  readonly span: Span;
}

/** An IP pool as the data plane uses it. */
export interface CalicoPool {
  readonly prefix: Prefix;
  readonly blockSize: number;
  readonly natOutgoing: boolean;
}

/**
 * The enabled IP pools (`cni.ipPools`, IPPool resources); without any, the pool calico-node creates at start-up
 * from CALICO_IPV4POOL_CIDR (the cluster's pod range) with its defaults: blocks of /26 (IPv6 /122), natOutgoing on.
 */
export function calicoPools(t: Topology): CalicoPool[] {
  const written = t.cluster.cni.ipPools.filter((p) => !p.disabled);
  if (written.length)
    return written.flatMap((p) => {
      const prefix = parsePrefix(p.cidr);
      return prefix ? [{ prefix, blockSize: p.blockSize, natOutgoing: p.natOutgoing }] : [];
    });
  return t.cluster.podCIDRs.flatMap((c) => {
    const prefix = parsePrefix(c);
    return prefix ? [{ prefix, blockSize: prefix.family === 4 ? 26 : 122, natOutgoing: true }] : [];
  });
}

const memo = new WeakMap<Topology, ReadonlyMap<string, readonly CalicoBlock[]>>();

/**
 * Each Calico node's blocks: the blocks of its pool's `blockSize` holding its pods' addresses, in pod order; a
 * block holding pods of several nodes belongs to the first (Calico lets other nodes borrow addresses from it). An
 * address in no pool takes the default size (/26, IPv6 /122). Built once per topology, in one pass over the pods.
 */
export function calicoBlocks(t: Topology): ReadonlyMap<string, readonly CalicoBlock[]> {
  const m = memo.get(t);
  if (m) return m;
  const calicoNodes = new Set(t.nodes.filter((n) => n.cni === 'calico').map((n) => n.name));
  const byNode = new Map<string, CalicoBlock[]>();
  const claimed = new Set<string>();
  const all = calicoPools(t);
  const size = (a: Address): number =>
    all.find((p) => prefixContainsAddress(p.prefix, a))?.blockSize ?? (a.family === 4 ? 26 : 122);
  for (const p of t.pods) {
    if (p.hostNetwork || !calicoNodes.has(p.node)) continue;
    p.ips.forEach((ip, k) => {
      const a = parseAddress(ip);
      if (!a) return;
      const length = size(a);
      const prefix: Prefix = { family: a.family, address: a.value & mask(a.family, length), length, text: '' };
      const cidr = canonical(prefix);
      if (claimed.has(cidr)) return;
      claimed.add(cidr);
      let list = byNode.get(p.node);
      if (!list) byNode.set(p.node, (list = []));
      list.push({ prefix: { ...prefix, text: cidr }, cidr, span: p.spans[`ips.${k}`] ?? p.spans.ip ?? p.span });
    });
  }
  memo.set(t, byNode);
  return byNode;
}

/** felix's natOutgoing decision as iptables-save lines of the nat table. */
export function calicoNatOutgoingRules(t: Topology): CniRules {
  const all = calicoPools(t);
  const masq = all.filter((p) => p.natOutgoing);
  if (!masq.length) return {};
  const rules = [
    '-A POSTROUTING -m comment --comment "calico: felix cali-POSTROUTING" -j cali-POSTROUTING',
    '-A cali-POSTROUTING -m comment --comment "calico: natOutgoing" -j cali-nat-outgoing',
  ];
  for (const from of masq) {
    const f = from.prefix.family;
    for (const to of all.filter((p) => p.prefix.family === f))
      rules.push(
        `-A cali-nat-outgoing -s ${canonical(from.prefix)} -d ${canonical(to.prefix)} -m comment --comment "calico: to a pool (ipset cali${f}0all-ipam-pools)" -j RETURN`,
      );
    rules.push(
      `-A cali-nat-outgoing -s ${canonical(from.prefix)} -m comment --comment "calico: from a natOutgoing pool (ipset cali${f}0masq-ipam-pools)" -j MASQUERADE --random-fully`,
    );
  }
  return { nat: { chains: [':cali-POSTROUTING - [0:0]', ':cali-nat-outgoing - [0:0]'], rules } };
}

export const CALICO_PLUGIN: CniPlugin = {
  name: 'calico',
  describe() {
    return {
      plugin: 'calico',
      summary: `Calico: a cali veth per pod, no bridge and no address on the host side; proxy ARP answers for the pods' gateway ${CALICO_GATEWAY}; a /32 route per pod, a blackhole route per local IPAM block`,
      devices: [],
    };
  },
  wireNode(node, pods, t) {
    const interfaces: DpInterface[] = [];
    const routes: DpRoute[] = [];
    for (const p of pods) {
      interfaces.push({
        name: p.hostVeth,
        kind: 'veth',
        addresses: [],
        peer: { netns: `pod:${p.id}`, device: 'eth0' },
        proxyArp: true,
      });
      for (const ip of p.ips) {
        const r = pluginRoute(ip, { dev: p.hostVeth, scope: 'link' });
        if (r) routes.push(r);
      }
    }
    for (const b of calicoBlocks(t).get(node.name) ?? []) {
      const r = pluginRoute(b.cidr, { type: 'blackhole' });
      if (r) routes.push({ ...r, span: b.span });
    }
    return { interfaces, bridges: [], routes };
  },
  wirePod(_node, _pod, addresses) {
    const out: InterfaceAddress[] = addresses.map((a) => ({ ...a, length: a.family === 4 ? 32 : 128 }));
    const routes: DpRoute[] = [];
    if (out.some((a) => a.family === 4)) {
      for (const r of [
        pluginRoute(CALICO_GATEWAY, { dev: 'eth0', scope: 'link' }),
        pluginRoute('default', { via: CALICO_GATEWAY, dev: 'eth0', kind: 'gateway' }),
      ])
        if (r) routes.push(r);
    }
    return { routes, addresses: out };
  },
  masquerade(_node, _pods, t) {
    return {
      label: 'Calico natOutgoing (felix cali-nat-outgoing)',
      tables: calicoNatOutgoingRules(t),
      sameOnEveryNode: true,
    };
  },
  masqueradesTo(_node, src, dest, t) {
    const all = calicoPools(t);
    return (
      all.some((p) => p.natOutgoing && prefixContainsAddress(p.prefix, src)) &&
      !all.some((p) => prefixContainsAddress(p.prefix, dest))
    );
  },
};
