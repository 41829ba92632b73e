/**
 * Hover: for the YAML key or value under the cursor, the concept it stands for (explained for a person
 * learning it, with a link to its source) and facts computed from the model for this very value.
 */
import {
  firstAddress,
  formatAddress,
  formatValue,
  lastAddress,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixContainsAddress,
  prefixesOverlap,
  sizeOf,
} from '../net/address';
import type { Span } from '../problem';
import type { Analysis } from '../analysis';
import {
  loadBalancerIPsOfMode,
  type NetworkPolicy,
  type Node,
  type Pod,
  type Route,
  type Service,
  type ServicePort,
  type Topology,
} from '../model/types';
import { formatSelector, selectorMatches } from '../policy/selector';
import { policyIndexOf, selectables } from '../policy/shared';
import { describePolicyChoice, policyChoices } from '../policy/evaluate';
import { nodeRoutes } from '../model/host-gw';
import { schemaAt } from '../model/schema';
import { indexRanges, type RangeEntry } from '../rules/ranges';
import type { YDocument, YNode } from '../syntax/yaml';
import {
  CNI_PLUGIN_CONCEPTS,
  CONCEPT_BY_KEY,
  CONCEPTS,
  conceptMarkdown,
  conceptOfValue,
  type ConceptId,
} from './concepts';
import { lookupTable } from '../lookup';
import { chainHash, endpointString, servicePortName } from '../kubeproxy/names';
import { usableEndpoints } from '../kubeproxy/conditions';
import { nftEndpointChainBase, nftServiceChains, type NftTableOut } from '../kubeproxy/nftables';
import { kubeProxyNftablesOfService } from '../dataplane/kube-proxy';
import { cniViewOf } from '../cni';
import { podMtuOf } from '../cni/mtu';
import { flannelUnderlay } from '../cni/flannel';
import { IPIP_OVERHEAD, VXLAN6_OVERHEAD, VXLAN_OVERHEAD } from '../cni/names';

export interface Hover {
  readonly markdown: string;
  readonly span: Span;
}

interface Located {
  readonly path: string[];
  readonly node: YNode | undefined;
  readonly span: Span;
  readonly onKey: boolean;
  readonly doc: YDocument;
}

const CIDR_KEYS = new Set([
  'podCIDRs',
  'podCIDR',
  'serviceCIDRs',
  'nonMasqueradeCIDRs',
  'loadBalancerSourceRanges',
  'nodePortAddresses',
  'podSubnet',
  'serviceSubnet',
  'clusterCIDR',
]);

const within = (span: Span, offset: number) => offset >= span.start && offset <= span.end;

/** The key path and node at an offset (array items appear as `[]` in the path). */
export function locate(doc: YDocument, offset: number): Located | undefined {
  if (!doc.root || !within(doc.root.span, offset)) return undefined;
  const path: string[] = [];
  let node: YNode = doc.root;
  for (let depth = 0; depth < 100; depth++) {
    if (node.kind === 'map') {
      const e = node.entries.find((x) => within(x.keySpan, offset) || within(x.value.span, offset));
      if (!e) return { path, node, span: node.span, onKey: false, doc };
      path.push(e.key);
      if (
        within(e.keySpan, offset) &&
        !(e.value.span.start <= offset && offset <= e.value.span.end && e.value.span.start > e.keySpan.end)
      ) {
        return { path, node: e.value, span: e.keySpan, onKey: true, doc };
      }
      node = e.value;
    } else if (node.kind === 'seq') {
      const item = node.items.find((x) => within(x.span, offset));
      if (!item) return { path, node, span: node.span, onKey: false, doc };
      path.push('[]');
      node = item;
    } else {
      return { path, node, span: node.span, onKey: false, doc };
    }
  }
  return undefined;
}

/**
 * A name stands for its object: a Service's name explains Services, a pod's name pod networking. Looked up with the
 * list's key as written (a key like `constructor` names nothing).
 */
