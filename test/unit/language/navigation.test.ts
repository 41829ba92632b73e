import assert from 'node:assert/strict';
import { analyse, definitionsAt, referencesAt } from '../../../src/core';
import { analysis, at, OBJECTS, show, TOPOLOGY } from './fixture';

describe('language: go to definition', () => {
  it('the fixture analyses without diagnostics', () => {
    assert.deepEqual(
      analysis.diagnostics.map((d) => `${d.code}: ${d.message}`),
      [],
    );
  });

  // [what, file, needle, occurrence, characters into it, expected definitions as file:line:text]
  const cases: [string, string, string, number, number, string[]][] = [
    ["a pod's node -> the node", TOPOLOGY, 'node: node1', 0, 7, ['lab.netpath.yaml:10:node1']],
    ["another pod's node -> that node only", TOPOLOGY, 'node: node2', 0, 7, ['lab.netpath.yaml:18:node2']],
    ["a flow interface's network -> the network", TOPOLOGY, 'network: lan,', 0, 10, ['lab.netpath.yaml:7:lan']],
    ["a block interface's network -> the network", TOPOLOGY, 'network: lan\n', 0, 10, ['lab.netpath.yaml:7:lan']],
    ["an external's network -> the network", TOPOLOGY, 'network: lan\n', 1, 10, ['lab.netpath.yaml:7:lan']],
    ["a route's dev -> the interface of the same node", TOPOLOGY, 'dev: eth0', 0, 6, ['lab.netpath.yaml:12:eth0']],
    [
      'a Service selector entry -> the pods it selects, in every file',
      TOPOLOGY,
      'selector: {app: web}',
      0,
      12,
      ['lab.netpath.yaml:29:web-1', 'objects.yaml:4:web-2'],
    ],
    [
      'a named targetPort -> the container ports of the selected pods',
      TOPOLOGY,
      'targetPort: http',
      0,
      13,
      ['lab.netpath.yaml:35:http', 'objects.yaml:12:http'],
    ],
    ['an include entry -> the start of the file', TOPOLOGY, 'objects.yaml', 0, 2, ['objects.yaml:1:']],
    ["a Pod's spec.nodeName -> the node", OBJECTS, 'nodeName: node1', 0, 12, ['lab.netpath.yaml:10:node1']],
    [
      'a Kubernetes Service selector entry -> the pods',
      OBJECTS,
      'app: web',
      1,
      1,
      ['lab.netpath.yaml:29:web-1', 'objects.yaml:4:web-2'],
    ],
    [
      'a Kubernetes targetPort name -> the container ports',
      OBJECTS,
      'targetPort: http',
      0,
      13,
      ['lab.netpath.yaml:35:http', 'objects.yaml:12:http'],
    ],
    ['a definition is not a reference', TOPOLOGY, 'name: node1', 0, 8, []],
    ['a selector that selects nothing has no definition', TOPOLOGY, 'app: client', 0, 6, []],
    ['a key is not a reference', TOPOLOGY, 'node: node1', 0, 1, []],
  ];
  for (const [what, file, needle, nth, into, expected] of cases) {
    it(what, () => assert.deepEqual(definitionsAt(analysis, file, at(file, needle, nth, into)).map(show), expected));
  }
});

describe('language: find references', () => {
  const cases: [string, string, string, number, number, boolean, string[]][] = [
    [
      'a node -> the pods on it (NetPath and Kubernetes)',
      TOPOLOGY,
      'name: node1',
      0,
      8,
      false,
      ['lab.netpath.yaml:26:node1', 'objects.yaml:8:node1'],
    ],
    [
      'a node, with its declaration',
      TOPOLOGY,
      'name: node1',
      0,
      8,
      true,
      ['lab.netpath.yaml:10:node1', 'lab.netpath.yaml:26:node1', 'objects.yaml:8:node1'],
    ],
    [
      'a reference to a node -> the same list',
      OBJECTS,
      'nodeName: node1',
      0,
      12,
      false,
      ['lab.netpath.yaml:26:node1', 'objects.yaml:8:node1'],
    ],
    [
      'a network -> interfaces and externals on it',
      TOPOLOGY,
      'name: lan',
      0,
      7,
      false,
      ['lab.netpath.yaml:12:lan', 'lab.netpath.yaml:21:lan', 'lab.netpath.yaml:43:lan'],
    ],
    [
      "a pod's label -> the selectors that use it",
      TOPOLOGY,
      'app: web,',
      0,
      1,
      false,
      ['lab.netpath.yaml:39:app: web', 'objects.yaml:23:app: web'],
    ],
    ['a label no selector uses -> nothing', TOPOLOGY, 'tier: front', 0, 1, false, []],
    [
      'a pod -> the selectors that select it',
      OBJECTS,
      'name: web-2',
      0,
      7,
      false,
      ['lab.netpath.yaml:39:app: web', 'objects.yaml:23:app: web'],
    ],
    ['an interface -> the routes through it', TOPOLOGY, 'name: eth0', 0, 7, false, ['lab.netpath.yaml:17:eth0']],
    [
      'a container port name -> the targetPorts naming it',
      TOPOLOGY,
      'name: http',
      0,
      7,
      false,
      ['lab.netpath.yaml:40:http', 'objects.yaml:26:http'],
    ],
    ['a file -> the include entries', TOPOLOGY, 'objects.yaml', 0, 1, false, ['lab.netpath.yaml:5:objects.yaml']],
    ['a key -> nothing', TOPOLOGY, 'cidr:', 0, 1, false, []],
  ];
  for (const [what, file, needle, nth, into, declaration, expected] of cases) {
    it(what, () =>
      assert.deepEqual(referencesAt(analysis, file, at(file, needle, nth, into), declaration).map(show), expected),
    );
  }
});

describe('language: includes by glob and Kubernetes Lists', () => {
  const files: Record<string, string> = {
    '/g/lab.netpath.yaml':
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ninclude: ["k8s/*.yaml"]\nnodes:\n  - name: n1\n',
    '/g/k8s/list.yaml':
      'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec: {nodeName: n1}\n',
    '/g/k8s/other.yaml': 'apiVersion: v1\nkind: Node\nmetadata: {name: n2}\n',
  };
  const a = analyse(Object.entries(files).map(([path, text]) => ({ path, text })));
  const offset = (file: string, needle: string, into: number) => files[file].indexOf(needle) + into;

  it('a glob include goes to every file it matches', () => {
    assert.deepEqual(
      definitionsAt(a, '/g/lab.netpath.yaml', offset('/g/lab.netpath.yaml', 'k8s/', 1)).map((s) => s.file),
      ['/g/k8s/list.yaml', '/g/k8s/other.yaml'],
    );
  });

  it('a Pod inside a List refers to its node', () => {
    const [def] = definitionsAt(a, '/g/k8s/list.yaml', offset('/g/k8s/list.yaml', 'nodeName: n1', 11));
    assert.deepEqual(def && { file: def.file, text: files[def.file].slice(def.start, def.end) }, {
      file: '/g/lab.netpath.yaml',
      text: 'n1',
    });
  });
});
