import assert from 'node:assert/strict';
import { documentSymbols, flattenSymbols, traceLenses, type DocumentSymbol } from '../../../src/core';
import { analysis, FILES, OBJECTS, show, TOPOLOGY } from './fixture';

/** An outline as indented `kind name (detail)` lines. */
function outline(symbols: readonly DocumentSymbol[], depth = 0): string[] {
  return symbols.flatMap((s) => [
    `${'  '.repeat(depth)}${s.kind} ${s.name}${s.detail ? ` (${s.detail})` : ''}`,
    ...outline(s.children, depth + 1),
  ]);
}

describe('language: document symbols', () => {
  const cases: [string, string, string[]][] = [
    [
      'a NetPath document',
      TOPOLOGY,
      [
        'topology lab (NetPath topology)',
        '  group networks (1)',
        '    network lan (192.168.56.0/24)',
        '  group nodes (2)',
        '    node node1 (10.244.1.0/24)',
        '      interface eth0 (lan 192.168.56.11/24)',
        '      route 10.244.2.0/24 (via 192.168.56.12 dev eth0)',
        '    node node2 (10.244.2.0/24)',
        '      interface eth0 (lan 192.168.56.12/24)',
        '  group pods (2)',
        '    pod default/a (10.244.1.10)',
        '    pod default/web-1 (10.244.2.10)',
        '      container app',
        '        port http (8080/TCP)',
        '  group services (1)',
        '    service default/web (10.96.0.10)',
        '      port http (80/TCP → http)',
        '  group externals (1)',
        '    external laptop (lan 192.168.56.100/24)',
      ],
    ],
    [
      'Kubernetes objects',
      OBJECTS,
      [
        'pod default/web-2 (Pod)',
        '  container app',
        '    port http (8080/TCP)',
        'service default/api (Service)',
        '  port 8080 (8080/TCP → http)',
      ],
    ],
  ];
  for (const [what, file, expected] of cases) {
    it(`outlines ${what}`, () => assert.deepEqual(outline(documentSymbols(analysis, file)), expected));
  }

  it('selects the name of each element, inside the element', () => {
    for (const file of [TOPOLOGY, OBJECTS]) {
      for (const s of flattenSymbols(documentSymbols(analysis, file))) {
        assert.ok(
          s.span.start <= s.selectionSpan.start && s.selectionSpan.end <= s.span.end,
          `${s.name}: selection outside the symbol`,
        );
      }
    }
    const pods = flattenSymbols(documentSymbols(analysis, TOPOLOGY)).filter(
      (s) => s.kind === 'pod' || s.kind === 'node',
    );
    assert.deepEqual(
      pods.map((s) => show(s.selectionSpan)),
      ['lab.netpath.yaml:10:node1', 'lab.netpath.yaml:18:node2', 'lab.netpath.yaml:25:a', 'lab.netpath.yaml:29:web-1'],
    );
    const node1 = pods[0];
    assert.match(FILES[TOPOLOGY].slice(node1.span.start, node1.span.end), /^name: node1[\s\S]*dev: eth0$/);
  });

  it('has no outline for a file outside the analysis, and none for other YAML kinds', () => {
    assert.deepEqual(documentSymbols(analysis, '/elsewhere.yaml'), []);
  });
});

describe('language: trace lenses', () => {
  const lenses = (file: string) =>
    traceLenses(analysis, file).map((l) => `${show(l.span)} ${l.title} ${l.from ? `from ${l.from}` : `to ${l.to}`}`);

  it('puts "Trace from here" and "Trace to here" over pods and externals, "Trace to here" over Services', () => {
    assert.deepEqual(lenses(TOPOLOGY), [
      'lab.netpath.yaml:25:a Trace from here from pod/default/a',
      'lab.netpath.yaml:25:a Trace to here to pod/default/a',
      'lab.netpath.yaml:29:web-1 Trace from here from pod/default/web-1',
      'lab.netpath.yaml:29:web-1 Trace to here to pod/default/web-1:http',
      'lab.netpath.yaml:37:web Trace to here to svc/default/web:http',
      'lab.netpath.yaml:42:laptop Trace from here from external/laptop',
      'lab.netpath.yaml:42:laptop Trace to here to external/laptop',
    ]);
  });

  it('uses the port number when a Service port has no name, and covers Kubernetes objects', () => {
    assert.deepEqual(lenses(OBJECTS), [
      'objects.yaml:4:web-2 Trace from here from pod/default/web-2',
      'objects.yaml:4:web-2 Trace to here to pod/default/web-2:http',
      'objects.yaml:20:api Trace to here to svc/default/api:8080',
    ]);
  });
});