const CONCEPT_OF_LIST: Readonly<Record<string, ConceptId>> = lookupTable({
  services: 'service',
  pods: 'pod',
  nodes: 'netns',
  networks: 'network',
  externals: 'communication',
});
export function hoverAt(analysis: Analysis, file: string, offset: number): Hover | undefined {
  const parsed = analysis.parsed.find((p) => p.file === file);
  const doc = parsed?.documents.find((d) => within(d.span, offset));
  if (!doc) return undefined;
  const loc = locate(doc, offset);
  if (!loc || !loc.path.length) return undefined;
  const apiVersion = doc.root?.kind === 'map' ? doc.root.entries.find((e) => e.key === 'apiVersion')?.value : undefined;
  const isNetPath = apiVersion?.kind === 'scalar' && String(apiVersion.value).startsWith('netpath.dev/');
  const key = [...loc.path].reverse().find((k) => k !== '[]') ?? '';
  const parts: string[] = [];

  if (isNetPath) {
    const schema = schemaAt(loc.path);
    if (schema?.description && loc.onKey)
      parts.push(
        `\`${key}\` — ${schema.description}${schema.default !== undefined ? ` Default: \`${String(schema.default)}\`.` : ''}`,
      );
  }
  const value =
    !loc.onKey && loc.node?.kind === 'scalar' && typeof loc.node.value === 'string' ? loc.node.value : undefined;
  // Under flannel's backend, `type`, `port` and `vni` are the VXLAN tunnel's.
  const inFlannelBackend = loc.path.includes('flannel') && loc.path.includes('backend');
  const pluginKey = (key === 'plugin' && loc.path.includes('cni')) || (key === 'cni' && loc.path[0] === 'nodes');
  const concept =
    (value !== undefined && pluginKey ? CNI_PLUGIN_CONCEPTS[value] : undefined) ??
    (value !== undefined ? conceptOfValue(value) : undefined) ??
    (inFlannelBackend ? 'vxlan' : undefined) ??
    (key === 'name' && loc.path.length === 3 ? CONCEPT_OF_LIST[loc.path[0]] : CONCEPT_BY_KEY[key]);
  const kindNode = doc.root?.kind === 'map' ? doc.root.entries.find((e) => e.key === 'kind')?.value : undefined;
  const isPolicy = kindNode?.kind === 'scalar' && kindNode.value === 'NetworkPolicy';
  if (concept) parts.push(conceptMarkdown(CONCEPTS[concept]));
  else if (isPolicy) parts.push(conceptMarkdown(CONCEPTS.networkPolicy));
  // Keys whose values are CIDR blocks also explain what a CIDR is.
  if (concept !== 'cidr' && CIDR_KEYS.has(key)) parts.push(conceptMarkdown(CONCEPTS.cidr));
  const facts = computedFacts(analysis, file, offset, loc);
  if (facts.length) parts.push(`**What NetPath computed**\n\n${facts.map((f) => `- ${f}`).join('\n')}`);
  if (!parts.length) return undefined;
  return { markdown: parts.join('\n\n---\n\n'), span: loc.span };
}

function computedFacts(analysis: Analysis, file: string, offset: number, loc: Located): string[] {
  const t = analysis.topology;
  const facts: string[] = [];
  const text =
    loc.node?.kind === 'scalar' && !loc.onKey && loc.node.value !== null ? String(loc.node.value) : undefined;
  if (text !== undefined) {
    const prefix = parsePrefix(text);
    const address = parseAddress(text);
    const ranges = indexRanges(t).ranges.filter((r) => r.prefix && !(r.span.file === file && within(r.span, offset)));
    if (prefix) {
      const first = formatValue(prefix.family, firstAddress(prefix));
      const last = formatValue(prefix.family, lastAddress(prefix));
      facts.push(
        `\`${text}\`: first address ${first}, last address ${last}, ${sizeOf(prefix).toLocaleString('en-US')} addresses (IPv${prefix.family}).`,
      );
      if (prefix.family === 4 && prefix.length <= 30) {
        facts.push(
          `Usable by hosts: ${formatValue(4, firstAddress(prefix) + 1n)} to ${formatValue(4, lastAddress(prefix) - 1n)} (the network and broadcast addresses are reserved).`,
        );
      }
      const contains = ranges.filter(
        (r) => r.prefix && prefixContains(r.prefix, prefix) && r.prefix.length < prefix.length,
      );
      const inside = ranges.filter(
        (r) => r.prefix && prefixContains(prefix, r.prefix) && r.prefix.length > prefix.length,
      );
      const overlaps = ranges.filter(
        (r) => r.prefix && prefixesOverlap(r.prefix, prefix) && !contains.includes(r) && !inside.includes(r),
      );
      if (contains.length) facts.push(`Inside ${list(contains)}.`);
      if (inside.length) facts.push(`Contains ${list(inside)}.`);
      if (overlaps.length) facts.push(`Overlaps ${list(overlaps)}.`);
    } else if (address) {
      const owners = ranges.filter((r) => r.prefix && prefixContainsAddress(r.prefix, address));
      if (owners.length) facts.push(`\`${text}\` is inside ${list(owners)}.`);
    }
  }
  const pod = smallest(t.pods.filter((p) => p.span.file === file && within(p.span, offset)));
  const svc = smallest(t.services.filter((s) => s.span.file === file && within(s.span, offset)));
  const node = smallest(t.nodes.filter((n) => n.span.file === file && within(n.span, offset)));
  const route = node?.routes.find((r) => r.span.file === file && within(r.span, offset) && r.source === 'declared');
  const lastKey = loc.path[loc.path.length - 1];
  if (node && route) facts.push(...routeFacts(node, route));
  else if (
    pod &&
    (lastKey === 'name' ||
      lastKey === 'ip' ||
      lastKey === 'ips' ||
      (lastKey === '[]' && loc.path.includes('ips')) ||
      lastKey === 'hostVeth')
  )
    facts.push(...podFacts(pod, t.services, t.nodes));
  else if (
    svc &&
    (lastKey === 'name' ||
      lastKey === 'clusterIP' ||
      lastKey === 'clusterIPs' ||
      lastKey === 'ports' ||
      lastKey === 'selector')
  )
    facts.push(...serviceFacts(t, svc, t.cluster.kubeProxy.mode === 'nftables'));
  else if (node && lastKey === 'name') facts.push(...nodeFacts(t, node));
  const policy = smallest(t.networkPolicies.filter((p) => p.span.file === file && within(p.span, offset)));
  if (policy && (lastKey === 'name' || loc.path.includes('spec'))) facts.push(...policyFacts(t, policy));
  if (loc.path.includes('masquerade') || lastKey === 'ipMasq' || lastKey === 'masqueradeAll')
    facts.push(...masqueradeFacts(analysis, lastKey));
  if (
    loc.path.includes('flannel') ||
    (loc.path.includes('cni') && (lastKey === 'plugin' || lastKey === 'mtu')) ||
    lastKey === 'vxlanMode' ||
    lastKey === 'ipipMode'
  )
    facts.push(...tunnelFacts(t));
  return facts;
}

