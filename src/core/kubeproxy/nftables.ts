/**
 * The `ip kube-proxy` (or `ip6 kube-proxy`) table that kube-proxy in nftables mode keeps on one node.
 *
 * The objects, rules and their order inside each chain follow kube-proxy's setupNFTables and syncProxyRules
 * (pkg/proxy/nftables/proxier.go). The result is a structure that renders two ways:
 * - {@link renderNftTransaction}: the `add table/chain/set/map/rule/element` lines of knftables' dump, the form
 *   kube-proxy's own unit tests compare (they sort the lines and keep only the rule order within a chain);
 * - {@link renderNftRuleset}: one `table` block as `nft -f` reads it and `nft list ruleset` prints it.
 * Rule bodies are kept as kube-proxy writes them (`mark set mark or 0x4000`), which nft accepts as input.
 *
 * What differs from iptables mode: no per-node localhost NodePorts, NodePorts answer on the node's primary IPs
 * when nodePortAddresses is not set, load balancing is `numgen random mod N vmap`, affinity is a per-endpoint
 * set with a timeout, traffic to a Service port that does not exist is rejected (`cluster-ips-check`), and to an
 * unallocated cluster IP dropped.
 */
import {
  canonical,
  firstAddress as firstOf,
  formatAddress,
  hostPrefix,
  lastAddress as lastOf,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
} from '../net/address';
import type { Address, Prefix } from '../net/address';
import { categorize, endpointPort, type CategorizedEndpoint } from './generate';
import { endpointString, servicePortName } from './names';
import { sha256Base32 } from '../hash';
import type { KubeProxyInput, ServiceInput } from './types';
import { nftPriorityText } from '../nftables/priority';
import type { NftBlockAt } from '../nftables/lazy';
import { vipLoadBalancerIPs } from './load-balancer';

/** What kube-proxy in nftables mode needs besides what iptables mode needs. */
export interface KubeProxyNftInput extends KubeProxyInput {
  /** The cluster's Service CIDRs (any family; the other family is ignored): traffic to free IPs there is dropped. */
  readonly serviceCIDRs?: readonly string[];
  /**
   * The mark text written in the rules. Default: `1 << masqueradeBit` as kube-proxy formats it (`%#08x`, so
   * `0x004000`); kube-proxy's own unit tests set `0x4000` directly.
   */
  readonly masqueradeMark?: string;
}

export interface NftBaseChain {
  readonly type: 'filter' | 'nat' | 'route';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  readonly priority: number;
}

export interface NftRuleOut {
  /** The rule as kube-proxy writes it, without its comment. */
  readonly text: string;
  readonly comment?: string;
}

export interface NftChainOut {
  readonly name: string;
  readonly base?: NftBaseChain;
  readonly comment?: string;
  readonly rules: NftRuleOut[];
}

export interface NftElementOut {
  readonly key: readonly string[];
  readonly value?: string;
  readonly comment?: string;
}

export interface NftSetOut {
  readonly kind: 'set' | 'map';
  readonly name: string;
  /** `ipv4_addr . inet_proto . inet_service : verdict` for a verdict map. */
  readonly type: string;
  readonly flags?: readonly string[];
  /** Seconds. */
  readonly timeout?: number;
  readonly comment?: string;
  readonly elements: NftElementOut[];
}

/** One kube-proxy table. Objects keep kube-proxy's write order. */
export interface NftTableOut {
  readonly family: 'ip' | 'ip6';
  readonly name: string;
  readonly comment: string;
  readonly sets: NftSetOut[];
  readonly chains: NftChainOut[];
}

const TABLE = 'kube-proxy';
const MARK_MASQ = 'mark-for-masquerade';
const MASQUERADING = 'masquerading';
const SERVICES = 'services';
const REJECT_CHAIN = 'reject-chain';
const CLUSTER_IPS_CHECK = 'cluster-ips-check';
const FIREWALL_CHECK = 'firewall-check';
const SERVICE_ENDPOINTS_CHECK = 'service-endpoints-check';
const NODEPORT_ENDPOINTS_CHECK = 'nodeport-endpoints-check';

