import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseFastYaml } from '../../../src/core/syntax/fast-yaml';
import {
  parseYamlFile,
  parseYamlFileWithLibrary,
  type YDocument,
  type YMap,
  type YNode,
  type YScalar,
} from '../../../src/core/syntax/yaml';
import { takeWork } from '../../../src/core/work';
import { kubernetesList, netpathCluster } from '../../../bench/cluster';

/**
 * A tree as its readers see it, through the nodes' methods: kinds, values, sources, spans, keys and key spans. (The
 * readers keep their nodes differently inside: the fast reader's mappings keep plain scalar values as text.)
 */
function seen(node: YNode | undefined): unknown {
  if (!node) return node;
  if (node.kind === 'scalar') return { scalar: node.value, source: node.source, span: node.span };
  if (node.kind === 'seq') return { seq: node.items.map(seen), span: node.span };
  return {
    map: node.entries.map((e) => ({ key: e.key, keySpan: e.keySpan, value: seen(e.value) })),
    byIndex: Array.from({ length: node.size }, (_, i) => [node.keyAt(i), seen(node.valueAt(i))]),
    span: node.span,
  };
}

const seenDocuments = (documents: readonly YDocument[]): unknown =>
  documents.map((d) => ({ file: d.file, index: d.index, span: d.span, root: seen(d.root) }));

/** The fast reader either gives up or gives exactly what the library-based reader gives, spans included. */
function agree(text: string, file = 'f.yaml'): 'fast' | 'fallback' {
  const lib = parseYamlFileWithLibrary(file, text);
  const fast = parseFastYaml(file, text);
  if (!fast) return 'fallback';
  assert.equal(lib.problems.length, 0, `the fast reader accepted text the library rejects:\n${text}`);
  assert.deepEqual(
    seenDocuments(fast),
    seenDocuments(lib.documents),
    `the readers differ on:\n${JSON.stringify(text)}`,
  );
  return 'fast';
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

// ------------------------------------------------------------ random documents in many styles

type V = string | V[] | { [k: string]: V };

const SCALARS = [
  'a',
  'node1',
  'foo bar',
  '10.244.1.0/24',
  '8080',
  '-1',
  '+7',
  '0x1F',
  '0o17',
  '017',
  '1.5',
  '1.50',
  '1e3',
  '.5',
  '.inf',
  '-.Inf',
  '.nan',
  'null',
  'Null',
  '~',
  'true',
  'False',
  'TRUE',
  'a:b',
  'http://x:80/y',
  'a#b',
  'a # b',
  '',
  "it's",
  'x"y',
  'back\\slash',
  'caf\u00e9',
  '-A KUBE-SERVICES -j ACCEPT',
  'key: value',
  '[x]',
  '{x}',
  '- x',
  '@at',
  'a, b',
  'tail ',
  ' lead',
  'line1\nline2\n',
];

const value: fc.Arbitrary<V> = fc.letrec<{ v: V }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SCALARS),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'key', 'x-y', 'k8s.io/name', '1', 'true', 'with space'), tie('v'), {
      maxKeys: 3,
    }),
  ),
})).v;

interface Style {
  quote: number; // 0 plain, 1 single, 2 double
  flow: boolean;
  comment: boolean;
  blank: boolean;
  trailing: boolean;
  seqIndent: number; // 0: `key:\n- a` (kubectl), 2: `key:\n  - a`
  step: number;
  compact: boolean; // `- a: 1\n  b: 2`
}

const style = fc.record({
  quote: fc.integer({ min: 0, max: 2 }),
  flow: fc.boolean(),
  comment: fc.boolean(),
  blank: fc.boolean(),
  trailing: fc.boolean(),
  seqIndent: fc.constantFrom(0, 2),
  step: fc.constantFrom(1, 2, 4),
  compact: fc.boolean(),
});

function scalar(s: string, st: Style): string {
  if (st.quote === 1) return `'${s.replace(/'/g, "''").replace(/\n/g, ' ')}'`;
  if (st.quote === 2) return JSON.stringify(s);
  return s;
}

