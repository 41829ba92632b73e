/**
 * The CNI `bridge` plug-in (containernetworking/plugins, plugins/main/bridge) with `routing: host-gw` between
 * nodes: each node has a Linux bridge (default `cni0`) holding the pods' gateway addresses; each pod gets a veth
 * pair whose host end is a bridge port (hairpin mode per port) and a default route via the bridge's address
 * (`isDefaultGateway`); with `ipMasq: true` it writes a CNI-<hash> masquerade chain per pod.
 */
import {
  defaultPrefix,
  canonical,
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
} from '../net/address';
import { sha512Hex } from '../hash';
import type { DpBridge, DpInterface, DpRoute, InterfaceAddress } from '../dataplane/types';
import { work } from '../work';
import type { Node, Pod, Topology } from '../model/types';
import type { Span } from '../problem';
import type { CniMasqueradeCulprit, CniNodeWiring, CniPlugin, CniPodWiring, CniRules } from './types';

/** The CNI plugins' chain name: `CNI-` + the first 24 hex characters of sha512(network + containerID). */
export function cniChainName(network: string, containerID: string): string {
  return `CNI-${sha512Hex(network + containerID)}`.slice(0, 28);
}

/** The container ID NetPath assumes for a pod (stable, derived from its namespace/name). */
export function containerIdOf(pod: Pod): string {
  return sha512Hex(`netpath:${pod.id}`).slice(0, 64);
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function hostCidr(ip: string): string | undefined {
  const a = parseAddress(ip);
  return a ? `${formatAddress(a)}/${a.family === 4 ? 32 : 128}` : undefined;
}

/** `10.0.0.1/24` -> an interface address; a bare address gets the host length. */
export function ifaceAddress(text: string): InterfaceAddress | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const a = parseAddress(text);
    return a ? { family: a.family, address: formatAddress(a), length: a.family === 4 ? 32 : 128 } : undefined;
  }
  const p = parsePrefix(text);
  return p
    ? { family: p.family, address: formatAddress({ family: p.family, value: p.address }), length: p.length }
    : undefined;
}

const routeText = (to: string, via: string | undefined, dev: string): string =>
  `${to}${via ? ` via ${via}` : ''} dev ${dev}`;

/**
 * The default route through each of the node's bridge addresses, as its pods have it: the same for every pod of the
 * node, so made once per node (a trace reaches a new pod per endpoint of a Service) and shared, as routes are.
 */
const GATEWAY_ROUTES = new WeakMap<Node, readonly DpRoute[]>();
function gatewayRoutesOf(node: Node): readonly DpRoute[] {
  let routes = GATEWAY_ROUTES.get(node);
  if (routes) return routes;
  const made: DpRoute[] = [];
  for (const gw of node.bridge?.addresses ?? []) {
    const g = ifaceAddress(gw);
    if (!g) continue;
    const to = 'default';
    made.push({
      to,
      prefix: defaultPrefix(g.family),
      via: g.address,
      dev: 'eth0',
      kind: 'gateway',
      text: routeText(to, g.address, 'eth0'),
    });
  }
  GATEWAY_ROUTES.set(node, (routes = made));
  return routes;
}

/**
 * A pod's wiring, per node by the families of the pod's addresses (bit 1: IPv4, bit 2: IPv6): the same for every pod
 * of the node with those families, so made once and shared (read only, as routes are), where a trace to a new Service
 * wired its 30 endpoints' pods each anew.
 */
const POD_WIRINGS = new WeakMap<Node, (CniPodWiring | undefined)[]>();

/** Whether the `ipMasq: true` chain masquerades a pod of `node` sending to `dest`: everything leaving the pod subnet. */
export function ipMasqMasquerades(node: Node, dest: Address): boolean {
  return (
    node.cniIpMasq &&
    !node.podCIDRs.some((c) => {
      const p = parsePrefix(c);
      return p !== undefined && prefixContainsAddress(p, dest);
    })
  );
}

/** A span that points at text someone wrote (a defaulted value's span has an empty file name). */
export const writtenSpan = (s: Span | undefined): Span | undefined => (s && s.file !== '' ? s : undefined);

