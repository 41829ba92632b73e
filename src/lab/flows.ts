/**
 * Which flows `verify` sends: a flows file (`[{from, to, proto}]` or `{flows: [...]}` in the trace CLI's
 * endpoint syntax), or by default a representative set covering every kind of communication the topology has.
 */
import { parse as parseYaml } from 'yaml';
import { formatAddress, hostPort, parseAddress } from '../core/net/address';
import type { Topology, TraceProto } from '../core';
import { TRACE_PROTOCOLS } from '../core/trace/types';

export interface FlowSpec {
  readonly from: string;
  readonly to: string;
  readonly proto?: TraceProto;
  /** Why this flow is in the default set. */
  readonly kind?: string;
  /** The request's size in bytes with Don't Fragment set (UDP: the datagram is padded to it), as `trace --size`. */
  readonly size?: number;
}

const PROTOS: readonly string[] = TRACE_PROTOCOLS;
const lower = (p: string): TraceProto => p.toLowerCase() as TraceProto;

/** Parses a flows file; throws an Error naming the entry that is wrong. */
export function parseFlowsFile(text: string): FlowSpec[] {
  const doc: unknown = parseYaml(text);
  const list = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object' && Array.isArray((doc as { flows?: unknown }).flows)
      ? (doc as { flows: unknown[] }).flows
      : undefined;
  if (!list) throw new Error('a flows file is a list of {from, to, proto}, or {flows: [...]}');
  return list.map((e: unknown, i) => {
    const o = (e ?? {}) as Record<string, unknown>;
    if (typeof o.from !== 'string' || typeof o.to !== 'string')
      throw new Error(`flow ${i + 1}: needs 'from' and 'to' endpoints (strings)`);
    if (o.proto !== undefined && (typeof o.proto !== 'string' || !PROTOS.includes(o.proto.toLowerCase())))
      throw new Error(`flow ${i + 1}: proto must be tcp, udp, sctp or icmp`);
    if (o.size !== undefined && !(Number.isInteger(o.size) && (o.size as number) >= 68 && (o.size as number) <= 65535))
      throw new Error(`flow ${i + 1}: size must be an IP packet size in bytes (68-65535)`);
    return {
      from: o.from,
      to: o.to,
      ...(typeof o.proto === 'string' ? { proto: lower(o.proto) } : {}),
      ...(typeof o.size === 'number' ? { size: o.size } : {}),
    };
  });
}

/**
 * The default flows: container to container over localhost, pod to pod on one node and across nodes (each
 * family of the destination), pod to each Service port and cluster IP, node to pod, node to a NodePort on
 * another node, external to each NodePort on each node and to each LoadBalancer or external IP, and a hostPort
 * from outside (each family) and from its node on 127.0.0.1.
 */
