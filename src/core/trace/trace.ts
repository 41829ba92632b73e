/**
 * `traceFlow`: resolve the request's endpoints against the model, compile (or reuse) the data plane, walk
 * the packet, and turn the finished walks into the binding JSON shape. Bad input gives problems, never a throw.
 */
import { compileDataPlane } from '../dataplane/compile';
import { externalNetns, nodeNetns, podNetns } from '../dataplane/compile';
import { podsById } from '../model/pods-by-id';
import type { DataPlane, NetnsId } from '../dataplane/types';
import { lookupRoute, sourceAddressFor } from '../dataplane/routes';
import type { Node, Pod, Service, Topology } from '../model/types';
import { formatAddress, parseAddress, parsePrefix, prefixContainsAddress, type Family } from '../net/address';
import { NO_SPAN, problem, type Problem } from '../problem';
import { parseEndpoint, parsePort, unknownMessage, type Endpoint } from './endpoints';
import { stepText } from './steps';
import type { DropStep, TracePath, TraceProto, TraceRequest, TraceResult } from './types';
import { PolicyIndex } from '../policy/evaluate';
import {
  emptyState,
  enterAt,
  hopsOf,
  mayHaveNotes,
  originate,
  originOf,
  type Finished,
  type Pkt,
  type WalkEnv,
} from './walk';
import { cniViewOf } from '../cni';
import { work } from '../work';
import { branchBudget, MAX_TRACE_PATHS } from '../branches';

export const TRACE_BAD_INPUT = 'trace.bad-input';
/** The walk met more random choices than {@link MAX_TRACE_PATHS} paths hold; `result.notFollowed` says how much. */
export const TRACE_TOO_MANY_BRANCHES = 'trace.too-many-branches';

/** Which part of a request is wrong: the CLI names its flag, an editor its field. */
export type TraceInputField = 'from' | 'to' | 'sport' | 'at' | 'size';

/**
 * Why a request could not be traced, in words about the topology's objects (never a flag); `needs: 'at'` when a
 * bare source address needs to be told which node it enters.
 */
export interface TraceInputError {
  readonly field: TraceInputField;
  readonly message: string;
  readonly needs?: 'at';
}

export interface TraceOutcome {
  readonly result: TraceResult | undefined;
  /** Set when the request itself is wrong (then `result` is undefined and `problems` holds it as `trace.bad-input`). */
  readonly inputError?: TraceInputError;
  /**
   * Bad input (code `trace.bad-input`), or the data plane's structure problems plus the problems of the rulesets
   * of the nodes the trace crossed (the other nodes' rulesets are not compiled for a trace).
   */
  readonly problems: readonly Problem[];
}

/** A resolution failure: its words, and (when not the endpoint itself) the request field at fault. */
type Fail = { readonly error: string; readonly needs?: 'at'; readonly field?: TraceInputField };
const isFail = (x: unknown): x is Fail => typeof x === 'object' && x !== null && 'error' in x;

interface Source {
  readonly netns: NetnsId;
  /** Addresses the source may send from, by family (empty: chosen by the route). */
  readonly addresses: readonly string[];
  /** Where a bare address enters a node (with --at); undefined: a socket in `netns` sends. */
  readonly enterDevice?: string;
  readonly pod?: Pod;
}

interface Destination {
  readonly addresses: readonly string[];
  readonly port: number | null;
  readonly proto?: TraceProto;
  readonly localhost?: boolean;
}

