/**
 * Networking concepts explained for a person learning them, each with the documentation page it comes
 * from. Hover shows the concept of the key under the cursor, followed by facts computed for its value.
 */
import { lookupTable } from '../lookup';

export interface Concept {
  readonly title: string;
  readonly text: string;
  readonly link: { readonly label: string; readonly url: string };
}

const K8S_NET = 'https://kubernetes.io/docs/concepts/services-networking/';

export const CONCEPTS = {
  networkPolicy: {
    title: 'NetworkPolicy',
    text: "A NetworkPolicy selects pods of its namespace (podSelector) and, for each direction in its policyTypes, makes them isolated: only connections some rule of some selecting policy allows get through. Rules name peers (pods by podSelector, namespaces by namespaceSelector, both in one peer = AND, addresses by ipBlock) and ports. Egress is judged at the source pod, ingress at the destination, after kube-proxy's DNAT; replies of an allowed connection are allowed.",
    link: { label: 'Kubernetes: Network Policies', url: `${K8S_NET}network-policies/` },
  },
  flannel: {
    title: 'flannel',
    text: "flannel gives each node a subnet of its `Network` (the node's pod CIDR) and wires pods with the CNI bridge plug-in: each pod's veth is a port of the `cni0` bridge, which holds the pods' gateway (the .1 of the node's subnet); host-local IPAM hands out the addresses and the pods get the MTU flannel computed. Between nodes the backend decides: `vxlan` (the default) encapsulates pod packets in UDP through the `flannel.<VNI>` device, `host-gw` routes each other node's subnet via that node's address (all nodes on one L2 network). flanneld itself writes two chains: with `--ip-masq` (kube-flannel's default) FLANNEL-POSTRTG in nat POSTROUTING leaves pod-to-pod traffic inside the `Network` alone and masquerades pod traffic leaving it (the bridge plug-in runs with `ipMasq: false`), and FLANNEL-FWD in filter FORWARD accepts everything to and from the `Network`.",
    link: {
      label: 'flannel source: pkg (backend/vxlan, backend/hostgw, trafficmngr/iptables)',
      url: 'https://github.com/flannel-io/flannel/tree/master/pkg',
    },
  },
  vxlan: {
    title: 'VXLAN (flannel.1)',
    text: "flannel's VXLAN backend gives each node a VTEP `flannel.<VNI>` (`ip link add flannel.1 type vxlan id 1 dstport 8472 local <node IP> dev <underlay> nolearning`, MTU = the underlay's minus 50) holding the .0 address of its pod subnet as a /32. For every other node it adds a route `<its subnet> via <its .0> dev flannel.1 onlink`, a permanent neighbour entry `<its .0> lladdr <its VTEP MAC>` and an FDB entry `<its VTEP MAC> dst <its node IP>`. A pod packet routed to flannel.1 is wrapped in Ethernet, VXLAN (VNI), UDP (port 8472, the Linux default; IANA's is 4789) and IP between the node addresses (50 bytes), goes through the node's own OUTPUT and POSTROUTING, crosses the underlay, and is unwrapped by the remote node's flannel.1 after its INPUT chain: a firewall there must let the UDP port through. With IPv6 on (net-conf.json `EnableIPv6`, `IPv6Network`) flannel adds a second VTEP, `flannel-v6.<VNI>`, with the same VNI and port over the IPv6 address of the same interface (flanneld exits if it has none), holding the network address of the node's IPv6 subnet as a /128, with the same route, neighbour and FDB entries per other node in IPv6; the kernel gives it the underlay's MTU minus 70 (the outer IPv6 header is 20 bytes longer).",
    link: {
      label: 'flannel source: pkg/backend/vxlan',
      url: 'https://github.com/flannel-io/flannel/tree/master/pkg/backend/vxlan',
    },
  },
  mtu: {
    title: 'MTU and encapsulation',
    text: "The MTU is the largest IP packet a link carries. An overlay wraps each pod packet in outer headers (VXLAN: 50 bytes; IP-in-IP: 20), so pods must use the underlay's MTU minus that overhead. With a larger pod MTU, full-size packets leave the pod with Don't Fragment set and the node cannot forward them into the tunnel: it drops them and answers ICMP fragmentation needed. Small requests work, large responses hang.",
    link: {
      label: 'flannel: Troubleshooting',
      url: 'https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md',
    },
  },
  cidr: {
    title: 'CIDR (Classless Inter-Domain Routing)',
    text: 'A CIDR prefix like `10.244.0.0/16` names a block of addresses: the first 16 bits are fixed (the network), the remaining bits number the hosts, so a /16 holds 65,536 addresses and a /24 holds 256. Ranges with different jobs (pods, Services, the node network) must not share addresses.',
    link: { label: 'RFC 4632: Classless Inter-domain Routing', url: 'https://www.rfc-editor.org/rfc/rfc4632' },
  },
  podCIDR: {
    title: 'Pod CIDR',
    text: 'Every pod gets its own IP from the cluster CIDR. Each node owns a slice of it (its pod CIDR) and hands addresses from that slice to the pods it runs, so other nodes know where to route a pod IP: to the node whose slice contains it.',
    link: {
      label: 'Kubernetes: Cluster Networking',
      url: 'https://kubernetes.io/docs/concepts/cluster-administration/networking/',
    },
  },
  service: {
    title: 'Service',
    text: "A Service is a stable virtual IP (the cluster IP) in front of pods whose IPs come and go. No interface owns that IP: kube-proxy writes rules on every node (iptables, or nftables in its nftables mode) that DNAT packets sent to it to one of the Service's endpoints, chosen at random with equal probability.",
    link: { label: 'Kubernetes: Service', url: `${K8S_NET}service/` },
  },
  serviceCIDR: {
    title: 'Service range',
    text: 'The block that cluster IPs are allocated from (kube-apiserver --service-cluster-ip-range). Addresses in it exist only as kube-proxy rules, so the range must not overlap pod, node or other networks: packets for an overlapping real address would be captured by those rules.',
    link: { label: 'Kubernetes: Service ClusterIP allocation', url: `${K8S_NET}cluster-ip-allocation/` },
  },
  nodePort: {
    title: 'NodePort',
    text: "A NodePort Service also listens on one port of every node (30000-32767 by default). Traffic to any node's address on that port is DNATed by kube-proxy to an endpoint, which may be on another node.",
    link: { label: 'Kubernetes: type NodePort', url: `${K8S_NET}service/#type-nodeport` },
  },
  loadBalancer: {
    title: 'LoadBalancer',
    text: "A LoadBalancer Service gets an external address from a cloud or bare-metal load balancer. Packets to that address reach a node, where kube-proxy treats them like NodePort traffic; loadBalancerSourceRanges limits which clients may use it. The ingress entry's ipMode says how: VIP (the default) delivers packets still addressed to the load-balancer IP, which kube-proxy catches on every node, even from a pod; Proxy means the load balancer ends the connection and opens its own, so kube-proxy writes no rule for the IP and a pod's packet to it goes out to the load balancer.",
    link: { label: 'Kubernetes: type LoadBalancer', url: `${K8S_NET}service/#loadbalancer` },
  },
  externalTrafficPolicy: {
    title: 'externalTrafficPolicy',
    text: "`Cluster` (default): a node may forward external traffic to an endpoint on any node, and masquerades it, so the pod sees the node's address. `Local`: only endpoints on the receiving node are used and the client address is kept; a node with no local endpoint drops the traffic.",
    link: { label: 'Kubernetes: traffic policies', url: `${K8S_NET}service/#traffic-policies` },
  },
  nat: {
    title: 'NAT (network address translation)',
    text: "NAT rewrites a packet's addresses on the way: DNAT changes the destination (how a Service IP becomes a pod IP), SNAT or MASQUERADE changes the source. The Kubernetes network model requires pods to reach all pods, and nodes to reach their pods, without NAT, so every pod sees its peer's real address.",
    link: { label: 'Kubernetes: the network model', url: `${K8S_NET}#the-kubernetes-network-model` },
  },
  masquerade: {
    title: 'Masquerade',
    text: 'MASQUERADE is SNAT to the address of the interface the packet leaves by, chosen per packet. Pods use it to reach the outside world with private addresses (replies come back to the node, which reverses the rewrite), but it must never apply between pods.',
    link: {
      label: 'iptables-extensions(8): MASQUERADE',
      url: 'https://ipset.netfilter.org/iptables-extensions.man.html#lbDF',
    },
  },
  netns: {
    title: 'Network namespace',
    text: 'A network namespace is a separate copy of the network stack: its own interfaces, addresses, routes and iptables rules. Each pod has one; the node itself lives in the root namespace. On a node, `ip netns` and `nsenter` let you look inside.',
    link: { label: 'network_namespaces(7)', url: 'https://man7.org/linux/man-pages/man7/network_namespaces.7.html' },
  },
  eth0: {
    title: 'eth0',
    text: "The usual name of a machine's first Ethernet interface. On a node, eth0 connects to the physical network; inside a pod, eth0 is the pod's end of a veth pair whose other end sits on the node's bridge.",
    link: { label: 'ip-link(8)', url: 'https://man7.org/linux/man-pages/man8/ip-link.8.html' },
  },
  veth: {
    title: 'veth pair',
    text: "A virtual Ethernet cable with two ends: a packet sent into one end appears at once on the other. The CNI plugin puts one end into the pod's namespace as eth0 and keeps the other (vethXXXXXXXX) in the node's root namespace, plugged into the bridge.",
    link: { label: 'veth(4)', url: 'https://man7.org/linux/man-pages/man4/veth.4.html' },
  },
  bridge: {
    title: 'Bridge (and bridging versus routing)',
    text: "A Linux bridge is a software switch: it forwards Ethernet frames between its ports by MAC address, inside one subnet (bridging). Pods on one node talk through it directly. Traffic to another subnet goes up to the node's IP layer, which picks a next hop from the routing table (routing) — the bridge address is the pods' default gateway.",
    link: { label: 'Kubernetes: network plugins (bridge)', url: 'https://www.cni.dev/plugins/current/main/bridge/' },
  },
  hairpin: {
    title: 'Hairpin mode',
    text: "A bridge normally never sends a frame back out of the port it came in on. When a pod calls a Service and kube-proxy picks that same pod as the backend, the packet must go back through the pod's own port: hairpin mode allows exactly that. Without it the packet dies at the bridge.",
    link: {
      label: 'CNI bridge plugin: hairpinMode',
      url: 'https://www.cni.dev/plugins/current/main/bridge/#network-configuration-reference',
    },
  },
  cniPtp: {
    title: 'CNI ptp plug-in: a point-to-point veth per pod, no bridge',
    text: "Each pod gets a veth pair and nothing else: no bridge. The pod's eth0 holds its address with the pod subnet's length, but ptp deletes the subnet route the kernel made and adds `<gateway> dev eth0 scope link` and `<subnet> via <gateway>`, with the IPAM routes (`default via <gateway>`): every packet, even to a pod of the same node, goes to the node first. The gateway (host-local: the subnet's first address, e.g. 10.244.1.1) sits as a /32 on every pod's host veth, so the node answers ARP for it on each; the node reaches each pod by `<pod IP> dev veth… scope host`. Between nodes something else routes the pod CIDRs (kindnetd, or host-gw routes). With ipMasq: true it masquerades per pod like the bridge plug-in.",
    link: {
      label: 'containernetworking/plugins: plugins/main/ptp/ptp.go',
      url: 'https://github.com/containernetworking/plugins/blob/main/plugins/main/ptp/ptp.go',
    },
  },
  kindnet: {
    title: "kindnet: kind's CNI (the ptp plug-in plus kindnetd)",
    text: "kindnetd writes a CNI config that wires each pod with the ptp plug-in (a veth per pod, no bridge, the pod's gateway on every host veth as a /32, a `scope host` route per pod) and host-local IPAM over the node's podCIDR with a default route. It adds a route to every other node's podCIDR via that node's InternalIP, and masquerades with its KIND-MASQ-AGENT chain: POSTROUTING sends every packet not addressed to the node itself there, pod ranges RETURN, everything else (other nodes' addresses included) is MASQUERADEd.",
    link: {
      label: 'kubernetes-sigs/kind: images/kindnetd',
      url: 'https://github.com/kubernetes-sigs/kind/tree/main/images/kindnetd/cmd/kindnetd',
    },
  },
  calico: {
    title: 'Calico: cali veths, proxy ARP, IPAM blocks',
    text: "Calico's CNI plug-in gives each pod a veth whose host end (`cali` + 11 hex characters of sha1(\"<namespace>.<pod>\")) has no address and no bridge but proxy ARP on. The pod holds its address as a /32 with `169.254.1.1 dev eth0 scope link` and `default via 169.254.1.1`: nobody holds 169.254.1.1, the cali veth answers ARP for it because the node routes it out of another device (so a Calico node needs a default route). The node routes each local pod by `<pod IP> dev cali… scope link`. IPAM hands each node blocks (/26 by default) from the IP pools: BIRD puts a blackhole route on the node for its own blocks and, over BGP, routes on the other nodes to them via the node's address. natOutgoing masquerades pod traffic leaving every pool. A pool's `vxlanMode` or `ipipMode` encapsulates the traffic to remote blocks instead (vxlan.calico, tunl0).",
    link: {
      label: 'projectcalico/calico: cni-plugin/pkg/dataplane/linux/dataplane_linux.go',
      url: 'https://github.com/projectcalico/calico/blob/master/cni-plugin/pkg/dataplane/linux/dataplane_linux.go',
    },
  },
  calicoVxlan: {
    title: 'Calico VXLAN (vxlan.calico)',
    text: "An IP pool with `vxlanMode: Always` (or `CrossSubnet`: only towards nodes outside the node's own subnet) makes felix give every node the VTEP `vxlan.calico`: VNI 4096, UDP port 4789 (IANA's), `local <node IP>`, no learning, MTU the underlay's minus 50, holding the node's VXLAN tunnel address (Calico IPAM takes it from the node's block) as a /32. For every other node felix adds a permanent neighbour entry `<its tunnel address> lladdr <its VTEP MAC>`, an FDB entry `<its VTEP MAC> dst <its node IP>`, and per remote block `<block> via <its tunnel address> dev vxlan.calico onlink`. The pods are wired as in routed Calico (cali veths, proxy ARP for 169.254.1.1); their MTU drops by 50 too. A node's own traffic to a remote pod leaves with the tunnel address as its source. An IPv6 pool in VXLAN mode adds felix's second VTEP, `vxlan-v6.calico`, on the same VNI and port over the node's IPv6 address, with an IPv6 tunnel address from the node's IPv6 block as a /128, the same entries and routes per remote IPv6 block, and MTU the underlay's minus 70; the pods then take the smaller MTU.",
    link: {
      label: 'Calico: Overlay networking (VXLAN and IP in IP)',
      url: 'https://docs.tigera.io/calico/latest/networking/configuring/vxlan-ipip',
    },
  },
  calicoIpip: {
    title: 'Calico IP in IP (tunl0)',
    text: "An IP pool with `ipipMode: Always` (or `CrossSubnet`: only towards nodes outside the node's own subnet) makes calico-node bring up `tunl0`, the kernel's fallback IPIP device (no local or remote address), with the node's IPIP tunnel address from its block as a /32 and MTU the underlay's minus 20. BIRD installs `<block> via <node IP> dev tunl0 onlink` for each remote block: the packet gets an outer IPv4 header (protocol 4) to that node's address, which its tunl0 removes. IP protocol 4 is neither TCP nor UDP: firewalls, cloud security groups and some clouds drop it (VXLAN is the usual way out).",
    link: {
      label: 'Calico: Overlay networking (VXLAN and IP in IP)',
      url: 'https://docs.tigera.io/calico/latest/networking/configuring/vxlan-ipip',
    },
  },
  route: {
    title: 'Route',
    text: "A routing table entry: packets to the destination prefix go to the next hop (`via`) out of an interface (`dev`). The most specific matching prefix wins (longest prefix match). With host-gw routing each node routes every other node's pod CIDR via that node's address.",
    link: { label: 'ip-route(8)', url: 'https://man7.org/linux/man-pages/man8/ip-route.8.html' },
  },
  dualStack: {
    title: 'Dual-stack',
    text: "A dual-stack cluster gives pods and Services one IPv4 and one IPv6 address. Every range list holds one range per family; kube-proxy runs one set of rules per family, and each sees only that family's addresses.",
    link: { label: 'Kubernetes: IPv4/IPv6 dual-stack', url: `${K8S_NET}dual-stack/` },
  },
  kubeProxy: {
    title: 'kube-proxy',
    text: 'The node agent that implements Services. In iptables mode it writes chains such as KUBE-SERVICES, KUBE-SVC-… (one per Service port: pick an endpoint) and KUBE-SEP-… (one per endpoint: DNAT to it), and marks packets that must be masqueraded.',
    link: {
      label: 'Kubernetes: Virtual IPs and Service Proxies',
      url: 'https://kubernetes.io/docs/reference/networking/virtual-ips/',
    },
  },
  communication: {
    title: 'The four kinds of communication',
    text: 'Kubernetes networking solves four problems: container to container (inside one pod, over localhost), pod to pod (each pod has its own IP, reachable without NAT), pod to Service (a virtual IP load-balanced by kube-proxy), and external to Service (NodePort, LoadBalancer, external IPs).',
    link: {
      label: 'Kubernetes: Cluster Networking',
      url: 'https://kubernetes.io/docs/concepts/cluster-administration/networking/',
    },
  },
  pod: {
    title: 'Pod networking',
    text: "All containers of a pod share one network namespace: one IP, one port space, and they reach each other on localhost. The pod reaches the rest of the cluster through eth0, a veth pair to its node's bridge.",
    link: {
      label: 'Kubernetes: Pod networking',
      url: 'https://kubernetes.io/docs/concepts/workloads/pods/#pod-networking',
    },
  },
  hostNetwork: {
    title: 'hostNetwork',
    text: "A hostNetwork pod does not get a namespace of its own: it shares the node's root namespace, its IP is the node's IP, and its ports are the node's ports.",
    link: {
      label: 'Kubernetes: hostNetwork',
      url: 'https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline',
    },
  },
  network: {
    title: 'Underlay network',
    text: 'The physical (or virtual-machine) network the nodes are attached to: one L2 segment with a subnet. Pod and Service addresses travel over it inside packets the nodes route; it must not share addresses with them.',
    link: {
      label: 'Kubernetes: Cluster Networking',
      url: 'https://kubernetes.io/docs/concepts/cluster-administration/networking/',
    },
  },
  ipMasq: {
    title: 'CNI ipMasq',
    text: "With ipMasq the bridge plugin installs a rule that masquerades every packet from the pod that leaves the pod subnet. On a multi-node cluster that includes packets to pods on other nodes: they arrive with the node's address, which breaks the Kubernetes rule that pods talk without NAT.",
    link: {
      label: 'CNI bridge plugin: ipMasq',
      url: 'https://www.cni.dev/plugins/current/main/bridge/#network-configuration-reference',
    },
  },
} as const satisfies Record<string, Concept>;

