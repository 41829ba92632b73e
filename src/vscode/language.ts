/**
 * Outline, Go to Definition, Find References, completion and trace CodeLens: thin adapters from the
 * core's answers (src/core/language) to VS Code's types. Offsets become positions here, on the text
 * that was analysed; completion reads the document as it is now, a keystroke ahead of the analysis.
 */
import * as vscode from 'vscode';
import {
  completionsAt,
  definitionsAt,
  LineIndex,
  referencesAt,
  type Analysis,
  type CompletionKind,
  type DocumentSymbol,
  type DocumentSymbolKind,
  type Span,
} from '../core';
import type { Analyses } from './analyses';
import type { LensData } from './features';
import { toRange } from './convert';
import { linesOf as sharedLinesOf, positionsOf, type Positions } from './line-indexes';
import { MANIFEST_LANGUAGES } from './files';

/** Outline and completion read YAML's structure; JSON has VS Code's own outline, and kubectl dumps are not typed in. */
const YAML: vscode.DocumentSelector = [{ language: 'yaml' }];

/** The argument CodeLens passes to `netpath.tracePacket`. */
export interface TraceLensArgument {
  /** URI string of the topology file the lens is in. */
  readonly file: string;
  readonly from?: string;
  readonly to?: string;
}

const SYMBOL_KIND: Record<DocumentSymbolKind, vscode.SymbolKind> = {
  topology: vscode.SymbolKind.File,
  cluster: vscode.SymbolKind.Namespace,
  group: vscode.SymbolKind.Array,
  network: vscode.SymbolKind.Struct,
  node: vscode.SymbolKind.Class,
  interface: vscode.SymbolKind.Interface,
  route: vscode.SymbolKind.Event,
  pod: vscode.SymbolKind.Object,
  container: vscode.SymbolKind.Module,
  port: vscode.SymbolKind.Number,
  service: vscode.SymbolKind.Method,
  external: vscode.SymbolKind.Constant,
  object: vscode.SymbolKind.Object,
};

const COMPLETION_KIND: Record<CompletionKind, vscode.CompletionItemKind> = {
  node: vscode.CompletionItemKind.Class,
  network: vscode.CompletionItemKind.Struct,
  interface: vscode.CompletionItemKind.Interface,
  'label-key': vscode.CompletionItemKind.Property,
  'label-value': vscode.CompletionItemKind.Value,
  port: vscode.CompletionItemKind.Field,
  enum: vscode.CompletionItemKind.EnumMember,
};

/** The line index of the analysed text of `file`, or of the document as it is when the analysis did not read it. */
function linesOf(analysis: Analysis, file: string, fallback?: vscode.TextDocument): LineIndex {
  return sharedLinesOf(analysis, file, fallback && (() => fallback.getText()));
}

function offsetIn(analysis: Analysis, doc: vscode.TextDocument, position: vscode.Position): number {
  return linesOf(analysis, doc.uri.path, doc).offsetAt({ line: position.line, character: position.character });
}

function location(analysis: Analysis, base: vscode.Uri, span: Span): vscode.Location {
  return new vscode.Location(base.with({ path: span.file }), toRange(span, linesOf(analysis, span.file)));
}

/**
 * Positions in the document as the analysis read it: its own line starts while it is at the version read (no line
 * index of a 2.5 MB text made for its outline and lenses after each edit), else the analysed text's.
 */
function positionsIn(analysis: Analysis, doc: vscode.TextDocument): Positions {
  const path = doc.uri.path;
  return positionsOf(
    analysis,
    path,
    (p) => (p === path ? doc : undefined),
    () => doc.getText(),
  );
}

function toSymbol(s: DocumentSymbol, lines: Positions): vscode.DocumentSymbol {
  const symbol = new vscode.DocumentSymbol(
    s.name,
    s.detail,
    SYMBOL_KIND[s.kind],
    toRange(s.span, lines),
    toRange(s.selectionSpan, lines),
  );
  symbol.children = s.children.map((c) => toSymbol(c, lines));
  return symbol;
}

