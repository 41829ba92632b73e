/**
 * Several tool configurations may describe one cluster (a kind config, a kubeadm ClusterConfiguration, kube-proxy's
 * KubeProxyConfiguration, a NetPath document). NetPath uses one of each kind deterministically — the first by file
 * path, then by position in the file, whatever order the files were given in — and reports, at both places, every
 * pair that disagrees on the cluster's pod or Service ranges (`k8s.config-conflict`).
 */
import type { Span } from '../problem';
import { canonical, parsePrefix } from '../net/address';
import { get, strings } from './read';
import type { ConfigRanges, Drafts } from './drafts';
import { lookupTable } from '../lookup';

export const CONFIG_CONFLICT = 'k8s.config-conflict';

const byPlace = (a: { span: Span }, b: { span: Span }) =>
  a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : a.span.start - b.span.start;

/** One source's claim about a cluster range. */
interface Claim {
  readonly what: string;
  readonly ranges: ConfigRanges;
  /** Where to report: the written value, or the configuration when the value is the tool's default. */
  readonly span: Span;
  readonly netpath: boolean;
}

const ORIGIN_NAMES: Record<string, string> = lookupTable({
  ClusterConfiguration: 'kubeadm ClusterConfiguration networking',
  Cluster: 'kind Cluster networking',
});

/** Picks the configurations the model uses and reports those that disagree. */
export function chooseConfigs(b: Drafts): void {
  const proxies = [...b.kubeProxies].sort(byPlace);
  const configs = [...b.clusterConfigs].sort(byPlace);
  b.kubeProxy = proxies[0];
  b.clusterConfig = configs[0];

  const claim = (what: string, ranges: ConfigRanges | undefined, fallback: Span, netpath = false): Claim[] =>
    ranges?.length ? [{ what, ranges, span: ranges[0].defaulted ? fallback : ranges[0].span, netpath }] : [];
  const c = b.clusterNode;
  const pods: Claim[] = [
    ...(c ? claim('the NetPath document (cluster.podCIDRs)', strings(get(c, 'podCIDRs')), c.span, true) : []),
    ...configs.flatMap((x) =>
      claim(
        `${ORIGIN_NAMES[x.origin] ?? x.origin}.podSubnet${x.podSubnet?.[0]?.defaulted ? " (kind's default)" : ''}`,
        x.podSubnet,
        x.span,
      ),
    ),
    ...proxies.flatMap((x) => claim('KubeProxyConfiguration clusterCIDR', x.clusterCIDRs, x.span)),
  ];
  const services: Claim[] = [
    ...(c ? claim('the NetPath document (cluster.serviceCIDRs)', strings(get(c, 'serviceCIDRs')), c.span, true) : []),
    ...configs.flatMap((x) =>
      claim(
        `${ORIGIN_NAMES[x.origin] ?? x.origin}.serviceSubnet${x.serviceSubnet?.[0]?.defaulted ? " (kind's default)" : ''}`,
        x.serviceSubnet,
        x.span,
      ),
    ),
  ];
  conflicts(b, 'pod', pods);
  conflicts(b, 'Service', services);
}

/**
 * For each cluster range used (`podCIDRs` or `serviceCIDRs`), the spans of the same range written in the other
 * configurations, by `<key>.<index>`.
 */
export function echoSpans(
  b: Drafts,
  key: 'podCIDRs' | 'serviceCIDRs',
  used: readonly { value: string; span: Span }[],
): Record<string, Span[]> {
  const netpath: ConfigRanges = b.clusterNode ? strings(get(b.clusterNode, key)) : [];
  const written: ConfigRanges = [
    ...netpath,
    ...b.clusterConfigs.flatMap((x) => (key === 'podCIDRs' ? x.podSubnet : x.serviceSubnet) ?? []),
    ...(key === 'podCIDRs' ? b.kubeProxies.flatMap((x) => x.clusterCIDRs ?? []) : []),
  ].filter((x) => !x.defaulted);
  const canon = (v: string) => {
    const p = parsePrefix(v.trim());
    return p ? canonical(p) : v.trim();
  };
  const out: Record<string, Span[]> = {};
  used.forEach((u, i) => {
    const same = written.filter(
      (w) => canon(w.value) === canon(u.value) && (w.span.file !== u.span.file || w.span.start !== u.span.start),
    );
    if (same.length) out[`${key}.${i}`] = same.map((w) => w.span);
  });
  return out;
}

