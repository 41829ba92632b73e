/**
 * The objects a parsed YAML document defines, found the same way for every language feature: NetPath
 * documents (`apiVersion: netpath.dev/...`) and the Kubernetes kinds NetPath reads, `List` items
 * included. Each object comes with the YAML node it was read from, so features point at exact spans.
 */
import { get, scalarText, type YDocument, type YMap, type YNode } from '../syntax/yaml';

/** A Kubernetes object of a kind NetPath reads (List items are flattened). */
export interface KubeObject {
  readonly kind: string;
  readonly root: YMap;
  readonly name: YNode | undefined;
  readonly namespace: string;
}

const KINDS = new Set([
  'Node',
  'Pod',
  'Service',
  'EndpointSlice',
  'KubeProxyConfiguration',
  'ClusterConfiguration',
  'Cluster',
  'ConfigMap',
]);

export function isNetPath(doc: YDocument): boolean {
  return scalarText(get(doc.root, 'apiVersion'))?.startsWith('netpath.dev/') === true;
}

export function items(node: YNode | undefined): readonly YNode[] {
  return node?.kind === 'seq' ? node.items : [];
}

export function entries(node: YNode | undefined): YMap['entries'] {
  return node?.kind === 'map' ? node.entries : [];
}

export const text = scalarText;

/** The Kubernetes objects of a document (none for NetPath documents and other YAML). */
export function kubeObjects(doc: YDocument): KubeObject[] {
  if (isNetPath(doc) || doc.root?.kind !== 'map') return [];
  const out: KubeObject[] = [];
  const visit = (root: YMap, depth: number) => {
    const kind = text(get(root, 'kind'));
    if (kind === 'List' && depth < 5) {
      for (const item of items(get(root, 'items'))) if (item.kind === 'map') visit(item, depth + 1);
      return;
    }
    if (!kind || !KINDS.has(kind)) return;
    const meta = get(root, 'metadata');
    out.push({ kind, root, name: get(meta, 'name'), namespace: text(get(meta, 'namespace')) ?? 'default' });
  };
  visit(doc.root, 0);
  return out;
}

/** Does a selector (`key: value` pairs) select these labels? An empty selector selects nothing. */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

export function stringEntries(node: YNode | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries(node)) {
    const v = text(e.value);
    if (v !== undefined) out[e.key] = v;
  }
  return out;
}
