/**
 * Keeps one analysis per topology the user has open, re-runs it (debounced) while they type, and
 * publishes its diagnostics. Which files form which topology is decided as `netpath lint <workspace folder>`
 * decides it, by the same function (groupTopologies over the files the command line's folder walk reads):
 * a NetPath document with what it includes and the manifests of its folder; Kubernetes manifests with no NetPath
 * document above them are analysed only where `netpath.manifestGlobs` matches them.
 */
import * as vscode from 'vscode';
import {
  DEFAULT_MAX_FILE_BYTES,
  FOLDER_FILE_HEAD_BYTES,
  groupOf,
  groupTopologies,
  isFolderFile,
  loadTopologyFiles,
  withPolicySettings,
  type Analysis,
  type PolicyOptions,
  type TopologyGroup,
} from '../core';
import { globToRegExp } from '../core/language/glob';
import { buildTopology, type BuildResult } from '../core/model/build';
import type { SourceFile } from '../core/model/types';
import type { Problem } from '../core/problem';
import { AnalysisWorker, type AnalysisRun, type Features } from './worker-client';
import { delayAfterChange } from './debounce';
import { fileFeatures, type FileFeatures } from './features';
import { createFileHost, isNetPathDocument, isReadLanguage, workspaceRoots } from './files';
import { log } from './log';
import { policySettings } from './policy-options';
import { toDiagnostic } from './convert';
import { lineIndexesMade, linesOf, positionsOf, rememberVersions } from './line-indexes';
import { compactSummary, traceViewData } from './view-data';
import type { CompactTopology, TraceRequest, TraceViewData } from '../protocol/messages';

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
  /** The open documents the analysis under way read, with their versions (see readingOf). */
  reading?: string;
  /** Set when the files were grouped anew and this topology is no longer one: it publishes nothing more. */
  forgotten?: boolean;
  /** How long its last published analysis took, from reading the files to publishing (ms): see Analyses.schedule. */
  lastMs?: number;
  /** What its last published analysis read (readingOf): asked again with nothing changed, it is the answer. */
  analysed?: string;
  /** When its documents last changed (performance.now()): see delayAfterChange. */
  changedAt?: number;
}

/** Why the files are grouped anew (the log says it; only some causes can change what an analysis reads). */
export interface RegroupCause {
  readonly what: 'created' | 'deleted' | 'changed on disk' | 'saved' | 'workspace folders' | 'settings';
  readonly path?: string;
}

/**
 * How long the worker holds an analysis's data plane stage after its model stage was published: about what
 * code-server and the workbench take to draw the squiggles on a machine of two cores (30-50 ms from publish to
 * squiggle in the editor bench, 300 pods). Run at once, the data plane's rules (the nat.* traces, most of an analysis)
 * took a core meanwhile. The data plane's own diagnostics come this much later, and a change that comes meanwhile
 * stops the held analysis before its data plane is compiled. (Held 150 ms, an edit's squiggles came no sooner.)
 */
export const DATA_PLANE_HOLD_MS = 50;

/** A file the analysis did not read has no outline and no lenses. */
const NO_FEATURES: FileFeatures = { symbols: [], lenses: [] };

/** The topologies of one folder, as the command line groups them, and which of their files are NetPath documents. */
interface Grouping {
  readonly groups: readonly TopologyGroup[];
  readonly netpath: ReadonlySet<string>;
}

export class Analyses implements vscode.Disposable {
  private readonly topologies = new Map<string, TopologyState>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly emitter = new vscode.EventEmitter<TopologyState>();
  /** Fires after a topology was analysed again. */
  readonly onDidAnalyse = this.emitter.event;