/** Pods, Services and nodes by id and name, built once per topology (a trace must not scan 150,000 pods). */
interface Lookup {
  readonly podById: ReadonlyMap<string, Pod>;
  /** By name: the pod when exactly one has the name, null when several do. */
  readonly podByName: ReadonlyMap<string, Pod | null>;
  readonly serviceById: ReadonlyMap<string, Service>;
  /** By name: the first Service with it (as `find` took it). */
  readonly serviceByName: ReadonlyMap<string, Service>;
  readonly nodeByName: ReadonlyMap<string, Node>;
}
const LOOKUPS = new WeakMap<Topology, Lookup>();
function lookup(t: Topology): Lookup {
  let l = LOOKUPS.get(t);
  if (!l) {
    // The same index the data plane finds pods' namespaces by: one map of every pod, not two.
    const podById = podsById(t);
    // By name only when a request names a pod without its namespace and the default one has none of that name:
    // a second map of 150,000 pods is not built for every first trace.
    let byName: Map<string, Pod | null> | undefined;
    const podByNameOnce = (): Map<string, Pod | null> => {
      if (byName) return byName;
      byName = new Map();
      for (const p of t.pods) byName.set(p.name, byName.has(p.name) ? null : p);
      return byName;
    };
    const serviceById = new Map<string, Service>();
    const serviceByName = new Map<string, Service>();
    for (const s of t.services) {
      if (!serviceById.has(s.id)) serviceById.set(s.id, s);
      if (!serviceByName.has(s.name)) serviceByName.set(s.name, s);
    }
    const nodeByName = new Map<string, Node>();
    for (const n of t.nodes) if (!nodeByName.has(n.name)) nodeByName.set(n.name, n);
    LOOKUPS.set(
      t,
      (l = {
        podById,
        get podByName() {
          return podByNameOnce();
        },
        serviceById,
        serviceByName,
        nodeByName,
      }),
    );
  }
  return l;
}

function findPod(t: Topology, e: { namespace?: string; name: string }): Pod | Fail {
  const id = `${e.namespace ?? 'default'}/${e.name}`;
  const l = lookup(t);
  const exact = l.podById.get(id) ?? (e.namespace ? undefined : (l.podByName.get(e.name) ?? undefined));
  return (
    exact ?? {
      error: unknownMessage(
        'pod',
        id,
        t.pods.map((p) => p.id),
      ),
    }
  );
}

/** What a trace needs of a pod that a manifest may not say yet: the node (the scheduler picks it). */
function unscheduled(pod: Pod): string | undefined {
  if (pod.node) return undefined;
  return `Pod ${pod.id} is not scheduled: it has no spec.nodeName (the scheduler sets it when the pod is created), so NetPath cannot know which node's namespaces it is in. Write the node (kubectl get pod ${pod.name} -n ${pod.namespace} -o jsonpath='{.spec.nodeName}') as spec.nodeName, or refine the pod in a NetPath document (pods: [{name: ${pod.name}, namespace: ${pod.namespace}, node: <node>}]).`;
}

/** ... and its address (the CNI plugin picks it when the pod starts). */
function withoutIP(pod: Pod): string | undefined {
  if (pod.ips.length) return undefined;
  return `Pod ${pod.id} has no IP: it has no status.podIP (the CNI plugin assigns one when the pod starts), so NetPath cannot know its address. Use a dump of the running pod (kubectl get pod ${pod.name} -n ${pod.namespace} -o yaml), or refine the pod in a NetPath document (pods: [{name: ${pod.name}, namespace: ${pod.namespace}, ip: <address>}]).`;
}

const familyOf = (a: string): Family | undefined => parseAddress(a)?.family;

function nodeAddresses(t: Topology, name: string): string[] {
  return (
    lookup(t)
      .nodeByName.get(name)
      ?.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])) ?? []
  );
}

