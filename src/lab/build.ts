/**
 * `lab up` and `lab down`: the compiled data plane built for real in Linux network namespaces.
 *
 * One underlay namespace per network holds a bridge (`br0`) as the switch; each node is a namespace whose
 * physical interfaces are veths plugged into those bridges, with its pod bridge, host veths (hairpin per port
 * as modelled), routes, sysctls and its ruleset loaded with iptables-nft-restore; each pod and external client
 * is a namespace with `eth0`, its addresses and routes. A listener per namespace serves the declared ports.
 * Nothing touches the root namespace: every command runs with `ip -n <ns>` or `ip netns exec <ns>`.
 *
 * A state file (/run/netpath/<prefix>.json) is written before the first namespace is created and lists every
 * namespace and server PID, so `down` removes exactly what `up` made, also after a crash half-way.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeRulesParts, type DataPlane, type Topology } from '../core';
import { addressKey, parseAddress } from '../core/net/address';
import { routeAddArgs, routeTable } from '../core/dataplane/routes';
import type { DpInterface, Listener, Netns } from '../core/dataplane/types';
import {
  inNetns,
  LabError,
  must as mustRun,
  NODE_SCRIPT_ENV,
  run,
  signalGroup,
  type RunOptions,
  type RunResult,
} from './exec';
import { commandOrFailure, enterStage } from './fault';
import { checkPrefix, labNames, macFor, MAX_IFNAME } from './names';
import { labPolicy, type LabPolicy } from './policy';
import { rulesForFamily } from './rules';
import { CLIENT_SOURCE, LISTENER_SOURCE } from './scripts';

export const STATE_DIR = '/run/netpath';

export interface LabProcess {
  readonly pid: number;
  readonly netns: string;
}

export interface LabState {
  readonly version: 1;
  readonly prefix: string;
  readonly created: string;
  readonly topology: string;
  readonly files: readonly string[];
  /** The process that owns the lab (a verifier); absent for `lab up`, whose lab lives until `lab down`. */
  readonly owner?: number;
  /** Folder of the listener and client scripts and the listeners' logs. */
  readonly dir: string;
  /** Data plane namespace id -> Linux namespace name. */
  readonly namespaces: readonly { readonly id: string; readonly name: string }[];
  readonly processes: readonly LabProcess[];
  /** A folder the verifier made for its captures outside `dir` (`--capture-dir`): removed with the lab. */
  readonly captureDir?: string;
}

export interface Lab {
  readonly state: LabState;
  readonly netnsOf: ReadonlyMap<string, string>;
  readonly setupMs: number;
  /** The NetworkPolicy chains loaded into the nodes (src/lab/policy.ts); absent without any NetworkPolicy. */
  readonly policy?: LabPolicy;
}

export const statePath = (prefix: string): string => path.join(STATE_DIR, `${prefix}.json`);

/** Why the lab cannot run here (not Linux, not root, no `ip netns`, a tool missing), or undefined. */
export async function labUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux')
    return 'the kernel lab needs Linux network namespaces (this is ' + process.platform + ')';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'the kernel lab needs root (it creates network namespaces with `ip netns`); run it with sudo';
  const ip = await run('ip', ['netns', 'list'], { timeoutMs: 5000 });
  if (ip.code !== 0) return `\`ip netns\` is unavailable: ${ip.stderr.trim() || `exit ${ip.code}`} (install iproute2)`;
  for (const [tool, pkg] of [
    ['iptables-nft-restore', 'iptables'],
    ['ip6tables-nft-restore', 'iptables'],
    ['conntrack', 'conntrack'],
  ] as const) {
    const r = await run(tool, ['--version'], { timeoutMs: 5000 });
    if (r.code === 127) return `${tool} is missing (install ${pkg})`;
  }
  return undefined;
}

/**
 * Calico's IPIP device in a lab namespace: the kernel's fallback `tunl0`, which every namespace gets once the ipip
 * module is loaded (unless net.core.fb_tunnels_only_for_init_net keeps it to the first one: then an ipip device of
 * that name without local or remote, which behaves the same). A kernel without IPIP gets a LabError that says so.
 */
