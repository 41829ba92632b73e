/**
 * kube-proxy's rules for one node: the model's Services and endpoints handed to the generator in
 * `src/core/kubeproxy`, once per IP family the cluster uses (kube-proxy runs one proxier per family).
 */
import {
  generateKubeProxyNftables,
  renderNftRuleset,
  renderNftTransaction,
  generateKubeProxyRules,
  generateKubeProxyTables,
  newGenerateMemo,
  type GenerateMemo,
  type GeneratedRules,
  type GeneratedTable,
  type KubeProxyInput,
  type LocalDetector,
  type NftTableOut,
  type EndpointInput,
  type ServiceInput,
  type ServicePortInput,
} from '../kubeproxy';
import type { Node, Service, Topology } from '../model/types';
import { addressFamily, ipv4Number, parsePrefix, type Family } from '../net/address';
import { cniViewOf } from '../cni';

const familyOf = (text: string): Family | undefined =>
  text.includes('/') ? parsePrefix(text)?.family : addressFamily(text);

function detector(t: Topology, node: Node, family: Family): LocalDetector {
  switch (t.cluster.kubeProxy.localDetector) {
    case 'ClusterCIDR':
      return { mode: 'ClusterCIDR', cidrs: t.cluster.podCIDRs.filter((c) => familyOf(c) === family) };
    case 'NodeCIDR':
      return { mode: 'NodeCIDR', cidrs: node.podCIDRs.filter((c) => familyOf(c) === family) };
    case 'BridgeInterface':
      return {
        mode: 'BridgeInterface',
        interface: t.cluster.kubeProxy.bridgeInterface ?? cniViewOf(node).bridge?.name ?? t.cluster.cni.bridge,
      };
    // The prefix kube-proxy was given, else the one the node's plug-in names its host veths with (Calico: cali).
    case 'InterfaceNamePrefix':
      return {
        mode: 'InterfaceNamePrefix',
        prefix: t.cluster.kubeProxy.interfaceNamePrefix ?? cniViewOf(node).hostVethPrefix ?? 'veth',
      };
    case 'None':
      return { mode: 'None' };
  }
}

/**
 * What all nodes' kube-proxy rules share within one data plane: a dual-stack node's merged tables. The Service input
 * and the generator's memo (chain hashes, each Service port's lines, whole outputs) go with the model instead (see
 * {@link modelShareOf}).
 */
export interface KubeProxyMemo {
  /**
   * A dual-stack node's tables, by its IPv4 and IPv6 outputs (the generator's, the same objects on nodes alike): so
   * alike nodes get the same object, by which node-rules.ts finds the ruleset it parsed for the first of them.
   */
  readonly merged: WeakMap<GeneratedRules, WeakMap<GeneratedRules, KubeProxyTables>>;
}

export const newKubeProxyMemo = (): KubeProxyMemo => ({ merged: new WeakMap() });

/**
 * kube-proxy's input and the generator's memo for one model, kept with its (immutable) Services list: every data
 * plane compiled for the model (the rules', then a trace's: `netpath trace` and the editor analyse first) hands the
 * generator the same input and gets the outputs generated for the data planes before, instead of generating every
 * Service port of the cluster again (10,000 Services and 150,000 endpoints at Kubernetes' limits).
 */
interface ModelShare {
  readonly services: Map<Family, readonly ServiceInput[]>;
  readonly generate: GenerateMemo;
}

const MODEL_SHARES = new WeakMap<readonly Service[], ModelShare>();

function modelShareOf(t: Topology): ModelShare {
  let share = MODEL_SHARES.get(t.services);
  if (!share) MODEL_SHARES.set(t.services, (share = { services: new Map(), generate: newGenerateMemo() }));
  return share;
}

/** The input kube-proxy on `node` would see for one family. */
export function kubeProxyInput(t: Topology, node: Node, family: Family): KubeProxyInput {
  const kp = t.cluster.kubeProxy;
  const share = modelShareOf(t);
  let services = share.services.get(family);
  if (!services) {
    services = serviceInput(t, family);
    share.services.set(family, services);
  }
  return {
    nodeName: node.name,
    family,
    nodeIPs: node.interfaces
      .flatMap((i) => i.addresses.map((a) => a.split('/')[0]))
      .filter((a) => familyOf(a) === family),
    localDetector: detector(t, node, family),
    masqueradeAll: kp.masqueradeAll,
    masqueradeBit: kp.masqueradeBit,
    nodePortAddresses: kp.nodePortAddresses,
    services,
  };
}

function serviceInput(t: Topology, family: Family): ServiceInput[] {
  return t.services.map((s) => serviceInputOf(s, family));
}

