/**
 * The devices a packet crossed, seen by the kernel and predicted by the tracer.
 *
 * Observed: one bounded capture per namespace (`tcpdump -i any -y LINUX_SLL2 --immediate-mode -U -w FILE`,
 * started before a flow's tries and stopped after them), interface indexes mapped to names inside that
 * namespace (`ip -n NS -o link`; `tcpdump -r` would resolve them in the reader's namespace). A TCP try is
 * followed by its SYN's initial sequence number (NAT never rewrites it), a UDP try by its datagram's payload
 * (a token the client sends); the packets of all capture points are merged by the kernel's timestamps (one
 * clock), each file keeping its own order when timestamps tie, and across namespaces an outgoing copy first.
 * Microsecond timestamps: with `--time-stamp-precision=nano` this kernel's captures dropped packets.
 *
 * Predicted: the trace's hops in pod and node namespaces. Not observable, so left out: `lo out` (libpcap drops
 * the outgoing copy of a loopback packet and keeps the incoming one). Optional: a bridge hop between two ports
 * of that bridge (bridged traffic, also after DNAT in the bridge's prerouting with br_netfilter): the kernel
 * forwards the frame port to port, and shows the bridge device only when the neighbour entry sends it through
 * the bridge's own transmit (`<bridge> out`), so either direction or none agrees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DataPlane, TracePath } from '../core';
import { run } from './exec';
import { parseIp, parseLinks, readPcap, type CapturedPacket } from './pcap';

export interface DeviceHop {
  /** The tracer's namespace id (`pod:default/a`, `node:n1`). */
  readonly netns: string;
  readonly device: string;
  readonly dir: 'in' | 'out';
  /** Predicted only: the kernel may skip this hop, or show it in the other direction (a bridge between two of its ports). */
  readonly optional?: true;
}

export const hopText = (h: DeviceHop): string => `${h.netns} ${h.device} ${h.dir}${h.optional ? '?' : ''}`;

const compared = (netns: string): boolean => netns.startsWith('pod:') || netns.startsWith('node:');

/** The hops of a trace path the kernel lab compares, in order, with the optional bridge hops marked. */
export function predictedDevices(p: Pick<TracePath, 'hops'>, dp: DataPlane): DeviceHop[] {
  const out: DeviceHop[] = [];
  const hops = p.hops;
  hops.forEach((h, i) => {
    if (!compared(h.netns)) return;
    if (h.device === 'lo' && h.dir === 'out') return;
    const ns = dp.namespaces.get(h.netns);
    const bridge = ns?.bridges.find((b) => b.name === h.device);
    const portOf = (x: (typeof hops)[number] | undefined): boolean => !!x && x.netns === h.netns && !!ns?.interfaces.some((f) => f.name === x.device && f.master === h.device);
    const bridged = !!bridge && portOf(hops[i - 1]) && hops[i - 1]?.dir === 'in' && portOf(hops[i + 1]) && hops[i + 1]?.dir === 'out';
    out.push({ netns: h.netns, device: h.device, dir: h.dir, ...(bridged ? { optional: true as const } : {}) });
  });
  return out;
}

/** Whether the observed hops are the predicted ones (optional hops may be missing or in either direction). */
export function devicesAgree(predicted: readonly DeviceHop[], observed: readonly DeviceHop[]): boolean {
  // Small lists: a straightforward backtracking match is enough.
  const match = (i: number, j: number): boolean => {
    if (i === predicted.length) return j === observed.length;
    const p = predicted[i];
    const o = observed[j];
    if (o && o.netns === p.netns && o.device === p.device && (o.dir === p.dir || p.optional) && match(i + 1, j + 1)) return true;
    return !!p.optional && match(i + 1, j);
  };
  return match(0, 0);
}

export interface CapturePoint {
  /** The tracer's namespace id. */
  readonly id: string;
  /** The Linux namespace name. */
  readonly name: string;
}

interface Running {
  readonly point: CapturePoint;
  readonly file: string;
  readonly child: ChildProcess;
  readonly closed: Promise<void>;
}

/** Captures that are running, so a verifier that is stopped can end them (they are also bounded by `timeout`). */
const live = new Set<ChildProcess>();

/** Stops every capture this process started (the verifier's teardown calls it). */
export function stopAllCaptures(): void {
  // SIGTERM: `timeout` passes it on to tcpdump (a SIGKILL would leave tcpdump running without its parent).
  for (const c of live) c.kill('SIGTERM');
  live.clear();
}

