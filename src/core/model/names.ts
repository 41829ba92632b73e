/** Names NetPath derives when the topology does not give them. */

/** FNV-1a, 32 bits: a small, stable hash for derived names (not for security). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The host side of a pod's veth pair. The CNI bridge plugin names it `veth` + 8 random hex characters;
 * NetPath derives the 8 characters from `namespace/name` so the name is stable between runs and fits
 * Linux's 15-character interface-name limit.
 */
export function hostVethName(namespace: string, name: string): string {
  return `veth${fnv1a32(`${namespace}/${name}`).toString(16).padStart(8, '0')}`;
}
