/**
 * The CNI configurations people have, read into the model as if written in the NetPath format (`cluster.cni`),
 * each value keeping the span of the line it came from:
 * - CNI network configuration lists (`/etc/cni/net.d/*.conflist`) and single `.conf` files: bridge, ptp, flannel,
 *   calico, host-local IPAM (range sets, routes, gateway), portmap (containernetworking/cni SPEC.md);
 * - the same JSON inside a ConfigMap (flannel's `cni-conf.json`, a `*.conflist` key);
 * - flannel's `kube-flannel-cfg` ConfigMap (`net-conf.json`: Network, SubnetLen, EnableIPv4/IPv6, IPv6Network,
 *   Backend.Type/VNI/Port; flannel-io/flannel pkg/subnet/config.go, pkg/backend/vxlan/vxlan.go);
 * - Calico `IPPool` resources (projectcalico.org/v3, crd.projectcalico.org/v1; libcalico-go's IPPoolSpec).
 * JSON is parsed by the same YAML reader (JSON is YAML 1.2), which keeps offsets. JSON embedded in a ConfigMap's
 * block scalar is parsed on its own and its spans are moved back onto the ConfigMap's lines.
 */
import { problem, type Span } from '../problem';
import { parseAddress, parsePrefix, prefixContainsAddress } from '../net/address';
import { parseYamlFile, type YMap, type YNode } from '../syntax/yaml';
import { MapNode, ScalarNode, SeqNode } from '../syntax/nodes';
import { bool, get, getBool, getInt, getStr, int, list, map, str } from './read';
import type { Drafts, Spans } from './drafts';
import type { CniIpam, CniIpamRange, CniNetworkConfig, FlannelSettings, IPPool, PortmapSettings } from './types';
import { spansOf } from './fields';

export const CNI_CONFIG_INVALID = 'cni.config-invalid';

/** What one CNI network configuration says, as drafts keep it until merging. */
export interface CniNetworkDraft {
  readonly config: CniNetworkConfig;
  /** The portmap plug-in's settings, when the chain has it. */
  readonly portmap: PortmapSettings | undefined;
  /** The main plug-in's `type` with its span (the first plug-in of the chain that is not a meta plug-in). */
  readonly main: { readonly type: string; readonly span: Span } | undefined;
}

/** Meta plug-ins chained after the main one (they wire nothing of their own). */
const META_PLUGINS = new Set(['portmap', 'bandwidth', 'tuning', 'firewall', 'sbr', 'loopback', 'cilium-cni']);

/** Whether a JSON/YAML root is a CNI network configuration (no apiVersion/kind; a `plugins` list or a `type`). */
export function isCniNetworkConfig(root: YMap): boolean {
  if (get(root, 'kind') || get(root, 'apiVersion')) return false;
  const hasVersion = get(root, 'cniVersion') !== undefined;
  if (get(root, 'plugins')?.kind === 'seq') return hasVersion || get(root, 'name') !== undefined;
  return hasVersion && getStr(root, 'type') !== undefined;
}

const invalid = (b: Drafts, message: string, span: Span) =>
  b.problems.push(problem(CNI_CONFIG_INVALID, 'error', message, span));

