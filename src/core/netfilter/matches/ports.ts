/** Protocol matches: `tcp`, `udp`, `sctp` (ports), `multiport`, and `icmp`/`icmp6` (types parse, not evaluated). */
import { valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { Match, PortRange } from '../types';
import { parsePortRange } from '../values';
import { lookupTable } from '../../lookup';

const PORT_OPTIONS = ['--dport', '--destination-port', '--sport', '--source-port'];

function ports(mod: ModuleUse, syntax: Report): Match[] {
  const out: Match[] = [];
  for (const o of mod.opts) {
    const which =
      o.name === '--dport' || o.name === '--destination-port'
        ? 'dport'
        : o.name === '--sport' || o.name === '--source-port'
          ? 'sport'
          : undefined;
    if (!which) continue;
    const range = parsePortRange(valueOf(o));
    if (!range) syntax(`'${valueOf(o)}' is not a port or port range.`, o.span);
    else out.push({ kind: which, range, negated: o.negated, span: o.span });
  }
  return out;
}

function multiport(mod: ModuleUse, syntax: Report): Match[] {
  const out: Match[] = [];
  for (const o of mod.opts) {
    const which =
      o.name === '--dports' || o.name === '--destination-ports'
        ? 'dports'
        : o.name === '--sports' || o.name === '--source-ports'
          ? 'sports'
          : 'ports';
    const ranges: PortRange[] = [];
    const parts = valueOf(o).split(',');
    for (const p of parts) {
      const r = parsePortRange(p);
      if (r) ranges.push(r);
      else syntax(`'${p}' is not a port or port range.`, o.span);
    }
    if (parts.length > 15) syntax('multiport takes at most 15 ports.', o.span);
    if (ranges.length) out.push({ kind: 'multiport', which, ranges, negated: o.negated, span: o.span });
  }
  return out;
}

export const PORT_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  tcp: {
    options: {
      '--dport': 1,
      '--destination-port': 1,
      '--sport': 1,
      '--source-port': 1,
      '--syn': 0,
      '--tcp-flags': 2,
      '--tcp-option': 1,
    },
    evaluated: PORT_OPTIONS,
    finish: ports,
  },
  udp: {
    options: { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1 },
    evaluated: PORT_OPTIONS,
    finish: ports,
  },
  sctp: {
    options: { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1, '--chunk-types': 2 },
    evaluated: PORT_OPTIONS,
    finish: ports,
  },
  icmp: { options: { '--icmp-type': 1 } },
  icmp6: { options: { '--icmpv6-type': 1 } },
  multiport: {
    options: { '--dports': 1, '--destination-ports': 1, '--sports': 1, '--source-ports': 1, '--ports': 1 },
    evaluated: ['--dports', '--destination-ports', '--sports', '--source-ports', '--ports'],
    finish: multiport,
  },
});
