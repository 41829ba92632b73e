/**
 * Every address and range in a topology, parsed once and labelled with its role, so the address rules
 * (invalid, host bits, families, overlaps, outside-range, duplicates) share one pass over the model.
 */
import type { Span } from '../problem';
import { parseAddress, parsePrefix, type Address, type Prefix } from '../net/address';
import type { Located, Pod, Topology } from '../model/types';
import { work } from '../work';

export type RangeRole =
  | 'cluster-pods'
  | 'services'
  | 'network'
  | 'node-pods'
  | 'external'
  | 'interface'
  | 'bridge'
  | 'masq-exempt'
  | 'lb-source-range'
  | 'node-port-addresses';

interface Entry {
  /** Who owns it, for messages: "node node2", "the cluster", "network lan". */
  readonly owner: string;
  readonly text: string;
  /** The value's own span when `exact`; otherwise the nearest enclosing element (the value was defaulted or derived). */
  readonly span: Span;
  /** Whether `span` covers exactly this value, so a quick fix may replace it. */
  readonly exact: boolean;
  /** The node it belongs to (node pod CIDRs, interfaces, bridges, pods, routes). */
  readonly node?: string;
  /**
   * The list it is an item of, when that list holds at most one value per IP family (`cluster.podCIDRs`,
   * a node's podCIDRs, a pod's IPs, ...). Items with the same key form one list.
   */
  readonly perFamily?: string;
}

export interface RangeEntry extends Entry {
  readonly role: RangeRole;
  /** NetPath assumed this value (nothing read declares it): a finding that rests on it is never an error. */
  readonly assumed?: true;
  /** The same value written in other configurations (ClusterSettings.echoes): a fix that moves it edits them too. */
  readonly echoes?: readonly Span[];
  /** undefined when the text is not a valid prefix. */
  readonly prefix: Prefix | undefined;
}

export type AddressRole = 'pod' | 'cluster-ip' | 'external-ip' | 'lb-ip' | 'route-via' | 'endpoint';

export interface AddressEntry extends Entry {
  readonly role: AddressRole;
  readonly address: Address | undefined;
  /** For pods: whether the pod shares its node's network namespace. */
  readonly hostNetwork?: boolean;
  /** For pods: the IP's position in the pod's list (a pod's entries come together, starting at 0). */
  readonly ipIndex?: number;
}

/** A range whose text parsed: what rules compare (narrowed by {@link parsedRange}, never asserted). */
export type ParsedRange = RangeEntry & { readonly prefix: Prefix };
/** An address whose text parsed (narrowed by {@link parsedAddress}). */
export type ParsedAddress = AddressEntry & { readonly address: Address };

export const parsedRange = (r: RangeEntry): r is ParsedRange => r.prefix !== undefined;
export const parsedAddress = (a: AddressEntry): a is ParsedAddress => a.address !== undefined;

export interface RangeIndex {
  readonly ranges: readonly RangeEntry[];
  readonly addresses: readonly AddressEntry[];
  /**
   * The pods whose IPs are the entries of `addresses` from `podIPsFrom` to `podIPsTo` (one block, pod after pod, each
   * pod's IPs in its order). Pod IPs are nearly all of a large cluster's entries: they are walked once per index, by
   * ./address-screen.ts, and the rules read what that pass found instead of walking them again.
   */
  readonly pods: readonly Pod[];
  readonly podIPsFrom: number;
  readonly podIPsTo: number;
  /**
   * The entries of `addresses` that are no pod IP, in their order: the first `podIPsFrom` of them come before the
   * pods' block, the rest after it.
   */
  readonly otherAddresses: readonly AddressEntry[];
}

/** The span of `key` in an element when known, else the element's field `fallbackKey`, else the element. */
export function spanOf(e: Pick<Located, 'span' | 'spans'>, key: string, fallbackKey?: string): Span {
  return e.spans[key] ?? (fallbackKey ? e.spans[fallbackKey] : undefined) ?? e.span;
}

type Extra = Partial<Pick<Entry, 'node' | 'perFamily'>> & {
  hostNetwork?: boolean;
  assumed?: true;
  echoes?: readonly Span[];
};

/** Says that a finding rests on the assumed Service range, and where to declare the real one. */
export function assumedServiceRangeNote(range: string): string {
  return `NetPath assumed the Service range ${range} (kubeadm's default) because no file read declares one; if your cluster uses another range, declare it as cluster.serviceCIDRs in a NetPath document, or networking.serviceSubnet in kubeadm's ClusterConfiguration or kind's Cluster`;
}

/** Says that a finding rests on the assumed node-port range, and where to declare the real one. */
export function assumedNodePortRangeNote(min: number, max: number): string {
  return `NetPath assumed the node-port range ${min}-${max} (kube-apiserver's default --service-node-port-range) because no file read declares one; if your API server uses another range, declare it as cluster.nodePortRange in a NetPath document, or as service-node-port-range in apiServer.extraArgs of kubeadm's ClusterConfiguration`;
}

