/** The `statistic` match: random (probability) or nth (every N) packets, kube-proxy's load balancing. */
import { optionNamed, spanOf, valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { Match } from '../types';
import { parseU32 } from '../values';
import { lookupTable } from '../../lookup';

function statistic(mod: ModuleUse, syntax: Report): Match[] {
  const out: Match[] = [];
  const get = (...names: string[]) => optionNamed(mod.opts, ...names);
  const mode = get('--mode');
  if (!mode) {
    syntax("Match 'statistic' needs --mode random|nth.", mod.span);
    return out;
  }
  if (valueOf(mode) === 'random') {
    const p = get('--probability');
    const prob = p ? Number(valueOf(p)) : NaN;
    if (!p || !/^\d*\.?\d+(?:e-?\d+)?$/i.test(valueOf(p)) || !(prob >= 0 && prob <= 1)) {
      syntax('--mode random needs --probability between 0 and 1.', p?.span ?? mode.span);
      return out;
    }
    out.push({
      kind: 'statistic',
      mode: 'random',
      probability: prob,
      negated: p.negated,
      span: spanOf(mod.span, p.span),
    });
  } else if (valueOf(mode) === 'nth') {
    const every = get('--every');
    const packet = get('--packet');
    const e = every ? parseU32(valueOf(every)) : undefined;
    const pk = packet ? parseU32(valueOf(packet)) : 0;
    if (!every || !e || e < 1 || pk === undefined || pk >= e) {
      syntax('--mode nth needs --every N (N >= 1) and optionally --packet P (P < N).', every?.span ?? mode.span);
      return out;
    }
    out.push({
      kind: 'statistic',
      mode: 'nth',
      every: e,
      packet: pk,
      negated: every.negated,
      span: spanOf(mod.span, every.span),
    });
  } else {
    syntax(`Unknown statistic mode '${valueOf(mode)}'.`, mode.span);
  }
  return out;
}

export const STATISTIC_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  statistic: {
    options: { '--mode': 1, '--probability': 1, '--every': 1, '--packet': 1 },
    evaluated: ['--mode', '--probability', '--every', '--packet'],
    finish: statistic,
  },
});