/** Reads a CNI network configuration (list or single) into `b.cniNetworks`. */
export function readCniNetwork(b: Drafts, root: YMap, origin: 'CniConfig' | 'ConfigMap'): void {
  const pluginsNode = get(root, 'plugins');
  let items: readonly YNode[];
  if (pluginsNode) {
    if (pluginsNode.kind !== 'seq') {
      invalid(
        b,
        "A CNI network configuration list's `plugins` must be a list of plug-in configurations.",
        pluginsNode.span,
      );
      return;
    }
    items = pluginsNode.items;
  } else items = [root];
  const name = getStr(root, 'name') ?? '';
  if (!name) invalid(b, 'A CNI network configuration needs a `name` (libcni refuses it without one).', root.span);
  const plugins: { type: string; span: Span }[] = [];
  let bridge: string | undefined;
  let hairpinMode: boolean | undefined;
  let ipMasq: boolean | undefined;
  let mtu: number | undefined;
  let ipam: CniIpam | undefined;
  let portmap: PortmapSettings | undefined;
  const spans: Spans = { name: get(root, 'name')?.span ?? root.span };
  for (const item of items) {
    const p = map(item);
    const typeNode = get(p, 'type');
    const type = str(typeNode);
    if (!p || !type || !typeNode) {
      invalid(b, 'Each plug-in of a CNI configuration needs a `type` (the plug-in binary libcni runs).', item.span);
      continue;
    }
    plugins.push({ type, span: typeNode.span });
    switch (type) {
      case 'bridge':
        bridge = getStr(p, 'bridge') ?? 'cni0';
        hairpinMode = getBool(p, 'hairpinMode') ?? false;
        ipMasq = getBool(p, 'ipMasq') ?? false;
        Object.assign(spans, prefixed(spansOf(p, ['bridge', 'hairpinMode', 'ipMasq', 'mtu']), ''));
        spans.bridge ??= typeNode.span;
        break;
      case 'ptp':
        ipMasq = getBool(p, 'ipMasq') ?? false;
        Object.assign(spans, spansOf(p, ['ipMasq', 'mtu']));
        break;
      case 'flannel': {
        // flannel's CNI plug-in delegates to the bridge plug-in with bridge cni0, isGateway and ipMasq false
        // (flanneld masquerades itself), hairpinMode as the delegate says (flannel-io/cni-plugin flannel_linux.go).
        const delegate = map(get(p, 'delegate'));
        bridge = getStr(delegate, 'bridge') ?? 'cni0';
        hairpinMode = getBool(delegate, 'hairpinMode') ?? false;
        ipMasq = false;
        spans.bridge = get(delegate, 'bridge')?.span ?? typeNode.span;
        const hairpin = get(delegate, 'hairpinMode');
        if (hairpin) spans.hairpinMode = hairpin.span;
        break;
      }
      case 'portmap':
        portmap = readPortmap(b, p, typeNode.span, origin);
        break;
    }
    if (!META_PLUGINS.has(type)) {
      mtu ??= getInt(p, 'mtu');
      const ipamNode = map(get(p, 'ipam'));
      if (ipamNode && !ipam) ipam = readIpam(b, ipamNode);
    }
  }
  const main = plugins.find((x) => !META_PLUGINS.has(x.type));
  b.cniNetworks.push({
    config: {
      name,
      plugins,
      bridge,
      hairpinMode,
      ipMasq,
      mtu,
      ipam,
      span: root.span,
      spans,
      origin,
    },
    portmap,
    main,
  });
}

const prefixed = (s: Spans, prefix: string): Spans =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [`${prefix}${k}`, v]));

function readPortmap(b: Drafts, p: YMap, typeSpan: Span, origin: 'CniConfig' | 'ConfigMap'): PortmapSettings {
  const bit = getInt(p, 'markMasqBit');
  // plugins/meta/portmap main.go: markMasqBit must be 0..31, and cannot be combined with externalSetMarkChain.
  const bitNode = get(p, 'markMasqBit');
  if (bit !== undefined && bitNode && (bit < 0 || bit > 31))
    invalid(b, `portmap's markMasqBit must be between 0 and 31, not ${bit}.`, bitNode.span);
  return {
    enabled: true,
    snat: getBool(p, 'snat') ?? true,
    markMasqBit: bit !== undefined && bit >= 0 && bit <= 31 ? bit : 13,
    span: p.span,
    spans: { ...spansOf(p, ['snat', 'markMasqBit']), enabled: typeSpan },
    origin,
  };
}

