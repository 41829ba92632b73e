/**
 * Runs analyses in a worker thread (analysis-worker.ts) so the extension host's thread stays free. One job at a
 * time per client; `cancel` terminates the thread (a synchronous analysis cannot be interrupted otherwise) and the
 * next job starts a fresh one. When no worker can be started (the bundle is missing, e.g. when the extension runs
 * from sources), the analysis runs in the extension host as before.
 */
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import { analyse, type PolicyOptions, type Problem, type SeverityOverrides, type SourceFile } from '../core';
import type { AnalysisJob } from './analysis-worker';
import type { FileFeatures } from './features';

/** The outline and lenses of each file of an analysis, by path. */
export type Features = Readonly<Record<string, FileFeatures>>;

export interface AnalysisRun {
  /** The diagnostics, or undefined when the run was cancelled. */
  readonly result: Promise<readonly Problem[] | undefined>;
  /**
   * The outline and lenses the worker computed after the diagnostics; undefined when it did not (no worker, an
   * error, the run cancelled or the thread stopped before it got there): then the model is built where asked.
   */
  readonly features: Promise<Features | undefined>;
  cancel(): void;
}

interface Reply {
  readonly id: number;
  readonly diagnostics?: readonly Problem[];
  readonly error?: string;
  readonly features?: Features;
  readonly featuresError?: string;
  /** How long the analysis itself took in the worker (ms), without sending the job and the answer. */
  readonly ms?: number;
  /** Files it parsed, and files whose parse it kept from an earlier analysis (their text unchanged). */
  readonly parsed?: number;
  readonly reused?: number;
}

/** The analysis in the extension host itself: without a worker, or when the worker failed (its error is logged). */
function inProcess(job: AnalysisJob): readonly Problem[] {
  return analyse(job.files, { severity: job.severity, policySettings: job.policySettings }).diagnostics;
}

export class AnalysisWorker {
  private worker: Worker | undefined;
  private next = 1;
  private pending:
    | {
        readonly id: number;
        readonly job: AnalysisJob;
        readonly done: (r: readonly Problem[] | undefined) => void;
      }
    | undefined;
  /** Jobs whose features have not come yet (a job's diagnostics come first, and the next job may start meanwhile). */
  private readonly featuresDue = new Map<number, (f: Features | undefined) => void>();
  /** Threads started (the extension's tests read it: a cancelled analysis costs a new thread). */
  started = 0;
  /** How long the last finished analysis took where it ran (ms), and how many files it parsed and reused, for the log. */
  lastAnalysisMs = 0;
  lastParsed = 0;
  lastReused = 0;

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
      const diagnostics = inProcess({ id: 0, files, severity, policySettings });
      this.lastAnalysisMs = performance.now() - t0;
      this.lastParsed = files.length;
      this.lastReused = 0;
      return { result: Promise.resolve(diagnostics), features: Promise.resolve(undefined), cancel: () => {} };
    }
    const id = this.next++;
    const job: AnalysisJob = { id, files, severity, policySettings };
    const result = new Promise<readonly Problem[] | undefined>((resolve) => {
      this.pending = { id, job, done: resolve };
    });
    const features = new Promise<Features | undefined>((resolve) => this.featuresDue.set(id, resolve));
    this.thread(script).postMessage(job);
    return { result, features, cancel: () => this.pending?.id === id && this.cancel() };
  }

  /** Stops the job under way, if any: its result is never delivered, and the thread is ended. */
  cancel(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    p.done(undefined);
    this.forgetFeatures();
  }

  /** The thread ended: no features will come for the jobs it had. */
  private forgetFeatures(): void {
    for (const resolve of this.featuresDue.values()) resolve(undefined);
    this.featuresDue.clear();
  }

  dispose(): void {
    this.cancel();
    void this.worker?.terminate();
    this.worker = undefined;
    this.forgetFeatures();
  }

  private thread(script: string): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(script);
    this.started++;
    w.on('message', (r: Reply) => {
      if (r.features !== undefined || r.featuresError !== undefined) {
        if (r.featuresError !== undefined) this.onError(r.featuresError);
        this.featuresDue.get(r.id)?.(r.features);
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
      this.pending = undefined;
      if (r.error !== undefined) {
        this.onError(r.error);
        p.done(inProcess(p.job));
      } else {
        this.lastAnalysisMs = r.ms ?? 0;
        this.lastParsed = r.parsed ?? 0;
        this.lastReused = r.reused ?? 0;
        p.done(r.diagnostics ?? []);
      }
    });
    w.on('error', (err) => {
      this.onError(err.stack ?? err.message);
      if (this.worker === w) this.worker = undefined;
      const p = this.pending;
      this.pending = undefined;
      this.forgetFeatures();
      if (p) p.done(inProcess(p.job));
    });
    w.unref();
    this.worker = w;
    return w;
  }
}
