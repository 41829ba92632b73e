/**
 * fast-check generators of small clusters with NetworkPolicies, built as model objects directly (the reader
 * is tested on YAML elsewhere). Labels come from a small vocabulary so selectors often match.
 */
import fc from 'fast-check';
import type {
  LabelSelector,
  Namespace,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  PolicyType,
  Topology,
} from '../../../src/core/model/types';
import { namespaceLabels } from '../../../src/core/model/policy-read';
import { lab } from './lab';

const SPAN = { file: '/gen.yaml', start: 0, end: 0 };
const BASE = lab('').topology;
export const NAMESPACES = ['a', 'b', 'c'];
const KEYS = ['app', 'tier', 'env'];
const VALUES = ['x', 'y'];
export const PORTS = [53, 80, 8080];

const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 });

export const selectorArb: fc.Arbitrary<LabelSelector> = fc.record({
  matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 1 }),
  matchExpressions: fc.array(
    fc.oneof(
      fc.record({
        key: fc.constantFrom(...KEYS),
        operator: fc.constantFrom('In' as const, 'NotIn' as const),
        values: fc.subarray(VALUES, { minLength: 1 }),
      }),
      fc.record({
        key: fc.constantFrom(...KEYS),
        operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
        values: fc.constant([] as string[]),
      }),
    ),
    { maxLength: 1 },
  ),
  span: fc.constant(SPAN),
});

const peerArb: fc.Arbitrary<PolicyPeer> = fc.oneof(
  fc.record({
    podSelector: fc.option(selectorArb, { nil: undefined }),
    namespaceSelector: fc.option(selectorArb, { nil: undefined }),
    ipBlock: fc.constant(undefined),
    span: fc.constant(SPAN),
  }),
  fc.record({
    podSelector: fc.constant(undefined),
    namespaceSelector: fc.constant(undefined),
    ipBlock: fc.record({
      cidr: fc.constantFrom('10.244.1.0/24', '10.244.1.0/28', '192.168.56.0/24', '0.0.0.0/0'),
      except: fc.subarray(['10.244.1.4/30', '10.244.1.0/29']),
      span: fc.constant(SPAN),
      spans: fc.constant({}),
    }),
    span: fc.constant(SPAN),
  }),
);

const portArb: fc.Arbitrary<PolicyPort> = fc.record({
  protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
  port: fc.option(fc.oneof(fc.constantFrom(...PORTS), fc.constantFrom('web', 'dns')), { nil: undefined }),
  endPort: fc.constant(undefined),
  span: fc.constant(SPAN),
});

export const ruleArb: fc.Arbitrary<Omit<PolicyRule, 'index'>> = fc.record({
  peers: fc.array(peerArb, { maxLength: 2 }),
  ports: fc.array(portArb, { maxLength: 2 }),
  span: fc.constant(SPAN),
});

const policyArb = (i: number): fc.Arbitrary<NetworkPolicy> =>
  fc
    .record({
      namespace: fc.constantFrom(...NAMESPACES),
      podSelector: selectorArb,
      types: fc.subarray(['Ingress', 'Egress'] as PolicyType[], { minLength: 1 }),
      ingress: fc.array(ruleArb, { maxLength: 2 }),
      egress: fc.array(ruleArb, { maxLength: 2 }),
    })
    .map(({ namespace, podSelector, types, ingress, egress }) => ({
      name: `p${i}`,
      namespace,
      id: `${namespace}/p${i}`,
      podSelector,
      policyTypes: types,
      policyTypesExplicit: true,
      ingress: ingress.map((r, index) => ({ ...r, index })),
      egress: egress.map((r, index) => ({ ...r, index })),
      span: SPAN,
      spans: {},
      origin: 'NetworkPolicy' as const,
    }));

const podArb = (i: number): fc.Arbitrary<Pod> =>
  fc
    .record({
      namespace: fc.constantFrom(...NAMESPACES),
      labels: labelsArb,
      hostNetwork: fc.boolean().map((b) => b && i % 5 === 4),
      named: fc.subarray(['web', 'dns']),
    })
    .map(({ namespace, labels, hostNetwork, named }) => ({
      name: `pod${i}`,
      namespace,
      id: `${namespace}/pod${i}`,
      node: 'node1',
      ips: [hostNetwork ? '192.168.56.11' : `10.244.1.${i + 2}`],
      hostVeth: `veth${i}`,
      hostNetwork,
      labels,
      containers: [
        {
          name: 'c',
          ports: named.map((n) => ({
            name: n,
            containerPort: n === 'web' ? 8080 : 53,
            protocol: 'TCP' as const,
            span: SPAN,
            spans: {},
            origin: 'netpath' as const,
          })),
          span: SPAN,
          spans: {},
          origin: 'netpath' as const,
        },
      ],
      span: SPAN,
      spans: {},
      origin: 'netpath' as const,
    }));

export interface Generated {
  readonly topology: Topology;
}

export const clusterArb: fc.Arbitrary<Topology> = fc
  .record({
    nsLabels: fc.tuple(labelsArb, labelsArb, labelsArb),
    podCount: fc.integer({ min: 2, max: 8 }),
    policyCount: fc.integer({ min: 0, max: 4 }),
  })
  .chain(({ nsLabels, podCount, policyCount }) =>
    fc
      .record({
        pods: fc.tuple(...Array.from({ length: podCount }, (_, i) => podArb(i))),
        policies: policyCount
          ? fc.tuple(...Array.from({ length: policyCount }, (_, i) => policyArb(i)))
          : fc.constant([]),
      })
      .map(({ pods, policies }) => {
        const namespaces: Namespace[] = NAMESPACES.map((name, i) => ({
          name,
          labels: namespaceLabels(name, nsLabels[i]),
          span: SPAN,
          spans: {},
          origin: 'Namespace' as const,
        }));
        return { ...BASE, pods, namespaces, networkPolicies: policies, services: [] };
      }),
  );

/** Every (src, dst, proto, port) the properties look at: all pod pairs plus the node and an outside address. */
export function connections(t: Topology): { src: string; dst: string; proto: 'TCP' | 'UDP'; port: number }[] {
  const ips = [...t.pods.map((p) => p.ips[0]), '192.168.56.11', '192.168.56.100'];
  const out: { src: string; dst: string; proto: 'TCP' | 'UDP'; port: number }[] = [];
  for (const src of ips)
    for (const dst of ips)
      for (const port of PORTS) for (const proto of ['TCP', 'UDP'] as const) out.push({ src, dst, proto, port });
  return out;
}