async function ensureTunl0(netns: string): Promise<void> {
  if ((await run('ip', ['-n', netns, 'link', 'show', 'tunl0'], { timeoutMs: 5000 })).code === 0) return;
  const add = await run('ip', ['-n', netns, 'link', 'add', 'tunl0', 'type', 'ipip'], { timeoutMs: 5000 });
  if (add.code !== 0)
    throw new LabError(
      `this kernel cannot create IPIP devices (\`ip link add tunl0 type ipip\`: ${
        add.stderr
          .trim()
          .replace(/^Error:\s*/, '')
          .replace(/\.$/, '') || `exit ${add.code}`
      }; the ipip module is absent), so the lab cannot build Calico's IPIP mode (tunl0); traces still show it`,
    );
}

/** The names of the existing network namespaces. */
export async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { timeoutMs: 5000 });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

/** Namespaces that look like ours for `prefix` (role letter after the prefix). */
export const ownsName = (prefix: string, name: string): boolean =>
  new RegExp(`^${prefix.replace(/[-]/g, '\\-')}-[unpx](-|\\d)`).test(name);

function writeState(state: LabState): void {
  fs.writeFileSync(statePath(state.prefix), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Records more of the lab's processes (a verifier's captures) so that `lab down` and the orphan sweep stop them too. */
export function addLabProcesses(prefix: string, processes: readonly LabProcess[]): void {
  const state = readState(prefix);
  if (state) writeState({ ...state, processes: [...state.processes, ...processes] });
}

/** The prefix of a capture folder the verifier makes (`labDown` removes only a folder named so). */
export const CAPTURE_DIR_PREFIX = 'netpath-captures-';

/** Records the verifier's capture folder (made outside the lab's own folder) so that `lab down` removes it too. */
export function setCaptureDir(prefix: string, captureDir: string): void {
  const state = readState(prefix);
  if (state) writeState({ ...state, captureDir });
}

export function readState(prefix: string): LabState | undefined {
  try {
    return JSON.parse(fs.readFileSync(statePath(prefix), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

const addrFlags = (family: 4 | 6): string => (family === 6 ? ' nodad' : '');

/** Problems that make the topology unbuildable (interface names the kernel refuses). */
function checkBuildable(dp: DataPlane): string | undefined {
  for (const ns of dp.namespaces.values()) {
    for (const i of ns.interfaces)
      if (i.name.length > MAX_IFNAME)
        return `interface ${i.name} of ${ns.id} is longer than ${MAX_IFNAME} characters (Linux refuses it)`;
  }
  return undefined;
}

function sysctlScript(
  kind: 'underlay' | 'node' | 'pod' | 'external',
  brNetfilter: boolean,
  routeLocalnet = false,
): string {
  const w: [string, number][] = [
    // As kube-proxy's iptables mode sets it on a node (NodePorts on 127.0.0.1); 0 elsewhere, the kernel's default.
    ['net/ipv4/conf/all/route_localnet', routeLocalnet ? 1 : 0],
    ['net/ipv4/conf/all/rp_filter', 0],
    ['net/ipv4/conf/default/rp_filter', 0],
    ['net/ipv6/conf/all/accept_dad', 0],
    ['net/ipv6/conf/default/accept_dad', 0],
    ['net/ipv6/conf/all/accept_ra', 0],
    ['net/ipv6/conf/default/accept_ra', 0],
    ['net/ipv4/ip_forward', kind === 'node' ? 1 : 0],
    ['net/ipv6/conf/all/forwarding', kind === 'node' ? 1 : 0],
  ];
  const lines = w.map(([k, v]) => `echo ${v} > /proc/sys/${k}`);
  const bridgeValue = kind === 'node' && brNetfilter ? 1 : 0;
  if (kind === 'node' || kind === 'underlay') {
    // br_netfilter's switches are per namespace; they exist once the module is loaded.
    const need = bridgeValue === 1 ? '|| { echo "br_netfilter is not loaded" >&2; exit 1; }' : '|| true';
    lines.push(
      `if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then echo ${bridgeValue} > /proc/sys/net/bridge/bridge-nf-call-iptables; echo ${bridgeValue} > /proc/sys/net/bridge/bridge-nf-call-ip6tables; else false; fi ${need}`,
    );
  }
  return `set -e\n${lines.join('\n')}\n`;
}

/** Per-interface rp_filter follows `default` at creation; set it again for devices that existed before. */
const rpFilterOff = (devices: readonly string[]): string =>
  devices.map((d) => `echo 0 > /proc/sys/net/ipv4/conf/${d}/rp_filter`).join('\n');

/**
 * The per-device sysctls the data plane asks for, inside the namespace (never the host's): proxy ARP, answered at
 * once (proxy_delay 0, as Calico's felix sets it, instead of queueing the request for up to 0.8 s).
 */
const deviceSysctls = (ifaces: readonly DpInterface[]): string =>
  ifaces
    .filter((i) => i.proxyArp)
    .map(
      (i) =>
        `\necho 1 > /proc/sys/net/ipv4/conf/${i.name}/proxy_arp\necho 0 > /proc/sys/net/ipv4/neigh/${i.name}/proxy_delay`,
    )
    .join('') +
  // route_localnet where the portmap plug-in sets it (the device routing to a pod with a hostPort).
  ifaces
    .filter((i) => i.routeLocalnet)
    .map((i) => `\necho 1 > /proc/sys/net/ipv4/conf/${i.name}/route_localnet`)
    .join('');

export interface UpOptions {
  readonly prefix: string;
  readonly owner?: number;
  readonly onProgress?: (message: string) => void;
  /** Stops the build (a verifier got SIGINT/SIGTERM): no further command starts, and what was made is removed. */
  readonly signal?: AbortSignal;
  /**
   * Listeners beyond the data plane's, by namespace id: an external client has none of its own, and `verify` gives it
   * the ports its flows send to (the tracer takes an external as answering on any port).
   */
  readonly extraListeners?: ReadonlyMap<string, readonly Listener[]>;
}

/** Builds the lab. Throws a LabError (after removing what it made) when a step fails. */
export async function labUp(
  topology: Topology,
  dp: DataPlane,
  files: readonly string[],
  options: UpOptions,
): Promise<Lab> {
  const t0 = Date.now();
  const { prefix } = options;
  const progress = options.onProgress ?? (() => undefined);
  const { signal } = options;
  // Every command of the build stops being started once the run is stopped.
  const must = (cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> =>
    mustRun(cmd, args, signal ? { ...o, signal } : o);
  const bad = checkPrefix(prefix) ?? checkBuildable(dp);
  if (bad) throw new LabError(bad);
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  if (fs.existsSync(statePath(prefix)))
    throw new LabError(
      `a lab with prefix '${prefix}' is already up (${statePath(prefix)}); run \`netpath lab down --prefix ${prefix}\` first or pick another --prefix`,
    );
  const clash = (await listNetns()).find((n) => ownsName(prefix, n));
  if (clash)
    throw new LabError(
      `network namespace '${clash}' already exists with prefix '${prefix}'; run \`netpath lab down --prefix ${prefix}\` or pick another --prefix`,
    );

  const names = labNames(prefix, dp).netns;
  const dir = path.join(STATE_DIR, prefix);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'listener.cjs'), LISTENER_SOURCE);
  fs.writeFileSync(path.join(dir, 'client.cjs'), CLIENT_SOURCE);
  let state: LabState = {
    version: 1,
    prefix,
    created: new Date().toISOString(),
    topology: topology.name,
    files,
    ...(options.owner ? { owner: options.owner } : {}),
    dir,
    namespaces: [...names].map(([id, name]) => ({ id, name })),
    processes: [],
  };
  writeState(state);
  const ns = (id: string): string => {
    const n = names.get(id);
    if (!n) throw new LabError(`no namespace for ${id}`);
    return n;
  };
  try {
    progress(`creating ${names.size} network namespaces`);
    await enterStage('namespaces', signal);
    await must('ip', ['-batch', '-'], { input: [...names.values()].map((n) => `netns add ${n}`).join('\n') + '\n' });
    await allDone(
      [...names].map(async ([id, name]) => {
        const kind = id.startsWith('underlay:') ? 'underlay' : (dp.namespaces.get(id)?.kind ?? 'pod');
        await must('ip', [
          'netns',
          'exec',
          name,
          'sh',
          '-c',
          sysctlScript(
            kind,
            dp.namespaces.get(id)?.brNetfilter ?? false,
            dp.namespaces.get(id)?.routeLocalnet ?? false,
          ),
        ]);
      }),
    );

    progress('wiring the underlay, nodes, pods and externals');
    await enterStage('wire', signal);
    // Underlay: a bridge per network; a veth per member, whose far end is the member's physical interface.
    for (const seg of dp.segments.values()) {
      const uid = `underlay:${seg.network}`;
      const cmds = ['link set lo up', `link add br0 address ${macFor(uid, 'br0')} type bridge`, 'link set br0 up'];
      seg.members.forEach((m, i) => {
        cmds.push(
          `link add p${i} address ${macFor(uid, `p${i}`)} type veth peer name ${m.device} address ${macFor(m.netns, m.device)} netns ${ns(m.netns)}`,
        );
        // A member's MTU (the network's) holds on the switch port too.
        const mtu = dp.namespaces.get(m.netns)?.interfaces.find((x) => x.name === m.device)?.mtu;
        if (mtu !== undefined) cmds.push(`link set p${i} mtu ${mtu}`);
        cmds.push(`link set p${i} master br0`, `link set p${i} up`);
      });
      await must('ip', ['-n', ns(uid), '-batch', '-'], { input: cmds.join('\n') + '\n' });
    }
    const configure = async (n: Netns): Promise<void> => {
      const id = n.id;
      if (n.interfaces.some((i) => i.kind === 'ipip')) await ensureTunl0(ns(id));
      const cmds = ['link set lo up'];
      for (const b of n.bridges) cmds.push(`link add ${b.name} address ${macFor(id, b.name)} type bridge`);
      for (const i of n.interfaces) {
        if (i.kind === 'veth' && n.kind === 'node' && i.peer) {
          cmds.push(
            `link add ${i.name} address ${macFor(id, i.name)} type veth peer name ${i.peer.device} address ${macFor(i.peer.netns, i.peer.device)} netns ${ns(i.peer.netns)}`,
          );
        }
        // A VTEP, as flannel creates it (pkg/backend/vxlan/device.go): its own MAC, VNI, port, underlay, no learning.
        if (i.kind === 'vxlan' && i.vxlan) {
          const v = i.vxlan;
          cmds.push(
            `link add ${i.name} address ${i.mac ?? macFor(id, i.name)} type vxlan id ${v.vni} dstport ${v.port} local ${v.local} dev ${v.dev}${v.learning ? '' : ' nolearning'}`,
          );
        }
      }
      for (const i of n.interfaces)
        if (i.mtu !== undefined && i.kind !== 'loopback') cmds.push(`link set ${i.name} mtu ${i.mtu}`);
      for (const i of n.interfaces) {
        if (i.kind === 'loopback') continue;
        if (i.master)
          cmds.push(
            `link set ${i.name} master ${i.master}`,
            `link set dev ${i.name} type bridge_slave hairpin ${i.hairpin ? 'on' : 'off'}`,
          );
        for (const a of i.addresses)
          cmds.push(
            `address add ${a.address}/${a.length} dev ${i.name}${addrFlags(a.family)}${a.noPrefixRoute ? ' noprefixroute' : ''}`,
          );
      }
      for (const i of n.interfaces) if (i.kind !== 'loopback') cmds.push(`link set ${i.name} up`);
      // A tunnel plug-in's permanent entries on the VTEP: neighbour (remote VTEP address -> MAC), FDB (MAC -> node).
      const tunnels = n.tunnels?.all();
      for (const e of tunnels?.neighbors ?? [])
        cmds.push(`neigh replace ${e.address} lladdr ${e.mac} dev ${e.dev} nud permanent`);
      // Table order is longest prefix first: a gateway's link route (`10.244.1.1 dev eth0 scope link`) is in
      // before the routes via it.
      for (const r of routeTable(n)) if (r.kind !== 'connected') cmds.push(`route add ${routeAddArgs(r)}`);
      await must('ip', ['-n', ns(id), '-batch', '-'], { input: cmds.join('\n') + '\n' });
      if (tunnels?.fdb.length)
        await must('bridge', ['-n', ns(id), '-batch', '-'], {
          input:
            tunnels.fdb.map((e) => `fdb append ${e.mac} dev ${e.dev} dst ${e.dst} self permanent`).join('\n') + '\n',
        });
      const devices = n.interfaces.filter((i) => i.kind !== 'loopback').map((i) => i.name);
      await must('ip', ['netns', 'exec', ns(id), 'sh', '-c', rpFilterOff(devices) + deviceSysctls(n.interfaces)]);
    };
    // Only what the lab names: a pod without a node gets no namespace (labNames, unplacedPods).
    const all = [...dp.namespaces.values()].filter((n) => names.has(n.id));
    await allDone(all.filter((n) => n.kind === 'node').map(configure));
    await allDone(all.filter((n) => n.kind !== 'node').map(configure));
    await announce(topology, dp, ns, must);

    const nftMode = topology.cluster.kubeProxy.mode === 'nftables';
    progress(
      `loading the node rulesets with iptables-nft-restore${nftMode ? ' and kube-proxy’s tables with nft -f' : ''}`,
    );
    await enterStage('rules', signal);
    for (const n of all.filter((x) => x.kind === 'node')) {
      const parts = nodeRulesParts(topology, n.name);
      const text = parts?.iptables ?? '';
      await must('ip', ['netns', 'exec', ns(n.id), 'iptables-nft-restore'], { input: rulesForFamily(text, 4) });
      await must('ip', ['netns', 'exec', ns(n.id), 'ip6tables-nft-restore'], { input: rulesForFamily(text, 6) });
      if (parts?.nftables) await must('ip', ['netns', 'exec', ns(n.id), 'nft', '-f', '-'], { input: parts.nftables });
    }
    // NetworkPolicy, enforced as the tracer judges it: chains first in each node's filter FORWARD, INPUT and OUTPUT.
    const policy = labPolicy(topology);
    if (policy) {
      progress('loading the NetworkPolicy chains');
      for (const n of all.filter((x) => x.kind === 'node')) {
        const text = policy.rules.get(n.id);
        if (!text) continue;
        for (const [tool, family] of [
          ['iptables-nft-restore', 4],
          ['ip6tables-nft-restore', 6],
        ] as const)
          await must('ip', ['netns', 'exec', ns(n.id), tool, '--noflush'], { input: rulesForFamily(text, family) });
      }
    }

    progress('starting the listeners');
    await enterStage('listeners', signal);
    const processes: LabProcess[] = [];
    const waits: Promise<void>[] = [];
    for (const n of all) {
      const listeners = [...n.listeners, ...(options.extraListeners?.get(n.id) ?? [])];
      if (!listeners.length) continue;
      if (signal?.aborted) break;
      const log = path.join(dir, `listener-${ns(n.id)}.log`);
      const fd = fs.openSync(log, 'w');
      const spec = {
        listeners: listeners.map((l) => ({ pod: l.pod, container: l.container, port: l.port, proto: l.protocol })),
        ...(options.owner ? { owner: options.owner } : {}),
      };
      const [cmd, args] = commandOrFailure('ip', [
        'netns',
        'exec',
        ns(n.id),
        process.execPath,
        path.join(dir, 'listener.cjs'),
        JSON.stringify(spec),
      ]);
      const child = spawn(cmd, args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...NODE_SCRIPT_ENV },
      });
      fs.closeSync(fd);
      let exited = false;
      child.on('exit', () => (exited = true));
      child.on('error', () => (exited = true));
      child.unref();
      if (child.pid) processes.push({ pid: child.pid, netns: ns(n.id) });
      waits.push(
        waitForFile(log, /^ready$/m, 5000, () => exited || !!signal?.aborted).then((ok) => {
          if (!ok)
            throw new LabError(
              signal?.aborted
                ? 'interrupted: the run was stopped'
                : `the listener in ${ns(n.id)} did not start: ${fs.readFileSync(log, 'utf8').trim() || (exited ? 'it exited without output' : 'no output in 5 s')}`,
            );
        }),
      );
    }
    // Recorded before anything is awaited: a stop from here on finds every listener in the state.
    state = { ...state, processes };
    writeState(state);
    await allDone(waits);
    if (signal?.aborted) throw new LabError('interrupted: the run was stopped');
    return { state, netnsOf: names, setupMs: Date.now() - t0, ...(policy ? { policy } : {}) };
  } catch (err) {
    await labDown(prefix).catch(() => undefined);
    throw err instanceof LabError ? err : new LabError(String(err instanceof Error ? err.message : err));
  }
}

/** LoadBalancer and external IPs: the announcing node answers ARP/ND for them on the underlay (MetalLB L2). */
async function announce(
  topology: Topology,
  dp: DataPlane,
  ns: (id: string) => string,
  must: (cmd: string, args: readonly string[]) => Promise<RunResult>,
): Promise<void> {
  for (const svc of topology.services) {
    for (const ip of [...(svc.type === 'LoadBalancer' ? svc.loadBalancerIPs : []), ...svc.externalIPs]) {
      const a = parseAddress(ip);
      if (!a) continue;
      const announcer = dp.announced.get(addressKey(a));
      if (!announcer) continue;
      for (const seg of dp.segments.values()) {
        const own = seg.members.find((m) => m.netns === announcer && m.addresses.some((x) => x.family === a.family));
        if (!own) continue;
        for (const m of seg.members) {
          if (m.netns === announcer) continue;
          await must('ip', [
            '-n',
            ns(m.netns),
            'neigh',
            'replace',
            ip,
            'lladdr',
            macFor(announcer, own.device),
            'dev',
            m.device,
            'nud',
            'permanent',
          ]);
        }
      }
    }
  }
}

/**
 * Like Promise.all, but the first failure is thrown only once every command has settled: no command of the build
 * is still running (adding devices, starting a listener) while the lab is being removed.
 */
async function allDone(work: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Waits until `file` matches `re`, at most `ms`, and no longer once `stop()` (the writer exited, the run stopped). */
async function waitForFile(file: string, re: RegExp, ms: number, stop: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const stopped = stop();
    try {
      if (re.test(fs.readFileSync(file, 'utf8'))) return true;
    } catch {
      // Not written yet.
    }
    if (stopped || Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether `pid` is still one of our listeners or captures (its command line names the lab's or the capture folder). */
function isOurs(pid: number, dirs: readonly string[]): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return dirs.some((d) => cmdline.includes(d));
  } catch {
    return false;
  }
}

export interface DownResult {
  readonly removed: readonly string[];
  readonly stopped: readonly number[];
  readonly found: boolean;
}

/** Stops the lab's servers by PID and removes its namespaces by name; a lab without a state file is swept by prefix. */
export async function labDown(prefix: string): Promise<DownResult> {
  const bad = checkPrefix(prefix);
  if (bad) throw new LabError(bad);
  const state = readState(prefix);
  const stopped: number[] = [];
  const dir = path.join(STATE_DIR, prefix);
  const dirs = [dir, ...(state?.captureDir ? [state.captureDir] : [])];
  // Each process the lab started leads its own process group (a capture's group holds `timeout` and tcpdump).
  for (const p of state?.processes ?? []) {
    if (alive(p.pid) && isOurs(p.pid, dirs)) {
      signalGroup(p.pid, 'SIGTERM');
      stopped.push(p.pid);
    }
  }
  const end = Date.now() + 2000;
  while (stopped.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  for (const pid of stopped) if (alive(pid) && isOurs(pid, dirs)) signalGroup(pid, 'SIGKILL');
  const existing = new Set(await listNetns());
  const wanted = new Set([
    ...(state?.namespaces.map((n) => n.name) ?? []),
    ...[...existing].filter((n) => ownsName(prefix, n)),
  ]);
  const removed = [...wanted].filter((n) => existing.has(n));
  if (removed.length) {
    const r = await run('ip', ['-force', '-batch', '-'], {
      input: removed.map((n) => `netns del ${n}`).join('\n') + '\n',
      timeoutMs: 20_000,
    });
    if (r.code !== 0) throw new LabError(`removing the namespaces failed: ${r.stderr.trim()}`);
  }
  // A capture folder outside the lab's own (--capture-dir): only one the verifier made (named so) is removed.
  if (state?.captureDir && path.basename(state.captureDir).startsWith(CAPTURE_DIR_PREFIX))
    fs.rmSync(state.captureDir, { recursive: true, force: true });
  fs.rmSync(statePath(prefix), { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  return { removed, stopped, found: !!state || removed.length > 0 };
}

/** Labs whose owning verifier is gone (it was killed): their prefixes. */
export function orphanedLabs(): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(STATE_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return entries.flatMap((f) => {
    const s = readState(f.slice(0, -5));
    return s?.owner && !alive(s.owner) ? [s.prefix] : [];
  });
}

export { inNetns };
