/**
 * Runs analyses in a worker thread (analysis-worker.ts) so the extension host's thread stays free. One job at a
 * time per client; `cancel` sets a flag the thread shares, and the analysis ends itself at its next checkpoint, so
 * the thread keeps its parse cache and compiled code; a step that outlasts CANCEL_GRACE_MS gets the thread ended
 * (a synchronous step cannot be interrupted otherwise) and the next job starts a fresh one. When no worker can be started (the bundle is missing, e.g. when the extension runs
 * from sources), the analysis runs in the extension host as before.
 */
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import { analyse, type PolicyOptions, type Problem, type SeverityOverrides, type SourceFile } from '../core';
import type { AnalysisJob, SummaryRequest, TraceViewRequest } from './analysis-worker';
import type { FileFeatures } from './features';
import type { CompactTopology, TraceRequest, TraceViewData } from '../protocol/messages';

/** The outline and lenses of each file of an analysis, by path. */
export type Features = Readonly<Record<string, FileFeatures>>;

/** What an analysis found. */
export interface AnalysisFound {
  readonly diagnostics: readonly Problem[];
  /**
   * The diagnostics found after the model stage (the data plane's rules and problems), as indexes into `diagnostics`;
   * empty when the analysis came in one piece (in the extension host).
   */
  readonly dataPlaneStage: readonly number[];
}

export interface AnalysisRun {
  /** The diagnostics, or undefined when the run was cancelled. */
  readonly result: Promise<AnalysisFound | undefined>;
  /**
   * The model stage's diagnostics (the model's problems and the rules that read no data plane), sent by the worker
   * before the rest; undefined when none came (in the extension host, the run cancelled or failed first).
   */
  readonly modelStage: Promise<readonly Problem[] | undefined>;
  /**
   * The outline and lenses the worker computed after the diagnostics; undefined when it did not (no worker, an
   * error, the run cancelled or the thread stopped before it got there): then the model is built where asked.
   */
  readonly features: Promise<Features | undefined>;
  /**
   * The topology view's summary, computed by the worker from the model it built (`loaded`: the problems found
   * reading the files, listed first as in the extension's analysis); undefined when it cannot (no worker, the thread
   * stopped, a newer job started there since): then the caller builds it from the model.
   */
  summary(loaded: readonly Problem[]): Promise<CompactTopology | undefined>;
  /**
   * The trace view's data for `request`, traced by the worker on the model it built (and on what the analysis's
   * rules compiled for it); undefined when it cannot, as for `summary`: then the caller traces on its own model.
   */
  trace(request: TraceRequest): Promise<TraceViewData | undefined>;
  /**
   * Says the model stage has been published (or will not be): the worker holds the data plane stage until then, so
   * its rules do not take a core while the model stage's diagnostics travel to the screen. Called once it came.
   */
  modelStageShown(): void;
  cancel(): void;
}

interface Reply {
  readonly id: number;
  readonly diagnostics?: readonly Problem[];
  /** With `diagnostics`: which of them came after the model stage (indexes). */
  readonly dataPlaneStage?: readonly number[];
  /** Sent before `diagnostics`: the model stage's (see AnalysisRun.modelStage). */
  readonly modelStage?: readonly Problem[];
  readonly error?: string;
  /** Null when the job was cancelled after its diagnostics: no features were computed. */
  readonly features?: Features | null;
  readonly featuresError?: string;
  /** The job was cancelled and ended at a checkpoint (nothing else comes for it). */
  readonly cancelled?: boolean;
  /** The answer to a SummaryRequest or TraceViewRequest (`request`): null when the worker no longer has that job's model. */
  readonly request?: number;
  readonly summary?: CompactTopology | null;
  readonly summaryError?: string;
  readonly trace?: TraceViewData | null;
  readonly traceError?: string;
  /** How long the analysis itself took in the worker (ms), without sending the job and the answer. */
  readonly ms?: number;
  /** Of `ms`, how long its data plane stage was held for the model stage to be drawn (analysis-worker.ts). */
  readonly held?: number;
  /** Files it parsed, and files whose parse it kept from an earlier analysis (their text unchanged). */
  readonly parsed?: number;
  readonly reused?: number;
  /** Of the files parsed, those re-read only in the list item their edit is in (incremental-parse.ts). */
  readonly partly?: number;
}