function readIpam(b: Drafts, ipam: YMap): CniIpam {
  const type = getStr(ipam, 'type') ?? '';
  const range = (r: YNode): CniIpamRange[] => {
    const subnet = getStr(r, 'subnet');
    if (!subnet) {
      invalid(b, 'A host-local range needs a `subnet`.', r.span);
      return [];
    }
    // Range.Canonicalize (plugins/ipam/host-local/backend/allocator/range.go): "RangeStart %s not in network %s".
    const net = subnet === 'usePodCidr' ? undefined : parsePrefix(subnet);
    if (subnet !== 'usePodCidr' && !net)
      invalid(b, `host-local's subnet '${subnet}' is not a CIDR.`, get(r, 'subnet')?.span ?? r.span);
    for (const key of ['rangeStart', 'rangeEnd', 'gateway']) {
      const node = get(r, key);
      const v = str(node);
      const a = v ? parseAddress(v) : undefined;
      if (node && net && (!a || !prefixContainsAddress(net, a)))
        invalid(
          b,
          `host-local's ${key} ${v ?? ''} is not an address in the range's subnet ${subnet}: host-local refuses the configuration, so no pod on the node gets an address.`,
          node.span,
        );
    }
    return [
      {
        subnet,
        rangeStart: getStr(r, 'rangeStart'),
        rangeEnd: getStr(r, 'rangeEnd'),
        gateway: getStr(r, 'gateway'),
        span: r.span,
        spans: spansOf(r, ['subnet', 'rangeStart', 'rangeEnd', 'gateway']),
      },
    ];
  };
  // host-local: `ranges` (a list of range sets, each a list of ranges; one set per address the pod gets), or the
  // older single `subnet` (with rangeStart, rangeEnd, gateway) at the top (plugins/ipam/host-local/backend/allocator/config.go).
  const ranges = get(ipam, 'ranges')
    ? list(get(ipam, 'ranges')).map((set) => (set.kind === 'seq' ? set.items.flatMap(range) : range(set)))
    : get(ipam, 'subnet')
      ? [range(ipam)]
      : [];
  const routes = list(get(ipam, 'routes')).flatMap((r) => {
    const dst = getStr(r, 'dst');
    return dst ? [{ dst, gw: getStr(r, 'gw'), span: r.span }] : [];
  });
  return { type, ranges: ranges.filter((s) => s.length), routes, span: ipam.span };
}

/**
 * Text inside a ConfigMap value, parsed on its own, with spans moved back into the ConfigMap's file. A block
 * scalar (`|`) keeps each line's text after its indentation, so each line maps to its own line in the file; a
 * quoted one-line string (kubectl's JSON output) maps every span to the whole value.
 */
export function parseEmbedded(b: Drafts, node: YNode): YNode | undefined {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return undefined;
  const value = node.value;
  const inner = parseYamlFile(node.span.file, value);
  const outer = b.texts.get(node.span.file);
  const lineStarts: number[] = [0];
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 10) lineStarts.push(i + 1);
  // Where each inner line starts in the file: a block scalar's lines, found in order inside the value's span.
  let placeOf: ((offset: number) => number) | undefined;
  if (outer !== undefined && /^[|>]/.test(outer.slice(node.span.start, node.span.start + 1))) {
    const starts: number[] = [];
    let cursor = outer.indexOf('\n', node.span.start) + 1;
    for (let l = 0; l < lineStarts.length && cursor > 0; l++) {
      const end = l + 1 < lineStarts.length ? lineStarts[l + 1] - 1 : value.length;
      const text = value.slice(lineStarts[l], end);
      const lineEnd = outer.indexOf('\n', cursor);
      const outerLine = outer.slice(cursor, lineEnd < 0 ? outer.length : lineEnd);
      const at = text ? outerLine.indexOf(text) : 0;
      starts.push(cursor + Math.max(at, 0));
      cursor = lineEnd + 1;
    }
    if (starts.length === lineStarts.length) {
      placeOf = (offset) => {
        let lo = 0;
        let hi = lineStarts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (lineStarts[mid] <= offset) lo = mid;
          else hi = mid - 1;
        }
        return starts[lo] + (offset - lineStarts[lo]);
      };
    }
  }
  const move = (s: Span): Span =>
    placeOf
      ? {
          file: s.file,
          start: placeOf(s.start),
          end: Math.max(placeOf(s.start), placeOf(Math.max(s.start, s.end - 1)) + 1),
        }
      : node.span;
  for (const p of inner.problems) b.problems.push({ ...p, span: move(p.span) });
  const root = inner.documents[0]?.root;
  return root ? moveSpans(root, move) : undefined;
}

