/**
 * The kernel lab's report as the trace view's verify mode shows it (the shape of `runVerify`'s result in
 * src/lab/verify.ts, declared here so the webview needs nothing from the lab), and its validation: the report
 * arrives in messages and comes back from persisted state, so both sides check it before using it.
 */

export interface VerifyDeviceHop {
  readonly netns: string;
  readonly device: string;
  readonly dir: 'in' | 'out';
  /** A bridge hop the kernel may skip (or show in the other direction). */
  readonly optional?: boolean;
}

export interface VerifyPredictedOutcome {
  readonly probability: number;
  readonly disposition: string;
  readonly reason: string | null;
  readonly answeredBy: string | null;
  readonly sourceSeen: string | null;
  readonly nat: readonly string[];
  readonly devices: readonly VerifyDeviceHop[];
}

export interface VerifyObservedOutcome {
  readonly result: string;
  readonly code?: string;
  readonly answeredBy: string | null;
  readonly sourceSeen: string | null;
  readonly nat: readonly string[];
  readonly devices: readonly VerifyDeviceHop[] | null;
  readonly count: number;
}

export interface VerifyFlow {
  readonly from: string;
  readonly to: string;
  readonly proto: string;
  readonly kind?: string;
  readonly agree: boolean;
  readonly predicted: {
    readonly src: string;
    readonly dst: string;
    readonly dport: number | null;
    readonly outcomes: readonly VerifyPredictedOutcome[];
  } | null;
  readonly observed: {
    readonly tries: number;
    readonly sourceAddress: string | null;
    readonly outcomes: readonly VerifyObservedOutcome[];
  } | null;
  readonly differences: readonly string[];
  readonly ms: number;
  /** Whether the devices crossed were compared; `not observed`: the captures lost packets of this flow. */
  readonly devices?: 'compared' | 'not observed' | 'not applicable' | 'off';
  /** Why the devices were not observed. */
  readonly devicesNote?: readonly string[];
}

export interface VerifyReportData {
  readonly topology: string;
  readonly prefix: string;
  readonly agree: boolean;
  readonly flows: readonly VerifyFlow[];
  readonly timings: { readonly setupMs: number; readonly flowsMs: number; readonly teardownMs: number };
  /** Device comparison over the run. */
  readonly devices?: {
    readonly compared: number;
    readonly notObserved: number;
    readonly drops: number;
    readonly retried: number;
  };
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const strOrNull = (v: unknown) => v === null || isStr(v);
const isStrs = (v: unknown) => Array.isArray(v) && v.every(isStr);
const arrayOf = (v: unknown, item: (x: unknown) => boolean) => Array.isArray(v) && v.every(item);
const isHop = (v: unknown) =>
  isRec(v) &&
  isStr(v.netns) &&
  isStr(v.device) &&
  (v.dir === 'in' || v.dir === 'out') &&
  (v.optional === undefined || typeof v.optional === 'boolean');
const isPredicted = (v: unknown) =>
  isRec(v) &&
  isNum(v.probability) &&
  isStr(v.disposition) &&
  strOrNull(v.reason) &&
  strOrNull(v.answeredBy) &&
  strOrNull(v.sourceSeen) &&
  isStrs(v.nat) &&
  arrayOf(v.devices, isHop);
const isObserved = (v: unknown) =>
  isRec(v) &&
  isStr(v.result) &&
  (v.code === undefined || isStr(v.code)) &&
  strOrNull(v.answeredBy) &&
  strOrNull(v.sourceSeen) &&
  isStrs(v.nat) &&
  (v.devices === null || arrayOf(v.devices, isHop)) &&
  isNum(v.count);
const isFlow = (v: unknown) =>
  isRec(v) &&
  isStr(v.from) &&
  isStr(v.to) &&
  isStr(v.proto) &&
  (v.kind === undefined || isStr(v.kind)) &&
  typeof v.agree === 'boolean' &&
  isStrs(v.differences) &&
  isNum(v.ms) &&
  (v.predicted === null ||
    (isRec(v.predicted) &&
      isStr(v.predicted.src) &&
      isStr(v.predicted.dst) &&
      (v.predicted.dport === null || isNum(v.predicted.dport)) &&
      arrayOf(v.predicted.outcomes, isPredicted))) &&
  (v.observed === null ||
    (isRec(v.observed) &&
      isNum(v.observed.tries) &&
      strOrNull(v.observed.sourceAddress) &&
      arrayOf(v.observed.outcomes, isObserved)));

/** Whether `v` is a well-formed verify report (anything may arrive in a message or a persisted state). */
export function isVerifyReportData(v: unknown): v is VerifyReportData {
  return (
    isRec(v) &&
    isStr(v.topology) &&
    isStr(v.prefix) &&
    typeof v.agree === 'boolean' &&
    arrayOf(v.flows, isFlow) &&
    isRec(v.timings) &&
    isNum(v.timings.setupMs) &&
    isNum(v.timings.flowsMs) &&
    isNum(v.timings.teardownMs) &&
    (v.devices === undefined ||
      (isRec(v.devices) &&
        isNum(v.devices.compared) &&
        isNum(v.devices.notObserved) &&
        isNum(v.devices.drops) &&
        isNum(v.devices.retried)))
  );
}
