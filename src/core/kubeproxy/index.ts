/** What kube-proxy in iptables mode writes on a node: chain names and the iptables-save text. */
export { generateKubeProxyRules } from './generate';
export { chainHash, endpointString, servicePortName, type ChainPrefix } from './names';
export { sha256, base32, utf8 } from './sha256';
export type * from './types';
