/**
 * kube-proxy's chain names (pkg/proxy/iptables/proxier.go, portProtoHash and servicePortEndpointChainName):
 * prefix + the first 16 characters of base32(sha256(servicePortName + lowercase protocol [+ endpoint])), where
 * servicePortName is `namespace/name:portName` (`namespace/name` when the port has no name) and the endpoint is
 * `ip:port` (`[ip]:port` for IPv6).
 */
import { hostPort } from '../net/address';
import { sha256Base32, sha256Base32Values } from '../hash';

export type ChainPrefix = 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-' | 'KUBE-SEP-';

/** kube-proxy's filter chain holding the drop rules of every Service firewall (`loadBalancerSourceRanges`). */
export const KUBE_PROXY_FIREWALL_CHAIN = 'KUBE-PROXY-FIREWALL';

/** What a chain of kube-proxy's output is for, when a reader of a trace needs to know. */
export type KubeProxyChainRole = 'service-firewall';

/**
 * The role of a chain as kube-proxy's generator names it: a Service's KUBE-FW-* chain (which sources a
 * LoadBalancer accepts) and KUBE-PROXY-FIREWALL (which drops the rest) are the Service firewall.
 */
export function kubeProxyChainRole(chain: string): KubeProxyChainRole | undefined {
  return chain === KUBE_PROXY_FIREWALL_CHAIN || chain.startsWith('KUBE-FW-' satisfies ChainPrefix)
    ? 'service-firewall'
    : undefined;
}

/** `namespace/name:port`, or `namespace/name` for an unnamed port (proxy.ServicePortName.String()). */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** `ip:port`, with brackets for IPv6 (net.JoinHostPort). */
export function endpointString(ip: string, port: number): string {
  return hostPort(ip, port);
}

/** Work counters of the names (never timed): tests check which chains a lint or a trace names. */
export const chainNameWork = {
  /**
   * Service ports' own chains named (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-: a SHA-256 each): a skim writes
   * stand-ins (generate.ts `standInName`), named when a line's text or a lookup by name needs them.
   */
  serviceChainNames: 0,
};

/** The chain name; cheap enough (a SHA-256 of one block) to compute again rather than look up by a composed key. */
export function chainHash(
  prefix: ChainPrefix,
  servicePortNameText: string,
  protocol: string,
  endpoint?: string,
): string {
  if (endpoint === undefined) chainNameWork.serviceChainNames++;
  return sha256Base32(chainHashInput(servicePortNameText, protocol) + (endpoint ?? ''), HASH_CHARS, prefix);
}

/** The characters of a chain name's hash: kube-proxy keeps the first 16 of the digest's base32. */
const HASH_CHARS = 16;
/** Where each base32 value (the place of its character in the alphabet) sorts by character code: 2-7 before A-Z. */
const SORT_PLACE = Uint8Array.from({ length: 32 }, (_, v) => (v >= 26 ? v - 26 : v + 6));
const values = new Uint8Array(HASH_CHARS);

/** What {@link chainHash} hashes for a Service port, before the endpoint: made once for all of its endpoints. */
export function chainHashInput(servicePortNameText: string, protocol: string): string {
  return servicePortNameText + protocol.toLowerCase();
}

/**
 * The order of the chain {@link chainHash} names from `input` (see {@link chainHashInput}) and `endpoint`, without
 * making its name: two numbers, written at `out[2 * at]` and `out[2 * at + 1]`, that compare (the first, then the
 * second) as the names do (the first 10 and the last 6 hash characters, each a base-32 number of the characters'
 * places in character-code order, so exact in a double).
 */
export function chainOrderKey(input: string, endpoint: string, out: Float64Array, at: number): void {
  sha256Base32Values(input, endpoint, HASH_CHARS, values);
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 10; k++) hi = hi * 32 + SORT_PLACE[values[k]];
  for (let k = 10; k < HASH_CHARS; k++) lo = lo * 32 + SORT_PLACE[values[k]];
  out[2 * at] = hi;
  out[2 * at + 1] = lo;
}

/**
 * {@link chainOrderKey} of a chain's name (`prefix` and 16 hash characters), read off the name: false, with nothing
 * written, when the name is not one {@link chainHash} could make.
 */
export function chainNameOrderKey(name: string, prefix: ChainPrefix, out: Float64Array, at: number): boolean {
  if (name.length !== prefix.length + HASH_CHARS || !name.startsWith(prefix)) return false;
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < HASH_CHARS; k++) {
    const c = name.charCodeAt(prefix.length + k);
    // Its place by character code: the digits 2-7 first, then the letters A-Z.
    const place = c >= 50 && c <= 55 ? c - 50 : c >= 65 && c <= 90 ? c - 59 : -1;
    if (place < 0) return false;
    if (k < 10) hi = hi * 32 + place;
    else lo = lo * 32 + place;
  }
  out[2 * at] = hi;
  out[2 * at + 1] = lo;
  return true;
}

/** The character code at each sort place (see SORT_PLACE): the digits 2-7, then the letters A-Z. */
const AT_SORT_PLACE = Uint8Array.from('234567ABCDEFGHIJKLMNOPQRSTUVWXYZ', (c) => c.charCodeAt(0));
const nameCodes = new Array<number>(HASH_CHARS).fill(0);

/**
 * The chain name whose {@link chainOrderKey} is (`hi`, `lo`): {@link chainNameOrderKey} undone. A key holds every
 * character of the name, so a name is read off a key made before instead of hashing its endpoint again.
 */
export function chainNameOfOrderKey(prefix: ChainPrefix, hi: number, lo: number): string {
  for (let k = HASH_CHARS - 1; k >= 10; k--) {
    const place = lo % 32;
    nameCodes[k] = AT_SORT_PLACE[place];
    lo = (lo - place) / 32;
  }
  for (let k = 9; k >= 0; k--) {
    const place = hi % 32;
    nameCodes[k] = AT_SORT_PLACE[place];
    hi = (hi - place) / 32;
  }
  // One string of the 16 codes (a character at a time made one string per character).
  return prefix + String.fromCharCode.apply(null, nameCodes);
}
