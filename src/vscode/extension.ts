/**
 * The extension's entry point. `activate` calls `wire`, the one function that builds every service and
 * registers every provider and command; everything else in src/vscode is a thin adapter over src/core.
 */
import * as vscode from 'vscode';
import { Analyses, type RegroupCause } from './analyses';
import { isNetPathDocument, MANIFEST_LANGUAGES, NETPATH_FILE } from './files';
import { COMMANDS, NODE_RULES_SCHEME, nodeRulesProvider, type Services } from './commands';
import { registerLanguageFeatures } from './language';
import { log } from './log';
import { codeActionProvider, hoverProvider } from './providers';
import { Views } from './views';

export function wire(context: vscode.ExtensionContext): Services {
  const diagnostics = vscode.languages.createDiagnosticCollection('netpath');
  // The rules run in a worker thread (dist/analysis-worker.js, next to this bundle), never on this one.
  const analyses = new Analyses(
    diagnostics,
    undefined,
    vscode.Uri.joinPath(context.extensionUri, 'dist', 'analysis-worker.js').fsPath,
  );
  const views = new Views(context.extensionUri, analyses);
  const services: Services = { analyses, views, extensionUri: context.extensionUri };

  const onDocument = async (doc: vscode.TextDocument, immediately: boolean) => {
    const own = await analyses.topologyFor(doc);
    const affected = new Set(analyses.topologiesReading(doc.uri.path));
    if (own) affected.add(own);
    for (const t of affected) {
      if (immediately) await analyses.run(t);
      else analyses.schedule(t);
    }
  };

  // Files added, removed or renamed, or a NetPath document saved (its includes), change which files form which
  // topology: group anew (once for a burst, such as a git checkout) and analyse the open topologies again.
  let regrouping: ReturnType<typeof setTimeout> | undefined;
  const causes: RegroupCause[] = [];
  const regroup = (what: RegroupCause['what'], uri?: vscode.Uri) => {
    causes.push({ what, ...(uri ? { path: uri.path } : {}) });
    clearTimeout(regrouping);
    regrouping = setTimeout(
      () => void analyses.regroup(causes.splice(0)).then((states) => states.forEach((t) => analyses.schedule(t, 0))),
      200,
    );
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{yaml,yml,json,conf,conflist}');

  context.subscriptions.push(
    watcher,
    watcher.onDidCreate((uri) => regroup('created', uri)),
    watcher.onDidDelete((uri) => regroup('deleted', uri)),
    // A NetPath document (its includes), or a file an analysis read from disk (not open: an open one's text is read).
    watcher.onDidChange((uri) => {
      if (NETPATH_FILE.test(uri.path) || analyses.topologiesReading(uri.path).length) regroup('changed on disk', uri);
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => regroup('workspace folders')),
    { dispose: () => clearTimeout(regrouping) },
    log,
    diagnostics,
    analyses,
    views,
    vscode.workspace.onDidOpenTextDocument((d) => void onDocument(d, true)),
    // An event without content changes (the dirty flag flipped) changes nothing an analysis reads.
    vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length && void onDocument(e.document, false)),
    vscode.workspace.onDidSaveTextDocument((d) => {
      if (d.languageId === 'yaml' && isNetPathDocument(d.uri, d.getText())) regroup('saved', d.uri);
      void onDocument(d, true);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('netpath')) return;
      // Severity is applied when publishing; every other netpath.* setting may change what an analysis finds.
      const analysed = ['enable', 'maxFileSizeKB', 'manifestGlobs', 'allowedFolders', 'networkPolicy'].some((k) =>
        e.affectsConfiguration(`netpath.${k}`),
      );
      if (!analysed && e.affectsConfiguration('netpath.severity')) analyses.republish();
      else void analyses.settingsChanged();
    }),
    vscode.languages.registerHoverProvider(MANIFEST_LANGUAGES, hoverProvider(analyses)),
    vscode.workspace.registerTextDocumentContentProvider(NODE_RULES_SCHEME, nodeRulesProvider(analyses)),
    vscode.languages.registerCodeActionsProvider(MANIFEST_LANGUAGES, codeActionProvider(analyses), {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }),
    ...registerLanguageFeatures(analyses),
    ...Object.entries(COMMANDS).map(([id, run]) => vscode.commands.registerCommand(id, (arg) => run(services, arg))),
  );
  for (const doc of vscode.workspace.textDocuments) void onDocument(doc, true);
  return services;
}

export function activate(context: vscode.ExtensionContext): Services {
  log.info(`NetPath ${context.extension.packageJSON.version as string} activated`);
  return wire(context);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
