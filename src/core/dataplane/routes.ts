/** Route lookup and local-address checks on one namespace of the data plane. */
import {
  canonical,
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Family,
} from '../net/address';
import type { DpInterface, DpRoute, InterfaceAddress, Netns } from './types';

const LOOPBACK4 = parsePrefix('127.0.0.0/8')!;

/** Whether `a` is an address of this namespace (the kernel's local table), loopback included. */
export function isLocalAddress(ns: Netns, a: Address): boolean {
  if (a.family === 4 && prefixContainsAddress(LOOPBACK4, a)) return true;
  if (a.family === 6 && a.value === 1n) return true;
  return ns.interfaces.some((i) =>
    i.addresses.some((x) => x.family === a.family && parseAddress(x.address)?.value === a.value),
  );
}

/** The device that holds a local address (`lo` for loopback). */
export function deviceOfLocal(ns: Netns, a: Address): DpInterface | undefined {
  return (
    ns.interfaces.find((i) =>
      i.addresses.some((x) => x.family === a.family && parseAddress(x.address)?.value === a.value),
    ) ?? ns.interfaces.find((i) => i.kind === 'loopback')
  );
}

/** Longest-prefix match in the main table; among equal prefixes the first one wins. */
export function lookupRoute(routes: readonly DpRoute[], dst: Address): DpRoute | undefined {
  let best: DpRoute | undefined;
  for (const r of routes) {
    if (!prefixContainsAddress(r.prefix, dst)) continue;
    if (!best || r.prefix.length > best.prefix.length) best = r;
  }
  return best;
}

/** The routes whose prefix holds `dst`, most specific first (what a lookup chooses among; the first is chosen). */
export function routesFor(routes: readonly DpRoute[], dst: Address): DpRoute[] {
  const out = routes.filter((r) => prefixContainsAddress(r.prefix, dst));
  // A stable sort: among equal prefixes the first one wins, as in lookupRoute.
  return out.sort((a, b) => b.prefix.length - a.prefix.length);
}

/** Sorts routes like `ip route` shows them: longest prefix first, then by text. */
export function sortRoutes(routes: readonly DpRoute[]): DpRoute[] {
  return routes
    .slice()
    .sort(
      (a, b) => a.prefix.family - b.prefix.family || b.prefix.length - a.prefix.length || a.text.localeCompare(b.text),
    );
}

export function connectedRoute(dev: string, x: InterfaceAddress): DpRoute | undefined {
  const p = parsePrefix(`${x.address}/${x.length}`);
  if (!p) return undefined;
  const to = canonical(p);
  return {
    to,
    prefix: { ...p, address: p.address, text: to },
    dev,
    kind: 'connected',
    text: `${to} dev ${dev} proto kernel scope link src ${x.address}`,
  };
}

export function routeText(to: string, via: string | undefined, dev: string, onlink = false): string {
  return `${to}${via ? ` via ${via}` : ''} dev ${dev}${onlink ? ' onlink' : ''}`;
}

/** The source address the kernel picks for traffic leaving by `dev` towards `nextHop`: one in the next hop's subnet, else the first. */
export function sourceAddressFor(
  iface: DpInterface | undefined,
  family: Family,
  nextHop?: Address,
): string | undefined {
  if (!iface) return undefined;
  const same = iface.addresses.filter((x) => x.family === family);
  if (nextHop) {
    const inSubnet = same.find((x) => {
      const p = parsePrefix(`${x.address}/${x.length}`);
      return p && prefixContainsAddress(p, nextHop);
    });
    if (inSubnet) return inSubnet.address;
  }
  return same[0]?.address;
}

export function addressText(a: Address): string {
  return formatAddress(a);
}
