import assert from 'node:assert/strict';
import { parseFastYaml, readFastYaml } from '../../../src/core/syntax/fast-yaml';
import { isPlainNull, resolvePlain } from '../../../src/core/syntax/plain';
import type { Problem } from '../../../src/core/problem';
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
        // A collection is the same node on every read; a scalar may be made on each read (the fast reader keeps a plain
        // value as text), an equal node each time.
        const value = map.valueAt(i);
        if (value.kind === 'scalar') assert.deepEqual(value, entries[i].value);
        else assert.equal(value, entries[i].value);
        assert.deepEqual(map.entryAt(i).keySpan, entries[i].keySpan);
        const { start, end } = entries[i].keySpan;
        assert.equal(TEXT.slice(start, end), entries[i].key);
      }
      const labels = map.lookup('labels');
      assert.equal(labels?.kind, 'map');
      assert.equal(TEXT.slice(labels.span.start, labels.span.end), '{app: web}');
    });

    it(`${reader} reader: valueSpanAt is valueAt's span and indexOf finds the first of a key, in block and flow mappings`, () => {
      const map = rootMap(parse().documents[0]?.root);
      assert.equal(map.indexOf('name'), 0);
      assert.equal(map.indexOf('labels'), 3);
      assert.equal(map.indexOf('missing'), -1);
      const labels = rootMap(map.lookup('labels'));
      for (const m of [map, labels])
        for (let i = 0; i < m.size; i++) assert.deepEqual(m.valueSpanAt(i), m.valueAt(i).span);
      const app = labels.valueSpanAt(labels.indexOf('app'));
      assert.equal(TEXT.slice(app.start, app.end), 'web');
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

describe('yaml.duplicate-key: the fast reader notes a repeated key while reading', () => {
  const wide = (repeat: string) =>
    `m:\n${Array.from({ length: 20 }, (_, i) => `  k${i}: ${i}\n`).join('')}  ${repeat}: x\n`;
  const CASES = {
    none: 'a: 1\nb: {c: 2, d: 3}\nitems:\n  - {x: 1}\n  - x: 2\n    y: 3\n',
    'nested block mapping': 'a: 1\nitems:\n  - x: 2\n    y: 3\n    x: 4\n',
    'flow mapping': 'a: {p: 1, q: 2, p: 3}\n',
    'past 16 keys (a set of them)': wide('k3'),
    'past 16 keys, none repeated': wide('k20'),
    'two documents, the second repeating': 'a: 1\n---\nb: 1\nb: 2\n',
    'CRLF line ends': 'a: 1\r\nb: 2\r\na: 3\r\n',
  };
  for (const [name, text] of Object.entries(CASES)) {
    it(`${name}: the same problems as the library's reader, and the flag says whether there are any`, () => {
      const fast = readFastYaml('f.yaml', text);
      assert.notEqual(fast, undefined);
      const dup = (problems: readonly Problem[]) => problems.filter((p) => p.code === 'yaml.duplicate-key');
      const fastDup = dup(parseYamlFile('f.yaml', text).problems);
      assert.deepEqual(fastDup, duplicateKeysOf(text));
      assert.equal(fast?.duplicateKeys, fastDup.length > 0);
    });
  }
});

/** The duplicate keys the tree walk finds in the library's tree (parseYamlFile walks it when the fast reader cannot). */
function duplicateKeysOf(text: string): Problem[] {
  // A tab keeps the fast reader out: parseYamlFile then reads with the library and walks its tree for duplicates.
  const spaced = parseYamlFile('f.yaml', `${text}#\t\n`);
  return spaced.problems.filter((p) => p.code === 'yaml.duplicate-key');
}

describe('isPlainNull: a plain scalar is null exactly when resolvePlain reads it as null', () => {
  const spellings = [
    '',
    '~',
    'null',
    'Null',
    'NULL',
    'nULL',
    'nul',
    'nulls',
    'none',
    '0',
    '8080',
    '10.0.0.1',
    'true',
    '-',
    '.',
    '~~',
  ];
  for (const s of spellings)
    it(`'${s}'`, () => {
      assert.equal(isPlainNull(s), resolvePlain(s) === null);
    });
});
