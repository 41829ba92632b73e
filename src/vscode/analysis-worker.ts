/**
 * The analysis worker (dist/analysis-worker.js, a worker_threads thread of the extension host): builds the model
 * and runs every rule for the files it is sent, and answers with the diagnostics (first the model's and those of
 * the rules that read no data plane, then all of them), then with the outline and CodeLens of every file
 * (features.ts). The extension host's own thread never runs the rules, so typing, hovers and other extensions do not
 * wait for a large cluster's analysis.
 *
 * An analysis made stale by a newer edit is stopped from inside: the extension writes the job's id into a shared
 * cancel flag (workerData.cancel, an Int32Array over a SharedArrayBuffer), which the analysis reads between its steps
 * (each file parsed, each rule) and ends with a `cancelled` answer. The thread lives on, with its parse cache and
 * its compiled code, for the newer job already waiting in its queue (see worker-client.ts, which still ends the
 * thread when a step outlasts its grace period).
 *
 * Once it has sent the model stage, it waits for the extension to say that stage is on screen before running the
 * data plane's rules (holdUntilShown), so they do not compete with the trip to the screen for a core.
 *
 * It keeps its last analysis, so what the topology view draws (view-data.ts's summary) and the trace view's traces are
 * computed here from the model it already has: the extension host would otherwise build the whole model again
 * (seconds on 15,000 pods), and a trace there would generate kube-proxy's rules again, which this model's nat.*
 * rules have generated already (they go with the model's Services).
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  analyse,
  type Analysis,
  type PolicyOptions,
  type Problem,
  type SeverityOverrides,
  type SourceFile,
} from '../core';
import { allFeatures } from './features';
import { ParseCache } from './parse-cache';
import { compactSummary, traceViewData } from './view-data';
import type { TraceRequest, TraceViewData } from '../protocol/messages';

/** What the extension sends: the files as read (open documents' unsaved text included) and the severity overrides. */
export interface AnalysisJob {
  readonly kind: 'analyse';
  readonly id: number;
  readonly files: readonly SourceFile[];
  readonly severity: SeverityOverrides;
  /** The netpath.networkPolicy.* settings (src/vscode/policy-options.ts). */
  readonly policySettings?: Partial<PolicyOptions>;
  /** How long the data plane stage may wait for the extension's word (HOLD_BOUND_MS when absent): see holdUntilShown. */
  readonly holdBoundMs?: number;
}

/**
 * The topology view's summary of the analysis of job `job` (view-data.ts's `summarise`), answered with `request`.
 * `loaded` are the problems the extension found reading the files (file.too-large, includes), which its analysis
 * lists before the worker's: the summary counts and places them as the extension's own analysis would.
 */
export interface SummaryRequest {
  readonly kind: 'summary';
  readonly request: number;
  readonly job: number;
  readonly loaded: readonly Problem[];
}

/** The trace view's data for `trace` on the model of job `job` (view-data.ts's traceViewData), answered with `request`. */
export interface TraceViewRequest {
  readonly kind: 'trace';
  readonly request: number;
  readonly job: number;
  readonly trace: TraceRequest;
}

export type WorkerRequest = AnalysisJob | SummaryRequest | TraceViewRequest;

const errorText = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/** The extension's cancel flag: the highest job id it cancelled (0: none); absent when it could not share one. */
const cancelFlag: Int32Array | undefined =
  (workerData as { cancel?: unknown } | undefined)?.cancel instanceof Int32Array
    ? (workerData as { cancel: Int32Array }).cancel
    : undefined;

/**
 * The highest job id whose model stage the extension has published and given the workbench time to draw (0: none);
 * absent when it could not share one. See holdUntilShown.
 */
const shownFlag: Int32Array | undefined =
  (workerData as { shown?: unknown } | undefined)?.shown instanceof Int32Array
    ? (workerData as { shown: Int32Array }).shown
    : undefined;

/**
 * The longest the data plane stage waits for the extension's word. Only a safety bound: the extension gives it
 * DATA_PLANE_HOLD_MS (analyses.ts) after it got the model stage, unless its thread is blocked.
 */
const HOLD_BOUND_MS = 500;

/** Thrown at a checkpoint of a cancelled job: unwinds the analysis, nothing of it is kept. */
class Cancelled extends Error {}

/** Whether the extension cancelled job `id`. */
const cancelled = (id: number): boolean => cancelFlag !== undefined && Atomics.load(cancelFlag, 0) >= id;

