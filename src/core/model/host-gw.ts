/**
 * The routes `routing: host-gw` implies: every node routes each other node's pod CIDR (a Calico node's IPAM blocks,
 * as BGP installs them; kindnetd's routes are these too) via that node's address on a network they share. They are computed from the nodes, never stored on each node: a cluster of N nodes
 * implies N × (N - 1) of them (25 million at 5,000 nodes), while what they are made of is N pod CIDRs and N
 * addresses. `Node.routes` holds the declared routes only.
 *
 * - `impliedRoutes(t, node)`: one node's implied routes as a list (O(N): for showing them, the kernel lab);
 * - `hostGwIndex(t)`: each network's pod CIDRs with their owner's address there, indexed by prefix, for
 *   lookups (the data plane, the route rules) that must not visit every pair of nodes.
 */
import { mask, parseAddress, parsePrefix, type Address, type Family, type Prefix } from '../net/address';
import type { Span } from '../problem';
import { calicoBlocks } from '../cni/calico';
import type { Interface, Node, Route, Topology } from './types';

/** One node's pod CIDR reachable over one network: via the owner's address there. */
export interface HostGwEntry {
  readonly owner: Node;
  readonly cidr: string;
  readonly prefix: Prefix;
  readonly network: string;
  /** The owner's address on the network (of the CIDR's family), as written without its length. */
  readonly via: string;
  readonly span: Span;
}

/** Entries of one network by prefix length, then by the prefix's network address. */
class PrefixIndex {
  private readonly byLength = new Map<string, Map<bigint, HostGwEntry[]>>();
  private lengths: { family: Family; length: number }[] = [];

  add(e: HostGwEntry): void {
    const k = `${e.prefix.family}/${e.prefix.length}`;
    let m = this.byLength.get(k);
    if (!m) {
      this.byLength.set(k, (m = new Map()));
      this.lengths.push({ family: e.prefix.family, length: e.prefix.length });
      this.lengths.sort((a, b) => b.length - a.length);
    }
    const key = e.prefix.address & mask(e.prefix.family, e.prefix.length);
    const list = m.get(key);
    if (list) list.push(e);
    else m.set(key, [e]);
  }

  /** Every entry whose prefix holds `a`, longest prefixes first. */
  matching(a: Address): HostGwEntry[] {
    const out: HostGwEntry[] = [];
    for (const { family, length } of this.lengths) {
      if (family !== a.family) continue;
      const list = this.byLength.get(`${family}/${length}`)?.get(a.value & mask(family, length));
      if (list) out.push(...list);
    }
    return out;
  }
}

export interface HostGwIndex {
  /** Per network: the pod CIDRs reachable over it. */
  readonly networks: ReadonlyMap<string, PrefixIndex>;
  /** Per network: the nodes with an address there, by family (4 or 6). */
  readonly members: ReadonlyMap<string, { readonly 4: ReadonlySet<string>; readonly 6: ReadonlySet<string> }>;
  /** Every entry, in node order. */
  readonly entries: readonly HostGwEntry[];
}

/** The interfaces of `n` that carry implied routes, in order (a known network, or a default interface). */
export function routingInterfaces(t: Topology, n: Node): Interface[] {
  const known = knownNetworks(t);
  return n.interfaces.filter((i) => known.has(i.network) || i.origin === 'default');
}

const knownMemo = new WeakMap<Topology, Set<string>>();
function knownNetworks(t: Topology): Set<string> {
  let s = knownMemo.get(t);
  if (!s) knownMemo.set(t, (s = new Set(t.networks.map((n) => n.name))));
  return s;
}

/** The address of `other` that a route over `network` goes via: of its first interface there, of `family`. */
function viaOn(other: Node, network: string, family: Family): string | undefined {
  const theirs = other.interfaces.find((i) => i.network === network);
  return theirs?.addresses.map((a) => a.split('/')[0]).find((a) => parseAddress(a)?.family === family);
}

/**
 * The ranges other nodes route to `o` by: its pod CIDRs, or for a Calico node its IPAM blocks (BIRD announces
 * blocks, not the node's podCIDR, which Calico IPAM ignores).
 */
function routedRanges(t: Topology, o: Node): { cidr: string; prefix: Prefix; span: Span }[] {
  if (o.cni === 'calico')
    return (calicoBlocks(t).get(o.name) ?? []).map((b) => ({ cidr: b.cidr, prefix: b.prefix, span: b.span }));
  return o.podCIDRs.flatMap((cidr, k) => {
    const prefix = parsePrefix(cidr);
    return prefix ? [{ cidr, prefix, span: o.spans[`podCIDRs.${k}`] ?? o.span }] : [];
  });
}

const indexMemo = new WeakMap<Topology, HostGwIndex>();

/** The host-gw index of `t` (empty unless routing is host-gw); built once per topology. */
export function hostGwIndex(t: Topology): HostGwIndex {
  const memo = indexMemo.get(t);
  if (memo) return memo;
  const networks = new Map<string, PrefixIndex>();
  const members = new Map<string, { 4: Set<string>; 6: Set<string> }>();
  const entries: HostGwEntry[] = [];
  if (t.cluster.routing === 'host-gw') {
    for (const o of t.nodes) {
      const nets = [...new Set(o.interfaces.map((i) => i.network))];
      for (const network of nets) {
        let m = members.get(network);
        if (!m) members.set(network, (m = { 4: new Set(), 6: new Set() }));
        for (const family of [4, 6] as const) if (viaOn(o, network, family)) m[family].add(o.name);
      }
      for (const { cidr, prefix, span } of routedRanges(t, o)) {
        for (const network of nets) {
          const via = viaOn(o, network, prefix.family);
          if (!via) continue;
          const e: HostGwEntry = { owner: o, cidr, prefix, network, via, span };
          entries.push(e);
          let idx = networks.get(network);
          if (!idx) networks.set(network, (idx = new PrefixIndex()));
          idx.add(e);
        }
      }
    }
  }
  const index = { networks, members, entries };
  indexMemo.set(t, index);
  return index;
}

/**
 * The interface of `n` an implied route to `e`'s CIDR leaves by, or undefined when `n` has no implied route
 * for it: the first routing interface whose network the owner has an address of the family on. `n` itself,
 * and CIDRs a declared route of `n` names, get none.
 */
export function impliedDevice(
  t: Topology,
  n: Node,
  e: HostGwEntry,
  mine = routingInterfaces(t, n),
): string | undefined {
  if (e.owner === n || n.routes.some((r) => r.to === e.cidr)) return undefined;
  const members = hostGwIndex(t).members;
  for (const i of mine) {
    if (!members.get(i.network)?.[e.prefix.family].has(e.owner.name)) continue;
    return i.network === e.network ? i.name : undefined;
  }
  return undefined;
}

/** One node's implied routes, in node order (as `ip route` would be given them): O(number of nodes). */
export function impliedRoutes(t: Topology, n: Node): Route[] {
  if (t.cluster.routing !== 'host-gw') return [];
  const mine = routingInterfaces(t, n);
  const out: Route[] = [];
  for (const e of hostGwIndex(t).entries) {
    const dev = impliedDevice(t, n, e, mine);
    if (dev) out.push({ to: e.cidr, via: e.via, dev, source: 'implied', span: e.span, spans: {}, origin: 'default' });
  }
  return out;
}

/** A node's routes as the kernel gets them: the declared ones, then those host-gw implies. */
export function nodeRoutes(t: Topology, n: Node): Route[] {
  return [...n.routes, ...impliedRoutes(t, n)];
}