const MAX_TUNNEL_FACTS = 6;

/**
 * Each node's tunnel devices as the data plane builds them (the first few nodes; a dual-stack overlay's IPv6 VTEP
 * after the IPv4 one), and the MTUs that follow.
 */
function tunnelFacts(t: Topology): string[] {
  const out: string[] = [];
  for (const n of t.nodes) {
    const view = cniViewOf(n, t);
    for (const v of [view.tunnel, view.tunnel6]) {
      if (!v) continue;
      if (out.length === MAX_TUNNEL_FACTS) {
        out.push(`… and the other nodes' VTEPs alike.`);
        return out;
      }
      const v6 = v === view.tunnel6;
      const overhead = v.protocol === 'ipip' ? IPIP_OVERHEAD : v6 ? VXLAN6_OVERHEAD : VXLAN_OVERHEAD;
      const underlay = flannelUnderlay(t, n)?.mtu ?? 1500;
      const how = v.protocol === 'vxlan' ? `VNI ${v.vni}, UDP ${v.port}` : 'IP protocol 4';
      out.push(
        `Node ${n.name}: \`${v.device}\`${v.address ? ` ${v.address}/${v6 ? 128 : 32}` : ''}${v.mac ? `, MAC ${v.mac}` : ''}, ${how}${v.local ? ` from ${v.local}${v.underlay ? ` (${v.underlay})` : ''}` : ''}; MTU ${underlay - overhead} (underlay ${underlay} - ${overhead}), pods ${podMtuOf(t, n) ?? underlay}.`,
      );
    }
  }
  return out;
}

