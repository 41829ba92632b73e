/**
 * The outline and CodeLens the editor gets with each analysis (src/vscode/features.ts): every endpoint's lenses in a
 * file of ordinary size, one Trace Packet lens in a file with more than MAX_LENSES_PER_FILE.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodePath from 'node:path';
import { analyse, loadTopologyFiles, traceLenses } from '../../../src/core';
import {
  fileFeatures,
  MAX_LENSES_PER_FILE,
  MAX_OUTLINE_SYMBOLS,
  traceLensesPlanned,
} from '../../../src/vscode/features';
import { kubernetesList, netpathCluster } from '../../../bench/cluster';
import { nodeFileHost } from '../../../src/cli/host';

function featuresOf(pods: number, nodes = 10) {
  const path = `/w/c${pods}.netpath.yaml`;
  const text = netpathCluster({ name: `c${pods}`, nodes, pods, services: 10 });
  return { text, features: fileFeatures(analyse([{ path, text }]), path) };
}

describe('editor: CodeLens and outline per file', () => {
  it('gives every pod and Service its trace lenses in a file of ordinary size', () => {
    const { features } = featuresOf(300);
    const traces = features.lenses.filter((l) => l.kind === 'trace');
    // From and to each pod and the external client, to each Service's one port.
    assert.equal(traces.length, 2 * 300 + 2 + 10);
    assert.ok(traces.some((l) => l.kind === 'trace' && l.from === 'pod/default/pod0'));
  });

  it('gives a file with more lenses than the limit one lens that asks for both ends; its outline lists every pod', () => {
    const pods = MAX_LENSES_PER_FILE; // two lenses per pod: twice the limit
    const { text, features } = featuresOf(pods);
    assert.equal(features.lenses.length, 1);
    const [lens] = features.lenses;
    assert.ok(lens.kind === 'trace' && lens.from === undefined && lens.to === undefined, 'Trace Packet asks for both');
    assert.match(
      lens.kind === 'trace' ? lens.title : '',
      /^Trace Packet… \(per-endpoint lenses are off: 4,012 in this file\)$/,
    );
    // Over the first pod's definition, where the per-endpoint lenses would start.
    assert.equal(text.slice(lens.span.start, lens.span.end), 'pod0');
    const podsGroup = features.symbols.flatMap((s) => s.children).find((s) => s.name === 'pods');
    assert.equal(podsGroup?.children.length, pods, 'the outline still lists every pod');
  });

  it('counts from the model exactly the lenses it would make, and finds the first (examples, both cluster formats)', async () => {
    const root = nodePath.resolve(__dirname, '../../../examples');
    const entries = fs
      .readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((n) => n.endsWith('.netpath.yaml'))
      .map((n) => nodePath.join(root, n));
    assert.ok(entries.length >= 10, 'the examples are found');
    const size = { name: 'c', nodes: 4, pods: 40, services: 5 };
    const topologies = [
      ...(await Promise.all(entries.map(async (e) => (await loadTopologyFiles([e], nodeFileHost)).files))),
      [{ path: '/w/c.netpath.yaml', text: netpathCluster(size) }],
      [{ path: '/w/c.yaml', text: kubernetesList(size) }],
    ];
    let lenses = 0;
    for (const files of topologies) {
      const a = analyse(files);
      for (const f of a.sources) {
        const made = traceLenses(a, f.path);
        const planned = traceLensesPlanned(a.topology, f.path);
        assert.equal(planned.count, made.length, `the lenses of ${f.path}`);
        assert.equal(planned.first?.start, made[0]?.span.start, `the first lens of ${f.path}`);
        lenses += made.length;
      }
    }
    assert.ok(lenses > 100, `the files have lenses to count (${lenses})`);
  });

  it('lists a large cluster in the outline without the members of a list over 1,000, and says so', () => {
    const { features } = featuresOf(6000, 30);
    const groups = features.symbols.flatMap((s) => s.children);
    const pods = groups.find((s) => s.name === 'pods');
    assert.equal(pods?.children.length, 0, 'the 6,000 pods are not listed one by one');
    assert.match(pods?.detail ?? '', /^6000, not listed: over 1,000$/);
    assert.equal(groups.find((s) => s.name === 'nodes')?.children.length, 30, 'the 30 nodes are still listed');
    const count = (xs: typeof features.symbols): number => xs.reduce((n, s) => n + 1 + count(s.children), 0);
    assert.ok(count(features.symbols) <= MAX_OUTLINE_SYMBOLS);
  });
});
