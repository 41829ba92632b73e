/** Connection tracking matches: `conntrack --ctstate` and the older `state --state`. */
import { optionNamed, valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { CtStateName, Match } from '../types';
import { lookupTable } from '../../lookup';
import { isOneOf } from '../../lookup';

const CT_STATES = new Set<CtStateName>(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'DNAT', 'SNAT']);
const STATE_STATES = new Set<CtStateName>(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED']);

function states(mod: ModuleUse, syntax: Report): Match[] {
  const out: Match[] = [];
  const o = optionNamed(mod.opts, mod.name === 'state' ? '--state' : '--ctstate');
  if (!o) {
    if (mod.name === 'state') syntax("Match 'state' needs --state.", mod.span);
    return out;
  }
  const allowed = mod.name === 'state' ? STATE_STATES : CT_STATES;
  const found: CtStateName[] = [];
  for (const s of valueOf(o).split(',')) {
    if (isOneOf(allowed, s)) found.push(s);
    else syntax(`Unknown connection state '${s}'.`, o.span);
  }
  if (found.length) out.push({ kind: 'ctstate', states: found, negated: o.negated, span: o.span });
  return out;
}

export const CONNTRACK_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  conntrack: {
    options: {
      '--ctstate': 1,
      '--ctproto': 1,
      '--ctorigsrc': 1,
      '--ctorigdst': 1,
      '--ctreplsrc': 1,
      '--ctrepldst': 1,
      '--ctorigsrcport': 1,
      '--ctorigdstport': 1,
      '--ctreplsrcport': 1,
      '--ctrepldstport': 1,
      '--ctstatus': 1,
      '--ctexpire': 1,
      '--ctdir': 1,
    },
    evaluated: ['--ctstate'],
    finish: states,
  },
  state: { options: { '--state': 1 }, evaluated: ['--state'], finish: states },
});