/** The analysis in the extension host itself: without a worker, or when the worker failed (its error is logged). */
function inProcess(job: AnalysisJob): readonly Problem[] {
  return analyse(job.files, { severity: job.severity, policySettings: job.policySettings }).diagnostics;
}

/**
 * How long a cancelled job may take to reach its next checkpoint before its thread is ended. Starting a thread
 * again costs about this much on a large topology (loading the bundle, parsing every file again, cold code), so
 * waiting longer than that for one step would make the newer analysis later than a fresh thread would.
 */
export const CANCEL_GRACE_MS = 1500;

/** How long a job held for a test (see AnalysisWorker.holdNextJob) waits at most: below a test's own timeout. */
const HELD_JOB_BOUND_MS = 20_000;

export class AnalysisWorker {
  private worker: Worker | undefined;
  private next = 1;
  private pending:
    | {
        readonly id: number;
        readonly job: AnalysisJob;
        readonly done: (r: AnalysisFound | undefined) => void;
        readonly early: (r: readonly Problem[] | undefined) => void;
      }
    | undefined;
  /** Jobs whose features have not come yet (a job's diagnostics come first, and the next job may start meanwhile). */
  private readonly featuresDue = new Map<number, (f: Features | undefined) => void>();
  /** Summary and trace requests not answered yet, by request number (undefined: the thread ended first). */
  private readonly requestsDue = new Map<number, (r: Reply | undefined) => void>();
  private nextRequest = 1;
  /** Summaries the worker answered (the extension's tests read it: Show Topology builds no model on the host). */
  summaries = 0;
  /** Traces the worker answered (the extension's tests read it: a trace builds no model on the host). */
  traces = 0;
  /** Threads started (the extension's tests read it: a cancelled analysis keeps its thread). */
  started = 0;
  /** Cancelled jobs the thread ended itself at a checkpoint (the extension's tests read it). */
  stoppedInPlace = 0;
  /**
   * For the extension's tests: the next job, once its model stage is done, waits until it is cancelled (or
   * HELD_JOB_BOUND_MS pass) instead of until its model stage is drawn. A test of a change that comes while an analysis
   * runs then needs no analysis slower than an edit's trip through the workbench.
   */
  holdNextJob = false;
  /** The shared cancel flag of the current thread (see analysis-worker.ts). */
  private cancelFlag: Int32Array | undefined;
  /** The shared flag that releases the current thread's data plane stage (see AnalysisRun.modelStageShown). */
  private shownFlag: Int32Array | undefined;
  /** The cancelled job the thread is unwinding, and the timer that ends the thread if it takes too long. */
  private stopping: { readonly id: number; readonly timer: ReturnType<typeof setTimeout> } | undefined;
  /** How long the last finished analysis took where it ran (ms), and how many files it parsed and reused, for the log. */
  lastAnalysisMs = 0;
  /** Of lastAnalysisMs, how long the data plane stage was held while the model stage was drawn. */
  lastHeldMs = 0;
  lastParsed = 0;
  lastReused = 0;
  lastPartly = 0;