function resolveSource(t: Topology, dp: DataPlane, e: Endpoint, at: string | undefined): Source | Fail {
  switch (e.kind) {
    case 'pod': {
      const pod = findPod(t, e);
      if (isFail(pod)) return pod;
      if (e.suffix !== undefined && !pod.containers.some((c) => c.name === e.suffix)) {
        return {
          error: `Pod ${pod.id} has no container '${e.suffix}' (containers: ${pod.containers.map((c) => c.name).join(', ') || 'none'}).`,
        };
      }
      const missing = unscheduled(pod) ?? (pod.hostNetwork ? undefined : withoutIP(pod));
      if (missing) return { error: missing };
      if (pod.hostNetwork && !lookup(t).nodeByName.has(pod.node))
        return {
          error: `Pod ${pod.id} uses its node's network (hostNetwork: true), and its node ${pod.node} is not in this topology, so there is no namespace to send from.`,
        };
      return { netns: pod.hostNetwork ? nodeNetns(pod.node) : podNetns(pod.id), addresses: pod.ips, pod };
    }
    case 'node':
      if (!lookup(t).nodeByName.has(e.name))
        return {
          error: unknownMessage(
            'node',
            e.name,
            t.nodes.map((n) => n.name),
          ),
        };
      return { netns: nodeNetns(e.name), addresses: [] };
    case 'external': {
      const x = t.externals.find((y) => y.name === e.name);
      if (!x)
        return {
          error: unknownMessage(
            'external',
            e.name,
            t.externals.map((y) => y.name),
          ),
        };
      return { netns: externalNetns(x.name), addresses: x.addresses.map((a) => a.split('/')[0]) };
    }
    case 'ip': {
      const a = parseAddress(e.address);
      if (!a) return { error: `'${e.address}' is not an IP address.` };
      const owner = dp.owners.get(`${a.family}:${a.value}`);
      if (owner && !at) return { netns: owner.netns, addresses: [e.address] };
      if (!at)
        return {
          error: `${e.address} belongs to no pod, node or external of the topology: say which node it enters by.`,
          needs: 'at',
        };
      const m = /^node\/(.+)$/.exec(at);
      const node = m ? lookup(t).nodeByName.get(m[1]) : undefined;
      if (!node)
        return {
          error: m
            ? unknownMessage(
                'node',
                m[1],
                t.nodes.map((n) => n.name),
              )
            : `It must be node/<name>, not '${at}'.`,
          field: 'at',
        };
      const inPods = node.podCIDRs.some((c) => {
        const p = parsePrefix(c);
        return p && prefixContainsAddress(p, a);
      });
      const side = cniViewOf(node).podSideDevice;
      if (inPods && side) return { netns: nodeNetns(node.name), addresses: [e.address], enterDevice: side };
      const local =
        nodeAddresses(t, node.name).includes(e.address) || e.address.startsWith('127.') || e.address === '::1';
      if (local) return { netns: nodeNetns(node.name), addresses: [e.address] };
      const iface =
        node.interfaces.find((i) => i.addresses.some((x) => familyOf(x.split('/')[0]) === a.family)) ??
        node.interfaces[0];
      if (!iface) return { error: `Node ${node.name} has no interface for ${e.address} to enter by.` };
      return { netns: nodeNetns(node.name), addresses: [e.address], enterDevice: iface.name };
    }
    case 'svc':
      return { error: 'A Service is not a source: use the pod, node or external that sends.' };
    case 'localhost':
      return { error: 'localhost is a destination (container to container inside one pod).' };
  }
}

