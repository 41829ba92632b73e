/** The topology and trace webview panels: opening, restoring after reload, and talking to them. */
import * as vscode from 'vscode';
import { LineIndex, type Analysis } from '../core';
import {
  type HostMessage,
  type CompactTopology,
  type TraceRequest,
  type VerifyReportData,
  type ViewState,
  type WebviewMessage,
} from '../protocol/messages';
import { isVerifyReportData, isViewState, isWebviewMessage } from '../protocol/validate';
import type { Analyses } from './analyses';
import { textOf } from './analyses';
import { log } from './log';
import { reachExplain, reachExport, reachView, type ReachView } from './reach-data';
import { reachOptions } from './policy-options';
import { post, renderHtml, VIEW_TYPES, webviewOptions } from './webview';

export { summarise } from './view-data';

/** The scheme of the read-only node rules documents (see commands.ts, `netpath.showNodeRules`). */
const NODE_RULES_SCHEME = 'netpath-rules';
/** Steps of generated rules point into `netpath:rules/<node>` (offsets into the node's iptables-save text). */
const GENERATED_RULES = /^netpath:rules\/(.+)$/;

interface Entry {
  readonly panel: vscode.WebviewPanel;
  state: ViewState;
  /** The matrix view's last computation (to explain cells and export without computing again). */
  reach?: ReachView;
  /**
   * The topology view's summary, started when the panel opens: computed while the webview loads its page, instead
   * of after the page says it is ready (see prefetchSummary).
   */
  early?: Promise<{ readonly analysis: Analysis; readonly data: CompactTopology } | undefined>;
  /**
   * The analysis whose summary the topology view's page has been sent (or is being sent), since the page last said
   * it was ready: a page that asked while the file was being analysed is answered once that analysis ends, and the
   * same analysis announced then (onDidAnalyse) is not sent and drawn a second time (a 15,000-pod summary is a
   * megabyte).
   */
  sentAnalysis?: Analysis;
  /** When the panel was made (performance.now()), for the log: how long its page took to ask for its data. */
  readonly openedAt: number;
}

const title = (state: ViewState) =>
  state.view === 'topology'
    ? `Topology: ${vscode.Uri.parse(state.file).path.split('/').pop()}`
    : state.view === 'verify'
      ? `Verify: ${state.report.topology} (${state.report.flows.filter((f) => f.agree).length}/${state.report.flows.length} agree)`
      : state.view === 'reach'
        ? `Reachability: ${vscode.Uri.parse(state.file).path.split('/').pop()}`
        : `Trace: ${state.request.from} → ${state.request.to}${state.request.reply ? ' (with reply)' : ''}`;