/** What a lens runs: a trace from or to its endpoint, or the reachability matrix of its policy's namespace. */
function lensCommand(l: LensData, file: string): vscode.Command {
  if (l.kind === 'reachability')
    return {
      title: 'Show reachability',
      command: 'netpath.showReachability',
      arguments: [{ file, [l.side]: `ns/${l.namespace}` }],
      tooltip: `Which pods may reach which under the NetworkPolicies, ${l.side} namespace ${l.namespace}`,
    };
  const argument: TraceLensArgument = { file, ...(l.from ? { from: l.from } : {}), ...(l.to ? { to: l.to } : {}) };
  return {
    title: l.title,
    command: 'netpath.tracePacket',
    arguments: [argument],
    tooltip: l.from
      ? `Trace a packet from ${l.from}`
      : l.to
        ? `Trace a packet to ${l.to}`
        : 'Trace a packet: pick where it starts and where it goes',
  };
}

export function registerLanguageFeatures(analyses: Analyses): vscode.Disposable[] {
  // The outline and the lenses come with each analysis from the worker (features.ts): VS Code asks for them after
  // every change, and building the model here for them blocked the extension host for seconds on a large file.
  const symbols: vscode.DocumentSymbolProvider = {
    async provideDocumentSymbols(doc, token) {
      const found = await analyses.featuresFor(doc, token);
      if (!found) return undefined;
      const lines = positionsIn(found.analysis, doc);
      return found.features.symbols.map((s) => toSymbol(s, lines));
    },
  };
  const definitions: vscode.DefinitionProvider = {
    async provideDefinition(doc, position) {
      const analysis = await analyses.analysisFor(doc);
      if (!analysis) return undefined;
      return definitionsAt(analysis, doc.uri.path, offsetIn(analysis, doc, position)).map((s) =>
        location(analysis, doc.uri, s),
      );
    },
  };
  const references: vscode.ReferenceProvider = {
    async provideReferences(doc, position, context) {
      const analysis = await analyses.analysisFor(doc);
      if (!analysis) return undefined;
      return referencesAt(analysis, doc.uri.path, offsetIn(analysis, doc, position), context.includeDeclaration).map(
        (s) => location(analysis, doc.uri, s),
      );
    },
  };
  const completion: vscode.CompletionItemProvider = {
    async provideCompletionItems(doc, position) {
      const analysis = await analyses.analysisFor(doc);
      if (!analysis) return undefined;
      const text = doc.getText();
      const items = completionsAt(analysis, doc.uri.path, text, doc.offsetAt(position));
      return items.map((c) => {
        const item = new vscode.CompletionItem(c.label, COMPLETION_KIND[c.kind]);
        item.detail = c.detail;
        item.insertText = c.insertText;
        item.range = new vscode.Range(doc.positionAt(c.replace.start), doc.positionAt(c.replace.end));
        return item;
      });
    },
  };
  // A lens is sent to the workbench without its command, which is filled in only for the lenses the editor shows
  // (resolveCodeLens): a 15,000-pod file has 16,000 lenses, and sending every one with its command and arguments
  // (each command with arguments is kept in the extension host's command cache) held up the host and the workbench
  // for seconds after each analysis.
  const lensData = new WeakMap<vscode.CodeLens, { readonly data: LensData; readonly file: string }>();
  const lenses: vscode.CodeLensProvider = {
    async provideCodeLenses(doc, token) {
      const found = await analyses.featuresFor(doc, token);
      if (!found) return undefined;
      const lines = positionsIn(found.analysis, doc);
      const file = doc.uri.toString();
      return found.features.lenses.map((data) => {
        const lens = new vscode.CodeLens(toRange(data.span, lines));
        lensData.set(lens, { data, file });
        return lens;
      });
    },
    resolveCodeLens(lens) {
      const found = lensData.get(lens);
      if (found) lens.command = lensCommand(found.data, found.file);
      return lens;
    },
  };
  return [
    vscode.languages.registerDocumentSymbolProvider(YAML, symbols, { label: 'NetPath' }),
    vscode.languages.registerDefinitionProvider(MANIFEST_LANGUAGES, definitions),
    vscode.languages.registerReferenceProvider(MANIFEST_LANGUAGES, references),
    vscode.languages.registerCompletionItemProvider(YAML, completion, ':', ' '),
    vscode.languages.registerCodeLensProvider(MANIFEST_LANGUAGES, lenses),
  ];
}