  /** Files already announced as too large (one visible notice per file and session, not one per edit). */
  private readonly announced = new Set<string>();
  /** The notices shown (a file too large, a verify run stopped), newest last (the extension's tests read them). */
  readonly notices: string[] = [];
  /** Models built on the extension host's thread for hovers, definitions, views (the extension's tests read it). */
  modelsBuilt = 0;
  /** Model stages published ahead of their analysis (the extension's tests read it). */
  modelStagesPublished = 0;
  /** Analyses published and analyses dropped as stale, per topology key (the extension's tests read them). */
  readonly counts = new Map<string, { published: number; dropped: number }>();
  /**
   * A worker thread per topology, so the rules never run on the extension host's thread. One per topology state, never shared by key: after a regroup a forgotten state and its successor (same
   * files, same key) may both be analysing, and a worker's run cancels the job it holds, so two states on one worker
   * cancelled each other's analysis forever (neither had a first analysis to stop at).
   */
  private readonly workers = new Map<TopologyState, AnalysisWorker>();
  /** The outline and lenses the worker computed for each analysis (see featuresFor). */
  private readonly features = new WeakMap<Analysis, Promise<Features | undefined>>();
  /**
   * The diagnostics of each analysis found after its model stage (the data plane's rules and problems). They are
   * published in a collection of their own, so the model stage of the next analysis can replace the model's
   * diagnostics while these stay on screen until the data plane's rules have run again.
   */
  private readonly dataPlaneStage = new WeakMap<Analysis, ReadonlySet<Problem>>();
  /** The data plane stage's diagnostics (see dataPlaneStage); the model stage's go to `diagnostics`. */
  private readonly dataPlaneDiagnostics = vscode.languages.createDiagnosticCollection('netpath-dataplane');
  /** The worker's run that made an analysis: asked for the topology view's summary and traces (see summaryFor). */
  private readonly runs = new WeakMap<Analysis, { readonly run: AnalysisRun; readonly loaded: readonly Problem[] }>();
  /**
   * Counts what changes an analysis without any open document changing: the settings, and files added or removed on
   * disk (a new grouping). Part of readingOf, so an analysis under way since before is stopped and run again.
   */
  private generation = 0;
  /** The grouping of each workspace folder (or folder of a file outside any), until files are added or removed. */
  private readonly groupings = new Map<string, Promise<Grouping>>();
  /** Callers of `current` waiting for a topology's scheduled analysis to start, or for the topology to be forgotten. */
  private readonly waiting = new Map<TopologyState, Set<() => void>>();
  /** Outline and lens requests answered only once the analysis of the text they were asked about was published. */
  featuresWaited = 0;

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
    for (const state of [...this.waiting.keys()]) this.wake(state);
    for (const w of this.workers.values()) w.dispose();
    this.emitter.dispose();
    this.dataPlaneDiagnostics.dispose();
  }

  /** The worker that analyses a topology (started on first use). */
  workerFor(state: TopologyState): AnalysisWorker {
    let w = this.workers.get(state);
    if (!w) {
      w = new AnalysisWorker(this.workerScript, (m) => log.error(`analysis worker: ${m}`));
      this.workers.set(state, w);
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
    const entries = await this.entriesFor(doc);
    if (!entries) {
      // Not in the grouping (an include from an allowed folder outside the workspace): the topology that reads it.
      for (const t of this.topologies.values()) if (!t.forgotten && reads(t, doc.uri.path)) return t;
      return undefined;
    }
    const key = [...entries].sort().join('\n');
    let state = this.topologies.get(key);
    if (!state) {
      state = { key, entries, base: doc.uri, analysis: undefined };
      this.topologies.set(key, state);
    }
    return state;
  }

  /**
   * The entry files of a document's topology: its group in the grouping of its folder (groupOf); a group without a
   * NetPath document only for the manifests `netpath.manifestGlobs` matches. A NetPath document that is not on disk
   * (untitled, not saved yet) is a topology of its own.
   */
  private async entriesFor(doc: vscode.TextDocument): Promise<string[] | undefined> {
    const path = doc.uri.path;
    const grouping = await this.groupingOf(doc.uri);
    const group = groupOf(grouping.groups, path);
    if (group) {
      if (group.entries.some((e) => grouping.netpath.has(e))) return [...group.entries];
      const globs = this.settings()
        .manifestGlobs.filter((g) => typeof g === 'string')
        .map(globToRegExp);
      const matched = group.entries.filter((e) => globs.some((g) => g.test(e)));
      return matched.includes(path) ? matched : undefined;
    }
    const text = doc.getText();
    if (doc.languageId === 'yaml' && isNetPathDocument(doc.uri, text)) return [path];
    return undefined;
  }

  /** The grouping of the workspace folder holding `uri` (or of its own folder, outside every workspace folder). */
  private groupingOf(uri: vscode.Uri): Promise<Grouping> {
    const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri;
    const dir = folder ?? vscode.Uri.joinPath(uri, '..');
    const key = `${folder ? 'folder' : 'dir'} ${dir.toString()}`;
    let grouping = this.groupings.get(key);
    if (!grouping) {
      grouping = this.group(dir, folder !== undefined).catch((err: unknown) => {
        log.error(`grouping ${dir.path}: ${String(err)}`);
        this.groupings.delete(key);
        return { groups: [], netpath: new Set<string>() };
      });
      this.groupings.set(key, grouping);
    }
    return grouping;
  }

  /**
   * Groups the files of a folder as `netpath lint <folder>` does: the files its walk reads (isFolderFile, in the
   * walk's order, node_modules and .git skipped), open documents as they are now, files over the size limit as empty.
   * A folder outside the workspace is read without its subfolders.
   */
  private async group(dir: vscode.Uri, recursive: boolean): Promise<Grouping> {
    const started = Date.now();
    const settings = this.settings();
    const open = new Map(
      vscode.workspace.textDocuments.filter((d) => d.uri.scheme === dir.scheme).map((d) => [d.uri.path, d.getText()]),
    );
    const files = createFileHost((p) => open.get(p), dir);
    // Each file is read once (grouping reads them all): one over the size limit as empty, as the command line does.
    const read = new Map<string, Promise<string | undefined>>();
    const host = {
      ...files,
      readFile: (p: string) => {
        let text = read.get(p);
        if (!text) {
          text = (async () => (((await files.size?.(p)) ?? 0) > settings.maxFileSize ? '' : files.readFile(p)))();
          read.set(p, text);
        }
        return text;
      },
    };
    const found = recursive
      ? (
          await vscode.workspace.findFiles(
            new vscode.RelativePattern(dir, '**/*.{yaml,yml,YAML,YML,json,JSON,conf,conflist}'),
            '**/{node_modules,.git}/**',
          )
        ).map((u) => u.path)
      : (await this.listDir(dir))
          .filter(([, type]) => type === vscode.FileType.File)
          .map(([n]) => vscode.Uri.joinPath(dir, n).path);
    const paths: string[] = [];
    for (const p of found.sort(walkOrder)) {
      const name = p.slice(p.lastIndexOf('/') + 1);
      const text = /\.(json|conf)$/i.test(name) ? ((await host.readFile(p)) ?? '') : undefined;
      if (isFolderFile(name, () => (text ?? '').slice(0, FOLDER_FILE_HEAD_BYTES))) paths.push(p);
    }
    const groups = await groupTopologies([paths], host, {
      maxFileBytes: settings.maxFileSize,
      roots: workspaceRoots({ base: dir, entries: paths.length ? paths : [vscode.Uri.joinPath(dir, 'x').path] }),
    });
    const netpath = new Set<string>();
    for (const p of paths) {
      if (isNetPathDocument(dir.with({ path: p }), (await host.readFile(p)) ?? '')) netpath.add(p);
    }
    log.info(
      `grouped ${paths.length} files of ${dir.path} into ${groups.length} topologies in ${Date.now() - started} ms`,
    );
    return { groups, netpath };
  }

  /**
   * Files were added, removed or renamed, or a NetPath document's includes may have changed: group the folders
   * anew. Topologies that no open document belongs to any more are forgotten (their diagnostics cleared, their
   * worker stopped); returns the topologies of the open documents, to be analysed again.
   */
  async regroup(causes: readonly RegroupCause[] = [{ what: 'settings' }]): Promise<TopologyState[]> {
    const before = new Set(this.topologies.keys());
    this.groupings.clear();
    const keep = new Set<TopologyState>();
    // Until no document is left: one opened while this grouping ran (its own topologyFor created its state from the
    // new grouping) must be kept, or its topology would be forgotten and its analysis never published.
    const seen = new Set<vscode.TextDocument>();
    for (
      let docs = vscode.workspace.textDocuments;
      docs.some((d) => !seen.has(d));
      docs = vscode.workspace.textDocuments
    ) {
      for (const doc of docs) {
        if (seen.has(doc)) continue;
        seen.add(doc);
        const state = await this.topologyFor(doc);
        if (state) keep.add(state);
      }
    }
    // A save, or a NetPath document changed on disk, regroups in case its includes changed; when the topologies are
    // the same and no file they read from disk changed, the analyses under way and published stand (before, each
    // such regroup stopped the analysis under way and analysed every open topology again: 15 s on 15,000 pods).
    const open = new Set(vscode.workspace.textDocuments.map((d) => d.uri.path));
    const regrouped = keep.size !== before.size || [...keep].some((t) => !before.has(t.key));
    const readChanged = causes.some(
      (c) =>
        (c.what === 'changed on disk' || c.what === 'saved') &&
        c.path !== undefined &&
        !open.has(c.path) &&
        [...keep].some((t) => reads(t, c.path ?? '')),
    );
    const changes = regrouped || readChanged || causes.some((c) => c.what !== 'changed on disk' && c.what !== 'saved');
    log.info(
      `regrouped (${causes.map((c) => (c.path ? `${c.what} ${c.path.split('/').pop()}` : c.what)).join(', ')}): ${changes ? 'analysing again' : 'nothing an analysis reads changed'}`,
    );
    if (changes) this.generation++;
    for (const [key, state] of this.topologies) {
      if (keep.has(state)) continue;
      this.topologies.delete(key);
      state.forgotten = true;
      clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      this.wake(state);
      // Its analysis under way (if any) ends on its own worker; the worker goes with it.
      void (state.running ?? Promise.resolve()).finally(() => {
        this.workers.get(state)?.dispose();
        this.workers.delete(state);
      });
      const stillRead = (f: string) => [...keep].some((t) => reads(t, f));
      for (const f of state.analysis?.sources ?? [])
        if (!stillRead(f.path)) {
          this.diagnostics.delete(state.base.with({ path: f.path }));
          this.dataPlaneDiagnostics.delete(state.base.with({ path: f.path }));
        }
    }
    return changes ? [...keep] : [...keep].filter((t) => !t.analysis && !t.running);
  }

  private async listDir(dir: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return (await Promise.resolve(vscode.workspace.fs.readDirectory(dir)).catch(() => undefined)) ?? [];
  }

  /** Analyse soon, e.g. while the user types: at once after a pause, else when the typing pauses (delayAfterChange). */
  schedule(state: TopologyState, delayMs?: number): void {
    const now = performance.now();
    const wait =
      delayMs ?? delayAfterChange(state.lastMs, state.changedAt === undefined ? undefined : now - state.changedAt);
    state.changedAt = now;
    clearTimeout(this.timers.get(state.key));
    this.timers.set(
      state.key,
      setTimeout(() => void this.run(state), wait),
    );
  }

  /** Wakes the callers of `current` waiting on a topology (they look again at what it is doing). */
  private wake(state: TopologyState): void {
    const waiting = this.waiting.get(state);
    this.waiting.delete(state);
    for (const resume of waiting ?? []) resume();
  }

  /**
   * The analysis of the documents as they are now: the published one when nothing changed since it, else the one the
   * change scheduled, once it is published (never started here: a provider that asks after every key must not start an
   * analysis per key). Undefined when `token` is cancelled meanwhile.
   */
  private async current(state: TopologyState, token?: vscode.CancellationToken): Promise<Analysis | undefined> {
    for (;;) {
      if (token?.isCancellationRequested) return undefined;
      if (state.forgotten || (state.analysis && state.analysed === this.readingOf(state.base))) return state.analysis;
      if (state.running) {
        await state.running.catch(() => undefined);
        continue;
      }
      // Nothing scheduled (what changed is not read by it): the published analysis, as analysisFor answers.
      if (!this.timers.has(state.key)) return state.analysis ?? this.run(state);
      await new Promise<void>((resume) => {
        let waiting = this.waiting.get(state);
        if (!waiting) this.waiting.set(state, (waiting = new Set()));
        waiting.add(resume);
        token?.onCancellationRequested(resume);
      });
    }
  }

  /**
   * Analyse now and publish diagnostics. One analysis per topology at a time: a call while one runs waits for
   * it and, when the documents changed meanwhile, for exactly one more (never one per change).
   */
  async run(state: TopologyState): Promise<Analysis> {
    // An edit both schedules an analysis and may ask for one at once (a command, a view): one analysis serves both.
    clearTimeout(this.timers.get(state.key));
    this.timers.delete(state.key);
    // Those waiting for the scheduled analysis (see current) look again once this call has started it, or found the
    // published one current: whether the timer or a caller got here first, the timer will not wake them.
    queueMicrotask(() => this.wake(state));
    if (state.running) {
      // Asked again with nothing changed (a view or provider asking while the first analysis runs, a document opened
      // once more): the analysis under way is the answer. Stopping it would throw its work away for nothing.
      const now = this.readingOf(state.base);
      if (state.reading === now) return state.running;
      // The analysis under way reads old text: stop it (its result is dropped) and run once more.
      if (!state.stale) log.info(`stopping the analysis of ${nameOf(state)}: ${changedBetween(state.reading, now)}`);
      state.stale = true;
      state.cancel?.();
      return state.running;
    }
    // Asked again with nothing changed since the last published analysis (a save, a view, a document opened again).
    if (state.analysis && state.analysed === this.readingOf(state.base)) return state.analysis;
    const running = (async () => {
      let analysis: Analysis | undefined;
      do {
        state.stale = false;
        analysis = (await this.analyse(state)) ?? analysis;
        // A forgotten topology publishes nothing: once it has an answer for its callers, it stops.
      } while ((state.stale && !state.forgotten) || !analysis);
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
    const started = performance.now();
    // The core reads files over the size limit as empty, with one file.too-large warning, and confines includes
    // to the workspace folders (plus netpath.allowedFolders, honoured in trusted workspaces only).
    state.reading = this.readingOf(state.base);
    const docs = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === state.base.scheme);
    const open = new Map(docs.map((d) => [d.uri.path, d.getText()]));
    const versions = new Map(docs.map((d) => [d.uri.path, d.version]));
    const host = createFileHost((p) => open.get(p), state.base);
    const loaded = await loadTopologyFiles(state.entries, host, open, {
      maxFileBytes: settings.maxFileSize,
      roots: workspaceRoots(state),
    });
    // Their diagnostics are placed with the documents' own line starts while they stay at these versions.
    rememberVersions(loaded.files, versions);
    const choices = policySettings(state.base);
    if (state.stale) return this.drop(state);
    // Only reading finds a file too large: said before the analysis, as the model stage shows its warning.
    this.announceTooLarge(loaded.problems);
    const read = performance.now();
    // Severity settings are applied when publishing (a change of them needs no new analysis).
    const worker = this.workerFor(state);
    const job = worker.run(loaded.files, {}, choices);
    state.cancel = job.cancel;
    // The model stage is shown as soon as it comes, unless a document changed since the files were read.
    let early: number | undefined;
    /** The severity settings the model stage was published with (see below: it is not published twice). */
    let earlySeverity: string | undefined;
    void job.modelStage.then((modelStage) => {
      if (!modelStage || state.stale || state.forgotten || this.readingOf(state.base) !== state.reading) {
        job.modelStageShown();
        return;
      }
      const severity = this.settings().severity;
      this.publishModelStage(state, loaded.files, [...loaded.problems, ...modelStage], severity);
      this.modelStagesPublished++;
      early = performance.now();
      earlySeverity = JSON.stringify(severity);
      // The worker's data plane stage waits until these are drawn (see DATA_PLANE_HOLD_MS).
      setTimeout(() => job.modelStageShown(), DATA_PLANE_HOLD_MS);
    });
    const found = await job.result;
    state.cancel = undefined;
    if (found === undefined || state.stale) return this.drop(state);
    const analysed = performance.now();
    state.analysis = lazyAnalysis(
      loaded.files,
      [...loaded.problems, ...found.diagnostics],
      choices,
      () => this.modelsBuilt++,
    );
    const analysis = state.analysis;
    this.dataPlaneStage.set(analysis, new Set(found.dataPlaneStage.map((i) => found.diagnostics[i])));
    this.features.set(analysis, job.features);
    this.runs.set(analysis, { run: job, loaded: loaded.problems });
    if (state.forgotten) return state.analysis;
    state.analysed = state.reading;
    // The severity settings as they are now (they may have changed during the analysis: see republish).
    const severity = this.settings().severity;
    // The model stage's diagnostics are on screen already, the same problems with the same severities: sent again,
    // the workbench redrew them while it was still drawing the model stage (issue 16). Only the data plane's are new.
    this.publish(state, severity, earlySeverity === JSON.stringify(severity));
    this.count(state).published++;
    const done = performance.now();
    // Without the hold: it is a pause, not work, and a burst of keys is told by how long the work takes.
    state.lastMs = done - started - worker.lastHeldMs;
    // Where the time went (issue 16): reading the documents here, the worker (sending the files, its analysis,
    // the answer back), converting and publishing the diagnostics.
    const ms = (x: number) => x.toFixed(0);
    // From the last change's arrival here to the start of this analysis: with the log line's time, it says when the
    // change reached the extension host (the bench lines it up with when the key was pressed).
    // (A change that came while it ran, analysed next, is not the one that started it: nothing to say of it here.)
    const waited =
      state.changedAt === undefined || state.changedAt > started
        ? ''
        : `, started ${ms(started - state.changedAt)} ms after the last change`;
    log.info(
      `analysed ${state.entries.map((e) => e.split('/').pop()).join(', ')}: ${analysis.sources.length} files, ${analysis.diagnostics.length} diagnostics in ${ms(done - started)} ms (read ${ms(read - started)}, worker ${ms(analysed - read)} of which analysis ${ms(worker.lastAnalysisMs)} (held ${ms(worker.lastHeldMs)}) with ${worker.lastParsed} files parsed (${worker.lastPartly} only in the edited item) and ${worker.lastReused} reused, publish ${ms(done - analysed)}${early === undefined ? '' : `, model stage published ${ms(early - started)} ms after the start`}${waited})`,
    );
    this.emitter.fire(state);
    return state.analysis;
  }

  /**
   * The open documents an analysis reads (those of its scheme in the languages NetPath reads), each with its version:
   * equal for two calls exactly when no such document changed between them.
   */
  private readingOf(base: vscode.Uri): string {
    return `${this.generation}\n${vscode.workspace.textDocuments
      .filter((d) => d.uri.scheme === base.scheme && isReadLanguage(d.languageId))
      .map((d) => `${d.uri.path}@${d.version}`)
      .sort()
      .join('\n')}`;
  }

  /**
   * The netpath.* settings changed: group anew and analyse every topology again (one under way read the old
   * settings). netpath.enable off forgets every topology (their diagnostics cleared, their workers stopped), so
   * nothing is analysed while it is off; on again, the open documents' topologies come back. The size limit and
   * netpath.manifestGlobs change the grouping too.
   */
  async settingsChanged(): Promise<void> {
    for (const t of await this.regroup()) this.schedule(t, 0);
  }

  /**
   * Only netpath.severity changed: it is applied when publishing, so every published analysis is published again
   * with it, and nothing is analysed (a re-analysis of every open topology took seconds on a large one).
   */
  republish(): void {
    const { severity } = this.settings();
    for (const state of this.topologies.values()) if (state.analysis && !state.forgotten) this.publish(state, severity);
    log.info('netpath.severity changed: diagnostics published again, nothing analysed');
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

  /** A file over the limit is said once as a notification too: a warning in the Problems panel is easy to miss. */
  private announceTooLarge(found: readonly Problem[]): void {
    for (const p of found) {
      if (p.code !== 'file.too-large' || this.announced.has(p.span.file)) continue;
      this.announced.add(p.span.file);
      const notice = `${p.span.file.split('/').pop()}: ${p.message} Raise the setting to analyse it.`;
      this.notices.push(notice);
      this.notify(notice);
    }
  }

  /**
   * Publishes an analysis: the model stage's diagnostics in `diagnostics` (unless `modelStageShown`: its model stage
   * was published with these severities), the data plane stage's in their own.
   */
  private publish(state: TopologyState, severity: Record<string, string>, modelStageShown = false): void {
    const analysis = state.analysis;
    if (!analysis) return; // Called right after the analysis is set.
    const late = this.dataPlaneStage.get(analysis);
    const [model, dataPlane] = this.byFile(state, analysis.sources, analysis.diagnostics, severity, late);
    if (!modelStageShown) setChanged(this.diagnostics, state.base, model);
    setChanged(this.dataPlaneDiagnostics, state.base, dataPlane);
  }

  /**
   * Publishes the model stage of an analysis under way: the data plane stage's diagnostics of the last analysis stay
   * (VS Code moves them with the edits) until this one's replace them.
   */
  private publishModelStage(
    state: TopologyState,
    sources: readonly SourceFile[],
    found: readonly Problem[],
    severity: Record<string, string>,
  ): void {
    const [model] = this.byFile(state, sources, found, severity);
    setChanged(this.diagnostics, state.base, model);
  }

  /**
   * Each file's diagnostics (an empty list for a file with none, so publishing clears it), split in two: those not in
   * `late`, and those in it.
   */
  private byFile(
    state: TopologyState,
    sources: readonly SourceFile[],
    found: readonly Problem[],
    severity: Record<string, string>,
    late?: ReadonlySet<Problem>,
  ): [Map<string, vscode.Diagnostic[]>, Map<string, vscode.Diagnostic[]>] {
    const early = new Map<string, vscode.Diagnostic[]>();
    const rest = new Map<string, vscode.Diagnostic[]>();
    for (const f of sources) {
      early.set(f.path, []);
      rest.set(f.path, []);
    }
    // Positions from the open documents at the versions read; line indexes only of the other files with a diagnostic
    // (or a related place), shared with the outline and lenses, and for the fixes when one is asked.
    const positions = (file: string) =>
      early.has(file) ? positionsOf(sources, file, (path) => this.openDocument(state, path)) : undefined;
    const texts = (file: string) => (early.has(file) ? linesOf(sources, file) : undefined);
    for (const p of found) {
      const level = severity[p.code];
      if (level === 'off') continue;
      const lines = positions(p.span.file);
      if (!lines) continue;
      const d = toDiagnostic(p, lines, positions, texts, state.base, level);
      (late?.has(p) ? rest : early).get(p.span.file)?.push(d);
    }
    return [early, rest];
  }

  /** The open document of a topology's scheme at `path`, if any. */
  openDocument(state: TopologyState, path: string): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => d.uri.scheme === state.base.scheme && d.uri.path === path);
  }

  /** Line indexes made so far of the analysed text of `path` (the extension's tests read it: see line-indexes.ts). */
  lineIndexesMadeOf(path: string): number {
    return lineIndexesMade(path);
  }

  /** Analyses that read a file: a change to an included file updates every file that includes it. */
  topologiesReading(path: string): TopologyState[] {
    return [...this.topologies.values()].filter((t) => reads(t, path));
  }

  all(): TopologyState[] {
    return [...this.topologies.values()];
  }

  /**
   * The outline and lenses of a document with the analysis they come from: as the worker computed them, or (no
   * worker, or it did not answer) from the model built here.
   */
  async featuresFor(
    doc: vscode.TextDocument,
    token?: vscode.CancellationToken,
  ): Promise<{ analysis: Analysis; features: FileFeatures } | undefined> {
    // VS Code asks for both right after each change. Answered with the last analysis, they placed its outline and
    // lenses on the edited text (wrong below an added line), and the host and the workbench converted and laid them
    // out just while the edit's own diagnostics were on their way (issue 16): they wait for the edit's analysis.
    const state = await this.topologyFor(doc);
    if (!state) return undefined;
    if (state.analysis && state.analysed !== this.readingOf(state.base)) this.featuresWaited++;
    const analysis = await this.current(state, token);
    if (!analysis) return undefined;
    const computed = await this.features.get(analysis);
    const features = computed ? (computed[doc.uri.path] ?? NO_FEATURES) : fileFeatures(analysis, doc.uri.path);
    return { analysis, features };
  }

  /**
   * What the topology view draws for an analysis: computed by the worker that made it, from the model it already
   * has (building the model here first took seconds on 15,000 pods, on the extension host's thread); from the model
   * built here when the worker cannot answer.
   */
  async summaryFor(analysis: Analysis): Promise<CompactTopology> {
    const asked = this.runs.get(analysis);
    return (await asked?.run.summary(asked.loaded)) ?? compactSummary(analysis);
  }

  /**
   * The trace view's data for `request` on an analysis: traced by the worker that made it, on its model, where the
   * analysis's nat.* rules already generated kube-proxy's rules; traced here when the worker cannot answer.
   */
  async traceFor(analysis: Analysis, request: TraceRequest): Promise<TraceViewData> {
    return (await this.runs.get(analysis)?.run.trace(request)) ?? traceViewData(analysis, request);
  }

  /** The analysis a document belongs to, analysed now if it never was. */
  async analysisFor(doc: vscode.TextDocument): Promise<Analysis | undefined> {
    const state = await this.topologyFor(doc);
    if (!state) return undefined;
    return state.analysis ?? this.run(state);
  }
}

