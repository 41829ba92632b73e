/**
 * The outline of a file: per NetPath document the cluster settings, networks, nodes (with interfaces and
 * routes), pods (with containers and their ports), Services (with ports) and externals; per Kubernetes
 * object its kind and name (Pods with containers, Services with ports). Read from the file's syntax, so
 * it shows what this file says, whatever other files add.
 */
import type { Span } from '../problem';
import type { Analysis } from '../analysis';
import { get, type YDocument, type YEntry, type YNode } from '../syntax/yaml';
import { isNetPath, items, kubeObjects, text } from './documents';
import { lookupTable } from '../lookup';

export type DocumentSymbolKind =
  | 'topology'
  | 'cluster'
  | 'group'
  | 'network'
  | 'node'
  | 'interface'
  | 'route'
  | 'pod'
  | 'container'
  | 'port'
  | 'service'
  | 'external'
  | 'object';

export interface DocumentSymbol {
  readonly name: string;
  readonly detail: string;
  readonly kind: DocumentSymbolKind;
  /** The whole element. */
  readonly span: Span;
  /** What to select when the symbol is chosen (its name); always inside `span`. */
  readonly selectionSpan: Span;
  readonly children: readonly DocumentSymbol[];
}

/** The outline of `file` as analysed (empty for a file the analysis did not read). */
export function documentSymbols(analysis: Analysis, file: string): DocumentSymbol[] {
  const parsed = analysis.parsed.find((p) => p.file === file);
  if (!parsed) return [];
  const source = analysis.sources.find((f) => f.path === file)?.text ?? '';
  const symbols = parsed.documents.flatMap((doc) =>
    isNetPath(doc) ? netpathSymbols(doc) : kubeObjects(doc).map((o) => kubeSymbol(o.kind, o.root, o.name, o.namespace)),
  );
  return symbols.map((s) => trimmed(s, source));
}

/** YAML block nodes end after their last line break; an outline range ends at the last character. */
function trimmed(s: DocumentSymbol, source: string): DocumentSymbol {
  let end = s.span.end;
  while (end > s.selectionSpan.end && /\s/.test(source[end - 1] ?? '')) end--;
  return { ...s, span: { ...s.span, end }, children: s.children.map((c) => trimmed(c, source)) };
}

function symbol(
  name: string | undefined,
  detail: string,
  kind: DocumentSymbolKind,
  node: YNode,
  nameNode: YNode | undefined,
  children: DocumentSymbol[] = [],
): DocumentSymbol {
  const span = node.span;
  const sel =
    nameNode && nameNode.span.start >= span.start && nameNode.span.end <= span.end
      ? nameNode.span
      : { ...span, end: span.start };
  return { name: name?.trim() ? name : '(unnamed)', detail, kind, span, selectionSpan: sel, children };
}

/** A top-level key as a group (`nodes`, `pods`, ...): from its key to the end of its value. */
function group(
  e: YEntry,
  kind: DocumentSymbolKind,
  children: DocumentSymbol[],
  detail = `${children.length}`,
): DocumentSymbol {
  return {
    name: e.key,
    detail,
    kind,
    span: { ...e.keySpan, end: Math.max(e.keySpan.end, e.value.span.end) },
    selectionSpan: e.keySpan,
    children,
  };
}

const named = (node: YNode) => text(get(node, 'name'));

function netpathSymbols(doc: YDocument): DocumentSymbol[] {
  const root = doc.root;
  if (root?.kind !== 'map') return [];
  const children: DocumentSymbol[] = [];
  for (const e of root.entries) {
    switch (e.key) {
      case 'cluster':
        children.push(group(e, 'cluster', [], addressesOf(e.value, 'podCIDRs', 'podCIDRs')));
        break;
      case 'networks':
        children.push(
          group(
            e,
            'group',
            items(e.value).map((n) => symbol(named(n), text(get(n, 'cidr')) ?? '', 'network', n, get(n, 'name'))),
          ),
        );
        break;
      case 'nodes':
        children.push(group(e, 'group', items(e.value).map(nodeSymbol)));
        break;
      case 'pods':
        children.push(
          group(
            e,
            'group',
            items(e.value).map((p) =>
              podSymbol(
                p,
                get(p, 'name'),
                text(get(p, 'namespace')) ?? 'default',
                get(p, 'containers'),
                addressesOf(p, 'ip', 'ips'),
              ),
            ),
          ),
        );
        break;
      case 'services':
        children.push(
          group(
            e,
            'group',
            items(e.value).map((s) =>
              serviceSymbol(
                s,
                get(s, 'name'),
                text(get(s, 'namespace')) ?? 'default',
                get(s, 'ports'),
                addressesOf(s, 'clusterIP', 'clusterIPs'),
              ),
            ),
          ),
        );
        break;
      case 'externals':
        children.push(
          group(
            e,
            'group',
            items(e.value).map((x) =>
              symbol(
                named(x),
                [text(get(x, 'network')), addressesOf(x, 'address', 'addresses')].filter(Boolean).join(' '),
                'external',
                x,
                get(x, 'name'),
              ),
            ),
          ),
        );
        break;
    }
  }
  const meta = get(root, 'metadata');
  return [
    symbol(
      text(get(meta, 'name')) ?? 'topology',
      'NetPath topology',
      'topology',
      root,
      get(meta, 'name') ?? get(root, 'kind'),
      children,
    ),
  ];
}

