/** The `addrtype` match: the kind of a source or destination address on this host (LOCAL, UNICAST, ...). */
import { optionNamed, valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { AddrType, Match } from '../types';
import { lookupTable } from '../../lookup';
import { isOneOf } from '../../lookup';

const ADDR_TYPES = new Set<AddrType>(['LOCAL', 'UNICAST', 'MULTICAST', 'BROADCAST']);
const KNOWN_ADDR_TYPES = new Set([
  'UNSPEC',
  'ANYCAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
]);

function addrtype(mod: ModuleUse, syntax: Report, unsup: Report): Match[] {
  const out: Match[] = [];
  const get = (...names: string[]) => optionNamed(mod.opts, ...names);
  const limitIn = get('--limit-iface-in');
  const limitOut = get('--limit-iface-out');
  if (limitIn && limitOut) syntax('--limit-iface-in and --limit-iface-out cannot be combined.', limitOut.span);
  const limitIface = limitIn ? 'in' : limitOut ? 'out' : undefined;
  for (const o of mod.opts) {
    if (o.name !== '--src-type' && o.name !== '--dst-type') continue;
    const types: AddrType[] = [];
    for (const ty of valueOf(o).split(',')) {
      if (isOneOf(ADDR_TYPES, ty)) types.push(ty);
      else if (KNOWN_ADDR_TYPES.has(ty)) unsup(`Address type '${ty}' is not supported.`, o.span);
      else syntax(`Unknown address type '${ty}'.`, o.span);
    }
    const which = o.name === '--src-type' ? 'src' : 'dst';
    if (types.length)
      out.push({
        kind: 'addrtype',
        which,
        types,
        negated: o.negated,
        span: o.span,
        ...(limitIface ? { limitIface } : {}),
      });
  }
  if (!get('--src-type', '--dst-type')) syntax("Match 'addrtype' needs --src-type or --dst-type.", mod.span);
  return out;
}

export const ADDRTYPE_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  addrtype: {
    options: { '--src-type': 1, '--dst-type': 1, '--limit-iface-in': 0, '--limit-iface-out': 0 },
    evaluated: ['--src-type', '--dst-type', '--limit-iface-in', '--limit-iface-out'],
    finish: addrtype,
  },
});