const smallest = <T extends { span: Span }>(items: T[]): T | undefined =>
  items.sort((a, b) => a.span.end - a.span.start - (b.span.end - b.span.start))[0];

/** Which pods a policy selects, and how many pods each of its rules' peers match (pods and workload templates). */
function policyFacts(t: Topology, p: NetworkPolicy): string[] {
  const index = policyIndexOf(t);
  const all = selectables(t);
  const selected = all.filter((x) => x.namespace === p.namespace && selectorMatches(p.podSelector, x.labels));
  const names = (xs: readonly { id: string }[]) =>
    xs.length
      ? `${xs
          .slice(0, 5)
          .map((x) => `\`${x.id}\``)
          .join(', ')}${xs.length > 5 ? ` and ${xs.length - 5} more` : ''}`
      : 'none';
  const facts = [
    `Selects ${selected.length} pod${selected.length === 1 ? '' : 's'} of namespace \`${p.namespace}\` (${formatSelector(p.podSelector)}): ${names(selected)}.`,
    `Isolates them for ${p.policyTypes.join(' and ') || 'nothing'}${p.policyTypesExplicit ? '' : ' (policyTypes not written: defaulted)'}.`,
  ];
  // What the plug-in decides, when this policy depends on it: ipBlocks (pod IPs), and always node traffic.
  const choices = policyChoices(t);
  const hasBlock = [...p.ingress, ...p.egress].some((r) => r.peers.some((x) => x.ipBlock));
  facts.push(
    `Plug-in choices in effect: ${[...(hasBlock ? ['ipBlockPodIPs' as const] : []), 'nodeTraffic' as const]
      .map((k) => describePolicyChoice(choices, k))
      .join('; ')}.`,
  );
  for (const [direction, rules] of [
    ['ingress', p.ingress],
    ['egress', p.egress],
  ] as const) {
    if (!p.policyTypes.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) {
      if (rules.length)
        facts.push(
          `Its ${direction} rules are ignored: ${direction === 'ingress' ? 'Ingress' : 'Egress'} is not in policyTypes.`,
        );
      continue;
    }
    if (!rules.length)
      facts.push(`No ${direction} rule: selected pods allow no ${direction} but what other policies allow.`);
    for (const r of rules) {
      const peers = r.peers.length
        ? r.peers
            .map((peer) => {
              if (peer.ipBlock)
                return `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except.length ? ` except ${peer.ipBlock.except.join(', ')}` : ''}`;
              const n = all.filter(
                (x) =>
                  (peer.namespaceSelector
                    ? selectorMatches(peer.namespaceSelector, index.namespaceLabels(x.namespace))
                    : x.namespace === p.namespace) &&
                  (!peer.podSelector || selectorMatches(peer.podSelector, x.labels)),
              ).length;
              return `${n} pod${n === 1 ? '' : 's'}`;
            })
            .join(' + ')
        : 'every source and destination';
      const ports = r.ports.length
        ? r.ports
            .map((x) => `${x.port ?? 'all'}${x.endPort !== undefined ? `-${x.endPort}` : ''}/${x.protocol}`)
            .join(', ')
        : 'all ports';
      facts.push(`${direction}[${r.index}]: ${peers}; ${ports}.`);
    }
  }
  return facts;
}

