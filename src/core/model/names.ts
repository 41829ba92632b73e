/** Names NetPath derives when the topology does not give them. */
import { fnv1a32 } from '../hash';

/**
 * The host side of a pod's veth pair. The CNI bridge plugin names it `veth` + 8 random hex characters;
 * NetPath derives the 8 characters from `namespace/name` so the name is stable between runs and fits
 * Linux's 15-character interface-name limit.
 */
export function hostVethName(namespace: string, name: string): string {
  return hostVethNameOfId(`${namespace}/${name}`);
}

/** {@link hostVethName} from the pod's id (`namespace/name`), which the model makes anyway: one string less per pod. */
export function hostVethNameOfId(podId: string): string {
  return `veth${fnv1a32(podId).toString(16).padStart(8, '0')}`;
}
