/**
 * The kernel lab's capture reader on hand-made captures: pcap headers in both byte orders and timestamp
 * precisions, the Linux cooked v2 header, IPv4/IPv6 with TCP and UDP, and following one request across
 * capture points by its SYN's sequence number or its UDP payload, merged by timestamp.
 */
import assert from 'node:assert/strict';
import type { DataPlane, TracePath } from '../../../src/core';
import {
  devicesAgree,
  followRequest,
  parseCaptureStats,
  predictedDevices,
  type DeviceHop,
} from '../../../src/lab/devices';
import {
  flowPacket,
  LINKTYPE_LINUX_SLL2,
  parseIp,
  parseLinks,
  readPcap,
  type CapturedPacket,
} from '../../../src/lab/pcap';

interface Rec {
  readonly sec: number;
  readonly frac: number;
  readonly ifindex: number;
  readonly pkttype: number;
  readonly ethertype: number;
  readonly ip: number[];
}

function pcap(records: readonly Rec[], opts: { little?: boolean; nano?: boolean; linktype?: number } = {}): Uint8Array {
  const little = opts.little ?? true;
  const chunks: Buffer[] = [];
  const head = Buffer.alloc(24);
  const u32 = (b: Buffer, v: number, o: number) => (little ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u16 = (b: Buffer, v: number, o: number) => (little ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  u32(head, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(head, 2, 4);
  u16(head, 4, 6);
  u32(head, 262144, 16);
  u32(head, opts.linktype ?? LINKTYPE_LINUX_SLL2, 20);
  chunks.push(head);
  for (const r of records) {
    const sll = Buffer.alloc(20);
    sll.writeUInt16BE(r.ethertype, 0);
    sll.writeUInt32BE(r.ifindex, 4);
    sll.writeUInt16BE(1, 8); // ARPHRD_ETHER
    sll[10] = r.pkttype;
    sll[11] = 6;
    const body = Buffer.concat([sll, Buffer.from(r.ip)]);
    const rh = Buffer.alloc(16);
    u32(rh, r.sec, 0);
    u32(rh, r.frac, 4);
    u32(rh, body.length, 8);
    u32(rh, body.length, 12);
    chunks.push(rh, body);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

const be16 = (v: number) => [v >> 8, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

function tcp4(src: number[], dst: number[], sport: number, dport: number, seq: number, flags: number): number[] {
  const tcp = [...be16(sport), ...be16(dport), ...be32(seq), ...be32(0), 0x50, flags, ...be16(64240), 0, 0, 0, 0];
  return [0x45, 0, ...be16(20 + tcp.length), 0, 0, 0x40, 0, 64, 6, 0, 0, ...src, ...dst, ...tcp];
}

function udp6(src: number[], dst: number[], sport: number, dport: number, payload: string): number[] {
  const data = [...Buffer.from(payload, 'latin1')];
  const udp = [...be16(sport), ...be16(dport), ...be16(8 + data.length), 0, 0, ...data];
  return [0x60, 0, 0, 0, ...be16(udp.length), 17, 64, ...src, ...dst, ...udp];
}

const V6A = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a];
const V6B = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b];
const SYN = 0x02;
const SYNACK = 0x12;

describe('lab: pcap reader', () => {
  it('reads a little-endian nanosecond LINUX_SLL2 file: interface, direction, IPv4 TCP', () => {
    const f = readPcap(
      pcap(
        [
          {
            sec: 10,
            frac: 5,
            ifindex: 2,
            pkttype: 4,
            ethertype: 0x0800,
            ip: tcp4([10, 244, 1, 10], [10, 96, 0, 10], 43280, 80, 2733154195, SYN),
          },
        ],
        { nano: true },
      ),
    );
    assert.equal(f.linktype, LINKTYPE_LINUX_SLL2);
    assert.equal(f.packets.length, 1);
    const p = f.packets[0];
    assert.deepEqual([p.ts, p.ifindex, p.dir, p.ethertype], [10_000_000_005n, 2, 'out', 0x0800]);
    assert.deepEqual(parseIp(p), {
      family: 4,
      src: '10.244.1.10',
      dst: '10.96.0.10',
      protocol: 6,
      sport: 43280,
      dport: 80,
      seq: 2733154195,
      ack: 0,
      syn: true,
      ackFlag: false,
      payload: new Uint8Array(0),
    });
  });

  it('reads a big-endian microsecond file and an IPv6 UDP datagram (compressed address text)', () => {
    const f = readPcap(
      pcap(
        [{ sec: 1, frac: 7, ifindex: 3, pkttype: 0, ethertype: 0x86dd, ip: udp6(V6A, V6B, 5000, 53, 'netpath abc\n') }],
        { little: false },
      ),
    );
    const p = f.packets[0];
    assert.deepEqual([p.ts, p.ifindex, p.dir], [1_000_007_000n, 3, 'in']);
    const ip = parseIp(p)!;
    assert.deepEqual(
      [ip.family, ip.src, ip.dst, ip.protocol, ip.sport, ip.dport],
      [6, 'fd00::a', 'fd00::b', 17, 5000, 53],
    );
    assert.equal(Buffer.from(ip.payload!).toString('latin1'), 'netpath abc\n');
  });

  it('never throws: a foreign file, another link type and a truncated record', () => {
    assert.deepEqual(readPcap(new Uint8Array([1, 2, 3])).packets, []);
    assert.deepEqual(readPcap(new Uint8Array(40)).packets, []);
    assert.deepEqual(
      readPcap(
        pcap(
          [
            {
              sec: 1,
              frac: 0,
              ifindex: 1,
              pkttype: 0,
              ethertype: 0x0800,
              ip: tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 3, SYN),
            },
          ],
          { linktype: 1 },
        ),
      ).packets,
      [],
    );
    const whole = pcap([
      {
        sec: 1,
        frac: 0,
        ifindex: 1,
        pkttype: 0,
        ethertype: 0x0800,
        ip: tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 3, SYN),
      },
      {
        sec: 2,
        frac: 0,
        ifindex: 1,
        pkttype: 0,
        ethertype: 0x0800,
        ip: tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 3, SYN),
      },
    ]);
    assert.equal(readPcap(whole.subarray(0, whole.length - 5)).packets.length, 1);
    // A file still being written: `end` is where the complete records stop, so the next read starts there.
    assert.equal(readPcap(whole.subarray(0, whole.length - 5)).end, 24 + (whole.length - 24) / 2);
    assert.equal(readPcap(whole).end, whole.length);
    // Complete records: what tcpdump's `captured` counter must reach once it caught up (else its writes failed).
    assert.equal(readPcap(whole).records, 2);
    assert.equal(readPcap(whole.subarray(0, whole.length - 5)).records, 1);
    assert.equal(readPcap(whole.subarray(0, 24)).records, 0);
    assert.equal(parseIp({ ethertype: 0x0806, data: new Uint8Array(28) }), undefined);
  });

  it('finds the flow inside an IPIP packet (protocol 4), as on a Calico IPIP underlay; a cut-short one stays outer', () => {
    const inner = tcp4([10, 244, 1, 10], [10, 244, 2, 10], 40000, 8080, 7, SYN);
    const outer = [0x45, 0, ...be16(20 + inner.length), 0, 0, 0x40, 0, 64, 4, 0, 0, 192, 168, 56, 11, 192, 168, 56, 12];
    const seen = flowPacket({ ethertype: 0x0800, data: new Uint8Array([...outer, ...inner]) }, new Set());
    assert.equal(seen?.src, '10.244.1.10');
    assert.equal(seen?.dst, '10.244.2.10');
    assert.equal(seen?.dport, 8080);
    const cut = flowPacket({ ethertype: 0x0800, data: new Uint8Array([...outer, 0x45, 0]) }, new Set());
    assert.equal(cut?.src, '192.168.56.11');
    assert.equal(cut?.protocol, 4);
  });

  it('maps `ip -o link` indexes to names inside the namespace', () => {
    const links = parseLinks(
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue\n2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n4: vetha1d4b674@if2: <BROADCAST> mtu 1500\n',
    );
    assert.deepEqual(
      [...links],
      [
        [1, 'lo'],
        [2, 'eth0'],
        [4, 'vetha1d4b674'],
      ],
    );
  });
});

describe('lab: following a request across capture points', () => {
  const links = (m: Record<number, string>) => new Map(Object.entries(m).map(([k, v]) => [Number(k), v]));
  const packets = (recs: Rec[]): CapturedPacket[] => [...readPcap(pcap(recs, { nano: true })).packets];
  const syn = (
    sec: number,
    frac: number,
    ifindex: number,
    pkttype: number,
    dst: number[],
    seq = 1000,
    sport = 40000,
    flags = SYN,
  ): Rec => ({
    sec,
    frac,
    ifindex,
    pkttype,
    ethertype: 0x0800,
    ip: tcp4([10, 244, 1, 10], dst, sport, 80, seq, flags),
  });

  it('follows the SYN by its ISN through DNAT, orders by timestamp, keeps file order on ties, ignores other connections', () => {
    const captures = new Map([
      [
        'pod:default/client',
        {
          links: links({ 2: 'eth0' }),
          packets: packets([syn(5, 100, 2, 4, [10, 96, 0, 10]), syn(5, 900, 2, 0, [10, 244, 1, 10], 77, 80, SYNACK)]),
        },
      ],
      // The bridge port and the bridge share the receive timestamp; the file order decides.
      [
        'node:node1',
        {
          links: links({ 4: 'vetha', 3: 'cni0', 2: 'eth0' }),
          packets: packets([
            syn(5, 200, 4, 3, [10, 96, 0, 10]),
            syn(5, 200, 3, 0, [10, 244, 2, 10]),
            syn(5, 300, 2, 4, [10, 244, 2, 10]),
            syn(5, 310, 2, 4, [10, 244, 2, 10], 999, 40001),
          ]),
        },
      ],
      ['pod:default/web', { links: links({ 2: 'eth0' }), packets: packets([syn(5, 400, 2, 0, [10, 244, 2, 10])]) }],
      ['external:x', { links: links({ 2: 'eth0' }), packets: packets([syn(5, 350, 2, 0, [10, 244, 2, 10])]) }],
    ]);
    const hops = followRequest(captures, { proto: 'tcp', sourceNetns: 'pod:default/client', sport: 40000 });
    assert.deepEqual(
      hops?.map((h) => `${h.netns} ${h.device} ${h.dir}`),
      [
        'pod:default/client eth0 out',
        'node:node1 vetha in',
        'node:node1 cni0 in',
        'node:node1 eth0 out',
        'pod:default/web eth0 in',
      ],
    );
    assert.equal(followRequest(captures, { proto: 'tcp', sourceNetns: 'pod:default/client', sport: 1 }), undefined);
  });

  it('follows a UDP datagram by its payload and leaves out a retransmission a second later', () => {
    const d = (sec: number, ifindex: number, pkttype: number, payload: string): Rec => ({
      sec,
      frac: 0,
      ifindex,
      pkttype,
      ethertype: 0x86dd,
      ip: udp6(V6A, V6B, 5000, 53, payload),
    });
    const captures = new Map([
      [
        'pod:a/b',
        {
          links: links({ 2: 'eth0' }),
          packets: packets([d(1, 2, 4, 'tok\n'), d(1, 2, 4, 'other\n'), d(3, 2, 4, 'tok\n')]),
        },
      ],
    ]);
    assert.deepEqual(followRequest(captures, { proto: 'udp', token: 'tok\n' }), [
      { netns: 'pod:a/b', device: 'eth0', dir: 'out' },
    ]);
  });

  it('compares with the trace: an optional bridge hop may be missing or in either direction, nothing else', () => {
    const h = (device: string, dir: 'in' | 'out', optional = false): DeviceHop => ({
      netns: 'node:n1',
      device,
      dir,
      ...(optional ? { optional: true as const } : {}),
    });
    const predicted = [h('vetha', 'in'), h('cni0', 'in', true), h('vethb', 'out')];
    assert.ok(devicesAgree(predicted, [h('vetha', 'in'), h('vethb', 'out')]));
    assert.ok(devicesAgree(predicted, [h('vetha', 'in'), h('cni0', 'out'), h('vethb', 'out')]));
    assert.ok(!devicesAgree(predicted, [h('vetha', 'in'), h('eth0', 'out'), h('vethb', 'out')]));
    assert.ok(
      !devicesAgree([h('vetha', 'in'), h('cni0', 'in'), h('eth0', 'out')], [h('vetha', 'in'), h('eth0', 'out')]),
    );
    assert.ok(!devicesAgree(predicted, [h('vetha', 'in')]));
  });

  it('a routing loop: the hops before the cycle, the cycle at least once, then more cycles, the last one cut short', () => {
    const h = (netns: string, device: string, dir: 'in' | 'out'): DeviceHop => ({ netns, device, dir });
    const pre = [h('pod:c', 'eth0', 'out'), h('node:n1', 'veth', 'in'), h('node:n1', 'cni0', 'in')];
    const cycle = [
      h('node:n1', 'eth0', 'out'),
      h('node:n2', 'eth0', 'in'),
      h('node:n2', 'eth0', 'out'),
      h('node:n1', 'eth0', 'in'),
    ];
    // The trace stops where the packet would cross node:n1 eth0 out a second time.
    const predicted = [...pre, ...cycle, cycle[0]];
    assert.ok(devicesAgree(predicted, [...pre, ...cycle], true));
    assert.ok(devicesAgree(predicted, [...pre, ...cycle, ...cycle, ...cycle, cycle[0], cycle[1]], true));
    assert.ok(!devicesAgree(predicted, [...pre, cycle[0], cycle[1]], true), 'less than one cycle');
    assert.ok(
      !devicesAgree(predicted, [...pre, ...cycle, cycle[0], h('node:n2', 'eth1', 'in')], true),
      'a foreign hop in a later cycle',
    );
    assert.ok(!devicesAgree(predicted, [...pre, ...cycle, ...cycle], false), 'not a loop: exact');
  });

  it('a request that never left, or stopped on the way: an empty or short observation must end where the trace ends', () => {
    const h = (device: string, dir: 'in' | 'out'): DeviceHop => ({ netns: 'node:n1', device, dir });
    assert.ok(devicesAgree([], []));
    assert.ok(!devicesAgree([h('veth', 'in')], []));
    assert.ok(!devicesAgree([], [h('veth', 'in')]));
    assert.ok(devicesAgree([h('veth', 'in'), h('cni0', 'in')], [h('veth', 'in'), h('cni0', 'in')]));
    assert.ok(!devicesAgree([h('veth', 'in'), h('cni0', 'in'), h('eth0', 'out')], [h('veth', 'in'), h('cni0', 'in')]));
  });

  it('predicts no transmit for a packet that left for a Proxy-mode load balancer: the lab has none to answer ARP', () => {
    const dp = {
      namespaces: new Map([['node:n1', { bridges: [], interfaces: [{ name: 'eth0' }] }]]),
    } as unknown as DataPlane;
    const hops = [
      { netns: 'node:n1', device: 'cni0', dir: 'in', steps: [{ kind: 'route', detail: '' }] },
      { netns: 'node:n1', device: 'eth0', dir: 'out', steps: [{ kind: 'drop', reason: 'load-balancer', detail: '' }] },
    ];
    assert.deepEqual(
      predictedDevices({ hops } as unknown as Pick<TracePath, 'hops'>, dp).map((x) => `${x.device} ${x.dir}`),
      ['cni0 in'],
    );
  });

  it('predicts a bridge hop as optional between two of its ports, and where the bridge drops a hairpin; not when the host routes', () => {
    const dp = {
      namespaces: new Map([
        [
          'node:n1',
          {
            bridges: [{ name: 'cni0' }],
            interfaces: [{ name: 'vetha', master: 'cni0' }, { name: 'vethb', master: 'cni0' }, { name: 'eth0' }],
          },
        ],
      ]),
    } as unknown as DataPlane;
    const hop = (device: string, dir: 'in' | 'out', kinds: string[] = []) => ({
      netns: 'node:n1',
      device,
      dir,
      steps: kinds.map((kind) => ({ kind, detail: '' })),
    });
    const text = (hops: ReturnType<typeof hop>[]) =>
      predictedDevices({ hops } as unknown as Pick<TracePath, 'hops'>, dp).map(
        (x) => `${x.device} ${x.dir}${x.optional ? '?' : ''}`,
      );
    assert.deepEqual(text([hop('vetha', 'in'), hop('cni0', 'in', ['route', 'bridge']), hop('vethb', 'out')]), [
      'vetha in',
      'cni0 in?',
      'vethb out',
    ]);
    assert.deepEqual(text([hop('vetha', 'in'), hop('cni0', 'in', ['route', 'bridge', 'drop'])]), [
      'vetha in',
      'cni0 in?',
    ]);
    assert.deepEqual(text([hop('vetha', 'in'), hop('cni0', 'in', ['route', 'ttl', 'netfilter', 'drop'])]), [
      'vetha in',
      'cni0 in',
    ]);
    assert.deepEqual(text([hop('vetha', 'in'), hop('cni0', 'in', ['route', 'ttl']), hop('eth0', 'out')]), [
      'vetha in',
      'cni0 in',
      'eth0 out',
    ]);
  });
});

describe('lab: capture counters', () => {
  it("reads tcpdump's last counters (SIGUSR1 lines and the exit summary) and how many were printed", () => {
    assert.deepEqual(parseCaptureStats('tcpdump: listening on any\n'), { stats: undefined, count: 0 });
    const usr1 =
      'tcpdump: 2 packets captured, 2 packets received by filter, 0 packets dropped by kernel\ntcpdump: 14 packets captured, 24 packets received by filter, 10 packets dropped by kernel\n';
    assert.deepEqual(parseCaptureStats(usr1), { stats: { captured: 14, received: 24, dropped: 10 }, count: 2 });
    assert.deepEqual(
      parseCaptureStats(`${usr1}1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n`),
      { stats: { captured: 1, received: 1, dropped: 0 }, count: 3 },
    );
  });
});