/**
 * Where the ipMasq a node's pods get is written: the node's own `ipMasq`, else the cluster's (`cni.ipMasq` of a
 * NetPath document, or the `ipMasq` of the bridge or ptp plug-in in the conflist read).
 */
export function ipMasqSpan(node: Node, t: Topology): Span | undefined {
  return writtenSpan(node.spans.ipMasq) ?? writtenSpan(t.cluster.cni.spans.ipMasq);
}

/**
 * The bridge or ptp plug-in's `ipMasq: true` chain explained (`plugin`: how to name it); `instead`: what the usual
 * installs do instead of it.
 */
export function ipMasqCulprit(node: Node, t: Topology, plugin: string, instead: string): CniMasqueradeCulprit {
  const span = ipMasqSpan(node, t);
  return {
    what: `the ${plugin}'s ipMasq rule`,
    advice: `With ipMasq: true the ${plugin} masquerades everything that leaves the node's own pod subnet, which on a cluster of several nodes includes the pods of every other node; ${instead}`,
    span,
    ...(span ? { fix: { title: 'Set ipMasq to false', newText: 'false', preferred: true } } : {}),
  };
}

/** Why ipMasq leaves a pod's egress alone: it is off (where it is written, if it is). */
export function ipMasqOff(plugin: string): { why: string; fix: string } {
  return {
    why: `the ${plugin}'s ipMasq off`,
    fix: 'Add a masquerade rule (cluster.masquerade, or cni.ipMasq for single-node clusters).',
  };
}

/**
 * How a plug-in that masquerades with the CNI `ipMasq` chain (bridge, ptp) answers the NAT rules: whom it
 * masquerades, the chain explained as a culprit, and why egress is left alone when it is off.
 */
export function ipMasqAnswers(
  plugin: string,
  instead: string,
): Pick<CniPlugin, 'masqueradesTo' | 'masqueradeCulprit' | 'egressUnmasked'> {
  return {
    masqueradesTo: (node, _src, dest) => ipMasqMasquerades(node, dest),
    masqueradeCulprit: (node, t) => ipMasqCulprit(node, t, plugin, instead),
    egressUnmasked: () => ipMasqOff(plugin),
  };
}

/**
 * The plug-in's `ipMasq: true` rules, per pod and family (plugins/pkg/ip/ipmasq_iptables_linux.go):
 * `-A POSTROUTING -s <podIP> -j CNI-<hash>`, `-A CNI-<hash> -d <pod subnet> -j ACCEPT`,
 * `-A CNI-<hash> ! -d <multicast> -j MASQUERADE`, each with the comment `name: "<network>" id: "<containerID>"`.
 * `<network>` is the network configuration's `name` (the bridge and ptp plug-ins pass `n.Name` to
 * utils.FormatChainName and FormatComment): `cni.network`, else the conflist read, else the plug-in's default.
 */
export function bridgeIpMasqRules(t: Topology, node: Node, pods: readonly Pod[]): CniRules {
  if (!node.cniIpMasq) return {};
  const network = t.cluster.cni.network;
  const chains: string[] = [];
  const rules: string[] = [];
  const post: string[] = [];
  for (const pod of pods) {
    if (pod.hostNetwork) continue;
    const id = containerIdOf(pod);
    const chain = cniChainName(network, id);
    const comment = `-m comment --comment ${quote(`name: ${quote(network)} id: ${quote(id)}`)}`;
    let declared = false;
    for (const ip of pod.ips) {
      const a = parseAddress(ip);
      const subnet = node.podCIDRs.map(parsePrefix).find((p) => p && a && p.family === a.family);
      const host = hostCidr(ip);
      if (!a || !subnet || !host) continue;
      if (!declared) chains.push(`:${chain} - [0:0]`);
      declared = true;
      rules.push(`-A ${chain} -d ${canonical(subnet)} ${comment} -j ACCEPT`);
      rules.push(`-A ${chain} ! -d ${a.family === 4 ? '224.0.0.0/4' : 'ff00::/8'} ${comment} -j MASQUERADE`);
      post.push(`-A POSTROUTING -s ${host} ${comment} -j ${chain}`);
    }
  }
  return chains.length ? { nat: { chains, rules: [...post, ...rules] } } : {};
}

