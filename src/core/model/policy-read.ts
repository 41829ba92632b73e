/**
 * Readers of `networking.k8s.io/v1` NetworkPolicy and `v1` Namespace objects. Pure functions from a YAML
 * map to model objects plus problems; they never throw. What the API server would refuse (an unknown
 * selector operator, a peer with an ipBlock and a selector, `endPort` without a numeric `port`) is reported
 * as `k8s.policy-invalid` and read so that it allows nothing, which is the closest a cluster gets to an
 * object it never stored.
 *
 * Field meanings follow the API reference (NetworkPolicySpec, NetworkPolicyPeer, NetworkPolicyPort, IPBlock,
 * LabelSelector) and the concept page https://kubernetes.io/docs/concepts/services-networking/network-policies/.
 */
import { NO_SPAN, problem, type Problem, type Span } from '../problem';
import { parsePrefix, prefixContains } from '../net/address';
import { get, getStr, int, list, map, str, stringMap, strings } from './read';
import type { YMap, YNode } from '../syntax/yaml';
import type {
  IPBlock,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  PolicyType,
  Protocol,
  SelectorOperator,
  SelectorRequirement,
} from './types';
import { isOneOf } from '../lookup';

/** The label the API server puts on every namespace (Kubernetes 1.22+; beta since 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** A Namespace's labels with the automatic name label, which always wins over a written one. */
export function namespaceLabels(name: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...labels, [NAMESPACE_NAME_LABEL]: name };
}

export function readNamespace(root: YMap): Namespace | undefined {
  const meta = get(root, 'metadata');
  const nameNode = get(meta, 'name');
  const name = str(nameNode);
  if (!name || !nameNode) return undefined;
  const labelsNode = get(meta, 'labels');
  return {
    name,
    labels: namespaceLabels(name, stringMap(labelsNode)),
    span: root.span,
    spans: { name: nameNode.span, ...(labelsNode ? { labels: labelsNode.span } : {}) },
    origin: 'Namespace',
  };
}

/** Reads a label selector; `fallback` is the span used when the selector is absent (an empty selector). */
export function readSelector(node: YNode | undefined, fallback: Span, problems: Problem[]): LabelSelector {
  const span = node?.span ?? fallback;
  let invalid = false;
  const bad = (message: string, at: Span): void => {
    invalid = true;
    problems.push(problem('k8s.policy-invalid', 'error', message, at));
  };
  if (node && node.kind !== 'map' && !(node.kind === 'scalar' && node.value === null)) {
    bad('A label selector must be a mapping (matchLabels, matchExpressions); this one matches nothing.', span);
  }
  const matchExpressions: SelectorRequirement[] = [];
  for (const e of list(get(node, 'matchExpressions'))) {
    const key = getStr(e, 'key');
    const opNode = get(e, 'operator');
    const op = str(opNode);
    const values = strings(get(e, 'values')).map((v) => v.value);
    if (!key) {
      bad('A selector expression needs a key; the API server refuses this selector, so it matches nothing.', e.span);
      continue;
    }
    if (!isOneOf(OPERATORS, op)) {
      bad(
        `Unknown selector operator '${op ?? '(none)'}': use In, NotIn, Exists or DoesNotExist. The API server refuses this selector, so it matches nothing.`,
        opNode?.span ?? e.span,
      );
      continue;
    }
    const operator = op;
    if ((operator === 'In' || operator === 'NotIn') && !values.length) {
      bad(`Operator ${operator} needs at least one value; the API server refuses this selector.`, e.span);
      continue;
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length) {
      bad(`Operator ${operator} takes no values; the API server refuses this selector.`, e.span);
      continue;
    }
    matchExpressions.push({ key, operator, values });
  }
  return {
    matchLabels: stringMap(get(node, 'matchLabels')),
    matchExpressions,
    span,
    ...(invalid ? { invalid: true as const } : {}),
  };
}

function protocolOf(node: YNode | undefined, problems: Problem[]): Protocol {
  const text = str(node);
  if (text === undefined) return 'TCP';
  if (text === 'TCP' || text === 'UDP' || text === 'SCTP') return text;
  problems.push(
    problem(
      'k8s.policy-invalid',
      'error',
      `Unknown protocol '${text}': NetworkPolicy ports take TCP, UDP or SCTP (case matters). Read as TCP.`,
      node?.span ?? NO_SPAN,
    ),
  );
  return 'TCP';
}

function readPort(node: YNode, problems: Problem[]): PolicyPort | undefined {
  const portNode = get(node, 'port');
  const endNode = get(node, 'endPort');
  const protocol = protocolOf(get(node, 'protocol'), problems);
  const num = int(portNode);
  const text = str(portNode);
  const port: number | string | undefined = num ?? (text && /^\d+$/.test(text) ? Number(text) : text);
  let endPort = int(endNode);
  if (typeof port === 'number' && (port < 1 || port > 65535)) {
    problems.push(
      problem('k8s.policy-invalid', 'error', `Port ${port} is not a port (1-65535).`, portNode?.span ?? node.span),
    );
  }
  if (endNode && endPort !== undefined) {
    if (typeof port !== 'number') {
      problems.push(
        problem(
          'k8s.policy-invalid',
          'error',
          'endPort needs a numeric port (a range cannot start at a named port); the API server refuses this. endPort is ignored.',
          endNode.span,
        ),
      );
      endPort = undefined;
    } else if (endPort < port || endPort > 65535) {
      problems.push(
        problem(
          'k8s.policy-invalid',
          'error',
          `endPort ${endPort} must be at least port ${port} and at most 65535; the API server refuses this. endPort is ignored.`,
          endNode.span,
        ),
      );
      endPort = undefined;
    }
  }
  return { protocol, port, endPort, span: node.span };
}

