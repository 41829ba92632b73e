/**
 * Keeps one analysis per topology the user has open, re-runs it (debounced) while they type, and
 * publishes its diagnostics. A topology is a NetPath document plus what it includes, or a folder of
 * Kubernetes manifests next to a NetPath document or matched by `netpath.manifestGlobs`.
 */
import * as vscode from 'vscode';
import {
  DEFAULT_MAX_FILE_BYTES,
  LineIndex,
  loadTopologyFiles,
  withPolicySettings,
  type Analysis,
  type PolicyOptions,
} from '../core';
import { buildTopology, type BuildResult } from '../core/model/build';
import type { SourceFile } from '../core/model/types';
import { AnalysisWorker } from './worker-client';
import {
  createFileHost,
  isManifestDocument,
  isNetPathDocument,
  isReadLanguage,
  NETPATH_FILE,
  workspaceRoots,
} from './files';
import { log } from './log';
import { policySettings } from './policy-options';
import { toDiagnostic } from './convert';

export interface TopologyState {
  readonly key: string;
  readonly entries: readonly string[];
  readonly base: vscode.Uri;
  analysis: Analysis | undefined;
  /** The analysis under way, if any: callers wait for it instead of starting another. */
  running?: Promise<Analysis>;
  /** The documents changed while an analysis ran: run once more when it ends (not once per change). */
  stale?: boolean;
  /** Stops the analysis under way (its result would be stale). */
  cancel?: () => void;
}

export class Analyses implements vscode.Disposable {
  private readonly topologies = new Map<string, TopologyState>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly emitter = new vscode.EventEmitter<TopologyState>();
  /** Fires after a topology was analysed again. */
  readonly onDidAnalyse = this.emitter.event;

  /** Files already announced as too large (one visible notice per file and session, not one per edit). */
  private readonly announced = new Set<string>();
  /** The notices shown, newest last (the extension's tests read them; nothing else does). */
  readonly notices: string[] = [];
  /** Analyses published and analyses dropped as stale, per topology key (the extension's tests read them). */
  readonly counts = new Map<string, { published: number; dropped: number }>();
  /** A worker thread per topology: the rules never run on the extension host's thread. */
  private readonly workers = new Map<string, AnalysisWorker>();

