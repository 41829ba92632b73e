/** Hover and quick fixes: thin adapters from the core's answers to VS Code's types. */
import * as vscode from 'vscode';
import { hoverAt, LineIndex } from '../core';
import type { Analyses } from './analyses';
import { textOf } from './analyses';
import { NetPathDiagnostic, toRange } from './convert';

export function hoverProvider(analyses: Analyses): vscode.HoverProvider {
  return {
    async provideHover(doc, position) {
      const analysis = await analyses.analysisFor(doc);
      if (!analysis) return undefined;
      // Offsets are computed on the text that was analysed; while typing it may lag a keystroke behind.
      const text = textOf(analysis, doc.uri.path) || doc.getText();
      const lines = new LineIndex(text);
      const hover = hoverAt(
        analysis,
        doc.uri.path,
        lines.offsetAt({ line: position.line, character: position.character }),
      );
      if (!hover) return undefined;
      const md = new vscode.MarkdownString(hover.markdown);
      md.isTrusted = false;
      return new vscode.Hover(md, toRange(hover.span, lines));
    },
  };
}

export function codeActionProvider(analyses: Analyses): vscode.CodeActionProvider {
  return {
    async provideCodeActions(doc, _range, context) {
      const analysis = await analyses.analysisFor(doc);
      const actions: vscode.CodeAction[] = [];
      for (const d of context.diagnostics) {
        if (!(d instanceof NetPathDiagnostic) || !analysis) continue;
        for (const fix of d.problem.fixes) {
          const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
          action.diagnostics = [d];
          action.isPreferred = fix.preferred ?? false;
          const edit = new vscode.WorkspaceEdit();
          for (const e of fix.edits) {
            const uri = doc.uri.with({ path: e.span.file });
            const lines = d.linesOf(e.span.file) ?? new LineIndex(textOf(analysis, e.span.file));
            edit.replace(uri, toRange(e.span, lines), e.newText);
          }
          action.edit = edit;
          actions.push(action);
        }
      }
      return actions;
    },
  };
}