export type ConceptId = keyof typeof CONCEPTS;

/** Which concept a key explains, by the key's name (last path segment). */
export const CONCEPT_BY_KEY: Readonly<Record<string, ConceptId>> = lookupTable({
  policyTypes: 'networkPolicy',
  podSelector: 'networkPolicy',
  namespaceSelector: 'networkPolicy',
  ipBlock: 'networkPolicy',
  podCIDRs: 'podCIDR',
  podCIDR: 'podCIDR',
  podSubnet: 'podCIDR',
  clusterCIDR: 'podCIDR',
  serviceCIDRs: 'serviceCIDR',
  serviceSubnet: 'serviceCIDR',
  cidr: 'cidr',
  nonMasqueradeCIDRs: 'masquerade',
  masquerade: 'masquerade',
  masqueradeAll: 'masquerade',
  masqLinkLocal: 'masquerade',
  services: 'service',
  clusterIP: 'service',
  clusterIPs: 'service',
  selector: 'service',
  nodePort: 'nodePort',
  nodePortRange: 'nodePort',
  nodePortAddresses: 'nodePort',
  loadBalancerIP: 'loadBalancer',
  loadBalancerIPs: 'loadBalancer',
  loadBalancerIPMode: 'loadBalancer',
  ipMode: 'loadBalancer',
  loadBalancerSourceRanges: 'loadBalancer',
  externalTrafficPolicy: 'externalTrafficPolicy',
  internalTrafficPolicy: 'externalTrafficPolicy',
  hostVeth: 'veth',
  bridge: 'bridge',
  hairpinMode: 'hairpin',
  routes: 'route',
  route: 'route',
  to: 'route',
  via: 'route',
  dev: 'route',
  routing: 'route',
  kubeProxy: 'kubeProxy',
  localDetector: 'kubeProxy',
  masqueradeBit: 'kubeProxy',
  mode: 'kubeProxy',
  pods: 'pod',
  containers: 'pod',
  ports: 'pod',
  containerPort: 'pod',
  ip: 'pod',
  ips: 'pod',
  hostNetwork: 'hostNetwork',
  networks: 'network',
  interfaces: 'eth0',
  network: 'network',
  ipMasq: 'ipMasq',
  cni: 'bridge',
  iptables: 'nat',
  externals: 'communication',
  nodes: 'netns',
  // Kubernetes object fields.
  podIP: 'pod',
  podIPs: 'pod',
  nodeName: 'netns',
  hostIP: 'network',
  targetPort: 'service',
  port: 'service',
  externalIPs: 'loadBalancer',
  sessionAffinity: 'service',
  detectLocalMode: 'kubeProxy',
  dualStack: 'dualStack',
  flannel: 'flannel',
  vni: 'vxlan',
  vxlanMode: 'calicoVxlan',
  ipipMode: 'calicoIpip',
  mtu: 'mtu',
  ipFamilies: 'dualStack',
  ipFamilyPolicy: 'dualStack',
});

