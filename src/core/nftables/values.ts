/** Reading one value's text for a data type, as nft does (addresses, CIDRs, ranges, numbers, names). */
import { parseAddress, parsePrefix, firstAddress, lastAddress } from '../net/address';
import type { NftDataType, NftSelector, NftValue } from './types';
import { lookupTable } from '../lookup';

export const PROTOCOLS: Readonly<Record<string, number>> = lookupTable({
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
  udplite: 136,
});

/** Connection tracking state bits (nf_conntrack_common.h: invalid is bit 0, then established, related, new). */
export const CT_STATES: Readonly<Record<string, number>> = lookupTable({
  invalid: 1,
  established: 2,
  related: 4,
  new: 8,
  untracked: 64,
});

export const CT_STATUS: Readonly<Record<string, number>> = lookupTable({
  expected: 1,
  'seen-reply': 2,
  assured: 4,
  confirmed: 8,
  snat: 16,
  dnat: 32,
  dying: 512,
});

export const FIB_TYPES: Readonly<Record<string, number>> = lookupTable({
  unspec: 0,
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
});

const SERVICES: Readonly<Record<string, number>> = lookupTable({
  ssh: 22,
  domain: 53,
  http: 80,
  https: 443,
  ntp: 123,
  bgp: 179,
});

const ICMP_TYPES: Readonly<Record<string, number>> = lookupTable({
  'echo-reply': 0,
  'destination-unreachable': 3,
  'echo-request': 8,
  'time-exceeded': 11,
  'packet-too-big': 2,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
});

const NFPROTO: Readonly<Record<string, number>> = lookupTable({ ipv4: 2, ipv6: 10 });
const ETHERTYPES: Readonly<Record<string, number>> = lookupTable({ ip: 0x0800, ip6: 0x86dd, arp: 0x0806 });

/** The data type a selector's values have. */
export function selectorType(s: NftSelector): NftDataType {
  switch (s.kind) {
    case 'payload':
      if (s.field === 'saddr' || s.field === 'daddr') return s.proto === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
      if (s.field === 'protocol' || s.field === 'nexthdr') return 'inet_proto';
      if (s.field === 'sport' || s.field === 'dport') return 'inet_service';
      return 'integer';
    case 'meta':
      if (s.key === 'l4proto') return 'inet_proto';
      if (s.key === 'mark') return 'mark';
      if (s.key === 'iifname' || s.key === 'oifname' || s.key === 'ibrname' || s.key === 'obrname') return 'ifname';
      return 'integer';
    case 'ct':
      return s.key === 'state' ? 'ct_state' : s.key === 'status' ? 'ct_status' : 'mark';
    case 'fib':
      return 'fib_addrtype';
    case 'numgen':
      return 'integer';
    case 'binop':
      return selectorType(s.inner);
  }
}

/** `nfproto`/`protocol` and icmp type names, which are integers with names of their own. */
function namedInteger(s: NftSelector | undefined, text: string): number | undefined {
  if (!s) return undefined;
  if (s.kind === 'meta' && s.key === 'nfproto') return NFPROTO[text];
  if ((s.kind === 'meta' && s.key === 'protocol') || (s.kind === 'payload' && s.proto === 'ether'))
    return ETHERTYPES[text];
  if (s.kind === 'payload' && (s.proto === 'icmp' || s.proto === 'icmpv6')) return ICMP_TYPES[text];
  return undefined;
}

function num(text: string): bigint | undefined {
  if (/^0x[0-9a-fA-F]+$/.test(text) || /^\d+$/.test(text)) return BigInt(text);
  return undefined;
}

const single = (v: bigint): NftValue => ({ kind: 'range', lo: v, hi: v });

/** The value `text` of type `type`, or an error message. `selector` names integers (nfproto, icmp types). */
export function parseValue(type: NftDataType, text: string, selector?: NftSelector): NftValue | string {
  switch (type) {
    case 'ipv4_addr':
    case 'ipv6_addr': {
      const family = type === 'ipv4_addr' ? 4 : 6;
      const what = family === 4 ? 'an IPv4 address' : 'an IPv6 address';
      if (text.includes('/')) {
        const p = parsePrefix(text);
        if (!p || p.family !== family) return `'${text}' is not ${what} prefix.`;
        return { kind: 'range', lo: firstAddress(p), hi: lastAddress(p) };
      }
      const dash = family === 4 ? text.indexOf('-') : text.indexOf('-');
      if (dash > 0) {
        const lo = parseAddress(text.slice(0, dash));
        const hi = parseAddress(text.slice(dash + 1));
        if (!lo || !hi || lo.family !== family || hi.family !== family || lo.value > hi.value)
          return `'${text}' is not ${what} range.`;
        return { kind: 'range', lo: lo.value, hi: hi.value };
      }
      const a = parseAddress(text);
      if (!a || a.family !== family) return `'${text}' is not ${what}.`;
      return single(a.value);
    }
    case 'inet_proto': {
      const p = PROTOCOLS[text] ?? (num(text) !== undefined ? Number(text) : undefined);
      return p === undefined || p > 255 ? `'${text}' is not an IP protocol.` : single(BigInt(p));
    }
    case 'ct_state':
    case 'ct_status':
    case 'fib_addrtype': {
      const table = type === 'ct_state' ? CT_STATES : type === 'ct_status' ? CT_STATUS : FIB_TYPES;
      const v = table[text];
      return v === undefined ? `'${text}' is not one of ${Object.keys(table).join(', ')}.` : single(BigInt(v));
    }
    case 'ifname':
      return text.endsWith('*')
        ? { kind: 'name', name: text.slice(0, -1), wildcard: true }
        : { kind: 'name', name: text, wildcard: false };
    case 'verdict':
      return `'${text}' is a verdict, not a value.`;
    case 'inet_service':
    case 'integer':
    case 'mark': {
      const named = namedInteger(selector, text) ?? (type === 'inet_service' ? SERVICES[text] : undefined);
      if (named !== undefined) return single(BigInt(named));
      const dash = text.indexOf('-');
      if (dash > 0) {
        const lo = num(text.slice(0, dash));
        const hi = num(text.slice(dash + 1));
        if (lo === undefined || hi === undefined || lo > hi) return `'${text}' is not a number range.`;
        return { kind: 'range', lo, hi };
      }
      const v = num(text);
      if (v === undefined) return `'${text}' is not a number.`;
      if (type === 'inet_service' && v > 65535n) return `'${text}' is not a port.`;
      return single(v);
    }
  }
}

/** Set and map key types by name (`type ipv4_addr . inet_service`), and `typeof` expressions. */
export const TYPE_NAMES: Readonly<Record<string, NftDataType>> = lookupTable({
  ipv4_addr: 'ipv4_addr',
  ipv6_addr: 'ipv6_addr',
  inet_proto: 'inet_proto',
  inet_service: 'inet_service',
  ifname: 'ifname',
  mark: 'mark',
  ct_state: 'ct_state',
  ct_status: 'ct_status',
  fib_addrtype: 'fib_addrtype',
  integer: 'integer',
  verdict: 'verdict',
});