function flow(v: V, st: Style): string {
  if (typeof v === 'string') return scalar(v, st);
  if (Array.isArray(v)) return `[${v.map((x) => flow(x, st)).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}: ${flow(x, st)}`)
    .join(', ')}}`;
}

function block(v: V, indent: number, st: Style, out: string[]): void {
  const pad = ' '.repeat(indent);
  const tail = (st.trailing ? '  ' : '') + (st.comment ? ' # note' : '');
  const extra = (): void => {
    if (st.blank) out.push('');
    if (st.comment) out.push(`${pad}# between`);
  };
  const inline = (x: V, prefix: string, childIndent: number, seqChild: boolean): void => {
    if (typeof x === 'string') {
      if (x.includes('\n')) {
        out.push(`${prefix} |${st.comment ? ' # lit' : ''}`);
        for (const l of x.replace(/\n$/, '').split('\n')) out.push(`${' '.repeat(childIndent + st.step)}${l}`);
      } else out.push(`${prefix} ${scalar(x, st)}${tail}`);
    } else if (st.flow || (Array.isArray(x) ? !x.length : !Object.keys(x).length)) {
      out.push(`${prefix} ${flow(x, st)}${tail}`);
    } else {
      out.push(`${prefix}${st.comment ? ' # open' : ''}`);
      block(x, seqChild ? childIndent + st.seqIndent : childIndent + st.step, st, out);
    }
  };
  if (typeof v === 'string' || st.flow) return void out.push(`${pad}${flow(v, st)}${tail}`);
  if (Array.isArray(v)) {
    for (const x of v) {
      extra();
      if (st.compact && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length) {
        const inner: string[] = [];
        block(x, indent + 2, { ...st, comment: false, blank: false }, inner);
        out.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
      } else inline(x, `${pad}-`, indent, false);
    }
  } else {
    for (const [k, x] of Object.entries(v)) {
      extra();
      inline(x, `${pad}${k}:`, indent, Array.isArray(x));
    }
  }
}