/** Longest a capture may run, whatever happens to the verifier. */
const CAPTURE_LIMIT_S = 60;

/** One flow's captures: started before its tries, stopped after them. */
export class FlowCapture {
  private constructor(private readonly running: readonly Running[], readonly problems: readonly string[]) {}

  /** Starts a capture in every point and waits (bounded) until each one listens. */
  static async start(points: readonly CapturePoint[], dir: string, tag: string): Promise<FlowCapture> {
    const problems: string[] = [];
    const running = await Promise.all(points.map(async (point, i): Promise<Running | undefined> => {
      const file = path.join(dir, `capture-${tag}-${i}.pcap`);
      const child = spawn('ip', ['netns', 'exec', point.name, 'timeout', '-s', 'INT', String(CAPTURE_LIMIT_S), 'tcpdump', '-i', 'any', '-y', 'LINUX_SLL2', '--immediate-mode', '-U', '-n', '-w', file, 'ip or ip6'], { stdio: ['ignore', 'ignore', 'pipe'] });
      live.add(child);
      let err = '';
      const closed = new Promise<void>((resolve) => child.on('close', () => {
        live.delete(child);
        resolve();
      }));
      child.on('error', (e) => (err += e.message));
      const listening = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 3000);
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (/listening on/.test(err)) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        void closed.then(() => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!listening) {
        problems.push(`the capture in ${point.name} did not start: ${err.trim() || 'no output in 3 s'}`);
        child.kill('SIGTERM');
        return undefined;
      }
      return { point, file, child, closed };
    }));
    return new FlowCapture(running.filter((r): r is Running => !!r), problems);
  }

  /** Stops the captures (SIGINT, so tcpdump writes what it has) and reads them with each namespace's device names. */
  async stop(links: (point: CapturePoint) => Promise<Map<number, string>>): Promise<Map<string, { readonly links: Map<number, string>; readonly packets: readonly CapturedPacket[] }>> {
    // Let tcpdump read what the kernel already queued for it, then stop it.
    await new Promise((res) => setTimeout(res, 30));
    for (const r of this.running) r.child.kill('SIGINT');
    await Promise.all(this.running.map((r) => Promise.race([r.closed, new Promise((res) => setTimeout(res, 2000))])));
    for (const r of this.running) if (live.has(r.child)) r.child.kill('SIGTERM');
    const out = new Map<string, { links: Map<number, string>; packets: readonly CapturedPacket[] }>();
    for (const r of this.running) {
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(r.file);
        fs.rmSync(r.file, { force: true });
      } catch {
        continue;
      }
      out.set(r.point.id, { links: await links(r.point), packets: readPcap(bytes).packets });
    }
    return out;
  }
}

/** The interface names of a namespace by index. */
export async function linksOf(netnsName: string): Promise<Map<number, string>> {
  const r = await run('ip', ['-n', netnsName, '-o', 'link'], { timeoutMs: 5000 });
  return parseLinks(r.stdout);
}

/** What identifies one try's request packets. */
export type TryKey = { readonly proto: 'tcp'; readonly sourceNetns: string; readonly sport: number } | { readonly proto: 'udp'; readonly token: string };

/** Only the first transmission: a retransmitted SYN comes after 1 s, the tries give up after 700 ms. */
const WINDOW_NS = 900_000_000n;

/**
 * The ordered devices one try's request crossed: every capture point's packets of that request, merged by
 * timestamp. Undefined when the request was not found (no SYN from that port in the source namespace).
 */
export function followRequest(captures: ReadonlyMap<string, { readonly links: Map<number, string>; readonly packets: readonly CapturedPacket[] }>, key: TryKey): DeviceHop[] | undefined {
  let isMatch: (p: CapturedPacket) => boolean;
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
      return ip?.protocol === 17 && !!ip.payload && Buffer.from(ip.payload).toString('latin1') === token;
    };
  }
  const lists = [...captures].map(([netns, c]) => c.packets.filter(isMatch).map((p) => ({ netns, p, device: c.links.get(p.ifindex) ?? `if${p.ifindex}` })));
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
  return merged.filter((m) => m.p.ts - first <= WINDOW_NS && compared(m.netns)).map((m) => ({ netns: m.netns, device: m.device, dir: m.p.dir }));
}
