/**
 * The kernel lab: the compiled data plane built in Linux network namespaces, and `verify`, which sends flows
 * through it and compares what the kernel did with the tracer. Runs processes, so it lives outside the core;
 * it never imports `vscode` (the editor command calls {@link runVerify}).
 */
export {
  labUp,
  labDown,
  labUnavailable,
  readState,
  statePath,
  listNetns,
  orphanedLabs,
  STATE_DIR,
  type Lab,
  type LabState,
  type DownResult,
} from './build';
export { LabError } from './exec';
export { DEFAULT_PREFIX, checkPrefix } from './names';
export { loadLabTopology } from './load';
export {
  runVerify,
  verifyFlow,
  formatVerifyText,
  parseConntrack,
  VerifyUnavailable,
  VerifyInterrupted,
  type VerifyReport,
  type FlowReport,
  type VerifyOptions,
  type VerifyProgress,
  type PredictedOutcome,
  type ObservedOutcome,
} from './verify';
export { defaultFlows, parseFlowsFile, type FlowSpec } from './flows';
