/**
 * The devices a packet crossed, seen by the kernel and predicted by the tracer.
 *
 * Observed: one capture per namespace for the whole run ({@link LabCapture}: `tcpdump -i any -y LINUX_SLL2
 * --immediate-mode -U -s 128 -B 4096`), read between flows from where the previous flow stopped, once every
 * capture's counters show it wrote all the kernel queued for it; interface indexes mapped to names inside that
 * namespace (`ip -n NS -o link`; `tcpdump -r` would resolve them in the reader's namespace). A TCP try is
 * followed by its SYN's initial sequence number (NAT never rewrites it; the client picks its source port, so a
 * failed connection's SYN is found too), a UDP try by its datagram's payload (a token the client sends); the
 * packets of all capture points are merged by the kernel's timestamps (one clock), each file keeping its own
 * order when timestamps tie, and across namespaces an outgoing copy first. Microsecond timestamps.
 * A request that is in no capture while no capture lost anything crossed no captured device (it never left its
 * namespace): an empty observation, compared like any other.
 *
 * Predicted: the trace's hops in pod and node namespaces. Not observable, so left out: `lo out` (the capture
 * filter leaves out the outgoing copy of a loopback packet; the incoming one is kept). Optional: a bridge hop
 * between two ports of that bridge (bridged traffic, also after DNAT in the bridge's prerouting with
 * br_netfilter), or after a port when the bridge's forwarding drops the frame there (hairpin off): the kernel
 * forwards the frame port to port, and shows the bridge device only when the neighbour entry sends it through
 * the bridge's own transmit (`<bridge> out`), so either direction or none agrees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DataPlane, TracePath } from '../core';
import type { VerifyDeviceHop } from '../protocol/verify';
import { LabError, must, signalGroup } from './exec';
import { commandOrFailure } from './fault';
import { flowPacket, parseLinks, readPcap, type CapturedPacket } from './pcap';

/** A device crossed (declared with the verify report). */
export type DeviceHop = VerifyDeviceHop;

export const hopText = (h: DeviceHop): string => `${h.netns} ${h.device} ${h.dir}${h.optional ? '?' : ''}`;

const compared = (netns: string): boolean => netns.startsWith('pod:') || netns.startsWith('node:');

/** The hops of a trace path the kernel lab compares, in order, with the optional bridge hops marked. */
export function predictedDevices(p: Pick<TracePath, 'hops'>, dp: DataPlane): DeviceHop[] {
  const out: DeviceHop[] = [];
  const hops = p.hops;
  hops.forEach((h, i) => {
    if (!compared(h.netns)) return;
    if (h.device === 'lo' && h.dir === 'out') return;
    // No neighbour answered: the packet waits in the neighbour queue and is dropped there, never transmitted.
    if (h.dir === 'out' && h.steps.some((st) => st.kind === 'neighbor' && !st.answer)) return;
    // Left for a Proxy-mode load balancer: the lab builds no load balancer, so there too nobody answers the ARP.
    if (h.dir === 'out' && h.steps.some((st) => st.kind === 'drop' && st.reason === 'load-balancer')) return;
    const ns = dp.namespaces.get(h.netns);
    const bridge = ns?.bridges.find((b) => b.name === h.device);
    const portOf = (x: (typeof hops)[number] | undefined): boolean =>
      !!x && x.netns === h.netns && !!ns?.interfaces.some((f) => f.name === x.device && f.master === h.device);
    // Forwarded port to port, or dropped by the bridge's own forwarding decision (a hairpin the port refuses):
    // the frame never goes up to the host, so the kernel shows the bridge only when it went through its transmit.
    const next = hops[i + 1];
    const bridged =
      !!bridge &&
      portOf(hops[i - 1]) &&
      hops[i - 1]?.dir === 'in' &&
      (next ? portOf(next) && next.dir === 'out' : h.steps.some((st) => st.kind === 'bridge'));
    out.push({ netns: h.netns, device: h.device, dir: h.dir, ...(bridged ? { optional: true as const } : {}) });
  });
  return out;
}

const sameHop = (a: DeviceHop, b: DeviceHop): boolean =>
  a.netns === b.netns && a.device === b.device && a.dir === b.dir;

/**
 * Whether the observed hops are the predicted ones (optional hops may be missing or in either direction).
 *
 * A routing loop (`loop`): the trace stops where the packet would cross a device a second time, so its last hop
 * repeats an earlier one and the hops from that one on are the cycle; the kernel forwards the packet round the
 * cycle until its TTL runs out. The observation must be the hops before the cycle, the cycle at least once, and
 * then any number of further cycles, the last one possibly cut short (wherever the TTL ran out).
 *
 * An empty or short observation is compared like any other: a packet that never left its namespace (no route
 * there) crossed no device, and one dropped on the way ends where the trace says it stops.
 */