/**
 * Each Service as each family's proxier sees it, kept with the model's (immutable) Service: the data planes compiled
 * for one model (the rules', then a trace's: `netpath trace` analyses first) share one copy of its endpoints, not one
 * each (150,000 at Kubernetes' limits).
 */
const SERVICE_INPUTS: Record<Family, WeakMap<Service, ServiceInput>> = { 4: new WeakMap(), 6: new WeakMap() };

/** One Service as kube-proxy's proxier for `family` sees it (endpoints of that family only). */
function serviceInputOf(s: Service, family: Family): ServiceInput {
  // One map per family, not a map per Service (10,000s of them).
  const byService = SERVICE_INPUTS[family];
  let input = byService.get(s);
  if (!input) byService.set(s, (input = newServiceInput(s, family)));
  return input;
}

function newServiceInput(s: Service, family: Family): ServiceInput {
  const { endpoints, addresses, distinct } = endpointsOf(s, family);
  // Every field named, in one object of one shape per Service and per port: a spread into an object literal copied
  // through the engine's generic path, microseconds a Service at 10,000 of them. Indexed loops for the same reason.
  const nodePorts = s.type !== 'ClusterIP';
  const ports: ServicePortInput[] = [];
  for (let i = 0; i < s.ports.length; i++) {
    const p = s.ports[i];
    ports.push({
      name: p.name,
      protocol: p.protocol,
      port: p.port,
      nodePort: nodePorts && p.nodePort ? p.nodePort : undefined,
      targetPort: p.targetPort,
    });
  }
  let clusterIP: string | undefined;
  for (let i = 0; i < s.clusterIPs.length && clusterIP === undefined; i++)
    if (familyOf(s.clusterIPs[i]) === family) clusterIP = s.clusterIPs[i];
  const loadBalancer = s.type === 'LoadBalancer';
  return {
    namespace: s.namespace,
    name: s.name,
    clusterIP,
    ports,
    externalIPs: s.externalIPs,
    loadBalancerIPs: loadBalancer ? s.loadBalancerIPs : [],
    loadBalancerIPModes: loadBalancer ? s.loadBalancerIPModes : [],
    loadBalancerSourceRanges: s.loadBalancerSourceRanges,
    externalTrafficPolicy: s.externalTrafficPolicy,
    internalTrafficPolicy: s.internalTrafficPolicy,
    sessionAffinity: s.sessionAffinity,
    sessionAffinityTimeoutSeconds: s.sessionAffinityTimeoutSeconds,
    endpoints,
    endpointsFamily: addresses ? family : undefined,
    endpointsDistinct: addresses && distinct ? true : undefined,
  };
}

/** The IPv4 values of a Service's endpoints, reused from one Service to the next (grown to the largest). */
let endpointValues = new Float64Array(64);

/**
 * A Service's endpoints of one family, whether every one is an address (none written as a prefix, which the
 * generator would not take), and whether no two of them are the same address (IPv4 only: each a dotted quad with
 * nothing around it). The model's endpoints are kube-proxy's input as they are: the Service's own list when all are of
 * the family (a single-stack cluster), else those of it; never a copy of an endpoint (150,000 at Kubernetes' limits).
 */
function endpointsOf(
  s: Service,
  family: Family,
): { endpoints: readonly EndpointInput[]; addresses: boolean; distinct: boolean } {
  let addresses = true;
  let others = 0;
  const all = s.endpoints;
  if (endpointValues.length < all.length) endpointValues = new Float64Array(all.length);
  const values = endpointValues;
  let v4 = 0;
  // Indexed: 150,000 endpoints at Kubernetes' limits, read once per model before this loop is optimised.
  for (let i = 0; i < all.length; i++) {
    const ip = all[i].ip;
    // A dotted quad (nearly every endpoint): its family and its value from one scan of its characters, the value
    // kept to find two endpoints of one address by number (the generator would otherwise hash every address text).
    const value = ipv4Number(ip);
    if (value >= 0) {
      if (family === 4) values[v4++] = value;
      else others++;
      continue;
    }
    // familyOf, with the one look for a prefix this loop needs as well.
    const prefix = ip.includes('/');
    if (prefix) addresses = false;
    if ((prefix ? parsePrefix(ip)?.family : addressFamily(ip)) !== family) others++;
  }
  const endpoints = others ? all.filter((e) => familyOf(e.ip) === family) : all;
  // Every endpoint a dotted quad as written (one spelling per address): distinct values are distinct texts.
  const distinct = family === 4 && v4 === endpoints.length && distinctValues(values, v4);
  return { endpoints, addresses, distinct };
}

/** Whether the first `n` of `values` are all different: most lists come in order, the others are sorted. */
function distinctValues(values: Float64Array, n: number): boolean {
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = values[i - 1] < values[i];
  if (ascending) return true;
  const sorted = values.subarray(0, n).sort();
  for (let i = 1; i < n; i++) if (sorted[i - 1] === sorted[i]) return false;
  return true;
}

