/**
 * Completion of reference values: node names for a pod's `node` (and a Pod's `spec.nodeName`), network
 * names for interfaces and externals, interface names for a route's `dev`, label keys and values of pods
 * for selectors, container port names for a `targetPort`, and enum values from the schema.
 *
 * The cursor's context is read from the text being typed (it may be a keystroke ahead of the analysis);
 * the candidates come from the analysis.
 */
import type { Analysis } from '../analysis';
import { PROTOCOLS, type Pod, type Topology } from '../model/types';
import { schemaAt } from '../model/schema';
import { cursorContext, type CursorContext } from './context';
import { selects } from './documents';
import { lookupTable, ownValue } from '../lookup';

export type CompletionKind = 'node' | 'network' | 'interface' | 'label-key' | 'label-value' | 'port' | 'enum';

export interface CompletionItem {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail: string;
  /** The text to insert (the label, with a leading space right after `key:`). */
  readonly insertText: string;
  /** The offsets of the typed text the item replaces, in the text given to `completionsAt`. */
  readonly replace: { readonly start: number; readonly end: number };
}

/** Enum values of Kubernetes fields NetPath reads (NetPath documents take theirs from the schema). */
const KUBE_ENUMS: Record<string, readonly string[]> = lookupTable({
  'spec.type': ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'],
  'spec.externalTrafficPolicy': ['Cluster', 'Local'],
  'spec.internalTrafficPolicy': ['Cluster', 'Local'],
  'spec.sessionAffinity': ['None', 'ClientIP'],
  'spec.ports.[].protocol': PROTOCOLS,
  'spec.containers.[].ports.[].protocol': PROTOCOLS,
  mode: ['iptables', 'ipvs', 'nftables'],
  detectLocalMode: ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'],
});

/** Completions at `offset` of `text`, the current content of `file`. */
export function completionsAt(analysis: Analysis, file: string, text: string, offset: number): CompletionItem[] {
  const ctx = cursorContext(text, offset);
  const t = analysis.topology;
  const netpath = /^apiVersion:\s*["']?netpath\.dev\//m.test(ctx.document);
  const where = [...ctx.path, ctx.key ?? ''].join('.');
  const matches = (path: string, patterns: string[]) =>
    patterns.some((p) => (netpath ? path === p : path === p || path.endsWith(`.${p}`)));
  /** The key being typed (or, with a trailing dot, the mapping a key is typed in) is one of `patterns`. */
  const is = (...patterns: string[]) => matches(where, patterns);
  /** The cursor is in one of the mappings `patterns`. */
  const within = (...patterns: string[]) => matches(ctx.path.join('.'), patterns);
  const items = (kind: CompletionKind, values: Iterable<[string, string]>): CompletionItem[] => {
    const seen = new Set<string>();
    const out: CompletionItem[] = [];
    for (const [label, detail] of values) {
      if (!label || seen.has(label)) continue;
      seen.add(label);
      out.push({
        label,
        kind,
        detail,
        insertText: ctx.needsSpace ? ` ${label}` : label,
        replace: { start: ctx.start, end: offset },
      });
    }
    return out;
  };
  const enclosing = <T extends { span: { file: string; start: number; end: number } }>(list: readonly T[]) =>
    list.find((x) => x.span.file === file && x.span.start <= offset && offset <= x.span.end);

  const key = ctx.key;
  if (key !== undefined) {
    if (netpath ? is('pods.[].node') : is('spec.nodeName', 'endpoints.[].nodeName')) {
      return items(
        'node',
        t.nodes.map((n) => [n.name, `node ${n.interfaces.flatMap((i) => i.addresses).join(', ')}`.trim()]),
      );
    }
    if (netpath && is('nodes.[].interfaces.[].network', 'externals.[].network')) {
      return items(
        'network',
        t.networks.map((n) => [n.name, `network ${n.cidr}`]),
      );
    }
    if (netpath && is('nodes.[].routes.[].dev')) {
      const node = enclosing(t.nodes);
      const nodes = node ? [node] : t.nodes;
      return items(
        'interface',
        nodes.flatMap((n) =>
          n.interfaces.map((i): [string, string] => [i.name, `${n.name}: ${i.addresses.join(', ')}`]),
        ),
      );
    }
    if (netpath ? within('services.[].selector') : within('spec.selector')) {
      const pods = podsInNamespaceOf(t, file, offset);
      return items(
        'label-value',
        pods.flatMap((p): [string, string][] => {
          // The pod's own labels only: a key like `constructor` is not a label every pod has.
          const value = ownValue(p.labels, key);
          return value === undefined ? [] : [[value, `label of ${p.id}`]];
        }),
      );
    }
    if (netpath ? is('services.[].ports.[].targetPort') : is('spec.ports.[].targetPort')) {
      const svc = enclosing(t.services);
      const selector = svc?.selector;
      const pods =
        svc && selector ? t.pods.filter((p) => p.namespace === svc.namespace && selects(selector, p.labels)) : t.pods;
      return items(
        'port',
        pods.flatMap((p) =>
          p.containers.flatMap((c) =>
            c.ports.flatMap((port): [string, string][] =>
              port.name ? [[port.name, `${port.containerPort}/${port.protocol} on ${p.id}`]] : [],
            ),
          ),
        ),
      );
    }
    return enumItems(ctx, key, netpath, items);
  }
  // A key is being typed: only selector keys are references (label keys of pods).
  if (netpath ? is('services.[].selector.') : is('spec.selector.')) {
    const pods = podsInNamespaceOf(t, file, offset);
    return items(
      'label-key',
      pods.flatMap((p) => Object.keys(p.labels).map((k): [string, string] => [k, `label of ${p.id}`])),
    );
  }
  return [];
}

function podsInNamespaceOf(t: Topology, file: string, offset: number): readonly Pod[] {
  const svc = t.services.find((s) => s.span.file === file && s.span.start <= offset && offset <= s.span.end);
  return svc ? t.pods.filter((p) => p.namespace === svc.namespace) : t.pods;
}

function enumItems(
  ctx: CursorContext,
  key: string,
  netpath: boolean,
  items: (kind: CompletionKind, values: Iterable<[string, string]>) => CompletionItem[],
): CompletionItem[] {
  if (netpath) {
    const schema = schemaAt([...ctx.path, key]);
    return items(
      'enum',
      (schema?.enum ?? []).map((v): [string, string] => [String(v), schema?.default === v ? 'default' : '']),
    );
  }
  const where = [...ctx.path, key].join('.');
  const match = Object.keys(KUBE_ENUMS).find((k) => where === k || where.endsWith(`.${k}`));
  return match
    ? items(
        'enum',
        KUBE_ENUMS[match].map((v): [string, string] => [v, '']),
      )
    : [];
}
