/**
 * SHA-256 (FIPS 180-4) for the many short inputs of derived chain names: kube-proxy names every Service port and
 * endpoint by a digest, 160,000 of them on a cluster at Kubernetes' limits, each input under one 64-byte block.
 * A general-purpose hasher allocates an object, buffers and a view per digest; here the state, the message schedule
 * and the padding block are allocated once and reused, and an ASCII string is written into the block without an
 * encoder. Agreement with node:crypto is a property test (test/unit/kubeproxy/hash.test.ts).
 */

/** The round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** The initial hash value: the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

// Reused by every digest (the core is single-threaded: one digest runs at a time).
const H = new Int32Array(8);
const W = new Int32Array(64);
/** The last one or two blocks of a message: its tail, the 0x80 byte, zeros and the bit length. */
const tail = new Uint8Array(128);

function compress(block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    W[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = H[0];
  let b = H[1];
  let c = H[2];
  let d = H[3];
  let e = H[4];
  let f = H[5];
  let g = H[6];
  let h = H[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + b) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}

/** Hashes the first `length` bytes of `data` into H (read it before the next digest). */
function digestInto(data: Uint8Array, length: number): void {
  H.set(IV);
  const full = length - (length % 64);
  for (let at = 0; at < full; at += 64) compress(data, at);
  const rest = length - full;
  // `data` may be `tail` itself (a short ASCII string written there): its bytes are then already in place.
  if (data !== tail) tail.set(data.subarray(full, length));
  tail.fill(0, rest);
  tail[rest] = 0x80;
  const end = rest < 56 ? 64 : 128;
  // The message length in bits, as a 64-bit big-endian number.
  const hi = Math.floor(length / 0x20000000);
  const lo = (length * 8) >>> 0;
  tail[end - 8] = hi >>> 24;
  tail[end - 7] = hi >>> 16;
  tail[end - 6] = hi >>> 8;
  tail[end - 5] = hi;
  tail[end - 4] = lo >>> 24;
  tail[end - 3] = lo >>> 16;
  tail[end - 2] = lo >>> 8;
  tail[end - 1] = lo;
  compress(tail, 0);
  if (end === 128) compress(tail, 64);
}

const encoder = new TextEncoder();

/**
 * Hashes the UTF-8 bytes of `head` followed by those of `rest` into H: ASCII strings under 56 bytes together go
 * straight into the padding block. Given in two pieces, a name's input is not concatenated first (a joined string
 * is copied flat again to be read character by character).
 */
function digestText(head: string, rest = ''): void {
  const n = head.length + rest.length;
  if (n < 56 && writeAscii(head, 0) && writeAscii(rest, head.length)) {
    digestInto(tail, n);
    return;
  }
  const bytes = encoder.encode(head + rest);
  digestInto(bytes, bytes.length);
}

/** Writes `text` into the padding block at `at` when it is all ASCII (false, partly written, when it is not). */
function writeAscii(text: string, at: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return false;
    tail[at + i] = c;
  }
  return true;
}

/** SHA-256 of bytes. */
export function sha256Bytes(data: Uint8Array): Uint8Array {
  digestInto(data, data.length);
  return digestBytes();
}

function digestBytes(): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = H[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
  return out;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE32_CODES = Array.from(BASE32, (c) => c.charCodeAt(0));
/** The character codes of the name being built (reused). */
const codes: number[] = [];

/**
 * `prefix` followed by the first `chars` (at most 51) characters of the RFC 4648 base32 of SHA-256 of a string's UTF-8
 * bytes: kube-proxy's chain names (16 characters) and its nftables mode's truncated names (8). Lone surrogates hash as
 * U+FFFD. The name is made in one piece (not appended character by character), so it is a flat string: the 160,000
 * names of a large cluster are sorted and used as Map keys, which would otherwise flatten each one again.
 */
export function sha256Base32(text: string, chars: number, prefix = ''): string {
  digestText(text);
  codes.length = 0;
  for (let i = 0; i < prefix.length; i++) codes.push(prefix.charCodeAt(i));
  for (let k = 0; k < chars; k++) codes.push(BASE32_CODES[base32Value(k)]);
  return String.fromCharCode.apply(null, codes);
}

/**
 * The values (0 to 31, the place of each character in the base32 alphabet) of the first `chars` characters (at most
 * 51) of {@link sha256Base32} of `head + rest`, written to `out`: what a name's order is read from without making
 * the name (kube-proxy's 150,000 endpoint chains, of which a trace names a few).
 */
export function sha256Base32Values(head: string, rest: string, chars: number, out: Uint8Array): void {
  digestText(head, rest);
  for (let k = 0; k < chars; k++) out[k] = base32Value(k);
}

/** The value of base32 character `k` of the digest in H: five bits read off its 256 from the most significant one. */
function base32Value(k: number): number {
  const bit = k * 5;
  const word = bit >>> 5;
  const off = bit & 31;
  let v = (H[word] << off) >>> 27;
  if (off > 27 && word < 7) v |= H[word + 1] >>> (59 - off);
  return v;
}
