/** Small readers of model fields shared by the document readers: spans, address lists, containers, ports. */
import { type Span } from '../problem';
import { parseAddress, parsePrefix, prefixContainsAddress } from '../net/address';
import { scalarText, type YMap, type YNode } from '../syntax/yaml';
import { collectionAt, get, intAt, list, strAt, strings } from './read';
import { PROTOCOLS, type Container, type ContainerPort, type Origin, type Protocol, type ServicePort } from './types';
import type { Drafts, Spans } from './drafts';
import { isOneOf } from '../lookup';
import { containerPortSpanKey } from './container-spans';
import { work } from '../work';

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
 * `spans` (the owner's, see container-spans.ts). A list of containers that reads as the last one kept with the same
 * first container's name is that list (`b.sharedContainers`): a cluster's replicas have the same containers, and a
 * list, a container, a list of ports and a port each (with the spans they kept) were a third of what the model kept
 * per pod at 150,000 pods. The pod's values are compared with the kept list's as they are read, so a pod that has
 * them makes nothing but its spans; one that has not makes its own list, kept next.
 */
export function readContainers(
  b: Pick<Drafts, 'report' | 'sharedContainers'>,
  node: YNode | undefined,
  spans: Spans,
): readonly Container[] {
  const items = list(node);
  const count = Math.min(items.length, MAX_POD_CONTAINERS);
  // A container's name is never '': the key of the lists without one.
  let first = '';
  let firstAt = -1;
  for (let i = 0; i < count && firstAt < 0; i++) {
    const name = containerName(items[i]);
    if (name !== undefined) {
      first = name;
      firstAt = i;
    }
  }
  const kept = b.sharedContainers.get(first);
  let same = kept !== undefined;
  // Read in place up to the bound (every pod has a list of containers: no copy of it), from the first container with
  // a name (those before it have none), whose name was just read.
  let index = 0;
  for (let i = firstAt < 0 ? count : firstAt; i < count; i++) {
    const name = i === firstAt ? first : containerName(items[i]);
    if (name === undefined) continue;
    const keptContainer = same ? kept?.[index] : undefined;
    same = keptContainer?.name === name;
    const ports = containerPorts(items[i]);
    let portsRead = 0;
    for (let j = 0; j < ports.length; j++)
      if (readPort(ports[j], index, portsRead, spans)) {
        if (same) same = isPortRead(keptContainer?.ports[portsRead]);
        portsRead++;
      }
    if (same) same = keptContainer?.ports.length === portsRead;
    index++;
  }
  if (items.length > MAX_POD_CONTAINERS)
    boundedList(b, node, MAX_POD_CONTAINERS, 'pod.too-many-containers', tooManyContainers);
  if (same && kept?.length === index) return kept;
  const made = containersOf(items, count);
  b.sharedContainers.set(first, made);
  return made;
}

/**
 * The containers themselves, for a pod whose list is not the one kept (readContainers): read again, their spans left
 * out (the pod has them), in lists exactly as long.
 */
function containersOf(items: readonly YNode[], count: number): readonly Container[] {
  const out: Container[] = [];
  for (let i = 0; i < count; i++) {
    const name = containerName(items[i]);
    if (name === undefined) continue;
    const ports: ContainerPort[] = [];
    for (const p of containerPorts(items[i]))
      if (readPort(p, 0, 0, undefined))
        ports.push(
          port.hostPort || port.hostIP
            ? {
                name: port.name,
                containerPort: port.containerPort,
                protocol: port.protocol,
                // hostPort and hostIP only when written (and not 0 or '').
                ...(port.hostPort ? { hostPort: port.hostPort } : {}),
                ...(port.hostIP ? { hostIP: port.hostIP } : {}),
              }
            : { name: port.name, containerPort: port.containerPort, protocol: port.protocol },
        );
    out.push({ name, ports: exactArray(ports) });
  }
  return exactArray(out);
}

/** A container's name, or undefined when it is not a mapping or has none (then it is no container). */
function containerName(c: YNode): string | undefined {
  work.containerNamesRead++;
  if (c.kind !== 'map') return undefined;
  // The first entry, as `get` finds it.
  const at = c.indexOf('name');
  return (at < 0 ? undefined : strAt(c, at)) || undefined;
}

/** A container's list of ports (the first `ports` entry, as `get` finds it). */
function containerPorts(c: YNode): readonly YNode[] {
  return c.kind === 'map' ? list(collectionAt(c, c.indexOf('ports'))) : [];
}

/** The port {@link readPort} read last: one record for every port read, as reading one must make nothing to keep. */
const port: {
  name: string | undefined;
  containerPort: number;
  protocol: Protocol;
  hostPort: number | undefined;
  hostIP: string | undefined;
} = { name: undefined, containerPort: 0, protocol: 'TCP', hostPort: undefined, hostIP: undefined };

/** Whether `kept` is the model's port for {@link port} (as containersOf would make it: hostPort and hostIP when set). */
function isPortRead(kept: ContainerPort | undefined): boolean {
  return (
    kept !== undefined &&
    kept.name === port.name &&
    Object.is(kept.containerPort, port.containerPort) &&
    kept.protocol === port.protocol &&
    kept.hostPort === (port.hostPort || undefined) &&
    kept.hostIP === (port.hostIP || undefined)
  );
}

/**
 * Reads a container port into {@link port}: false without a containerPort (no port). The spans of its numbers go into
 * `spans` as those of the model's port `index` of container `container`.
 */
function readPort(p: YNode, container: number, index: number, spans: Spans | undefined): boolean {
  if (p.kind !== 'map') return false;
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
  if (containerPort === undefined) return false;
  if (spans) {
    spans[containerPortSpanKey(container, index, 'containerPort')] = p.valueSpanAt(containerPortValueAt);
    if (hostPortValueAt >= 0)
      spans[containerPortSpanKey(container, index, 'hostPort')] = p.valueSpanAt(hostPortValueAt);
  }
  port.name = nameAt < 0 ? undefined : strAt(p, nameAt);
  port.containerPort = containerPort;
  port.protocol = protocolOf(protocolAt < 0 ? undefined : strAt(p, protocolAt));
  port.hostPort = hostPortAt < 0 ? undefined : intAt(p, hostPortAt);
  port.hostIP = hostIPAt < 0 ? undefined : strAt(p, hostIPAt);
  return true;
}

const tooManyContainers = (n: number): string => `${n} containers in one pod: no real pod has that many.`;

/** The ports of a Service, bounded by {@link MAX_SERVICE_PORTS}. */
export function readServicePorts(b: Pick<Drafts, 'report'>, node: YNode | undefined, origin: Origin): ServicePort[] {
  const items = boundedList(
    b,
    node,
    MAX_SERVICE_PORTS,
    'service.too-many-ports',
    (n) =>
      `${n} ports in one Service: an EndpointSlice holds at most ${MAX_SERVICE_PORTS}, so the API server refuses every slice of this Service and it gets no endpoints.`,
  );
  // Indexed, no closure: once per Service (10,000 at 5,000 nodes), mostly before the engine optimises it.
  const out: ServicePort[] = [];
  for (let i = 0; i < items.length; i++) {
    const port = readServicePort(items[i], i, origin);
    if (port) out.push(port);
  }
  return out;
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

/**
 * A Service port (undefined without a port number), read in one pass over its fields: the first entry of each (as
 * `get` finds it), and the spans it keeps of them all (name, port, targetPort, nodePort, protocol) as spansOf keeps
 * them (a field written twice keeps the span of its last value).
 */
export function readServicePort(p: YNode, index: number, origin: Origin): ServicePort | undefined {
  if (p.kind !== 'map') return undefined;
  let nameAt = -1;
  let portAt = -1;
  let targetAt = -1;
  let nodePortAt = -1;
  let protocolAt = -1;
  const spans: Spans = {};
  const size = p.size;
  for (let i = 0; i < size; i++) {
    switch (p.keyAt(i)) {
      case 'name':
        if (nameAt < 0) nameAt = i;
        spans.name = p.valueSpanAt(i);
        break;
      case 'port':
        if (portAt < 0) portAt = i;
        spans.port = p.valueSpanAt(i);
        break;
      case 'targetPort':
        if (targetAt < 0) targetAt = i;
        spans.targetPort = p.valueSpanAt(i);
        break;
      case 'nodePort':
        if (nodePortAt < 0) nodePortAt = i;
        spans.nodePort = p.valueSpanAt(i);
        break;
      case 'protocol':
        if (protocolAt < 0) protocolAt = i;
        spans.protocol = p.valueSpanAt(i);
        break;
    }
  }
  const port = portAt < 0 ? undefined : intAt(p, portAt);
  if (port === undefined) return undefined;
  const target = (targetAt < 0 ? undefined : (intAt(p, targetAt) ?? strAt(p, targetAt))) ?? port;
  return {
    name: (nameAt < 0 ? undefined : strAt(p, nameAt)) ?? (index === 0 ? '' : String(port)),
    port,
    targetPort: typeof target === 'string' && /^\d+$/.test(target) ? Number(target) : target,
    nodePort: nodePortAt < 0 ? undefined : intAt(p, nodePortAt),
    protocol: protocolOf(protocolAt < 0 ? undefined : strAt(p, protocolAt)),
    span: p.span,
    spans,
    origin,
  };
}

/**
 * The span of a string's content. For a block scalar (`|`), the content starts on the line after the
 * indicator; the yaml library's range covers the indicator too. Offsets of rules inside raw iptables text
 * are relative to this start, then shifted by the indentation of each line (see the netfilter parser).
 */
export function blockScalarBodySpan(node: YNode): Span {
  return node.span;
}