function moveSpans(n: YNode, move: (s: Span) => Span): YNode {
  const s = move(n.span);
  switch (n.kind) {
    case 'scalar':
      return new ScalarNode(n.value, n.source, s.file, s.start, s.end);
    case 'seq':
      return new SeqNode(
        n.items.map((x) => moveSpans(x, move)),
        s.file,
        s.start,
        s.end,
      );
    case 'map': {
      const slots: (string | number | YNode)[] = [];
      for (let i = 0; i < n.size; i++) {
        const k = move(n.entryAt(i).keySpan);
        slots.push(n.keyAt(i), moveSpans(n.valueAt(i), move), k.start, k.end);
      }
      return new MapNode(slots, s.file, s.start, s.end);
    }
  }
}

/** Whether a ConfigMap carries CNI configuration NetPath reads (flannel's, or a `*.conflist`/`*.conf` key). */
export function isCniConfigMap(root: YMap): boolean {
  const data = map(get(root, 'data'));
  return !!data?.entries.some((e) => CNI_DATA_KEY.test(e.key) || e.key === 'net-conf.json');
}

const CNI_DATA_KEY = /^(cni-conf\.json|.+\.conflist|.+\.conf)$/;

/** A ConfigMap with flannel's net-conf.json and/or a CNI network configuration. */
export function readCniConfigMap(b: Drafts, root: YMap): void {
  const data = map(get(root, 'data'));
  if (!data) return;
  for (const e of data.entries) {
    if (e.key === 'net-conf.json') {
      const inner = parseEmbedded(b, e.value);
      if (inner?.kind === 'map') readFlannelNetConf(b, inner, root);
      else invalid(b, "flannel's net-conf.json must be a JSON object.", e.value.span);
    } else if (CNI_DATA_KEY.test(e.key)) {
      const inner = parseEmbedded(b, e.value);
      if (inner?.kind === 'map') readCniNetwork(b, inner, 'ConfigMap');
      else invalid(b, `${e.key} must be a CNI network configuration (a JSON object).`, e.value.span);
    }
  }
}

/** flannel's net-conf.json (flannel-io/flannel pkg/subnet/config.go ParseConfig; backends' defaults). */
function readFlannelNetConf(b: Drafts, conf: YMap, configMap: YMap): void {
  const backend = map(get(conf, 'Backend'));
  const type = (getStr(backend, 'Type') ?? 'udp').toLowerCase();
  const enableIPv4 = bool(get(conf, 'EnableIPv4')) ?? true;
  const network = enableIPv4 ? getStr(conf, 'Network') : undefined;
  const enableIPv6 = bool(get(conf, 'EnableIPv6')) ?? false;
  const ipv6Network = enableIPv6 ? str(get(conf, 'IPv6Network')) : undefined;
  if (enableIPv4 && !network && get(conf, 'Network') === undefined)
    invalid(
      b,
      "flannel's net-conf.json needs `Network` when IPv4 is enabled (flanneld exits: 'please define Network').",
      conf.span,
    );
  if (enableIPv6 && !ipv6Network)
    invalid(
      b,
      "flannel's net-conf.json needs `IPv6Network` when EnableIPv6 is true.",
      get(conf, 'EnableIPv6')?.span ?? conf.span,
    );
  const subnetLenNode = get(conf, 'SubnetLen');
  const net = network ? parsePrefix(network) : undefined;
  // pkg/subnet/config.go: without SubnetLen, /24 when the Network is /22 or larger, else the Network's length + 2.
  const subnetLen = int(subnetLenNode) ?? (net && net.length > 22 ? net.length + 2 : 24);
  if (net && subnetLenNode && (subnetLen < net.length + 2 || subnetLen > 30))
    invalid(
      b,
      `flannel's SubnetLen ${subnetLen} does not fit Network ${network}: flanneld needs room for at least four node subnets (at least /${net.length + 2}) and at most /30 (pkg/subnet/config.go).`,
      subnetLenNode.span,
    );
  const vni = getInt(backend, 'VNI') ?? 1;
  const port = getInt(backend, 'Port') ?? 8472;
  const meta = get(configMap, 'metadata');
  const flannel: FlannelSettings = {
    network,
    subnetLen,
    enableIPv6,
    ipv6Network,
    backend: type,
    vni,
    port,
    // A DaemonSet flag, not net-conf.json: kube-flannel.yml runs flanneld with --ip-masq.
    ipMasq: true,
    span: conf.span,
    spans: {
      ...spansOf(conf, ['Network', 'SubnetLen', 'IPv6Network', 'EnableIPv6']),
      ...(backend ? prefixed(spansOf(backend, ['Type', 'VNI', 'Port']), 'Backend.') : {}),
      configMap: get(meta, 'name')?.span ?? configMap.span,
    },
    origin: 'ConfigMap',
  };
  b.flannelConfigs.push({ flannel, namespace: getStr(meta, 'namespace') ?? 'default' });
}