export function devicesAgree(predicted: readonly DeviceHop[], observed: readonly DeviceHop[], loop = false): boolean {
  let body = predicted;
  let cycle = -1;
  if (loop && predicted.length > 1) {
    const last = predicted[predicted.length - 1];
    const k = predicted.findIndex((h) => sameHop(h, last));
    if (k < predicted.length - 1) [body, cycle] = [predicted.slice(0, -1), k];
  }
  // Small lists: backtracking with a memo of the states tried (state: predicted index, observed index, a full cycle done).
  const tried = new Set<string>();
  const match = (i: number, j: number, looped: boolean): boolean => {
    if (looped && j === observed.length) return true;
    if (i === body.length) {
      if (cycle < 0) return j === observed.length;
      i = cycle;
      looped = true;
      if (j === observed.length) return true;
    }
    const key = `${i} ${j} ${looped ? 1 : 0}`;
    if (tried.has(key)) return false;
    tried.add(key);
    const p = body[i];
    const o = observed[j];
    if (
      o &&
      o.netns === p.netns &&
      o.device === p.device &&
      (o.dir === p.dir || p.optional) &&
      match(i + 1, j + 1, looped)
    )
      return true;
    return !!p.optional && match(i + 1, j, looped);
  };
  return match(0, 0, false);
}

export interface CapturePoint {
  /** The tracer's namespace id. */
  readonly id: string;
  /** The Linux namespace name. */
  readonly name: string;
}

/** tcpdump's counters (printed on SIGUSR1 and at exit): packets written, packets the kernel queued for it (drops included), drops. */
export interface CaptureStats {
  readonly captured: number;
  readonly received: number;
  readonly dropped: number;
}

/** The last counters in tcpdump's stderr (`N packets captured, M packets received by filter, K packets dropped by kernel`). */
export function parseCaptureStats(text: string): { readonly stats: CaptureStats | undefined; readonly count: number } {
  const all = [
    ...text.matchAll(
      /(\d+) packets? captured,? *\n?(?:tcpdump: )?(\d+) packets? received by filter,? *\n?(?:tcpdump: )?(\d+) packets? dropped by kernel/g,
    ),
  ];
  const m = all.at(-1);
  return {
    stats: m ? { captured: Number(m[1]), received: Number(m[2]), dropped: Number(m[3]) } : undefined,
    count: all.length,
  };
}

/** What one capture point saw during one flow. */
export interface PointCapture {
  readonly links: Map<number, string>;
  readonly packets: readonly CapturedPacket[];
}

/** One flow's observation: the packets per capture point, and why it may be incomplete. */
export interface FlowCaptures {
  readonly captures: Map<string, PointCapture>;
  /** Packets the kernel dropped for a capture during the flow, per Linux namespace (only those with drops). */
  readonly drops: ReadonlyMap<string, number>;
  /** Problems that make the observation incomplete (drops, a capture that did not catch up or died). */
  readonly incomplete: readonly string[];
}

interface Running {
  readonly point: CapturePoint;
  readonly file: string;
  /** `ip netns exec` execs `timeout`, which runs tcpdump as its child. */
  readonly child: ChildProcess;
  /** tcpdump's own PID (it gets SIGUSR1 for its counters; `timeout` would die of it). */
  tcpdumpPid: number | undefined;
  readonly closed: Promise<void>;
  stderr: string;
  exited: boolean;
  /** Bytes of the file already read (the pcap header is kept). */
  offset: number;
  /** Records read from the file so far: tcpdump's `captured` counter must reach it (else a write was lost). */
  records: number;
  header: Uint8Array | undefined;
  /** Drops counted at the end of the previous flow. */
  dropped: number;
}

/** Captures that are running, so a verifier that is stopped can end them (they are also bounded by `timeout`). */
const live = new Set<ChildProcess>();

/** Stops every capture this process started (the verifier's teardown calls it). */
export function stopAllCaptures(): void {
  // The whole group: `timeout` and its tcpdump (signalling `timeout` alone can leave tcpdump running).
  for (const c of live) if (c.pid) signalGroup(c.pid, 'SIGTERM');
  live.clear();
}

