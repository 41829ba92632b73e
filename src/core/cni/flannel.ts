/**
 * flannel (github.com/flannel-io/flannel). Pods are wired by the CNI bridge plug-in flannel delegates to (the
 * `cni0` bridge holding the pods' gateway, the .1 of the node's pod CIDR); between nodes the backend decides:
 *
 * - `vxlan` (pkg/backend/vxlan, flannel's default): a VTEP `flannel.<VNI>` (`ip link add flannel.1 type vxlan id 1
 *   dstport 8472 local <node IP> dev <underlay> nolearning`, MTU = the underlay's MTU - 50) holding the .0 address
 *   of the node's pod CIDR as a /32; for each other node, a route `<its pod CIDR> via <its .0> dev flannel.1
 *   onlink`, a permanent neighbour entry `<its .0> lladdr <its VTEP MAC>` and an FDB entry `<its VTEP MAC> dst <its
 *   node IP>` on flannel.1 (vxlan_network.go, handleSubnetEvents). flannel picks each VTEP's MAC at random and
 *   publishes it in the node's `flannel.alpha.coreos.com/backend-data` annotation; NetPath derives a stable
 *   locally administered one from the node name.
 *   With IPv6 on (net-conf.json `EnableIPv6` and `IPv6Network`; without a flannel configuration read, an IPv6 pod
 *   range of the cluster) flannel creates a second VTEP, `flannel-v6.<VNI>`, with the same VNI and port but
 *   `local` the IPv6 address of the same underlay interface (flanneld refuses to start when that interface has no
 *   IPv6 address: "failed to find IPv6 address for interface"). It holds the network address of the node's IPv6
 *   lease as a /128; per other node a route `<its IPv6 subnet> via <its subnet's network address> dev flannel-v6.1
 *   onlink`, a permanent neighbour entry for that address and an FDB entry to the node's IPv6 underlay address
 *   (vxlan.go RegisterNetwork, vxlan_network.go). The kernel gives a VXLAN device over IPv6 the underlay's MTU - 70
 *   (40 bytes of outer IPv6 header instead of 20); flannel's pod MTU stays the underlay's - 50.
 * - `host-gw`: routes to the other nodes' pod CIDRs via their addresses on the shared network (the data plane's
 *   host-gw routes, as the bridge plug-in has them).
 *
 * The per-node routes and entries are looked up in one cluster-wide index of pod CIDRs, never listed per node
 * (N nodes would make N × (N - 1) of them).
 *
 * flanneld's own rules (pkg/trafficmngr/iptables, per family of the Network): with `--ip-masq` (kube-flannel.yml's
 * default) nat POSTROUTING jumps to FLANNEL-POSTRTG, which returns for packets kube-proxy marked for masquerade
 * (0x4000/0x4000: kube-proxy masquerades those itself), from the node's lease to the Network, from the Network to
 * the lease, and from outside the Network to the lease (an external client reaching a local pod keeps its address);
 * then masquerades (fully random ports) what leaves the Network from it (multicast excepted) and what enters the
 * Network from outside it. Always (`--iptables-forward-rules`, default on) filter FORWARD jumps to FLANNEL-FWD,
 * which accepts everything from and to the Network. The delegate bridge plug-in runs with ipMasq false.
 */
