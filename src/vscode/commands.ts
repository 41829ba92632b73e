/** Every command of the extension, declared as a data table (id, what it does); `wire` registers them. */
import * as vscode from 'vscode';
import { nodeRulesText } from '../core';
import type { Analyses } from './analyses';
import type { Views } from './views';
import { STARTER_TOPOLOGY } from './starter';

export interface Services {
  readonly analyses: Analyses;
  readonly views: Views;
}

/** Arguments a command may receive from tests, CodeLens or the walkthrough; all optional. */
interface Target {
  /** URI string of a topology file. */
  readonly file?: string;
  readonly node?: string;
}

async function topologyDocument(target: Target | undefined): Promise<vscode.TextDocument | undefined> {
  if (target?.file) return vscode.workspace.openTextDocument(vscode.Uri.parse(target.file));
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === 'yaml') return active;
  const found = await vscode.workspace.findFiles('**/*.{netpath,topology}.{yaml,yml}', '**/node_modules/**', 20);
  if (!found.length) {
    void vscode.window.showInformationMessage('NetPath: open a topology file (*.netpath.yaml) first, or create one with "NetPath: New Topology File".');
    return undefined;
  }
  const pick = found.length === 1 ? found[0] : (await vscode.window.showQuickPick(found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })), { title: 'Which topology?' }))?.uri;
  return pick ? vscode.workspace.openTextDocument(pick) : undefined;
}

export const NODE_RULES_SCHEME = 'netpath-rules';

/** `netpath-rules:/<node>.rules?<topology uri>`: the generated iptables-save text of one node. */
function nodeRulesUri(topology: vscode.Uri, node: string): vscode.Uri {
  return vscode.Uri.from({ scheme: NODE_RULES_SCHEME, path: `/${node}.rules`, query: topology.toString() });
}

export function nodeRulesProvider(analyses: Analyses): vscode.TextDocumentContentProvider {
  return {
    async provideTextDocumentContent(uri) {
      const node = uri.path.replace(/^\//, '').replace(/\.rules$/, '');
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri.query));
      const analysis = await analyses.analysisFor(doc);
      return (analysis && nodeRulesText(analysis.topology, node)) ?? `# NetPath: no node '${node}' in ${doc.uri.path}\n`;
    },
  };
}

export const COMMANDS: Record<string, (s: Services, arg?: Target) => Promise<unknown>> = {
  'netpath.showTopology': async ({ views }, arg) => {
    const doc = await topologyDocument(arg);
    if (!doc) return undefined;
    return views.open({ view: 'topology', file: doc.uri.toString() });
  },

  'netpath.showNodeRules': async ({ analyses }, arg) => {
    const doc = await topologyDocument(arg);
    const analysis = doc && (await analyses.analysisFor(doc));
    if (!analysis) {
      void vscode.window.showWarningMessage('NetPath: this file is not part of a NetPath topology.');
      return undefined;
    }
    const names = analysis.topology.nodes.map((n) => n.name);
    const node = arg?.node ?? (names.length === 1 ? names[0] : await vscode.window.showQuickPick(names, { title: 'Show the iptables rules of which node?' }));
    if (!node) return undefined;
    if (!names.includes(node)) {
      void vscode.window.showWarningMessage(`NetPath: there is no node '${node}' in this topology.`);
      return undefined;
    }
    // A virtual document of its own scheme: read-only, regenerated from the current analysis when opened.
    const shown = await vscode.workspace.openTextDocument(nodeRulesUri(doc!.uri, node));
    return vscode.window.showTextDocument(shown, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  },

  'netpath.newTopologyFile': async () => {
    const doc = await vscode.workspace.openTextDocument({ content: STARTER_TOPOLOGY, language: 'yaml' });
    return vscode.window.showTextDocument(doc);
  },
};
