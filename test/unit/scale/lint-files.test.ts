import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { analyse, inventory, lintFiles, type SourceFile } from '../../../src/core';
import { parseYamlFile } from '../../../src/core/syntax/yaml';
import { RULES } from '../../../src/core/rules';
import { kubernetesList, netpathCluster } from '../../../bench/cluster';

/**
 * `lintFiles` (what `netpath lint` runs) lets the syntax trees go before the rules run, so it must answer exactly as
 * `analyse` does: the same diagnostics in the same order, and the same inventory of what the files hold.
 */
const ROOT = path.resolve(__dirname, '../../..');
const folder = (dir: string): SourceFile[] =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => ({ path: `${dir}/${f}`, text: fs.readFileSync(path.join(ROOT, dir, f), 'utf8') }));

const SIZE = { name: 'small', nodes: 4, pods: 40, services: 6 };
const CASES: [string, SourceFile[]][] = [
  ['examples/mistakes (five findings)', folder('examples/mistakes')],
  ['examples/kind-cluster-dump', folder('examples/kind-cluster-dump')],
  ['examples/network-policies', folder('examples/network-policies')],
  ['a kubectl List dump', [{ path: 'list.yaml', text: kubernetesList(SIZE) }]],
  ['a NetPath topology', [{ path: 'c.netpath.yaml', text: netpathCluster(SIZE) }]],
  [
    'files NetPath does not check',
    [
      {
        path: 'rbac.yaml',
        text: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: x}}\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n',
      },
    ],
  ],
];

describe('lintFiles: what netpath lint runs, without keeping the syntax trees', () => {
  for (const [name, files] of CASES) {
    it(`${name}: the diagnostics and inventory of analyse`, () => {
      const full = analyse(files);
      const lean = lintFiles(files);
      assert.deepEqual(lean.diagnostics, full.diagnostics);
      assert.deepEqual(inventory(lean.read), inventory(full.parsed));
      assert.deepEqual(
        lean.read.map((r) => r.file),
        full.parsed.map((p) => p.file),
      );
    });
  }

  it('counts every object of a file by kind, List items one by one', () => {
    const [, files] = CASES[CASES.length - 1];
    const read = inventory(lintFiles(files).read);
    assert.deepEqual(read, {
      files: 1,
      kinds: [
        { kind: 'ClusterRole', count: 1 },
        { kind: 'Namespace', count: 1 },
        { kind: 'Pod', count: 1 },
      ],
      analysed: 1,
    });
  });

  it('finds the mistakes example has errors (the comparison above is not between two empty lists)', () => {
    const { diagnostics } = lintFiles(folder('examples/mistakes'));
    assert.ok(diagnostics.filter((d) => d.severity === 'error').length >= 3);
  });

  it('holds no syntax tree while the rules run (a kubectl dump parses into many times its size)', () => {
    // A full collection before each reading, so the heap holds only what is reachable.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const files = [{ path: 'list.yaml', text: kubernetesList({ name: 'm', nodes: 60, pods: 3000, services: 60 }) }];
    gc();
    const before = process.memoryUsage().heapUsed;
    // Parsed in a function of its own, so nothing holds the trees once their size is read.
    const treeBytes = ((): number => {
      const trees = files.map((f) => parseYamlFile(f.path, f.text));
      gc();
      const bytes = process.memoryUsage().heapUsed - before;
      assert.equal(trees.length, 1);
      return bytes;
    })();
    // The heap as the first rule starts, read by wrapping that rule for the two runs.
    const first = RULES[0] as { run: (typeof RULES)[number]['run'] };
    const run = first.run;
    let during = 0;
    first.run = (ctx) => {
      gc();
      during = process.memoryUsage().heapUsed;
      return run(ctx);
    };
    try {
      analyse(files);
      const kept = during;
      lintFiles(files);
      const lean = during;
      assert.ok(treeBytes > 5e6, `the trees are large enough to tell (${treeBytes} bytes)`);
      assert.ok(
        kept - lean > treeBytes / 2,
        `lintFiles holds ${((kept - lean) / 1e6).toFixed(1)} MB less than analyse while the rules run; the trees are ${(treeBytes / 1e6).toFixed(1)} MB`,
      );
    } finally {
      first.run = run;
    }
  });
});
