/**
 * kube-proxy's chain names (pkg/proxy/iptables/proxier.go, portProtoHash and servicePortEndpointChainName):
 * prefix + the first 16 characters of base32(sha256(servicePortName + lowercase protocol [+ endpoint])), where
 * servicePortName is `namespace/name:portName` (`namespace/name` when the port has no name) and the endpoint is
 * `ip:port` (`[ip]:port` for IPv6).
 */
import { hostPort } from '../net/address';
import { sha256Base32 } from '../hash';

export type ChainPrefix = 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-' | 'KUBE-SEP-';

/** kube-proxy's filter chain holding the drop rules of every Service firewall (`loadBalancerSourceRanges`). */
export const KUBE_PROXY_FIREWALL_CHAIN = 'KUBE-PROXY-FIREWALL';

/** What a chain of kube-proxy's output is for, when a reader of a trace needs to know. */
export type KubeProxyChainRole = 'service-firewall';

/**
 * The role of a chain as kube-proxy's generator names it: a Service's KUBE-FW-* chain (which sources a
 * LoadBalancer accepts) and KUBE-PROXY-FIREWALL (which drops the rest) are the Service firewall.
 */
export function kubeProxyChainRole(chain: string): KubeProxyChainRole | undefined {
  return chain === KUBE_PROXY_FIREWALL_CHAIN || chain.startsWith('KUBE-FW-' satisfies ChainPrefix)
    ? 'service-firewall'
    : undefined;
}

/** `namespace/name:port`, or `namespace/name` for an unnamed port (proxy.ServicePortName.String()). */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** `ip:port`, with brackets for IPv6 (net.JoinHostPort). */
export function endpointString(ip: string, port: number): string {
  return hostPort(ip, port);
}

/** The chain name; cheap enough (a SHA-256 of one block) to compute again rather than look up by a composed key. */
export function chainHash(
  prefix: ChainPrefix,
  servicePortNameText: string,
  protocol: string,
  endpoint?: string,
): string {
  return sha256Base32(servicePortNameText + protocol.toLowerCase() + (endpoint ?? ''), 16, prefix);
}