import { sha512Hex } from '../hash';
import {
  canonical,
  formatValue,
  mask,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Family,
  type Prefix,
} from '../net/address';
import type { DpInterface, DpRoute, ImpliedRoutes, TunnelEntries, TunnelFdb, TunnelNeighbor } from '../dataplane/types';
import type { Node, Topology } from '../model/types';
import { BRIDGE_PLUGIN, ifaceAddress, ipMasqCulprit, writtenSpan } from './bridge';
import { DEFAULT_MTU, FLANNEL_DEFAULT_PORT, FLANNEL_DEFAULT_VNI, VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from './names';
import type { CniPlugin, CniRules, CniTunnelView } from './types';

/** flannel's backend settings (`cluster.cni.flannel`, from net-conf.json): flannel's defaults when none was read. */
export function flannelBackend(t: Topology): { vxlan: boolean; backend: string; vni: number; port: number } {
  const f = t.cluster.cni.flannel;
  const backend = f?.backend ?? 'vxlan';
  return {
    vxlan: backend === 'vxlan',
    backend,
    vni: f?.vni ?? FLANNEL_DEFAULT_VNI,
    port: f?.port ?? FLANNEL_DEFAULT_PORT,
  };
}

/** The VTEP's name for a VNI, as flannel names it (`flannel.%v`). */
export const flannelVtepName = (vni: number): string => `flannel.${vni}`;

/** The IPv6 VTEP's name for a VNI, as flannel names it (`flannel-v6.%v`). */
export const flannelVtep6Name = (vni: number): string => `flannel-v6.${vni}`;

/** The VTEP of a family. */
const vtepName = (family: Family, vni: number): string => (family === 4 ? flannelVtepName(vni) : flannelVtep6Name(vni));

/** A stable, locally administered unicast MAC for a node's VTEP (flannel picks a random one). */
export function vtepMac(node: string, device: string): string {
  const h = sha512Hex(`netpath:vtep:${node}:${device}`);
  const bytes = [0, 1, 2, 3, 4, 5].map((i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
  bytes[0] = (bytes[0] & 0xfe) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The node's underlay interface flannel uses (its first interface with an IPv4 address) and that address. */
export function flannelUnderlay(t: Topology, node: Node): { name: string; address: string; mtu: number } | undefined {
  for (const i of node.interfaces) {
    const a = i.addresses.map((x) => ifaceAddress(x)).find((x) => x?.family === 4);
    if (!a) continue;
    const mtu = t.networks.find((n) => n.name === i.network)?.mtu ?? DEFAULT_MTU;
    return { name: i.name, address: a.address, mtu };
  }
  return undefined;
}

/**
 * The IPv6 address flannel's IPv6 VTEP sends from: the first global IPv6 address of the same underlay interface
 * (flanneld takes both families from one interface). Undefined when that interface has none: flanneld then exits.
 */
export function flannelUnderlay6(t: Topology, node: Node): { name: string; address: string; mtu: number } | undefined {
  const up = flannelUnderlay(t, node);
  const iface = up ? node.interfaces.find((i) => i.name === up.name) : undefined;
  const a = iface?.addresses
    .map((x) => ifaceAddress(x))
    .find((x) => x?.family === 6 && !x.address.toLowerCase().startsWith('fe80:'));
  return up && a ? { ...up, address: a.address } : undefined;
}

/** Whether flannel runs IPv6 (net-conf.json's EnableIPv6 with an IPv6Network; else an IPv6 pod range). */
export function flannelIpv6(t: Topology): boolean {
  return flannelNetworks(t).some((p) => p.family === 6);
}

/** One node's VXLAN lease of one family: its pod CIDR, VTEP address (the CIDR's network address), MAC and underlay address. */
interface Lease {
  readonly node: Node;
  readonly family: Family;
  /** The VTEP the lease's traffic goes through: flannel.<VNI> (IPv4) or flannel-v6.<VNI> (IPv6). */
  readonly dev: string;
  readonly prefix: Prefix;
  readonly cidr: string;
  readonly vtep: string;
  readonly vtepValue: bigint;
  readonly mac: string;
  readonly publicIP: string;
}

interface LeaseIndex {
  readonly leases: readonly Lease[];
  /** Per family and prefix length (`4/24`), the leases by network address. */
  readonly byLength: ReadonlyMap<string, ReadonlyMap<bigint, Lease>>;
  /** Per family (`4:<value>`), the leases by VTEP address. */
  readonly byVtep: ReadonlyMap<string, Lease>;
  readonly byMac: ReadonlyMap<string, Lease>;
  readonly byNode: ReadonlyMap<Node, { readonly 4?: Lease; readonly 6?: Lease }>;
  /** The family and prefix lengths present, longest first. */
  readonly lengths: readonly { readonly family: Family; readonly length: number }[];
}

const leaseMemo = new WeakMap<Topology, LeaseIndex>();

/**
 * The VXLAN leases of every flannel VXLAN node, indexed once per topology: its IPv4 pod CIDR, and with IPv6 on its
 * IPv6 pod CIDR when its underlay interface has an IPv6 address.
 */
function leaseIndex(t: Topology): LeaseIndex {
  const memo = leaseMemo.get(t);
  if (memo) return memo;
  const leases: Lease[] = [];
  const byLength = new Map<string, Map<bigint, Lease>>();
  const lengths: { family: Family; length: number }[] = [];
  const byVtep = new Map<string, Lease>();
  const byMac = new Map<string, Lease>();
  const byNode = new Map<Node, { 4?: Lease; 6?: Lease }>();
  const f = flannelBackend(t);
  const ipv6 = f.vxlan && flannelIpv6(t);
  for (const node of t.nodes) {
    if (node.cni !== 'flannel' || !f.vxlan) continue;
    const up = flannelUnderlay(t, node);
    if (!up) continue;
    const up6 = ipv6 ? flannelUnderlay6(t, node) : undefined;
    const mine: { 4?: Lease; 6?: Lease } = {};
    for (const cidr of node.podCIDRs) {
      const prefix = parsePrefix(cidr);
      if (!prefix || mine[prefix.family]) continue;
      const publicIP = prefix.family === 4 ? up.address : up6?.address;
      if (!publicIP) continue;
      const dev = vtepName(prefix.family, f.vni);
      const network = prefix.address & mask(prefix.family, prefix.length);
      const lease: Lease = {
        node,
        family: prefix.family,
        dev,
        prefix,
        cidr: canonical(prefix),
        vtep: formatValue(prefix.family, network),
        vtepValue: network,
        mac: vtepMac(node.name, dev),
        publicIP,
      };
      mine[prefix.family] = lease;
      leases.push(lease);
      const key = `${prefix.family}/${prefix.length}`;
      let m = byLength.get(key);
      if (!m) {
        byLength.set(key, (m = new Map()));
        lengths.push({ family: prefix.family, length: prefix.length });
      }
      if (!m.has(network)) m.set(network, lease);
      const vkey = `${prefix.family}:${network}`;
      if (!byVtep.has(vkey)) byVtep.set(vkey, lease);
      if (!byMac.has(lease.mac)) byMac.set(lease.mac, lease);
    }
    byNode.set(node, mine);
  }
  lengths.sort((x, y) => y.length - x.length);
  const index = { leases, byLength, byVtep, byMac, byNode, lengths };
  leaseMemo.set(t, index);
  return index;
}

/** The lease whose pod CIDR holds `a`, longest prefix first. */
function leaseFor(index: LeaseIndex, a: Address): Lease | undefined {
  for (const { family, length } of index.lengths) {
    if (family !== a.family) continue;
    const l = index.byLength.get(`${family}/${length}`)?.get(a.value & mask(family, length));
    if (l) return l;
  }
  return undefined;
}

const onlinkText = (cidr: string, via: string, dev: string): string => `${cidr} via ${via} dev ${dev} onlink`;

/**
 * A node's VXLAN routes to the other nodes' pod CIDRs (`via <their .0> dev flannel.1 onlink`; IPv6 `via <their
 * subnet's network address> dev flannel-v6.1 onlink`), for the families the node has a VTEP of.
 */
function vxlanRoutes(t: Topology, node: Node): ImpliedRoutes {
  const mine = leaseIndex(t).byNode.get(node);
  const index = leaseIndex(t);
  const declared = new Set(node.routes.map((r) => r.to));
  const memo = new Map<Lease, DpRoute>();
  const route = (l: Lease): DpRoute | undefined => {
    if (l.node === node || declared.has(l.cidr) || !mine?.[l.family]) return undefined;
    let r = memo.get(l);
    if (!r) {
      r = {
        to: l.cidr,
        prefix: { ...l.prefix, text: l.cidr },
        via: l.vtep,
        dev: l.dev,
        onlink: true,
        kind: 'implied',
        text: onlinkText(l.cidr, l.vtep, l.dev),
        span: l.node.span,
      };
      memo.set(l, r);
    }
    return r;
  };
  return {
    matching(dst: Address) {
      const l = leaseFor(index, dst);
      const r = l ? route(l) : undefined;
      return r ? [r] : [];
    },
    all() {
      return index.leases.flatMap((l) => route(l) ?? []);
    },
  };
}

/** A node's permanent neighbour and FDB entries on its VTEPs, one of each per other node and family. */
function vxlanEntries(t: Topology, node: Node): TunnelEntries {
  const index = leaseIndex(t);
  const mine = index.byNode.get(node);
  const neighborOf = (l: Lease): TunnelNeighbor => ({ dev: l.dev, address: l.vtep, mac: l.mac, node: l.node.name });
  const fdbOf = (l: Lease): TunnelFdb => ({ dev: l.dev, mac: l.mac, dst: l.publicIP, node: l.node.name });
  const remote = (l: Lease | undefined, dev: string): l is Lease =>
    !!l && l.node !== node && l.dev === dev && !!mine?.[l.family];
  return {
    neighbor(d: string, a: Address) {
      const l = index.byVtep.get(`${a.family}:${a.value}`);
      return remote(l, d) ? neighborOf(l) : undefined;
    },
    fdb(d: string, mac: string) {
      const l = index.byMac.get(mac);
      return remote(l, d) ? fdbOf(l) : undefined;
    },
    all() {
      const others = index.leases.filter((l) => remote(l, l.dev));
      return { neighbors: others.map(neighborOf), fdb: others.map(fdbOf) };
    },
  };
}

/**
 * The MTU flannel gives the VTEP and (through the bridge plug-in's `mtu`) the pods: the underlay's minus 50; the
 * IPv6 VTEP's, which the kernel picks for a VXLAN device over IPv6: the underlay's minus 70.
 */
export function flannelMtus(t: Topology, node: Node): { underlay: number; vtep: number; vtep6: number; pod: number } {
  const underlay = flannelUnderlay(t, node)?.mtu ?? DEFAULT_MTU;
  const vxlan = flannelBackend(t).vxlan;
  const vtep = underlay - VXLAN_OVERHEAD;
  return { underlay, vtep, vtep6: underlay - VXLAN6_OVERHEAD, pod: t.cluster.cni.mtu ?? (vxlan ? vtep : underlay) };
}

const withMtu = (i: DpInterface, mtu: number): DpInterface => ({ ...i, mtu });

/**
 * flannel's Network per family: net-conf.json's `Network` and `IPv6Network` (with EnableIPv6); without a flannel
 * configuration read, the cluster's pod range of each family (the Network must be it).
 */
export function flannelNetworks(t: Topology): Prefix[] {
  const f = t.cluster.cni.flannel;
  const texts = f ? [f.network, f.enableIPv6 ? f.ipv6Network : undefined] : t.cluster.podCIDRs;
  const out: Prefix[] = [];
  for (const text of texts) {
    const p = text ? parsePrefix(text) : undefined;
    if (p && !out.some((q) => q.family === p.family)) out.push({ ...p, text: canonical(p) });
  }
  return out;
}

/** flanneld's `--ip-masq`: on unless a NetPath document turns it off. */
export const flannelIpMasq = (t: Topology): boolean => t.cluster.cni.flannel?.ipMasq ?? true;

const MULTICAST: Record<Family, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };
const MASQ_COMMENT = '-m comment --comment "flanneld masq"';
const FORWARD_COMMENT = '-m comment --comment "flanneld forward"';

/** flanneld's FLANNEL-POSTRTG (with `--ip-masq`) and FLANNEL-FWD rules on `node`, as iptables-save lines. */
export function flannelRules(t: Topology, node: Node): CniRules {
  const networks = flannelNetworks(t);
  if (!networks.length) return {};
  const nat: string[] = [];
  const filter = [`-A FORWARD ${FORWARD_COMMENT} -j FLANNEL-FWD`];
  const masq = flannelIpMasq(t);
  // The mark rule names no address: iptables and ip6tables both get it from this one line.
  if (masq)
    nat.push(
      `-A POSTROUTING ${MASQ_COMMENT} -j FLANNEL-POSTRTG`,
      `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ${MASQ_COMMENT} -j RETURN`,
    );
  for (const net of networks) {
    const network = net.text;
    filter.push(
      `-A FLANNEL-FWD -s ${network} ${FORWARD_COMMENT} -j ACCEPT`,
      `-A FLANNEL-FWD -d ${network} ${FORWARD_COMMENT} -j ACCEPT`,
    );
    if (!masq) continue;
    // The node's lease: its pod CIDR of the Network's family.
    const lease = node.podCIDRs.map((c) => parsePrefix(c)).find((p) => p?.family === net.family);
    if (lease) {
      const subnet = canonical(lease);
      nat.push(
        `-A FLANNEL-POSTRTG -s ${subnet} -d ${network} ${MASQ_COMMENT} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${network} -d ${subnet} ${MASQ_COMMENT} -j RETURN`,
        `-A FLANNEL-POSTRTG ! -s ${network} -d ${subnet} ${MASQ_COMMENT} -j RETURN`,
      );
    }
    nat.push(
      `-A FLANNEL-POSTRTG -s ${network} ! -d ${MULTICAST[net.family]} ${MASQ_COMMENT} -j MASQUERADE --random-fully`,
      `-A FLANNEL-POSTRTG ! -s ${network} -d ${network} ${MASQ_COMMENT} -j MASQUERADE --random-fully`,
    );
  }
  return {
    ...(masq ? { nat: { chains: [':FLANNEL-POSTRTG - [0:0]'], rules: nat } } : {}),
    filter: { chains: [':FLANNEL-FWD - [0:0]'], rules: filter },
  };
}

/** Joins two plug-ins' rules table by table (flannel's own after its delegate's). */
function joinRules(a: CniRules, b: CniRules): CniRules {
  const out: Record<string, { chains: string[]; rules: string[] }> = {};
  for (const part of [a, b])
    for (const [table, v] of Object.entries(part)) {
      if (!v) continue;
      const t = (out[table] ??= { chains: [], rules: [] });
      t.chains.push(...v.chains);
      t.rules.push(...v.rules);
    }
  return out as CniRules;
}

/** Whether flanneld's FLANNEL-POSTRTG masquerades a pod's packet from `src` to `dest`: from the Network to outside it. */
function flannelMasquerades(t: Topology, src: Address, dest: Address): boolean {
  if (!flannelIpMasq(t)) return false;
  const net = flannelNetworks(t).find((p) => p.family === src.family);
  if (!net || dest.family !== src.family) return false;
  const multicast = parsePrefix(MULTICAST[net.family]);
  return (
    prefixContainsAddress(net, src) &&
    !prefixContainsAddress(net, dest) &&
    !(multicast && prefixContainsAddress(multicast, dest))
  );
}

/**
 * Where flanneld's `--ip-masq` is written, when NetPath reads it: `cni.flannel.ipMasq` of a NetPath document. In a
 * cluster it is an argument of the kube-flannel DaemonSet's flanneld container, which is not part of kube-flannel-cfg.
 */
const flannelIpMasqSpan = (t: Topology) => {
  const f = t.cluster.cni.flannel;
  return f?.origin === 'netpath' ? writtenSpan(f.spans.ipMasq) : undefined;
};

/** Where flannel's Network is written (net-conf.json's `Network` in kube-flannel-cfg, or `cni.flannel.network`). */
const flannelNetworkSpan = (t: Topology) => {
  const f = t.cluster.cni.flannel;
  if (!f) return undefined;
  return writtenSpan(f.spans[f.origin === 'netpath' ? 'network' : 'Network']) ?? writtenSpan(f.span);
};

export const FLANNEL_PLUGIN: CniPlugin = {
  name: 'flannel',
  describe(node, t) {
    const base = BRIDGE_PLUGIN.describe(node, t);
    const f = t ? flannelBackend(t) : undefined;
    if (!f || !f.vxlan)
      return {
        ...base,
        plugin: 'flannel',
        summary: `flannel host-gw: ${base.summary}; routes via the other nodes' addresses`,
      };
    const leases = t ? leaseIndex(t).byNode.get(node) : undefined;
    const view = (family: Family): CniTunnelView => {
      const lease = leases?.[family];
      const up = t ? (family === 4 ? flannelUnderlay(t, node) : flannelUnderlay6(t, node)) : undefined;
      return {
        protocol: 'vxlan',
        device: vtepName(family, f.vni),
        vni: f.vni,
        port: f.port,
        ...(lease ? { address: lease.vtep, mac: lease.mac } : {}),
        ...(up ? { underlay: up.name, local: up.address } : {}),
      };
    };
    const text = (v: CniTunnelView, length: number): string =>
      `VTEP ${v.device} (VNI ${v.vni}, UDP ${v.port}${v.address ? `, ${v.address}/${length}, MAC ${v.mac}` : ''}${v.underlay ? `, over ${v.underlay}${v.local ? ` from ${v.local}` : ''}` : ''})`;
    const tunnel = view(4);
    const tunnel6 = leases?.[6] ? view(6) : undefined;
    return {
      ...base,
      plugin: 'flannel',
      summary: `flannel VXLAN: ${text(tunnel, 32)}${tunnel6 ? ` and for IPv6 ${text(tunnel6, 128)}` : ''}; ${base.summary}`,
      devices: [
        ...base.devices,
        ...(leases?.[4] ? [{ name: tunnel.device, addresses: [`${leases[4].vtep}/32`] }] : []),
        ...(tunnel6 && leases?.[6] ? [{ name: tunnel6.device, addresses: [`${leases[6].vtep}/128`] }] : []),
      ],
      tunnel,
      ...(tunnel6 ? { tunnel6 } : {}),
    };
  },
  wireNode(node, pods, t) {
    const base = BRIDGE_PLUGIN.wireNode(node, pods, t);
    const mtus = flannelMtus(t, node);
    const podMtu = (i: DpInterface): DpInterface => withMtu(i, mtus.pod);
    const f = flannelBackend(t);
    const leases = f.vxlan ? leaseIndex(t).byNode.get(node) : undefined;
    const vteps: DpInterface[] = [];
    for (const lease of [leases?.[4], leases?.[6]]) {
      const up = lease && (lease.family === 4 ? flannelUnderlay(t, node) : flannelUnderlay6(t, node));
      if (!lease || !up) continue;
      vteps.push({
        name: lease.dev,
        kind: 'vxlan',
        addresses: [{ family: lease.family, address: lease.vtep, length: lease.family === 4 ? 32 : 128 }],
        mtu: lease.family === 4 ? mtus.vtep : mtus.vtep6,
        mac: lease.mac,
        vxlan: { vni: f.vni, port: f.port, local: up.address, dev: up.name, learning: false },
      });
    }
    // The bridge's host veths are made when read (see BRIDGE_PLUGIN.wireNode): nothing here reads them before.
    let interfaces: readonly DpInterface[] | undefined;
    return {
      get interfaces() {
        interfaces ??= [...base.interfaces.map(podMtu), ...vteps];
        return interfaces;
      },
      addressed: [...(base.addressed ?? base.interfaces).map(podMtu), ...vteps],
      get bridges() {
        return base.bridges;
      },
      routes: base.routes,
      ...(vteps.length ? { implied: vxlanRoutes(t, node), tunnels: vxlanEntries(t, node) } : {}),
    };
  },
  wirePod(node, pod, addresses, t) {
    return BRIDGE_PLUGIN.wirePod(node, pod, addresses, t);
  },
  masquerade(node, pods, t) {
    // The delegate's ipMasq chains (flannel runs it with ipMasq false), then flanneld's own.
    const delegate = BRIDGE_PLUGIN.masquerade(node, pods, t).tables;
    return {
      label: `flanneld (${flannelIpMasq(t) ? '--ip-masq: FLANNEL-POSTRTG; ' : ''}FLANNEL-FWD)${delegate.nat ? ' and the CNI bridge plugin, ipMasq: true' : ''}`,
      tables: joinRules(delegate, flannelRules(t, node)),
    };
  },
  masqueradesTo: (node, src, dest, t) =>
    flannelMasquerades(t, src, dest) || BRIDGE_PLUGIN.masqueradesTo(node, src, dest, t),
  masqueradeCulprit(node, t, chain) {
    if (chain !== 'FLANNEL-POSTRTG')
      // A CNI-<hash> chain: the delegate bridge plug-in's, which only a NetPath `ipMasq: true` turns on.
      return {
        ...ipMasqCulprit(
          node,
          t,
          'CNI bridge plugin',
          "flannel's own CNI plug-in runs it with ipMasq: false and leaves egress masquerade to flanneld (--ip-masq), which exempts the flannel Network.",
        ),
        what: 'the ipMasq rule of the CNI bridge plugin flannel delegates to',
      };
    const networks = flannelNetworks(t)
      .map((p) => p.text)
      .join(', ');
    const ipMasq = flannelIpMasqSpan(t);
    const daemonSet =
      t.cluster.cni.flannel?.origin === 'netpath'
        ? ''
        : " (--ip-masq is an argument of flanneld in the kube-flannel DaemonSet, not a key of kube-flannel-cfg's net-conf.json)";
    return {
      what: "flanneld's --ip-masq rule",
      advice: `flanneld masquerades what leaves its Network (${networks || 'none'}) and what enters it from outside, so to flannel a pod whose address is outside the Network is the outside world. Give every node a pod CIDR inside the Network, or widen Network. Turning ipMasq off${daemonSet} would also stop the masquerade of the pods' traffic leaving the cluster.`,
      span: ipMasq ?? flannelNetworkSpan(t),
      ...(ipMasq ? { fix: { title: 'Set ipMasq to false', newText: 'false', preferred: false } } : {}),
    };
  },
  egressUnmasked(_node, t, src) {
    if (!flannelIpMasq(t))
      return {
        why: "flanneld's --ip-masq off",
        fix: "Turn flanneld's --ip-masq on (cni.flannel.ipMasq: true; kube-flannel.yml passes it), or add a masquerade rule (cluster.masquerade).",
      };
    const networks = flannelNetworks(t).filter((p) => p.family === src.family);
    return {
      why: `flanneld masquerades only from its Network (${networks.map((p) => p.text).join(', ') || 'none of this family'}), which does not hold the pod`,
      fix: "Give the node a pod CIDR inside flannel's Network, or add a masquerade rule (cluster.masquerade).",
    };
  },
};
