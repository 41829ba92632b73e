/**
 * `cluster.cni` from what was read: a NetPath document's `cni:` wins key by key, then the CNI configurations read
 * (the first network configuration by file path, as kubelet and libcni take the first file of /etc/cni/net.d in
 * lexical order; the first flannel ConfigMap; every Calico IPPool), then kind's default CNI, then the documented
 * defaults. Each value keeps the span of the line it came from.
 */
import { problem, type Span } from '../problem';
import { CNI_PLUGIN_NAMES, DEFAULT_CNI_NETWORK, DEFAULT_CNI_PLUGIN, type CniPluginName } from '../cni/names';
import { bool, get, getBool, getInt, getStr, list, map, str } from './read';
import type { YMap } from '../syntax/yaml';
import type { ConfigRanges, Drafts } from './drafts';
import type { CniSettings, FlannelSettings, IPPool, PortmapSettings } from './types';
import { enumOf, spansOf } from './fields';
import { isOneOf } from '../lookup';

export const CNI_PLUGIN_UNMODELLED = 'cni.plugin-unmodelled';
export const CNI_VXLAN_MISMATCH = 'cni.vxlan-mismatch';

const byPlace = (a: { span: Span }, b: { span: Span }) =>
  a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : a.span.start - b.span.start;

/** What the configurations say the plug-in is: the names NetPath may model it by, in order of preference. */
interface Implied {
  readonly what: string;
  readonly candidates: readonly string[];
  readonly span: Span;
}

/** The first of `candidates` NetPath models (a plug-in module exists under src/core/cni), if any. */
export function modelledPlugin(candidates: readonly string[]): CniPluginName | undefined {
  return candidates.find((c) => isOneOf(CNI_PLUGIN_NAMES, c));
}

function implied(b: Drafts, flannel: FlannelSettings | undefined, pools: readonly IPPool[]): Implied | undefined {
  const net = [...b.cniNetworks].sort((x, y) => byPlace(x.config, y.config))[0];
  const main = net?.main;
  const flannelImplied = (span: Span): Implied => {
    const backend = flannel?.backend ?? 'vxlan';
    return backend === 'host-gw'
      ? { what: 'flannel (host-gw backend)', candidates: ['flannel-host-gw', 'flannel', 'bridge'], span }
      : {
          what: `flannel (${backend} backend)`,
          // The flannel plug-in models the vxlan and host-gw backends; another (wireguard, udp) stays unmodelled.
          candidates: backend === 'vxlan' ? ['flannel-vxlan', 'flannel'] : [`flannel-${backend}`],
          span,
        };
  };
  const calicoImplied = (span: Span): Implied => {
    const used = pools.filter((p) => !p.disabled);
    const encap = used.some((p) => p.vxlanMode !== 'Never')
      ? 'vxlan'
      : used.some((p) => p.ipipMode !== 'Never')
        ? 'ipip'
        : '';
    return {
      what: `Calico${encap ? ` (${encap === 'vxlan' ? 'VXLAN' : 'IPIP'} encapsulation)` : ' (routed, BGP)'}`,
      // The `calico` plug-in follows each pool's vxlanMode and ipipMode (routed, VXLAN or IPIP per remote block).
      candidates: ['calico'],
      span,
    };
  };
  if (main) {
    switch (main.type) {
      case 'bridge':
        return { what: 'the CNI bridge plug-in', candidates: ['bridge'], span: main.span };
      case 'ptp':
        return { what: 'the CNI ptp plug-in', candidates: ['ptp', 'kindnet'], span: main.span };
      case 'flannel':
        return flannelImplied(main.span);
      case 'calico':
        return calicoImplied(main.span);
      default:
        return { what: `the CNI plug-in '${main.type}'`, candidates: [main.type], span: main.span };
    }
  }
  if (flannel) return flannelImplied(flannel.spans['Backend.Type'] ?? flannel.span);
  if (pools.length) return calicoImplied(pools[0].spans.name ?? pools[0].span);
  const kind = b.kindCni.find((k) => k.config === b.clusterConfig?.span) ?? b.kindCni[0];
  if (kind && !kind.disabled)
    return { what: "kind's default CNI, kindnet (ptp)", candidates: ['kindnet', 'ptp'], span: kind.config };
  return undefined;
}

