/** NAT targets (nat table only): DNAT, SNAT and MASQUERADE. */
import type { Span } from '../../problem';
import { optionNamed, valueOf, type Opt, type Report } from '../options';
import type { NatTo, Target } from '../types';
import { parseAddress } from '../../net/address';
import { parsePort } from '../values';
import type { TargetDef } from './types';
import { lookupTable } from '../../lookup';

/** `--to-destination`/`--to-source`'s value read (undefined when it is not one); the parse memo's shapes read it too. */
export function parseNatTo(value: string): NatTo | undefined {
  // `[v6]:port`, `v6`, `v4`, `v4:port`, ranges `a-b` and `p1-p2` (the first is used).
  let addrPart = value;
  let portPart: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return undefined;
    addrPart = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portPart = rest.slice(1);
    }
  } else if (!value.includes(':') || value.indexOf(':') === value.lastIndexOf(':')) {
    const colon = value.indexOf(':');
    if (colon >= 0) {
      addrPart = value.slice(0, colon);
      portPart = value.slice(colon + 1);
    }
  }
  // Each part of a range parsed once: a trace entering a Service reads one DNAT per endpoint, most of them new.
  let address: string | undefined;
  if (addrPart !== '') {
    const parts = addrPart.split('-');
    for (let i = 0; i < parts.length; i++) if (!parseAddress(parts[i])) return undefined;
    address = parts[0];
  }
  let port: number | undefined;
  if (portPart !== undefined) {
    const ports = portPart.split('-');
    if (ports.length > 2) return undefined;
    port = parsePort(ports[0]);
    if (port === undefined || (ports.length === 2 && parsePort(ports[1]) === undefined)) return undefined;
  }
  // One literal per shape (the fields in the order JSON output shows them), not spreads of small objects.
  if (address === undefined) return port === undefined ? undefined : { text: value, port };
  return port === undefined ? { text: value, address } : { text: value, address, port };
}

function natTo(name: string, opts: readonly Opt[], span: Span, syntax: Report): Target | undefined {
  const option = name === 'DNAT' ? '--to-destination' : '--to-source';
  const o = optionNamed(opts, option);
  if (!o) {
    syntax(`Target ${name} needs ${option}.`, span);
    return undefined;
  }
  const to = parseNatTo(valueOf(o));
  if (!to) {
    syntax(`'${valueOf(o)}' is not address[:port] (IPv6: [address]:port).`, o.span);
    return undefined;
  }
  return { kind: name === 'DNAT' ? 'dnat' : 'snat', to };
}

function masquerade(_name: string, opts: readonly Opt[], _span: Span, syntax: Report): Target {
  const o = optionNamed(opts, '--to-ports');
  let toPort: number | undefined;
  if (o) {
    const r = valueOf(o).split('-');
    toPort = r.length <= 2 && r.every((p) => parsePort(p) !== undefined) ? parsePort(r[0]) : undefined;
    if (toPort === undefined) syntax(`'${valueOf(o)}' is not a port or port range.`, o.span);
  }
  return {
    kind: 'masquerade',
    randomFully: optionNamed(opts, '--random-fully') !== undefined,
    ...(toPort !== undefined ? { toPort } : {}),
  };
}

export const NAT_TARGETS: Readonly<Record<string, TargetDef>> = lookupTable({
  DNAT: { options: { '--to-destination': 1, '--random': 0, '--persistent': 0 }, table: 'nat', finish: natTo },
  SNAT: {
    options: { '--to-source': 1, '--random': 0, '--random-fully': 0, '--persistent': 0 },
    table: 'nat',
    finish: natTo,
  },
  MASQUERADE: { options: { '--to-ports': 1, '--random': 0, '--random-fully': 0 }, table: 'nat', finish: masquerade },
});