function addressesOf(node: YNode, single: string, plural: string): string {
  const one = text(get(node, single));
  return one ?? items(get(node, plural)).map(text).filter(Boolean).join(', ');
}

function nodeSymbol(n: YNode): DocumentSymbol {
  const interfaces = items(get(n, 'interfaces')).map((i) =>
    symbol(
      named(i),
      [text(get(i, 'network')), addressesOf(i, 'address', 'addresses')].filter(Boolean).join(' '),
      'interface',
      i,
      get(i, 'name'),
    ),
  );
  const routes = items(get(n, 'routes')).map((r) => {
    const via = text(get(r, 'via'));
    const dev = text(get(r, 'dev'));
    return symbol(
      text(get(r, 'to')),
      [via && `via ${via}`, dev && `dev ${dev}`].filter(Boolean).join(' '),
      'route',
      r,
      get(r, 'to'),
    );
  });
  return symbol(named(n), addressesOf(n, 'podCIDR', 'podCIDRs'), 'node', n, get(n, 'name'), [...interfaces, ...routes]);
}

function portText(p: YNode): string {
  return `${text(get(p, 'containerPort')) ?? '?'}/${text(get(p, 'protocol')) ?? 'TCP'}`;
}

function podSymbol(
  p: YNode,
  name: YNode | undefined,
  namespace: string,
  containers: YNode | undefined,
  detail: string,
): DocumentSymbol {
  const children = items(containers).map((c) =>
    symbol(
      named(c),
      '',
      'container',
      c,
      get(c, 'name'),
      items(get(c, 'ports')).map((port) =>
        symbol(
          text(get(port, 'name')) ?? portText(port),
          text(get(port, 'name')) ? portText(port) : '',
          'port',
          port,
          get(port, 'name') ?? get(port, 'containerPort'),
        ),
      ),
    ),
  );
  return symbol(`${namespace}/${text(name) ?? ''}`, detail, 'pod', p, name, children);
}

function serviceSymbol(
  s: YNode,
  name: YNode | undefined,
  namespace: string,
  ports: YNode | undefined,
  detail: string,
): DocumentSymbol {
  const children = items(ports).map((p) => {
    const port = text(get(p, 'port')) ?? '?';
    const target = text(get(p, 'targetPort'));
    return symbol(
      text(get(p, 'name')) ?? port,
      `${port}/${text(get(p, 'protocol')) ?? 'TCP'}${target ? ` → ${target}` : ''}`,
      'port',
      p,
      get(p, 'name') ?? get(p, 'port'),
    );
  });
  return symbol(`${namespace}/${text(name) ?? ''}`, detail, 'service', s, name, children);
}

const KIND_SYMBOL: Record<string, DocumentSymbolKind> = lookupTable({ Node: 'node', Pod: 'pod', Service: 'service' });

function kubeSymbol(kind: string, root: YNode, name: YNode | undefined, namespace: string): DocumentSymbol {
  const spec = get(root, 'spec');
  if (kind === 'Pod') return podSymbol(root, name, namespace, get(spec, 'containers'), 'Pod');
  if (kind === 'Service')
    return serviceSymbol(
      root,
      name,
      namespace,
      get(spec, 'ports'),
      `Service${text(get(spec, 'clusterIP')) ? ` ${text(get(spec, 'clusterIP'))}` : ''}`,
    );
  const label = text(name) ?? kind;
  return symbol(
    kind === 'Node' ? label : `${kind} ${label}`,
    kind,
    KIND_SYMBOL[kind] ?? 'object',
    root,
    name ?? get(root, 'kind'),
  );
}

/** Every symbol of an outline, depth first. */
export function flattenSymbols(symbols: readonly DocumentSymbol[]): DocumentSymbol[] {
  return symbols.flatMap((s) => [s, ...flattenSymbols(s.children)]);
}
