/**
 * Names checked as Kubernetes checks them (k8s.io/apimachinery/pkg/util/validation), each at its line:
 * `name.invalid` for an object name against its kind's rule (DNS-1123 subdomain for most kinds, DNS-1035 label
 * for Services, DNS-1123 label for Namespaces), a namespace, a container name, a port name, and label keys and
 * values (in metadata, pod templates and selectors). The API server refuses such objects, and a name with control
 * characters or a newline is how a repository would attack a terminal, so NetPath says so where it is written.
 */
import { problem, type Problem } from '../problem';
import { get, getPath, type YMap, type YNode } from '../syntax/yaml';
import { resolvePlain } from '../syntax/plain';
import { escapeControls } from '../syntax/escape';
import { lookupTable } from '../lookup';
import { collectionAt, scalarAt } from './read';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 labels joined by dots: one test, no array of parts per name. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** The protocols a container port may name (case matters). */
const PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP', 'SCTP']);

type Check = (value: string) => string | undefined;

const dns1123Label: Check = (v) =>
  v.length > 63
    ? 'must be no more than 63 characters'
    : LABEL.test(v)
      ? undefined
      : "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit";

const dns1035Label: Check = (v) =>
  v.length > 63
    ? 'must be no more than 63 characters'
    : LABEL_1035.test(v)
      ? undefined
      : "must be a DNS-1035 label: lower case letters, digits and '-', starting with a letter and ending with a letter or digit";

const dns1123Subdomain: Check = (v) =>
  v.length > 253
    ? 'must be no more than 253 characters'
    : SUBDOMAIN.test(v)
      ? undefined
      : "must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', each part starting and ending with a letter or digit";

const portName: Check = (v) =>
  v.length > 15
    ? 'must be no more than 15 characters'
    : !IANA_SVC_NAME.test(v) || v.includes('--')
      ? "must be lower case letters, digits and single '-', starting and ending with a letter or digit"
      : /[a-z]/.test(v)
        ? undefined
        : 'must contain at least one letter';

const labelKey: Check = (v) => {
  const slash = v.indexOf('/');
  const prefix = slash >= 0 ? v.slice(0, slash) : undefined;
  const name = slash >= 0 ? v.slice(slash + 1) : v;
  if (prefix !== undefined && (prefix === '' || dns1123Subdomain(prefix)))
    return 'has a prefix that is not a DNS-1123 subdomain';
  if (name.length > 63) return 'has a name part longer than 63 characters';
  return QUALIFIED_NAME.test(name)
    ? undefined
    : "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit (with an optional DNS subdomain prefix and '/')";
};

/** A scalar as a message shows it: its source text, control characters escaped, at most 40 characters. */
function displayed(node: YNode): string {
  const text =
    node.kind === 'scalar' ? node.source || String(node.value) : node.kind === 'map' ? 'a mapping' : 'a list';
  const clean = escapeControls(text);
  return `'${clean.length > 40 ? `${clean.slice(0, 40)}…` : clean}'`;
}

const labelValue: Check = (v) =>
  v === '' || (v.length <= 63 && QUALIFIED_NAME.test(v))
    ? undefined
    : v.length > 63
      ? 'must be no more than 63 characters'
      : "must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

/** The rule for `metadata.name` by kind (kinds NetPath reads; others are not checked). */
const NAME_RULE: Record<string, Check> = lookupTable({
  Pod: dns1123Subdomain,
  Node: dns1123Subdomain,
  Service: dns1035Label,
  Namespace: dns1123Label,
  EndpointSlice: dns1123Subdomain,
  Endpoints: dns1123Subdomain,
  ConfigMap: dns1123Subdomain,
  NetworkPolicy: dns1123Subdomain,
  Deployment: dns1123Subdomain,
  ReplicaSet: dns1123Subdomain,
  StatefulSet: dns1123Subdomain,
  DaemonSet: dns1123Subdomain,
  Job: dns1123Subdomain,
  CronJob: dns1123Subdomain,
  ReplicationController: dns1123Subdomain,
});

/** The lists of a pod spec whose containers' names and ports are checked. */
const CONTAINER_LISTS = ['containers', 'initContainers'] as const;

/**
 * Every name is checked: a check is one pass over a short string, so even a 150,000-pod List costs little, and a cap
 * would silently leave the names past it unchecked.
 */
class Checker {
  /**
   * The value each check last passed: most pods of a cluster share their container name, port name and label key,
   * so 150,000 of each are one test and string comparisons (a check's answer depends on the value alone). Kept per
   * document checked, not for good: a value may be a slice that holds its whole file.
   */
  private readonly lastPassed = new Map<Check, string>();

  constructor(private readonly problems: Problem[]) {}

  /** `check(value)`, at once for the value it last passed. */
  private test(check: Check, value: string): string | undefined {
    if (this.lastPassed.get(check) === value) return undefined;
    const why = check(value);
    if (why === undefined) this.lastPassed.set(check, value);
    return why;
  }

