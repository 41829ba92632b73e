/**
 * Every address and range in a topology, parsed once and labelled with its role, so the address rules
 * (invalid, host bits, overlaps, outside-range, duplicates) share one pass over the model.
 */
import type { Span } from '../problem';
import { parseAddress, parsePrefix, type Address, type Prefix } from '../net/address';
import type { Topology } from '../model/types';

export type RangeRole = 'cluster-pods' | 'services' | 'network' | 'node-pods' | 'external' | 'interface' | 'bridge' | 'masq-exempt' | 'lb-source-range' | 'node-port-addresses';

export interface RangeEntry {
  readonly role: RangeRole;
  /** Who owns it, for messages: "node node2", "cluster", "network lan". */
  readonly owner: string;
  readonly text: string;
  readonly span: Span;
  /** undefined when the text is not a valid prefix. */
  readonly prefix: Prefix | undefined;
}

export type AddressRole = 'pod' | 'cluster-ip' | 'external-ip' | 'lb-ip' | 'route-via' | 'endpoint';

export interface AddressEntry {
  readonly role: AddressRole;
  readonly owner: string;
  readonly text: string;
  readonly span: Span;
  readonly address: Address | undefined;
}

export interface RangeIndex {
  readonly ranges: readonly RangeEntry[];
  readonly addresses: readonly AddressEntry[];
}

const at = (spans: Readonly<Record<string, Span>>, key: string, fallback: Span): Span => spans[key] ?? fallback;

export function indexRanges(t: Topology): RangeIndex {
  const ranges: RangeEntry[] = [];
  const addresses: AddressEntry[] = [];
  const range = (role: RangeRole, owner: string, text: string, span: Span) => ranges.push({ role, owner, text, span, prefix: parsePrefix(text) });
  const address = (role: AddressRole, owner: string, text: string, span: Span) => addresses.push({ role, owner, text, span, address: parseAddress(text) });

  t.cluster.podCIDRs.forEach((c, i) => range('cluster-pods', 'the cluster', c, at(t.cluster.spans, `podCIDRs.${i}`, t.cluster.span)));
  t.cluster.serviceCIDRs.forEach((c, i) => range('services', 'the cluster', c, at(t.cluster.spans, `serviceCIDRs.${i}`, t.cluster.span)));
  t.cluster.masquerade?.nonMasqueradeCIDRs.forEach((c, i) => range('masq-exempt', 'the masquerade agent', c, at(t.cluster.masquerade!.spans, `nonMasqueradeCIDRs.${i}`, t.cluster.masquerade!.span)));
  t.cluster.kubeProxy.nodePortAddresses.forEach((c) => range('node-port-addresses', 'kube-proxy', c, t.cluster.kubeProxy.spans.nodePortAddresses ?? t.cluster.kubeProxy.span));
  for (const n of t.networks) range('network', `network ${n.name}`, n.cidr, at(n.spans, 'cidr', n.span));
  for (const n of t.nodes) {
    n.podCIDRs.forEach((c, i) => range('node-pods', `node ${n.name}`, c, at(n.spans, `podCIDRs.${i}`, n.span)));
    for (const i of n.interfaces) i.addresses.forEach((a, k) => range('interface', `node ${n.name} ${i.name}`, a, at(i.spans, `addresses.${k}`, i.span)));
    n.bridge.addresses.forEach((a, k) => range('bridge', `bridge ${n.bridge.name} on node ${n.name}`, a, at(n.bridge.spans, `addresses.${k}`, n.span)));
    for (const r of n.routes) if (r.via && r.source === 'declared') address('route-via', `a route on node ${n.name}`, r.via, at(r.spans, 'via', r.span));
  }
  for (const x of t.externals) x.addresses.forEach((a, k) => range('external', `external ${x.name}`, a, at(x.spans, `addresses.${k}`, x.span)));
  for (const p of t.pods) p.ips.forEach((ip, k) => address('pod', `pod ${p.id}`, ip, at(p.spans, `ips.${k}`, p.span)));
  for (const s of t.services) {
    s.clusterIPs.forEach((ip, k) => address('cluster-ip', `Service ${s.id}`, ip, at(s.spans, `clusterIPs.${k}`, s.span)));
    s.externalIPs.forEach((ip, k) => address('external-ip', `Service ${s.id}`, ip, at(s.spans, `externalIPs.${k}`, s.span)));
    s.loadBalancerIPs.forEach((ip, k) => address('lb-ip', `Service ${s.id}`, ip, at(s.spans, `loadBalancerIPs.${k}`, s.span)));
    s.loadBalancerSourceRanges.forEach((c, k) => range('lb-source-range', `Service ${s.id}`, c, at(s.spans, `loadBalancerSourceRanges.${k}`, s.span)));
  }
  return { ranges, addresses };
}
