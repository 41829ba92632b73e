/** Core problems and spans -> VS Code diagnostics and ranges. The only place offsets become positions. */
import * as vscode from 'vscode';
import type { LineIndex, Problem, Span } from '../core';
import type { Positions } from './line-indexes';

export const DIAGNOSTIC_SOURCE = 'netpath';

export function toRange(span: Span, lines: Positions): vscode.Range {
  const s = lines.positionAt(span.start);
  const e = lines.positionAt(span.end);
  return new vscode.Range(s.line, s.character, e.line, e.character);
}

const SEVERITY: Record<string, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

/**
 * A diagnostic that remembers its problem, so code actions read the fix data rather than the message, and the line
 * indexes of the text the problem was found in, so a fix's offsets become ranges of that text (a newer analysis may
 * have been published since, or only its first stage).
 */
export class NetPathDiagnostic extends vscode.Diagnostic {
  constructor(
    range: vscode.Range,
    readonly problem: Problem,
    severity: vscode.DiagnosticSeverity,
    readonly linesOf: (file: string) => LineIndex | undefined,
  ) {
    super(range, problem.message, severity);
  }
}

/**
 * @param lines the positions of the problem's file as analysed
 * @param positionsIn those of any file the analysis read (its related places), undefined for one it did not
 * @param linesOf the line indexes of the analysed texts, kept by the diagnostic for its fixes (made when one is asked)
 */
export function toDiagnostic(
  p: Problem,
  lines: Positions,
  positionsIn: (file: string) => Positions | undefined,
  linesOf: (file: string) => LineIndex | undefined,
  base: vscode.Uri,
  severityOverride?: string,
): NetPathDiagnostic {
  const d = new NetPathDiagnostic(
    toRange(p.span, lines),
    p,
    SEVERITY[severityOverride ?? p.severity] ?? SEVERITY[p.severity],
    linesOf,
  );
  d.source = DIAGNOSTIC_SOURCE;
  d.code = p.code;
  d.relatedInformation = p.related.flatMap((r) => {
    const other = positionsIn(r.span.file);
    return other
      ? [
          new vscode.DiagnosticRelatedInformation(
            new vscode.Location(base.with({ path: r.span.file }), toRange(r.span, other)),
            r.message,
          ),
        ]
      : [];
  });
  return d;
}