/**
 * A bridge node's wiring: a host veth per pod and a bridge port for each (150,000 at Kubernetes' limits), made when the
 * node's devices or bridges are first read (a lint or a trace reads them for the few nodes it crosses). A class, not
 * an object literal with getters: V8 keeps such a literal in dictionary mode, a hash table and two new functions per
 * node (5,000 at Kubernetes' limits), where the instances of a class share one shape and one function per getter.
 */
class BridgeNodeWiring implements CniNodeWiring {
  readonly addressed: readonly DpInterface[];
  readonly routes: readonly DpRoute[] = [];
  private ports: { readonly interfaces: readonly DpInterface[]; readonly bridges: readonly DpBridge[] } | undefined;

  constructor(
    private readonly bridge: DpInterface,
    private readonly hairpin: boolean,
    private readonly pods: readonly Pod[],
  ) {
    this.addressed = [bridge];
  }

  get interfaces(): readonly DpInterface[] {
    return this.portsOnce().interfaces;
  }

  get bridges(): readonly DpBridge[] {
    return this.portsOnce().bridges;
  }

  private portsOnce(): NonNullable<BridgeNodeWiring['ports']> {
    if (this.ports) return this.ports;
    const bridge = this.bridge;
    work.podPorts += this.pods.length;
    const hostVeths: DpInterface[] = this.pods.map((p) => ({
      name: p.hostVeth,
      kind: 'veth',
      addresses: [],
      peer: { netns: `pod:${p.id}`, device: 'eth0' },
      master: bridge.name,
      hairpin: this.hairpin,
    }));
    this.ports = {
      interfaces: [bridge, ...hostVeths],
      bridges: [{ name: bridge.name, ports: hostVeths.map((v) => ({ device: v.name, hairpin: v.hairpin ?? false })) }],
    };
    return this.ports;
  }
}

export const BRIDGE_PLUGIN: CniPlugin = {
  name: 'bridge',
  describe(node) {
    const b = node.bridge;
    if (!b) return { plugin: 'bridge', summary: 'CNI bridge plug-in', devices: [] };
    return {
      plugin: 'bridge',
      summary: `CNI bridge plug-in: bridge ${b.name} ${b.addresses.join(', ')}, hairpin ${b.hairpinMode ? 'on' : 'off'}`,
      bridge: { name: b.name, addresses: b.addresses, hairpin: b.hairpinMode },
      devices: [{ name: b.name, addresses: b.addresses }],
      podSideDevice: b.name,
    };
  },
  wireNode(node, pods) {
    const b = node.bridge;
    if (!b) return { interfaces: [], bridges: [], routes: [] };
    const bridge: DpInterface = {
      name: b.name,
      kind: 'bridge',
      addresses: b.addresses.flatMap((a) => ifaceAddress(a) ?? []),
    };
    return new BridgeNodeWiring(bridge, b.hairpinMode, pods);
  },
  wirePod(node, _pod, addresses) {
    let families = 0;
    for (let k = 0; k < addresses.length; k++) families |= addresses[k].family === 4 ? 1 : 2;
    let byFamilies = POD_WIRINGS.get(node);
    if (!byFamilies) POD_WIRINGS.set(node, (byFamilies = [undefined, undefined, undefined, undefined]));
    let wiring = byFamilies[families];
    if (!wiring) {
      const routes: DpRoute[] = [];
      for (const r of gatewayRoutesOf(node)) if (families & (r.prefix.family === 4 ? 1 : 2)) routes.push(r);
      byFamilies[families] = wiring = { routes };
    }
    return wiring;
  },
  masquerade(node, pods, t) {
    return { label: 'CNI bridge plugin, ipMasq: true', tables: bridgeIpMasqRules(t, node, pods) };
  },
  ...ipMasqAnswers(
    'CNI bridge plugin',
    'flannel and kubenet run the bridge plugin with ipMasq: false and leave egress masquerade to a rule that exempts the pod network.',
  ),
};
