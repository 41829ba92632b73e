/**
 * The NetPath document format, described once. This object is the single source of truth for:
 * - the JSON Schema shipped in `schemas/netpath.schema.json` (written from it by `scripts/gen-schema.mjs`,
 *   and a unit test fails when the two differ), which Red Hat YAML uses for completion and validation;
 * - the model builder's unknown-key and type checks (`schema.unknown-key`, `schema.type`);
 * - the key explanations shown on hover.
 * Descriptions are written for a person learning cluster networking.
 */
import { PROTOCOLS } from './types';
import { CNI_PLUGIN_NAMES, DEFAULT_CNI_PLUGIN, DEFAULT_MTU } from '../cni/names';

export interface SchemaNode {
  readonly type?:
    | 'object'
    | 'array'
    | 'string'
    | 'integer'
    | 'boolean'
    | 'null'
    | readonly ('string' | 'integer' | 'null' | 'boolean')[];
  readonly description?: string;
  readonly enum?: readonly (string | number | boolean)[];
  readonly default?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | SchemaNode;
  readonly items?: SchemaNode;
  readonly oneOf?: readonly SchemaNode[];
  readonly markdownDescription?: string;
}

const cidr = (description: string): SchemaNode => ({
  type: 'string',
  description,
  pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$',
});
const cidrList = (description: string, item: string): SchemaNode => ({ type: 'array', description, items: cidr(item) });
const ip = (description: string): SchemaNode => ({ type: 'string', description });
const labels: SchemaNode = {
  type: 'object',
  description: 'Labels: key/value pairs that Service selectors match.',
  additionalProperties: { type: 'string' },
};

const port: SchemaNode = {
  type: 'object',
  description:
    'A port a container listens on. All containers of a pod share one network namespace, so two containers cannot listen on the same port and protocol.',
  properties: {
    name: { type: 'string', description: 'Optional name; a Service targetPort may refer to it.' },
    containerPort: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      description: 'The port number the container listens on, inside the pod network namespace.',
    },
    protocol: { type: 'string', enum: [...PROTOCOLS], default: 'TCP', description: 'Transport protocol.' },
    hostPort: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      description:
        "Open this port on the node: the CNI portmap plug-in DNATs nodeIP:hostPort to the pod's containerPort (CNI-HOSTPORT-DNAT). Two pods on one node cannot take the same hostPort.",
    },
    hostIP: ip('The node address the hostPort is opened on (default: every address of the node).'),
  },
  required: ['containerPort'],
  additionalProperties: false,
};

const route: SchemaNode = {
  type: 'object',
  description:
    'A route in the node root namespace: packets for `to` go to the next hop `via` out of the interface `dev`, like `ip route add <to> via <via> dev <dev>`.',
  properties: {
    to: { type: 'string', description: 'Destination prefix (e.g. 10.244.2.0/24) or `default`.' },
    via: ip('Next-hop gateway address. It must be on a network the node is connected to.'),
    dev: { type: 'string', description: 'Egress interface name (e.g. eth0).' },
  },
  required: ['to'],
  additionalProperties: false,
};

