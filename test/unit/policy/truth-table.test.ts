/**
 * Whole-cluster truth tables: every pod pair of the lab, per port, under a realistic set of policies
 * (default deny in prod with DNS egress, a web tier, a database only the web tier reaches, a dev namespace
 * that only talks to itself). Each table is checked against the pairwise evaluator and the class matrix.
 */
import assert from 'node:assert/strict';
import { PolicyIndex } from '../../../src/core/policy/evaluate';
import { Reachability } from '../../../src/core/policy/reach';
import { IP, lab, policy } from './lab';

const POLICIES = [
  policy('prod', 'default-deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]'),
  policy(
    'prod',
    'allow-dns',
    [
      'podSelector: {}',
      'policyTypes: [Egress]',
      'egress:',
      '  - to:',
      '      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}',
      '        podSelector: {matchLabels: {k8s-app: kube-dns}}',
      '    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]',
    ].join('\n'),
  ),
  policy(
    'prod',
    'web-ingress',
    'podSelector: {matchLabels: {app: web}}\ningress:\n  - from: [{namespaceSelector: {}}]\n    ports: [{port: http}]',
  ),
  policy(
    'prod',
    'db-ingress',
    'podSelector: {matchLabels: {app: db}}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5432}]',
  ),
  policy(
    'prod',
    'web-egress',
    'podSelector: {matchLabels: {app: web}}\npolicyTypes: [Egress]\negress:\n  - to: [{podSelector: {matchLabels: {app: db}}}]\n    ports: [{port: pg}]',
  ),
  policy(
    'prod',
    'client-egress',
    'podSelector: {matchLabels: {app: client}}\npolicyTypes: [Egress]\negress:\n  - to: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]',
  ),
  policy('dev', 'same-namespace', 'podSelector: {}\ningress:\n  - from: [{podSelector: {}}]'),
].join('');

const PODS = ['web', 'db', 'client', 'tester', 'runner', 'dns'] as const;
const NS: Record<(typeof PODS)[number], string> = {
  web: 'prod',
  db: 'prod',
  client: 'prod',
  tester: 'dev',
  runner: 'dev',
  dns: 'kube-system',
};

/** Rows are sources, columns destinations, in PODS order: `x` allowed, `.` blocked. */
const TABLES: readonly { proto: 'TCP' | 'UDP'; port: number; rows: readonly string[] }[] = [
  {
    proto: 'TCP',
    port: 8080,
    rows: [
      'x.....', // web: egress only to DNS and the database
      '.x....', // db
      'x.x...', // client -> web
      'x..xxx', // tester: web admits the cluster on http; dev admits itself; DNS is not isolated
      'x..xxx', // runner
      'x....x', // dns: dev admits only its own namespace
    ],
  },
  {
    proto: 'UDP',
    port: 53,
    rows: [
      'x....x', // web -> DNS
      '.x...x',
      '..x..x',
      '...xxx', // web's ingress is for http only
      '...xxx',
      '.....x',
    ],
  },
  {
    proto: 'TCP',
    port: 5432,
    rows: [
      'xx....', // web -> db: named port pg resolved on the database pod, db admits app=web on 5432
      '.x....',
      '..x...',
      '...xxx', // db admits only app=web of its own namespace
      '...xxx',
      '.....x',
    ],
  },
];

describe('NetworkPolicy whole-cluster truth tables', () => {
  const { topology, problems } = lab(POLICIES);
  it('the policies read without problems', () => assert.deepEqual(problems, []));
  const index = new PolicyIndex(topology);
  const reach = new Reachability(topology, {
    ports: TABLES.map((t) => ({ protocol: t.proto, port: t.port })),
    from: (p) => p.id !== 'kube-system/agent',
  });
  TABLES.forEach((table, k) => {
    it(`${table.proto}/${table.port}: the evaluator and the matrix give the table`, () => {
      const actual = PODS.map((src) =>
        PODS.map((dst) =>
          index.evaluate({ src: IP[src], dst: IP[dst], proto: table.proto, port: table.port }).allowed ? 'x' : '.',
        ).join(''),
      );
      assert.deepEqual(actual, table.rows);
      const fromMatrix = PODS.map((src) =>
        PODS.map((dst) => (reach.podAllowed(`${NS[src]}/${src}`, `${NS[dst]}/${dst}`, k) ? 'x' : '.')).join(''),
      );
      assert.deepEqual(fromMatrix, table.rows);
    });
  });
  it('leaves the hostNetwork pod out of the matrix and says why', () => {
    assert.deepEqual(reach.matrix.omitted, [{ pod: 'kube-system/agent', why: 'host-network' }]);
  });
  it('explains a blocked cell by the isolating policies and an allowed one by its rule', () => {
    const group = (pod: string): number => reach.matrix.groups.findIndex((g) => g.pods.includes(pod));
    const blocked = reach.explain(group('dev/tester'), group('prod/db'), 2);
    assert.equal(blocked?.allowed, false);
    assert.deepEqual(
      blocked?.ingress.policies.map((p) => p.id),
      ['prod/db-ingress', 'prod/default-deny'],
    );
    const allowed = reach.explain(group('prod/web'), group('prod/db'), 2);
    assert.deepEqual(
      allowed?.egress.allowedBy.map((r) => `${r.policy} egress[${r.index}]`),
      ['prod/web-egress egress[0]'],
    );
    assert.deepEqual(
      allowed?.ingress.allowedBy.map((r) => `${r.policy} ingress[${r.index}]`),
      ['prod/db-ingress ingress[0]'],
    );
  });
});
