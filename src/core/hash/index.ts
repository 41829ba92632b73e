/**
 * Hashes the core computes without Node's crypto (it may not import Node built-ins), each for names real tools
 * derive: SHA-256 for kube-proxy's chain names, SHA-512 for the CNI plugins' chain names, SHA-1 for Calico's veth names, FNV-1a for the names
 * NetPath derives itself (veths). None is for security.
 */
export { base32, hex, sha256, utf8 } from './sha256';
export { sha512Hex } from './sha512';
export { fnv1a32 } from './fnv';
export { sha1Hex } from './sha1';
