/**
 * Problems are how every layer of the core reports what is wrong with user input. Nothing in the core
 * throws on user input: functions return their result together with a list of problems.
 *
 * Positions are offsets into the file's text (UTF-16 code units, as JavaScript strings count them).
 * Conversion to line/column happens once, at the edges (CLI, editor).
 */

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** A half-open range `[start, end)` of offsets in one file. */
export interface Span {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

export interface RelatedInformation {
  readonly span: Span;
  readonly message: string;
}

/** A text edit a quick fix applies: replace `span` with `newText`. */
export interface TextEdit {
  readonly span: Span;
  readonly newText: string;
}

/** A quick fix, carried as data so editors apply it without reading message text. */
export interface QuickFix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
  /** Whether this is the fix a person most likely wants (VS Code's "preferred" code action). */
  readonly preferred?: boolean;
}

export interface Problem {
  /** Stable dotted code, e.g. `cidr.overlap`. Documented in docs/diagnostics.md. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly related: readonly RelatedInformation[];
  readonly fixes: readonly QuickFix[];
}

export function problem(
  code: string,
  severity: Severity,
  message: string,
  span: Span,
  related: readonly RelatedInformation[] = [],
  fixes: readonly QuickFix[] = [],
): Problem {
  return { code, severity, message, span, related, fixes };
}

/** A position that is not in any file, for problems about defaults and computed facts. */
export const NO_SPAN: Span = Object.freeze({ file: '', start: 0, end: 0 });
