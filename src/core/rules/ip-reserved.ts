import { firstAddress, lastAddress, prefixContainsAddress, sizeOf, type Address } from '../net/address';
import { problem, type Problem, type QuickFix } from '../problem';
import { freeAddressOncePerPool, podRanges, serviceRanges } from './fixes';
import { parsedAddress, parsedRange, type AddressEntry, type ParsedRange } from './ranges';
import type { Rule } from './rule';
import { addressesToCheck } from './address-screen';

/**
 * `ip.reserved`: a pod IP equal to its node subnet's network address, its IPv4 broadcast address or the
 * bridge gateway; a cluster IP equal to the network or last address of its Service range (the allocator never
 * hands them out).
 */
/** The gateway holding exactly `a`; the last one listed when two do (as a map keyed by address would keep). */
function gatewayAt(gateways: readonly ParsedRange[] | undefined, a: Address): ParsedRange | undefined {
  if (!gateways) return undefined;
  for (let i = gateways.length - 1; i >= 0; i--) {
    const g = gateways[i];
    if (g.prefix.family === a.family && g.prefix.address === a.value) return g;
  }
  return undefined;
}

/** The first of a node's pod CIDRs that holds `a` (a plain loop: asked for every pod address). */
function subnetHolding(subnets: readonly ParsedRange[] | undefined, a: Address): ParsedRange | undefined {
  for (const r of subnets ?? []) if (prefixContainsAddress(r.prefix, a)) return r;
  return undefined;
}

export const ipReserved: Rule = {
  code: 'ip.reserved',
  severity: 'error',
  description:
    "A pod IP on its subnet's network, broadcast or gateway address; a cluster IP on the first or last address of its range.",
  run({ ranges }) {
    const out: Problem[] = [];
    const freeIn = freeAddressOncePerPool(ranges);
    const fix = (a: AddressEntry, pool: ParsedRange): QuickFix[] => {
      if (!a.exact) return [];
      const free = freeIn(pool.prefix, pool.role, () =>
        pool.role === 'services' ? podRanges(ranges) : serviceRanges(ranges),
      );
      return free
        ? [
            {
              title: `Change to ${free}, a free address in ${pool.prefix.text}`,
              edits: [{ span: a.span, newText: free }],
              preferred: true,
            },
          ]
        : [];
    };
    const nodePods = new Map<string, ParsedRange[]>();
    // Each node's bridge gateways (one per family): compared by value, no key made per pod address.
    const gateways = new Map<string, ParsedRange[]>();
    const push = (m: Map<string, ParsedRange[]>, node: string, r: ParsedRange) => {
      const list = m.get(node);
      if (list) list.push(r);
      else m.set(node, [r]);
    };
    for (const r of ranges.ranges) {
      if (!parsedRange(r) || !r.node) continue;
      if (r.role === 'node-pods') push(nodePods, r.node, r);
      if (r.role === 'bridge') push(gateways, r.node, r);
    }
    const services = ranges.ranges.filter(parsedRange).filter((r) => r.role === 'services');
    // A node's pod CIDR is asked once per pod on it: its size and first and last addresses are computed once.
    const edgesByRange = new Map<ParsedRange, { size: bigint; first: bigint; last: bigint }>();
    const edgesOf = (r: ParsedRange) => {
      let e = edgesByRange.get(r);
      if (!e)
        edgesByRange.set(
          r,
          (e = { size: sizeOf(r.prefix), first: firstAddress(r.prefix), last: lastAddress(r.prefix) }),
        );
      return e;
    };
    for (const a of addressesToCheck(ranges)) {
      if (!parsedAddress(a)) continue;
      if (a.role === 'pod' && !a.hostNetwork) {
        const gateway = gatewayAt(gateways.get(`${a.node}`), a.address);
        const subnet = subnetHolding(nodePods.get(a.node ?? ''), a.address);
        if (gateway) {
          out.push(
            problem(
              'ip.reserved',
              'error',
              `Pod IP ${a.text} (${a.owner}) is the address of ${gateway.owner}, the pods' default gateway: the node answers for it, so the pod never receives its traffic.`,
              a.span,
              [{ span: gateway.span, message: `gateway ${gateway.text}` }],
              subnet ? fix(a, subnet) : [],
            ),
          );
          continue;
        }
        if (!subnet) continue;
        const edges = edgesOf(subnet);
        if (edges.size <= 2n) continue;
        const p = subnet.prefix;
        const which =
          a.address.value === edges.first
            ? 'network address'
            : a.address.value === edges.last && p.family === 4
              ? 'broadcast address'
              : undefined;
        if (which) {
          out.push(
            problem(
              'ip.reserved',
              'error',
              `Pod IP ${a.text} (${a.owner}) is the ${which} of ${subnet.owner}'s pod CIDR ${p.text}: IPAM never assigns it, and packets to it are treated as ${which === 'network address' ? 'addressed to the subnet' : 'broadcast'}.`,
              a.span,
              [{ span: subnet.span, message: `pod CIDR ${p.text}` }],
              fix(a, subnet),
            ),
          );
        }
      } else if (a.role === 'cluster-ip') {
        const range = services.find((r) => prefixContainsAddress(r.prefix, a.address));
        if (!range || range.assumed || sizeOf(range.prefix) <= 2n) continue;
        const p = range.prefix;
        const which =
          a.address.value === firstAddress(p)
            ? 'network (first)'
            : a.address.value === lastAddress(p)
              ? 'last'
              : undefined;
        if (which) {
          out.push(
            problem(
              'ip.reserved',
              'error',
              `Cluster IP ${a.text} (${a.owner}) is the ${which} address of the Service range ${p.text}: kube-apiserver's allocator never hands it out and rejects it.`,
              a.span,
              [{ span: range.span, message: `Service range ${p.text}` }],
              fix(a, range),
            ),
          );
        }
      }
    }
    return out;
  },
};
