/** Small readers of model fields shared by the document readers: spans, address lists, containers, ports. */
import { type Span } from '../problem';
import { parseAddress, parsePrefix, prefixContainsAddress } from '../net/address';
import { scalarText, type YMap, type YNode } from '../syntax/yaml';
import { collectionAt, get, getInt, getStr, intAt, list, strAt, strings } from './read';
import { PROTOCOLS, type Container, type ContainerPort, type Origin, type Protocol, type ServicePort } from './types';
import type { Drafts, Spans } from './drafts';
import { isOneOf } from '../lookup';
import { containerPortSpanKey } from './container-spans';

/**
 * At most this many ports of one Service are read (`service.too-many-ports`). The EndpointSlice controller writes
 * every port of a Service into each of its slices, and the API server refuses a slice with more than 100 ports
 * (discovery.k8s.io/v1 EndpointSlice: "Each slice may include a maximum of 100 ports"): such a Service never gets
 * endpoints.
 */
export const MAX_SERVICE_PORTS = 100;

/**
 * At most this many containers of one pod (or pod template) are read (`pod.too-many-containers`). Kubernetes sets
 * no number (a Pod is bounded only by etcd's 1.5 MiB object size); real pods hold an application and a few sidecars.
 * 100 is far past any real pod and keeps a pod's per-container work (its ports, container-to-container traces) small.
 */
export const MAX_POD_CONTAINERS = 100;

/**
 * The items of a list, at most `max` of them. Past the bound one warning `code` goes at the first item left out,
 * saying how many there are and how many were read: a bound is never a silent cut.
 */
export function boundedList(
  b: Pick<Drafts, 'report'>,
  node: YNode | undefined,
  max: number,
  code: string,
  why: (count: number) => string,
): readonly YNode[] {
  const items = list(node);
  if (items.length <= max) return items;
  b.report(
    code,
    'warning',
    `${why(items.length)} NetPath reads the first ${max}; the ${items.length - max} after them (from here on) are left out.`,
    items[max].span,
  );
  return items.slice(0, max);
}

/**
 * The items of an array filled by `push`, in an array exactly as long, for the model to keep. A push into an empty
 * array makes room for 17 items (V8 grows a backing store to 1.5 times its length plus 16), and the room is never
 * given back: a pod's one address, one container and one port kept 150 bytes each of empty slots, about 70 MB at
 * 150,000 pods, which the garbage collector copied twice while the model was built. An empty array has no store.
 */
export function exactArray<T>(items: T[]): T[] {
  return items.length ? items.slice() : items;
}

/**
 * The containers of a pod or pod template, bounded by {@link MAX_POD_CONTAINERS}, with their ports' spans added to
 * `spans` (the owner's, see container-spans.ts). Containers that read alike are one list, kept in `b.sharedContainers`
 * for the model's lifetime: a cluster's replicas have the same containers, and a list, a container, a list of ports
 * and a port each (with the spans they kept) were a third of what the model kept per pod at 150,000 pods.
 */
export function readContainers(
  b: Pick<Drafts, 'report' | 'sharedContainers'>,
  node: YNode | undefined,
  spans: Spans,
): readonly Container[] {
  const items = list(node);
  const count = Math.min(items.length, MAX_POD_CONTAINERS);
  // Read in place up to the bound (every pod has a list of containers: no copy of it). What is read is garbage when
  // an alike list is known: it dies young, so the collector never copies it.
  const out: Container[] = [];
  let key = '';
  for (let i = 0; i < count; i++) {
    const container = readContainer(items[i], out.length, spans);
    if (!container) continue;
    out.push(container);
    key += containerKey(container);
  }
  if (items.length > MAX_POD_CONTAINERS)
    boundedList(b, node, MAX_POD_CONTAINERS, 'pod.too-many-containers', tooManyContainers);
  const known = b.sharedContainers.get(key);
  if (known) return known;
  const kept = exactArray(out);
  b.sharedContainers.set(key, kept);
  return kept;
}

