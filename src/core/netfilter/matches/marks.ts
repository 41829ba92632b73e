/** Mark matches: `mark --mark` (the packet's mark) and `connmark --mark` (the connection's). */
import { optionNamed, valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { Match } from '../types';
import { parseMarkValue } from '../values';
import { lookupTable } from '../../lookup';

function mark(mod: ModuleUse, syntax: Report): Match[] {
  const out: Match[] = [];
  const o = optionNamed(mod.opts, '--mark');
  if (!o) {
    syntax(`Match '${mod.name}' needs --mark.`, mod.span);
    return out;
  }
  const mv = parseMarkValue(valueOf(o));
  if (!mv) syntax(`'${valueOf(o)}' is not a mark value[/mask].`, o.span);
  else
    out.push({
      kind: mod.name as 'mark' | 'connmark',
      value: mv.value,
      mask: mv.mask,
      negated: o.negated,
      span: o.span,
    });
  return out;
}

export const MARK_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  mark: { options: { '--mark': 1 }, evaluated: ['--mark'], finish: mark },
  connmark: { options: { '--mark': 1 }, evaluated: ['--mark'], finish: mark },
});
