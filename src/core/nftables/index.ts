/** A general nftables parser and evaluator (knows nothing of Kubernetes). */
export {
  parseNftRuleset,
  NFT_SYNTAX,
  NFT_UNSUPPORTED,
  NFT_UNKNOWN_CHAIN,
  NFT_UNKNOWN_SET,
  NFT_NOT_EVALUATED,
} from './parse';
export {
  evaluateNftHook,
  nftSiblingAnswersAlike,
  nftHookChains,
  nftIngressChains,
  nftBridgeChains,
  NFT_DEPTH,
  NFT_LOOP,
  NFT_MASQUERADE_NO_ADDRESS,
  NFT_UNSUPPORTED_REACHED,
  type NftHookChain,
  type NftSiblingQuestion,
  type NftSiblingRecorder,
} from './evaluate';
export { lazyNftTable, LazyNftChains, type NftBlockAt } from './lazy';
export type * from './types';