const MODES = ['Never', 'Always', 'CrossSubnet'] as const;

/** A Calico IPPool (libcalico-go api/pkg/apis/projectcalico/v3 IPPoolSpec; validation in lib/validator/v3). */
export function readIPPool(b: Drafts, root: YMap): void {
  const meta = get(root, 'metadata');
  const nameNode = get(meta, 'name');
  const name = str(nameNode) ?? '';
  const spec = map(get(root, 'spec'));
  const cidrNode = get(spec, 'cidr');
  const cidr = str(cidrNode);
  if (!cidr || !cidrNode) {
    invalid(b, `IPPool ${name || '(unnamed)'} has no spec.cidr (Calico refuses it).`, nameNode?.span ?? root.span);
    return;
  }
  const prefix = parsePrefix(cidr);
  const v6 = prefix?.family === 6;
  const mode = (key: string) => {
    const node = get(spec, key);
    const text = str(node);
    if (text === undefined) return 'Never' as const;
    const found = MODES.find((m) => m.toLowerCase() === text.toLowerCase());
    if (!found && node)
      invalid(b, `IPPool ${name}: ${key} must be Never, Always or CrossSubnet, not '${text}'.`, node.span);
    return found ?? 'Never';
  };
  // crd.projectcalico.org/v1 objects written by old tools may carry the v1 fields `ipip: {enabled, mode}` and
  // `nat-outgoing`; Calico reads them as ipipMode and natOutgoing.
  const ipipOld = map(get(spec, 'ipip'));
  let ipipMode = mode('ipipMode');
  if (!get(spec, 'ipipMode') && ipipOld && getBool(ipipOld, 'enabled') !== false)
    ipipMode = getStr(ipipOld, 'mode')?.toLowerCase() === 'cross-subnet' ? 'CrossSubnet' : 'Always';
  const vxlanMode = mode('vxlanMode');
  if (ipipMode !== 'Never' && vxlanMode !== 'Never')
    invalid(
      b,
      `IPPool ${name}: ipipMode and vxlanMode cannot both be enabled (Calico's validator refuses the pool).`,
      get(spec, 'vxlanMode')?.span ?? root.span,
    );
  const blockNode = get(spec, 'blockSize');
  const blockSize = int(blockNode) ?? (v6 ? 122 : 26);
  const [lo, hi] = v6 ? [116, 128] : [20, 32];
  if (blockNode && (blockSize < lo || blockSize > hi))
    invalid(b, `IPPool ${name}: blockSize must be between ${lo} and ${hi} for IPv${v6 ? 6 : 4}.`, blockNode.span);
  else if (prefix && blockSize < prefix.length)
    invalid(
      b,
      `IPPool ${name}: blockSize /${blockSize} is larger than the pool ${cidr} itself.`,
      get(spec, 'blockSize')?.span ?? cidrNode.span,
    );
  const pool: IPPool = {
    name,
    cidr,
    blockSize,
    ipipMode,
    vxlanMode,
    natOutgoing: getBool(spec, 'natOutgoing') ?? bool(get(spec, 'nat-outgoing')) ?? false,
    disabled: getBool(spec, 'disabled') ?? false,
    nodeSelector: getStr(spec, 'nodeSelector') ?? 'all()',
    span: root.span,
    spans: {
      ...(nameNode ? { name: nameNode.span } : {}),
      ...(spec
        ? spansOf(spec, ['cidr', 'blockSize', 'ipipMode', 'vxlanMode', 'natOutgoing', 'disabled', 'nodeSelector'])
        : {}),
    },
    origin: 'IPPool',
  };
  b.ipPools.push(pool);
}