/** kube-proxy's base chains: name, type, hook, priority (DNAT is -100, SNAT 100, filter 0). */
const BASE_CHAINS: readonly (readonly [string, NftBaseChain])[] = [
  ['filter-prerouting-pre-dnat', { type: 'filter', hook: 'prerouting', priority: -110 }],
  ['filter-output-pre-dnat', { type: 'filter', hook: 'output', priority: -110 }],
  ['filter-input', { type: 'filter', hook: 'input', priority: 0 }],
  ['filter-forward', { type: 'filter', hook: 'forward', priority: 0 }],
  ['filter-output', { type: 'filter', hook: 'output', priority: 0 }],
  ['nat-prerouting', { type: 'nat', hook: 'prerouting', priority: -100 }],
  ['nat-output', { type: 'nat', hook: 'output', priority: -100 }],
  ['nat-postrouting', { type: 'nat', hook: 'postrouting', priority: 100 }],
];

/** The jumps from the base chains to kube-proxy's top-level chains, in kube-proxy's order. */
const JUMPS: readonly (readonly [to: string, from: string, extra: string])[] = [
  [NODEPORT_ENDPOINTS_CHECK, 'filter-input', 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK, 'filter-input', 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK, 'filter-forward', 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK, 'filter-output', 'ct state new'],
  [FIREWALL_CHECK, 'filter-prerouting-pre-dnat', 'ct state new'],
  [FIREWALL_CHECK, 'filter-output-pre-dnat', 'ct state new'],
  [SERVICES, 'nat-output', ''],
  [SERVICES, 'nat-prerouting', ''],
  [MASQUERADING, 'nat-postrouting', ''],
  [CLUSTER_IPS_CHECK, 'filter-forward', 'ct state new'],
  [CLUSTER_IPS_CHECK, 'filter-output', 'ct state new'],
];

const CHAIN_BASE_MAX = 256 - 16;

/** hashAndTruncate: the first 8 base32 characters of sha256(name), a dash, the name; cut to 240 characters. */
export function nftHashName(name: string): string {
  const out = `${sha256Base32(name, 8)}-${name}`;
  return out.length > CHAIN_BASE_MAX ? `${out.slice(0, CHAIN_BASE_MAX - 3)}...` : out;
}

/** `HASH-namespace/name/protocol/port`: the base of a Service port's chain names. */
export function nftServiceChainBase(namespace: string, name: string, protocol: string, portName: string): string {
  return nftHashName(`${namespace}/${name}/${protocol.toLowerCase()}/${portName}`);
}

/** `HASH-namespace/name/protocol/port__ip/port`, with an IPv6 address's colons as dots. */
export function nftEndpointChainBase(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
  ip: string,
  port: number,
): string {
  const host = ip.includes(':') ? ip.replace(/:/g, '.') : ip;
  return nftHashName(`${namespace}/${name}/${protocol.toLowerCase()}/${portName}__${host}/${port}`);
}

/** The chain names kube-proxy (nftables mode) uses for one Service port. */
export function nftServiceChains(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
): { service: string; local: string; external: string; firewall: string } {
  const base = nftServiceChainBase(namespace, name, protocol, portName);
  return {
    service: `service-${base}`,
    local: `local-${base}`,
    external: `external-${base}`,
    firewall: `firewall-${base}`,
  };
}

/** Go's ParseIPSloppy for IPv4: octets with leading zeros are read as decimal. */
function sloppyAddress(text: string): Address | undefined {
  const t = text.trim();
  if (!t.includes(':') && /^\d{1,3}(?:\.\d{1,3}){3}$/.test(t)) return parseAddress(t.split('.').map(Number).join('.'));
  return parseAddress(t);
}

function sloppyPrefix(text: string): Prefix | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) {
    const a = sloppyAddress(t);
    return a ? hostPrefix(a) : undefined;
  }
  const a = sloppyAddress(t.slice(0, slash));
  const len = t.slice(slash + 1);
  if (!a || !/^\d{1,3}$/.test(len)) return undefined;
  return parsePrefix(`${formatAddress(a)}/${Number(len)}`);
}

