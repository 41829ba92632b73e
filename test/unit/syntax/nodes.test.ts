import assert from 'node:assert/strict';
import { parseFastYaml } from '../../../src/core/syntax/fast-yaml';
import { parseYamlFile, parseYamlFileWithLibrary, type YMap, type YNode } from '../../../src/core/syntax/yaml';

/** A document's root as a mapping (fails the test otherwise). */
function rootMap(root: YNode | undefined): YMap {
  assert.equal(root?.kind, 'map');
  return root as YMap;
}

// A mapping written with a duplicate key, a nested mapping and a sequence, read by both readers: the fast one
// (parseYamlFile takes it for this text) and the library's.
const TEXT = 'name: web\nports:\n  - 80\nname: other\nlabels: {app: web}\n';
const READERS = {
  fast: () => parseYamlFile('f.yaml', TEXT),
  library: () => parseYamlFileWithLibrary('f.yaml', TEXT),
};

describe('YAML mappings: entries by index and by key, spans made on request', () => {
  it('the fast reader reads this text (so both readers are checked below)', () => {
    assert.notEqual(parseFastYaml('f.yaml', TEXT), undefined);
  });

  for (const [reader, parse] of Object.entries(READERS)) {
    it(`${reader} reader: lookup and entry read the first of a key written twice, as every model reader does`, () => {
      const map = rootMap(parse().documents[0]?.root);
      const name = map.lookup('name');
      assert.equal(name?.kind === 'scalar' ? name.value : undefined, 'web');
      assert.deepEqual(map.entry('name')?.keySpan, { file: 'f.yaml', start: 0, end: 4 });
      assert.equal(map.lookup('missing'), undefined);
      assert.equal(map.entry('missing'), undefined);
    });

    it(`${reader} reader: size, keyAt, valueAt and entryAt agree with entries, key spans on the text`, () => {
      const map = rootMap(parse().documents[0]?.root);
      const entries = map.entries;
      assert.equal(map.size, 4);
      assert.deepEqual(
        entries.map((e) => e.key),
        ['name', 'ports', 'name', 'labels'],
      );
      for (let i = 0; i < map.size; i++) {
        assert.equal(map.keyAt(i), entries[i].key);
        assert.equal(map.valueAt(i), entries[i].value);
        assert.deepEqual(map.entryAt(i).keySpan, entries[i].keySpan);
        const { start, end } = entries[i].keySpan;
        assert.equal(TEXT.slice(start, end), entries[i].key);
      }
      const labels = map.lookup('labels');
      assert.equal(labels?.kind, 'map');
      assert.equal(TEXT.slice(labels.span.start, labels.span.end), '{app: web}');
    });
  }

  it('reports the second of a duplicate key with the first as related, from the slots', () => {
    const parsed = parseYamlFile('f.yaml', TEXT);
    const dup = parsed.problems.filter((p) => p.code === 'yaml.duplicate-key');
    assert.equal(dup.length, 1);
    assert.equal(TEXT.slice(dup[0].span.start, dup[0].span.end), 'name');
    assert.equal(dup[0].span.start, TEXT.indexOf('name: other'));
    assert.deepEqual(dup[0].related?.[0]?.span, { file: 'f.yaml', start: 0, end: 4 });
  });

  it('a span read twice is two equal objects, so a caller may keep or change its own', () => {
    const map = rootMap(parseYamlFile('f.yaml', TEXT).documents[0]?.root);
    const a = map.span;
    const b = map.span;
    assert.notEqual(a, b);
    assert.deepEqual(a, b);
  });
});
