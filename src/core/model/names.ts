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
  const h = fnv1a32(podId);
  // The 8 hex digits written out by hand into one string: every pod gets a name, and a number's toString(16), its
  // padding and the joined string were three strings each (the two thrown away at once).
  return String.fromCharCode(
    0x76, // v
    0x65, // e
    0x74, // t
    0x68, // h
    HEX_DIGITS[h >>> 28],
    HEX_DIGITS[(h >>> 24) & 15],
    HEX_DIGITS[(h >>> 20) & 15],
    HEX_DIGITS[(h >>> 16) & 15],
    HEX_DIGITS[(h >>> 12) & 15],
    HEX_DIGITS[(h >>> 8) & 15],
    HEX_DIGITS[(h >>> 4) & 15],
    HEX_DIGITS[h & 15],
  );
}

/** The character codes of the lower-case hex digits 0-f. */
const HEX_DIGITS: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
