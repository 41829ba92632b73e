/** Route lookup and local-address checks on one namespace of the data plane. */
import {
  literalPrefix,
  addressKey,
  canonical,
  formatAddress,
  hostPrefix,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Family,
  type Prefix,
} from '../net/address';
import type { DpInterface, DpRoute, InterfaceAddress, Netns } from './types';

const LOOPBACK4 = literalPrefix('127.0.0.0/8');

/** Whether `a` is an address of this namespace (the kernel's local table), loopback included. */
export function isLocalAddress(ns: Netns, a: Address): boolean {
  if (a.family === 4 && prefixContainsAddress(LOOPBACK4, a)) return true;
  if (a.family === 6 && a.value === 1n) return true;
  // Not a loopback address, so not one of a pod's lo.
  return localDeviceOf(ns, addressKey(a), true) !== undefined;
}

/**
 * The first device (in device order) holding the address of key `key`. A pod's devices are read directly (lo and
 * eth0; `notLoopback`: the address is none of lo's, which is skipped): no map kept for each of the 30 new pods a trace
 * to a new Service meets.
 */
function localDeviceOf(ns: Netns, key: string, notLoopback: boolean): DpInterface | undefined {
  if (ns.kind !== 'pod') return localDevices(ns).get(key);
  const interfaces = ns.interfaces;
  for (let k = 0; k < interfaces.length; k++) {
    const i = interfaces[k];
    if (notLoopback && i.kind === 'loopback') continue;
    for (let j = 0; j < i.addresses.length; j++) if (keyOfInterfaceAddress(i.addresses[j]) === key) return i;
  }
  return undefined;
}

/** A namespace's devices by the addresses they hold, parsed once per namespace (a trace asks at every hop). */
const LOCALS = new WeakMap<Netns, ReadonlyMap<string, DpInterface>>();
function localDevices(ns: Netns): ReadonlyMap<string, DpInterface> {
  let m = LOCALS.get(ns);
  if (!m) {
    const byAddress = new Map<string, DpInterface>();
    // Indexed loops: once per namespace a trace meets (a new pod per endpoint), where a for-of made an object per step.
    const interfaces = ns.interfaces;
    for (let k = 0; k < interfaces.length; k++) {
      const i = interfaces[k];
      for (let j = 0; j < i.addresses.length; j++) {
        const key = keyOfInterfaceAddress(i.addresses[j]);
        if (key !== undefined && !byAddress.has(key)) byAddress.set(key, i);
      }
    }
    LOCALS.set(ns, (m = byAddress));
  }
  return m;
}

/**
 * An interface address's key (see addressKey), undefined when it does not parse as its family; once per address
 * object: every pod's `lo` is the same interface, whose ::1 took a full IPv6 parse in each new namespace a trace met.
 */
const KEYS = new WeakMap<InterfaceAddress, string | null>();
function keyOfInterfaceAddress(x: InterfaceAddress): string | undefined {
  let key = KEYS.get(x);
  if (key === undefined) {
    const a = parseAddress(x.address);
    KEYS.set(x, (key = a && a.family === x.family ? addressKey(a) : null));
  }
  return key ?? undefined;
}

/** The device that holds a local address (`lo` for loopback). */
export function deviceOfLocal(ns: Netns, a: Address): DpInterface | undefined {
  return localDeviceOf(ns, addressKey(a), false) ?? ns.interfaces.find((i) => i.kind === 'loopback');
}

/** The order of the main table: family, longest prefix first, then as `ip route` sorts the text. */
export function compareRoutes(a: DpRoute, b: DpRoute): number {
  return a.prefix.family - b.prefix.family || b.prefix.length - a.prefix.length || a.text.localeCompare(b.text);
}

type Table = Pick<Netns, 'routes' | 'implied'>;

/** Longest-prefix match in the main table (host-gw's implied routes included); among equal prefixes the first one wins. */
export function lookupRoute(ns: Table, dst: Address): DpRoute | undefined {
  let best: DpRoute | undefined;
  const routes = ns.routes;
  for (let k = 0; k < routes.length; k++) {
    const r = routes[k];
    if (!prefixContainsAddress(r.prefix, dst)) continue;
    if (!best || r.prefix.length > best.prefix.length) best = r;
  }
  const implied = ns.implied?.matching(dst)[0];
  return implied && (!best || compareRoutes(implied, best) < 0) ? implied : best;
}

/** The routes whose prefix holds `dst`, most specific first (what a lookup chooses among; the first is chosen). */
export function routesFor(ns: Table, dst: Address): DpRoute[] {
  const out = ns.routes.filter((r) => prefixContainsAddress(r.prefix, dst));
  const implied = ns.implied?.matching(dst) ?? [];
  // A stable sort: among equal prefixes the first one wins, as in lookupRoute.
  return implied.length
    ? [...out, ...implied].sort(compareRoutes)
    : out.sort((a, b) => b.prefix.length - a.prefix.length);
}

/** The whole main table, implied routes included, in table order (for showing it). */
export function routeTable(ns: Table): DpRoute[] {
  return ns.implied ? sortRoutes([...ns.routes, ...ns.implied.all()]) : [...ns.routes];
}

/** Sorts routes like `ip route` shows them: longest prefix first, then by text. */
export function sortRoutes(routes: readonly DpRoute[]): DpRoute[] {
  const out = routes.slice();
  if (out.length > 8) return out.sort(compareRoutes);
  // A pod's table holds two or three routes, and a trace meets a new pod per endpoint of the Service: an insertion sort
  // (stable, as Array.prototype.sort is) of so few allocates nothing beyond the copy.
  for (let i = 1; i < out.length; i++) {
    const r = out[i];
    let j = i - 1;
    for (; j >= 0 && compareRoutes(out[j], r) > 0; j--) out[j + 1] = out[j];
    out[j + 1] = r;
  }
  return out;
}