function addressesOf(family: 4 | 6, values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    const a = sloppyAddress(v);
    if (a?.family === family) out.push(formatAddress(a));
  }
  return out;
}

/**
 * The `nodeport-ips` set: the node's own addresses NodePorts answer on, or undefined when they answer on every local
 * address (`nodePortAddresses` with a zero CIDR, or none the node has). The only part of the table that reads the
 * node's addresses, except a LoadBalancer firewall's source list (see `nftNodeSpecific` in dataplane/kube-proxy.ts).
 */
export function nftNodePortIPsSet(input: KubeProxyNftInput): NftSetOut | undefined {
  const family = input.family ?? 4;
  const v6 = family === 6;
  const nodeIPs = addressesOf(family, input.nodeIPs);
  const nodeIP = nodeIPs[0];
  // NodePort addresses: unset means the primary node IP in this mode; a zero CIDR means every local address.
  const npaText = (input.nodePortAddresses ?? []).map((c) => c.trim()).filter((c) => c !== '');
  const npa = (npaText.length ? npaText : ['primary'])
    .flatMap((c) => (c === 'primary' ? (nodeIP ? [`${nodeIP}/${v6 ? 128 : 32}`] : []) : [c]))
    .map((c) => sloppyPrefix(c))
    .filter((p): p is Prefix => p?.family === family);
  if (npa.length === 0 || npa.some((p) => p.length === 0)) return undefined;
  const elements: NftElementOut[] = [];
  for (const ip of nodeIPs) {
    const a = parseAddress(ip);
    if (!a || !npa.some((p) => prefixContainsAddress(p, a))) continue;
    if (v6 ? ip === '::1' : ip.startsWith('127.')) continue;
    if (!elements.some((e) => e.key[0] === ip)) elements.push({ key: [ip] });
  }
  return {
    kind: 'set',
    name: 'nodeport-ips',
    type: v6 ? 'ipv6_addr' : 'ipv4_addr',
    comment: 'IPs that accept NodePort traffic',
    elements,
  };
}

interface Ep extends CategorizedEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly chain: string;
  readonly affinitySet: string;
}

