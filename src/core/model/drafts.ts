/**
 * What each source says, collected before merging (`merge.ts`): drafts of nodes, pods, Services and the tool
 * configurations, plus the problems found so far. Readers (`netpath-documents.ts`, `kubernetes.ts`) add to it.
 */
import { problem, type Problem, type Span } from '../problem';
import type { YMap } from '../syntax/yaml';
import type { CniNetworkDraft } from './cni-config';
import type {
  Container,
  External,
  Interface,
  FlannelSettings,
  IPPool,
  LoadBalancerIPMode,
  Namespace,
  Network,
  NetworkPolicy,
  Origin,
  Pod,
  Protocol,
  Route,
  Service,
  Workload,
} from './types';

export type Spans = Record<string, Span>;

/** What one source says about a node; merged later. */
export interface NodeDraft {
  name: string;
  span: Span;
  spans: Spans;
  origin: Origin;
  interfaces?: Interface[];
  /** Node addresses without a prefix length (Kubernetes status.addresses). */
  k8sAddresses?: { value: string; span: Span }[];
  podCIDRs?: { value: string; span: Span }[];
  /** The node's CNI plug-in (`cni:`). */
  cni?: string;
  bridge?: YMap;
  routes?: Route[];
  iptables?: { text: string; span: Span };
  nftables?: { text: string; span: Span };
  ipMasq?: boolean;
}

export interface ServiceDraft {
  svc: Omit<Service, 'endpoints' | 'endpointSource' | 'pending'>;
  set: Set<string>;
  /** A NetPath Service's `loadBalancerIPMode`: over a Service object, it gives the object's ingress IPs their mode. */
  loadBalancerIPMode?: LoadBalancerIPMode;
  explicitEndpoints?: {
    ip: string;
    node?: string;
    port?: number;
    ready: boolean;
    serving: boolean;
    terminating: boolean;
    span: Span;
  }[];
}

export interface SliceDraft {
  service: string; // namespace/name
  /** An EndpointSlice, or a legacy v1 Endpoints object (used only when the Service has no EndpointSlice). */
  kind: 'EndpointSlice' | 'Endpoints';
  endpoints: {
    ip: string;
    node?: string;
    pod?: string;
    ready: boolean;
    serving: boolean;
    terminating: boolean;
    span: Span;
  }[];
  ports: { name: string; port: number; protocol: Protocol }[];
}

/** A range list a tool configuration gives, with each value's span; `defaulted`: the tool's default, not written. */
export type ConfigRanges = { value: string; span: Span; defaulted?: true }[];

export interface KubeProxyDraft {
  clusterCIDRs?: ConfigRanges;
  masqueradeAll?: boolean;
  masqueradeBit?: number;
  detectLocalMode?: string;
  /** `detectLocal.interfaceNamePrefix` and `detectLocal.bridgeInterface`, as written. */
  interfaceNamePrefix?: string;
  bridgeInterface?: string;
  /** `mode` as written (iptables, nftables, ipvs, or anything else). */
  mode?: string;
  nodePortAddresses?: { value: string; span: Span }[];
  span: Span;
  spans: Spans;
}

export interface ClusterConfigDraft {
  podSubnet?: ConfigRanges;
  serviceSubnet?: ConfigRanges;
  /** kubeadm's apiServer extraArgs service-node-port-range, when written and valid. */
  nodePortRange?: { min: number; max: number; span: Span };
  /** kind's `networking.kubeProxyMode` as written (iptables, nftables, ipvs, none, or anything else). */
  kubeProxyMode?: { value: string; span: Span };
  span: Span;
  origin: Origin;
}

/**
 * Objects one file may hold: YAML documents, and the items of a `kind: List`. A whole cluster at Kubernetes' tested
 * limits (5,000 nodes, 150,000 pods, 10,000 Services: sig-scalability thresholds) dumped into one file with
 * `kubectl get -o yaml` is 165,000; past 200,000 a file is no cluster's (a few bytes per empty document would
 * otherwise make millions of them from one file under the size limit).
 */
export const MAX_OBJECTS_PER_FILE = 200000;