/**
 * The `ip kube-proxy` / `ip6 kube-proxy` tables kube-proxy in nftables mode writes on node `nodeName` for this one
 * Service (one per family of its cluster IPs): the generator's own output, so whoever names the Service's chains,
 * map elements and endpoint chains from it names what Show Node Rules and the kernel lab load. Only the Service's
 * objects depend on it; the node's addresses and local-traffic detector, which the shared objects need, are left out.
 */
export function kubeProxyNftablesOfService(t: Topology, s: Service, nodeName: string): NftTableOut[] {
  const families = [...new Set(s.clusterIPs.map(familyOf).filter((f): f is Family => f !== undefined))].sort();
  return families.map((family) =>
    generateKubeProxyNftables({
      nodeName,
      family,
      nodeIPs: [],
      localDetector: { mode: 'None' },
      masqueradeAll: t.cluster.kubeProxy.masqueradeAll,
      masqueradeBit: t.cluster.kubeProxy.masqueradeBit,
      services: [serviceInputOf(s, family)],
    }),
  );
}

/** The families the cluster runs: those of its pod and service CIDRs (IPv4 when none parse). */
export function clusterFamilies(t: Topology): Family[] {
  const fams = new Set<Family>();
  for (const c of [...t.cluster.podCIDRs, ...t.cluster.serviceCIDRs]) {
    const f = familyOf(c);
    if (f) fams.add(f);
  }
  return fams.size ? [...fams].sort() : [4];
}

export function kubeProxyRules(t: Topology, node: Node): string {
  return clusterFamilies(t)
    .map((f) => generateKubeProxyRules(kubeProxyInput(t, node, f), modelShareOf(t).generate))
    .join('');
}

/** The lines of {@link kubeProxyRules} by table (the families' lines one after the other), without building the text. */
export function kubeProxyTables(t: Topology, node: Node, memo: KubeProxyMemo = newKubeProxyMemo()): KubeProxyTables {
  const gens = clusterFamilies(t).map((f) =>
    generateKubeProxyTables(kubeProxyInput(t, node, f), modelShareOf(t).generate),
  );
  if (gens.length === 1) return gens[0];
  const [first, second] = gens;
  const known = gens.length === 2 ? memo.merged.get(first)?.get(second) : undefined;
  if (known) return known;
  // The lines themselves are joined only for a reader of them: the generator makes a Service chain's text when read.
  const merge = (pick: (g: GeneratedRules) => GeneratedTable): GeneratedTable => {
    let chains: string[] | undefined;
    let rules: string[] | undefined;
    return {
      get chains(): string[] {
        return (chains ??= gens.flatMap((g) => pick(g).chains));
      },
      get rules(): string[] {
        return (rules ??= gens.flatMap((g) => pick(g).rules));
      },
      names: gens.flatMap((g) => pick(g).names),
      runs: gens.flatMap((g) => pick(g).runs),
    };
  };
  const merged = { filter: merge((g) => g.filter), nat: merge((g) => g.nat) };
  if (gens.length === 2) {
    let bySecond = memo.merged.get(first);
    if (!bySecond) memo.merged.set(first, (bySecond = new WeakMap()));
    bySecond.set(second, merged);
  }
  return merged;
}

/** kube-proxy's iptables-mode lines on a node, by table (both families' in a dual-stack cluster). */
export interface KubeProxyTables {
  readonly filter: GeneratedTable;
  readonly nat: GeneratedTable;
}

/**
 * kube-proxy's nftables-mode tables on `node` (`ip kube-proxy`, and `ip6 kube-proxy` on a dual-stack cluster), as
 * `nft list ruleset` lays them out and `nft -f` reads them.
 */
export function kubeProxyNftablesText(t: Topology, node: Node): string {
  return clusterFamilies(t)
    .map((f) =>
      renderNftRuleset(
        generateKubeProxyNftables({ ...kubeProxyInput(t, node, f), serviceCIDRs: t.cluster.serviceCIDRs }),
      ),
    )
    .join('');
}

/**
 * The same tables as kube-proxy itself hands them to nft: one `add …` line per object, rule and element. nft merges
 * what kube-proxy writes (an address inside a range of the same anonymous set), so loading this and listing it gives
 * {@link kubeProxyNftablesText}, while loading that listing again need not reproduce it.
 */
export function kubeProxyNftablesTransaction(t: Topology, node: Node): string {
  return clusterFamilies(t)
    .flatMap((f) =>
      renderNftTransaction(
        generateKubeProxyNftables({ ...kubeProxyInput(t, node, f), serviceCIDRs: t.cluster.serviceCIDRs }),
      ),
    )
    .map((line) => `${line}\n`)
    .join('');
}
