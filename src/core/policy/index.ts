/** NetworkPolicy: the evaluator, the reachability matrix and its formats. */
export {
  PolicyIndex,
  evaluatePolicies,
  declaredPolicyOptions,
  policyChoices,
  describePolicyChoice,
  type PolicyChoices,
  type PolicyChoiceSource,
  type PolicyEndpoint,
} from './evaluate';
export {
  Reachability,
  reachability,
  reachIP,
  declaredPorts,
  podFamilies,
  type ReachCell,
  type ReachGroup,
  type ReachMatrix,
  type ReachPort,
  type ReachQuery,
  type PodFilter,
} from './reach';
export { parsePodFilter, parseLabelSelector, type PodFilterResult } from './filter';
export {
  formatReachText,
  formatReachMarkdown,
  formatReachCsv,
  blockedReason,
  blockedSummary,
  groupName,
  printable,
} from './format';
export { selectorMatches, formatSelector } from './selector';
export * from './types';
