import type { ServiceInput } from './types';

/**
 * The load-balancer IPs kube-proxy writes rules for: those whose ipMode is VIP or unset. kube-proxy's Service
 * tracker, shared by its iptables and nftables modes (pkg/proxy/serviceport.go with `proxyutil.IsVIPMode`), drops a
 * Proxy-mode ingress IP before either mode sees it: no short-circuit DNAT, no firewall, and it does not make the
 * port externally accessible on its own.
 */
export function vipLoadBalancerIPs(svc: Pick<ServiceInput, 'loadBalancerIPs' | 'loadBalancerIPModes'>): string[] {
  const modes = svc.loadBalancerIPModes;
  return (svc.loadBalancerIPs ?? []).filter((_, i) => (modes?.[i] ?? 'VIP') === 'VIP');
}
