/** The CNI plug-ins NetPath models, by the name a topology gives them (`cni.plugin`, a node's `cni`). */
export const CNI_PLUGIN_NAMES = ['bridge', 'flannel', 'ptp', 'kindnet', 'calico'] as const;
export type CniPluginName = (typeof CNI_PLUGIN_NAMES)[number];
/** The plug-in of a node that does not name one. */
export const DEFAULT_CNI_PLUGIN: CniPluginName = 'bridge';
/**
 * The CNI network name each plug-in's own installer writes into its conflist (`name`), which a topology that does
 * not say (no conflist read, no `cni.network`) gets: Calico's manifests and operator write `k8s-pod-network`,
 * kindnetd `kindnet`, kube-flannel.yml `cbr0`. The plug-ins hash it into their chain names (CNI-<hash>, CNI-DN-<hash>).
 */
export const DEFAULT_CNI_NETWORK: Readonly<Record<CniPluginName, string>> = {
  bridge: 'cbr0',
  flannel: 'cbr0',
  ptp: 'cbr0',
  kindnet: 'kindnet',
  calico: 'k8s-pod-network',
};
/** flannel's VXLAN defaults (pkg/backend/vxlan: VNI 1; Port 0 leaves the kernel's 8472). */
export const FLANNEL_DEFAULT_VNI = 1;
export const FLANNEL_DEFAULT_PORT = 8472;
/** The bytes VXLAN adds to each packet over IPv4: outer IP 20, UDP 8, VXLAN 8, inner Ethernet 14 (flannel's encapOverhead). */
export const VXLAN_OVERHEAD = 50;
/** Over IPv6 the outer header is 40 bytes instead of 20: 70 (the kernel's VXLAN6_HEADROOM). */
export const VXLAN6_OVERHEAD = 70;
/** The MTU of an underlay network that does not say. */
export const DEFAULT_MTU = 1500;
/** The bytes IPIP adds to each packet: an outer IPv4 header (IP protocol 4). */
export const IPIP_OVERHEAD = 20;
