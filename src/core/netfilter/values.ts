/** Values written in iptables options: addresses, 32-bit numbers, marks, ports and port ranges. */
import { hostPrefix, parseAddress, parsePrefix, type Prefix } from '../net/address';
import type { PortRange } from './types';

export function parseAddressOrPrefix(value: string): Prefix | undefined {
  if (value.includes('/')) return parsePrefix(value);
  const a = parseAddress(value);
  return a ? hostPrefix(a) : undefined;
}

/** Parses a 32-bit number written in decimal or 0x hex. */
export function parseU32(value: string): number | undefined {
  if (!/^(?:0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 0xffffffff ? n : undefined;
}

export function parseMarkValue(value: string): { value: number; mask: number } | undefined {
  const [v, m, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const vn = parseU32(v);
  const mn = m === undefined ? 0xffffffff : parseU32(m);
  if (vn === undefined || mn === undefined) return undefined;
  return { value: vn, mask: mn };
}

export function parsePort(value: string): number | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 65535 ? n : undefined;
}

/** `80`, `1000:2000`, `1000:` (to 65535) or `:2000` (from 0). */
export function parsePortRange(value: string): PortRange | undefined {
  const parts = value.split(':');
  if (parts.length === 1) {
    const p = parsePort(value);
    return p === undefined ? undefined : { from: p, to: p };
  }
  if (parts.length !== 2) return undefined;
  const from = parts[0] === '' ? 0 : parsePort(parts[0]);
  const to = parts[1] === '' ? 65535 : parsePort(parts[1]);
  if (from === undefined || to === undefined || from > to) return undefined;
  return { from, to };
}