/**
 * Waits, before the data plane stage runs, until the extension says job `id`'s model stage has been published and
 * drawn (and no next key came), or cancels the job; returns how long it waited. On a machine of two cores the data plane's rules (most of an analysis: the nat.* traces)
 * otherwise took a core while the extension host, code-server and the workbench carried the model stage's
 * diagnostics to the screen. Sleeping here costs no CPU, and the thread keeps its parse cache and compiled code.
 */
function holdUntilShown(id: number, boundMs = HOLD_BOUND_MS): number {
  if (!shownFlag) return 0;
  const start = performance.now();
  const until = start + boundMs;
  for (;;) {
    const shown = Atomics.load(shownFlag, 0);
    const left = until - performance.now();
    if (shown >= id || cancelled(id) || left <= 0) return performance.now() - start;
    Atomics.wait(shownFlag, 0, shown, left);
  }
}

/** Each file's parse, until its text changes (the thread lives from one analysis to the next unless one is stopped). */
const parses = new ParseCache();

/** The last analysis made here, until the next job: summaries and traces are computed from its model. */
let last: { readonly id: number; readonly analysis: Analysis } | undefined;

function summary(r: SummaryRequest): void {
  // Another job came since (the extension asked about an analysis overtaken meanwhile): it builds its own.
  if (last?.id !== r.job) {
    parentPort?.postMessage({ id: r.job, request: r.request, summary: null });
    return;
  }
  try {
    const a = last.analysis;
    const data = compactSummary({ ...a, diagnostics: [...r.loaded, ...a.diagnostics] });
    parentPort?.postMessage({ id: r.job, request: r.request, summary: data });
  } catch (err) {
    parentPort?.postMessage({ id: r.job, request: r.request, summary: null, summaryError: errorText(err) });
  }
}

function trace(r: TraceViewRequest): void {
  if (last?.id !== r.job) {
    parentPort?.postMessage({ id: r.job, request: r.request, trace: null });
    return;
  }
  try {
    const data: TraceViewData = traceViewData(last.analysis, r.trace);
    parentPort?.postMessage({ id: r.job, request: r.request, trace: data });
  } catch (err) {
    parentPort?.postMessage({ id: r.job, request: r.request, trace: null, traceError: errorText(err) });
  }
}

parentPort?.on('message', (message: WorkerRequest) => {
  if (message.kind === 'summary') return summary(message);
  if (message.kind === 'trace') return trace(message);
  const job = message;
  let analysis;
  // The model of an earlier job is not kept past the start of the next (memory: one model per thread).
  last = undefined;
  try {
    const started = performance.now();
    parses.forgetOthers(job.files);
    const checkpoint = () => {
      if (cancelled(job.id)) throw new Cancelled();
    };
    // The model's problems and the rules that read no data plane go out first (the editor shows them while the
    // data plane's rules run: the nat.* traces are most of an analysis), the rest with the whole list.
    let early: ReadonlySet<Problem> = new Set();
    let held = 0;
    analysis = analyse(job.files, {
      severity: job.severity,
      policySettings: job.policySettings,
      parse: (file) => {
        checkpoint();
        return parses.parse(file);
      },
      checkpoint,
      onModelStage: (diagnostics) => {
        early = new Set(diagnostics);
        parentPort?.postMessage({ id: job.id, modelStage: diagnostics });
        held = holdUntilShown(job.id, job.holdBoundMs);
        // Changed again during the hold: stopped before the data plane is compiled for it.
        checkpoint();
      },
    });
    const dataPlaneStage: number[] = [];
    analysis.diagnostics.forEach((p, i) => {
      if (!early.has(p)) dataPlaneStage.push(i);
    });
    parentPort?.postMessage({
      id: job.id,
      diagnostics: analysis.diagnostics,
      dataPlaneStage,
      ms: performance.now() - started,
      held,
      parsed: parses.parsed,
      reused: parses.reused,
      partly: parses.partly,
    });
  } catch (err) {
    if (err instanceof Cancelled) parentPort?.postMessage({ id: job.id, cancelled: true });
    else parentPort?.postMessage({ id: job.id, error: errorText(err) });
    return;
  }
  last = { id: job.id, analysis };
  // Cancelled after its diagnostics were sent: the outline and lenses of a stale text are not worth computing.
  if (cancelled(job.id)) {
    parentPort?.postMessage({ id: job.id, features: null });
    return;
  }
  // Then the outline and lenses (a second message: the diagnostics do not wait for them).
  try {
    parentPort?.postMessage({ id: job.id, features: allFeatures(analysis) });
  } catch (err) {
    parentPort?.postMessage({ id: job.id, featuresError: errorText(err) });
  }
});