export function defaultFlows(t: Topology): FlowSpec[] {
  const flows: FlowSpec[] = [];
  const seen = new Set<string>();
  const add = (f: FlowSpec): void => {
    const key = `${f.from}|${f.to}|${f.proto ?? ''}`;
    if (!seen.has(key)) {
      seen.add(key);
      flows.push(f);
    }
  };
  // Only pods a trace can place: scheduled on a node and with an address (a manifest's pods may be neither yet).
  const pods = t.pods.filter((p) => !p.hostNetwork && p.node && p.ips.length);
  const portsOf = (p: Topology['pods'][number]) =>
    p.containers.flatMap((c) => c.ports.map((port) => ({ container: c, port })));

  for (const p of pods) {
    for (const { container, port } of portsOf(p)) {
      const other = p.containers.find((c) => c.name !== container.name);
      if (other) {
        add({
          from: `pod/${p.id}:${other.name}`,
          to: `localhost:${port.containerPort}`,
          proto: lower(port.protocol),
          kind: 'container to container',
        });
        break;
      }
    }
  }
  for (const sameNode of [true, false]) {
    const pair = pods.flatMap((src) =>
      pods
        .filter((dst) => dst !== src && (dst.node === src.node) === sameNode && portsOf(dst).length)
        .map((dst) => [src, dst] as const),
    )[0];
    if (!pair) continue;
    const [src, dst] = pair;
    const { port } = portsOf(dst)[0];
    dst.ips.forEach((ip, i) =>
      add({
        from: `pod/${src.id}`,
        to: i === 0 ? `pod/${dst.id}:${port.containerPort}` : hostPort(ip, port.containerPort),
        proto: lower(port.protocol),
        kind: sameNode ? 'pod to pod, same node' : 'pod to pod, across nodes',
      }),
    );
  }
  for (const svc of t.services) {
    const backends = new Set(svc.endpoints.map((e) => e.pod));
    const src = pods.find((p) => !backends.has(p.id)) ?? pods[0];
    const ips = svc.clusterIPs.filter((ip) => ip && ip !== 'None');
    for (const port of svc.ports) {
      if (src)
        ips.forEach((ip, i) =>
          add({
            from: `pod/${src.id}`,
            to: i === 0 ? `svc/${svc.id}:${port.port}` : hostPort(ip, port.port),
            proto: lower(port.protocol),
            kind: 'pod to Service',
          }),
        );
      for (const ext of t.externals) {
        for (const ip of [...(svc.type === 'LoadBalancer' ? svc.loadBalancerIPs : []), ...svc.externalIPs])
          add({
            from: `external/${ext.name}`,
            to: hostPort(ip, port.port),
            proto: lower(port.protocol),
            kind: 'external to LoadBalancer or external IP',
          });
      }
      if (port.nodePort === undefined) continue;
      const ext = t.externals[0];
      if (ext)
        for (const n of t.nodes)
          add({
            from: `external/${ext.name}`,
            to: `node/${n.name}:${port.nodePort}`,
            proto: lower(port.protocol),
            kind: 'external to NodePort',
          });
      if (t.nodes.length > 1)
        add({
          from: `node/${t.nodes[0].name}`,
          to: `node/${t.nodes[1].name}:${port.nodePort}`,
          proto: lower(port.protocol),
          kind: 'node to NodePort on another node',
        });
    }
  }
  // hostPort (the portmap plug-in): the first pod with one, per address family of the pod, from the first external
  // holding an address of that family to the node's address (or the hostIP it is bound to), and for IPv4 from the
  // node itself to 127.0.0.1, where portmap's snat masquerades it (without snat the outcome depends on whether the
  // node already knows the pod's MAC: the trace describes a first connection, so that flow is left out).
  const portmap = t.cluster.cni.portmap;
  const withHostPort = portmap.enabled
    ? pods.flatMap((p) => portsOf(p).flatMap(({ port }) => (port.hostPort ? [{ pod: p, port }] : [])))[0]
    : undefined;
  if (withHostPort) {
    const { pod, port } = withHostPort;
    const hostPortNumber = port.hostPort ?? 0;
    const node = t.nodes.find((n) => n.name === pod.node);
    const bound = port.hostIP ? parseAddress(port.hostIP) : undefined;
    for (const family of [4, 6] as const) {
      if (!pod.ips.some((ip) => parseAddress(ip)?.family === family)) continue;
      if (bound && bound.family !== family) continue;
      const nodeAddress =
        bound && bound.value !== 0n
          ? formatAddress(bound)
          : node?.interfaces
              .flatMap((i) => i.addresses.map((a) => a.split('/')[0]))
              .find((a) => parseAddress(a)?.family === family);
      const ext = t.externals.find((x) => x.addresses.some((a) => parseAddress(a.split('/')[0])?.family === family));
      if (ext && nodeAddress)
        add({
          from: `external/${ext.name}`,
          to: hostPort(nodeAddress, hostPortNumber),
          proto: lower(port.protocol),
          kind: 'external to hostPort',
        });
      if (family === 4 && portmap.snat && (!bound || bound.value === 0n))
        add({
          from: `node/${pod.node}`,
          to: `127.0.0.1:${hostPortNumber}`,
          proto: lower(port.protocol),
          kind: 'node to its own hostPort on localhost',
        });
    }
  }
  const target = pods.find((p) => portsOf(p).length);
  if (target) {
    const { port } = portsOf(target)[0];
    add({
      from: `node/${target.node}`,
      to: `pod/${target.id}:${port.containerPort}`,
      proto: lower(port.protocol),
      kind: 'node to pod',
    });
  }
  return flows;
}
