/**
 * What a person can pick as the source and the destination of a trace, in the tracer's endpoint syntax
 * (`pod/ns/name`, `svc/ns/name:port`, `node/name:port`, `external/name`, `localhost:port`). The editor
 * shows these as quick picks; the same list could drive a CLI completion.
 */
import type { Protocol, Topology } from '../model/types';

export interface EndpointChoice {
  /** The endpoint in trace syntax. */
  readonly endpoint: string;
  readonly label: string;
  readonly description: string;
  /** The protocol the destination port speaks, when it has one. */
  readonly proto?: 'tcp' | 'udp' | 'sctp' | 'icmp';
  readonly kind: 'pod' | 'container' | 'node' | 'external' | 'service' | 'nodeport' | 'localhost';
}

const lower = (p: Protocol) => p.toLowerCase() as 'tcp' | 'udp' | 'sctp';

export function sourceChoices(t: Topology): EndpointChoice[] {
  const out: EndpointChoice[] = [];
  for (const p of t.pods) {
    out.push({
      endpoint: `pod/${p.id}`,
      label: `pod ${p.id}`,
      description: `${p.ips.join(', ')} on ${p.node}`,
      kind: 'pod',
    });
    if (p.containers.length > 1) {
      for (const c of p.containers)
        out.push({
          endpoint: `pod/${p.id}:${c.name}`,
          label: `  container ${c.name}`,
          description: `in pod ${p.id}`,
          kind: 'container',
        });
    }
  }
  for (const n of t.nodes)
    out.push({
      endpoint: `node/${n.name}`,
      label: `node ${n.name}`,
      description: n.interfaces.flatMap((i) => i.addresses).join(', '),
      kind: 'node',
    });
  for (const x of t.externals)
    out.push({
      endpoint: `external/${x.name}`,
      label: `external ${x.name}`,
      description: x.addresses.join(', '),
      kind: 'external',
    });
  return out;
}

/** Destinations; `from` (a source endpoint) adds the localhost ports of that pod. */
export function destinationChoices(t: Topology, from?: string): EndpointChoice[] {
  const out: EndpointChoice[] = [];
  const sourcePod = from?.startsWith('pod/') ? from.slice(4).split(':')[0] : undefined;
  for (const p of t.pods) {
    const id = p.id;
    const same = sourcePod !== undefined && (sourcePod === id || `default/${sourcePod}` === id);
    for (const c of p.containers) {
      for (const port of c.ports) {
        if (same)
          out.push({
            endpoint: `localhost:${port.containerPort}`,
            label: `localhost:${port.containerPort}`,
            description: `container ${c.name} of the same pod (container to container)`,
            proto: lower(port.protocol),
            kind: 'localhost',
          });
        out.push({
          endpoint: `pod/${id}:${port.containerPort}`,
          label: `pod ${id}:${port.name ?? port.containerPort}`,
          description: `${p.ips[0] ?? '?'}:${port.containerPort}/${port.protocol}, container ${c.name}`,
          proto: lower(port.protocol),
          kind: 'pod',
        });
      }
    }
  }
  for (const s of t.services) {
    for (const port of s.ports) {
      const name = port.name || String(port.port);
      out.push({
        endpoint: `svc/${s.id}:${name}`,
        label: `Service ${s.id}:${name}`,
        description: `${s.clusterIPs[0] ?? '(no cluster IP)'}:${port.port}/${port.protocol}`,
        proto: lower(port.protocol),
        kind: 'service',
      });
      if (port.nodePort !== undefined && s.type !== 'ClusterIP') {
        for (const n of t.nodes)
          out.push({
            endpoint: `node/${n.name}:${port.nodePort}`,
            label: `NodePort ${port.nodePort} on ${n.name}`,
            description: `Service ${s.id}:${name} (${s.type})`,
            proto: lower(port.protocol),
            kind: 'nodeport',
          });
      }
    }
  }
  // An external client listens on no declared port: ping it (ICMP), or type an ip:port.
  for (const x of t.externals)
    out.push({
      endpoint: `external/${x.name}`,
      label: `external ${x.name} (ping)`,
      description: x.addresses.join(', '),
      proto: 'icmp',
      kind: 'external',
    });
  return out;
}