  /**
   * Whether entry `i` of `map` is a value kept as text (see nodes.ts) that `check` accepts or that is no string
   * (neither is reported): then no node needs to be made for it.
   */
  private passes(map: YMap, i: number, check: Check): boolean {
    const plain = map.plainAt(i);
    if (plain === undefined) return false;
    const value = resolvePlain(plain);
    return typeof value !== 'string' || this.test(check, value) === undefined;
  }

  /** The value of `key` in the mapping `parent`, as {@link value} checks it (a value kept as text that passes makes no node). */
  field(parent: YNode | undefined, key: string, what: string, check: Check): void {
    if (parent?.kind !== 'map') return;
    for (let i = 0; i < parent.size; i++)
      if (parent.keyAt(i) === key) {
        this.fieldAt(parent, i, what, check);
        return;
      }
  }

  /** {@link field} of entry `i` of `map` (nothing for -1). */
  private fieldAt(map: YMap, i: number, what: string, check: Check): void {
    if (i >= 0 && !this.passes(map, i, check)) this.value(map.valueAt(i), what, check);
  }

  value(node: YNode | undefined, what: string, check: Check): void {
    if (node?.kind !== 'scalar' || typeof node.value !== 'string') return;
    const why = this.test(check, node.value);
    if (why)
      this.problems.push(
        problem('name.invalid', 'error', `${what} '${node.value}' ${why}; Kubernetes refuses it.`, node.span),
      );
  }

  labels(node: YNode | undefined, what: string): void {
    if (node?.kind !== 'map') return;
    for (let i = 0; i < node.size; i++) {
      const key = node.keyAt(i);
      const why = this.test(labelKey, key);
      if (why)
        this.problems.push(
          problem(
            'name.invalid',
            'error',
            `${what} key '${key}' ${why}; Kubernetes refuses it.`,
            node.entryAt(i).keySpan,
          ),
        );
      // The check before the message: no "<what> value of '<key>'" string is built for a label that passes, and no
      // node is made for a value kept as text that passes.
      if (this.passes(node, i, labelValue)) continue;
      const v = node.valueAt(i);
      if (v.kind !== 'scalar' || typeof v.value !== 'string') continue;
      const bad = this.test(labelValue, v.value);
      if (bad)
        this.problems.push(
          problem(
            'name.invalid',
            'error',
            `${what} value of '${key}' '${v.value}' ${bad}; Kubernetes refuses it.`,
            v.span,
          ),
        );
    }
  }

  containers(spec: YNode | undefined, kubernetes = false): void {
    for (const key of CONTAINER_LISTS) this.containerList(get(spec, key), kubernetes);
  }