/** Every draft of the files read so far. */
export class Drafts {
  readonly problems: Problem[] = [];
  topologyName: string | undefined;
  clusterNode: YMap | undefined;
  clusterSpan: Span | undefined;
  networks: Network[] = [];
  nodes = new Map<string, NodeDraft[]>();
  /**
   * The first pod read of each id, in the order read. `finish` puts each id's merged pod in its place, and the map
   * is then the model's pods by id (pods-by-id.ts): one map of 150,000 pods at 5,000 nodes, not two.
   */
  pods = new Map<string, Pod>();
  /**
   * Every draft, in the order read, of the pods more than one source describes (a NetPath pod refining a Pod object);
   * most pods have one, and no list (a list each was 150,000 lists at 5,000 nodes).
   */
  podDrafts = new Map<string, Pod[]>();
  services = new Map<string, ServiceDraft[]>();
  externals: External[] = [];
  slices: SliceDraft[] = [];
  /** Workloads by `kind/namespace/name`. */
  workloads = new Map<string, Workload>();
  /** Every KubeProxyConfiguration read; the first by file path and offset is used (`merge.ts`). */
  kubeProxies: KubeProxyDraft[] = [];
  /** Every kubeadm ClusterConfiguration and kind Cluster read; the first by file path and offset is used. */
  clusterConfigs: ClusterConfigDraft[] = [];
  kubeProxy: KubeProxyDraft | undefined;
  clusterConfig: ClusterConfigDraft | undefined;
  masqAgent: { nonMasqueradeCIDRs: string[]; masqLinkLocal: boolean; span: Span; spans: Spans } | undefined;
  namespaces = new Map<string, Namespace>();
  policies = new Map<string, NetworkPolicy>();
  /** CNI network configurations (conflists, .conf files, the JSON in ConfigMaps), in the order read. */
  cniNetworks: CniNetworkDraft[] = [];
  /** flannel net-conf.json ConfigMaps, with their namespace. */
  flannelConfigs: { flannel: FlannelSettings; namespace: string }[] = [];
  /** Calico IPPools. */
  ipPools: IPPool[] = [];
  /** kind's networking.disableDefaultCNI of every kind Cluster read (the one used is the first cluster config). */
  kindCni: { disabled: boolean; span: Span; config: Span }[] = [];
  /**
   * The last list of containers kept, by its first container's name: the next pod (or pod template) whose containers
   * read alike shares it (fields.ts `readContainers`).
   */
  sharedContainers = new Map<string, readonly Container[]>();
  /** File texts by path (embedded JSON in ConfigMaps maps its spans back onto the file's lines). */
  texts: ReadonlyMap<string, string> = new Map();

  /** Objects (YAML documents and List items) the file being read may still add; see {@link MAX_OBJECTS_PER_FILE}. */
  objectsLeft = MAX_OBJECTS_PER_FILE;

  /**
   * Counts one object of the file being read: false once past the bound (the first one past it is reported, at its
   * span: asked for only then, as a List item's span is made on request).
   */
  takeObject(object: { readonly span: Span }): boolean {
    if (this.objectsLeft-- > 0) return true;
    if (this.objectsLeft === -1)
      this.report(
        'file.too-many-objects',
        'warning',
        `More than ${MAX_OBJECTS_PER_FILE} objects (YAML documents and List items) in one file: NetPath reads the first ${MAX_OBJECTS_PER_FILE}; this one and every one after it are left out.`,
        object.span,
      );
    return false;
  }

  report(
    code: string,
    severity: Problem['severity'],
    message: string,
    span: Span,
    related: Problem['related'] = [],
  ): void {
    this.problems.push(problem(code, severity, message, span, related));
  }

  addNode(d: NodeDraft): void {
    const list = this.nodes.get(d.name) ?? [];
    const sameOrigin = list.find((x) => x.origin === d.origin);
    if (sameOrigin) {
      this.report('name.duplicate', 'error', `Node '${d.name}' is defined twice.`, d.spans.name ?? d.span, [
        { span: sameOrigin.spans.name ?? sameOrigin.span, message: 'first definition' },
      ]);
      return;
    }
    list.push(d);
    this.nodes.set(d.name, list);
  }

  addPod(pod: Pod): void {
    const known = this.pods.get(pod.id);
    // The common case, a pod met for the first time: one lookup, no search, no list.
    if (!known) {
      this.pods.set(pod.id, pod);
      return;
    }
    const list = this.podDrafts.get(pod.id) ?? [known];
    const sameOrigin = list.find((x) => x.origin === pod.origin);
    if (sameOrigin) {
      this.report('name.duplicate', 'error', `Pod '${pod.id}' is defined twice.`, pod.spans.name ?? pod.span, [
        { span: sameOrigin.spans.name ?? sameOrigin.span, message: 'first definition' },
      ]);
      return;
    }
    list.push(pod);
    this.podDrafts.set(pod.id, list);
  }

  addService(d: ServiceDraft): void {
    const list = this.services.get(d.svc.id) ?? [];
    const sameOrigin = list.find((x) => x.svc.origin === d.svc.origin);
    if (sameOrigin) {
      this.report(
        'name.duplicate',
        'error',
        `Service '${d.svc.id}' is defined twice.`,
        d.svc.spans.name ?? d.svc.span,
        [{ span: sameOrigin.svc.spans.name ?? sameOrigin.svc.span, message: 'first definition' }],
      );
      return;
    }
    list.push(d);
    this.services.set(d.svc.id, list);
  }
}
