/** The topology and trace webview panels: opening, restoring after reload, and talking to them. */
import * as vscode from 'vscode';
import { LineIndex, type Analysis } from '../core';
import type { HostMessage, TopologySummary, ViewState } from '../protocol/messages';
import type { Analyses } from './analyses';
import { textOf } from './analyses';
import { log } from './log';
import { isWebviewMessage, post, renderHtml, VIEW_TYPES, webviewOptions } from './webview';

export function summarise(analysis: Analysis): TopologySummary {
  const t = analysis.topology;
  return {
    name: t.name,
    nodes: t.nodes.map((n) => ({ name: n.name, addresses: n.interfaces.flatMap((i) => i.addresses.map((a) => `${i.name} ${a}`)), podCIDRs: n.podCIDRs, bridge: `${n.bridge.name} ${n.bridge.addresses.join(' ')}`, span: n.spans.name ?? n.span })),
    pods: t.pods.map((p) => ({ id: p.id, node: p.node, ips: p.ips, veth: p.hostNetwork ? '(host network)' : p.hostVeth, span: p.spans.name ?? p.span })),
    services: t.services.map((s) => ({ id: s.id, clusterIPs: s.clusterIPs, endpoints: s.endpoints.map((e) => e.ip), span: s.spans.name ?? s.span })),
    networks: t.networks.map((n) => ({ name: n.name, cidr: n.cidr })),
    diagnostics: analysis.diagnostics.length,
  };
}

export class Views implements vscode.Disposable {
  private readonly panels = new Set<{ panel: vscode.WebviewPanel; state: ViewState }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly analyses: Analyses) {
    this.disposables.push(
      analyses.onDidAnalyse((t) => {
        for (const p of this.panels) {
          const path = vscode.Uri.parse(p.state.file).path;
          if (t.entries.includes(path) || t.analysis?.topology.files.includes(path)) void this.refresh(p.panel, p.state);
        }
      }),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.topology, { deserializeWebviewPanel: (panel, state) => this.restore(panel, state) }),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.trace, { deserializeWebviewPanel: (panel, state) => this.restore(panel, state) }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const p of this.panels) p.panel.dispose();
  }

  async open(state: ViewState): Promise<vscode.WebviewPanel> {
    const title = state.view === 'topology' ? `Topology: ${vscode.Uri.parse(state.file).path.split('/').pop()}` : `Trace: ${state.request.from} → ${state.request.to}`;
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES[state.view], title, vscode.ViewColumn.Beside, webviewOptions(this.extensionUri));
    await this.attach(panel, state);
    return panel;
  }

  private async restore(panel: vscode.WebviewPanel, raw: unknown): Promise<void> {
    const state = raw as ViewState | undefined;
    if (!state || (state.view !== 'topology' && state.view !== 'trace') || typeof state.file !== 'string') {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.extensionUri);
    await this.attach(panel, state);
  }

  private async attach(panel: vscode.WebviewPanel, state: ViewState): Promise<void> {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'netpath.svg');
    panel.webview.html = renderHtml(panel.webview, this.extensionUri, state);
    const entry = { panel, state };
    this.panels.add(entry);
    panel.onDidDispose(() => this.panels.delete(entry));
    panel.webview.onDidReceiveMessage(async (message: unknown) => {
      if (!isWebviewMessage(message)) {
        log.warn('ignored a malformed message from a webview');
        return;
      }
      if (message.type === 'ready') await this.refresh(panel, entry.state);
      else if (message.type === 'reveal') await this.reveal(vscode.Uri.parse(entry.state.file).with({ path: message.file }), message.start, message.end);
    });
  }

  private async refresh(panel: vscode.WebviewPanel, state: ViewState): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(state.file));
    const analysis = await this.analyses.analysisFor(doc);
    let message: HostMessage;
    if (!analysis) message = { type: 'error', message: `${doc.uri.path} is not a NetPath topology.` };
    else if (state.view === 'topology') message = { type: 'topology', state, data: summarise(analysis) };
    else message = { type: 'trace', state, data: null };
    await post(panel, message);
  }

  /** Shows a span of a topology file in the editor (from a click in a view). */
  async reveal(uri: vscode.Uri, start: number, end: number): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const analysis = await this.analyses.analysisFor(doc);
    const lines = new LineIndex(analysis ? textOf(analysis, uri.path) || doc.getText() : doc.getText());
    const s = lines.positionAt(start);
    const e = lines.positionAt(end);
    const range = new vscode.Range(s.line, s.character, e.line, e.character);
    await vscode.window.showTextDocument(doc, { selection: range, viewColumn: vscode.ViewColumn.One });
  }
}
