/** Small readers of model fields shared by the document readers: spans, address lists, containers, ports. */
import { type Span } from '../problem';
import { parseAddress, parsePrefix, prefixContainsAddress, type Prefix } from '../net/address';
import { type YNode } from '../syntax/yaml';
import { get, int, list, str, strings } from './read';
import { PROTOCOLS, type Container, type ContainerPort, type Origin, type Protocol, type ServicePort } from './types';
import type { Spans } from './drafts';

export function spansOf(node: YNode, keys: string[]): Spans {
  const out: Spans = {};
  if (node.kind !== 'map') return out;
  for (const e of node.entries) if (keys.includes(e.key)) out[e.key] = e.value.span;
  return out;
}

export function optionalSpan(key: string, node: YNode | undefined): Spans {
  return node ? { [key]: node.span } : {};
}

export function indexedSpans(key: string, items: { span: Span }[]): Spans {
  return Object.fromEntries(items.map((x, i) => [`${key}.${i}`, x.span]));
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
  return value !== undefined && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
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
  if (p && a && prefixContainsAddress(p as Prefix, a)) return `${address}/${p.length}`;
  return `${address}/${a?.family === 6 ? 128 : 32}`;
}

export function readContainer(c: YNode, origin: Origin): Container[] {
  const name = str(get(c, 'name'));
  if (!name) return [];
  const ports: ContainerPort[] = list(get(c, 'ports')).flatMap((p) => {
    const containerPort = int(get(p, 'containerPort'));
    if (containerPort === undefined) return [];
    return [
      {
        name: str(get(p, 'name')),
        containerPort,
        protocol: protocolOf(str(get(p, 'protocol'))),
        ...(int(get(p, 'hostPort')) ? { hostPort: int(get(p, 'hostPort')) } : {}),
        ...(str(get(p, 'hostIP')) ? { hostIP: str(get(p, 'hostIP')) } : {}),
        span: p.span,
        spans: spansOf(p, ['name', 'containerPort', 'protocol', 'hostPort', 'hostIP']),
        origin,
      },
    ];
  });
  return [{ name, ports, span: c.span, spans: spansOf(c, ['name', 'ports']), origin }];
}

export function readServicePort(p: YNode, index: number, origin: Origin): ServicePort[] {
  const port = int(get(p, 'port'));
  if (port === undefined) return [];
  const targetNode = get(p, 'targetPort');
  const target = int(targetNode) ?? str(targetNode) ?? port;
  return [
    {
      name: str(get(p, 'name')) ?? (index === 0 ? '' : String(port)),
      port,
      targetPort: typeof target === 'string' && /^\d+$/.test(target) ? Number(target) : target,
      nodePort: int(get(p, 'nodePort')),
      protocol: protocolOf(str(get(p, 'protocol'))),
      span: p.span,
      spans: spansOf(p, ['name', 'port', 'targetPort', 'nodePort', 'protocol']),
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