  /** The containers of one list of a pod spec (`containers` or `initContainers`). */
  private containerList(list: YNode | undefined, kubernetes: boolean): void {
    if (list?.kind !== 'seq') return;
    // Indexed (once per pod: see netpath).
    const containers = list.items;
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i];
      this.field(c, 'name', 'Container name', dns1123Label);
      const ports = get(c, 'ports');
      if (ports?.kind === 'seq')
        for (let k = 0; k < ports.items.length; k++) this.field(ports.items[k], 'name', 'Port name', portName);
      if (kubernetes && ports?.kind === 'seq') this.containerPorts(ports.items);
    }
  }

  /**
   * A NetPath pod's names, in the order {@link field}, {@link labels} and {@link containers} would check them, from
   * one walk of its fields (the first entry of each, as they find it): a topology's pods are most of its names, and a
   * walk per field was five walks of every pod.
   */
  private netpathPod(p: YNode): void {
    if (p.kind !== 'map') return;
    let nameAt = -1;
    let namespaceAt = -1;
    let labelsAt = -1;
    let containersAt = -1;
    let initContainersAt = -1;
    const size = p.size;
    for (let i = 0; i < size; i++) {
      switch (p.keyAt(i)) {
        case 'name':
          if (nameAt < 0) nameAt = i;
          break;
        case 'namespace':
          if (namespaceAt < 0) namespaceAt = i;
          break;
        case 'labels':
          if (labelsAt < 0) labelsAt = i;
          break;
        case 'containers':
          if (containersAt < 0) containersAt = i;
          break;
        case 'initContainers':
          if (initContainersAt < 0) initContainersAt = i;
          break;
      }
    }
    this.fieldAt(p, nameAt, 'Pod name', dns1123Subdomain);
    this.fieldAt(p, namespaceAt, 'Namespace', dns1123Label);
    // A value kept as text is no mapping nor list: neither check reads it, so no node is made for it.
    this.labels(collectionAt(p, labelsAt), 'Label');
    this.containerList(collectionAt(p, containersAt), false);
    this.containerList(collectionAt(p, initContainersAt), false);
  }

  /**
   * The API server's validateContainerPorts (pkg/apis/core/validation): containerPort present and 1-65535, hostPort
   * 1-65535 when set, protocol TCP, UDP or SCTP (case matters), and no port name twice in one container. NetPath's
   * own documents get the same checks from the schema.
   */
  containerPorts(ports: readonly YNode[]): void {
    // Named ports seen so far in this container; made only when a second named port needs the comparison.
    let first: string | undefined;
    let names: Set<string> | undefined;
    // Each field by index, its value read as scalarAt reads it: a node is made only for a field reported.
    for (const p of ports) {
      if (p.kind !== 'map') continue;
      const containerPortAt = p.indexOf('containerPort');
      if (containerPortAt < 0) this.portProblem(p, 'A container port needs containerPort');
      this.portNumber('containerPort', p, containerPortAt);
      this.portNumber('hostPort', p, p.indexOf('hostPort'));
      const protocolAt = p.indexOf('protocol');
      const protocol = scalarAt(p, protocolAt);
      if (protocol !== undefined && !PROTOCOLS.has(String(protocol))) {
        const node = p.valueAt(protocolAt);
        this.portProblem(node, `protocol ${displayed(node)} is not one of TCP, UDP, SCTP (upper case)`);
      }
      const nameAt = p.indexOf('name');
      const name = scalarAt(p, nameAt);
      if (typeof name === 'string' && name) {
        if (first === undefined) first = name;
        else {
          names ??= new Set([first]);
          if (names.has(name))
            this.portProblem(p.valueAt(nameAt), `Port name '${name}' is used twice in this container`);
          names.add(name);
        }
      }
    }
  }

  private portProblem(node: YNode, message: string): void {
    this.problems.push(problem('k8s.pod-invalid', 'error', `${message}; the API server rejects it.`, node.span));
  }

  /** A container port's number field, entry `i` of the port (-1: not written; `hostPort: 0` means none). */
  private portNumber(key: 'containerPort' | 'hostPort', port: YMap, i: number): void {
    if (i < 0) return;
    const v = scalarAt(port, i);
    if (key === 'hostPort' && v === 0) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      const node = port.valueAt(i);
      this.portProblem(node, `${key} ${displayed(node)} must be a number from 1 to 65535`);
    }
  }

  servicePorts(ports: YNode | undefined): void {
    if (ports?.kind === 'seq') for (const p of ports.items) this.field(p, 'name', 'Service port name', dns1123Label);
  }

  kubernetes(root: YNode, kind: string | undefined, depth = 0): void {
    if (kind === 'List') {
      const items = get(root, 'items');
      if (items?.kind === 'seq' && depth < 4)
        for (const item of items.items) {
          const k = item.kind === 'map' ? scalarAt(item, item.indexOf('kind')) : undefined;
          this.kubernetes(item, k === undefined ? undefined : String(k), depth + 1);
        }
      return;
    }
    const rule = kind ? NAME_RULE[kind] : undefined;
    if (!rule) return;
    const metadata = get(root, 'metadata');
    this.field(metadata, 'name', `${kind} name`, rule);
    this.field(metadata, 'namespace', 'Namespace', dns1123Label);
    this.labels(get(metadata, 'labels'), 'Label');
    const spec = get(root, 'spec');
    if (kind === 'Pod') this.containers(spec, true);
    if (kind === 'Service') {
      this.labels(get(spec, 'selector'), 'Selector');
      this.servicePorts(get(spec, 'ports'));
    }
    const template = kind === 'CronJob' ? getPath(spec, 'jobTemplate', 'spec', 'template') : get(spec, 'template');
    if (template) {
      this.labels(getPath(template, 'metadata', 'labels'), 'Pod template label');
      this.containers(get(template, 'spec'), true);
      this.labels(getPath(spec, 'selector', 'matchLabels'), 'Selector');
    }
  }

  netpath(root: YNode): void {
    const list = (key: string) => {
      const n = get(root, key);
      return n?.kind === 'seq' ? n.items : [];
    };
    // Indexed loops over the lists of thousands: each runs once, mostly before the engine optimises it, and there a
    // for-of makes an object per step.
    const nodes = list('nodes');
    for (let i = 0; i < nodes.length; i++) this.field(nodes[i], 'name', 'Node name', dns1123Subdomain);
    const pods = list('pods');
    for (let i = 0; i < pods.length; i++) this.netpathPod(pods[i]);
    for (const s of list('services')) {
      this.field(s, 'name', 'Service name', dns1035Label);
      this.field(s, 'namespace', 'Namespace', dns1123Label);
      this.labels(get(s, 'selector'), 'Selector');
      this.servicePorts(get(s, 'ports'));
    }
  }
}

/** Checks the names of one document: a NetPath document's pods, Services and nodes, or a Kubernetes object. */
export function checkNames(root: YNode, netpath: boolean, kind: string | undefined, problems: Problem[]): void {
  const checker = new Checker(problems);
  if (netpath) checker.netpath(root);
  else checker.kubernetes(root, kind);
}
