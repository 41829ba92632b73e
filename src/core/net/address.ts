/**
 * IP addresses and prefixes as plain data. Parsing uses ipaddr.js; the range arithmetic the domain
 * needs (containment, overlap, first/last, size) works on bigints so IPv4 and IPv6 share one code path.
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Address {
  readonly family: Family;
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly value: bigint;
}

export interface Prefix {
  readonly family: Family;
  /** The address as written, host bits included (`10.0.0.1/8` keeps `.1`). */
  readonly address: bigint;
  readonly length: number;
  /** The text as the user wrote it. */
  readonly text: string;
}

export const bitsOf = (family: Family): number => (family === 4 ? 32 : 128);

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * The value of a dotted-quad IPv4 address as a number, or -1 when the text is not one. ipaddr.js accepts legacy
 * IPv4 forms ("10.1", "0x0a.0.0.1", "010.0.0.1") that Kubernetes rejects: this insists on four decimals of one to
 * three digits, without leading zeros, each at most 255. One pass over the characters, no regular expression: every
 * pod IP of a cluster comes through here.
 */
export function ipv4Number(t: string): number {
  const n = t.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1; // A leading zero.
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function parseIPv4Value(t: string): bigint | undefined {
  const v = ipv4Number(t);
  return v < 0 ? undefined : BigInt(v);
}

/**
 * Checks the IPv6 syntax strictly and rewrites a trailing dotted IPv4 part as two hex groups, so ipaddr.js
 * only ever sees plain hex groups. This matters because ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4`
 * (it is `::102:304`) and accepts `::ffff:010.0.0.1` and `::ffff:0xa.0.0.1` in the embedded IPv4 part.
 */
function normaliseIPv6Text(t: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(t)) return undefined;
  const groups = t.split(':');
  const tail = groups[groups.length - 1];
  if (tail.includes('.')) {
    const v4 = parseIPv4Value(tail);
    if (v4 === undefined) return undefined;
    groups[groups.length - 1] = `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    return normaliseIPv6Text(groups.join(':'));
  }
  // Empty groups only come from `::`; ipaddr.js checks the rest (group count, a single `::`).
  if (groups.some((g) => g !== '' && !IPV6_GROUP.test(g))) return undefined;
  return t;
}

/** Parses text that must be exactly one address (no surrounding whitespace). */
function parseAddressText(t: string): Address | undefined {
  if (!t.includes(':')) {
    const v4 = parseIPv4Value(t);
    return v4 === undefined ? undefined : { family: 4, value: v4 };
  }
  const hex = normaliseIPv6Text(t);
  if (hex === undefined || !ipaddr.IPv6.isValid(hex)) return undefined;
  try {
    return { family: 6, value: toBigInt(ipaddr.IPv6.parse(hex).toByteArray()) };
  } catch {
    return undefined;
  }
}

/**
 * The family of one address, undefined if invalid: exactly `parseAddress(text)?.family`, without making the value
 * (an IPv4 address is checked, not turned into a bigint: a cluster's 150,000 endpoints are sorted by family).
 */
export function addressFamily(text: string): Family | undefined {
  const t = text.trim();
  if (t.includes(':')) return parseAddressText(t)?.family;
  return ipv4Number(t) < 0 ? undefined : 4;
}

/**
 * Parses one address, without a prefix length. Surrounding whitespace is ignored, whitespace inside is not.
 * Zone ids (`fe80::1%eth0`) are rejected. IPv4-mapped IPv6 stays IPv6. Returns undefined if invalid.
 */
export function parseAddress(text: string): Address | undefined {
  return parseAddressText(text.trim());
}

/**
 * Parses `addr/len`. Host bits are kept as written; see {@link hasHostBits}. Surrounding whitespace is
 * ignored (and not kept in `text`); whitespace around the slash is not. Returns undefined if invalid.
 */
export function parsePrefix(text: string): Prefix | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseAddressText(t.slice(0, slash));
  const lenText = t.slice(slash + 1);
  if (!addr || !/^(?:0|[1-9]\d{0,2})$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > bitsOf(addr.family)) return undefined;
  return { family: addr.family, address: addr.value, length, text: t };
}

/**
 * An address written in NetPath's own code (a well-known constant such as 127.0.0.1), never one from input: a
 * wrong literal is a programming error, thrown when the module loads, so every test importing it finds it.
 */
export function literalAddress(text: string): Address {
  const a = parseAddress(text);
  if (!a) throw new Error(`NetPath bug: '${text}' is not an address`);
  return a;
}

/** A prefix written in NetPath's own code (see {@link literalAddress}). */
export function literalPrefix(text: string): Prefix {
  const p = parsePrefix(text);
  if (!p) throw new Error(`NetPath bug: '${text}' is not a prefix`);
  return p;
}

const DEFAULT_ROUTES: Readonly<Record<Family, Prefix>> = { 4: literalPrefix('0.0.0.0/0'), 6: literalPrefix('::/0') };

/** The whole address space of a family (`0.0.0.0/0`, `::/0`): a default route's destination. */
export const defaultPrefix = (family: Family): Prefix => DEFAULT_ROUTES[family];

/** A prefix covering exactly one address (/32 or /128). */
export function hostPrefix(a: Address): Prefix {
  return {
    family: a.family,
    address: a.value,
    length: bitsOf(a.family),
    text: `${formatAddress(a)}/${bitsOf(a.family)}`,
  };
}

function computeMask(family: Family, length: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return length === 0 ? 0n : (all >> BigInt(bitsOf(family) - length)) << BigInt(bitsOf(family) - length);
}

/** Every mask of each family, computed once (the evaluator and the rules ask for them per rule and per packet). */
const MASKS: Readonly<Record<Family, readonly bigint[]>> = {
  4: Array.from({ length: 33 }, (_, l) => computeMask(4, l)),
  6: Array.from({ length: 129 }, (_, l) => computeMask(6, l)),
};

export function mask(family: Family, length: number): bigint {
  return MASKS[family][length] ?? computeMask(family, length);
}

export function firstAddress(p: Prefix): bigint {
  return p.address & mask(p.family, p.length);
}

export function lastAddress(p: Prefix): bigint {
  return firstAddress(p) | (~mask(p.family, p.length) & ((1n << BigInt(bitsOf(p.family))) - 1n));
}

export function sizeOf(p: Prefix): bigint {
  return 1n << BigInt(bitsOf(p.family) - p.length);
}

export function hasHostBits(p: Prefix): boolean {
  return firstAddress(p) !== p.address;
}

export function canonical(p: Prefix): string {
  return `${formatAddress({ family: p.family, value: firstAddress(p) })}/${p.length}`;
}

export function prefixContainsAddress(p: Prefix, a: Address): boolean {
  if (p.family !== a.family) return false;
  const m = mask(p.family, p.length);
  return (a.value & m) === (p.address & m);
}

/** Whether `outer` contains every address of `inner`. */
/**
 * Whether `inner`'s addresses are all in `outer`. Two prefixes are aligned blocks: the shorter holds the longer exactly
 * when their addresses agree on the shorter's bits, compared under one mask (no last address made: the data plane's
 * rules ask this of every node's routes).
 */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || outer.length > inner.length) return false;
  const m = mask(outer.family, outer.length);
  return (inner.address & m) === (outer.address & m);
}

/** Whether two prefixes share an address: aligned blocks do exactly when the shorter holds the longer. */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const m = mask(a.family, Math.min(a.length, b.length));
  return (a.address & m) === (b.address & m);
}

export function formatAddress(a: Address): string {
  if (a.family === 4) {
    const v = Number(a.value);
    return `${Math.floor(v / 16777216) % 256}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  // IPv4-mapped addresses print with a dotted tail, as RFC 5952 section 5 recommends and Go's netip does.
  if (a.value >> 32n === 0xffffn) return `::ffff:${formatAddress({ family: 4, value: a.value & 0xffffffffn })}`;
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((a.value >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString(); // RFC 5952 form for IPv6.
}

export function formatValue(family: Family, value: bigint): string {
  return formatAddress({ family, value });
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.family === b.family && a.value === b.value;
}

/** A stable string key for maps: `4:167772161`. */
export function addressKey(a: Address): string {
  // The same text either way; an IPv4 value fits a double, whose decimal text is cheaper than a bigint's (one key
  // per pod address is made when a data plane is compiled).
  return a.family === 4 ? `4:${Number(a.value)}` : `6:${a.value}`;
}

/** `address:port`, with brackets for IPv6 (Go's net.JoinHostPort); the address alone when there is no port. */
export function hostPort(address: string, port?: number | null): string {
  if (port === undefined || port === null) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The inverse of {@link hostPort} for the bracketed form: `[fd00::1]:80` -> host `fd00::1`, port `80`;
 * `[fd00::1]` -> host only. Undefined when the text is not bracketed (the one place `[v6]:port` is split).
 */
export function splitBracketedHostPort(text: string): { host: string; port?: string } | undefined {
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (!m) return undefined;
  return m[2] === undefined ? { host: m[1] } : { host: m[1], port: m[2] };
}
