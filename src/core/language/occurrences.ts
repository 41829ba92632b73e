/**
 * Every place a topology names something, as data: where a node, network, pod, Service, external,
 * interface, container port or label is defined, and where it is referred to. Go to Definition and
 * Find References are queries over this list.
 *
 * Identities are strings: `node:node1`, `network:lan`, `pod:default/web-1`, `svc:default/web`,
 * `external:laptop`, `iface:node1/eth0`, `port:default/web-1/http`, `label:default/app=web`,
 * `file:/abs/path.yaml`.
 */
import type { Span } from '../problem';
import type { Analysis } from '../analysis';
import type { YDocument, YEntry, YNode } from '../syntax/yaml';
import { get } from '../syntax/yaml';
import { dirname, join } from '../workspace/paths';
import { entries, isNetPath, items, kubeObjects, selects, stringEntries, text } from './documents';
import { globMatches } from './glob';

/**
 * - `definition`: the place that defines `id` (a name, a label, a container port name, a file).
 * - `reference`: a value that refers to `id`; Go to Definition follows it.
 * - `use`: counts for Find References but is not followed (a selector entry uses a label).
 */
export type OccurrenceRole = 'definition' | 'reference' | 'use';

export interface Occurrence {
  readonly id: string;
  readonly span: Span;
  readonly role: OccurrenceRole;
}

const entrySpan = (e: YEntry): Span => ({
  file: e.keySpan.file,
  start: e.keySpan.start,
  end: Math.max(e.keySpan.end, e.value.span.end),
});