/** `cluster.cni`: the NetPath document's `cni:` (`node`), then the configurations read, then defaults. */
export function cniSettings(b: Drafts, node: YMap | undefined, defaultSpan: Span): CniSettings {
  const nets = [...b.cniNetworks].sort((x, y) => byPlace(x.config, y.config));
  const used = nets[0];
  const conf = used?.config;
  const flannel = flannelOf(b, node);
  if (flannel) vxlanMismatch(b, flannel);
  const pools = ipPoolsOf(b, node);
  const written = getStr(node, 'plugin');
  const guess = implied(b, flannel, pools);
  const modelled = guess ? modelledPlugin(guess.candidates) : undefined;
  let unmodelled: CniSettings['unmodelled'];
  if (!written && guess && !modelled) {
    unmodelled = { what: guess.what, span: guess.span };
    b.problems.push(
      problem(
        CNI_PLUGIN_UNMODELLED,
        'info',
        `This cluster's CNI is ${guess.what}, which NetPath does not model yet: traces, Show Node Rules and the kernel lab show the ${DEFAULT_CNI_PLUGIN} plug-in with host-gw routes instead. Set cluster.cni.plugin in a NetPath document to say which model to use.`,
        guess.span,
      ),
    );
  }
  const kind = b.kindCni.find((k) => k.disabled);
  if (kind && !written && !guess)
    b.problems.push(
      problem(
        CNI_PLUGIN_UNMODELLED,
        'info',
        `kind's default CNI is disabled (disableDefaultCNI: true) and no CNI configuration was read (a conflist, flannel's kube-flannel-cfg ConfigMap, Calico IPPools): NetPath cannot know how pods are wired and shows the ${DEFAULT_CNI_PLUGIN} plug-in. Add the CNI's manifests or set cluster.cni.plugin.`,
        kind.span,
      ),
    );
  const spans: Record<string, Span> = node
    ? spansOf(node, ['plugin', 'bridge', 'ipMasq', 'hairpinMode', 'mtu', 'network', 'portmap', 'flannel', 'ipPools'])
    : {};
  const fromConf = (key: string) => {
    const at = conf?.spans[key === 'network' ? 'name' : key];
    return at ? { [key]: at } : {};
  };
  const pick = <T>(key: string, own: T | undefined, fromConfig: T | undefined, fallback: T): T => {
    if (own !== undefined) return own;
    if (fromConfig !== undefined) {
      Object.assign(spans, fromConf(key));
      return fromConfig;
    }
    return fallback;
  };
  if (!spans.plugin && guess && modelled) spans.plugin = guess.span;
  const plugin = enumOf(written, CNI_PLUGIN_NAMES, modelled ?? DEFAULT_CNI_PLUGIN);
  return {
    plugin,
    bridge: pick('bridge', getStr(node, 'bridge'), conf?.bridge, 'cni0'),
    ipMasq: pick('ipMasq', getBool(node, 'ipMasq'), conf?.ipMasq, false),
    hairpinMode: pick('hairpinMode', getBool(node, 'hairpinMode'), conf?.hairpinMode, true),
    mtu: pick<number | undefined>('mtu', getInt(node, 'mtu'), conf?.mtu, undefined),
    network: pick('network', getStr(node, 'network'), conf?.name || undefined, DEFAULT_CNI_NETWORK[plugin]),
    portmap: portmapOf(node, used, defaultSpan),
    flannel,
    ipPools: pools,
    configs: nets.map((n) => n.config),
    unmodelled,
    defaultCniDisabled: kind && !guess ? { span: kind.span } : undefined,
    span: node?.span ?? conf?.span ?? defaultSpan,
    spans,
    origin: node ? 'netpath' : conf ? conf.origin : 'default',
  };
}

function portmapOf(
  node: YMap | undefined,
  used: Drafts['cniNetworks'][number] | undefined,
  fallback: Span,
): PortmapSettings {
  const own = get(node, 'portmap');
  if (own) {
    const m = map(own);
    return {
      enabled: bool(own) ?? getBool(m, 'enabled') ?? true,
      snat: getBool(m, 'snat') ?? true,
      markMasqBit: getInt(m, 'markMasqBit') ?? 13,
      span: own.span,
      spans: m ? spansOf(m, ['enabled', 'snat', 'markMasqBit']) : { enabled: own.span },
      origin: 'netpath',
    };
  }
  if (used?.portmap) return used.portmap;
  // A configuration was read and its chain has no portmap: hostPorts are not opened.
  if (used)
    return {
      enabled: false,
      snat: true,
      markMasqBit: 13,
      span: used.config.span,
      spans: { enabled: used.config.span },
      origin: used.config.origin,
    };
  return { enabled: true, snat: true, markMasqBit: 13, span: fallback, spans: {}, origin: 'default' };
}

function flannelOf(b: Drafts, node: YMap | undefined): FlannelSettings | undefined {
  const own = map(get(node, 'flannel'));
  if (own) {
    const backend = map(get(own, 'backend'));
    return {
      network: getStr(own, 'network'),
      subnetLen: getInt(own, 'subnetLen') ?? 24,
      enableIPv6: str(get(own, 'ipv6Network')) !== undefined,
      ipv6Network: str(get(own, 'ipv6Network')),
      backend: (getStr(backend, 'type') ?? 'vxlan').toLowerCase(),
      vni: getInt(backend, 'vni') ?? 1,
      port: getInt(backend, 'port') ?? 8472,
      ipMasq: getBool(own, 'ipMasq') ?? true,
      span: own.span,
      spans: {
        ...spansOf(own, ['network', 'subnetLen', 'ipv6Network', 'ipMasq']),
        ...(backend
          ? Object.fromEntries(
              Object.entries(spansOf(backend, ['type', 'vni', 'port'])).map(([k, v]) => [`backend.${k}`, v]),
            )
          : {}),
      },
      origin: 'netpath',
    };
  }
  return [...b.flannelConfigs].map((f) => f.flannel).sort(byPlace)[0];
}