/**
 * A pod's labels as read (`stringMap`), or the record of an earlier pod whose labels read alike, in the same order:
 * a cluster's replicas carry the same labels, and a record each (with its values) was kept by the model per pod.
 * The model is immutable, so sharing one is safe; `b.sharedLabels` keeps them for the model's lifetime.
 */
export function sharedLabels(
  b: Pick<Drafts, 'sharedLabels'>,
  labels: Record<string, string>,
): Readonly<Record<string, string>> {
  // In the record's own order (two orders are two records: hovers and views list labels as read). Each text is
  // prefixed with its length, so two different records never make the same key.
  let key = '';
  for (const k in labels) {
    const v = labels[k];
    key += `${k.length}:${k}${v.length}:${v}`;
  }
  const known = b.sharedLabels.get(key);
  if (known) return known;
  b.sharedLabels.set(key, labels);
  return labels;
}

/**
 * What tells a container from another, as one string: its name, then each port's fields. Each text is prefixed
 * with its length and each number ends at a separator, so two different containers never make the same key.
 */
function containerKey(c: Container): string {
  let key = `${c.name.length}:${c.name}`;
  for (const p of c.ports)
    key += `|${p.name === undefined ? '' : `${p.name.length}:${p.name}`}/${p.containerPort}/${p.protocol}/${
      p.hostPort ?? ''
    }/${p.hostIP === undefined ? '' : `${p.hostIP.length}:${p.hostIP}`}`;
  return `${key};`;
}

const tooManyContainers = (n: number): string => `${n} containers in one pod: no real pod has that many.`;

/** The ports of a Service, bounded by {@link MAX_SERVICE_PORTS}. */
export function readServicePorts(b: Pick<Drafts, 'report'>, node: YNode | undefined, origin: Origin): ServicePort[] {
  return boundedList(
    b,
    node,
    MAX_SERVICE_PORTS,
    'service.too-many-ports',
    (n) =>
      `${n} ports in one Service: an EndpointSlice holds at most ${MAX_SERVICE_PORTS}, so the API server refuses every slice of this Service and it gets no endpoints.`,
  ).flatMap((p, i) => readServicePort(p, i, origin));
}

export function spansOf(node: YNode, keys: readonly string[]): Spans {
  const out: Spans = {};
  if (node.kind !== 'map') return out;
  const size = node.size;
  for (let i = 0; i < size; i++) {
    const key = node.keyAt(i);
    // A key written twice keeps the span of its last value, in the place of its first.
    if (keys.includes(key)) out[key] = node.valueSpanAt(i);
  }
  return out;
}

export function optionalSpan(key: string, node: YNode | undefined): Spans {
  return node ? { [key]: node.span } : {};
}

export function indexedSpans(key: string, items: { span: Span }[]): Spans {
  return addIndexedSpans({}, key, items);
}

/** Adds `key.0`, `key.1`, ... with each item's span to `spans` (no record of its own to merge). */
export function addIndexedSpans(spans: Spans, key: string, items: readonly { span: Span }[]): Spans {
  for (let i = 0; i < items.length; i++) spans[indexedKey(key, i)] = items[i].span;
  return spans;
}

/**
 * The strings of a list (or of one scalar), as `strings` reads them, with each one's span added to `spans` as
 * `key.0`, `key.1`, ... (as addIndexedSpans adds them): no `{ value, span }` pair per item for a caller that keeps
 * the two apart (every pod's `ips`). Appended to `out`, numbered on from its length.
 */
export function stringsWithSpans(node: YNode | undefined, key: string, spans: Spans, out: string[] = []): string[] {
  if (node?.kind === 'scalar') {
    const v = scalarText(node);
    if (v !== undefined) {
      spans[indexedKey(key, out.length)] = node.span;
      out.push(v);
    }
    return out;
  }
  const items = list(node);
  for (let i = 0; i < items.length; i++) {
    const v = scalarText(items[i]);
    if (v === undefined) continue;
    spans[indexedKey(key, out.length)] = items[i].span;
    out.push(v);
  }
  return out;
}

