/**
 * A small reader of what `tcpdump -i any -y LINUX_SLL2 -w FILE` writes: the pcap file header, one record per
 * packet, the Linux cooked v2 header (interface index and packet type: the direction) and the IPv4/IPv6,
 * TCP and UDP headers the verifier follows a connection by. Pure: bytes in, packets out; never throws on a
 * short or foreign file (a truncated record ends the list, an unknown link type gives no packets).
 */

/** LINKTYPE_LINUX_SLL2 in a pcap header. */
export const LINKTYPE_LINUX_SLL2 = 276;
const SLL2_HEADER = 20;
/** SLL2 packet types (the kernel's PACKET_*): 4 is a packet this host sends, everything else one it receives. */
const PACKET_OUTGOING = 4;

export interface CapturedPacket {
  /** Kernel timestamp in nanoseconds since the epoch (microsecond files are scaled). */
  readonly ts: bigint;
  /** Index of the interface in the capturing namespace. */
  readonly ifindex: number;
  readonly dir: 'in' | 'out';
  /** The link-layer payload: an IP packet when `ethertype` is 0x0800 or 0x86dd. */
  readonly ethertype: number;
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly linktype: number;
  readonly packets: readonly CapturedPacket[];
  /** Bytes read: the header and every complete record (a file still being written may end in part of one). */
  readonly end: number;
  /** Complete records read, also those too short to hold a packet (tcpdump counts every one it wrote). */
  readonly records: number;
}

/** Reads a pcap file (either byte order, micro- or nanosecond timestamps). */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < 24) return { linktype: -1, packets: [], end: 0, records: 0 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLE = view.getUint32(0, true);
  let little: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) [little, nano] = [true, magicLE === 0xa1b23c4d];
  else {
    const magicBE = view.getUint32(0, false);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) return { linktype: -1, packets: [], end: 0, records: 0 };
    [little, nano] = [false, magicBE === 0xa1b23c4d];
  }
  const linktype = view.getUint32(20, little) & 0x0fffffff;
  const packets: CapturedPacket[] = [];
  if (linktype !== LINKTYPE_LINUX_SLL2) return { linktype, packets, end: 24, records: 0 };
  let off = 24;
  let records = 0;
  while (off + 16 <= bytes.length) {
    const sec = view.getUint32(off, little);
    const frac = view.getUint32(off + 4, little);
    const incl = view.getUint32(off + 8, little);
    const start = off + 16;
    if (start + incl > bytes.length) break;
    off = start + incl;
    records++;
    if (incl < SLL2_HEADER) continue;
    packets.push({
      ts: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nano ? 1n : 1000n),
      ethertype: view.getUint16(start, false),
      ifindex: view.getUint32(start + 4, false),
      dir: bytes[start + 10] === PACKET_OUTGOING ? 'out' : 'in',
      data: bytes.subarray(start + SLL2_HEADER, start + incl),
    });
  }
  return { linktype, packets, end: off, records };
}

export interface IpPacket {
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  /** IP protocol number (6 TCP, 17 UDP). */
  readonly protocol: number;
  readonly sport?: number;
  readonly dport?: number;
  /** TCP only. */
  readonly seq?: number;
  readonly ack?: number;
  readonly syn?: boolean;
  readonly ackFlag?: boolean;
  /** The transport payload (UDP and TCP). */
  readonly payload?: Uint8Array;
}

const ipv4Text = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

function ipv6Text(b: Uint8Array, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  // The longest run of zero groups (at least two) becomes `::`, as inet_ntop writes it.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The IP, TCP and UDP fields of a captured packet, or undefined when it is not IP or is cut short. */
export function parseIp(p: Pick<CapturedPacket, 'ethertype' | 'data'>): IpPacket | undefined {
  const b = p.data;
  let family: 4 | 6;
  let src: string;
  let dst: string;
  let protocol: number;
  let l4: number;
  let end: number;
  if (p.ethertype === 0x0800 && b.length >= 20 && b[0] >> 4 === 4) {
    family = 4;
    l4 = (b[0] & 0x0f) * 4;
    protocol = b[9];
    src = ipv4Text(b, 12);
    dst = ipv4Text(b, 16);
    end = Math.min(b.length, (b[2] << 8) | b[3]);
  } else if (p.ethertype === 0x86dd && b.length >= 40 && b[0] >> 4 === 6) {
    family = 6;
    l4 = 40;
    protocol = b[6];
    src = ipv6Text(b, 8);
    dst = ipv6Text(b, 24);
    end = Math.min(b.length, 40 + ((b[4] << 8) | b[5]));
  } else return undefined;
  const base = { family, src, dst, protocol };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (protocol === 6 && l4 + 20 <= end) {
    const dataOff = l4 + (b[l4 + 12] >> 4) * 4;
    const flags = b[l4 + 13];
    return {
      ...base,
      sport: dv.getUint16(l4, false),
      dport: dv.getUint16(l4 + 2, false),
      seq: dv.getUint32(l4 + 4, false),
      ack: dv.getUint32(l4 + 8, false),
      syn: (flags & 0x02) !== 0,
      ackFlag: (flags & 0x10) !== 0,
      payload: b.subarray(Math.min(dataOff, end), end),
    };
  }
  if (protocol === 17 && l4 + 8 <= end)
    return {
      ...base,
      sport: dv.getUint16(l4, false),
      dport: dv.getUint16(l4 + 2, false),
      payload: b.subarray(l4 + 8, end),
    };
  // IP in IP (protocol 4, Calico's IPIP): the payload is the inner IPv4 packet.
  if (protocol === 4 && l4 < end) return { ...base, payload: b.subarray(l4, end) };
  return base;
}

/** `ip -o link` output -> interface index -> name (`eth0@if3` is `eth0`). */
export function parseLinks(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):\s+([^:@\s]+)(?:@[^:\s]+)?:/.exec(line);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

/** The VXLAN header (8 bytes) and the inner Ethernet header (14) before an encapsulated IP packet. */
const VXLAN_INNER = 8 + 14;

/**
 * The packet of the flow in a capture: the IP packet itself, or when it is a VXLAN packet to one of `tunnelPorts`
 * (the I flag set, a valid VNI field) or an IPIP packet (IP protocol 4), the IP packet inside it.
 */
export function flowPacket(
  p: Pick<CapturedPacket, 'ethertype' | 'data'>,
  tunnelPorts: ReadonlySet<number>,
): IpPacket | undefined {
  const ip = parseIp(p);
  const b = ip?.payload;
  if (ip?.protocol === 4 && b) return parseIp({ ethertype: 0x0800, data: b }) ?? ip;
  if (!ip || ip.protocol !== 17 || ip.dport === undefined || !tunnelPorts.has(ip.dport) || !b) return ip;
  if (b.length < VXLAN_INNER || (b[0] & 0x08) === 0 || b[7] !== 0) return ip;
  const ethertype = (b[20] << 8) | b[21];
  return parseIp({ ethertype, data: b.subarray(VXLAN_INNER) }) ?? ip;
}
