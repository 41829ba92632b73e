/** Mark targets: MARK sets the packet's mark, CONNMARK the connection's (or saves/restores it). */
import type { Span } from '../../problem';
import { optionNamed, valueOf, type Opt, type Report } from '../options';
import type { Target } from '../types';
import { parseMarkValue } from '../values';
import type { TargetDef } from './types';
import { lookupTable } from '../../lookup';

const MARK_OPS = ['--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark'];

function mark(name: string, opts: readonly Opt[], span: Span, syntax: Report, unsup: Report): Target | undefined {
  const get = (o: string): Opt | undefined => optionNamed(opts, o);
  if (name === 'CONNMARK') {
    const save = get('--save-mark');
    const restore = get('--restore-mark');
    for (const extra of ['--nfmask', '--ctmask', '--mask']) {
      const o = get(extra);
      if (o) unsup(`CONNMARK option '${extra}' is not supported.`, o.span);
    }
    if (save) return { kind: 'connmark', op: 'save', text: save.name };
    if (restore) return { kind: 'connmark', op: 'restore', text: restore.name };
  }
  const ops = opts.filter((o) => MARK_OPS.includes(o.name));
  if (ops.length !== 1) {
    syntax(
      `Target ${name} needs exactly one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark${name === 'CONNMARK' ? ', --save-mark, --restore-mark' : ''}.`,
      span,
    );
    return undefined;
  }
  const o = ops[0];
  const mv = parseMarkValue(valueOf(o));
  const plain = o.name === '--and-mark' || o.name === '--or-mark' || o.name === '--xor-mark';
  if (!mv || (plain && valueOf(o).includes('/'))) {
    syntax(`'${valueOf(o)}' is not a valid value for ${o.name}.`, o.span);
    return undefined;
  }
  let mask: number;
  let xor: number;
  switch (o.name) {
    case '--set-xmark':
      mask = mv.mask;
      xor = mv.value;
      break;
    case '--set-mark':
      mask = (mv.mask | mv.value) >>> 0;
      xor = mv.value;
      break;
    case '--and-mark':
      mask = ~mv.value >>> 0;
      xor = 0;
      break;
    case '--or-mark':
      mask = mv.value;
      xor = mv.value;
      break;
    default:
      mask = 0;
      xor = mv.value;
  }
  const text = `${o.name} ${valueOf(o)}`;
  return name === 'MARK' ? { kind: 'mark', mask, xor, text } : { kind: 'connmark', op: 'set', mask, xor, text };
}

export const MARK_TARGETS: Readonly<Record<string, TargetDef>> = lookupTable({
  MARK: {
    options: { '--set-xmark': 1, '--set-mark': 1, '--and-mark': 1, '--or-mark': 1, '--xor-mark': 1 },
    finish: mark,
  },
  CONNMARK: {
    options: {
      '--set-xmark': 1,
      '--set-mark': 1,
      '--and-mark': 1,
      '--or-mark': 1,
      '--xor-mark': 1,
      '--save-mark': 0,
      '--restore-mark': 0,
      '--nfmask': 1,
      '--ctmask': 1,
      '--mask': 1,
    },
    finish: mark,
  },
});