/** {@link stringsWithSpans} of entry `i` of `map` (nothing for -1), with no node made for a value kept as text. */
export function stringsWithSpansAt(map: YMap, i: number, key: string, spans: Spans, out: string[] = []): string[] {
  if (i < 0) return out;
  if (map.plainAt(i) === undefined) return stringsWithSpans(map.valueAt(i), key, spans, out);
  const v = strAt(map, i);
  if (v !== undefined) {
    spans[indexedKey(key, out.length)] = map.valueSpanAt(i);
    out.push(v);
  }
  return out;
}

/** `key.i`, made once per key and index: every pod's spans hold `ips.0`, and the model keeps them all. */
const indexedKeys = new Map<string, string[]>();
function indexedKey(key: string, i: number): string {
  if (i >= 16) return `${key}.${i}`;
  let keys = indexedKeys.get(key);
  if (!keys) indexedKeys.set(key, (keys = []));
  return (keys[i] ??= `${key}.${i}`);
}

/** `address` (one) or `addresses` (list): both spellings of the same field. */
export function addressList(node: YNode, single: string, plural: string): { value: string; span: Span }[] {
  const many = strings(get(node, plural));
  return many.length ? many : strings(get(node, single));
}

export function splitComma(text: string, span: Span): { value: string; span: Span }[] {
  let offset = 0;
  // Offsets inside a quoted scalar are shifted by the opening quote.
  const quote = text.length < span.end - span.start ? 1 : 0;
  return text
    .split(',')
    .map((part) => {
      const lead = part.length - part.trimStart().length;
      const s = {
        value: part.trim(),
        span: {
          file: span.file,
          start: span.start + quote + offset + lead,
          end: span.start + quote + offset + lead + part.trim().length,
        },
      };
      offset += part.length + 1;
      return s;
    })
    .filter((x) => x.value);
}

export function enumOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  return isOneOf(allowed, value) ? value : fallback;
}

export function protocolOf(value: string | undefined): Protocol {
  return enumOf(value?.toUpperCase(), PROTOCOLS, 'TCP');
}

export function detectorFromKubeProxyConfig(mode: string | undefined): string | undefined {
  if (mode === undefined || mode === '') return undefined;
  return mode === 'ClusterCIDR' || mode === 'NodeCIDR' || mode === 'BridgeInterface' || mode === 'InterfaceNamePrefix'
    ? mode
    : mode === 'None'
      ? 'None'
      : undefined;
}

export function withLength(address: string, networkCidr: string): string {
  const p = parsePrefix(networkCidr);
  const a = parseAddress(address);
  if (p && a && prefixContainsAddress(p, a)) return `${address}/${p.length}`;
  return `${address}/${a?.family === 6 ? 128 : 32}`;
}

// The fields whose spans a Service port keeps (one array, not one per port read; a container's and a container
// port's are read in one pass).
const SERVICE_PORT_SPANS = ['name', 'port', 'targetPort', 'nodePort', 'protocol'] as const;

/**
 * A container, or undefined without a name. Its ports' spans go into `spans` (its owner's) as the ports of the model's
 * container `index`.
 */
function readContainer(c: YNode, index: number, spans: Spans): Container | undefined {
  if (c.kind !== 'map') return undefined;
  // The first entry of each field, as `get` finds it (every pod has a container: one walk of its keys).
  let nameAt = -1;
  let portsAt = -1;
  const fields = c.size;
  for (let i = 0; i < fields; i++) {
    const key = c.keyAt(i);
    if (key === 'name') {
      if (nameAt < 0) nameAt = i;
    } else if (key === 'ports' && portsAt < 0) portsAt = i;
  }
  const name = nameAt < 0 ? undefined : strAt(c, nameAt);
  if (!name) return undefined;
  const items = list(collectionAt(c, portsAt));
  let ports: ContainerPort[];
  if (items.length === 1) {
    // Most containers have one port: an array of exactly one, with no array grown by a push to copy.
    const only = readContainerPort(items[0], index, 0, spans);
    ports = only ? [only] : [];
  } else {
    ports = [];
    for (const p of items) {
      const port = readContainerPort(p, index, ports.length, spans);
      if (port) ports.push(port);
    }
    ports = exactArray(ports);
  }
  return { name, ports };
}

