/**
 * What the NetworkPolicy rules share, computed once per analysed topology: the evaluator's index, the
 * reachability groups, and the things selectors can select (pods and workloads' pod templates, which count for
 * selectors before their pods exist).
 */
import type { Container, LabelSelector, Topology } from '../model/types';
import { selectorMatches } from './selector';
import { PolicyIndex } from './evaluate';
import { Reachability } from './reach';

export interface Selectable {
  readonly id: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly Container[];
  readonly kind: 'Pod' | 'workload';
}

const indexes = new WeakMap<Topology, PolicyIndex>();
const reaches = new WeakMap<Topology, Reachability>();

export function policyIndexOf(t: Topology): PolicyIndex {
  let i = indexes.get(t);
  if (!i) indexes.set(t, (i = new PolicyIndex(t)));
  return i;
}

/** The reachability groups of the topology, without cells (rules ask per destination and port). */
export function reachabilityOf(t: Topology): Reachability {
  let r = reaches.get(t);
  if (!r) reaches.set(t, (r = new Reachability(t, { cells: false, ports: [] })));
  return r;
}

const byNamespace = new WeakMap<Topology, Map<string, Selectable[]>>();
const cached = new WeakMap<Topology, Selectable[]>();

/** Pods and workload templates by namespace, so a rule looks only at the namespaces its selectors match. */
export function selectablesByNamespace(t: Topology): ReadonlyMap<string, readonly Selectable[]> {
  let m = byNamespace.get(t);
  if (!m) {
    m = new Map();
    for (const x of selectables(t)) {
      const list = m.get(x.namespace);
      if (list) list.push(x);
      else m.set(x.namespace, [x]);
    }
    byNamespace.set(t, m);
  }
  return m;
}

/**
 * The pods and workloads a peer of a policy in `namespace` can match: those of the policy's namespace, or of
 * every namespace its namespaceSelector matches (pod labels still to be checked by the caller).
 */
export function peerCandidates(
  t: Topology,
  namespace: string,
  namespaceSelector: LabelSelector | undefined,
): readonly Selectable[] {
  const m = selectablesByNamespace(t);
  if (!namespaceSelector) return m.get(namespace) ?? [];
  const index = policyIndexOf(t);
  return [...m].flatMap(([ns, xs]) => (selectorMatches(namespaceSelector, index.namespaceLabels(ns)) ? xs : []));
}

/** Pods and workload templates a selector can select (hostNetwork ones are never selected). */
export function selectables(t: Topology): Selectable[] {
  const hit = cached.get(t);
  if (hit) return hit;
  const out = [
    ...t.pods.filter((p) => !p.hostNetwork).map((p) => ({ ...p, kind: 'Pod' as const })),
    ...(t.workloads ?? [])
      .filter((w) => !w.hostNetwork)
      .map((w) => ({
        id: `${w.kind}/${w.id}`,
        namespace: w.namespace,
        labels: w.labels,
        containers: w.containers,
        kind: 'workload' as const,
      })),
  ];
  cached.set(t, out);
  return out;
}