  constructor(
    private readonly diagnostics: vscode.DiagnosticCollection,
    private readonly notify: (message: string) => void = (m) =>
      void vscode.window.showWarningMessage(m, 'Open Settings').then((pick) => {
        if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'netpath.maxFileSizeKB');
      }),
    /** dist/analysis-worker.js; without it analyses run on the extension host's thread. */
    private readonly workerScript?: string,
  ) {}

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const w of this.workers.values()) w.dispose();
    this.emitter.dispose();
  }

  /** The worker that analyses a topology (started on first use). */
  workerFor(state: TopologyState): AnalysisWorker {
    let w = this.workers.get(state.key);
    if (!w) {
      w = new AnalysisWorker(this.workerScript, (m) => log.error(`analysis worker: ${m}`));
      this.workers.set(state.key, w);
    }
    return w;
  }

  private settings() {
    const c = vscode.workspace.getConfiguration('netpath');
    return {
      enabled: c.get<boolean>('enable', true),
      maxFileSize: c.get<number>('maxFileSizeKB', DEFAULT_MAX_FILE_BYTES / 1024) * 1024,
      manifestGlobs: c.get<string[]>('manifestGlobs', []),
      severity: c.get<Record<string, string>>('severity', {}),
    };
  }

  /** The topology a document belongs to, if any. Other YAML and JSON (package.json, settings) cost nothing. */
  async topologyFor(doc: vscode.TextDocument): Promise<TopologyState | undefined> {
    if (!isReadLanguage(doc.languageId) || !this.settings().enabled) return undefined;
    for (const t of this.topologies.values()) if (reads(t, doc.uri.path)) return t;
    const text = doc.getText();
    let entries: string[] | undefined;
    if (doc.languageId === 'yaml' && isNetPathDocument(doc.uri, text)) entries = [doc.uri.path];
    else if (isManifestDocument(doc, text)) entries = await this.manifestEntries(doc);
    if (!entries) return undefined;
    const key = [...entries].sort().join('\n');
    let state = this.topologies.get(key);
    if (!state) {
      state = { key, entries, base: doc.uri, analysis: undefined };
      this.topologies.set(key, state);
    }
    return state;
  }

  /**
   * A manifest belongs to a topology when a NetPath document includes it (searched in the workspace), else
   * to the NetPath documents of its folder or the nearest parent folder inside the workspace; with a
   * matching `netpath.manifestGlobs` entry, to the YAML files of its own folder.
   */
  private async manifestEntries(doc: vscode.TextDocument): Promise<string[] | undefined> {
    const including = await this.includingTopology(doc);
    if (including) return including;
    const root = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.path;
    for (let dir = vscode.Uri.joinPath(doc.uri, '..'); ; dir = vscode.Uri.joinPath(dir, '..')) {
      const netpath = (await this.listDir(dir))
        .filter(([n, type]) => type === vscode.FileType.File && NETPATH_FILE.test(n))
        .map(([n]) => vscode.Uri.joinPath(dir, n).path);
      if (netpath.length) return [...netpath, doc.uri.path];
      if (!root || dir.path === root || !dir.path.startsWith(root) || dir.path === '/') break;
    }
    const globs = this.settings().manifestGlobs;
    if (globs.some((g) => vscode.languages.match({ pattern: g }, doc) > 0)) {
      const dir = vscode.Uri.joinPath(doc.uri, '..');
      return (await this.listDir(dir))
        .filter(([n, type]) => type === vscode.FileType.File && /\.ya?ml$/i.test(n))
        .map(([n]) => vscode.Uri.joinPath(dir, n).path);
    }
    return undefined;
  }

  private async listDir(dir: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return (await Promise.resolve(vscode.workspace.fs.readDirectory(dir)).catch(() => undefined)) ?? [];
  }

  /** The entries of a workspace NetPath document whose includes read this file, analysing each at most once. */
  private async includingTopology(doc: vscode.TextDocument): Promise<string[] | undefined> {
    const found = await vscode.workspace.findFiles('**/*.{netpath,topology}.{yaml,yml}', '**/node_modules/**', 200);
    for (const uri of found) {
      const key = uri.path;
      let state = this.topologies.get(key);
      if (!state) {
        state = { key, entries: [uri.path], base: uri, analysis: undefined };
        this.topologies.set(key, state);
      }
      const analysis = state.analysis ?? (await this.run(state));
      if (analysis.sources.some((f) => f.path === doc.uri.path)) return state.entries as string[];
    }
    return undefined;
  }

  /** Analyse soon (debounced), e.g. while the user types. */
  schedule(state: TopologyState, delayMs = 300): void {
    clearTimeout(this.timers.get(state.key));
    this.timers.set(
      state.key,
      setTimeout(() => void this.run(state), delayMs),
    );
  }

  /**
   * Analyse now and publish diagnostics. One analysis per topology at a time: a call while one runs waits for
   * it and, when the documents changed meanwhile, for exactly one more (never one per change).
   */
  async run(state: TopologyState): Promise<Analysis> {
    // An edit both schedules an analysis and may ask for one at once (a command, a view): one analysis serves both.
    clearTimeout(this.timers.get(state.key));
    this.timers.delete(state.key);
    if (state.running) {
      // The analysis under way reads old text: stop it (its result is dropped) and run once more.
      state.stale = true;
      state.cancel?.();
      return state.running;
    }
    const running = (async () => {
      let analysis: Analysis | undefined;
      do {
        state.stale = false;
        analysis = (await this.analyse(state)) ?? analysis;
      } while (state.stale || !analysis);
      return analysis;
    })();
    state.running = running;
    try {
      return await running;
    } finally {
      state.running = undefined;
    }
  }

  /** One analysis: the files read here, the rules run in the worker; undefined when it went stale meanwhile. */
  private async analyse(state: TopologyState): Promise<Analysis | undefined> {
    const settings = this.settings();
    const started = Date.now();
    // The core reads files over the size limit as empty, with one file.too-large warning, and confines includes
    // to the workspace folders (plus netpath.allowedFolders, honoured in trusted workspaces only).
    const open = new Map(
      vscode.workspace.textDocuments
        .filter((d) => d.uri.scheme === state.base.scheme)
        .map((d) => [d.uri.path, d.getText()]),
    );
    const host = createFileHost((p) => open.get(p), state.base);
    const loaded = await loadTopologyFiles(state.entries, host, open, {
      maxFileBytes: settings.maxFileSize,
      roots: workspaceRoots(state),
    });
    const choices = policySettings(state.base);
    if (state.stale) return this.drop(state);
    // Severity settings are applied when publishing (a change of them needs no new analysis).
    const job = this.workerFor(state).run(loaded.files, {}, choices);
    state.cancel = job.cancel;
    const found = await job.result;
    state.cancel = undefined;
    if (found === undefined || state.stale) return this.drop(state);
    state.analysis = lazyAnalysis(loaded.files, [...loaded.problems, ...found], choices);
    const analysis = state.analysis;
    // A file over the limit is said once as a notification too: a warning in the Problems panel is easy to miss.
    for (const p of analysis.diagnostics) {
      if (p.code !== 'file.too-large' || this.announced.has(p.span.file)) continue;
      this.announced.add(p.span.file);
      const notice = `${p.span.file.split('/').pop()}: ${p.message} Raise the setting to analyse it.`;
      this.notices.push(notice);
      this.notify(notice);
    }
    this.publish(state, settings.severity);
    this.count(state).published++;
    log.info(
      `analysed ${state.entries.map((e) => e.split('/').pop()).join(', ')}: ${analysis.sources.length} files, ${analysis.diagnostics.length} diagnostics in ${Date.now() - started} ms`,
    );
    this.emitter.fire(state);
    return state.analysis;
  }

  private count(state: TopologyState): { published: number; dropped: number } {
    let c = this.counts.get(state.key);
    if (!c) this.counts.set(state.key, (c = { published: 0, dropped: 0 }));
    return c;
  }

  /** An analysis overtaken by an edit: nothing of it is published. */
  private drop(state: TopologyState): undefined {
    state.cancel = undefined;
    this.count(state).dropped++;
    log.info(`dropped a stale analysis of ${state.entries.map((e) => e.split('/').pop()).join(', ')}`);
    return undefined;
  }

  private publish(state: TopologyState, severity: Record<string, string>): void {
    const analysis = state.analysis!;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const texts = new Map(analysis.sources.map((f) => [f.path, new LineIndex(f.text)]));
    for (const f of analysis.sources) byFile.set(f.path, []);
    for (const p of analysis.diagnostics) {
      const level = severity[p.code];
      if (level === 'off') continue;
      const lines = texts.get(p.span.file);
      if (!lines) continue;
      const d = toDiagnostic(p, lines, (file) => texts.get(file), state.base, level);
      byFile.get(p.span.file)?.push(d);
    }
    for (const [file, list] of byFile) this.diagnostics.set(state.base.with({ path: file }), list);
  }

  /** Analyses that read a file: a change to an included file updates every file that includes it. */
  topologiesReading(path: string): TopologyState[] {
    return [...this.topologies.values()].filter((t) => reads(t, path));
  }

  all(): TopologyState[] {
    return [...this.topologies.values()];
  }

  /** The analysis a document belongs to, analysed now if it never was. */
  async analysisFor(doc: vscode.TextDocument): Promise<Analysis | undefined> {
    const state = await this.topologyFor(doc);
    if (!state) return undefined;
    return state.analysis ?? this.run(state);
  }
}

/** Whether a topology reads a file (without building its model). */
function reads(t: TopologyState, path: string): boolean {
  return t.entries.includes(path) || (t.analysis?.sources.some((f) => f.path === path) ?? false);
}

/**
 * An analysis whose diagnostics came from the worker: the model the editor's features read (hover, outline,
 * definitions, the views) is built here only when one of them asks, once per analysis.
 */
function lazyAnalysis(
  sources: readonly SourceFile[],
  diagnostics: Analysis['diagnostics'],
  policy: Partial<PolicyOptions>,
): Analysis {
  let built: BuildResult | undefined;
  const model = (): BuildResult => (built ??= withPolicySettings(buildTopology(sources), policy));
  return {
    sources,
    diagnostics,
    get topology() {
      return model().topology;
    },
    get problems() {
      return model().problems;
    },
    get parsed() {
      return model().parsed;
    },
  };
}

export function textOf(analysis: Analysis, file: string): string {
  return analysis.sources.find((f) => f.path === file)?.text ?? '';
}