/**
 * tcpdump's options. A small snapshot length matters: with TPACKET_V3 libpcap sizes the ring's blocks by the
 * frame size, so the default 262144-byte snaplen leaves a 2 MiB buffer a handful of blocks; in immediate mode
 * each block is retired within milliseconds and, with a busy CPU, all of them are soon waiting for tcpdump and
 * the kernel drops (measured: 10 of 24 packets of one connection lost in most node captures). 128 bytes hold
 * the SLL2, IP and TCP/UDP headers and the UDP token, also inside a VXLAN tunnel's 50 bytes (160); `-B 4096` gives a 4 MiB ring of page-sized blocks.
 */
export const TCPDUMP_ARGS = [
  '-i',
  'any',
  '-y',
  'LINUX_SLL2',
  '--immediate-mode',
  '-U',
  '-n',
  '-s',
  '160',
  '-B',
  '4096',
] as const;

/**
 * IP only, and not the outgoing copy of a loopback packet (ifindex 1 is `lo` in every namespace): libpcap
 * discards those copies itself, after the kernel counted them as received, so the counters could never show a
 * capture that caught up. In the kernel's filter they are not counted at all.
 */
export const CAPTURE_FILTER = '(ip or ip6) and not (ifindex 1 and outbound)';

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** The PID of `parent`'s child process (reads /proc; undefined when there is none yet). */
function childPid(parent: number): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) return Number(d);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/**
 * One capture per namespace for a whole verify run (started once, not per flow: cheaper, and no flow depends on
 * a capture starting in time). Between flows the files are read from where the previous flow stopped; before
 * reading, each capture is asked for its counters (SIGUSR1) until it has written every packet the kernel queued
 * for it, so nothing of the flow is still on its way into the file.
 */
export class LabCapture {
  private constructor(
    private readonly running: readonly Running[],
    readonly problems: readonly string[],
  ) {}

  /**
   * Starts a capture in every point and waits (bounded, and no longer once `signal` stops the run) until each one
   * listens. `limitS` bounds each capture's life.
   */
  static async start(
    points: readonly CapturePoint[],
    dir: string,
    limitS: number,
    signal?: AbortSignal,
  ): Promise<LabCapture> {
    const problems: string[] = [];
    const running = await Promise.all(
      points.map(async (point, i): Promise<Running | undefined> => {
        const file = path.join(dir, `capture-${i}.pcap`);
        const [cmd, args] = commandOrFailure('ip', [
          'netns',
          'exec',
          point.name,
          'timeout',
          '-s',
          'INT',
          String(Math.ceil(limitS)),
          'tcpdump',
          ...TCPDUMP_ARGS,
          '-w',
          file,
          CAPTURE_FILTER,
        ]);
        if (signal?.aborted) {
          problems.push('interrupted: the run was stopped');
          return undefined;
        }
        // Its own process group, stopped as one (see signalGroup).
        const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
        live.add(child);
        let markClosed = (): void => undefined;
        const r: Running = {
          point,
          file,
          child,
          tcpdumpPid: undefined,
          closed: new Promise<void>((res) => (markClosed = res)),
          stderr: '',
          exited: false,
          offset: 0,
          records: 0,
          header: undefined,
          dropped: 0,
        };
        child.on('close', () => {
          live.delete(child);
          r.exited = true;
          markClosed();
        });
        child.on('error', (e) => (r.stderr += e.message));
        child.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
        const end = Date.now() + 5000;
        while (!/listening on/.test(r.stderr) && !r.exited && !signal?.aborted && Date.now() < end) await sleep(10);
        r.tcpdumpPid = child.pid && !r.exited ? childPid(child.pid) : undefined;
        if (!/listening on/.test(r.stderr) || !r.tcpdumpPid) {
          problems.push(
            signal?.aborted
              ? 'interrupted: the run was stopped'
              : `the capture in ${point.name} did not start: ${r.stderr.trim().split('\n').at(-1) || 'no output in 5 s'}`,
          );
          await stopGroup(child, r.closed, 'SIGTERM');
          return undefined;
        }
        return r;
      }),
    );
    return new LabCapture(
      running.filter((r): r is Running => !!r),
      problems,
    );
  }

  /** The capture processes (`timeout`, whose command line names the lab's folder), for the lab's state. */
  get processes(): { pid: number; netns: string }[] {
    return this.running.flatMap((r) => (r.child.pid ? [{ pid: r.child.pid, netns: r.point.name }] : []));
  }

  /** Asks every capture for its counters and waits (bounded) for the answers. */
  private async stats(): Promise<Map<Running, CaptureStats | undefined>> {
    const before = new Map(this.running.map((r) => [r, parseCaptureStats(r.stderr).count]));
    for (const r of this.running) {
      if (r.exited || !r.tcpdumpPid) continue;
      try {
        process.kill(r.tcpdumpPid, 'SIGUSR1');
      } catch {
        // Exited meanwhile.
      }
    }
    const end = Date.now() + 1000;
    const answered = (r: Running) => r.exited || parseCaptureStats(r.stderr).count > (before.get(r) ?? 0);
    while (!this.running.every(answered) && Date.now() < end) await sleep(5);
    return new Map(this.running.map((r) => [r, answered(r) ? parseCaptureStats(r.stderr).stats : undefined]));
  }

