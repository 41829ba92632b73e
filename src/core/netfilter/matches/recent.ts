/** The `recent` match: lists of recently seen addresses (kube-proxy's session affinity). */
import { optionNamed, spanOf, valueOf, type MatchModule, type ModuleUse, type Report } from '../options';
import type { Match } from '../types';
import { parseU32 } from '../values';
import { lookupTable } from '../../lookup';

function recent(mod: ModuleUse, syntax: Report): Match[] {
  const out: Match[] = [];
  const get = (...names: string[]) => optionNamed(mod.opts, ...names);
  const commands = mod.opts.filter((o) => ['--set', '--rcheck', '--update', '--remove'].includes(o.name));
  if (commands.length !== 1) {
    syntax("Match 'recent' needs exactly one of --set, --rcheck, --update, --remove.", mod.span);
    return out;
  }
  const cmd = commands[0];
  const name = get('--name');
  const seconds = get('--seconds');
  const secs = seconds ? parseU32(valueOf(seconds)) : undefined;
  if (seconds && secs === undefined) syntax(`'${valueOf(seconds)}' is not a number of seconds.`, seconds.span);
  out.push({
    kind: 'recent',
    name: name ? valueOf(name) : 'DEFAULT',
    command: cmd.name.slice(2) as 'set' | 'rcheck' | 'update' | 'remove',
    reap: get('--reap') !== undefined,
    side: get('--rdest') ? 'rdest' : 'rsource',
    negated: cmd.negated,
    span: spanOf(mod.span, mod.opts[mod.opts.length - 1].span),
    ...(secs !== undefined ? { seconds: secs } : {}),
  });
  return out;
}

export const RECENT_MATCHES: Readonly<Record<string, MatchModule>> = lookupTable({
  recent: {
    options: {
      '--name': 1,
      '--set': 0,
      '--rcheck': 0,
      '--update': 0,
      '--remove': 0,
      '--seconds': 1,
      '--reap': 0,
      '--hitcount': 1,
      '--rttl': 0,
      '--rsource': 0,
      '--rdest': 0,
      '--mask': 1,
    },
    evaluated: ['--name', '--set', '--rcheck', '--update', '--remove', '--seconds', '--reap', '--rsource', '--rdest'],
    finish: recent,
  },
});
