/** The general matches every rule can have: `-s`, `-d`, `-p`, `-i`, `-o`. */
import type { Span } from '../../problem';
import type { Report } from '../options';
import type { Match } from '../types';
import { parseAddressOrPrefix } from '../values';
import { lookupTable } from '../../lookup';

export type GeneralKind = 'source' | 'destination' | 'protocol' | 'inInterface' | 'outInterface';

export const GENERAL: Readonly<Record<string, GeneralKind>> = lookupTable({
  '-s': 'source',
  '--source': 'source',
  '--src': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '--dst': 'destination',
  '-p': 'protocol',
  '--protocol': 'protocol',
  '-i': 'inInterface',
  '--in-interface': 'inInterface',
  '-o': 'outInterface',
  '--out-interface': 'outInterface',
});

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = lookupTable({
  '0': 'all',
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'icmpv6',
  '132': 'sctp',
});
const PROTOCOLS = new Set(['all', 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'ipv6-icmp']);

export function parseGeneral(
  kind: GeneralKind,
  value: string,
  negated: boolean,
  span: Span,
  syntax: Report,
  unsup: Report,
): Match | undefined {
  if (kind === 'source' || kind === 'destination') {
    if (value.includes(',')) {
      unsup(`Address lists ('${value}') are not supported; iptables-save writes one rule per address.`, span);
      return undefined;
    }
    const prefix = parseAddressOrPrefix(value);
    if (!prefix) {
      syntax(`'${value}' is not an address or prefix.`, span);
      return undefined;
    }
    return { kind, prefix, negated, span };
  }
  if (kind === 'protocol') {
    const p = PROTOCOL_NUMBERS[value] ?? value.toLowerCase();
    if (!PROTOCOLS.has(p) && !/^\d+$/.test(p)) {
      syntax(`Unknown protocol '${value}'.`, span);
      return undefined;
    }
    return { kind, protocol: p === 'ipv6-icmp' ? 'icmpv6' : p, negated, span };
  }
  if (value === '' || value.length > 15) {
    syntax(`'${value}' is not an interface name.`, span);
    return undefined;
  }
  return { kind, name: value, negated, span };
}
