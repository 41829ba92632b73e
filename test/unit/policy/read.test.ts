import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { lab, policy } from './lab';

/** What `kubectl get netpol,ns -A -o yaml` prints: a List with server-set fields NetPath ignores. */
const DUMP = `apiVersion: v1
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    creationTimestamp: "2026-11-30T09:12:44Z"
    labels:
      kubernetes.io/metadata.name: shop
      team: payments
    name: shop
    resourceVersion: "512"
    uid: 4f7c1d2e-0000-4000-8000-000000000001
  spec:
    finalizers:
    - kubernetes
  status:
    phase: Active
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy"}
    creationTimestamp: "2026-11-30T09:13:02Z"
    generation: 1
    name: api-allow
    namespace: shop
    resourceVersion: "530"
    uid: 4f7c1d2e-0000-4000-8000-000000000002
  spec:
    egress:
    - ports:
      - port: 53
        protocol: UDP
      - port: 53
        protocol: TCP
      to:
      - namespaceSelector:
          matchLabels:
            kubernetes.io/metadata.name: kube-system
        podSelector:
          matchLabels:
            k8s-app: kube-dns
    ingress:
    - from:
      - ipBlock:
          cidr: 172.17.0.0/16
          except:
          - 172.17.1.0/24
      - namespaceSelector:
          matchExpressions:
          - key: team
            operator: In
            values:
            - payments
      ports:
      - endPort: 8100
        port: 8000
        protocol: TCP
      - port: http
        protocol: TCP
    podSelector:
      matchLabels:
        app: api
    policyTypes:
    - Ingress
    - Egress
kind: List
metadata:
  resourceVersion: ""
`;

describe('reading NetworkPolicy and Namespace objects', () => {
  it('reads a kubectl get -o yaml dump: namespaces with labels, policies with every kind of peer and port', () => {
    const { topology, problems } = buildTopology([{ path: '/c/dump.yaml', text: DUMP }]);
    assert.deepEqual(problems, []);
    const shop = topology.namespaces.find((n) => n.name === 'shop');
    assert.deepEqual(shop?.labels, { 'kubernetes.io/metadata.name': 'shop', team: 'payments' });
    const [p] = topology.networkPolicies;
    assert.equal(p.id, 'shop/api-allow');
    assert.deepEqual(p.policyTypes, ['Ingress', 'Egress']);
    assert.equal(p.policyTypesExplicit, true);
    assert.deepEqual(p.podSelector.matchLabels, { app: 'api' });
    assert.equal(p.ingress.length, 1);
    const [block, ns] = p.ingress[0].peers;
    assert.deepEqual(block.ipBlock && { cidr: block.ipBlock.cidr, except: block.ipBlock.except }, {
      cidr: '172.17.0.0/16',
      except: ['172.17.1.0/24'],
    });
    assert.deepEqual(ns.namespaceSelector?.matchExpressions, [{ key: 'team', operator: 'In', values: ['payments'] }]);
    assert.equal(ns.podSelector, undefined);
    assert.deepEqual(
      p.ingress[0].ports.map((x) => [x.protocol, x.port, x.endPort]),
      [
        ['TCP', 8000, 8100],
        ['TCP', 'http', undefined],
      ],
    );
    const dns = p.egress[0].peers[0];
    assert.ok(dns.namespaceSelector && dns.podSelector, 'namespaceSelector and podSelector in one peer');
    assert.deepEqual(
      p.egress[0].ports.map((x) => [x.protocol, x.port]),
      [
        ['UDP', 53],
        ['TCP', 53],
      ],
    );
    // Spans point into the file: the rule's span starts at its first key.
    assert.equal(DUMP.slice(p.spans.name.start, p.spans.name.end), 'api-allow');
    assert.match(DUMP.slice(p.ingress[0].span.start, p.ingress[0].span.end), /^from:/);
  });

  it('gives every namespace the automatic kubernetes.io/metadata.name label, which a written one cannot change', () => {
    const { topology } = buildTopology([
      {
        path: '/c/ns.yaml',
        text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {kubernetes.io/metadata.name: b, x: y}}\n',
      },
    ]);
    assert.deepEqual(topology.namespaces[0].labels, { 'kubernetes.io/metadata.name': 'a', x: 'y' });
  });

  it('implies a namespace for pods, Services and policies without a Namespace object', () => {
    const { topology } = lab('');
    const names = topology.namespaces.map((n) => `${n.name}:${n.origin}`).sort();
    assert.deepEqual(names, ['dev:Namespace', 'kube-system:default', 'prod:Namespace']);
    assert.deepEqual(topology.namespaces.find((n) => n.name === 'kube-system')?.labels, {
      'kubernetes.io/metadata.name': 'kube-system',
    });
  });

  it('defaults policyTypes: Ingress, plus Egress only with egress rules', () => {
    const { topology } = lab(
      policy('prod', 'a', 'podSelector: {}') +
        policy('prod', 'b', 'podSelector: {}\negress: [{}]') +
        policy('prod', 'c', 'podSelector: {}\negress: []'),
    );
    assert.deepEqual(
      topology.networkPolicies.map((p) => [p.name, p.policyTypes, p.policyTypesExplicit]),
      [
        ['a', ['Ingress'], false],
        ['b', ['Ingress', 'Egress'], false],
        ['c', ['Ingress'], false],
      ],
    );
  });

  it('reports what the API server would refuse as k8s.policy-invalid, at the offending node', () => {
    const text = policy(
      'prod',
      'bad',
      [
        'podSelector: {matchExpressions: [{key: app, operator: Equals, values: [x]}]}',
        'policyTypes: [ingress]',
        'ingress:',
        '  - from:',
        '      - ipBlock: {cidr: 10.0.0.0/8}',
        '        podSelector: {}',
        '      - {}',
        '    ports:',
        '      - {port: http, endPort: 90}',
        '      - {protocol: tcp, port: 80}',
        '      - {port: 90, endPort: 80}',
        '  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]',
      ].join('\n'),
    );
    const { topology, problems } = lab(text);
    const found = problems.map((p) => [p.code, text.slice(p.span.start, p.span.end).split('\n')[0]]);
    assert.deepEqual(found, [
      ['k8s.policy-invalid', 'Equals'],
      ['k8s.policy-invalid', 'ipBlock: {cidr: 10.0.0.0/8}'],
      ['k8s.policy-invalid', '{}'],
      ['k8s.policy-invalid', '90'],
      ['k8s.policy-invalid', 'tcp'],
      ['k8s.policy-invalid', '80'],
      ['k8s.policy-invalid', '192.168.0.0/16'],
      ['k8s.policy-invalid', 'ingress'],
    ]);
    const p = topology.networkPolicies[0];
    assert.equal(p.podSelector.invalid, true);
    // Both peers of the first rule were refused: the rule must not allow every source.
    assert.equal(p.ingress[0].peers.length, 1);
    assert.equal(p.ingress[0].peers[0].podSelector?.invalid, true);
  });
});