/** Values that name a concept wherever they appear (an interface name, a Service type). */
export function conceptOfValue(value: string): ConceptId | undefined {
  if (/^eth\d+$|^ens\d+$/.test(value)) return 'eth0';
  if (/^veth[0-9a-z-]*$/.test(value)) return 'veth';
  if (/^cali[0-9a-f]{11}$/.test(value)) return 'calico';
  if (value === 'cni0' || value === 'cbr0' || value === 'docker0') return 'bridge';
  if (/^flannel\.\d+$/.test(value) || value === 'vxlan') return 'vxlan';
  if (value === 'vxlan.calico') return 'calicoVxlan';
  if (value === 'tunl0') return 'calicoIpip';
  if (value === 'flannel') return 'flannel';
  if (value === 'NodePort') return 'nodePort';
  if (value === 'LoadBalancer') return 'loadBalancer';
  if (value === 'ClusterIP') return 'service';
  if (value === 'MASQUERADE' || value === 'SNAT' || value === 'DNAT') return 'nat';
  return undefined;
}

/** The concept of a CNI plug-in's name (the values of `cni.plugin` and a node's `cni`). */
export const CNI_PLUGIN_CONCEPTS: Readonly<Record<string, ConceptId>> = lookupTable({
  bridge: 'bridge',
  ptp: 'cniPtp',
  kindnet: 'kindnet',
  calico: 'calico',
});

export function conceptMarkdown(c: Concept): string {
  return `**${c.title}**\n\n${c.text}\n\n[${c.link.label}](${c.link.url})`;
}
