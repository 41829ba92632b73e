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
    const all = t.pods;
    for (let i = 0; i < all.length; i++) if (!byId.has(all[i].id)) byId.set(all[i].id, all[i]);
    made.set(t, (pods = byId));
  }
  return pods;
}

/**
 * Makes `byId` the topology's pods by id: the model builder's own map of them (drafts.ts, merge.ts), so the first
 * reader does not build another of every pod. It must hold exactly `t.pods` by id, and never change.
 */
export function keepPodsById(t: Topology, byId: ReadonlyMap<string, Pod>): void {
  made.set(t, byId);
}

const byNode = new WeakMap<readonly Pod[], ReadonlyMap<string, readonly Pod[]>>();

/**
 * The pods of each node, in topology order, by the model's (immutable) pods list: made once for every data plane of
 * the model and its node rules (each of them grouped 150,000 pods again at Kubernetes' limits).
 */
export function podsByNode(t: Topology): ReadonlyMap<string, readonly Pod[]> {
  let made = byNode.get(t.pods);
  if (!made) {
    const m = new Map<string, Pod[]>();
    // A node's pods mostly come one after the other: the list of the pod before is looked up once for them.
    let lastNode: string | undefined;
    let last: Pod[] | undefined;
    const pods = t.pods;
    for (let i = 0; i < pods.length; i++) {
      const p = pods[i];
      if (last === undefined || p.node !== lastNode) {
        lastNode = p.node;
        last = m.get(p.node);
        if (!last) m.set(p.node, (last = []));
      }
      last.push(p);
    }
    byNode.set(t.pods, (made = m));
  }
  return made;
}