function resolveDestination(t: Topology, e: Endpoint): Destination | Fail {
  const portOf = (suffix: string | undefined, what: string, required: boolean): number | null | Fail => {
    if (suffix === undefined) return required ? { error: `${what} needs a port: ${what}:<port>.` } : null;
    const n = parsePort(suffix);
    return n ?? { error: `'${suffix}' is not a port of ${what}.` };
  };
  switch (e.kind) {
    case 'pod': {
      const pod = findPod(t, e);
      if (isFail(pod)) return pod;
      if (e.suffix === undefined)
        return { error: `A destination pod needs a port: pod/${pod.id}:<port or container port name>.` };
      let port = parsePort(e.suffix);
      let proto: TraceProto | undefined;
      if (port === undefined) {
        const named = pod.containers.flatMap((c) => c.ports).find((p) => p.name === e.suffix);
        if (!named)
          return {
            error: `Pod ${pod.id} has no container port named '${e.suffix}' (named ports: ${
              pod.containers
                .flatMap((c) => c.ports)
                .flatMap((p) => p.name ?? [])
                .join(', ') || 'none'
            }).`,
          };
        port = named.containerPort;
        proto = named.protocol.toLowerCase() as TraceProto;
      }
      const missing = pod.hostNetwork ? unscheduled(pod) : (withoutIP(pod) ?? unscheduled(pod));
      if (missing) return { error: missing };
      return { addresses: pod.ips, port, ...(proto ? { proto } : {}) };
    }
    case 'svc': {
      const id = `${e.namespace ?? 'default'}/${e.name}`;
      const svc = lookup(t).serviceById.get(id) ?? (e.namespace ? undefined : lookup(t).serviceByName.get(e.name));
      if (!svc)
        return {
          error: unknownMessage(
            'service',
            id,
            t.services.map((s) => s.id),
          ),
        };
      if (e.suffix === undefined)
        return {
          error: `A Service destination needs a port: svc/${svc.id}:<port or port name> (ports: ${svc.ports.map((p) => p.name || p.port).join(', ')}).`,
        };
      const n = parsePort(e.suffix);
      const sp = svc.ports.find((p) => (n !== undefined ? p.port === n : p.name === e.suffix));
      if (!sp)
        return {
          error: `Service ${svc.id} has no port '${e.suffix}' (ports: ${svc.ports.map((p) => (p.name ? `${p.name}=${p.port}` : p.port)).join(', ')}).`,
        };
      if (!svc.clusterIPs.length)
        return {
          error: svc.headless
            ? `Service ${svc.id} is headless (clusterIP: None): kube-proxy writes no rules for it and clients connect to the pods' own addresses; trace to a pod instead.`
            : `Service ${svc.id} has no clusterIP written: the API server allocates one from the Service range when the Service is created, so NetPath cannot know it. Write the allocated address (kubectl get service ${svc.name} -n ${svc.namespace} -o jsonpath='{.spec.clusterIP}') as spec.clusterIP, or refine the Service in a NetPath document (services: [{name: ${svc.name}, namespace: ${svc.namespace}, clusterIP: <address>}]).`,
        };
      return { addresses: svc.clusterIPs, port: sp.port, proto: sp.protocol.toLowerCase() as TraceProto };
    }
    case 'node': {
      if (!lookup(t).nodeByName.has(e.name))
        return {
          error: unknownMessage(
            'node',
            e.name,
            t.nodes.map((n) => n.name),
          ),
        };
      const port = portOf(e.suffix, `node/${e.name}`, false);
      if (isFail(port)) return port;
      return { addresses: nodeAddresses(t, e.name), port };
    }
    case 'external': {
      const x = t.externals.find((y) => y.name === e.name);
      if (!x)
        return {
          error: unknownMessage(
            'external',
            e.name,
            t.externals.map((y) => y.name),
          ),
        };
      const port = portOf(e.suffix, `external/${e.name}`, false);
      if (isFail(port)) return port;
      return { addresses: x.addresses.map((a) => a.split('/')[0]), port };
    }
    case 'ip':
      return { addresses: [e.address], port: e.port ?? null };
    case 'localhost':
      return { addresses: ['127.0.0.1', '::1'], port: e.port, localhost: true };
  }
}

const ROLE: Readonly<Record<TraceInputField, string>> = {
  from: 'Source',
  to: 'Destination',
  sport: 'Source port',
  at: 'Entry point',
  size: 'Packet size',
};

/** A request error; the problem's message names the role (`Source: …`), as the editor shows it. */
function bad(field: TraceInputField, message: string, needs?: 'at'): TraceOutcome {
  return {
    result: undefined,
    inputError: { field, message, ...(needs ? { needs } : {}) },
    problems: [problem(TRACE_BAD_INPUT, 'error', `${ROLE[field]}: ${message}`, NO_SPAN)],
  };
}

