/**
 * What kube-proxy's generated rules mean beyond their verdicts, for the packet filter that evaluates them (the
 * data plane gives it to the node's filter; the walk reads only the resulting role). Per proxy mode: iptables
 * today; nftables mode adds its own (its firewall is the `firewall-check` chain and the per-Service
 * `firewall-allow-check` chains, not KUBE-FW-*).
 */
import { kubeProxyChainRole, type KubeProxyChainRole } from './names';

export interface KubeProxyKnowledge {
  chainRole(table: string, chain: string): KubeProxyChainRole | undefined;
}

/** kube-proxy in iptables mode: KUBE-FW-* and KUBE-PROXY-FIREWALL are the Service firewall. */
export const KUBE_PROXY_IPTABLES_KNOWLEDGE: KubeProxyKnowledge = {
  chainRole: (_table, chain) => kubeProxyChainRole(chain),
};
