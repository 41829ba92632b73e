/** name.invalid: names checked as Kubernetes checks them, per kind, at their line. */
import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';

const at = (text: string) =>
  analyse([{ path: '/n.yaml', text }])
    .diagnostics.filter((d) => d.code === 'name.invalid')
    .map((d) => text.slice(d.span.start, d.span.end));

const pod = (name: string, extra = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${JSON.stringify(name)}\n  namespace: default\n${extra}spec:\n  containers: [{name: app}]\n`;

describe('model: names as Kubernetes validates them', () => {
  const cases: [string, string, string[]][] = [
    ['a valid Pod name (subdomain, dots allowed)', pod('web-1.v2'), []],
    ['an upper-case Pod name', pod('Web'), ['"Web"']],
    ['a Pod name with an escape sequence', pod('a\u001b[2Jb'), ['"a\\u001b[2Jb"']],
    ['a Pod name with a newline', pod('a\nb'), ['"a\\nb"']],
    ['a Pod name of 254 characters', pod('a'.repeat(254)), [JSON.stringify('a'.repeat(254))]],
    [
      'a Service name with a dot (DNS-1035 label)',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: web.v2\nspec:\n  ports: [{port: 80}]\n',
      ['web.v2'],
    ],
    [
      'a Service name starting with a digit',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n',
      ['1web'],
    ],
    ['a Namespace with a dot', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team.a\n', ['team.a']],
    [
      'label keys and values',
      pod('p', '  labels: {app.kubernetes.io/name: web, -bad: x, ok: "-bad", example.com/: y}\n'),
      ['-bad', '"-bad"', 'example.com/'],
    ],
    [
      'container and port names',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: App\n      ports: [{name: http--alt, containerPort: 80}, {name: "8080", containerPort: 8080}, {name: metrics, containerPort: 9090}]\n',
      ['App', 'http--alt', '"8080"'],
    ],
    [
      'a Service selector and port names',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: "a b"}\n  ports: [{name: HTTP, port: 80}]\n',
      ['"a b"', 'HTTP'],
    ],
    [
      "a Deployment's template labels and containers",
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: "we b"}}\n    spec: {containers: [{name: c_1}]}\n',
      ['"we b"', 'c_1'],
    ],
    [
      'items of a List',
      'apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Pod, metadata: {name: Bad}, spec: {containers: [{name: a}]}}\n',
      ['Bad'],
    ],
    [
      'pods, Services and nodes of a NetPath document',
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\nnodes: [{name: Node_1}]\npods: [{name: p, namespace: NS, labels: {app: x}}]\nservices: [{name: svc.a, ports: [{port: 80}]}]\n',
      ['Node_1', 'NS', 'svc.a'],
    ],
    [
      "a NetPath pod's names in any order, the first of a name written twice, and no list written as text",
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\npods:\n' +
        '  - {containers: [{name: App, ports: [{name: P_1, containerPort: 80}]}], labels: {-k: v}, namespace: N_S, name: Pod_A, name: Pod_B, initContainers: [{name: Init_C}]}\n' +
        '  - {name: ok, labels: Scalar_Labels, containers: Not_A_List}\n',
      ['App', 'P_1', '-k', 'N_S', 'Pod_A', 'Init_C'],
    ],
    ['kinds NetPath does not read are not checked', 'apiVersion: v1\nkind: Secret\nmetadata: {name: Whatever}\n', []],
  ];
  for (const [what, text, expected] of cases) it(what, () => assert.deepEqual(at(text), expected));

  it('checks every name of a large List, including those after the first tens of thousands', () => {
    // 12,000 pods with a label each are 36,000 checks; an earlier version stopped checking at 20,000 and said nothing.
    const items = Array.from(
      { length: 12000 },
      (_, i) => `  - {kind: Pod, metadata: {name: p${i}, labels: {app: web}}, spec: {containers: [{name: app}]}}`,
    );
    items.push('  - {kind: Pod, metadata: {name: Last_Pod}, spec: {containers: [{name: app}]}}');
    const text = `apiVersion: v1\nkind: List\nitems:\n${items.join('\n')}\n`;
    assert.deepEqual(at(text), ['Last_Pod']);
  });
});
