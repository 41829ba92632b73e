/**
 * The topology's pods by id, made once per topology and shared: the rules look pods up by the id an endpoint names,
 * the data plane finds a pod's namespace by it, and a map of every pod per reader cost a large cluster's 150,000
 * entries each time.
 */
import type { Pod, Topology } from './types';

const made = new WeakMap<Topology, ReadonlyMap<string, Pod>>();

/**
 * Every pod by id. The model keeps one pod per id; of two in a topology built by hand, the first in `t.pods` (as the
 * trace has always found a pod).
 */
export function podsById(t: Topology): ReadonlyMap<string, Pod> {
  let pods = made.get(t);
  if (!pods) {
    const byId = new Map<string, Pod>();
    // Filled in a loop, not from an array of [id, pod] pairs (one per pod).
    for (const p of t.pods) if (!byId.has(p.id)) byId.set(p.id, p);
    made.set(t, (pods = byId));
  }
  return pods;
}
