/** The packet tracer: endpoints in, a JSON-serialisable trace out. */
export * from './types';
export {
  traceFlow,
  TRACE_BAD_INPUT,
  TRACE_TOO_MANY_BRANCHES,
  type TraceOutcome,
  type TraceInputError,
  type TraceInputField,
} from './trace';
export { parseEndpoint, closeNames, type Endpoint } from './endpoints';
export { formatTraceText, type TraceTextOptions } from './text';
export { isBlocking, isDecisive, matteredStep, stepsOf, hasAffinity, stepText, summarizeStep } from './steps';