export const TOPOLOGY_SCHEMA: SchemaNode = {
  type: 'object',
  description:
    'A NetPath topology: the plumbing of a Kubernetes cluster network that Kubernetes objects do not spell out.',
  properties: {
    apiVersion: {
      type: 'string',
      pattern: '^netpath\\.dev/',
      description: 'The version of the NetPath format: netpath.dev/v1alpha1.',
    },
    kind: { type: 'string', enum: ['Topology'], description: 'Always `Topology`.' },
    metadata: {
      type: 'object',
      description: 'Identifies this topology.',
      properties: { name: { type: 'string', description: 'Name of the topology, shown in views and reports.' } },
      additionalProperties: false,
    },
    include: {
      type: 'array',
      description:
        'More files to read into this topology: paths or globs relative to this file (e.g. `manifests/*.yaml`). Kubernetes manifests found there merge into the model.',
      items: { type: 'string' },
    },
    cluster: {
      type: 'object',
      description: 'Cluster-wide network settings.',
      properties: {
        podCIDRs: cidrList(
          'The cluster CIDR: the range every pod IP comes from, one per IP family (kube-controller-manager --cluster-cidr). Each node gets a slice of it.',
          'A pod range in CIDR notation, e.g. 10.244.0.0/16.',
        ),
        serviceCIDRs: cidrList(
          'The Service range: virtual IPs handed to Services (kube-apiserver --service-cluster-ip-range), one per IP family. It must not overlap pod or node ranges.',
          'A Service range in CIDR notation, e.g. 10.96.0.0/12.',
        ),
        nodePortRange: {
          type: 'string',
          pattern: '^[0-9]+-[0-9]+$',
          default: '30000-32767',
          description:
            'Ports kube-proxy opens on every node for NodePort Services (kube-apiserver --service-node-port-range).',
        },
        routing: {
          type: 'string',
          enum: ['host-gw', 'manual'],
          default: 'host-gw',
          description:
            "`host-gw`: each node routes every other node's pod CIDR via that node's address (flannel host-gw style, needs one shared L2 network). `manual`: only the routes you write.",
        },
        kubeProxy: {
          type: 'object',
          description: 'kube-proxy settings. kube-proxy turns Services into iptables rules on every node.',
          properties: {
            mode: {
              type: 'string',
              enum: ['iptables', 'nftables', 'ipvs'],
              default: 'iptables',
              description:
                "Proxy mode: iptables or nftables (kube-proxy's rules in that mode, traced and shown); ipvs is recognised but not modelled.",
            },
            masqueradeAll: {
              type: 'boolean',
              default: false,
              description: 'SNAT every packet sent to a Service IP, so backends always see the node as the client.',
            },
            masqueradeBit: {
              type: 'integer',
              minimum: 0,
              maximum: 31,
              default: 14,
              description: 'The bit of the packet mark kube-proxy uses to flag packets for masquerade (14 = 0x4000).',
            },
            localDetector: {
              type: 'string',
              enum: ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix', 'None'],
              default: 'ClusterCIDR',
              description:
                'How kube-proxy tells pod traffic from other traffic: pod traffic to a ClusterIP is not masqueraded.',
            },
            nodePortAddresses: cidrList(
              'Only local addresses inside these ranges answer NodePorts. Empty: every local address.',
              'A CIDR.',
            ),
          },
          additionalProperties: false,
        },
        cni: {
          type: 'object',
          description:
            "The CNI plug-in that wires each pod to its node, and its settings: the plug-in, the bridge plug-in's bridge, masquerading, portmap, flannel's and Calico's configuration.",
          properties: {
            plugin: {
              type: 'string',
              enum: [...CNI_PLUGIN_NAMES],
              default: DEFAULT_CNI_PLUGIN,
              description:
                "The CNI plug-in that wires every node and its pods (a node's `cni` overrides it). `bridge`: a Linux bridge per node with the pods' veths as ports and the pods' gateway on it. `flannel`: the same bridge (cni0) for local pods, and between nodes flannel's backend (`cni.flannel.backend.type`: vxlan by default, the flannel.<VNI> VTEP; or host-gw). `ptp`: a veth per pod and no bridge, the gateway (the pod subnet's first address) as a /32 on every host veth, a route per pod. `kindnet`: kind's CNI, ptp plus kindnetd's KIND-MASQ-AGENT masquerade. `calico`: cali veths with proxy ARP for the pods' gateway 169.254.1.1, a route per pod, IPAM blocks from `ipPools` with a blackhole route per local block, natOutgoing; between nodes each pool's `vxlanMode` (the vxlan.calico VTEP, VNI 4096, UDP 4789), `ipipMode` (tunl0, IP protocol 4) or direct routes. Without flannel's VXLAN, `routing: host-gw` routes each node's pod CIDR (Calico: its blocks) via the node.",
            },
            bridge: {
              type: 'string',
              default: 'cni0',
              description: 'Name of the Linux bridge on each node that pod veths are plugged into.',
            },
            ipMasq: {
              type: 'boolean',
              default: false,
              description:
                'When true the plugin masquerades traffic leaving the pod subnet. On a multi-node cluster that NATs pod-to-pod traffic, which the Kubernetes network model forbids.',
            },
            hairpinMode: {
              type: 'boolean',
              default: true,
              description:
                'Let a frame leave through the bridge port it arrived on, so a pod can reach itself through a Service.',
            },
            network: {
              type: 'string',
              description:
                "The CNI network's name (a conflist's `name`). The plug-ins hash it with each container's ID into their chain names (CNI-<hash>, CNI-DN-<hash>). Default: the read conflist's name, else the name the plug-in's installer writes: k8s-pod-network for calico, kindnet for kindnet, cbr0 for the others (kube-flannel.yml's).",
            },
            portmap: {
              type: 'object',
              description:
                "The CNI portmap plug-in, which opens pods' hostPorts: CNI-HOSTPORT-DNAT in nat PREROUTING and OUTPUT jumps to one CNI-DN-<hash> chain per pod, which DNATs nodeIP:hostPort to the pod. portmap inserts each new pod's entry at the top of CNI-HOSTPORT-DNAT, so the newest pod wins a hostPort two pods claim; NetPath takes the pods of a node as created in the order they are listed. Read from a conflist when one is read (no portmap in the chain: hostPorts do not work).",
              properties: {
                enabled: {
                  type: 'boolean',
                  default: true,
                  description: 'Whether portmap is in the CNI chain (kindnet, flannel and Calico all chain it).',
                },
                snat: {
                  type: 'boolean',
                  default: true,
                  description:
                    'Masquerade hairpin (a pod to its own hostPort) and localhost connections to a hostPort: CNI-HOSTPORT-SETMARK marks them, CNI-HOSTPORT-MASQ in POSTROUTING masquerades marked packets; portmap also sets net.ipv4.conf.<dev>.route_localnet=1 on the node device routing to the pod, so a connection to 127.0.0.1:hostPort may leave by it.',
                },
                markMasqBit: {
                  type: 'integer',
                  minimum: 0,
                  maximum: 31,
                  default: 13,
                  description: 'The mark bit CNI-HOSTPORT-SETMARK sets (13 = 0x2000; kube-proxy uses 14).',
                },
              },
              additionalProperties: false,
            },
            flannel: {
              type: 'object',
              description:
                "flannel's network configuration, as its kube-flannel-cfg ConfigMap's net-conf.json says it (read from that ConfigMap when it is in the files).",
              properties: {
                network: cidr(
                  '`Network`: the IPv4 range flannel gives each node a subnet of. It must be the cluster pod range.',
                ),
                subnetLen: {
                  type: 'integer',
                  minimum: 1,
                  maximum: 30,
                  default: 24,
                  description: '`SubnetLen`: the prefix length of each node subnet.',
                },
                ipv6Network: cidr('`IPv6Network`: the IPv6 range (with EnableIPv6).'),
                ipMasq: {
                  type: 'boolean',
                  default: true,
                  description:
                    "flanneld's `--ip-masq` (kube-flannel.yml and k3s run it so): flanneld's FLANNEL-POSTRTG chain in nat POSTROUTING masquerades pod traffic leaving the flannel Network and keeps pod-to-pod traffic inside it unmasqueraded. Its FLANNEL-FWD chain (filter FORWARD: accept to and from the Network) is there either way.",
                },
                backend: {
                  type: 'object',
                  description: '`Backend`: how packets travel between nodes.',
                  properties: {
                    type: {
                      type: 'string',
                      default: 'vxlan',
                      description:
                        '`Type`: vxlan (a flannel.<VNI> VTEP on each node, UDP encapsulation), host-gw (plain routes via the other nodes; needs one L2 segment), wireguard, udp.',
                    },
                    vni: {
                      type: 'integer',
                      minimum: 0,
                      maximum: 16777215,
                      default: 1,
                      description: '`VNI`: the VXLAN network identifier; every node must use the same one.',
                    },
                    port: {
                      type: 'integer',
                      minimum: 1,
                      maximum: 65535,
                      default: 8472,
                      description:
                        "`Port`: the UDP port of the VXLAN tunnel (8472, the Linux kernel's default; IANA's is 4789). Every node must use the same one and the underlay must let it through.",
                    },
                  },
                  additionalProperties: false,
                },
              },
              additionalProperties: false,
            },
            mtu: {
              type: 'integer',
              minimum: 68,
              maximum: 65535,
              description:
                "The MTU the plug-in gives pods (their eth0, the host veths, the bridge). Default: flannel VXLAN the underlay's MTU minus 50 (the VXLAN header), otherwise the underlay's.",
            },
            ipPools: {
              type: 'array',
              description:
                'Calico IP pools (read from IPPool resources when they are in the files): the ranges Calico hands pod addresses out of, in blocks per node.',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string', description: 'The pool name.' },
                  cidr: cidr('The pool range. It must lie inside the cluster pod range.'),
                  blockSize: {
                    type: 'integer',
                    minimum: 20,
                    maximum: 128,
                    description: 'Per-node IPAM block prefix length (default 26 for IPv4, 122 for IPv6).',
                  },
                  ipipMode: {
                    type: 'string',
                    enum: ['Never', 'Always', 'CrossSubnet'],
                    default: 'Never',
                    description:
                      "IP-in-IP encapsulation (IP protocol 4) between nodes: Always, only towards nodes outside the node's subnet (CrossSubnet), or Never. Every node's tunl0 gets a tunnel address from its block; remote blocks are routed `via <node address> dev tunl0 onlink`.",
                  },
                  vxlanMode: {
                    type: 'string',
                    enum: ['Never', 'Always', 'CrossSubnet'],
                    default: 'Never',
                    description:
                      "VXLAN encapsulation between nodes: Always, only towards nodes outside the node's subnet (CrossSubnet), or Never. Every node gets the VTEP vxlan.calico (VNI 4096, UDP 4789) with a tunnel address from its block; remote blocks are routed `via <their tunnel address> dev vxlan.calico onlink`.",
                  },
                  natOutgoing: {
                    type: 'boolean',
                    default: false,
                    description:
                      "Masquerade traffic from the pool's pods to destinations outside every pool (to the internet, to node networks).",
                  },
                  disabled: { type: 'boolean', default: false, description: 'No new addresses come from the pool.' },
                  nodeSelector: {
                    type: 'string',
                    default: 'all()',
                    description: "Which nodes take blocks from the pool (Calico's selector syntax).",
                  },
                },
                required: ['cidr'],
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
        networkPolicy: {
          type: 'object',
          description:
            'The NetworkPolicy behaviours Kubernetes leaves to the network plug-in (docs/network-policy.md). Traces, the reachability matrix, diagnostics and hovers follow them; the command line flags and the VS Code settings `netpath.networkPolicy.*` apply only where the topology says nothing.',
          properties: {
            ipBlockPodIPs: {
              type: 'string',
              enum: ['match', 'ignore'],
              default: 'match',
              description:
                'Whether an ipBlock matches pod IPs. `match`: what the upstream conformance tests expect (Calico, kube-router, Antrea); `ignore`: plug-ins that judge pods by identity only (Cilium).',
            },
            nodeTraffic: {
              type: 'string',
              enum: ['allow', 'policy'],
              default: 'allow',
              description:
                "Traffic between a pod and its own node. `allow`: the documented behaviour (always allowed); `policy`: the node's addresses are judged like any other address.",
            },
          },
          additionalProperties: false,
        },
        masquerade: {
          type: 'object',
          description:
            'An ip-masq-agent: masquerades traffic to every destination outside nonMasqueradeCIDRs. Absent: no agent runs.',
          properties: {
            nonMasqueradeCIDRs: cidrList(
              'Destinations that keep the pod source address. They must cover every pod CIDR.',
              'A CIDR.',
            ),
            masqLinkLocal: {
              type: 'boolean',
              default: false,
              description: 'Also masquerade traffic to link-local 169.254.0.0/16.',
            },
          },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    networks: {
      type: 'array',
      description: 'The underlay: L2 segments the nodes and external clients are attached to ("the physical network").',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Name that interfaces and externals refer to.' },
          cidr: cidr('The subnet of this segment.'),
          mtu: {
            type: 'integer',
            minimum: 68,
            maximum: 65535,
            default: DEFAULT_MTU,
            description:
              "The segment's MTU: the largest IP packet its links carry (the nodes' interfaces on it). A tunnel's outer packets must fit.",
          },
        },
        required: ['name', 'cidr'],
        additionalProperties: false,
      },
    },
    nodes: {
      type: 'array',
      description:
        'The machines of the cluster. Each node has a root network namespace with its interfaces, a bridge for its pods, routes and iptables rules.',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Node name, as in `kubectl get nodes`.' },
          interfaces: {
            type: 'array',
            description: 'Interfaces of the node root namespace attached to underlay networks.',
            items: {
              type: 'object',
              properties: {
                name: {
                  type: 'string',
                  description: "Interface name, e.g. eth0: the node's link to the physical network.",
                },
                network: {
                  type: 'string',
                  description: 'The network (from `networks`) this interface is attached to.',
                },
                address: cidr('Address with prefix length, e.g. 192.168.56.11/24.'),
                addresses: cidrList(
                  'Addresses with prefix length, one per IP family (dual-stack).',
                  'An address with prefix length.',
                ),
              },
              required: ['name', 'network'],
              additionalProperties: false,
            },
          },
          podCIDR: cidr('The slice of the cluster CIDR this node hands out to its pods (Node spec.podCIDR).'),
          podCIDRs: cidrList('Pod CIDRs of this node, one per IP family (dual-stack).', 'A pod range of this node.'),
          cni: {
            type: 'string',
            enum: [...CNI_PLUGIN_NAMES],
            description:
              "The CNI plug-in that wires this node and its pods (default: the cluster's cni.plugin, bridge).",
          },
          bridge: {
            type: 'object',
            description:
              "The bridge plug-in's Linux bridge that connects the host ends of this node's pod veth pairs. Its address is the pods' default gateway.",
            properties: {
              name: { type: 'string', description: 'Bridge name (default: the cluster cni.bridge, cni0).' },
              address: cidr(
                'Gateway address with the pod subnet prefix length (default: the first address of the pod CIDR).',
              ),
              addresses: cidrList('Gateway addresses, one per IP family.', 'A gateway address with prefix length.'),
              hairpinMode: {
                type: 'boolean',
                description: 'Hairpin mode on the bridge ports of this node (default: the cluster cni.hairpinMode).',
              },
            },
            additionalProperties: false,
          },
          ipMasq: {
            type: 'boolean',
            description: 'CNI bridge plugin ipMasq for this node (default: the cluster cni.ipMasq).',
          },
          routes: {
            type: 'array',
            description:
              "Extra routes of the node root namespace. With routing: host-gw the routes to other nodes' pod CIDRs are implied.",
            items: route,
          },
          iptables: {
            type: 'string',
            description:
              "Raw iptables-save text for this node, evaluated as written after kube-proxy's and the CNI plugin's rules.",
          },
          nftables: {
            type: 'string',
            description:
              'Raw nftables text for this node: `nft list ruleset` output or an `nft -f` script. Checked at its lines, shown with the node rules, evaluated by traces (its base chains run with the kube-proxy and iptables-nft tables on each hook, by priority) and loaded by the kernel lab with `nft -f`.',
          },
        },
        required: ['name'],
        additionalProperties: false,
      },
    },
    pods: {
      type: 'array',
      description:
        'Pods: each has its own network namespace with eth0 (one end of a veth pair) and one IP shared by its containers.',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Name of the pod, unique within its namespace.' },
          namespace: {
            type: 'string',
            default: 'default',
            description: 'Kubernetes namespace of the pod (not a network namespace).',
          },
          node: { type: 'string', description: 'The node the pod runs on.' },
          ip: ip("The pod IP, inside its node's pod CIDR."),
          ips: { type: 'array', description: 'Pod IPs, one per IP family (dual-stack).', items: ip('A pod IP.') },
          hostVeth: {
            type: 'string',
            description:
              "Name of the host side of the pod's veth pair (the pod side is eth0). Default: derived from the pod name.",
          },
          hostNetwork: {
            type: 'boolean',
            default: false,
            description: "Run in the node's root network namespace: no veth, the pod IP is the node IP.",
          },
          labels,
          containers: {
            type: 'array',
            description:
              'Containers of the pod. They share the pod network namespace and reach each other on localhost.',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string', description: 'Container name.' },
                ports: { type: 'array', description: 'Ports the container listens on.', items: port },
              },
              required: ['name'],
              additionalProperties: false,
            },
          },
        },
        required: ['name', 'node'],
        additionalProperties: false,
      },
    },
    services: {
      type: 'array',
      description: 'Services: stable virtual IPs that kube-proxy load-balances to the pods their selector matches.',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Service name.' },
          namespace: { type: 'string', default: 'default', description: 'Kubernetes namespace of the Service.' },
          type: {
            type: 'string',
            enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
            default: 'ClusterIP',
            description:
              'ClusterIP: reachable inside the cluster. NodePort: also on a port of every node. LoadBalancer: also on an external load-balancer IP.',
          },
          clusterIP: ip(
            "The virtual IP of the Service, from the service range. No interface owns it: kube-proxy's DNAT rules catch packets sent to it.",
          ),
          clusterIPs: {
            type: 'array',
            description: 'Cluster IPs, one per IP family (dual-stack).',
            items: ip('A cluster IP.'),
          },
          selector: {
            type: 'object',
            description: 'Labels that select the backend pods (the endpoints).',
            additionalProperties: { type: 'string' },
          },
          ports: {
            type: 'array',
            description: 'Ports of the Service.',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string', description: 'Port name (needed when a Service has several ports).' },
                port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The port on the cluster IP.' },
                targetPort: {
                  type: ['integer', 'string'],
                  description:
                    'The port on the backend pods: a number or a container port name. Default: the same as port.',
                },
                nodePort: {
                  type: 'integer',
                  minimum: 1,
                  maximum: 65535,
                  description: 'The port opened on every node (NodePort and LoadBalancer Services).',
                },
                protocol: {
                  type: 'string',
                  enum: [...PROTOCOLS],
                  default: 'TCP',
                  description: 'Transport protocol.',
                },
              },
              required: ['port'],
              additionalProperties: false,
            },
          },
          externalTrafficPolicy: {
            type: 'string',
            enum: ['Cluster', 'Local'],
            default: 'Cluster',
            description:
              'Cluster: external traffic may go to any endpoint and is masqueraded. Local: only endpoints on the receiving node, and the client address is kept.',
          },
          internalTrafficPolicy: {
            type: 'string',
            enum: ['Cluster', 'Local'],
            default: 'Cluster',
            description: 'Local: traffic from inside the cluster goes only to endpoints on the sending node.',
          },
          externalIPs: {
            type: 'array',
            description: 'Extra IPs on which nodes accept traffic for this Service.',
            items: ip('An external IP.'),
          },
          loadBalancerIP: {
            type: ['string', 'null'],
            description: "The load balancer's address (status.loadBalancer.ingress[].ip in Kubernetes).",
          },
          loadBalancerIPs: { type: 'array', description: 'Load balancer addresses.', items: ip('A load balancer IP.') },
          loadBalancerIPMode: {
            type: 'string',
            enum: ['VIP', 'Proxy'],
            default: 'VIP',
            description:
              "How the load balancer hands packets to the cluster (status.loadBalancer.ingress[].ipMode in Kubernetes), for every load-balancer IP of the Service. VIP: with the destination still the load-balancer IP, which kube-proxy catches on every node (a pod's packet to it is DNATed on its own node). Proxy: the load balancer ends the connection and opens its own to the nodes; kube-proxy writes no rule for the IP, so a pod's packet to it leaves the node for the load balancer.",
          },
          loadBalancerSourceRanges: cidrList(
            'Only clients in these ranges may reach the load balancer IP; others are dropped.',
            'A client range.',
          ),
          sessionAffinity: {
            type: 'string',
            enum: ['None', 'ClientIP'],
            default: 'None',
            description: 'ClientIP: kube-proxy sends a client back to the same endpoint for a while.',
          },
          sessionAffinityTimeoutSeconds: {
            type: 'integer',
            minimum: 1,
            maximum: 86400,
            default: 10800,
            description:
              'How long ClientIP affinity keeps a client on its endpoint (Kubernetes: sessionAffinityConfig.clientIP.timeoutSeconds).',
          },
          endpoints: {
            type: 'array',
            description: 'Explicit endpoints (like an EndpointSlice) for a Service without a selector.',
            items: {
              type: 'object',
              properties: {
                ip: ip('Endpoint address.'),
                node: { type: 'string', description: 'Node the endpoint runs on.' },
                port: { type: 'integer', description: 'Target port (default: the Service targetPort).' },
                ready: { type: 'boolean', default: true, description: 'Whether kube-proxy sends traffic to it.' },
                serving: {
                  type: 'boolean',
                  default: true,
                  description:
                    'EndpointSlice serving: a terminating endpoint that still serves is used when a traffic policy leaves no ready endpoint.',
                },
                terminating: {
                  type: 'boolean',
                  default: false,
                  description: 'EndpointSlice terminating: the pod is shutting down.',
                },
              },
              required: ['ip'],
              additionalProperties: false,
            },
          },
        },
        required: ['name'],
        additionalProperties: false,
      },
    },
    externals: {
      type: 'array',
      description: 'Clients outside the cluster, on an underlay network (a laptop, a load balancer).',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Name of the client.' },
          network: { type: 'string', description: 'The network it is attached to.' },
          address: cidr('Its address with prefix length.'),
          addresses: cidrList('Its addresses, one per IP family.', 'An address with prefix length.'),
        },
        required: ['name', 'network'],
        additionalProperties: false,
      },
    },
  },
  required: ['apiVersion', 'kind'],
  additionalProperties: false,
};

/** The schema node for a path of keys (array items are entered with the key `[]`), if declared. */
export function schemaAt(path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = TOPOLOGY_SCHEMA;
  for (const key of path) {
    if (!node) return undefined;
    if (key === '[]') node = node.items;
    else
      node =
        (node.properties && Object.hasOwn(node.properties, key) ? node.properties[key] : undefined) ??
        (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
  }
  return node;
}

/** The JSON Schema document shipped with the extension. */
export function jsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://netpath.dev/schemas/topology-v1alpha1.json',
    title: 'NetPath topology',
    ...TOPOLOGY_SCHEMA,
  };
}
