/** What kube-proxy in iptables mode writes on a node: chain names and the iptables-save text. */
export {
  generateKubeProxyRules,
  generateKubeProxyTables,
  newGenerateMemo,
  type GenerateMemo,
  type GeneratedRules,
  type GeneratedTable,
} from './generate';
export {
  chainHash,
  endpointString,
  servicePortName,
  kubeProxyChainRole,
  KUBE_PROXY_FIREWALL_CHAIN,
  type KubeProxyChainRole,
  type ChainPrefix,
} from './names';
export { sha256, base32, utf8 } from '../hash';
export type * from './types';
export {
  generateKubeProxyNftables,
  nftNodePortIPsSet,
  renderNftSet,
  nftEndpointChainBase,
  nftHashName,
  nftServiceChainBase,
  nftServiceChains,
  nftListedRule,
  nftPriorityText,
  nftTimeText,
  renderNftRuleset,
  layOutNftRuleset,
  renderNftTransaction,
  type KubeProxyNftInput,
  type NftBaseChain,
  type NftChainOut,
  type NftElementOut,
  type NftRuleOut,
  type NftSetOut,
  type NftTableOut,
} from './nftables';
export { usableEndpoints, type EndpointConditions } from './conditions';
export { vipLoadBalancerIPs } from './load-balancer';