/** Collects every occurrence in the analysed files. */
export function collectOccurrences(analysis: Analysis): Occurrence[] {
  const out: Occurrence[] = [];
  const pods = analysis.topology.pods;
  const add = (id: string, node: YNode | undefined, role: OccurrenceRole) => {
    const value = text(node);
    if (node && value !== undefined && value !== '') out.push({ id, span: node.span, role });
  };
  /** The pods a selector of a Service in `namespace` selects (labels as merged in the model). */
  const selected = (namespace: string, selector: YNode | undefined) => {
    const wanted = stringEntries(selector);
    return pods.filter((p) => p.namespace === namespace && selects(wanted, p.labels));
  };
  const selector = (namespace: string, node: YNode | undefined) => {
    const chosen = selected(namespace, node);
    for (const e of entries(node)) {
      const value = text(e.value);
      if (value === undefined) continue;
      const span = entrySpan(e);
      out.push({ id: `label:${namespace}/${e.key}=${value}`, span, role: 'use' });
      for (const p of chosen) out.push({ id: `pod:${p.id}`, span, role: 'reference' });
    }
    return chosen;
  };
  const labels = (namespace: string, node: YNode | undefined) => {
    for (const e of entries(node)) {
      const value = text(e.value);
      if (value !== undefined)
        out.push({ id: `label:${namespace}/${e.key}=${value}`, span: entrySpan(e), role: 'definition' });
    }
  };
  const containerPorts = (podId: string, containers: YNode | undefined) => {
    for (const c of items(containers))
      for (const p of items(get(c, 'ports')))
        add(`port:${podId}/${text(get(p, 'name'))}`, get(p, 'name'), 'definition');
  };
  const targetPorts = (chosen: readonly { id: string }[], ports: YNode | undefined) => {
    for (const p of items(ports)) {
      const target = get(p, 'targetPort');
      const name = text(target);
      if (name === undefined || /^\d+$/.test(name)) continue;
      for (const pod of chosen) add(`port:${pod.id}/${name}`, target, 'reference');
    }
  };

  for (const file of analysis.topology.files)
    out.push({ id: `file:${file}`, span: { file, start: 0, end: 0 }, role: 'definition' });
  for (const parsed of analysis.parsed) {
    for (const doc of parsed.documents) {
      if (isNetPath(doc)) netpathDocument(doc);
      else kubernetesDocument(doc);
    }
  }
  return out;

  function netpathDocument(doc: YDocument): void {
    const root = doc.root;
    for (const inc of items(get(root, 'include')).length ? items(get(root, 'include')) : [get(root, 'include')]) {
      const pattern = text(inc);
      if (!inc || pattern === undefined) continue;
      const base = dirname(doc.file);
      for (const f of analysis.topology.files)
        if (f !== doc.file && globMatches(join(base, pattern), f))
          out.push({ id: `file:${f}`, span: inc.span, role: 'reference' });
    }
    for (const n of items(get(root, 'networks'))) add(`network:${text(get(n, 'name'))}`, get(n, 'name'), 'definition');
    for (const n of items(get(root, 'nodes'))) {
      const node = text(get(n, 'name'));
      add(`node:${node}`, get(n, 'name'), 'definition');
      for (const i of items(get(n, 'interfaces'))) {
        add(`iface:${node}/${text(get(i, 'name'))}`, get(i, 'name'), 'definition');
        add(`network:${text(get(i, 'network'))}`, get(i, 'network'), 'reference');
      }
      for (const r of items(get(n, 'routes'))) add(`iface:${node}/${text(get(r, 'dev'))}`, get(r, 'dev'), 'reference');
    }
    for (const p of items(get(root, 'pods'))) {
      const namespace = text(get(p, 'namespace')) ?? 'default';
      const id = `${namespace}/${text(get(p, 'name'))}`;
      add(`pod:${id}`, get(p, 'name'), 'definition');
      add(`node:${text(get(p, 'node'))}`, get(p, 'node'), 'reference');
      labels(namespace, get(p, 'labels'));
      containerPorts(id, get(p, 'containers'));
    }
    for (const s of items(get(root, 'services'))) {
      const namespace = text(get(s, 'namespace')) ?? 'default';
      add(`svc:${namespace}/${text(get(s, 'name'))}`, get(s, 'name'), 'definition');
      targetPorts(selector(namespace, get(s, 'selector')), get(s, 'ports'));
    }
    for (const x of items(get(root, 'externals'))) {
      add(`external:${text(get(x, 'name'))}`, get(x, 'name'), 'definition');
      add(`network:${text(get(x, 'network'))}`, get(x, 'network'), 'reference');
    }
  }

  function kubernetesDocument(doc: YDocument): void {
    for (const o of kubeObjects(doc)) {
      const name = text(o.name);
      const spec = get(o.root, 'spec');
      switch (o.kind) {
        case 'Node':
          add(`node:${name}`, o.name, 'definition');
          break;
        case 'Pod':
          add(`pod:${o.namespace}/${name}`, o.name, 'definition');
          add(`node:${text(get(spec, 'nodeName'))}`, get(spec, 'nodeName'), 'reference');
          labels(o.namespace, get(get(o.root, 'metadata'), 'labels'));
          containerPorts(`${o.namespace}/${name}`, get(spec, 'containers'));
          break;
        case 'Service':
          add(`svc:${o.namespace}/${name}`, o.name, 'definition');
          targetPorts(selector(o.namespace, get(spec, 'selector')), get(spec, 'ports'));
          break;
        case 'EndpointSlice': {
          const owner = entries(get(get(o.root, 'metadata'), 'labels')).find(
            (e) => e.key === 'kubernetes.io/service-name',
          );
          if (owner) add(`svc:${o.namespace}/${text(owner.value)}`, owner.value, 'reference');
          for (const e of items(get(o.root, 'endpoints'))) {
            add(`node:${text(get(e, 'nodeName'))}`, get(e, 'nodeName'), 'reference');
            const ref = get(e, 'targetRef');
            if (text(get(ref, 'kind')) === 'Pod')
              add(
                `pod:${text(get(ref, 'namespace')) ?? o.namespace}/${text(get(ref, 'name'))}`,
                get(ref, 'name'),
                'reference',
              );
          }
          break;
        }
      }
    }
  }
}

const contains = (span: Span, file: string, offset: number) =>
  span.file === file && span.start < span.end && offset >= span.start && offset <= span.end;

/** The occurrences under the cursor: those with the smallest span that contains it (several ids may share it). */
export function occurrencesAt(all: readonly Occurrence[], file: string, offset: number): Occurrence[] {
  const hits = all.filter((o) => contains(o.span, file, offset));
  if (!hits.length) return [];
  const size = Math.min(...hits.map((o) => o.span.end - o.span.start));
  const best = hits.find((o) => o.span.end - o.span.start === size);
  if (!best) return [];
  return hits.filter((o) => o.span.start === best.span.start && o.span.end === best.span.end);
}