/** The kube-proxy table for one IP family on `input.nodeName`. */
export function generateKubeProxyNftables(input: KubeProxyNftInput): NftTableOut {
  const family = input.family ?? 4;
  const v6 = family === 6;
  const ipX = v6 ? 'ip6' : 'ip';
  const addrType = v6 ? 'ipv6_addr' : 'ipv4_addr';
  const noLocalhost = v6 ? 'ip6 daddr != ::1' : 'ip daddr != 127.0.0.0/8';
  const mark = input.masqueradeMark ?? `0x${((1 << (input.masqueradeBit ?? 14)) >>> 0).toString(16).padStart(6, '0')}`;
  // The node's first address: a LoadBalancer firewall lets it through when its source ranges hold it.
  const nodeIP = addressesOf(family, input.nodeIPs)[0];

  const sets = new Map<string, NftSetOut>();
  const chains = new Map<string, NftChainOut>();
  const table: NftTableOut = {
    family: v6 ? 'ip6' : 'ip',
    name: TABLE,
    comment: 'rules for kube-proxy',
    sets: [],
    chains: [],
  };
  const chain = (name: string, extra: { base?: NftBaseChain; comment?: string } = {}): NftChainOut => {
    let c = chains.get(name);
    if (!c) {
      c = { name, ...extra, rules: [] };
      chains.set(name, c);
      table.chains.push(c);
    }
    return c;
  };
  const rule = (name: string, text: string, comment?: string): void => {
    chain(name).rules.push(comment === undefined ? { text } : { text, comment });
  };
  const set = (s: Omit<NftSetOut, 'elements'>): NftSetOut => {
    let out = sets.get(s.name);
    if (!out) {
      out = { ...s, elements: [] };
      sets.set(s.name, out);
      table.sets.push(out);
    }
    return out;
  };
  // The keys each set holds already: a set keeps an element's first entry (searching its list instead was quadratic
  // in Services: 10,000 ClusterIPs in one map).
  const keysOf = new Map<string, Set<string>>();
  const element = (setName: string, key: readonly string[], value?: string, comment?: string): void => {
    const s = sets.get(setName);
    if (!s) return;
    const k = key.join(' . ');
    let keys = keysOf.get(setName);
    if (!keys) keysOf.set(setName, (keys = new Set(s.elements.map((e) => e.key.join(' . ')))));
    if (keys.has(k)) return;
    keys.add(k);
    s.elements.push({ key, ...(value !== undefined ? { value } : {}), ...(comment !== undefined ? { comment } : {}) });
  };

  // Local traffic detector.
  const det = input.localDetector;
  let ifLocal: string | undefined;
  let ifNotLocal: string | undefined;
  if (det.mode === 'ClusterCIDR' || det.mode === 'NodeCIDR') {
    const cidr = det.cidrs.map((c) => sloppyPrefix(c)).find((p) => p?.family === family);
    if (cidr) {
      ifLocal = `${ipX} saddr ${canonical(cidr)}`;
      ifNotLocal = `${ipX} saddr != ${canonical(cidr)}`;
    }
  } else if (det.mode === 'BridgeInterface') {
    ifLocal = `iifname ${det.interface}`;
    ifNotLocal = `iifname != ${det.interface}`;
  } else if (det.mode === 'InterfaceNamePrefix') {
    ifLocal = `iifname ${det.prefix}*`;
    ifNotLocal = `iifname != ${det.prefix}*`;
  }

  const nodePortIPs = nftNodePortIPsSet(input);
  const matchAll = nodePortIPs === undefined;

  // setupNFTables.
  for (const [name, base] of BASE_CHAINS) chain(name, { base });
  for (const [to, from, extra] of JUMPS) {
    chain(to);
    rule(from, extra ? `${extra} jump ${to}` : `jump ${to}`);
  }
  for (const c of [SERVICES, CLUSTER_IPS_CHECK, MASQUERADING, MARK_MASQ]) chain(c);
  rule(MARK_MASQ, `mark set mark or ${mark}`);
  rule(MASQUERADING, `mark and ${mark} == 0 return`);
  rule(MASQUERADING, `mark set mark xor ${mark}`);
  rule(MASQUERADING, 'masquerade fully-random');
  set({ kind: 'set', name: 'cluster-ips', type: addrType, comment: 'Active ClusterIPs' });
  rule(CLUSTER_IPS_CHECK, `${ipX} daddr @cluster-ips reject`, 'Reject traffic to invalid ports of ClusterIPs');
  const serviceCIDRs = (input.serviceCIDRs ?? [])
    .map((c) => sloppyPrefix(c))
    .filter((p): p is Prefix => p?.family === family)
    .map((p) => canonical(p));
  if (serviceCIDRs.length)
    rule(
      CLUSTER_IPS_CHECK,
      `${ipX} daddr { ${serviceCIDRs.join(',')} } drop`,
      'Drop traffic to unallocated ClusterIPs',
    );
  if (nodePortIPs) {
    sets.set(nodePortIPs.name, nodePortIPs);
    table.sets.push(nodePortIPs);
  }
  const tuple = `${addrType} . inet_proto . inet_service : verdict`;
  set({
    kind: 'map',
    name: 'no-endpoint-services',
    type: tuple,
    comment: 'vmap to drop or reject packets to services with no endpoints',
  });
  set({
    kind: 'map',
    name: 'no-endpoint-nodeports',
    type: 'inet_proto . inet_service : verdict',
    comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
  });
  chain(REJECT_CHAIN, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  rule(REJECT_CHAIN, 'reject');
  rule(SERVICE_ENDPOINTS_CHECK, `${ipX} daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  rule(
    NODEPORT_ENDPOINTS_CHECK,
    matchAll
      ? `${noLocalhost} meta l4proto . th dport vmap @no-endpoint-nodeports`
      : `${ipX} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
  );
  set({
    kind: 'map',
    name: 'firewall-ips',
    type: tuple,
    comment: 'destinations that are subject to LoadBalancerSourceRanges',
  });
  chain(FIREWALL_CHECK);
  rule(FIREWALL_CHECK, `${ipX} daddr . meta l4proto . th dport vmap @firewall-ips`);
  set({ kind: 'map', name: 'service-ips', type: tuple, comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic' });
  set({
    kind: 'map',
    name: 'service-nodeports',
    type: 'inet_proto . inet_service : verdict',
    comment: 'NodePort traffic',
  });
  rule(SERVICES, `${ipX} daddr . meta l4proto . th dport vmap @service-ips`);
  rule(
    SERVICES,
    matchAll
      ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @service-nodeports`
      : `${ipX} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
  );

  // syncProxyRules, per Service port.
  for (const svc of input.services) writeService(svc);

  function writeService(svc: ServiceInput): void {
    const cip = sloppyAddress(svc.clusterIP ?? '');
    if (!cip || cip.family !== family) return;
    const clusterIP = formatAddress(cip);
    for (const port of svc.ports) {
      const protocol = port.protocol.toLowerCase();
      const spn = servicePortName(svc.namespace, svc.name, port.name);
      const names = nftServiceChains(svc.namespace, svc.name, protocol, port.name);
      const eps: Ep[] = [];
      for (const e of svc.endpoints) {
        const p = endpointPort(e, port);
        const a = sloppyAddress(e.ip);
        if (p === undefined || a?.family !== family) continue;
        const ip = formatAddress(a);
        const base = nftEndpointChainBase(svc.namespace, svc.name, protocol, port.name, ip, p);
        const ready = e.ready ?? true;
        eps.push({
          ip,
          port: p,
          text: endpointString(ip, p),
          local: e.node !== undefined && e.node === input.nodeName,
          ready,
          serving: e.serving ?? ready,
          terminating: e.terminating ?? false,
          chain: `endpoint-${base}`,
          affinitySet: `affinity-${base}`,
        });
      }
      const externalIPs = addressesOf(family, svc.externalIPs);
      const lbIPs = addressesOf(family, vipLoadBalancerIPs(svc));
      const sourceRanges = (svc.loadBalancerSourceRanges ?? [])
        .map((r) => sloppyPrefix(r))
        .filter((p): p is Prefix => p?.family === family);
      const nodePort = port.nodePort ?? 0;
      const externallyAccessible = nodePort !== 0 || lbIPs.length > 0 || externalIPs.length > 0;
      const internalLocal = svc.internalTrafficPolicy === 'Local';
      const externalLocal = externallyAccessible && svc.externalTrafficPolicy === 'Local';
      const usesCluster = !internalLocal || externallyAccessible;
      const usesLocal = internalLocal || externalLocal;
      const { cluster, local, all, hasAny } = categorize(eps, usesCluster, usesLocal);
      const usesClusterChain = cluster.length > 0 && usesCluster;
      const usesLocalChain = local.length > 0 && usesLocal;
      const internalChain = internalLocal ? names.local : names.service;
      const hasInternal = internalLocal ? hasAny && local.length > 0 : hasAny;
      const externalPolicyChain = externalLocal ? names.local : names.service;
      const hasExternal = externalLocal ? hasAny && local.length > 0 : hasAny;
      const usesExternalChain = hasAny && externallyAccessible;
      const usesFW = lbIPs.length > 0 && sourceRanges.length > 0;

      // Chains are declared in kube-proxy's order (endpoint chains first).
      for (const ep of all) chain(ep.chain);
      if (usesClusterChain) chain(names.service);
      if (usesLocalChain) chain(names.local);
      if (usesExternalChain) chain(names.external);

      let internalVerdict = '';
      let externalVerdict = '';
      if (!hasAny) internalVerdict = externalVerdict = `goto ${REJECT_CHAIN}`;
      else {
        if (!hasInternal) internalVerdict = 'drop';
        if (!hasExternal) externalVerdict = 'drop';
      }

      element('cluster-ips', [clusterIP]);
      if (hasInternal) element('service-ips', [clusterIP, protocol, String(port.port)], `goto ${internalChain}`);
      else element('no-endpoint-services', [clusterIP, protocol, String(port.port)], internalVerdict, spn);
      for (const ip of externalIPs) {
        if (hasAny) element('service-ips', [ip, protocol, String(port.port)], `goto ${names.external}`);
        if (!hasExternal) element('no-endpoint-services', [ip, protocol, String(port.port)], externalVerdict, spn);
      }
      if (usesFW) chain(names.firewall);
      for (const ip of lbIPs) {
        if (hasAny) element('service-ips', [ip, protocol, String(port.port)], `goto ${names.external}`);
        if (usesFW) element('firewall-ips', [ip, protocol, String(port.port)], `goto ${names.firewall}`);
      }
      if (!hasExternal)
        for (const ip of lbIPs)
          element('no-endpoint-services', [ip, protocol, String(port.port)], externalVerdict, spn);
      if (nodePort !== 0) {
        if (hasAny) element('service-nodeports', [protocol, String(nodePort)], `goto ${names.external}`);
        if (!hasExternal) element('no-endpoint-nodeports', [protocol, String(nodePort)], externalVerdict, spn);
      }

      if (hasInternal) {
        const head = `${ipX} daddr ${clusterIP}`;
        if (input.masqueradeAll) rule(internalChain, `${head} jump ${MARK_MASQ}`);
        else if (ifNotLocal) rule(internalChain, `${head} ${ifNotLocal} jump ${MARK_MASQ}`);
      }
      if (usesExternalChain) {
        if (!externalLocal) rule(names.external, `jump ${MARK_MASQ}`);
        else {
          if (ifLocal) rule(names.external, `${ifLocal} goto ${names.service}`, 'short-circuit pod traffic');
          rule(names.external, `fib saddr type local jump ${MARK_MASQ}`, 'masquerade local traffic');
          rule(names.external, `fib saddr type local goto ${names.service}`, 'short-circuit local traffic');
        }
        if (hasExternal) rule(names.external, `goto ${externalPolicyChain}`);
      }
      if (usesFW) {
        const sources = sourceRanges.map((p) => canonical(p));
        const node = nodeIP ? parseAddress(nodeIP) : undefined;
        if (node && sourceRanges.some((p) => prefixContainsAddress(p, node))) sources.push(...lbIPs);
        rule(names.firewall, `${ipX} saddr != { ${sources.join(' , ')} } drop`);
      }
      const affinity = svc.sessionAffinity === 'ClientIP';
      if (affinity)
        for (const ep of all)
          set({
            kind: 'set',
            name: ep.affinitySet,
            type: addrType,
            flags: ['dynamic', 'timeout'],
            timeout: svc.sessionAffinityTimeoutSeconds ?? 10800,
          });
      const lb = (chainName: string, list: readonly Ep[]): void => {
        if (affinity) for (const ep of list) rule(chainName, `${ipX} saddr @${ep.affinitySet} goto ${ep.chain}`);
        const vmap = list.map((ep, i) => `${i} : goto ${ep.chain}`).join(' , ');
        rule(chainName, `numgen random mod ${list.length} vmap { ${vmap} }`);
      };
      if (usesClusterChain) lb(names.service, cluster);
      if (usesLocalChain) lb(names.local, local);
      for (const ep of all) {
        rule(ep.chain, `${ipX} saddr ${ep.ip} jump ${MARK_MASQ}`);
        if (affinity) rule(ep.chain, `update @${ep.affinitySet} { ${ipX} saddr }`);
        rule(ep.chain, `meta l4proto ${protocol} dnat to ${ep.text}`);
      }
    }
  }
  return table;
}

const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;

function setSpec(s: NftSetOut): string {
  const parts = [`type ${s.type}`];
  if (s.flags?.length) parts.push(`flags ${s.flags.join(',')}`);
  if (s.timeout !== undefined) parts.push(`timeout ${s.timeout}s`);
  if (s.comment !== undefined) parts.push(`comment ${quote(s.comment)}`);
  return parts.join(' ; ');
}

function elementText(e: NftElementOut): string {
  const comment = e.comment !== undefined ? ` comment ${quote(e.comment)}` : '';
  return `${e.key.join(' . ')}${comment}${e.value !== undefined ? ` : ${e.value}` : ''}`;
}

function ruleText(r: NftRuleOut): string {
  return r.comment !== undefined ? `${r.text} comment ${quote(r.comment)}` : r.text;
}

/** knftables' dump of the table: one `add …` line per object, rule and element (what kube-proxy's tests compare). */
export function renderNftTransaction(t: NftTableOut): string[] {
  const at = `${t.family} ${t.name}`;
  const out = [`add table ${at} { comment ${quote(t.comment)} ; }`];
  for (const c of t.chains) {
    const spec = c.base
      ? ` { type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority} ; }`
      : c.comment !== undefined
        ? ` { comment ${quote(c.comment)} ; }`
        : '';
    out.push(`add chain ${at} ${c.name}${spec}`);
  }
  for (const s of t.sets) out.push(`add ${s.kind} ${at} ${s.name} { ${setSpec(s)} ; }`);
  for (const c of t.chains) for (const r of c.rules) out.push(`add rule ${at} ${c.name} ${ruleText(r)}`);
  for (const s of t.sets) for (const e of s.elements) out.push(`add element ${at} ${s.name} { ${elementText(e)} }`);
  return out;
}

export { nftPriorityText };

/** A time as nft prints it: `3h`, `1h30m`, `10s`. */
export function nftTimeText(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('') || '0s';
}

const hex8 = (v: string): string => `0x${(Number.parseInt(v, 16) >>> 0).toString(16).padStart(8, '0')}`;
const OPS: Record<string, string> = { and: '&', or: '|', xor: '^' };

/**
 * A kube-proxy rule as nft prints it back: `mark` spelled `meta mark` with operators and 32-bit hex, a one-element
 * anonymous set as its element, `, ` between verdict map entries. (Checked against nft's own listing of every
 * scenario's tables in the kernel tier.)
 */
export function nftListedRule(text: string): string {
  return text
    .replace(/^mark and (0x[0-9a-f]+) == 0\b/, (_, m: string) => `meta mark & ${hex8(m)} == 0x00000000`)
    .replace(
      /\bmark set mark (and|or|xor) (0x[0-9a-f]+)\b/,
      (_, op: string, m: string) => `meta mark set meta mark ${OPS[op]} ${hex8(m)}`,
    )
    .replace(/(?<!vmap )\{ ([^\s{},]+) \}/g, '$1')
    .replace(/(?<!vmap )\{ ([^{}]+, [^{}]+) \}/g, (whole, list: string) =>
      // A map's entries (`key : value`) are left alone; IPv6 addresses have colons too, never with spaces around.
      list.includes(' : ') ? whole : `{ ${mergedAddresses(list.split(/\s*,\s*/))} }`,
    )
    .replace(/ , /g, ', ');
}

/**
 * An anonymous set of addresses as nft keeps it: an interval set, where an element inside another one is merged into
 * it (`{ 192.168.56.0/24, 192.168.56.200 }` lists as `{ 192.168.56.0/24 }`, `{ fd00:56::/64, fd00:56::c8 }` as
 * `{ fd00:56::/64 }`; nft 1.0.6 keeps the braces around what is left). Other lists are left as written.
 */
function mergedAddresses(items: readonly string[]): string {
  const ranges = items.map((x) => {
    const p = x.includes('/') ? parsePrefix(x) : undefined;
    const a = p ? undefined : parseAddress(x);
    return p
      ? { lo: firstOf(p), hi: lastOf(p), family: p.family }
      : a
        ? { lo: a.value, hi: a.value, family: a.family }
        : undefined;
  });
  const known = ranges.flatMap((r) => (r ? [r] : []));
  if (known.length !== items.length) return items.join(', ');
  const kept = items.filter((_, i) => {
    const r = known[i];
    return !known.some(
      (o, j) =>
        j !== i && o.family === r.family && o.lo <= r.lo && r.hi <= o.hi && (o.lo !== r.lo || o.hi !== r.hi || j < i),
    );
  });
  return kept.join(', ');
}

/** The elements of a set as nft lists them: simple values two to a line, concatenations and map entries one. */
function listedElements(s: NftSetOut): string {
  const perLine = s.kind === 'map' || s.type.includes(' . ') ? 1 : 2;
  const texts = s.elements.map(elementText);
  const lines: string[] = [];
  for (let i = 0; i < texts.length; i += perLine) lines.push(texts.slice(i, i + perLine).join(', '));
  return `{ ${lines.join(',\n\t\t\t     ')} }`;
}

/** One set or map of a table as `nft list ruleset` prints it: its lines, without the last newline. */
export function renderNftSet(s: NftSetOut): string {
  const b = [`\t${s.kind} ${s.name} {`, `\t\ttype ${s.type}`];
  // nft gives a dynamic set its default size and prints it.
  if (s.flags?.includes('dynamic')) b.push('\t\tsize 65535');
  if (s.flags?.length) b.push(`\t\tflags ${s.flags.join(',')}`);
  if (s.timeout !== undefined) b.push(`\t\ttimeout ${nftTimeText(s.timeout)}`);
  if (s.comment !== undefined) b.push(`\t\tcomment ${quote(s.comment)}`);
  if (s.elements.length) b.push(`\t\telements = ${listedElements(s)}`);
  b.push('\t}');
  return b.join('\n');
}

/**
 * The table as one `table` block, as `nft list ruleset` prints it (nft 1.0.6: named priorities, `meta mark`
 * expressions, a blank line between objects, sets before chains) and `nft -f` reads it. The kernel may list a set's
 * elements in another order (hash sets); nothing else differs.
 */
export function renderNftRuleset(t: NftTableOut): string {
  return layOutNftRuleset(t).text;
}

/** The table rendered as `renderNftRuleset` does, with where each of its blocks lies in the text. */
export function layOutNftRuleset(t: NftTableOut): { readonly text: string; readonly blocks: readonly NftBlockAt[] } {
  const blocks: { readonly place: Omit<NftBlockAt, 'start' | 'end'>; readonly text: string }[] = t.sets.map((s) => ({
    place: { kind: s.kind, name: s.name, base: false },
    text: renderNftSet(s),
  }));
  for (const c of t.chains) {
    const b = [`\tchain ${c.name} {`];
    if (c.base)
      b.push(
        `\t\ttype ${c.base.type} hook ${c.base.hook} priority ${nftPriorityText(c.base.hook, c.base.priority)}; policy accept;`,
      );
    if (c.comment !== undefined) b.push(`\t\tcomment ${quote(c.comment)}`);
    for (const r of c.rules) b.push(`\t\t${nftListedRule(ruleText(r))}`);
    b.push('\t}');
    blocks.push({ place: { kind: 'chain', name: c.name, base: c.base !== undefined }, text: b.join('\n') });
  }
  const parts = [`table ${t.family} ${t.name} {\n\tcomment ${quote(t.comment)}`];
  let at = parts[0].length;
  const places: NftBlockAt[] = [];
  blocks.forEach((b, i) => {
    // Each object on lines of its own, a blank line between objects.
    const lead = i > 0 ? '\n\n' : '\n';
    places.push({ ...b.place, start: at + lead.length, end: at + lead.length + b.text.length });
    parts.push(lead, b.text);
    at += lead.length + b.text.length;
  });
  parts.push('\n}\n');
  return { text: parts.join(''), blocks: places };
}