const IPS_KEYS = ['ips.0', 'ips.1'];
/** The span key of a pod's k-th IP (a pod has one per family: the usual two are made once). */
const ipsKey = (k: number): string => IPS_KEYS[k] ?? `ips.${k}`;

/**
 * A pod IP's entry: the pod and the IP's position in its list, the rest read from the pod when asked for. Pod IPs
 * are nearly all of a large cluster's entries (300,000 at 5,000 nodes) and nearly all of them are only screened
 * (./address-screen.ts reads an IPv4 one's value from its text as a number): none makes its owner's name, its
 * list's name or an `Address` (an object and a bigint) unless a rule looks at it.
 */
class PodAddressEntry implements AddressEntry {
  /** 'pod': kept on the prototype (below), one field fewer in each of the 150,000 entries. */
  declare readonly role: 'pod';
  private parsed: Address | undefined | null = null;

  constructor(
    private readonly pod: Pod,
    /** The IP's position in the pod's list: 0 starts a pod's entries. */
    readonly ipIndex: number,
  ) {
    work.podAddressEntriesMade++;
  }

  get text(): string {
    return this.pod.ips[this.ipIndex];
  }
  get owner(): string {
    return `pod ${this.pod.id}`;
  }
  get perFamily(): string {
    return `IPs of pod ${this.pod.id}`;
  }
  get node(): string {
    return this.pod.node;
  }
  get hostNetwork(): boolean {
    return this.pod.hostNetwork;
  }
  private get own(): Span | undefined {
    return this.pod.spans[ipsKey(this.ipIndex)];
  }
  get span(): Span {
    return this.own ?? this.pod.spans.name ?? this.pod.span;
  }
  get exact(): boolean {
    const own = this.own;
    return own !== undefined && own.file !== '';
  }
  get address(): Address | undefined {
    if (this.parsed === null) {
      work.podAddressesParsed++;
      this.parsed = parseAddress(this.text);
    }
    return this.parsed;
  }
}

Object.defineProperty(PodAddressEntry.prototype, 'role', { value: 'pod' });

export function indexRanges(t: Topology): RangeIndex {
  const ranges: RangeEntry[] = [];
  const otherAddresses: AddressEntry[] = [];
  const located = (spans: Readonly<Record<string, Span>>, key: string, fallback: Span) => ({
    span: spans[key] ?? fallback,
    exact: spans[key] !== undefined && spans[key].file !== '',
  });
  const range = (
    role: RangeRole,
    owner: string,
    text: string,
    where: { span: Span; exact: boolean },
    extra: Extra = {},
  ) =>
    // Written out, not spread: a node's and a Service's values are thousands of entries in a large cluster.
    ranges.push({
      role,
      owner,
      text,
      span: where.span,
      exact: where.exact,
      node: extra.node,
      perFamily: extra.perFamily,
      assumed: extra.assumed,
      echoes: extra.echoes,
      prefix: parsePrefix(text),
    });
  const address = (
    role: AddressRole,
    owner: string,
    text: string,
    where: { span: Span; exact: boolean },
    extra: Extra = {},
  ) => {
    const entry: AddressEntry = {
      role,
      owner,
      text,
      span: where.span,
      exact: where.exact,
      node: extra.node,
      perFamily: extra.perFamily,
      address: parseAddress(text),
    };
    otherAddresses.push(entry);
  };

  const c = t.cluster;
  c.podCIDRs.forEach((x, i) =>
    range('cluster-pods', 'the cluster', x, located(c.spans, `podCIDRs.${i}`, c.span), {
      perFamily: 'cluster podCIDRs',
      ...(c.echoes[`podCIDRs.${i}`] ? { echoes: c.echoes[`podCIDRs.${i}`] } : {}),
    }),
  );
  c.serviceCIDRs.forEach((x, i) =>
    range('services', 'the cluster', x, located(c.spans, `serviceCIDRs.${i}`, c.span), {
      perFamily: 'cluster serviceCIDRs',
      ...(c.echoes[`serviceCIDRs.${i}`] ? { echoes: c.echoes[`serviceCIDRs.${i}`] } : {}),
      ...(c.assumed.serviceCIDRs ? { assumed: true as const } : {}),
    }),
  );
  const m = c.masquerade;
  m?.nonMasqueradeCIDRs.forEach((x, i) =>
    range('masq-exempt', 'the masquerade agent', x, located(m.spans, `nonMasqueradeCIDRs.${i}`, m.span)),
  );
  c.kubeProxy.nodePortAddresses.forEach((x, i) =>
    // 'primary' (kube-proxy 1.29+) means the node's primary addresses, not a range.
    x === 'primary'
      ? undefined
      : range(
          'node-port-addresses',
          'kube-proxy',
          x,
          located(c.kubeProxy.spans, `nodePortAddresses.${i}`, c.kubeProxy.spans.nodePortAddresses ?? c.kubeProxy.span),
        ),
  );
  for (const n of t.networks) range('network', `network ${n.name}`, n.cidr, located(n.spans, 'cidr', n.span));
  for (const n of t.nodes) {
    const node = n.name;
    n.podCIDRs.forEach((x, i) =>
      range('node-pods', `node ${node}`, x, located(n.spans, `podCIDRs.${i}`, n.span), {
        node,
        perFamily: `podCIDRs of node ${node}`,
      }),
    );
    for (const i of n.interfaces) {
      i.addresses.forEach((a, k) =>
        range('interface', `node ${node} ${i.name}`, a, located(i.spans, `addresses.${k}`, i.span), {
          node,
          perFamily: `addresses of ${node}/${i.name}`,
        }),
      );
    }
    const bridge = n.bridge;
    bridge?.addresses.forEach((a, k) =>
      range(
        'bridge',
        `bridge ${bridge.name} on node ${node}`,
        a,
        located(bridge.spans, `addresses.${k}`, n.spans.bridge ?? n.span),
        { node, perFamily: `addresses of bridge ${bridge.name} on ${node}` },
      ),
    );
    for (const r of n.routes)
      if (r.via && r.source === 'declared')
        address('route-via', `a route on node ${node}`, r.via, located(r.spans, 'via', r.span), { node });
  }
  for (const x of t.externals)
    x.addresses.forEach((a, k) =>
      range('external', `external ${x.name}`, a, located(x.spans, `addresses.${k}`, x.span), {
        perFamily: `addresses of external ${x.name}`,
      }),
    );
  // Pods are most of a large cluster's entries: their block of entries is only counted here, and made when something
  // reads `addresses` (see PodIndex). Indexed: this loop runs once per analysis and mostly before it is optimised,
  // where a for-of made an object per pod.
  const pods = t.pods;
  const podIPsFrom = otherAddresses.length;
  let podIPs = 0;
  for (let i = 0; i < pods.length; i++) podIPs += pods[i].ips.length;
  for (const s of t.services) {
    s.clusterIPs.forEach((ip, k) =>
      address('cluster-ip', `Service ${s.id}`, ip, located(s.spans, `clusterIPs.${k}`, s.spans.name ?? s.span), {
        perFamily: `clusterIPs of Service ${s.id}`,
      }),
    );
    s.externalIPs.forEach((ip, k) =>
      address('external-ip', `Service ${s.id}`, ip, located(s.spans, `externalIPs.${k}`, s.span)),
    );
    s.loadBalancerIPs.forEach((ip, k) =>
      address('lb-ip', `Service ${s.id}`, ip, located(s.spans, `loadBalancerIPs.${k}`, s.span)),
    );
    s.loadBalancerSourceRanges.forEach((x, k) =>
      range('lb-source-range', `Service ${s.id}`, x, located(s.spans, `loadBalancerSourceRanges.${k}`, s.span)),
    );
  }
  return new LazyRangeIndex(ranges, otherAddresses, pods, podIPsFrom, podIPsFrom + podIPs);
}

