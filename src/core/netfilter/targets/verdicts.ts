/** Targets that decide or only observe: ACCEPT, DROP, RETURN, REJECT, LOG, NOTRACK and CT (as notrack). */
import { optionNamed, valueOf } from '../options';
import type { TargetDef } from './types';
import { lookupTable } from '../../lookup';

export const VERDICT_TARGETS: Readonly<Record<string, TargetDef>> = lookupTable({
  ACCEPT: { options: {}, finish: () => ({ kind: 'accept' }) },
  DROP: { options: {}, finish: () => ({ kind: 'drop' }) },
  RETURN: { options: {}, finish: () => ({ kind: 'return' }) },
  NOTRACK: { options: {}, table: 'raw', finish: () => ({ kind: 'notrack' }) },
  CT: {
    options: {
      '--notrack': 0,
      '--helper': 1,
      '--zone': 1,
      '--zone-orig': 1,
      '--zone-reply': 1,
      '--ctevents': 1,
      '--expevents': 1,
      '--timeout': 1,
    },
    table: 'raw',
    finish: () => ({ kind: 'notrack' }),
  },
  REJECT: {
    options: { '--reject-with': 1 },
    table: 'filter',
    finish: (_name, opts) => {
      const w = optionNamed(opts, '--reject-with');
      return w ? { kind: 'reject', rejectWith: valueOf(w) } : { kind: 'reject' };
    },
  },
  LOG: {
    options: {
      '--log-prefix': 1,
      '--log-level': 1,
      '--log-tcp-sequence': 0,
      '--log-tcp-options': 0,
      '--log-ip-options': 0,
      '--log-uid': 0,
      '--log-macdecode': 0,
    },
    finish: (_name, opts) => {
      const p = optionNamed(opts, '--log-prefix');
      return p ? { kind: 'log', prefix: valueOf(p) } : { kind: 'log' };
    },
  },
});
