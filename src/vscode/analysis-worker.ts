/**
 * The analysis worker (dist/analysis-worker.js, a worker_threads thread of the extension host): builds the model
 * and runs every rule for the files it is sent, and answers with the diagnostics. The extension host's own thread
 * never runs the rules, so typing, hovers and other extensions do not wait for a large cluster's analysis; an
 * analysis made stale by a newer edit is stopped by terminating the thread (see worker-client.ts).
 */
import { parentPort } from 'node:worker_threads';
import { analyse, type PolicyOptions, type SeverityOverrides, type SourceFile } from '../core';

/** What the extension sends: the files as read (open documents' unsaved text included) and the severity overrides. */
export interface AnalysisJob {
  readonly id: number;
  readonly files: readonly SourceFile[];
  readonly severity: SeverityOverrides;
  /** The netpath.networkPolicy.* settings (src/vscode/policy-options.ts). */
  readonly policySettings?: Partial<PolicyOptions>;
}

parentPort?.on('message', (job: AnalysisJob) => {
  try {
    const started = performance.now();
    const { diagnostics } = analyse(job.files, { severity: job.severity, policySettings: job.policySettings });
    parentPort?.postMessage({ id: job.id, diagnostics, ms: performance.now() - started });
  } catch (err) {
    parentPort?.postMessage({ id: job.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
