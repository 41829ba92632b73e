/**
 * The analysis worker (dist/analysis-worker.js, a worker_threads thread of the extension host): builds the model
 * and runs every rule for the files it is sent, and answers with the diagnostics, then with the outline and CodeLens
 * of every file (features.ts). The extension host's own thread
 * never runs the rules, so typing, hovers and other extensions do not wait for a large cluster's analysis; an
 * analysis made stale by a newer edit is stopped by terminating the thread (see worker-client.ts).
 */
import { parentPort } from 'node:worker_threads';
import { analyse, type PolicyOptions, type SeverityOverrides, type SourceFile } from '../core';
import { allFeatures } from './features';
import { ParseCache } from './parse-cache';

/** What the extension sends: the files as read (open documents' unsaved text included) and the severity overrides. */
export interface AnalysisJob {
  readonly id: number;
  readonly files: readonly SourceFile[];
  readonly severity: SeverityOverrides;
  /** The netpath.networkPolicy.* settings (src/vscode/policy-options.ts). */
  readonly policySettings?: Partial<PolicyOptions>;
}

const errorText = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/** Each file's parse, until its text changes (the thread lives from one analysis to the next unless one is stopped). */
const parses = new ParseCache();

parentPort?.on('message', (job: AnalysisJob) => {
  let analysis;
  try {
    const started = performance.now();
    parses.forgetOthers(job.files);
    analysis = analyse(job.files, { severity: job.severity, policySettings: job.policySettings, parse: parses.parse });
    parentPort?.postMessage({
      id: job.id,
      diagnostics: analysis.diagnostics,
      ms: performance.now() - started,
      parsed: parses.parsed,
      reused: parses.reused,
    });
  } catch (err) {
    parentPort?.postMessage({ id: job.id, error: errorText(err) });
    return;
  }
  // Then the outline and lenses (a second message: the diagnostics do not wait for them).
  try {
    parentPort?.postMessage({ id: job.id, features: allFeatures(analysis) });
  } catch (err) {
    parentPort?.postMessage({ id: job.id, featuresError: errorText(err) });
  }
});