/** Traces a flow. Pass `dataPlane` to reuse one compiled for the same topology. */
export function traceFlow(t: Topology, request: TraceRequest, dataPlane?: DataPlane): TraceOutcome {
  const from = parseEndpoint(request.from);
  if (!from.ok) return bad('from', from.message);
  const to = parseEndpoint(request.to);
  if (!to.ok) return bad('to', to.message);
  if (request.sport !== undefined && (!Number.isInteger(request.sport) || request.sport < 1 || request.sport > 65535))
    return bad('sport', `${request.sport} is not a port (1-65535).`);
  if (request.size !== undefined && (!Number.isInteger(request.size) || request.size < 68 || request.size > 65535))
    return bad('size', `${request.size} is not an IP packet size in bytes (68-65535).`);
  const dp = dataPlane ?? compileDataPlane(t);
  const src = resolveSource(t, dp, from.value, request.at);
  if (isFail(src)) return bad(src.field ?? 'from', src.error, src.needs);
  // Every source above names a namespace the data plane was compiled with; a topology the user broke must still get
  // an answer, not a walk from a namespace that is not there.
  if (!dp.namespaces.has(src.netns)) return bad('from', `${request.from} has no network namespace in this topology.`);
  const resolved = resolveDestination(t, to.value);
  if (isFail(resolved)) return bad('to', resolved.error);
  // Addresses the model already reported as invalid (cidr.invalid at their line) cannot be traced to or from.
  const invalid = (list: readonly string[]) => list.filter((a) => familyOf(a) === undefined);
  const dst = { ...resolved, addresses: resolved.addresses.filter((a) => familyOf(a) !== undefined) };
  if (!dst.addresses.length && resolved.addresses.length)
    return bad(
      'to',
      `${request.to} has no valid address: ${invalid(resolved.addresses)
        .map((a) => `'${a}'`)
        .join(', ')} is not an IP address (reported as cidr.invalid where it is written).`,
    );
  if (src.addresses.length && !src.addresses.some((a) => familyOf(a) !== undefined))
    return bad(
      'from',
      `${request.from} has no valid address: ${invalid(src.addresses)
        .map((a) => `'${a}'`)
        .join(', ')} is not an IP address (reported as cidr.invalid where it is written).`,
    );
  if (dst.localhost && !src.pod && !src.netns.startsWith('node:'))
    return bad('to', `${request.to} needs a pod or node as the source (container to container).`);
  const proto: TraceProto = request.proto ?? dst.proto ?? 'tcp';
  const ported = proto !== 'icmp';
  if (ported && dst.port === null) return bad('to', `${proto} needs a destination port.`);
  // The family: the first destination address whose family the source can send.
  const srcFamilies = new Set(src.addresses.map(familyOf));
  const dstAddress = dst.addresses.find((a) => src.addresses.length === 0 || srcFamilies.has(familyOf(a)));
  if (!dstAddress)
    return bad(
      'from',
      `${request.from} has no address of the family of ${dst.addresses.join(', ') || 'the destination'}.`,
    );
  const family = familyOf(dstAddress);
  if (family === undefined) return bad('to', `'${dstAddress}' is not an IP address.`);
  const branches = branchBudget();
  const env: WalkEnv = {
    dp,
    branches,
    ...(t.networkPolicies.length ? { policy: new PolicyIndex(t, request.policy) } : {}),
  };
  // A socket connecting to loopback without binding gets the loopback address as its source (route `local 127.0.0.0/8 dev lo src 127.0.0.1`).
  let srcAddress = dst.localhost ? dstAddress : src.addresses.find((a) => familyOf(a) === family);
  if (!srcAddress) {
    // A node sends from the address of the interface its route leaves by.
    const n = dp.namespaces.get(src.netns);
    const d = parseAddress(dstAddress);
    if (!n || !d) return bad('from', `${request.from} has no network namespace in this topology.`);
    if (dst.localhost) srcAddress = dstAddress;
    else {
      const r = lookupRoute(n, d);
      const local = n.interfaces.find((i) => i.addresses.some((x) => x.address === dstAddress));
      srcAddress = local
        ? dstAddress
        : r
          ? (r.src ??
            sourceAddressFor(
              n.interfaces.find((i) => i.name === r.dev),
              family,
              parseAddress(r.via ?? dstAddress),
              n,
            ))
          : undefined;
      srcAddress ??= n.interfaces
        .flatMap((i) => i.addresses)
        .find((x) => x.family === family && i4or6(x.address))?.address;
    }
    if (!srcAddress) return bad('from', `${request.from} has no IPv${family} address.`);
  }
  const dstParsed = parseAddress(dstAddress);
  if (!dstParsed) return bad('to', `'${dstAddress}' is not an IP address.`);
  // A source written as ip:port names its source port; --sport wins when both are given.
  const sourcePort = from.value.kind === 'ip' ? from.value.port : undefined;
  const sport = ported ? (request.sport ?? sourcePort ?? 40000) : null;
  const pkt: Pkt = {
    family,
    proto,
    src: srcAddress,
    sport,
    dst: formatAddress(dstParsed),
    dport: ported ? dst.port : null,
    ttl: 64,
    mark: 0,
    ...(request.size !== undefined ? { size: request.size } : {}),
  };
  const start = emptyState(pkt);
  const finished = src.enterDevice ? enterAt(env, start, src.netns, src.enterDevice) : originate(env, start, src.netns);
  const paths = merge(finished.map((f) => toPath(env, f, request.reply === true, src.netns)));
  // Paths cut by the budget are not in `finished`: what they would have carried is what the others do not.
  const notFollowed = branches.choicesCut
    ? {
        limit: MAX_TRACE_PATHS,
        probability: round(Math.max(0, 1 - finished.reduce((a, f) => a + f.state.probability, 0))),
      }
    : undefined;
  // Read on demand: the rulesets' problems need every chain parsed, and most callers (the rules' probes) never ask.
  let problems: Problem[] | undefined;
  return {
    result: {
      flow: {
        proto,
        src: pkt.src,
        sport: pkt.sport,
        dst: pkt.dst,
        dport: pkt.dport,
        ...(pkt.size !== undefined ? { size: pkt.size } : {}),
      },
      paths,
      ...(notFollowed ? { notFollowed } : {}),
    },
    get problems(): Problem[] {
      return (problems ??= [
        ...(notFollowed
          ? [
              problem(
                TRACE_TOO_MANY_BRANCHES,
                'warning',
                `The packet met more random choices than ${MAX_TRACE_PATHS} paths hold: after that each choice followed only its likeliest side, and ${Math.round(notFollowed.probability * 1000) / 10}% of the probability was not followed.`,
                NO_SPAN,
              ),
            ]
          : []),
        ...dp.structureProblems,
        ...crossedNodes(dp, paths).flatMap((id) => dp.namespaces.get(id)?.filter?.problems ?? []),
      ]);
    },
  };
}

