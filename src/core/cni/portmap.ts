/**
 * The CNI `portmap` plug-in (containernetworking/plugins, plugins/meta/portmap, iptables backend): the rules it
 * writes on a node for the pods' hostPorts, as `iptables-save -t nat` prints them.
 *
 * - `CNI-HOSTPORT-DNAT`, jumped to from nat PREROUTING and OUTPUT for packets to a local address
 *   (`-m addrtype --dst-type LOCAL`), holds one entry per container and protocol (`-m multiport --dports`, at most
 *   15 ports a rule) jumping to the container's `CNI-DN-<hash>` chain (hash: sha512 of network name + container ID,
 *   `utils.MustFormatChainNameWithPrefix(name, id, "DN-")`).
 * - `CNI-DN-<hash>`: per port mapping, with `snat` (the default) a hairpin rule (`-s <the pod's address with its
 *   IPAM prefix> -j CNI-HOSTPORT-SETMARK`: iptables stores the network, so with host-local every pod of the node's
 *   subnet is marked, with Calico's /32 only the pod itself), for IPv4 a localhost rule (`-s 127.0.0.1 -j CNI-HOSTPORT-SETMARK`), then the DNAT to podIP:containerPort.
 *   A `hostIP` adds `-d <hostIP>` (0.0.0.0 and :: add nothing; another family skips the mapping).
 * - `CNI-HOSTPORT-SETMARK` sets the mark `1 << markMasqBit` (bit 13 = 0x2000 by default); `CNI-HOSTPORT-MASQ`
 *   masquerades marked packets. Its jump is inserted at the top of POSTROUTING (chain.go `prependEntry`), ahead of
 *   the bridge and ptp plug-ins' ipMasq chains, whose `-d <pod subnet> -j ACCEPT` would otherwise end nat
 *   POSTROUTING before a hairpin packet is masqueraded; only Calico's hook stays above it (felix keeps it first).
 * - Order: portmap appends the jumps to CNI-HOSTPORT-DNAT from PREROUTING and OUTPUT and every rule inside its own
 *   chains, but inserts each container's entry rules at the top of CNI-HOSTPORT-DNAT (`prependEntry`, one at a time
 *   in protocol order), so the newest container is matched first and, of one container's entries, the last
 *   inserted. NetPath knows no creation times: it takes the pods of a node in the order the topology lists them as
 *   the order they were created, so the last pod listed (the newest) comes first.
 * - With `snat`, for an IPv4 pod, portmap sets net.ipv4.conf.<dev>.route_localnet=1 on the node device that routes to
 *   the pod (main.go), so the node's own connection to 127.0.0.1:hostPort, DNATed in nat OUTPUT, may leave by it.
 * See portmap_iptables.go (`fillDnatRules`, `genToplevelDnatChain`, `genSetMarkChain`, `genMarkMasqChain`).
 */
import {
  canonical,
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
} from '../net/address';
import { sha512Hex } from '../hash';
import type { Node, Pod, Protocol, Topology } from '../model/types';
import { containerIdOf } from './bridge';
import { cniPluginOf } from './index';
import type { CniRules } from './types';

export const PORTMAP_DNAT_CHAIN = 'CNI-HOSTPORT-DNAT';
export const PORTMAP_SETMARK_CHAIN = 'CNI-HOSTPORT-SETMARK';
export const PORTMAP_MASQ_CHAIN = 'CNI-HOSTPORT-MASQ';

/** `CNI-DN-` + sha512(network + containerID), 28 characters (plugins/pkg/utils MustFormatChainNameWithPrefix). */
export function portmapChainName(network: string, containerID: string): string {
  return `CNI-DN-${sha512Hex(network + containerID)}`.slice(0, 28);
}

/** One `hostPort` of a pod, as the runtime passes it to portmap (`runtimeConfig.portMappings`). */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
  readonly hostIP: string | undefined;
}

/** A pod's port mappings, in container and port order (the order the kubelet lists them). */
export function portMappingsOf(pod: Pod): PortMapping[] {
  return pod.containers.flatMap((c) =>
    c.ports.flatMap((p) =>
      p.hostPort
        ? [{ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIP }]
        : [],
    ),
  );
}