/** What differs between two readingOf keys, for the log: the documents changed, or the settings or files on disk. */
function changedBetween(before: string | undefined, after: string): string {
  const [was, ...docs] = (before ?? '').split('\n');
  const [is, ...now] = after.split('\n');
  const old = new Set(docs);
  const changed = now.filter((d) => !old.has(d)).map((d) => d.slice(d.lastIndexOf('/') + 1));
  if (changed.length) return `changed ${changed.join(', ')}`;
  return was === is ? 'a document was closed' : 'the settings or the files on disk changed';
}

/**
 * Sets each file's diagnostics in `collection`, but for a file that has none and had none: each set is a marker change
 * the workbench processes (and, for most files of a topology, one that changed nothing).
 */
function setChanged(
  collection: vscode.DiagnosticCollection,
  base: vscode.Uri,
  byFile: ReadonlyMap<string, vscode.Diagnostic[]>,
): void {
  for (const [file, list] of byFile) {
    const uri = base.with({ path: file });
    if (list.length || collection.get(uri)?.length) collection.set(uri, list);
  }
}

const nameOf = (state: TopologyState): string => state.entries.map((e) => e.split('/').pop()).join(', ');

/** The order `netpath lint <folder>` walks files in: each folder's entries by name (localeCompare), depth first. */
function walkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = (x[i] ?? '').localeCompare(y[i] ?? '');
    if (c) return c;
  }
  return x.length - y.length;
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
  onBuild: () => void,
): Analysis {
  let built: BuildResult | undefined;
  const model = (): BuildResult => {
    if (!built) {
      onBuild();
      built = withPolicySettings(buildTopology(sources), policy);
    }
    return built;
  };
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
