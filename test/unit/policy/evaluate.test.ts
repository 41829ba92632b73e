/**
 * Table-driven tests of every NetworkPolicy rule NetPath evaluates. Each row cites the Kubernetes
 * documentation or API reference it follows.
 */
import assert from 'node:assert/strict';
import { PolicyIndex } from '../../../src/core/policy/evaluate';
import type { PolicyOptions, PolicyVerdict } from '../../../src/core/policy/types';
import { IP, lab, policy } from './lab';

const DOC = 'https://kubernetes.io/docs/concepts/services-networking/network-policies/';
const API = 'https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/';
const LABELS = 'https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

interface Row {
  readonly rule: string;
  readonly cite: string;
  readonly policies: string;
  readonly from: keyof typeof IP;
  readonly to: keyof typeof IP;
  readonly proto?: 'TCP' | 'UDP' | 'SCTP' | 'ICMP';
  readonly port?: number | null;
  readonly options?: Partial<PolicyOptions>;
  readonly allowed: boolean;
  /** Further facts a user would read in the trace step. */
  readonly check?: (v: PolicyVerdict) => void;
}

const DENY_INGRESS_PROD = policy('prod', 'deny-ingress', 'podSelector: {}\npolicyTypes: [Ingress]');
const DENY_EGRESS_PROD = policy('prod', 'deny-egress', 'podSelector: {}\npolicyTypes: [Egress]');
const webFrom = (from: string, ports = ''): string =>
  policy('prod', 'web-from', `podSelector: {matchLabels: {app: web}}\ningress:\n  - from:\n${from}${ports}`);