function list(entries: RangeEntry[]): string {
  return (
    entries
      .slice(0, 6)
      .map((r) => `${r.text} (${roleText(r)})`)
      .join(', ') + (entries.length > 6 ? `, and ${entries.length - 6} more` : '')
  );
}

function roleText(r: RangeEntry): string {
  switch (r.role) {
    case 'cluster-pods':
      return 'cluster pod CIDR';
    case 'services':
      return 'Service range';
    case 'node-pods':
      return `pod CIDR of ${r.owner}`;
    case 'network':
      return r.owner;
    case 'masq-exempt':
      return 'not masqueraded';
    default:
      return r.owner;
  }
}

function podFacts(pod: Pod, services: readonly Service[], nodes: readonly Node[]): string[] {
  const node = nodes.find((n) => n.name === pod.node);
  const selecting = services.filter((s) => s.endpoints.some((e) => e.pod === pod.id));
  const facts = [`Pod **${pod.id}** on node ${pod.node || '(none)'}, IP ${pod.ips.join(', ') || '(none)'}.`];
  if (pod.hostNetwork) facts.push("hostNetwork: it shares the node's root network namespace (no veth pair).");
  else
    facts.push(
      `veth pair: \`eth0\` in the pod's namespace ↔ \`${pod.hostVeth}\` in the node's root namespace${podSideOf(node)}.`,
    );
  const ports = pod.containers.flatMap((c) => c.ports.map((p) => `${c.name}:${p.containerPort}/${p.protocol}`));
  if (ports.length) facts.push(`Listening: ${ports.join(', ')} (all containers share the pod's port space).`);
  facts.push(
    selecting.length
      ? `Selected by Services: ${selecting.map((s) => s.id).join(', ')}.`
      : 'No Service selects this pod.',
  );
  return facts;
}

