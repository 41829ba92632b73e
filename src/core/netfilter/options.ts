/**
 * What the rule parser (`rule.ts`) hands to a match module or a target (`matches/`, `targets/`): the options as
 * written, and how to report a problem with them.
 */
import type { Span } from '../problem';
import type { Match } from './types';
import type { Token } from './tokenize';

/** An option of a rule with its values, as written. */
export interface Opt {
  readonly name: string;
  readonly values: readonly Token[];
  readonly negated: boolean;
  /** From the `!` (if any) to the last value. */
  readonly span: Span;
}

/** A match module loaded by a rule (`-m name`, or implicitly by `-p tcp`), with its options. */
export interface ModuleUse {
  readonly name: string;
  readonly span: Span;
  readonly implicit: boolean;
  readonly opts: Opt[];
}

/** Records a problem at a span (and marks the rule unsupported). */
export type Report = (message: string, span: Span) => void;

/** A match module iptables knows: its options and arities, which of them are evaluated, how it becomes matches. */
export interface MatchModule {
  /** Option -> how many values it takes. */
  readonly options: Readonly<Record<string, number>>;
  /** Options this model evaluates; the others parse but make the rule unsupported. Absent: none. */
  readonly evaluated?: readonly string[];
  /** The module's matches. Absent: its syntax is known but it is not evaluated. */
  readonly finish?: (mod: ModuleUse, syntax: Report, unsup: Report) => Match[];
}

/** The first option of `opts` with one of `names`. */
export const optionNamed = (opts: readonly Opt[], ...names: string[]): Opt | undefined =>
  opts.find((o) => names.includes(o.name));

/** An option's first value ('' when it has none). */
export const valueOf = (o: Opt): string => o.values[0]?.value ?? '';

export function spanOf(a: Span, b: Span): Span {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}
