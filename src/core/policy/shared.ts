/**
 * What the NetworkPolicy rules share, computed once per analysed topology: the evaluator's index, the
 * reachability groups, and the things selectors can select (pods and workloads' pod templates, which count for
 * selectors before their pods exist).
 */
import type { Container, Topology } from '../model/types';
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

/** Pods and workload templates a selector can select (hostNetwork ones are never selected). */
export function selectables(t: Topology): Selectable[] {
  return [
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
}
