/**
 * Every target the parser evaluates, one family per file; a new target is an entry in its family's table (options,
 * the table it is valid in, `finish`), a new family a file plus a line in {@link TARGETS}.
 */
import type { Span } from '../../problem';
import type { Opt, Report } from '../options';
import type { TableName, Target } from '../types';
import { MARK_TARGETS } from './marks';
import { NAT_TARGETS } from './nat';
import type { TargetDef } from './types';
import { VERDICT_TARGETS } from './verdicts';
import { lookupTable } from '../../lookup';

export const TARGETS: Readonly<Record<string, TargetDef>> = lookupTable({
  ...VERDICT_TARGETS,
  ...MARK_TARGETS,
  ...NAT_TARGETS,
});

/** Option arities per target. */
export const TARGET_OPTIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = lookupTable(
  Object.fromEntries(Object.entries(TARGETS).map(([name, t]) => [name, t.options])),
);

/** Real iptables targets this model does not evaluate: reported as unsupported, not as unknown chains. */
export const KNOWN_UNSUPPORTED_TARGETS = new Set([
  'REDIRECT',
  'TPROXY',
  'QUEUE',
  'NFQUEUE',
  'TRACE',
  'TCPMSS',
  'DSCP',
  'TOS',
  'TTL',
  'HL',
  'HMARK',
  'CLASSIFY',
  'SET',
  'NFLOG',
  'ULOG',
  'AUDIT',
  'CHECKSUM',
  'CONNSECMARK',
  'SECMARK',
  'NETMAP',
  'TEE',
  'IDLETIMER',
  'LED',
  'RATEEST',
  'SYNPROXY',
  'CLUSTERIP',
]);

/** A known target's {@link Target}, or undefined after reporting why it cannot be one. */
export function finishTarget(
  table: TableName,
  name: string,
  opts: readonly Opt[],
  span: Span,
  syntax: Report,
  unsup: Report,
): Target | undefined {
  const def = TARGETS[name];
  if (!def) return undefined;
  if (def.table && table !== def.table) {
    syntax(`Target ${name} is only valid in the ${def.table} table.`, span);
    return undefined;
  }
  for (const o of opts) if (o.negated) syntax(`'!' cannot negate target option '${o.name}'.`, o.span);
  return def.finish(name, opts, span, syntax, unsup);
}