/** A container port, or undefined without a containerPort; the spans of its numbers go into `spans`. */
function readContainerPort(p: YNode, container: number, index: number, spans: Spans): ContainerPort | undefined {
  if (p.kind !== 'map') return undefined;
  // One pass over the port's fields: the first entry of each (as `get` finds it), and the spans of its numbers as
  // spansOf keeps them (a field written twice keeps the span of its last value): the port conflict rules point at
  // them.
  let containerPortAt = -1;
  let nameAt = -1;
  let protocolAt = -1;
  let hostPortAt = -1;
  let hostIPAt = -1;
  let containerPortValueAt = -1;
  let hostPortValueAt = -1;
  const size = p.size;
  for (let i = 0; i < size; i++) {
    const key = p.keyAt(i);
    if (key === 'containerPort') {
      if (containerPortAt < 0) containerPortAt = i;
      containerPortValueAt = i;
    } else if (key === 'name') {
      if (nameAt < 0) nameAt = i;
    } else if (key === 'protocol') {
      if (protocolAt < 0) protocolAt = i;
    } else if (key === 'hostPort') {
      if (hostPortAt < 0) hostPortAt = i;
      hostPortValueAt = i;
    } else if (key === 'hostIP' && hostIPAt < 0) hostIPAt = i;
  }
  const containerPort = containerPortAt < 0 ? undefined : intAt(p, containerPortAt);
  if (containerPort === undefined) return undefined;
  // Spans only for a port the model keeps, as the port was numbered (`index`: the ports kept before it).
  spans[containerPortSpanKey(container, index, 'containerPort')] = p.valueSpanAt(containerPortValueAt);
  if (hostPortValueAt >= 0) spans[containerPortSpanKey(container, index, 'hostPort')] = p.valueSpanAt(hostPortValueAt);
  const portName = nameAt < 0 ? undefined : strAt(p, nameAt);
  const protocol = protocolOf(protocolAt < 0 ? undefined : strAt(p, protocolAt));
  const hostPort = hostPortAt < 0 ? undefined : intAt(p, hostPortAt);
  const hostIP = hostIPAt < 0 ? undefined : strAt(p, hostIPAt);
  // The same fields in the same order as ever; hostPort and hostIP only when written (and not 0 or '').
  return hostPort || hostIP
    ? {
        name: portName,
        containerPort,
        protocol,
        ...(hostPort ? { hostPort } : {}),
        ...(hostIP ? { hostIP } : {}),
      }
    : { name: portName, containerPort, protocol };
}

export function readServicePort(p: YNode, index: number, origin: Origin): ServicePort[] {
  if (p.kind !== 'map') return [];
  const port = getInt(p, 'port');
  if (port === undefined) return [];
  const targetAt = p.indexOf('targetPort');
  const target = (targetAt < 0 ? undefined : (intAt(p, targetAt) ?? strAt(p, targetAt))) ?? port;
  return [
    {
      name: getStr(p, 'name') ?? (index === 0 ? '' : String(port)),
      port,
      targetPort: typeof target === 'string' && /^\d+$/.test(target) ? Number(target) : target,
      nodePort: getInt(p, 'nodePort'),
      protocol: protocolOf(getStr(p, 'protocol')),
      span: p.span,
      spans: spansOf(p, SERVICE_PORT_SPANS),
      origin,
    },
  ];
}

/**
 * The span of a string's content. For a block scalar (`|`), the content starts on the line after the
 * indicator; the yaml library's range covers the indicator too. Offsets of rules inside raw iptables text
 * are relative to this start, then shifted by the indentation of each line (see the netfilter parser).
 */
export function blockScalarBodySpan(node: YNode): Span {
  return node.span;
}
