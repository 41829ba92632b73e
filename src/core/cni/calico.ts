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
 *   the same decision as one rule per pool (see calicoNatRules).
 *
 * - VXLAN (an IPv4 pool with vxlanMode Always or CrossSubnet; felix's vxlan_mgr.go): every node gets the VTEP
 *   `vxlan.calico` (VNI 4096, UDP 4789, `local <node IP> dev <underlay>`, no learning, MTU the underlay's - 50)
 *   holding its VXLAN tunnel address (IPAM gives it the first address of a block of the node in a VXLAN pool:
 *   NetPath takes the node's lowest such block, see tunnelBlock) as a /32, a permanent neighbour entry (tunnel
 *   address -> VTEP MAC) and FDB entry (MAC -> node IP) per other node, and a route per remote block `<block> via <its tunnel address> dev vxlan.calico
 *   onlink`. CrossSubnet encapsulates only towards nodes outside the node's own subnet (the prefix of its address);
 *   blocks of nodes on the same subnet are routed directly via the node's address, as felix does in that mode.
 *   The pods' MTU follows (felix's veth MTU: the underlay's - 50).
 *
 * - IPIP (an IPv4 pool with ipipMode Always or CrossSubnet): the kernel's fallback IPIP device `tunl0` (no local
 *   or remote address: it takes the outer destination from the route's gateway) holds the node's IPIP tunnel
 *   address as a /32, MTU the underlay's - 20, and BIRD installs `<block> via <node IP> dev tunl0 onlink` for the
 *   remote blocks it encapsulates to (IP protocol 4: an outer IPv4 header, no UDP, nothing to learn).
 *
 * - VXLAN over IPv6 (an IPv6 pool with vxlanMode Always or CrossSubnet; felix's second VXLAN manager): the VTEP
 *   `vxlan-v6.calico` with the same VNI and port (FelixConfiguration vxlanVNI, vxlanPort), `local <node IPv6>`, MTU
 *   the underlay's - 70 (felix's vxlanMTUV6 auto-detection: an outer IPv6 header is 40 bytes), holding the node's IPv6
 *   tunnel address (IPAM: the first free address of its lowest block in such a pool) as a /128; per other node a
 *   permanent neighbour and FDB entry (to its IPv6 address), per remote IPv6 block `<block> via <its IPv6 tunnel
 *   address> dev vxlan-v6.calico onlink`. The pods' MTU is the smallest of the tunnels in use.
 *
 * The pods' wiring and the local routes stay the same with encapsulation; a pool's mode decides per remote block.
 * IPv6 blocks of a pool without vxlanMode are routed directly (Calico has no IPIP for IPv6). An IPv6 pod holds its address as a /128 and
 * routes `default via fe80::ecee:eeff:feee:eeee dev eth0`, the link-local address of its host veth (whose MAC
 * Calico fixes to ee:ee:ee:ee:ee:ee); the node routes it with `<pod>/128 dev <cali>` and its /122 blocks like the
 * IPv4 ones.
 */
import {
  canonical,
  formatValue,
  mask,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Prefix,
} from '../net/address';
import { sha1Hex } from '../hash';
import type {
  DpInterface,
  DpRoute,
  ImpliedRoutes,
  InterfaceAddress,
  TunnelEntries,
  TunnelFdb,
  TunnelNeighbor,
} from '../dataplane/types';
import { pluginRoute } from '../dataplane/routes';
import type { IPPool, Node, Topology } from '../model/types';
import type { Span } from '../problem';
import { ifaceAddress, writtenSpan } from './bridge';
import { vtepMac } from './flannel';
import { DEFAULT_MTU, IPIP_OVERHEAD, VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from './names';
import type { CniNodeView, CniPlugin, CniRules, CniTunnelView } from './types';

/** The pods' gateway: a link-local address nobody holds, answered by proxy ARP. */
export const CALICO_GATEWAY = '169.254.1.1';

/**
 * The pods' IPv6 gateway: the host veth's own link-local address. Calico gives every host veth the MAC
 * ee:ee:ee:ee:ee:ee, so its EUI-64 link-local address is the same on every veth, and the CNI plug-in routes the
 * pod's IPv6 with `default via fe80::ecee:eeff:feee:eeee dev eth0` (no proxy NDP needed: the veth holds it).
 */
export const CALICO_GATEWAY6 = 'fe80::ecee:eeff:feee:eeee';

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

/** Calico's VTEP (felix: the IPv4 VXLAN device name, VNI and port defaults of FelixConfiguration). */
export const CALICO_VXLAN_DEVICE = 'vxlan.calico';
/** The IPv6 VTEP (felix dataplanedefs VXLANIfaceNameV6), on the same VNI and port. */
export const CALICO_VXLAN6_DEVICE = 'vxlan-v6.calico';
export const CALICO_VXLAN_VNI = 4096;
export const CALICO_VXLAN_PORT = 4789;
/** The kernel's IPIP fallback device Calico routes through (ip_tunnel's `tunl0`). */
export const CALICO_IPIP_DEVICE = 'tunl0';

type EncapMode = IPPool['vxlanMode'];

/** An IP pool as the data plane uses it. */
export interface CalicoPool {
  readonly prefix: Prefix;
  readonly blockSize: number;
  readonly natOutgoing: boolean;
  readonly vxlanMode: EncapMode;
  readonly ipipMode: EncapMode;
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
      return prefix
        ? [{ prefix, blockSize: p.blockSize, natOutgoing: p.natOutgoing, vxlanMode: p.vxlanMode, ipipMode: p.ipipMode }]
        : [];
    });
  return t.cluster.podCIDRs.flatMap((c) => {
    const prefix = parsePrefix(c);
    return prefix
      ? [
          {
            prefix,
            blockSize: prefix.family === 4 ? 26 : 122,
            natOutgoing: true,
            vxlanMode: 'Never' as const,
            ipipMode: 'Never' as const,
          },
        ]
      : [];
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

// ---------------------------------------------------------------- encapsulation (VXLAN)

/** Whether any enabled IPv4 pool encapsulates in VXLAN (felix then creates vxlan.calico on every node). */
export function calicoVxlanEnabled(t: Topology): boolean {
  return calicoPools(t).some((p) => p.prefix.family === 4 && p.vxlanMode !== 'Never');
}

/** Whether any enabled IPv6 pool encapsulates in VXLAN (felix then creates vxlan-v6.calico on every node). */
export function calicoVxlan6Enabled(t: Topology): boolean {
  return calicoPools(t).some((p) => p.prefix.family === 6 && p.vxlanMode !== 'Never');
}

/** Whether any enabled IPv4 pool encapsulates in IPIP (calico-node then brings tunl0 up with a tunnel address). */
export function calicoIpipEnabled(t: Topology): boolean {
  return calicoPools(t).some((p) => p.prefix.family === 4 && p.vxlanMode === 'Never' && p.ipipMode !== 'Never');
}

/** A Calico node as the other nodes' tunnel entries and routes see it. */
interface CalicoUnderlay {
  readonly name: string;
  readonly address: string;
  readonly subnet: Prefix;
  readonly mtu: number;
}

/** A node's tunnel address of one family and its VTEP's MAC. */
interface CalicoTunnelAddress {
  readonly address: string;
  readonly value: bigint;
  readonly mac: string;
}

interface CalicoPeer {
  readonly node: Node;
  /** The node's IPv4 underlay: its first interface with an IPv4 address, that address and its subnet. */
  readonly underlay?: CalicoUnderlay;
  /** The node's IPv6 underlay: its first interface with a global IPv6 address (calico-node's IP6 first-found). */
  readonly underlay6?: CalicoUnderlay;
  /** The VXLAN tunnel address (IPv4, from the node's first IPv4 block) and the VTEP's MAC, when VXLAN is on. */
  readonly tunnel?: CalicoTunnelAddress;
  /** The IPv6 VXLAN tunnel address (from the node's lowest IPv6 block in a VXLAN pool) and vxlan-v6.calico's MAC. */
  readonly tunnel6?: CalicoTunnelAddress;
}

/** One remote block: its owner and pool, indexed by prefix for lookups. */
interface BlockEntry {
  readonly block: CalicoBlock;
  readonly owner: CalicoPeer;
  readonly pool: CalicoPool | undefined;
}

interface CalicoIndex {
  readonly peers: ReadonlyMap<Node, CalicoPeer>;
  readonly blocks: readonly BlockEntry[];
  /** Per family and prefix length, the blocks by network address. */
  readonly byLength: ReadonlyMap<string, ReadonlyMap<bigint, BlockEntry>>;
  readonly lengths: readonly { readonly family: 4 | 6; readonly length: number }[];
  /** Per family (`4:<value>`), the peers by tunnel address. */
  readonly byTunnel: ReadonlyMap<string, CalicoPeer>;
  readonly byMac: ReadonlyMap<string, CalicoPeer>;
}

const indexMemo = new WeakMap<Topology, CalicoIndex>();

function underlayOf(t: Topology, node: Node, family: 4 | 6 = 4): CalicoUnderlay | undefined {
  for (const i of node.interfaces) {
    const text = i.addresses.find((x) => {
      const a = ifaceAddress(x);
      return a?.family === family && !a.address.toLowerCase().startsWith('fe80:');
    });
    const a = text ? ifaceAddress(text) : undefined;
    if (!a) continue;
    const subnet = parsePrefix(`${a.address}/${a.length}`);
    if (!subnet) continue;
    const mtu = t.networks.find((n) => n.name === i.network)?.mtu ?? DEFAULT_MTU;
    return { name: i.name, address: a.address, subnet, mtu };
  }
  return undefined;
}

/** The first address of `block` that no pod of the topology holds (Calico IPAM hands out a block's addresses in order). */
function firstFree(block: Prefix, held: ReadonlySet<bigint>): bigint | undefined {
  const size = 1n << BigInt((block.family === 4 ? 32 : 128) - block.length);
  const base = block.address & mask(block.family, block.length);
  for (let k = 0n; k < size && k < 1024n; k++) if (!held.has(base + k)) return base + k;
  return undefined;
}

/**
 * The block a node's tunnel address comes from. calico-node asks IPAM for it (allocateip.go) from the pools that
 * encapsulate (vxlanMode, or ipipMode, not Never) when it starts, before any pod: IPAM gives the first address of a
 * block affine to the node. NetPath takes the node's lowest IPv4 block in such a pool (the pods' order in the files
 * does not change it); its first address unless a pod holds it (then the first free one, as IPAM would).
 */
function tunnelBlock(
  mine: readonly CalicoBlock[],
  pools: readonly CalicoPool[],
  family: 4 | 6 = 4,
): CalicoBlock | undefined {
  let best: CalicoBlock | undefined;
  for (const b of mine) {
    if (b.prefix.family !== family) continue;
    const pool = pools.find(
      (p) => p.prefix.family === family && prefixContainsAddress(p.prefix, { family, value: b.prefix.address }),
    );
    if (!pool || (pool.vxlanMode === 'Never' && pool.ipipMode === 'Never')) continue;
    if (!best || b.prefix.address < best.prefix.address) best = b;
  }
  return best;
}

/** Every Calico node's tunnel endpoint and blocks, indexed once per topology (no per-pair work). */
function calicoIndex(t: Topology): CalicoIndex {
  const memo = indexMemo.get(t);
  if (memo) return memo;
  const vxlan = calicoVxlanEnabled(t) || calicoIpipEnabled(t);
  const vxlan6 = calicoVxlan6Enabled(t);
  const pools = calicoPools(t);
  const blocksOf = calicoBlocks(t);
  // The pods' addresses, per family (`4:<value>`): a tunnel address is the first one no pod holds.
  const held = new Set<bigint>();
  const held6 = new Set<bigint>();
  if (vxlan || vxlan6)
    for (const p of t.pods)
      for (const ip of p.ips) {
        const a = parseAddress(ip);
        if (a) (a.family === 4 ? held : held6).add(a.value);
      }
  const peers = new Map<Node, CalicoPeer>();
  const blocks: BlockEntry[] = [];
  const byLength = new Map<string, Map<bigint, BlockEntry>>();
  const lengths: { family: 4 | 6; length: number }[] = [];
  const byTunnel = new Map<string, CalicoPeer>();
  const byMac = new Map<string, CalicoPeer>();
  for (const node of t.nodes) {
    if (node.cni !== 'calico') continue;
    const underlay = underlayOf(t, node);
    const underlay6 = vxlan6 ? underlayOf(t, node, 6) : undefined;
    const mine = blocksOf.get(node.name) ?? [];
    const first4 = vxlan ? tunnelBlock(mine, pools) : undefined;
    const value = first4 ? firstFree(first4.prefix, held) : undefined;
    const tunnel =
      value !== undefined
        ? { address: formatValue(4, value), value, mac: vtepMac(node.name, CALICO_VXLAN_DEVICE) }
        : undefined;
    const first6 = vxlan6 ? tunnelBlock(mine, pools, 6) : undefined;
    const value6 = first6 ? firstFree(first6.prefix, held6) : undefined;
    const tunnel6 =
      value6 !== undefined
        ? { address: formatValue(6, value6), value: value6, mac: vtepMac(node.name, CALICO_VXLAN6_DEVICE) }
        : undefined;
    const peer: CalicoPeer = {
      node,
      ...(underlay ? { underlay } : {}),
      ...(underlay6 ? { underlay6 } : {}),
      ...(tunnel ? { tunnel } : {}),
      ...(tunnel6 ? { tunnel6 } : {}),
    };
    peers.set(node, peer);
    for (const [family, tn, up] of [
      [4, tunnel, underlay],
      [6, tunnel6, underlay6],
    ] as const) {
      if (!tn || !up) continue;
      if (!byTunnel.has(`${family}:${tn.value}`)) byTunnel.set(`${family}:${tn.value}`, peer);
      if (!byMac.has(tn.mac)) byMac.set(tn.mac, peer);
    }
    for (const block of mine) {
      const entry: BlockEntry = {
        block,
        owner: peer,
        pool: pools.find(
          (p) =>
            p.prefix.family === block.prefix.family &&
            prefixContainsAddress(p.prefix, {
              family: block.prefix.family,
              value: block.prefix.address,
            }),
        ),
      };
      blocks.push(entry);
      const key = `${block.prefix.family}/${block.prefix.length}`;
      let m = byLength.get(key);
      if (!m) {
        byLength.set(key, (m = new Map()));
        lengths.push({ family: block.prefix.family, length: block.prefix.length });
      }
      const network = block.prefix.address & mask(block.prefix.family, block.prefix.length);
      if (!m.has(network)) m.set(network, entry);
    }
  }
  lengths.sort((a, b) => b.length - a.length);
  const index = { peers, blocks, byLength, lengths, byTunnel, byMac };
  indexMemo.set(t, index);
  return index;
}

function blockFor(index: CalicoIndex, a: Address): BlockEntry | undefined {
  for (const { family, length } of index.lengths) {
    if (family !== a.family) continue;
    const e = index.byLength.get(`${family}/${length}`)?.get(a.value & mask(family, length));
    if (e) return e;
  }
  return undefined;
}

/**
 * How traffic from `me` to a block of `owner` in `pool` is encapsulated: in VXLAN or IPIP when the pool's mode
 * for it is Always, or CrossSubnet and the owner's address is outside `me`'s subnet (of the pool's family); else not
 * at all. An IPv6 pool only in VXLAN (Calico has no IPIP for IPv6).
 */
export function calicoEncapsulation(
  pool: CalicoPool | undefined,
  me: CalicoPeer,
  owner: CalicoPeer,
): 'vxlan' | 'ipip' | undefined {
  if (!pool) return undefined;
  const v6 = pool.prefix.family === 6;
  const [protocol, mode] =
    pool.vxlanMode !== 'Never' ? (['vxlan', pool.vxlanMode] as const) : (['ipip', pool.ipipMode] as const);
  if (mode === 'Never' || (v6 && protocol === 'ipip')) return undefined;
  if (mode === 'Always') return protocol;
  const [mine, their] = v6 ? [me.underlay6, owner.underlay6] : [me.underlay, owner.underlay];
  const theirs = their ? parseAddress(their.address) : undefined;
  return !mine || !theirs || !prefixContainsAddress(mine.subnet, theirs) ? protocol : undefined;
}

/** `me`'s address on a network `owner` also has an address of `family` on: the direct route's device and gateway. */
function directRoute(me: Node, owner: Node, family: 4 | 6): { dev: string; via: string } | undefined {
  for (const i of me.interfaces) {
    const theirs = owner.interfaces.find((o) => o.network === i.network);
    const via = theirs?.addresses.map((x) => ifaceAddress(x)).find((x) => x?.family === family);
    if (via && i.addresses.some((x) => ifaceAddress(x)?.family === family)) return { dev: i.name, via: via.address };
  }
  return undefined;
}

/**
 * A VXLAN Calico node's routes to the other nodes' blocks: through vxlan.calico where the pool encapsulates towards
 * that node, directly via the node's address where it does not (CrossSubnet on one subnet, a pool without VXLAN).
 */
function calicoRoutes(t: Topology, node: Node): ImpliedRoutes {
  const index = calicoIndex(t);
  const me = index.peers.get(node) ?? { node };
  const declared = new Set(node.routes.map((r) => r.to));
  const memo = new Map<BlockEntry, DpRoute | null>();
  const route = (e: BlockEntry): DpRoute | undefined => {
    if (e.owner.node === node || declared.has(e.block.cidr)) return undefined;
    const known = memo.get(e);
    if (known !== undefined) return known ?? undefined;
    let r: DpRoute | undefined;
    const cidr = e.block.cidr;
    const encap = calicoEncapsulation(e.pool, me, e.owner);
    if (encap === 'ipip' || encap === 'vxlan') {
      // IPIP sends to the owner's own address, VXLAN to its VTEP's tunnel address; both onlink through the tunnel.
      const v6 = e.block.prefix.family === 6;
      const [via, dev] =
        encap === 'ipip'
          ? [e.owner.underlay?.address, CALICO_IPIP_DEVICE]
          : v6
            ? [e.owner.tunnel6?.address, CALICO_VXLAN6_DEVICE]
            : [e.owner.tunnel?.address, CALICO_VXLAN_DEVICE];
      if (via && (v6 ? me.tunnel6 : me.tunnel))
        r = {
          to: cidr,
          prefix: e.block.prefix,
          via,
          dev,
          onlink: true,
          kind: 'implied',
          text: `${cidr} via ${via} dev ${dev} onlink`,
          span: e.block.span,
        };
    } else {
      const d = directRoute(node, e.owner.node, e.block.prefix.family);
      if (d)
        r = {
          to: cidr,
          prefix: e.block.prefix,
          via: d.via,
          dev: d.dev,
          kind: 'implied',
          text: `${cidr} via ${d.via} dev ${d.dev}`,
          span: e.block.span,
        };
    }
    memo.set(e, r ?? null);
    return r;
  };
  return {
    matching(dst: Address) {
      const e = blockFor(index, dst);
      const r = e ? route(e) : undefined;
      return r ? [r] : [];
    },
    all() {
      return index.blocks.flatMap((e) => route(e) ?? []);
    },
  };
}

/**
 * A VXLAN Calico node's permanent neighbour and FDB entries on vxlan.calico (and vxlan-v6.calico), one of each per
 * other node's VTEP of that family.
 */
function calicoTunnelEntries(t: Topology, node: Node): TunnelEntries {
  const index = calicoIndex(t);
  const me = index.peers.get(node);
  const ends = (p: CalicoPeer, dev: string) =>
    dev === CALICO_VXLAN_DEVICE && me?.tunnel
      ? { tunnel: p.tunnel, underlay: p.underlay }
      : dev === CALICO_VXLAN6_DEVICE && me?.tunnel6
        ? { tunnel: p.tunnel6, underlay: p.underlay6 }
        : undefined;
  const neighborOf = (p: CalicoPeer, dev: string): TunnelNeighbor | undefined => {
    const e = ends(p, dev);
    return e?.tunnel && e.underlay
      ? { dev, address: e.tunnel.address, mac: e.tunnel.mac, node: p.node.name }
      : undefined;
  };
  const fdbOf = (p: CalicoPeer, dev: string): TunnelFdb | undefined => {
    const e = ends(p, dev);
    return e?.tunnel && e.underlay ? { dev, mac: e.tunnel.mac, dst: e.underlay.address, node: p.node.name } : undefined;
  };
  const devices = [CALICO_VXLAN_DEVICE, CALICO_VXLAN6_DEVICE];
  return {
    neighbor(d, a) {
      const p = index.byTunnel.get(`${a.family}:${a.value}`);
      if (!p || p.node === node) return undefined;
      const n = neighborOf(p, d);
      return n && n.address === formatValue(a.family, a.value) ? n : undefined;
    },
    fdb(d, mac) {
      const p = index.byMac.get(mac);
      if (!p || p.node === node) return undefined;
      const f = fdbOf(p, d);
      return f && f.mac === mac ? f : undefined;
    },
    all() {
      const list = [...index.peers.values()].filter((p) => p.node !== node);
      return {
        neighbors: devices.flatMap((d) => list.flatMap((p) => neighborOf(p, d) ?? [])),
        fdb: devices.flatMap((d) => list.flatMap((p) => fdbOf(p, d) ?? [])),
      };
    },
  };
}

/**
 * The MTUs Calico gives a node: vxlan.calico's (the underlay's - 50), tunl0's (- 20) and the pods' (felix's veth
 * MTU: the smallest of the tunnels in use; `cni.mtu` when written).
 */
export function calicoMtus(
  t: Topology,
  node: Node,
): { underlay: number; vtep: number; vtep6: number; tunl: number; pod: number | undefined } {
  const underlay = underlayOf(t, node)?.mtu ?? DEFAULT_MTU;
  const vtep = underlay - VXLAN_OVERHEAD;
  const vtep6 = (underlayOf(t, node, 6)?.mtu ?? underlay) - VXLAN6_OVERHEAD;
  const tunl = underlay - IPIP_OVERHEAD;
  const inUse = [
    ...(calicoVxlanEnabled(t) ? [vtep] : calicoIpipEnabled(t) ? [tunl] : []),
    ...(calicoVxlan6Enabled(t) ? [vtep6] : []),
  ];
  const pod = inUse.length ? Math.min(...inUse) : undefined;
  return { underlay, vtep, vtep6, tunl, pod: t.cluster.cni.mtu ?? pod };
}

/** The node's IPv6 VTEP (vxlan-v6.calico) as a view draws it, when an IPv6 pool is in VXLAN mode and the node has its ends. */
function tunnel6View(t: Topology, node: Node): CniTunnelView | undefined {
  if (!calicoVxlan6Enabled(t)) return undefined;
  const p = calicoIndex(t).peers.get(node);
  if (!p?.tunnel6 || !p.underlay6) return undefined;
  return {
    protocol: 'vxlan',
    device: CALICO_VXLAN6_DEVICE,
    vni: CALICO_VXLAN_VNI,
    port: CALICO_VXLAN_PORT,
    address: p.tunnel6.address,
    mac: p.tunnel6.mac,
    underlay: p.underlay6.name,
    local: p.underlay6.address,
  };
}

/** The node's VXLAN view (its VTEP), when VXLAN is on and the node has a tunnel address. */
function tunnelView(t: Topology, node: Node): Pick<CniNodeView, 'tunnel' | 'devices'> | undefined {
  const vxlan = calicoVxlanEnabled(t);
  if (!vxlan && !calicoIpipEnabled(t)) return undefined;
  const p = calicoIndex(t).peers.get(node);
  if (!p?.tunnel || !p.underlay) return undefined;
  if (!vxlan)
    return {
      devices: [{ name: CALICO_IPIP_DEVICE, addresses: [`${p.tunnel.address}/32`] }],
      tunnel: {
        protocol: 'ipip',
        device: CALICO_IPIP_DEVICE,
        address: p.tunnel.address,
        underlay: p.underlay.name,
        local: p.underlay.address,
      },
    };
  return {
    devices: [{ name: CALICO_VXLAN_DEVICE, addresses: [`${p.tunnel.address}/32`] }],
    tunnel: {
      protocol: 'vxlan',
      device: CALICO_VXLAN_DEVICE,
      vni: CALICO_VXLAN_VNI,
      port: CALICO_VXLAN_PORT,
      address: p.tunnel.address,
      mac: p.tunnel.mac,
      underlay: p.underlay.name,
      local: p.underlay.address,
    },
  };
}

/**
 * felix's nat POSTROUTING as iptables-save lines (felix/rules/static.go StaticNATPostroutingChains, nat.go): its hook
 * `-j cali-POSTROUTING`, which felix keeps first in POSTROUTING (inserted before kube-proxy's); there `cali-fip-snat`
 * (floating IPs: none here), `cali-nat-outgoing`, and per tunnel device in use the rule that masquerades the node's
 * own packets sent into the tunnel from another of its addresses (they leave with the tunnel address).
 *
 * cali-nat-outgoing is felix's one rule `-m set --match-set cali40masq-ipam-pools src -m set ! --match-set
 * cali40all-ipam-pools dst -j MASQUERADE --random-fully` (IPv6: cali60...). NetPath writes the same decision without
 * ipsets, one rule per pool (iptables-nft here has no ipset): for each natOutgoing pool, a RETURN per pool of its
 * family, then the MASQUERADE; the comments name the ipsets.
 */
export function calicoNatRules(t: Topology): CniRules {
  const all = calicoPools(t);
  const masq = all.filter((p) => p.natOutgoing);
  const rules = [
    '-I POSTROUTING 1 -m comment --comment "calico: felix\'s hook, kept first in POSTROUTING" -j cali-POSTROUTING',
    '-A cali-POSTROUTING -j cali-fip-snat',
    '-A cali-POSTROUTING -j cali-nat-outgoing',
  ];
  const tunnels = [
    ...(calicoIpipEnabled(t) ? [CALICO_IPIP_DEVICE] : []),
    ...(calicoVxlanEnabled(t) ? [CALICO_VXLAN_DEVICE] : []),
    ...(calicoVxlan6Enabled(t) ? [CALICO_VXLAN6_DEVICE] : []),
  ];
  for (const dev of tunnels)
    rules.push(
      `-A cali-POSTROUTING -o ${dev} -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -m comment --comment "calico: the node's own packets into ${dev} leave with the tunnel address" -j MASQUERADE`,
    );
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
  return {
    nat: { chains: [':cali-POSTROUTING - [0:0]', ':cali-fip-snat - [0:0]', ':cali-nat-outgoing - [0:0]'], rules },
  };
}

/** The enabled, natOutgoing IPPool (as written) that holds `src`: whose cali-nat-outgoing rule masquerades it. */
function natOutgoingPoolOf(t: Topology, src: Address): IPPool | undefined {
  return t.cluster.cni.ipPools.find((p) => {
    const prefix = !p.disabled && p.natOutgoing ? parsePrefix(p.cidr) : undefined;
    return prefix !== undefined && prefixContainsAddress(prefix, src);
  });
}

export const CALICO_PLUGIN: CniPlugin = {
  name: 'calico',
  describe(node, t) {
    const summary = `Calico: a cali veth per pod, no bridge and no address on the host side; proxy ARP answers for the pods' gateway ${CALICO_GATEWAY}; a /32 route per pod, a blackhole route per local IPAM block`;
    const rest = summary.slice('Calico: '.length);
    const vx = t ? tunnelView(t, node) : undefined;
    const tunnel6 = t ? tunnel6View(t, node) : undefined;
    const vtepText = (v: CniTunnelView, length: number): string =>
      `VTEP ${v.device} (VNI ${v.vni}, UDP ${v.port}, ${v.address}/${length}, MAC ${v.mac}, over ${v.underlay} from ${v.local})`;
    const six = tunnel6 ? `; for IPv6 ${vtepText(tunnel6, 128)}, remote IPv6 blocks via its tunnel address onlink` : '';
    const common = {
      plugin: 'calico' as const,
      hostVethPrefix: 'cali',
      devices: [
        ...(vx?.devices ?? []),
        ...(tunnel6 ? [{ name: tunnel6.device, addresses: [`${tunnel6.address}/128`] }] : []),
      ],
      ...(vx?.tunnel ? { tunnel: vx.tunnel } : {}),
      ...(tunnel6 ? { tunnel6 } : {}),
    };
    const tn = vx?.tunnel;
    if (!tn && !tunnel6) return { plugin: 'calico', summary, devices: [], hostVethPrefix: 'cali' };
    if (!tn) return { ...common, summary: `Calico VXLAN: ${six.slice(2)}; ${rest}` };
    if (tn.protocol === 'ipip')
      return {
        ...common,
        summary: `Calico IPIP: ${tn.device} (IP protocol 4, ${tn.address}/32, over ${tn.underlay}), remote blocks via their node's address dev ${tn.device} onlink${six}; ${rest}`,
      };
    return {
      ...common,
      summary: `Calico VXLAN: ${vtepText(tn, 32)}, remote blocks via their tunnel address onlink${six}; ${rest}`,
    };
  },
  wireNode(node, pods, t) {
    const interfaces: DpInterface[] = [];
    const routes: DpRoute[] = [];
    for (const p of pods) {
      const ipv6 = p.ips.some((ip) => parseAddress(ip)?.family === 6);
      interfaces.push({
        name: p.hostVeth,
        kind: 'veth',
        addresses: ipv6 ? [{ family: 6, address: CALICO_GATEWAY6, length: 64 }] : [],
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
    const vxlan = calicoVxlanEnabled(t);
    const ipip = calicoIpipEnabled(t);
    const vxlan6 = calicoVxlan6Enabled(t);
    if (!vxlan && !ipip && !vxlan6) return { interfaces, bridges: [], routes };
    const p = calicoIndex(t).peers.get(node);
    const mtus = calicoMtus(t, node);
    const withMtu = interfaces.map((i) => (mtus.pod !== undefined ? { ...i, mtu: mtus.pod } : i));
    const tunl: DpInterface[] =
      ipip && p?.tunnel
        ? [
            {
              name: CALICO_IPIP_DEVICE,
              kind: 'ipip',
              addresses: [{ family: 4, address: p.tunnel.address, length: 32 }],
              mtu: mtus.tunl,
            },
          ]
        : [];
    // One VTEP per family whose pools use VXLAN: vxlan.calico over the IPv4 underlay, vxlan-v6.calico over the IPv6 one
    // (felix gives both the same VNI and port; the kernel keeps a VXLAN socket per family).
    const vteps: DpInterface[] = [];
    for (const [on, name, family, tunnel, underlay, mtu] of [
      [vxlan, CALICO_VXLAN_DEVICE, 4, p?.tunnel, p?.underlay, mtus.vtep],
      [vxlan6, CALICO_VXLAN6_DEVICE, 6, p?.tunnel6, p?.underlay6, mtus.vtep6],
    ] as const) {
      if (!on || !tunnel || !underlay) continue;
      vteps.push({
        name,
        kind: 'vxlan',
        addresses: [{ family, address: tunnel.address, length: family === 4 ? 32 : 128 }],
        mtu,
        mac: tunnel.mac,
        vxlan: {
          vni: CALICO_VXLAN_VNI,
          port: CALICO_VXLAN_PORT,
          local: underlay.address,
          dev: underlay.name,
          learning: false,
        },
      });
    }
    return {
      interfaces: [...withMtu, ...vteps, ...tunl],
      bridges: [],
      routes,
      implied: calicoRoutes(t, node),
      tunnels: calicoTunnelEntries(t, node),
    };
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
    if (out.some((a) => a.family === 6)) {
      const r = pluginRoute('default', { via: CALICO_GATEWAY6, dev: 'eth0', kind: 'gateway' });
      if (r) routes.push(r);
    }
    return { routes, addresses: out };
  },
  masquerade(_node, _pods, t) {
    return {
      label: "Calico natOutgoing and tunnels (felix's cali-POSTROUTING, cali-nat-outgoing)",
      tables: calicoNatRules(t),
      sameOnEveryNode: true,
    };
  },
  masqueradeCulprit(_node, t, chain, src) {
    if (chain !== 'cali-nat-outgoing')
      return {
        what: "Calico's tunnel masquerade rule",
        advice:
          "felix masquerades the node's own packets sent into its tunnel device from another of the node's addresses.",
        span: undefined,
      };
    const pool = natOutgoingPoolOf(t, src);
    const all = calicoPools(t)
      .map((p) => canonical(p.prefix))
      .join(', ');
    const span = writtenSpan(pool?.spans.natOutgoing);
    return {
      what: pool
        ? `Calico's natOutgoing rule of IPPool ${pool.name}`
        : "Calico's natOutgoing rule of the IP pool calico-node creates from CALICO_IPV4POOL_CIDR (natOutgoing on)",
      advice: `felix masquerades traffic from a natOutgoing pool to every destination outside all enabled IP pools (${all || 'none'}), so to Calico a pod whose address is in no pool is the outside world. Cover every pod address with an enabled IPPool. natOutgoing: false would also stop the masquerade of the pool's traffic leaving the cluster.`,
      span: span ?? writtenSpan(pool?.spans.name) ?? writtenSpan(pool?.span),
      ...(span ? { fix: { title: 'Set natOutgoing to false', newText: 'false', preferred: false } } : {}),
    };
  },
  egressUnmasked(_node, t, src) {
    const pool = t.cluster.cni.ipPools.find((p) => {
      const prefix = !p.disabled ? parsePrefix(p.cidr) : undefined;
      return prefix !== undefined && prefixContainsAddress(prefix, src);
    });
    return pool
      ? {
          why: `IPPool ${pool.name} has natOutgoing off`,
          fix: `Set natOutgoing: true on IPPool ${pool.name}, or add a masquerade rule (cluster.masquerade).`,
        }
      : {
          why: 'the pod address is in no enabled Calico IP pool, so no natOutgoing applies to it',
          fix: 'Give the pods addresses from an IPPool with natOutgoing: true, or add a masquerade rule (cluster.masquerade).',
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