  /**
   * Waits until every capture wrote all the kernel queued for it (written + dropped = received, twice in a row
   * with no new packet: packets still being forwarded arrive meanwhile), then reads what each file gained since
   * the previous call. Bounded by `limitMs`; a capture that did not catch up makes the flow incomplete.
   */
  async collect(links: (point: CapturePoint) => Promise<Map<number, string>>, limitMs = 2000): Promise<FlowCaptures> {
    const end = Date.now() + limitMs;
    let last: Map<Running, CaptureStats | undefined> | undefined;
    let settled = false;
    for (;;) {
      const now = await this.stats();
      const caughtUp = [...now].every(([r, s]) => r.exited || (!!s && s.captured + s.dropped === s.received));
      const previous = last;
      const same = !!previous && [...now].every(([r, s]) => s?.received === previous.get(r)?.received);
      if (caughtUp && same) {
        settled = true;
        break;
      }
      last = now;
      if (Date.now() >= end) break;
      await sleep(caughtUp ? 15 : 10);
    }
    const captures = new Map<string, PointCapture>();
    const drops = new Map<string, number>();
    const incomplete: string[] = [];
    for (const r of this.running) {
      const s = last?.get(r);
      if (s && s.dropped > r.dropped) {
        drops.set(r.point.name, s.dropped - r.dropped);
        incomplete.push(`the kernel dropped ${s.dropped - r.dropped} packet(s) for the capture in ${r.point.name}`);
      }
      if (s) r.dropped = s.dropped;
      if (r.exited)
        incomplete.push(`the capture in ${r.point.name} stopped: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
      let read = readNew(r);
      // Every packet tcpdump counts as captured is in the file once it caught up. Fewer records: its writes failed
      // (a full disk: tcpdump goes on counting, prints nothing and exits 0 while its file stops growing). Read
      // again a few times first: a counter may be printed between counting a packet and writing it.
      for (let i = 0; settled && s && r.records + read.records < s.captured && i < 5; i++) {
        await sleep(20);
        read = readNew(r);
      }
      if (settled && s && r.records + read.records < s.captured) throw new LabError(lostWrites(r, read, s));
      if (read.error !== undefined) {
        incomplete.push(`the capture file of ${r.point.name} could not be read: ${read.error}`);
        continue;
      }
      if (!r.header) {
        if (!read.header) continue;
        r.header = read.header;
        r.offset = 24;
      }
      r.offset += read.end - 24;
      r.records += read.records;
      captures.set(r.point.id, { links: await links(r.point), packets: read.packets });
    }
    if (!settled)
      incomplete.push(
        `the captures did not catch up within ${limitMs} ms: ${[...(last ?? [])].map(([r, s]) => `${r.point.name} ${s ? `${s.captured}/${s.received}/${s.dropped}` : 'no answer'}${r.exited ? ' exited' : ''}`).join(', ')}`,
      );
    return { captures, drops, incomplete };
  }

  /** Where the captures write. */
  get files(): string[] {
    return this.running.map((r) => r.file);
  }

  /** Stops the captures (SIGINT: tcpdump writes what it has), bounded, and removes their files. */
  async stop(): Promise<void> {
    await Promise.all(this.running.map((r) => stopGroup(r.child, r.closed, 'SIGINT')));
    for (const r of this.running) fs.rmSync(r.file, { force: true });
  }
}

/**
 * Stops a capture's process group with `signal` and waits until it is gone (its stderr closes only when tcpdump
 * exited too); after 2 s the group gets SIGKILL, and at most 1 s more is waited.
 */
async function stopGroup(child: ChildProcess, closed: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (!child.pid) return;
  signalGroup(child.pid, signal);
  const gone = await Promise.race([closed.then(() => true), sleep(2000).then(() => false)]);
  if (gone) return;
  signalGroup(child.pid, 'SIGKILL');
  await Promise.race([closed, sleep(1000)]);
}

/** What a capture file gained since the last read: complete records after `r.offset`, never throwing. */
function readNew(r: Running): {
  packets: readonly CapturedPacket[];
  records: number;
  end: number;
  header?: Uint8Array;
  error?: string;
} {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(r.file);
  } catch (e) {
    return { packets: [], records: 0, end: 24, error: (e as Error).message };
  }
  const header = r.header ?? (bytes.length >= 24 ? bytes.slice(0, 24) : undefined);
  if (!header) return { packets: [], records: 0, end: 24 };
  const offset = r.header ? r.offset : 24;
  const segment = new Uint8Array(24 + Math.max(0, bytes.length - offset));
  segment.set(header, 0);
  segment.set(bytes.subarray(offset), 24);
  const read = readPcap(segment);
  return { packets: read.packets, records: read.records, end: read.end, header };
}

/** The one-line error for a capture whose file holds fewer packets than tcpdump captured. */
function lostWrites(r: Running, read: { records: number }, s: CaptureStats): string {
  const dir = path.dirname(r.file);
  let free = '';
  try {
    const fsStats = fs.statfsSync(dir);
    free = ` ${dir} has ${fsStats.bavail * fsStats.bsize} bytes free`;
  } catch {
    // The folder is gone: the message says what is known.
  }
  return `the capture in ${r.point.name} could not write its packets: ${r.file} holds ${r.records + read.records} of the ${s.captured} packets tcpdump captured (is the disk full?${free}); choose another folder with --capture-dir`;
}

/** The interface names of a namespace by index (a failing `ip` is a lab error: hops named `if3` would disagree). */
export async function linksOf(netnsName: string): Promise<Map<number, string>> {
  const r = await must('ip', ['-n', netnsName, '-o', 'link'], { timeoutMs: 5000 });
  return parseLinks(r.stdout);
}

/** What identifies one try's request packets. */
export type TryKey =
  | { readonly proto: 'tcp'; readonly sourceNetns: string; readonly sport: number }
  | { readonly proto: 'udp'; readonly token: string };

/** Only the first transmission: a retransmitted SYN comes after 1 s, the tries give up after 700 ms. */
const WINDOW_NS = 900_000_000n;

/**
 * The ordered devices one try's request crossed: every capture point's packets of that request, merged by
 * timestamp. Undefined when the request was not found (no SYN from that port in the source namespace).
 */
export function followRequest(
  captures: ReadonlyMap<string, { readonly links: Map<number, string>; readonly packets: readonly CapturedPacket[] }>,
  key: TryKey,
  tunnelPorts: ReadonlySet<number> = new Set(),
): DeviceHop[] | undefined {
  let isMatch: (p: CapturedPacket) => boolean;
  // On an underlay between two VTEPs the request is inside a VXLAN packet: match the inner one.
  const parseIp = (p: CapturedPacket) => flowPacket(p, tunnelPorts);
  if (key.proto === 'tcp') {
    const src = captures.get(key.sourceNetns);
    let isn: number | undefined;
    // The first SYN from the try's port (outgoing; on `lo` only the incoming copy is captured).
    for (const p of src?.packets ?? []) {
      const ip = parseIp(p);
      if (ip?.protocol === 6 && ip.syn && !ip.ackFlag && ip.sport === key.sport) {
        isn = ip.seq;
        break;
      }
    }
    if (isn === undefined) return undefined;
    isMatch = (p) => {
      const ip = parseIp(p);
      return ip?.protocol === 6 && !!ip.syn && !ip.ackFlag && ip.seq === isn;
    };
  } else {
    const token = key.token;
    isMatch = (p) => {
      const ip = parseIp(p);
      // The token starts the payload (a sized try pads it; the capture may cut the padding short).
      return ip?.protocol === 17 && !!ip.payload && Buffer.from(ip.payload).toString('latin1').startsWith(token);
    };
  }
  const lists = [...captures].map(([netns, c]) =>
    c.packets.filter(isMatch).map((p) => ({ netns, p, device: c.links.get(p.ifindex) ?? `if${p.ifindex}` })),
  );
  if (!lists.some((l) => l.length)) return undefined;
  // Merge the per-namespace lists by timestamp, keeping each list's own order (ties inside one namespace).
  const merged: { netns: string; p: CapturedPacket; device: string }[] = [];
  const heads = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (heads[i] >= lists[i].length) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const a = lists[i][heads[i]].p;
      const b = lists[best][heads[best]].p;
      // Microsecond timestamps of two namespaces can tie: a packet leaves one namespace before it enters the next.
      if (a.ts < b.ts || (a.ts === b.ts && a.dir === 'out' && b.dir === 'in')) best = i;
    }
    if (best < 0) break;
    merged.push(lists[best][heads[best]++]);
  }
  const first = merged[0].p.ts;
  return merged
    .filter((m) => m.p.ts - first <= WINDOW_NS && compared(m.netns))
    .map((m) => ({ netns: m.netns, device: m.device, dir: m.p.dir }));
}