export class Views implements vscode.Disposable {
  private readonly panels = new Set<Entry>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly analyses: Analyses,
  ) {
    this.disposables.push(
      // Re-draws (and re-traces) every open view of a topology when it was analysed again.
      analyses.onDidAnalyse((t) => {
        for (const p of this.panels) {
          const path = vscode.Uri.parse(p.state.file).path;
          if (t.entries.includes(path) || t.analysis?.sources.some((f) => f.path === path)) void this.refresh(p);
        }
      }),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.topology, {
        deserializeWebviewPanel: (panel, state) => this.restore(panel, state),
      }),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.trace, {
        deserializeWebviewPanel: (panel, state) => this.restore(panel, state),
      }),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.reach, {
        deserializeWebviewPanel: (panel, state) => this.restore(panel, state),
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const p of this.panels) p.panel.dispose();
  }

  async open(state: ViewState): Promise<vscode.WebviewPanel> {
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPES[state.view],
      title(state),
      vscode.ViewColumn.Beside,
      webviewOptions(this.extensionUri),
    );
    await this.attach(panel, state);
    return panel;
  }

  /** Opens a trace view (what `netpath.tracePacket` calls once it knows the endpoints). */
  openTrace(file: string, request: TraceRequest): Promise<vscode.WebviewPanel> {
    return this.open({ view: 'trace', file, request });
  }

  /**
   * Shows a kernel lab report (`netpath.verifyKernel`) in the trace view's verify mode: per flow, agreement
   * or the differences; each flow opens as a normal trace.
   */
  async openVerify(fileUri: string, report: VerifyReportData): Promise<void> {
    if (!isVerifyReportData(report)) throw new Error('the kernel lab returned a malformed report');
    await this.open({ view: 'verify', file: fileUri, report });
  }

  private async restore(panel: vscode.WebviewPanel, raw: unknown): Promise<void> {
    if (!isViewState(raw)) {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.extensionUri);
    await this.attach(panel, raw);
  }

  private async attach(panel: vscode.WebviewPanel, state: ViewState): Promise<void> {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'netpath.svg');
    panel.webview.html = renderHtml(panel.webview, this.extensionUri, state);
    const entry: Entry = { panel, state, openedAt: performance.now() };
    if (state.view === 'topology') entry.early = this.prefetchSummary(state.file);
    this.panels.add(entry);
    panel.onDidDispose(() => this.panels.delete(entry));
    panel.webview.onDidReceiveMessage(async (message: unknown) => {
      if (!isWebviewMessage(message)) {
        log.warn('ignored a malformed message from a webview');
        return;
      }
      try {
        await this.handle(entry, message);
      } catch (err) {
        log.error(`webview message ${message.type}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  private async handle(entry: Entry, message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A page (re)loaded has nothing drawn yet.
        entry.sentAnalysis = undefined;
        return this.refresh(entry);
      case 'reveal':
        return this.reveal(vscode.Uri.parse(entry.state.file), message.file, message.start, message.end);
      case 'retrace':
        // Verify mode keeps its report, the matrix its cells: the flow opens in a trace view of its own.
        if (entry.state.view === 'verify' || entry.state.view === 'reach') {
          await this.openTrace(entry.state.file, message.request);
          return;
        }
        if (entry.state.view !== 'trace') return;
        entry.state = { ...entry.state, request: message.request };
        entry.panel.title = title(entry.state);
        return this.refresh(entry);
      case 'export':
        return this.export(message.format, message.name, message.content);
      case 'reachQuery':
        if (entry.state.view !== 'reach') return;
        entry.state = { ...entry.state, query: message.query };
        return this.refresh(entry);
      case 'explainCell': {
        const explain = entry.reach && reachExplain(entry.reach, message.from, message.to, message.family);
        if (explain) await post(entry.panel, { type: 'reachExplain', explain });
        return;
      }
      case 'exportReach': {
        if (!entry.reach) return;
        const content = reachExport(entry.reach, message.format, message);
        const name = `reachability-${entry.reach.data.topology.replace(/[^\w.-]+/g, '-')}`;
        return message.format === 'csv'
          ? this.export('csv', `${name}.csv`, content, 'matrix')
          : this.export('markdown', `${name}.md`, content, 'matrix');
      }
      case 'traceFrom':
        // `netpath.tracePacket` asks for whatever is missing (quick picks) and opens the trace view.
        await vscode.commands.executeCommand('netpath.tracePacket', {
          file: entry.state.file,
          from: message.from,
          to: message.to,
        });
        return;
    }
  }

  /**
   * The summary the topology view will ask for first, computed while its page loads (the page takes about a second
   * to start in the workbench; the summary of a 15,000-pod topology a few hundred milliseconds in the worker).
   */
  private async prefetchSummary(file: string): Promise<{ analysis: Analysis; data: CompactTopology } | undefined> {
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(file));
      const analysis = await this.analyses.analysisFor(doc);
      return analysis && { analysis, data: await this.analyses.summaryFor(analysis) };
    } catch {
      // The page's own request says what went wrong (refresh computes it again).
      return undefined;
    }
  }

  private async refresh(entry: Entry): Promise<void> {
    const { panel, state } = entry;
    if (state.view === 'verify') {
      await post(panel, { type: 'verify', state });
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(state.file));
    const t0 = performance.now();
    const analysis = await this.analyses.analysisFor(doc);
    let message: HostMessage;
    if (!analysis) message = { type: 'error', message: `${doc.uri.path} is not a NetPath topology.` };
    else if (state.view === 'topology') {
      if (entry.sentAnalysis === analysis) return;
      entry.sentAnalysis = analysis;
      // What Show Topology waits for on this side: the analysis, the summary (from the analysis worker, which has
      // the model), the message to the webview.
      const t1 = performance.now();
      const early = await entry.early;
      entry.early = undefined;
      const data = early?.analysis === analysis ? early.data : await this.analyses.summaryFor(analysis);
      const t2 = performance.now();
      await post(panel, { type: 'topology', state, data });
      log.info(
        `topology view of ${doc.uri.path}: ${data.pods.names.length} pods; asked ${Math.round(t0 - entry.openedAt)} ms after the panel opened, analysis ${Math.round(t1 - t0)} ms, summary ${Math.round(t2 - t1)} ms, sent in ${Math.round(performance.now() - t2)} ms`,
      );
      return;
    } else if (state.view === 'reach') {
      entry.reach = reachView(analysis, state.query, reachOptions(analysis.topology));
      message = { type: 'reach', state, data: entry.reach.data };
    } else
      message = {
        type: 'trace',
        state,
        data: await this.analyses.traceFor(analysis, state.request),
      };
    await post(panel, message);
  }

  /** Shows a span of a topology file, or of a node's generated rules, in the editor (from a click in a view). */
  async reveal(topology: vscode.Uri, file: string, start: number, end: number): Promise<void> {
    const generated = GENERATED_RULES.exec(file);
    if (generated) {
      const doc = await vscode.workspace.openTextDocument(
        vscode.Uri.from({ scheme: NODE_RULES_SCHEME, path: `/${generated[1]}.rules`, query: topology.toString() }),
      );
      const range = new vscode.Range(doc.positionAt(start), doc.positionAt(end));
      await vscode.window.showTextDocument(doc, { selection: range, viewColumn: vscode.ViewColumn.One, preview: true });
      return;
    }
    const uri = topology.with({ path: file });
    const doc = await vscode.workspace.openTextDocument(uri);
    const analysis = await this.analyses.analysisFor(doc);
    const lines = new LineIndex(analysis ? textOf(analysis, uri.path) || doc.getText() : doc.getText());
    const s = lines.positionAt(start);
    const e = lines.positionAt(end);
    const range = new vscode.Range(s.line, s.character, e.line, e.character);
    await vscode.window.showTextDocument(doc, { selection: range, viewColumn: vscode.ViewColumn.One });
  }

  /** Markdown goes to the clipboard (for tickets), with an offer to save it; SVG and CSV go to a file. */
  private async export(
    format: 'svg' | 'markdown' | 'csv',
    name: string,
    content: string,
    what: 'trace' | 'matrix' = 'trace',
  ): Promise<void> {
    const save = async () => {
      const base = vscode.workspace.workspaceFolders?.[0]?.uri;
      const target = await vscode.window.showSaveDialog({
        defaultUri: base ? vscode.Uri.joinPath(base, name) : undefined,
        filters:
          format === 'svg' ? { 'SVG image': ['svg'] } : format === 'csv' ? { CSV: ['csv'] } : { Markdown: ['md'] },
      });
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(content));
      log.info(`exported the ${what} to ${target.toString()}`);
    };
    if (format !== 'markdown') return save();
    await vscode.env.clipboard.writeText(content);
    const choice = await vscode.window.showInformationMessage(
      `NetPath: the ${what} is on the clipboard as Markdown.`,
      'Save as File…',
    );
    if (choice) await save();
  }
}
