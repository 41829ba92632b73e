/**
 * The topology's pods by id, made once per topology and shared: several rules look pods up by the id an endpoint
 * names, and a map of every pod per rule cost a large cluster's 150,000 entries each time.
 */
import type { Pod, Topology } from '../model/types';

const made = new WeakMap<Topology, ReadonlyMap<string, Pod>>();

/** Every pod by id; of two pods with one id, the later in `t.pods` (as a map filled in order keeps). */
export function podsById(t: Topology): ReadonlyMap<string, Pod> {
  let pods = made.get(t);
  if (!pods) {
    const byId = new Map<string, Pod>();
    // Filled in a loop, not from an array of [id, pod] pairs (one per pod).
    for (const p of t.pods) byId.set(p.id, p);
    made.set(t, (pods = byId));
  }
  return pods;
}
