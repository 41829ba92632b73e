/** Matches that annotate or count rather than classify: `comment`, `physdev`, `nfacct`, `limit` (not evaluated). */
import { optionNamed, valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { Match } from '../types';
import { lookupTable } from '../../lookup';

function comment(mod: ModuleUse, syntax: Report): Match[] {
  const o = optionNamed(mod.opts, '--comment');
  if (!o) {
    syntax("Match 'comment' needs --comment.", mod.span);
    return [];
  }
  return [{ kind: 'comment', text: valueOf(o), negated: false, span: o.span }];
}

function physdev(mod: ModuleUse): Match[] {
  const o = optionNamed(mod.opts, '--physdev-is-bridged');
  return o ? [{ kind: 'physdevIsBridged', negated: o.negated, span: o.span }] : [];
}

function nfacct(mod: ModuleUse, syntax: Report): Match[] {
  const o = optionNamed(mod.opts, '--nfacct-name');
  if (!o) {
    syntax("Match 'nfacct' needs --nfacct-name.", mod.span);
    return [];
  }
  return [{ kind: 'nfacct', name: valueOf(o), negated: false, span: o.span }];
}

export const META_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  comment: { options: { '--comment': 1 }, evaluated: ['--comment'], finish: comment },
  physdev: {
    options: {
      '--physdev-is-bridged': 0,
      '--physdev-in': 1,
      '--physdev-out': 1,
      '--physdev-is-in': 0,
      '--physdev-is-out': 0,
    },
    evaluated: ['--physdev-is-bridged'],
    finish: physdev,
  },
  nfacct: { options: { '--nfacct-name': 1 }, evaluated: ['--nfacct-name'], finish: nfacct },
  limit: { options: { '--limit': 1, '--limit-burst': 1 } },
});