const ROWS: readonly Row[] = [
  // Isolation.
  {
    rule: 'no policy selects the pod: it is not isolated and everything is allowed',
    cite: `${DOC}#the-two-sorts-of-pod-isolation`,
    policies: '',
    from: 'tester',
    to: 'web',
    port: 8080,
    allowed: true,
    check: (v) => {
      assert.equal(v.egress.exempt, 'not-isolated');
      assert.equal(v.ingress.exempt, 'not-isolated');
    },
  },
  {
    rule: 'a policy selecting the pod for Ingress with no rules denies all ingress',
    cite: `${DOC}#default-deny-all-ingress-traffic`,
    policies: DENY_INGRESS_PROD,
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: false,
    check: (v) => {
      assert.deepEqual(
        v.ingress.policies.map((p) => p.id),
        ['prod/deny-ingress'],
      );
      assert.equal(v.ingress.exempt, null);
      assert.equal(v.egress.allowed, true);
    },
  },
  {
    rule: 'an Ingress-only policy does not isolate egress',
    cite: `${DOC}#the-two-sorts-of-pod-isolation`,
    policies: DENY_INGRESS_PROD,
    from: 'web',
    to: 'tester',
    port: 80,
    allowed: true,
  },
  {
    rule: 'a policy selecting the pod for Egress with no rules denies all egress',
    cite: `${DOC}#default-deny-all-egress-traffic`,
    policies: DENY_EGRESS_PROD,
    from: 'web',
    to: 'tester',
    port: 80,
    allowed: false,
    check: (v) =>
      assert.deepEqual(
        v.egress.policies.map((p) => p.id),
        ['prod/deny-egress'],
      ),
  },
  {
    rule: 'policyTypes defaults to Ingress when not given',
    cite: `${API}#NetworkPolicySpec`,
    policies: policy('prod', 'no-types', 'podSelector: {}'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'policyTypes defaults to Ingress and Egress when the policy has egress rules',
    cite: `${API}#NetworkPolicySpec`,
    policies: policy(
      'prod',
      'egress-db',
      'podSelector: {matchLabels: {app: web}}\negress:\n  - to: [{podSelector: {matchLabels: {app: db}}}]',
    ),
    from: 'web',
    to: 'tester',
    port: 80,
    allowed: false,
    check: (v) =>
      assert.deepEqual(
        v.egress.policies.map((p) => p.id),
        ['prod/egress-db'],
      ),
  },
  {
    rule: 'an empty egress list does not make the defaulted policyTypes include Egress',
    cite: `${API}#NetworkPolicySpec`,
    policies: policy('prod', 'empty-egress', 'podSelector: {}\negress: []'),
    from: 'web',
    to: 'tester',
    port: 80,
    allowed: true,
  },
  {
    rule: 'ingress rules of a policy whose policyTypes is only Egress do not isolate ingress',
    cite: `${API}#NetworkPolicySpec`,
    policies: policy(
      'prod',
      'egress-only',
      'podSelector: {}\npolicyTypes: [Egress]\negress: [{}]\ningress:\n  - from: [{podSelector: {matchLabels: {app: db}}}]',
    ),
    from: 'tester',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: "policies are additive: the union of the selecting policies' rules is allowed",
    cite: `${DOC}#the-two-sorts-of-pod-isolation`,
    policies:
      policy(
        'prod',
        'from-client',
        'podSelector: {matchLabels: {app: web}}\ningress:\n  - from: [{podSelector: {matchLabels: {app: client}}}]',
      ) +
      policy(
        'prod',
        'from-db',
        'podSelector: {matchLabels: {tier: front}}\ningress:\n  - from: [{podSelector: {matchLabels: {app: db}}}]',
      ),
    from: 'db',
    to: 'web',
    port: 8080,
    allowed: true,
    check: (v) => {
      assert.deepEqual(
        v.ingress.policies.map((p) => p.id),
        ['prod/from-client', 'prod/from-db'],
      );
      assert.deepEqual(
        v.ingress.allowedBy.map((r) => `${r.policy}#${r.direction}[${r.index}]`),
        ['prod/from-db#ingress[0]'],
      );
    },
  },
  {
    rule: 'a connection needs egress allowed at the source and ingress allowed at the destination',
    cite: `${DOC}#the-two-sorts-of-pod-isolation`,
    policies: DENY_EGRESS_PROD,
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: false,
    check: (v) => {
      assert.equal(v.egress.allowed, false);
      assert.equal(v.ingress.allowed, true);
    },
  },
  // Peers.
  {
    rule: "a podSelector peer alone selects pods in the policy's own namespace",
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - podSelector: {matchLabels: {app: client}}\n'),
    from: 'tester',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'a podSelector peer matches a pod of the same namespace',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - podSelector: {matchLabels: {app: client}}\n'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'a namespaceSelector peer alone selects every pod of the matching namespaces',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - namespaceSelector: {matchLabels: {env: development}}\n'),
    from: 'runner',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: "a namespaceSelector peer does not match pods of other namespaces, the policy's own included",
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - namespaceSelector: {matchLabels: {env: development}}\n'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'namespaceSelector and podSelector in one peer: both must match (AND)',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom(
      '      - namespaceSelector: {matchLabels: {env: development}}\n        podSelector: {matchLabels: {app: client}}\n',
    ),
    from: 'runner',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'namespaceSelector and podSelector in one peer: a pod matching both is allowed',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom(
      '      - namespaceSelector: {matchLabels: {env: development}}\n        podSelector: {matchLabels: {app: client}}\n',
    ),
    from: 'tester',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'namespaceSelector and podSelector as two peers: either matches (OR)',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom(
      '      - namespaceSelector: {matchLabels: {env: development}}\n      - podSelector: {matchLabels: {app: client}}\n',
    ),
    from: 'runner',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'every namespace carries kubernetes.io/metadata.name, Namespace object or not',
    cite: `${DOC}#targeting-a-namespace-by-its-name`,
    policies: webFrom('      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n'),
    from: 'dns',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'the automatic name label is on namespaces with a Namespace object too',
    cite: `${DOC}#targeting-a-namespace-by-its-name`,
    policies: webFrom('      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}\n'),
    from: 'runner',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'matchExpressions In',
    cite: LABELS,
    policies: webFrom(
      '      - namespaceSelector: {matchExpressions: [{key: env, operator: In, values: [development, staging]}]}\n',
    ),
    from: 'runner',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'matchExpressions NotIn holds for a namespace without the key',
    cite: LABELS,
    policies: webFrom(
      '      - namespaceSelector: {matchExpressions: [{key: env, operator: NotIn, values: [development]}]}\n',
    ),
    from: 'dns',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'matchExpressions Exists',
    cite: LABELS,
    policies: webFrom('      - namespaceSelector: {matchExpressions: [{key: env, operator: Exists}]}\n'),
    from: 'dns',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'matchExpressions DoesNotExist, ANDed with matchLabels',
    cite: LABELS,
    policies: webFrom(
      '      - podSelector: {matchLabels: {app: db}, matchExpressions: [{key: tier, operator: DoesNotExist}]}\n',
    ),
    from: 'db',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'an empty peer list (ingress: [{}]) allows every source, addresses outside the cluster too',
    cite: `${DOC}#allow-all-ingress-traffic`,
    policies: DENY_INGRESS_PROD + policy('prod', 'allow-all', 'podSelector: {}\ningress: [{}]'),
    from: 'laptop',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'pod selectors never match an address that is no pod',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - namespaceSelector: {}\n'),
    from: 'laptop',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'ipBlock allows the addresses in its cidr',
    cite: `${API}#IPBlock`,
    policies: webFrom('      - ipBlock: {cidr: 192.168.56.0/24}\n'),
    from: 'laptop',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'ipBlock except removes addresses from the cidr',
    cite: `${API}#IPBlock`,
    policies: webFrom('      - ipBlock: {cidr: 192.168.56.0/24, except: [192.168.56.96/28]}\n'),
    from: 'laptop',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'ipBlock egress to an address outside the cluster',
    cite: `${DOC}#networkpolicy-resource`,
    policies: policy(
      'prod',
      'egress-lan',
      'podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to: [{ipBlock: {cidr: 192.168.56.96/28}}]',
    ),
    from: 'web',
    to: 'laptop',
    port: 22,
    allowed: true,
  },
  {
    rule: 'ipBlock matches pod IPs by default (as the upstream conformance tests expect)',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - ipBlock: {cidr: 10.244.2.0/24}\n'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'with ipBlockPodIPs: ignore, ipBlock does not match pod IPs (plugins that judge pods by identity)',
    cite: `${DOC}#behavior-of-to-and-from-selectors`,
    policies: webFrom('      - ipBlock: {cidr: 10.244.2.0/24}\n'),
    from: 'client',
    to: 'web',
    port: 8080,
    options: { ipBlockPodIPs: 'ignore' },
    allowed: false,
  },
  // Ports.
  {
    rule: 'a numeric port allows that port',
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{port: 8080, protocol: TCP}]'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'a numeric port does not allow another port',
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{port: 8080, protocol: TCP}]'),
    from: 'client',
    to: 'web',
    port: 9090,
    allowed: false,
  },
  {
    rule: 'protocol defaults to TCP',
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{port: 8080}]'),
    from: 'client',
    to: 'web',
    proto: 'UDP',
    port: 8080,
    allowed: false,
  },
  {
    rule: "a named port is resolved on the destination pod's containers (ingress)",
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{port: metrics}]'),
    from: 'client',
    to: 'web',
    port: 9090,
    allowed: true,
  },
  {
    rule: 'a named port does not allow a port of another name',
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{port: metrics}]'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'a named port in an egress rule is resolved on the destination pod',
    cite: `${API}#NetworkPolicyPort`,
    policies: policy(
      'prod',
      'web-egress',
      'podSelector: {matchLabels: {app: web}}\npolicyTypes: [Egress]\negress:\n  - ports: [{port: pg}]',
    ),
    from: 'web',
    to: 'db',
    port: 5432,
    allowed: true,
  },
  {
    rule: 'a named port in an egress rule matches nothing on a destination without that port name',
    cite: `${API}#NetworkPolicyPort`,
    policies: policy(
      'prod',
      'web-egress',
      'podSelector: {matchLabels: {app: web}}\npolicyTypes: [Egress]\negress:\n  - ports: [{port: pg}]',
    ),
    from: 'web',
    to: 'laptop',
    port: 5432,
    allowed: false,
  },
  {
    rule: 'endPort allows the range port..endPort',
    cite: `${DOC}#targeting-a-range-of-ports`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{protocol: TCP, port: 8000, endPort: 8100}]'),
    from: 'client',
    to: 'web',
    port: 8100,
    allowed: true,
  },
  {
    rule: 'endPort: a port past the range is not allowed',
    cite: `${DOC}#targeting-a-range-of-ports`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{protocol: TCP, port: 8000, endPort: 8100}]'),
    from: 'client',
    to: 'web',
    port: 8101,
    allowed: false,
  },
  {
    rule: 'a port entry with only a protocol allows every port of it',
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{protocol: UDP}]'),
    from: 'client',
    to: 'web',
    proto: 'UDP',
    port: 4000,
    allowed: true,
  },
  {
    rule: 'SCTP is matched as its own protocol',
    cite: `${API}#NetworkPolicyPort`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{protocol: SCTP, port: 9999}]'),
    from: 'client',
    to: 'web',
    proto: 'SCTP',
    port: 9999,
    allowed: true,
  },
  {
    rule: 'a rule without ports allows every port and protocol',
    cite: `${API}#NetworkPolicyIngressRule`,
    policies: webFrom('      - podSelector: {}\n'),
    from: 'client',
    to: 'web',
    proto: 'SCTP',
    port: 1,
    allowed: true,
  },
  {
    rule: 'ICMP (no port) is allowed by a rule without ports only',
    cite: `${DOC}#networkpolicy-resource`,
    policies: webFrom('      - podSelector: {}\n', '    ports: [{port: 8080}]'),
    from: 'client',
    to: 'web',
    proto: 'ICMP',
    port: null,
    allowed: false,
  },
  // hostNetwork, the node, the pod itself.
  {
    rule: 'a hostNetwork pod is selected by no policy',
    cite: `${DOC}#networkpolicy-and-hostnetwork-pods`,
    policies: policy('kube-system', 'deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]'),
    from: 'agent',
    to: 'laptop',
    port: 443,
    allowed: true,
    check: (v) => assert.equal(v.egress.exempt, 'host-network'),
  },
  {
    rule: "a hostNetwork pod is matched by no pod selector: its traffic is its node's",
    cite: `${DOC}#networkpolicy-and-hostnetwork-pods`,
    policies: webFrom('      - namespaceSelector: {}\n        podSelector: {}\n'),
    from: 'agent',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'traffic from the node where the pod runs is always allowed',
    cite: `${DOC}#networkpolicy-resource`,
    policies: DENY_INGRESS_PROD,
    from: 'node1',
    to: 'web',
    port: 8080,
    allowed: true,
    check: (v) => assert.equal(v.ingress.exempt, 'own-node'),
  },
  {
    rule: "the node's bridge address counts as the node",
    cite: `${DOC}#networkpolicy-resource`,
    policies: DENY_INGRESS_PROD,
    from: 'node1bridge',
    to: 'web',
    port: 8080,
    allowed: true,
  },
  {
    rule: 'traffic from another node is judged like any address',
    cite: `${DOC}#networkpolicy-resource`,
    policies: DENY_INGRESS_PROD,
    from: 'node2',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: "with nodeTraffic: policy, the pod's own node is judged like any address",
    cite: `${DOC}#networkpolicy-resource`,
    policies: DENY_INGRESS_PROD,
    from: 'node1',
    to: 'web',
    port: 8080,
    options: { nodeTraffic: 'policy' },
    allowed: false,
  },
  {
    rule: 'a pod cannot block traffic to itself',
    cite: `${DOC}#networkpolicy-resource`,
    policies: DENY_INGRESS_PROD + DENY_EGRESS_PROD,
    from: 'web',
    to: 'web',
    port: 8080,
    allowed: true,
    check: (v) => assert.equal(v.ingress.exempt, 'same-pod'),
  },
  {
    rule: 'a selector the API server would refuse matches nothing',
    cite: LABELS,
    policies: webFrom('      - podSelector: {matchExpressions: [{key: app, operator: Equals, values: [client]}]}\n'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: false,
  },
  {
    rule: 'a policy in another namespace does not isolate the pod',
    cite: `${DOC}#the-two-sorts-of-pod-isolation`,
    policies: policy('dev', 'deny-all', 'podSelector: {}\npolicyTypes: [Ingress]'),
    from: 'client',
    to: 'web',
    port: 8080,
    allowed: true,
  },
];

describe('NetworkPolicy evaluation (table)', () => {
  for (const row of ROWS) {
    it(`${row.rule} [${row.cite}]`, () => {
      const { topology } = lab(row.policies);
      const index = new PolicyIndex(topology, row.options);
      const verdict = index.evaluate({
        src: IP[row.from],
        dst: IP[row.to],
        proto: row.proto ?? 'TCP',
        port: row.port === undefined ? 80 : row.port,
      });
      assert.equal(verdict.allowed, row.allowed, JSON.stringify({ egress: verdict.egress, ingress: verdict.ingress }));
      row.check?.(verdict);
    });
  }
});