function ipPoolsOf(b: Drafts, node: YMap | undefined): IPPool[] {
  const own: IPPool[] = list(get(node, 'ipPools')).flatMap((p, i) => {
    const m = map(p);
    const cidr = getStr(m, 'cidr');
    if (!m || !cidr) return [];
    const mode = (key: string) => enumOf(str(get(m, key)), ['Never', 'Always', 'CrossSubnet'] as const, 'Never');
    return [
      {
        name: getStr(m, 'name') ?? `pool-${i}`,
        cidr,
        blockSize: getInt(m, 'blockSize') ?? (cidr.includes(':') ? 122 : 26),
        ipipMode: mode('ipipMode'),
        vxlanMode: mode('vxlanMode'),
        natOutgoing: getBool(m, 'natOutgoing') ?? false,
        disabled: getBool(m, 'disabled') ?? false,
        nodeSelector: getStr(m, 'nodeSelector') ?? 'all()',
        span: m.span,
        spans: spansOf(m, [
          'name',
          'cidr',
          'blockSize',
          'ipipMode',
          'vxlanMode',
          'natOutgoing',
          'disabled',
          'nodeSelector',
        ]),
        origin: 'netpath' as const,
      },
    ];
  });
  return [...own, ...b.ipPools];
}

/**
 * The cluster pod range the CNI configurations imply when nothing else declares one: flannel's Network (and
 * IPv6Network), else the enabled Calico IPPools (they are where pod addresses come from).
 */
export function cniPodRanges(b: Drafts): ConfigRanges | undefined {
  const own = map(get(b.clusterNode, 'cni'));
  const flannel = flannelOf(b, own);
  if (flannel) {
    const out: ConfigRanges = [];
    const at = (key: string) => flannel.spans[key] ?? flannel.span;
    if (flannel.network)
      out.push({ value: flannel.network, span: at(flannel.origin === 'netpath' ? 'network' : 'Network') });
    if (flannel.ipv6Network)
      out.push({ value: flannel.ipv6Network, span: at(flannel.origin === 'netpath' ? 'ipv6Network' : 'IPv6Network') });
    if (out.length) return out;
  }
  // One range per family, as a cluster range is: the first enabled pool of each.
  const pools = ipPoolsOf(b, own).filter((p) => !p.disabled);
  const first = [pools.find((p) => !p.cidr.includes(':')), pools.find((p) => p.cidr.includes(':'))].flatMap((p) =>
    p ? [p] : [],
  );
  return first.length ? first.map((p) => ({ value: p.cidr, span: p.spans.cidr ?? p.span })) : undefined;
}

/**
 * `cni.vxlan-mismatch`: flannel configurations (two kube-flannel-cfg ConfigMaps, as during a move from kube-system
 * to kube-flannel, or a NetPath document and a ConfigMap) that give VXLAN different VNIs or UDP ports. Nodes run by
 * one and by the other cannot reach each other's pods: a VTEP drops VXLAN packets of another VNI, and packets sent
 * to a port no VTEP listens on never reach one (flannel-io/flannel pkg/backend/vxlan: each node's flannel.<VNI>
 * device listens on its configured port).
 */
function vxlanMismatch(b: Drafts, used: FlannelSettings): void {
  const all: { f: FlannelSettings; where: string }[] = [
    ...(used.origin === 'netpath' ? [{ f: used, where: 'the NetPath document (cluster.cni.flannel)' }] : []),
    ...[...b.flannelConfigs]
      .sort((x, y) => byPlace(x.flannel, y.flannel))
      .map((x) => ({ f: x.flannel, where: `ConfigMap ${x.namespace}/kube-flannel-cfg` })),
  ].filter((x) => x.f.backend === 'vxlan');
  if (all.length < 2) return;
  const first = all[0];
  const at = (f: FlannelSettings, key: 'vni' | 'port') =>
    f.origin === 'netpath'
      ? (f.spans[`backend.${key}`] ?? f.span)
      : (f.spans[key === 'vni' ? 'Backend.VNI' : 'Backend.Port'] ?? f.spans['Backend.Type'] ?? f.span);
  for (const other of all.slice(1)) {
    for (const key of ['vni', 'port'] as const) {
      if (other.f[key] === first.f[key]) continue;
      const what = key === 'vni' ? 'VNI' : 'UDP port';
      b.problems.push(
        problem(
          CNI_VXLAN_MISMATCH,
          'error',
          `flannel's VXLAN ${what} is ${other.f[key]} in ${other.where} but ${first.f[key]} in ${first.where}: nodes configured by one cannot reach the pods of nodes configured by the other (${key === 'vni' ? 'a VTEP drops VXLAN packets of another VNI' : 'packets go to a port no VTEP listens on'}). Every node must use the same ${what}.`,
          at(other.f, key),
          [{ span: at(first.f, key), message: `${what} ${first.f[key]} in ${first.where}` }],
        ),
      );
    }
  }
}