/** The node namespaces a trace crossed (request and reply), in the order first met. */
function crossedNodes(dp: DataPlane, paths: readonly TracePath[]): NetnsId[] {
  const out = new Set<NetnsId>();
  for (const p of paths)
    for (const h of [...p.hops, ...(p.reply?.hops ?? [])])
      if (dp.namespaces.get(h.netns)?.kind === 'node') out.add(h.netns);
  return [...out];
}

/** What follows a packet that left for a Proxy-mode load balancer: the balancer's own connection, not traced here. */
function proxyNote(s: DropStep): string {
  const then = s.nodePort
    ? `, usually to a node's NodePort ${s.nodePort}; trace that leg with --to node/<node>:${s.nodePort}`
    : '';
  return `Service ${s.service ?? '?'}'s load balancer (ipMode Proxy) ends this connection and opens its own to the cluster${then}.`;
}

const i4or6 = (a: string): boolean => a !== '127.0.0.1' && a !== '::1';

function toPath(env: WalkEnv, f: Finished, reply: boolean, _srcNetns: NetnsId): TracePath {
  // Hops made once. Notes come from affinity steps and an end at a load balancer, so only a path that may hold one is
  // read (reading every path read each of a Service's endpoint paths whole to find none). By index: an iterator per hop
  // is garbage.
  const hops = hopsOf(f.state);
  const notes: string[] = [];
  if (mayHaveNotes(f))
    for (let i = 0; i < hops.length; i++) {
      const steps = hops[i].steps;
      work.noteStepsRead += steps.length;
      for (let j = 0; j < steps.length; j++) {
        const s = steps[j];
        if (s.kind === 'affinity') notes.push(stepText(s));
        else if (s.kind === 'drop' && s.reason === 'load-balancer') notes.push(proxyNote(s));
      }
    }
  const origin = originOf(f);
  const base: TracePath = {
    probability: round(f.state.probability),
    disposition: f.disposition,
    reason: f.reason,
    delivered: f.delivered,
    sourceSeen: f.disposition === 'delivered' ? f.state.pkt.src : null,
    hops,
    ...(origin ? { origin } : {}),
    nat: f.state.nat,
    ...(notes.length ? { notes } : {}),
  };
  if (!reply || f.disposition !== 'delivered') return base;
  const p = f.state.pkt;
  // The answer's size is its own: the request's size is not carried over.
  const { size: _size, ...q } = p;
  const back: Pkt = { ...q, src: p.dst, sport: p.dport, dst: p.src, dport: p.sport, ttl: 64, mark: 0 };
  const rs = { ...emptyState(back), reply: { entries: f.state.ct, requestNat: f.state.nat } };
  // An answer has no random choice to make (conntrack skips the nat table), so it has one walk; should filter
  // rules still branch it, the most likely walk is shown.
  // It gets a budget of its own: the request's may be spent, and only the likeliest walk is shown anyway.
  const ends = originate({ ...env, branches: branchBudget() }, rs, f.netns);
  if (!ends.length) return base;
  const r = ends.reduce((a, b) => (b.state.probability > a.state.probability ? b : a));
  const replyOrigin = originOf(r);
  return {
    ...base,
    reply: {
      disposition: r.disposition,
      reason: r.reason,
      delivered: r.delivered,
      sourceSeen: r.disposition === 'delivered' ? r.state.pkt.src : null,
      hops: hopsOf(r.state),
      ...(replyOrigin ? { origin: replyOrigin } : {}),
      nat: r.state.nat,
    },
  };
}

