/**
 * A general iptables model that knows nothing of Kubernetes: parse iptables-save text, evaluate a hook for a
 * packet. See `parse.ts` and `evaluate.ts` for what is supported and how.
 */
export {
  parseIptablesSave,
  parseIptablesLines,
  type LineOrigin,
  newParseMemo,
  type ParseMemo,
  parseAddressOrPrefix,
  parsePortRange,
  parseU32,
  SYNTAX,
  UNSUPPORTED,
} from './parse';
export {
  evaluateHook,
  HOOK_TABLES,
  UNSUPPORTED_REACHED,
  LOOP,
  DEPTH,
  STEPS,
  MASQUERADE_NO_ADDRESS,
  BAD_PACKET,
} from './evaluate';
export * from './types';