  constructor(
    private readonly script: string | undefined,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Whether analyses run in a worker thread (false: in the extension host). */
  get threaded(): boolean {
    return this.script !== undefined && fs.existsSync(this.script);
  }

  run(
    files: readonly SourceFile[],
    severity: SeverityOverrides,
    policySettings: Partial<PolicyOptions> = {},
  ): AnalysisRun {
    this.cancel();
    const script = this.threaded ? this.script : undefined;
    if (script === undefined) {
      // In-process: nothing to cancel once it runs (it runs to its end before anything else can happen).
      const t0 = performance.now();
      const diagnostics = inProcess({ kind: 'analyse', id: 0, files, severity, policySettings });
      this.lastAnalysisMs = performance.now() - t0;
      this.lastHeldMs = 0;
      this.lastParsed = files.length;
      this.lastReused = 0;
      this.lastPartly = 0;
      return {
        result: Promise.resolve({ diagnostics, dataPlaneStage: [] }),
        modelStage: Promise.resolve(undefined),
        features: Promise.resolve(undefined),
        summary: () => Promise.resolve(undefined),
        trace: () => Promise.resolve(undefined),
        modelStageShown: () => {},
        cancel: () => {},
      };
    }
    const id = this.next++;
    const held = this.holdNextJob;
    this.holdNextJob = false;
    const job: AnalysisJob = {
      kind: 'analyse',
      id,
      files,
      severity,
      policySettings,
      ...(held ? { holdBoundMs: HELD_JOB_BOUND_MS } : {}),
    };
    let early: (r: readonly Problem[] | undefined) => void = () => {};
    const modelStage = new Promise<readonly Problem[] | undefined>((resolve) => (early = resolve));
    const result = new Promise<AnalysisFound | undefined>((resolve) => {
      this.pending = {
        id,
        job,
        // Whatever ends the run ends the wait for its model stage too (a promise settles once: no-op after it came).
        done: (r) => {
          early(undefined);
          resolve(r);
        },
        early,
      };
    });
    const features = new Promise<Features | undefined>((resolve) => this.featuresDue.set(id, resolve));
    // Behind a cancelled job still unwinding, if any: the thread takes its messages in order.
    this.thread(script).postMessage(job);
    return {
      result,
      modelStage,
      features,
      summary: (loaded) => this.ask({ kind: 'summary', request: 0, job: id, loaded }, (r) => r.summary ?? undefined),
      trace: (request) => this.ask({ kind: 'trace', request: 0, job: id, trace: request }, (r) => r.trace ?? undefined),
      // A held job is released only by its cancel (see holdNextJob).
      modelStageShown: () => {
        if (!held) this.release(id);
      },
      cancel: () => this.pending?.id === id && this.cancel(),
    };
  }

  /**
   * Asks the thread about the model of a job (`question.job`; its `request` number is given here) and reads the
   * answer with `read`: undefined when the thread has ended, or moved on to another job.
   */
  private ask<T>(
    question: SummaryRequest | TraceViewRequest,
    read: (r: Reply) => T | undefined,
  ): Promise<T | undefined> {
    if (!this.worker) return Promise.resolve(undefined);
    const request = this.nextRequest++;
    const answer = new Promise<T | undefined>((resolve) =>
      this.requestsDue.set(request, (r) => resolve(r === undefined ? undefined : read(r))),
    );
    this.worker.postMessage({ ...question, request });
    return answer;
  }

  /** Lets the thread go on past job `id`'s model stage (and past every earlier job's). */
  private release(id: number): void {
    const flag = this.shownFlag;
    if (!flag || Atomics.load(flag, 0) >= id) return;
    Atomics.store(flag, 0, id);
    Atomics.notify(flag, 0);
  }

  /**
   * Stops the job under way, if any: its result is never delivered. The thread is told through the shared flag and
   * ends the job at its next checkpoint, keeping its parse cache and compiled code for the next job; when the job
   * has not ended within CANCEL_GRACE_MS (one long step), the thread is ended instead and the next job, if any, runs
   * on a new one.
   */
  cancel(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    p.done(undefined);
    this.featuresDue.get(p.id)?.(undefined);
    this.featuresDue.delete(p.id);
    const w = this.worker;
    if (!w || !this.cancelFlag) {
      this.endThread();
      return;
    }
    Atomics.store(this.cancelFlag, 0, p.id);
    // A job held after its model stage (see release) ends at once instead of at the end of its hold.
    this.release(p.id);
    clearTimeout(this.stopping?.timer);
    const timer = setTimeout(() => {
      if (this.worker !== w || this.stopping?.id !== p.id) return;
      this.endThread();
      const next = this.pending;
      if (next && this.script) this.thread(this.script).postMessage(next.job);
    }, CANCEL_GRACE_MS);
    this.stopping = { id: p.id, timer };
  }

  /** Ends the thread: no features or summaries will come for the jobs it had, but the one pending (sent again). */
  private endThread(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    clearTimeout(this.stopping?.timer);
    this.stopping = undefined;
    for (const [id, resolve] of this.featuresDue) {
      if (id === this.pending?.id) continue;
      resolve(undefined);
      this.featuresDue.delete(id);
    }
    for (const resolve of this.requestsDue.values()) resolve(undefined);
    this.requestsDue.clear();
  }

  dispose(): void {
    this.cancel();
    this.endThread();
  }

  private thread(script: string): Worker {
    if (this.worker) return this.worker;
    // A new flag per thread: a job id cancelled on an ended thread means nothing to the next.
    const shared = typeof SharedArrayBuffer === 'function';
    this.cancelFlag = shared ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    this.shownFlag = shared ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const w = new Worker(script, { workerData: { cancel: this.cancelFlag, shown: this.shownFlag } });
    this.started++;
    w.on('message', (r: Reply) => {
      if (r.id === this.stopping?.id && (r.cancelled || r.diagnostics !== undefined || r.error !== undefined)) {
        // The cancelled job has ended: the thread goes on with the next.
        if (r.cancelled) this.stoppedInPlace++;
        clearTimeout(this.stopping.timer);
        this.stopping = undefined;
      }
      if (r.cancelled) return;
      if (r.request !== undefined) {
        const error = r.summaryError ?? r.traceError;
        if (error !== undefined) this.onError(error);
        if (r.summary) this.summaries++;
        if (r.trace) this.traces++;
        this.requestsDue.get(r.request)?.(r);
        this.requestsDue.delete(r.request);
        return;
      }
      if (r.features !== undefined || r.featuresError !== undefined) {
        if (r.featuresError !== undefined) this.onError(r.featuresError);
        this.featuresDue.get(r.id)?.(r.features ?? undefined);
        this.featuresDue.delete(r.id);
        return;
      }
      if (r.error !== undefined) {
        // No features follow a failed analysis.
        this.featuresDue.get(r.id)?.(undefined);
        this.featuresDue.delete(r.id);
      }
      const p = this.pending;
      if (!p || p.id !== r.id) return;
      if (r.modelStage !== undefined) {
        p.early(r.modelStage);
        return;
      }
      this.pending = undefined;
      if (r.error !== undefined) {
        this.onError(r.error);
        p.done({ diagnostics: inProcess(p.job), dataPlaneStage: [] });
      } else {
        this.lastAnalysisMs = r.ms ?? 0;
        this.lastHeldMs = r.held ?? 0;
        this.lastParsed = r.parsed ?? 0;
        this.lastReused = r.reused ?? 0;
        this.lastPartly = r.partly ?? 0;
        p.done({ diagnostics: r.diagnostics ?? [], dataPlaneStage: r.dataPlaneStage ?? [] });
      }
    });
    w.on('error', (err) => {
      this.onError(err.stack ?? err.message);
      if (this.worker !== w) return;
      const p = this.pending;
      this.pending = undefined;
      this.endThread();
      if (p) {
        this.featuresDue.get(p.id)?.(undefined);
        this.featuresDue.delete(p.id);
        p.done({ diagnostics: inProcess(p.job), dataPlaneStage: [] });
      }
    });
    w.unref();
    this.worker = w;
    return w;
  }
}
