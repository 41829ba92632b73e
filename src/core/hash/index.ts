/**
 * The hashes real tools use to derive names, which NetPath must reproduce byte for byte: SHA-256 + base32 for
 * kube-proxy's chain names, SHA-512 for the CNI plug-ins' chain names, SHA-1 for Calico's veth names, and FNV-1a
 * for the names NetPath derives itself (veths). None is for security. SHA-512 and SHA-1 come from @noble/hashes and
 * base32 from @scure/base (audited, dependency-free, and free of Node built-ins, which the core may not import);
 * SHA-256 is `./sha256`, which reuses its buffers across the 160,000 short digests of a large cluster's chain names.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base32 as rfc4648Base32 } from '@scure/base';

import { sha256Bytes } from './sha256';

export { fnv1a32 } from './fnv';
export { sha256Base32, sha256Base32Values } from './sha256';

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8(text: string): Uint8Array {
  return utf8ToBytes(text);
}

export function sha256(data: Uint8Array): Uint8Array {
  return sha256Bytes(data);
}

/** Lower-case hex of bytes. */
export function hex(data: Uint8Array): string {
  return bytesToHex(data);
}

/** RFC 4648 base32, standard alphabet with `=` padding (Go's base32.StdEncoding, which kube-proxy uses). */
export function base32(data: Uint8Array): string {
  return rfc4648Base32.encode(data);
}

/** SHA-512 of a string's UTF-8 bytes, lower-case hex. */
export function sha512Hex(text: string): string {
  return bytesToHex(sha512(utf8(text)));
}

/** SHA-1 of a string's UTF-8 bytes, lower-case hex (only for Calico's veth names). */
export function sha1Hex(text: string): string {
  return bytesToHex(sha1(utf8(text)));
}