/**
 * A range index whose pod IP entries are made on the first read of `addresses`: the rules of a lint read the pods
 * through the address screen's pass (./address-screen.ts), which makes an entry only for a pod IP a rule may report,
 * so a clean cluster's 150,000 pod IPs (at Kubernetes' limits) make no entry at all. What reads `addresses` (a quick
 * fix looking for free addresses, a duplicate) gets every entry, pods' included, the same objects on every read.
 */
class LazyRangeIndex implements RangeIndex {
  private all: AddressEntry[] | undefined;
  /** Pod IP entries made before `addresses` was read, by position (see `podEntry`). */
  private readonly made = new Map<number, AddressEntry>();

  constructor(
    readonly ranges: readonly RangeEntry[],
    readonly otherAddresses: readonly AddressEntry[],
    readonly pods: readonly Pod[],
    readonly podIPsFrom: number,
    readonly podIPsTo: number,
  ) {}

  get addresses(): readonly AddressEntry[] {
    if (this.all) return this.all;
    const all: AddressEntry[] = this.otherAddresses.slice(0, this.podIPsFrom);
    const pods = this.pods;
    for (let i = 0; i < pods.length; i++)
      for (let k = 0; k < pods[i].ips.length; k++)
        all.push(this.made.get(all.length) ?? new PodAddressEntry(pods[i], k));
    for (let i = this.podIPsFrom; i < this.otherAddresses.length; i++) all.push(this.otherAddresses[i]);
    this.made.clear();
    return (this.all = all);
  }

  /**
   * The entry at `at` of `addresses`, a pod IP's (of `pod`, its `ipIndex`-th), made alone when `addresses` has not
   * been made: the same object `addresses` holds at `at` when it is.
   */
  podEntry(at: number, pod: Pod, ipIndex: number): AddressEntry {
    if (this.all) return this.all[at];
    let entry = this.made.get(at);
    if (!entry) this.made.set(at, (entry = new PodAddressEntry(pod, ipIndex)));
    return entry;
  }
}

/**
 * The entry at `at` of `index.addresses`, a pod IP's (of `pod`, its `ipIndex`-th), without making the entries of every
 * pod when the index makes them lazily.
 */
export function podEntryAt(index: RangeIndex, at: number, pod: Pod, ipIndex: number): AddressEntry {
  return index instanceof LazyRangeIndex ? index.podEntry(at, pod, ipIndex) : index.addresses[at];
}