/** Whether `portMappingsOf(pod)` is not empty, without building it (asked of every pod of every node). */
function hasHostPort(pod: Pod): boolean {
  // Indexed loops: asked of every pod of every node whose rules or devices a trace reads, where the iterators of
  // for-of loops (not yet optimised away in code this cold) were the only garbage.
  const containers = pod.containers;
  for (let i = 0; i < containers.length; i++) {
    const ports = containers[i].ports;
    for (let j = 0; j < ports.length; j++) if (ports[j].hostPort) return true;
  }
  return false;
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * The address portmap reads from the IPAM result, with its prefix as the plug-in hands it over: the node's pod
 * subnet for host-local (bridge, ptp, flannel), a host prefix for Calico's IPAM (/32, /128), which is what the
 * pod's eth0 holds.
 */
function containerNet(
  t: Topology,
  node: Node,
  pod: Pod,
  ip: string,
): { address: string; family: 4 | 6; net: string } | undefined {
  const a = parseAddress(ip);
  if (!a) return undefined;
  const subnet = node.podCIDRs.map(parsePrefix).find((p) => p && p.family === a.family && prefixContainsAddress(p, a));
  const address = formatAddress(a);
  const ipam = { family: a.family, address, length: subnet?.length ?? (a.family === 4 ? 32 : 128) };
  const length = cniPluginOf(node).wirePod(node, pod, [ipam], t).addresses?.[0]?.length ?? ipam.length;
  const net = parsePrefix(`${address}/${length}`);
  return net ? { address, family: a.family, net: canonical(net) } : undefined;
}

/**
 * The IPv4 addresses of a node's pods whose hostPorts portmap opens with `snat` on: for each, portmap sets
 * net.ipv4.conf.<dev>.route_localnet=1 on the node device that routes to it (main.go, `getRoutableHostIF` and
 * `enableLocalnetRouting`), so that a connection from 127.0.0.1 DNATed to the pod may leave by that device.
 */
export function portmapLocalnetAddresses(t: Topology, pods: readonly Pod[]): Address[] {
  const pm = t.cluster.cni.portmap;
  if (!pm.enabled || !pm.snat) return [];
  return pods
    .filter((p) => !p.hostNetwork && hasHostPort(p))
    .flatMap((p) => p.ips.flatMap((ip) => parseAddress(ip) ?? []).filter((a) => a.family === 4));
}

/** The portmap plug-in's nat rules on a node for its pods' hostPorts (empty when none has one or portmap is off). */
export function portmapRules(t: Topology, node: Node, pods: readonly Pod[]): CniRules {
  const pm = t.cluster.cni.portmap;
  if (!pm.enabled) return {};
  const network = t.cluster.cni.network;
  const mark = hex(2 ** pm.markMasqBit);
  const markDef = `${mark}/${mark}`;
  const chains: string[] = [];
  // Each container's entry rules, in the order portmap inserts them (see the module's comment on order).
  const entriesByPod: string[][] = [];
  const dnChains: string[] = [];
  for (const pod of pods) {
    // Asked of every pod of every node a trace crosses, which seldom has a hostPort: none is built for the others.
    if (pod.hostNetwork || !hasHostPort(pod)) continue;
    const mappings = portMappingsOf(pod);
    if (!mappings.length) continue;
    const id = containerIdOf(pod);
    const chain = portmapChainName(network, id);
    const comment = `-m comment --comment ${quote(`dnat name: ${quote(network)} id: ${quote(id)}`)}`;
    let declared = false;
    for (const ip of pod.ips) {
      const cn = containerNet(t, node, pod, ip);
      if (!cn) continue;
      const byProto = new Map<string, number[]>();
      for (const m of mappings) {
        const proto = m.protocol.toLowerCase();
        byProto.set(proto, [...(byProto.get(proto) ?? []), m.hostPort]);
      }
      // A dual-stack pod's entry rules name no address: iptables and ip6tables each hold one copy, which is the one
      // line both families' share of this text keeps (src/lab/rules.ts); a second copy would be listed twice.
      const first = !declared;
      if (!declared) chains.push(`:${chain} - [0:0]`);
      declared = true;
      if (first) {
        const inserted: string[] = [];
        for (const [proto, ports] of [...byProto].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
          for (let i = 0; i < ports.length; i += 15)
            inserted.push(
              `-A ${PORTMAP_DNAT_CHAIN} -p ${proto} ${comment} -m multiport --dports ${ports.slice(i, i + 15).join(',')} -j ${chain}`,
            );
        entriesByPod.push(inserted);
      }
      for (const m of mappings) {
        let dst = '';
        if (m.hostIP) {
          const h = parseAddress(m.hostIP);
          if (!h || h.family !== cn.family) continue;
          if (h.value !== 0n) dst = ` -d ${formatAddress(h)}/${h.family === 4 ? 32 : 128}`;
        }
        const proto = m.protocol.toLowerCase();
        const match = `-p ${proto} -m ${proto} --dport ${m.hostPort}`;
        if (pm.snat) {
          dnChains.push(`-A ${chain} -s ${cn.net}${dst} ${match} -j ${PORTMAP_SETMARK_CHAIN}`);
          if (cn.family === 4) dnChains.push(`-A ${chain} -s 127.0.0.1/32${dst} ${match} -j ${PORTMAP_SETMARK_CHAIN}`);
        }
        const to = cn.family === 4 ? `${cn.address}:${m.containerPort}` : `[${cn.address}]:${m.containerPort}`;
        dnChains.push(`-A ${chain}${dst} ${match} -j DNAT --to-destination ${to}`);
      }
    }
  }
  if (!entriesByPod.length) return {};
  // Every entry was inserted at the top of CNI-HOSTPORT-DNAT: the chain lists them newest first, as iptables-save
  // prints it (`-A` in list order).
  const entries = entriesByPod.reverse().flatMap((inserted) => inserted.reverse());
  const top: string[] = [];
  const topChains = [`:${PORTMAP_DNAT_CHAIN} - [0:0]`];
  if (pm.snat) {
    topChains.push(`:${PORTMAP_MASQ_CHAIN} - [0:0]`, `:${PORTMAP_SETMARK_CHAIN} - [0:0]`);
    // Inserted first in POSTROUTING; under Calico's hook, which felix keeps at the top (and which is written before
    // this part: src/core/cni/calico.ts).
    const position = cniPluginOf(node).name === 'calico' ? 2 : 1;
    top.push(
      `-I POSTROUTING ${position} -m comment --comment "CNI portfwd requiring masquerade" -j ${PORTMAP_MASQ_CHAIN}`,
      `-A ${PORTMAP_MASQ_CHAIN} -m mark --mark ${markDef} -j MASQUERADE`,
      `-A ${PORTMAP_SETMARK_CHAIN} -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark ${markDef}`,
    );
  }
  return {
    nat: {
      chains: [...topChains, ...chains],
      rules: [
        `-A PREROUTING -m addrtype --dst-type LOCAL -j ${PORTMAP_DNAT_CHAIN}`,
        `-A OUTPUT -m addrtype --dst-type LOCAL -j ${PORTMAP_DNAT_CHAIN}`,
        ...top,
        ...entries,
        ...dnChains,
      ],
    },
  };
}