function readIPBlock(node: YNode, problems: Problem[]): IPBlock {
  const cidrNode = get(node, 'cidr');
  const cidr = str(cidrNode) ?? '';
  const except = strings(get(node, 'except'));
  const outer = parsePrefix(cidr);
  if (!outer) {
    problems.push(
      problem(
        'k8s.policy-invalid',
        'error',
        `ipBlock cidr '${cidr}' is not a CIDR (like 192.0.2.0/24); this peer matches nothing.`,
        cidrNode?.span ?? node.span,
      ),
    );
  }
  for (const e of except) {
    const inner = parsePrefix(e.value);
    if (!inner || (outer && (inner.family !== outer.family || !prefixContains(outer, inner)))) {
      problems.push(
        problem(
          'k8s.policy-invalid',
          'error',
          `except '${e.value}' must be a CIDR inside ${cidr}; the API server refuses this ipBlock.`,
          e.span,
        ),
      );
    }
  }
  return {
    cidr,
    except: except.map((e) => e.value),
    span: node.span,
    spans: {
      ...(cidrNode ? { cidr: cidrNode.span } : {}),
      ...Object.fromEntries(except.map((e, i) => [`except.${i}`, e.span])),
    },
  };
}

function readPeer(node: YNode, problems: Problem[]): PolicyPeer | undefined {
  const ps = get(node, 'podSelector');
  const nss = get(node, 'namespaceSelector');
  const ib = get(node, 'ipBlock');
  if (!ps && !nss && !ib) {
    problems.push(
      problem(
        'k8s.policy-invalid',
        'error',
        'A peer needs podSelector, namespaceSelector or ipBlock; the API server refuses an empty one. It matches nothing here.',
        node.span,
      ),
    );
    return undefined;
  }
  if (ib && (ps || nss)) {
    problems.push(
      problem(
        'k8s.policy-invalid',
        'error',
        'A peer with an ipBlock cannot also have podSelector or namespaceSelector; the API server refuses it. Write them as two peers (two list items) to allow either. This one matches nothing here.',
        node.span,
      ),
    );
    return undefined;
  }
  return {
    podSelector: ps ? readSelector(ps, ps.span, problems) : undefined,
    namespaceSelector: nss ? readSelector(nss, nss.span, problems) : undefined,
    ipBlock: ib ? readIPBlock(ib, problems) : undefined,
    span: node.span,
  };
}

function readRules(node: YNode | undefined, peerKey: 'from' | 'to', problems: Problem[]): PolicyRule[] {
  return list(node).map((r, index) => {
    const written = list(get(r, peerKey));
    const peers = written.flatMap((p) => readPeer(p, problems) ?? []);
    return {
      index,
      // Peers the API server would refuse match nothing; if every written peer was refused, the rule must not
      // turn into "from everywhere", so one peer that matches nothing stands in.
      peers: written.length && !peers.length ? [nothing(r.span)] : peers,
      ports: list(get(r, 'ports')).flatMap((p) => readPort(p, problems) ?? []),
      span: r.span,
    };
  });
}

/** A peer that matches nothing. */
function nothing(span: Span): PolicyPeer {
  return {
    podSelector: { matchLabels: {}, matchExpressions: [], span, invalid: true },
    namespaceSelector: undefined,
    ipBlock: undefined,
    span,
  };
}

export function readNetworkPolicy(root: YMap, problems: Problem[]): NetworkPolicy | undefined {
  const meta = get(root, 'metadata');
  const nameNode = get(meta, 'name');
  const name = str(nameNode);
  if (!name || !nameNode) return undefined;
  const namespace = getStr(meta, 'namespace') ?? 'default';
  const spec = map(get(root, 'spec'));
  const psNode = get(spec, 'podSelector');
  const podSelector = readSelector(psNode, spec?.span ?? root.span, problems);
  const ingress = readRules(get(spec, 'ingress'), 'from', problems);
  const egress = readRules(get(spec, 'egress'), 'to', problems);
  const typesNode = get(spec, 'policyTypes');
  const written = strings(typesNode);
  const policyTypes: PolicyType[] = [];
  for (const t of written) {
    if (t.value === 'Ingress' || t.value === 'Egress') {
      if (!policyTypes.includes(t.value)) policyTypes.push(t.value);
    } else {
      problems.push(
        problem(
          'k8s.policy-invalid',
          'error',
          `Unknown policyType '${t.value}': use Ingress or Egress (case matters).`,
          t.span,
        ),
      );
    }
  }
  const explicit = written.length > 0;
  // Defaulting (API reference, NetworkPolicySpec.policyTypes): Ingress always; Egress when there are egress rules.
  if (!explicit) {
    policyTypes.push('Ingress');
    if (egress.length) policyTypes.push('Egress');
  }
  return {
    name,
    namespace,
    id: `${namespace}/${name}`,
    podSelector,
    policyTypes,
    policyTypesExplicit: explicit,
    ingress,
    egress,
    span: root.span,
    spans: {
      name: nameNode.span,
      podSelector: psNode?.span ?? nameNode.span,
      ...(typesNode ? { policyTypes: typesNode.span } : {}),
      ...spanOf('ingress', get(spec, 'ingress')),
      ...spanOf('egress', get(spec, 'egress')),
    },
    origin: 'NetworkPolicy',
  };
}

function spanOf(key: string, node: YNode | undefined): Record<string, Span> {
  return node ? { [key]: node.span } : {};
}
