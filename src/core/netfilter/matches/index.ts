/**
 * Every match module the parser knows, one family per file. A new module is an entry in its family's table
 * (options with their arities, the options evaluated, `finish` turning them into {@link Match}es); a new family
 * is a file plus a line in {@link MATCH_MODULES}.
 */
import type { MatchModule, ModuleUse, Report } from '../options';
import type { Match } from '../types';
import { ADDRTYPE_MATCHES } from './addrtype';
import { CONNTRACK_MATCHES } from './conntrack';
import { MARK_MATCHES } from './marks';
import { META_MATCHES } from './meta';
import { PORT_MATCHES } from './ports';
import { RECENT_MATCHES } from './recent';
import { STATISTIC_MATCHES } from './statistic';
import { lookupTable } from '../../lookup';

export { GENERAL, parseGeneral } from './general';

export const MATCH_MODULES: Readonly<Record<string, MatchModule>> = lookupTable({
  ...PORT_MATCHES,
  ...CONNTRACK_MATCHES,
  ...RECENT_MATCHES,
  ...STATISTIC_MATCHES,
  ...MARK_MATCHES,
  ...ADDRTYPE_MATCHES,
  ...META_MATCHES,
});

/** Option arities per match module: how many values each option takes. */
export const MODULE_OPTIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = lookupTable(
  Object.fromEntries(Object.entries(MATCH_MODULES).map(([name, m]) => [name, m.options])),
);

/** A loaded module's matches; options it does not evaluate are reported unsupported. */
export function finishModule(mod: ModuleUse, syntax: Report, unsup: Report): Match[] {
  const known = MATCH_MODULES[mod.name];
  if (!known) return [];
  const evaluated = known.evaluated ?? [];
  for (const o of mod.opts) {
    if (!evaluated.includes(o.name)) unsup(`Option '${o.name}' of match '${mod.name}' is not supported.`, o.span);
  }
  if (known.finish) return known.finish(mod, syntax, unsup);
  // Known syntax, not evaluated (icmp types, limit): already reported per option.
  if (mod.opts.length === 0) unsup(`Match '${mod.name}' is not supported.`, mod.span);
  return [];
}