/**
 * The prefix route the kernel adds for an interface address: none for an IPv4 /32 (fib_add_ifaddr adds a prefix
 * route only for shorter prefixes) nor for an address added with `noprefixroute`.
 */
export function connectedRoute(dev: string, x: InterfaceAddress): DpRoute | undefined {
  if (x.noPrefixRoute || (x.family === 4 && x.length === 32)) return undefined;
  const p = parsePrefix(`${x.address}/${x.length}`);
  if (!p) return undefined;
  const to = canonical(p);
  return connectedRouteFrom(dev, x, p.address, to, connectedRouteHead(to, dev));
}

/** A connected route's text up to its source address: the same for every address of a subnet on a device name. */
export function connectedRouteHead(to: string, dev: string): string {
  return `${to} dev ${dev} proto kernel scope link src `;
}

/**
 * The connected route of `x` (one that has a prefix route) from its parts: `value`, its address parsed; `to`, its
 * subnet as canonical writes it; `head`, connectedRouteHead(to, dev). A pod's are made from its node's pod subnet.
 */
export function connectedRouteFrom(dev: string, x: InterfaceAddress, value: bigint, to: string, head: string): DpRoute {
  return {
    to,
    // Named fields, not a spread: one route per node interface, and a spread copies through the engine's generic path.
    prefix: { family: x.family, address: value, length: x.length, text: to },
    dev,
    kind: 'connected',
    text: head + x.address,
  };
}

export function routeText(to: string, via: string | undefined, dev: string, onlink = false): string {
  return `${to}${via ? ` via ${via}` : ''} dev ${dev}${onlink ? ' onlink' : ''}`;
}

/**
 * A route a CNI plug-in installs, with its text as `ip route` prints it (`blackhole 10.244.1.0/26`,
 * `10.244.1.5 dev cali1b2c3d4e5f6 scope link`, `10.244.1.0/24 via 10.244.1.1 dev eth0 src 10.244.1.5`).
 */
export function pluginRoute(
  to: string,
  r: {
    readonly via?: string;
    readonly dev?: string;
    readonly type?: 'blackhole';
    readonly scope?: 'link' | 'host';
    readonly src?: string;
    readonly kind?: DpRoute['kind'];
  },
): DpRoute | undefined {
  const bare = to.includes('/') ? undefined : parseAddress(to);
  const prefix = bare
    ? hostPrefix(bare)
    : parsePrefix(to === 'default' ? (r.via?.includes(':') ? '::/0' : '0.0.0.0/0') : to);
  if (!prefix) return undefined;
  const host = prefix.length === (prefix.family === 4 ? 32 : 128);
  const dst =
    to === 'default'
      ? 'default'
      : host
        ? formatAddress({ family: prefix.family, value: prefix.address })
        : canonical(prefix);
  const text =
    r.type === 'blackhole'
      ? `blackhole ${dst}`
      : `${dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev ?? ''}${r.scope ? ` scope ${r.scope}` : ''}${r.src ? ` src ${r.src}` : ''}`;
  return {
    to: to === 'default' ? 'default' : canonical(prefix),
    prefix: { ...prefix, text: to === 'default' ? 'default' : canonical(prefix) },
    ...(r.via ? { via: r.via } : {}),
    dev: r.dev ?? '',
    ...(r.type ? { type: r.type } : {}),
    ...(r.scope ? { scope: r.scope } : {}),
    ...(r.src ? { src: r.src } : {}),
    kind: r.kind ?? 'cni',
    text,
  };
}

/** The `ip route add` arguments that install `r` (for the lab). */
export function routeAddArgs(r: DpRoute): string {
  const to = r.to === 'default' ? (r.prefix.family === 4 ? '0.0.0.0/0' : '::/0') : r.to;
  if (r.type === 'blackhole') return `blackhole ${to}`;
  return `${to}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}${r.onlink ? ' onlink' : ''}${r.scope ? ` scope ${r.scope}` : ''}${r.src ? ` src ${r.src}` : ''}`;
}

/**
 * The source address the kernel picks for traffic leaving by `dev` towards `nextHop`: one in the next hop's subnet,
 * else the device's first. A device without an address of the family (Calico's cali veths have none) borrows one:
 * inet_select_addr takes the first non-loopback device of the namespace holding one, in device order.
 */
export function sourceAddressFor(
  iface: DpInterface | undefined,
  family: Family,
  nextHop?: Address,
  ns?: Pick<Netns, 'interfaces'>,
): string | undefined {
  if (!iface) return undefined;
  // Indexed loops over the device's addresses, nothing allocated: asked at every hop that sends, on every path.
  const addresses = iface.addresses;
  let first: InterfaceAddress | undefined;
  for (let k = 0; k < addresses.length; k++) {
    const x = addresses[k];
    if (x.family !== family) continue;
    first ??= x;
    if (!nextHop) break;
    const p = subnetOf(x);
    if (p && prefixContainsAddress(p, nextHop)) return x.address;
  }
  if (first || !ns) return first?.address;
  for (const i of ns.interfaces) {
    if (i.kind === 'loopback') continue;
    const a = i.addresses.find((x) => x.family === family);
    if (a) return a.address;
  }
  return undefined;
}

/** The subnet an interface address is in, parsed once per address object (asked at every hop that sends). */
const SUBNETS = new WeakMap<InterfaceAddress, Prefix | null>();
function subnetOf(x: InterfaceAddress): Prefix | undefined {
  let p = SUBNETS.get(x);
  if (p === undefined) SUBNETS.set(x, (p = parsePrefix(`${x.address}/${x.length}`) ?? null));
  return p ?? undefined;
}

export function addressText(a: Address): string {
  return formatAddress(a);
}