/** The Service's ports, chain names (iptables or nftables mode) and the endpoints kube-proxy uses. */
function serviceFacts(t: Topology, svc: Service, nft: boolean): string[] {
  const facts = [`Service **${svc.id}** (${svc.type}), cluster IP ${svc.clusterIPs.join(', ') || '(none)'}.`];
  const vip = loadBalancerIPsOfMode(svc, 'VIP');
  const proxy = loadBalancerIPsOfMode(svc, 'Proxy');
  if (vip.length)
    facts.push(
      `Load-balancer IP ${vip.join(', ')} (ipMode VIP): kube-proxy catches it on every node, so a pod's packet to it is DNATed on the pod's own node.`,
    );
  if (proxy.length)
    facts.push(
      `Load-balancer IP ${proxy.join(', ')} (ipMode Proxy): the load balancer proxies the connection itself and kube-proxy writes no rule for it, so a pod's packet to it leaves the node for the load balancer.`,
    );
  const { used, fallback } = usableEndpoints(svc.endpoints);
  const nftNode = nft ? nftNodeOf(svc, used) : undefined;
  const tables = nftNode ? kubeProxyNftablesOfService(t, svc, nftNode.name) : [];
  const nftChains = new Set(tables.flatMap((x) => x.chains.map((c) => c.name)));
  for (const p of svc.ports) {
    if (nftNode) {
      facts.push(
        `Port ${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}${p.nodePort ? `, nodePort ${p.nodePort}` : ''} → target ${p.targetPort}.`,
      );
      for (const table of tables) facts.push(`  ${nftPortObjects(table, svc, p, nftNode.where)}`);
      continue;
    }
    const spn = servicePortName(svc.namespace, svc.name, p.name);
    const chains = [`\`${chainHash('KUBE-SVC-', spn, p.protocol)}\``];
    if (svc.type !== 'ClusterIP' || svc.externalIPs.length)
      chains.push(`\`${chainHash('KUBE-EXT-', spn, p.protocol)}\``);
    if (svc.externalTrafficPolicy === 'Local' && svc.type !== 'ClusterIP')
      chains.push(`\`${chainHash('KUBE-SVL-', spn, p.protocol)}\``);
    facts.push(
      `Port ${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}${p.nodePort ? `, nodePort ${p.nodePort}` : ''} → target ${p.targetPort}; kube-proxy chains ${chains.join(', ')}.`,
    );
  }
  const unused = svc.endpoints.length - used.length;
  const unusedNote = unused
    ? ` (${unused} other${unused === 1 ? ' is' : 's are'} ${fallback ? 'not serving' : 'not ready'}: not used)`
    : '';
  if (!used.length)
    facts.push(
      svc.endpoints.length
        ? `No usable endpoint: none is ready and no terminating one still serves, so kube-proxy rejects connections to this Service.`
        : 'No endpoints: kube-proxy rejects connections to this Service.',
    );
  else {
    facts.push(
      `${used.length} ${fallback ? 'terminating endpoint' : 'endpoint'}${used.length === 1 ? '' : 's'}${fallback ? ' still serving (no endpoint is ready, so kube-proxy falls back to them)' : ''}, each chosen with probability 1/${used.length} (${(100 / used.length).toFixed(1)}%)${unusedNote}:`,
    );
    for (const e of used.slice(0, 10)) {
      const seps = svc.ports.flatMap((p) => {
        const port = e.ports[p.name];
        if (port === undefined) return [];
        if (nft) {
          const ip = parseAddress(e.ip);
          const name = `endpoint-${nftEndpointChainBase(svc.namespace, svc.name, p.protocol, p.name, ip ? formatAddress(ip) : e.ip, port)}`;
          return nftChains.has(name) ? [name] : [];
        }
        return [
          chainHash(
            'KUBE-SEP-',
            servicePortName(svc.namespace, svc.name, p.name),
            p.protocol,
            endpointString(e.ip, port),
          ),
        ];
      });
      const where = [...(e.pod ? [e.pod] : []), ...(e.node ? [`on ${e.node}`] : [])];
      facts.push(
        `  ${e.ip}${where.length ? ` (${where.join(' ')})` : ''} → ${Object.values(e.ports).join(', ') || '?'}${seps.length ? ` via \`${seps.join('`, `')}\`` : ''}`,
      );
    }
    if (used.length > 10) facts.push(`  … and ${used.length - 10} more.`);
  }
  return facts;
}

/**
 * The node whose kube-proxy tables the hover names. A Service with a Local traffic policy has its `local-` chain only
 * on nodes running one of its endpoints, so the node of the first usable endpoint is taken; other Services' objects
 * are the same on every node.
 */
function nftNodeOf(svc: Service, used: readonly { readonly node?: string }[]): { name: string; where: string } {
  const externallyAccessible =
    svc.type !== 'ClusterIP' || svc.externalIPs.length > 0 || loadBalancerIPsOfMode(svc, 'VIP').length > 0;
  const local =
    svc.internalTrafficPolicy === 'Local' || (externallyAccessible && svc.externalTrafficPolicy === 'Local');
  if (!local) return { name: '', where: '' };
  const node = used.find((e) => e.node)?.node;
  return node
    ? { name: node, where: ` on node ${node} (it runs a local endpoint)` }
    : { name: '', where: ' on a node without a local endpoint' };
}

/**
 * What kube-proxy (nftables mode) writes in one table for one Service port: its chains and the map elements that
 * lead to them, read from the generated table itself. The table holds only this Service, so every element of its
 * maps keyed by this port's protocol and port (or nodePort) is this port's.
 */
function nftPortObjects(table: NftTableOut, svc: Service, p: ServicePort, where: string): string {
  const names = nftServiceChains(svc.namespace, svc.name, p.protocol, p.name);
  const own = new Set([names.service, names.local, names.external, names.firewall]);
  const chains = table.chains.filter((c) => own.has(c.name)).map((c) => `\`${c.name}\``);
  const proto = p.protocol.toLowerCase();
  const elements: string[] = [];
  for (const m of table.sets) {
    if (m.kind !== 'map') continue;
    for (const e of m.elements) {
      const k = e.key;
      const mine =
        (k.length === 3 && k[1] === proto && k[2] === String(p.port)) ||
        (k.length === 2 && p.nodePort !== undefined && k[0] === proto && k[1] === String(p.nodePort));
      if (mine) elements.push(`\`@${m.name}\` element \`${k.join(' . ')} : ${e.value ?? ''}\``);
    }
  }
  const what = [chains.length ? `chains ${chains.join(', ')}` : 'no chain of its own', ...elements];
  return `kube-proxy (nftables), table \`${table.family} ${table.name}\`${where}: ${what.join('; ')}.`;
}

function routeFacts(node: Node, route: Route): string[] {
  const dev =
    route.dev ??
    node.interfaces.find(
      (i) =>
        route.via &&
        i.addresses.some((a) => {
          const p = parsePrefix(a);
          const v = route.via ? parseAddress(route.via) : undefined;
          return p && v && prefixContainsAddress(p, v);
        }),
    )?.name;
  return [
    `On node ${node.name}: packets to ${route.to} go ${route.via ? `to the next hop ${route.via}` : 'directly'} out of ${dev ? `\`${dev}\`` : 'an interface NetPath could not determine'}.`,
  ];
}

function nodeFacts(t: Topology, node: Node): string[] {
  return [
    `Node **${node.name}**: interfaces ${node.interfaces.map((i) => `${i.name} ${i.addresses.join(', ')}`).join('; ') || '(none)'}.`,
    `Pod CIDR ${node.podCIDRs.join(', ') || '(none)'}; ${cniViewOf(node, t).summary}.`,
    `Routes: ${
      nodeRoutes(t, node)
        .map(
          (r) =>
            `${r.to}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.source === 'implied' ? ' (host-gw)' : ''}`,
        )
        .join('; ') || 'only connected networks'
    }.`,
  ];
}

function masqueradeFacts(analysis: Analysis, key: string | undefined): string[] {
  const c = analysis.topology.cluster;
  if (key === 'masqueradeAll')
    return [
      c.kubeProxy.masqueradeAll
        ? 'Every packet to a Service IP is SNATed to the node: backends never see the real client.'
        : 'Only traffic from outside the cluster CIDR (and hairpin traffic) to Service IPs is SNATed.',
    ];
  if (key === 'ipMasq')
    return [
      c.cni.ipMasq
        ? "SNATs every pod packet that leaves the node's pod subnet, including traffic to pods on other nodes."
        : 'The bridge plugin adds no masquerade rule.',
    ];
  const m = c.masquerade;
  if (!m) return [];
  return [
    `SNATs pod traffic to every destination outside ${m.nonMasqueradeCIDRs.join(', ')}${m.masqLinkLocal ? '' : ' and 169.254.0.0/16'}.`,
  ];
}

/** Where a pod's host veth goes on its node, as the node's CNI plug-in wires it. */
function podSideOf(node: Node | undefined): string {
  const bridge = node ? cniViewOf(node).bridge : undefined;
  if (!node) return '';
  if (!bridge) return ` (CNI plug-in ${node.cni})`;
  const gateways = bridge.addresses.map((a) => a.split('/')[0]);
  return `, plugged into bridge \`${bridge.name}\`${gateways.length ? ` (gateway ${gateways.join(', ')})` : ''}`;
}