describe('fast YAML reader', () => {
  it('reads every fixture and example exactly as the library does (or leaves it to the library)', () => {
    const files = [...yamlFiles('test/fixtures'), ...yamlFiles('examples')];
    const used = files.filter((f) => agree(readFileSync(f, 'utf8'), f) === 'fast');
    assert.ok(used.length > files.length * 0.9, `fast reader used on ${used.length} of ${files.length} files`);
  });

  it('reads CRLF files itself, with the spans of the CRLF text (every fixture and example with CRLF line ends)', () => {
    const files = [...yamlFiles('test/fixtures'), ...yamlFiles('examples')];
    const crlf = files.map((f) => readFileSync(f, 'utf8')).filter((t) => !t.includes('\r'));
    const used = crlf.filter((t, i) => agree(t.replace(/\n/g, '\r\n'), `crlf${i}.yaml`) === 'fast');
    assert.ok(used.length > crlf.length * 0.9, `fast reader used on ${used.length} of ${crlf.length} CRLF files`);
    const size = { name: 't', nodes: 3, pods: 9, services: 6 };
    assert.equal(agree(kubernetesList(size).replace(/\n/g, '\r\n')), 'fast');
  });

  it('reads the benchmark clusters (NetPath format and a kubectl List dump) itself', () => {
    const size = { name: 't', nodes: 3, pods: 9, services: 6 };
    assert.equal(agree(netpathCluster(size)), 'fast');
    assert.equal(agree(kubernetesList(size)), 'fast');
  });

  it('keeps the slots of thousands of mappings in a few shared arrays, each mapping reading only its own', () => {
    // 1,500 pods: more mappings than the first chunks hold, so many mappings start and end at a chunk's edge; and one
    // mapping with more entries than a chunk holds (an array of its own).
    const big = Array.from({ length: 20000 }, (_, i) => `k${i}: ${i % 3 ? `v${i}` : `{a: ${i}}`}`).join('\n');
    for (const text of [netpathCluster({ name: 't', nodes: 20, pods: 1500, services: 30 }), `${big}\nlast: 1\n`]) {
      takeWork();
      const fast = parseFastYaml('f.yaml', text);
      const arrays = takeWork().mapSlotArrays;
      assert.ok(fast, 'the fast reader reads it');
      assert.equal(agree(text), 'fast');
      const lib = parseYamlFileWithLibrary('f.yaml', text).documents;
      const mapsOf = (docs: readonly YDocument[]): YMap[] => {
        const out: YMap[] = [];
        const walk = (n: YNode | undefined): void => {
          if (n?.kind === 'seq') n.items.forEach(walk);
          if (n?.kind !== 'map') return;
          out.push(n);
          for (let i = 0; i < n.size; i++) walk(n.valueAt(i));
        };
        docs.forEach((d) => walk(d.root));
        return out;
      };
      const fastMaps = mapsOf(fast);
      const libMaps = mapsOf(lib);
      assert.equal(fastMaps.length, libMaps.length);
      assert.ok(arrays > 0 && arrays < 30, `${arrays} slot arrays for ${fastMaps.length} mappings`);
      // Every key of the file, asked of every mapping: a mapping that read past its own slots would find its
      // neighbour's keys.
      const keys = [
        ...new Set(libMaps.flatMap((m) => Array.from({ length: Math.min(m.size, 50) }, (_, i) => m.keyAt(i)))),
      ];
      fastMaps.forEach((m, i) => {
        for (const k of keys) assert.equal(m.indexOf(k), libMaps[i].indexOf(k), k);
        for (let j = 0; j < m.size; j++) {
          const text = m.plainAt(j);
          if (text !== undefined) assert.equal(text, (m.valueAt(j) as YScalar).source);
          assert.deepEqual(m.valueSpanAt(j), libMaps[i].valueSpanAt(j));
        }
      });
    }
  });

  it('agrees with the library on random documents in many styles', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(value, style), { minLength: 1, maxLength: 3 }), (docs) => {
        const text = docs
          .map(([v, st], i) => {
            const out: string[] = i || st.comment ? ['---'] : [];
            if (typeof v === 'string' && v === '') return out.join('\n');
            block(v, 0, st, out);
            return out.join('\n');
          })
          .join('\n')
          .concat('\n');
        if (agree(text) === 'fast') fast++;
        // The same document with CRLF line ends (a lone CR inside a scalar stays as it is).
        agree(text.replace(/\n/g, '\r\n'));
      }),
      { numRuns: 600 },
    );
    assert.ok(fast > 200, `the fast reader took only ${fast} of 600 random documents`);
  });

  it('reads keys met before (the key caches) as the library does: same length and ends, other middles, other forms', () => {
    // Keys of equal length and equal first and last characters share a cache slot; a key written as a number or in
    // quotes is the same key text; block and flow keys each have their cache.
    const text = [
      'axb: 1',
      'ayb: 2',
      'axb2: {axb: 1, ayb: 2, azb: 3, "axb": 4, 0x10: 5, 16: 6, 1_0: 7, 10: 8}',
      'list:',
      '  - {axb: 1, a.b: 2, a b: 3, 10.0.0.1: 4, 10.0.0.0/8: 5, 1.5: 6, 1e3: 7}',
      '  - {axb: 1, ayb: 2}',
      '  - axb: 1',
      '    ayb: 2',
      '    0x10: 3',
      '    16: 4',
      '    1.5: 5',
      '    10.0.0.1: 6',
      "    'axb': 7",
      '',
    ].join('\n');
    assert.equal(agree(text), 'fast');
  });

  it('ends each document where the library does when blank lines and comments come before the next `---`', () => {
    // Helm output and hand-split manifests leave blank lines before `---`; a document's span is what the editor
    // highlights for a whole object, so it must not depend on which reader read the file.
    const texts = [
      'a: 1\n\n---\nb: 2\n',
      'a: 1\n  \n---\nb: 2\n',
      'a: 1\n# c\n\n---\nb: 2\n',
      'a: 1\n\n# c\n---\n',
      'a: 1\n\n\n',
      'a: 1\n# c\n\n',
      'a:\n  - x\n\n\n---\nb: 2\n',
      'a: |\n  x\n\n---\nb: 1\n',
      '---\n\n---\nb: 1\n',
      '---\n# c\n\n---\nb: 1\n',
      '---\n# c\n\n',
    ];
    for (const text of texts) assert.equal(agree(text), 'fast', JSON.stringify(text));
    const gap = fc.constantFrom('', '\n', '\n\n', '  \n', '# note\n', '\n# note\n\n');
    const doc = fc.constantFrom('a: 1\n', 'kind: Pod\nspec:\n  x: [1]\n', 'items:\n  - a\n', 'x: |\n  line\n', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(doc, gap), { minLength: 1, maxLength: 4 }), (parts) => {
        agree(parts.map(([d, g], i) => `${i ? '---\n' : ''}${d}${g}`).join(''));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves anchors, tags, folded and multi-line scalars, tabs, lone CRs and syntax errors to the library', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: >\n  folded\n',
      'a: one\n  two\n',
      'a:\tb\n',
      'a: 1\rb: 2\n',
      'a: 1\r\nb: x\ry\r\n',
      'a: [1,\n  2]\n',
      'a: "open\n',
      'a: 1\n  b: 2\n',
      '? complex\n: key\n',
      '%YAML 1.2\n---\na: 1\n',
      'a: 1\n...\n',
      '\ufeffa: 1\n',
    ]) {
      assert.equal(parseFastYaml('f', text), undefined, JSON.stringify(text));
      // …and the public reader still reads them (through the library).
      assert.ok(parseYamlFile('f', text));
    }
  });
});