function round(p: number): number {
  return Math.round(p * 1e9) / 1e9;
}

/**
 * Where a path ended, in a few words: paths are merged only when their whole text is the same (probability aside),
 * so this key need only never tell two such paths apart; it sets a Service's endpoint paths apart (each its own
 * address) without writing out their hops' NAT, as a key of every field the ending depends on would.
 */
function endingKey(p: TracePath): string {
  const last = p.hops[p.hops.length - 1];
  const at = last ? `${last.netns}|${last.device}|${last.packet.dst}|${last.packet.dport}` : '';
  return `${p.disposition}|${p.hops.length}|${p.reply?.hops.length ?? ''}|${at}`;
}

/**
 * Paths that are the same walk (identical hops and ending) reached by different statistic choices are one path.
 * Compared whole only when their endings agree ({@link endingKey}): a Service's backends differ there already, so
 * a trace of a Service with many endpoints does not serialise every path.
 */
function merge(paths: TracePath[]): TracePath[] {
  const out: TracePath[] = [];
  // Per ending: its first path, and once a second one comes, every path of that ending by its whole text (a map, so
  // thousands of paths with one ending, e.g. statistic rules that only mark, cost no more than one lookup each).
  const byEnding = new Map<string, { readonly first: number; whole?: Map<string, number> }>();
  const wholeKey = (p: TracePath): string => JSON.stringify({ ...p, probability: 0 });
  for (const p of paths) {
    const ending = endingKey(p);
    const group = byEnding.get(ending);
    if (!group) {
      byEnding.set(ending, { first: out.length });
      out.push(p);
      continue;
    }
    group.whole ??= new Map([[wholeKey(out[group.first]), group.first]]);
    const key = wholeKey(p);
    const i = group.whole.get(key);
    if (i !== undefined) {
      out[i] = { ...out[i], probability: round(out[i].probability + p.probability) };
      continue;
    }
    group.whole.set(key, out.length);
    out.push(p);
  }
  return out;
}
