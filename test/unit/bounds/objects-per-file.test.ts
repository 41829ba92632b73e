/**
 * Objects per file are bounded (issue 17): YAML documents and List items, MAX_OBJECTS_PER_FILE of them. At the
 * bound all are read with no warning; one over, the last is left out with one warning at it.
 */
import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { MAX_OBJECTS_PER_FILE } from '../../../src/core/model/drafts';

const build = (text: string) => buildTopology([{ path: '/w/dump.yaml', text }]);
const warnings = (r: ReturnType<typeof build>) => r.problems.filter((p) => p.code === 'file.too-many-objects');

/** `n` documents: empty ones, then a Node as the last (so whether the last was read shows in the model). */
const documents = (n: number): string =>
  `${'---\n'.repeat(n - 1)}---\napiVersion: v1\nkind: Node\nmetadata: {name: last}\n`;

/** A `kind: List` of `n - 1` items (the List document itself counts as one object): placeholders, then a Node. */
function list(n: number): string {
  const items = Array.from({ length: n - 2 }, () => '- {}');
  items.push('- {apiVersion: v1, kind: Node, metadata: {name: last}}');
  return `apiVersion: v1\nkind: List\nitems:\n${items.join('\n')}\n`;
}

describe('bounds: objects per file', function () {
  this.timeout(120000);

  for (const [label, make] of [
    ['YAML documents', documents],
    ['List items', list],
  ] as const) {
    it(`${label}: ${MAX_OBJECTS_PER_FILE} objects are all read, with no warning`, () => {
      const r = build(make(MAX_OBJECTS_PER_FILE));
      assert.deepEqual(warnings(r), []);
      assert.deepEqual(
        r.topology.nodes.map((n) => n.name),
        ['last'],
      );
    });

    it(`${label}: ${MAX_OBJECTS_PER_FILE + 1} objects: the last is left out, with a warning at it`, () => {
      const text = make(MAX_OBJECTS_PER_FILE + 1);
      const r = build(text);
      assert.deepEqual(r.topology.nodes, []);
      const [w, ...more] = warnings(r);
      assert.equal(more.length, 0);
      assert.equal(w.severity, 'warning');
      assert.match(w.message, /^More than 200000 objects .* this one and every one after it are left out/);
      assert.match(text.slice(w.span.start, w.span.end), /name: last/);
    });
  }
});