const key = (ranges: ConfigRanges) =>
  ranges
    .map((r) => {
      const p = parsePrefix(r.value.trim());
      return p ? canonical(p) : r.value.trim();
    })
    .sort()
    .join(',');

function conflicts(b: Drafts, kind: string, claims: readonly Claim[]): void {
  if (claims.length < 2) return;
  // The one used: a NetPath document wins, then the first configuration by place (claims are in that order).
  const used = claims[0];
  const usedKey = key(used.ranges);
  const text = (x: Claim) => x.ranges.map((r) => r.value.trim()).join(',');
  for (const other of claims.slice(1)) {
    if (key(other.ranges) === usedKey) continue;
    // Two kind configs that only take kind's defaults are two example clusters, not a disagreement anyone wrote.
    if (used.ranges[0]?.defaulted && other.ranges[0]?.defaulted) continue;
    const why = used.netpath
      ? 'a NetPath document wins over tool configurations'
      : 'of several configurations NetPath uses the first by file path and position';
    b.report(
      CONFIG_CONFLICT,
      'warning',
      `The ${kind} range of ${other.what} (${text(other)}) disagrees with ${used.what} (${text(used)}): NetPath uses ${text(used)} (${why}). Make them agree, or remove the one the cluster does not use.`,
      other.span,
      [{ span: used.span, message: `${used.what}: ${text(used)}` }],
    );
    b.report(
      CONFIG_CONFLICT,
      'warning',
      `The ${kind} range of ${used.what} (${text(used)}) disagrees with ${other.what} (${text(other)}); NetPath uses this one (${why}).`,
      used.span,
      [{ span: other.span, message: `${other.what}: ${text(other)}` }],
    );
  }
}

/** One configuration's word on kube-proxy's mode. */
interface ModeClaim {
  readonly what: string;
  readonly value: string;
  readonly span: Span;
}

/**
 * kube-proxy's mode, from the configurations that say it: the NetPath document (`cluster.kubeProxy.mode`), then
 * KubeProxyConfiguration `mode` (the first by place), then kind's `networking.kubeProxyMode` (kind writes it into the
 * KubeProxyConfiguration it generates). Every other one that says a different mode is reported at both places
 * (`k8s.config-conflict`). Undefined when none says it (kube-proxy's default, iptables).
 */
export function chooseProxyMode(
  b: Drafts,
  netpath: { readonly value: string; readonly span: Span } | undefined,
): { value: string; span: Span } | undefined {
  const claims: ModeClaim[] = [
    ...(netpath ? [{ what: 'the NetPath document (cluster.kubeProxy.mode)', ...netpath }] : []),
    ...[...b.kubeProxies].sort(byPlace).flatMap((x) => {
      const span = x.spans.mode;
      return x.mode && span ? [{ what: 'KubeProxyConfiguration mode', value: x.mode, span }] : [];
    }),
    ...[...b.clusterConfigs]
      .sort(byPlace)
      .flatMap((x) => (x.kubeProxyMode ? [{ what: 'kind Cluster networking.kubeProxyMode', ...x.kubeProxyMode }] : [])),
  ];
  const used = claims[0];
  if (!used) return undefined;
  const why = netpath
    ? 'a NetPath document wins over tool configurations'
    : 'kube-proxy’s own configuration wins over kind’s, and of several the first by file path and position';
  for (const other of claims.slice(1)) {
    if (other.value === used.value) continue;
    b.report(
      CONFIG_CONFLICT,
      'warning',
      `kube-proxy's mode of ${other.what} (${other.value}) disagrees with ${used.what} (${used.value}): NetPath uses ${used.value} (${why}). Make them agree, or remove the one the cluster does not use.`,
      other.span,
      [{ span: used.span, message: `${used.what}: ${used.value}` }],
    );
    b.report(
      CONFIG_CONFLICT,
      'warning',
      `kube-proxy's mode of ${used.what} (${used.value}) disagrees with ${other.what} (${other.value}); NetPath uses this one (${why}).`,
      used.span,
      [{ span: other.span, message: `${other.what}: ${other.value}` }],
    );
  }
  return { value: used.value, span: used.span };
}
