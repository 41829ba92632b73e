import type { Span } from '../../problem';
import type { Opt, Report } from '../options';
import type { TableName, Target } from '../types';

/** A target iptables knows: its options and arities, the one table it is valid in, how it becomes a {@link Target}. */
export interface TargetDef {
  readonly options: Readonly<Record<string, number>>;
  /** The only table this target is valid in (absent: any). */
  readonly table?: TableName;
  readonly finish: (
    name: string,
    opts: readonly Opt[],
    span: Span,
    syntax: Report,
    unsup: Report,
  ) => Target | undefined;
}
