import assert from 'node:assert/strict';
import { completionsAt } from '../../../src/core';
import { cursorContext } from '../../../src/core/language/context';
import { analysis, FILES, OBJECTS, TOPOLOGY } from './fixture';

/** The fixture file with `find` replaced by `typed`, in which `|` marks the cursor. */
function typing(file: string, find: string, typed: string): { text: string; offset: number } {
  assert.ok(FILES[file].includes(find), `"${find}" is not in ${file}`);
  const edited = FILES[file].replace(find, typed);
  const offset = edited.indexOf('|');
  return { text: edited.slice(0, offset) + edited.slice(offset + 1), offset };
}

describe('language: cursor context', () => {
  const cases: [string, string, string[], string | undefined, string][] = [
    ['a block value in a sequence item', 'pods:\n  - name: a\n    node: no|', ['pods', '[]'], 'node', 'no'],
    ['a compact sequence', 'pods:\n- name: a\n  node: |', ['pods', '[]'], 'node', ''],
    ['the first key of an item', 'pods:\n  - node: |', ['pods', '[]'], 'node', ''],
    [
      'a flow mapping in a nested sequence',
      'nodes:\n  - name: n\n    interfaces:\n      - {name: eth0, network: l|',
      ['nodes', '[]', 'interfaces', '[]'],
      'network',
      'l',
    ],
    [
      'a flow mapping in a flow sequence',
      'services:\n  - ports: [{name: http, targetPort: h|',
      ['services', '[]', 'ports', '[]'],
      'targetPort',
      'h',
    ],
    ['a key in a flow mapping', 'services:\n  - selector: {ap|', ['services', '[]', 'selector'], undefined, 'ap'],
    ['a key in a block mapping', 'spec:\n  selector:\n    app: web\n    ti|', ['spec', 'selector'], undefined, 'ti'],
    [
      'past a deeper sibling block',
      'pods:\n  - name: a\n    containers:\n      - name: c\n    node: |',
      ['pods', '[]'],
      'node',
      '',
    ],
    ['a quoted value', 'spec:\n  nodeName: "no|', ['spec'], 'nodeName', 'no'],
    ['a second document', 'kind: Pod\n---\nspec:\n  nodeName: |', ['spec'], 'nodeName', ''],
  ];
  for (const [what, marked, path, key, prefix] of cases) {
    it(what, () => {
      const offset = marked.indexOf('|');
      const ctx = cursorContext(marked.replace('|', ''), offset);
      assert.deepEqual(
        { path: ctx.path, key: ctx.key, prefix: ctx.prefix, start: ctx.start },
        { path, key, prefix, start: offset - prefix.length },
      );
    });
  }
});

describe('language: completion', () => {
  // [what, file, text to replace, what is typed instead (| = cursor), expected labels]
  const cases: [string, string, string, string, string[]][] = [
    ["node names for a pod's node", TOPOLOGY, '    node: node1\n', '    node: |\n', ['node1', 'node2']],
    ['network names for a flow interface', TOPOLOGY, 'network: lan, address', 'network: |, address', ['lan']],
    [
      'network names for an external',
      TOPOLOGY,
      '    network: lan\n    address: 192.168.56.100/24',
      '    network: l|\n    address: 192.168.56.100/24',
      ['lan'],
    ],
    ["the node's interfaces for a route's dev", TOPOLOGY, '        dev: eth0', '        dev: |', ['eth0']],
    ['label keys of pods for a selector key', TOPOLOGY, 'selector: {app: web}', 'selector: {|}', ['app', 'tier']],
    [
      'label values of that key for a selector value',
      TOPOLOGY,
      'selector: {app: web}',
      'selector: {app: |}',
      ['client', 'web'],
    ],
    [
      'container port names of the selected pods for a targetPort',
      TOPOLOGY,
      'targetPort: http}',
      'targetPort: |}',
      ['http'],
    ],
    [
      'enum values from the schema',
      TOPOLOGY,
      '    clusterIP: 10.96.0.10\n',
      '    clusterIP: 10.96.0.10\n    type: |\n',
      ['ClusterIP', 'NodePort', 'LoadBalancer'],
    ],
    ["node names for a Pod's spec.nodeName", OBJECTS, '  nodeName: node1', '  nodeName: |', ['node1', 'node2']],
    [
      'label keys for a Kubernetes selector',
      OBJECTS,
      '  selector:\n    app: web',
      '  selector:\n    app: web\n    |',
      ['app', 'tier'],
    ],
    [
      'container port names for a Kubernetes targetPort',
      OBJECTS,
      '      targetPort: http',
      '      targetPort: |',
      ['http'],
    ],
    [
      'Kubernetes enum values',
      OBJECTS,
      '  ports:\n    - port: 8080',
      '  type: |\n  ports:\n    - port: 8080',
      ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'],
    ],
    ['nothing for a free-form value', TOPOLOGY, '    ip: 10.244.1.10', '    ip: |', []],
    ['nothing for an ordinary key', TOPOLOGY, '    ip: 10.244.1.10', '    i|', []],
  ];
  for (const [what, file, find, typed, expected] of cases) {
    it(what, () => {
      const { text, offset } = typing(file, find, typed);
      assert.deepEqual(
        completionsAt(analysis, file, text, offset)
          .map((c) => c.label)
          .sort(),
        [...expected].sort(),
      );
    });
  }

  it('replaces what was typed, and adds the space after a bare colon', () => {
    const typed = typing(TOPOLOGY, '    node: node1\n', '    node: no|\n');
    const [first] = completionsAt(analysis, TOPOLOGY, typed.text, typed.offset);
    assert.deepEqual(
      { insert: first.insertText, replaced: typed.text.slice(first.replace.start, first.replace.end) },
      { insert: 'node1', replaced: 'no' },
    );
    const bare = typing(TOPOLOGY, '    node: node1\n', '    node:|\n');
    assert.equal(completionsAt(analysis, TOPOLOGY, bare.text, bare.offset)[0].insertText, ' node1');
  });

  it('says where each candidate comes from', () => {
    const { text, offset } = typing(TOPOLOGY, 'selector: {app: web}', 'selector: {app: |}');
    assert.deepEqual(
      completionsAt(analysis, TOPOLOGY, text, offset).map((c) => `${c.kind} ${c.label}: ${c.detail}`),
      ['label-value client: label of default/a', 'label-value web: label of default/web-1'],
    );
  });
});
