/**
 * The topology view's data (src/vscode/view-data.ts summarise): every diagnostic is shown on the innermost element
 * whose YAML holds it, exactly as trying every element would place it, on the mistakes example and on a generated
 * 3,000-pod cluster with a diagnostic on a pod deep in the file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, type Analysis } from '../../../src/core';
import type { ElementDiagnostic, SpanRef } from '../../../src/protocol/messages';
import { summarise } from '../../../src/vscode/view-data';
import { netpathCluster } from '../../../bench/cluster';

const ROOT = path.resolve(__dirname, '../../..');

/** The reference: per element (by kind and name), the diagnostics whose span its span is the smallest to contain. */
function expected(analysis: Analysis): Map<string, string[]> {
  const t = analysis.topology;
  const elements: { key: string; span: SpanRef }[] = [
    ...t.nodes.map((n) => ({ key: `node ${n.name}`, span: n.span })),
    ...t.pods.map((p) => ({ key: `pod ${p.id}`, span: p.span })),
    ...t.services.map((s) => ({ key: `svc ${s.id}`, span: s.span })),
    ...t.externals.map((x) => ({ key: `external ${x.name}`, span: x.span })),
    ...t.networks.map((n) => ({ key: `net ${n.name}`, span: n.span })),
  ];
  const out = new Map<string, string[]>();
  for (const p of analysis.diagnostics) {
    const holders = elements.filter(
      (e) => e.span.file === p.span.file && e.span.start <= p.span.start && p.span.end <= e.span.end,
    );
    const best = holders.sort((a, b) => a.span.end - a.span.start - (b.span.end - b.span.start))[0];
    if (best) out.set(best.key, [...(out.get(best.key) ?? []), `${p.code}: ${p.message}`]);
  }
  return out;
}

function shown(analysis: Analysis): Map<string, string[]> {
  const s = summarise(analysis);
  const out = new Map<string, string[]>();
  const put = (key: string, problems: readonly ElementDiagnostic[] | undefined) => {
    if (problems?.length)
      out.set(
        key,
        problems.map((p) => `${p.code}: ${p.message}`),
      );
  };
  for (const n of s.nodes) put(`node ${n.name}`, n.problems);
  for (const p of s.pods) put(`pod ${p.id}`, p.problems);
  for (const x of s.services) put(`svc ${x.id}`, x.problems);
  for (const x of s.externals) put(`external ${x.name}`, x.problems);
  for (const n of s.networks) put(`net ${n.name}`, n.problems);
  return out;
}

const sorted = (m: Map<string, string[]>) => new Map([...m].sort(([a], [b]) => a.localeCompare(b)));

describe('topology view data: diagnostics on their elements', () => {
  it('places every diagnostic of the mistakes example on the innermost element that holds it', () => {
    const dir = path.join(ROOT, 'examples/mistakes');
    const analysis = analyse(
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => ({ path: `/work/mistakes/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') })),
    );
    const want = expected(analysis);
    assert.ok(want.size >= 3, `the example has diagnostics on several elements (${[...want.keys()].join(', ')})`);
    assert.deepEqual(sorted(shown(analysis)), sorted(want));
  });

  it('places a duplicated pod IP deep in a 3,000-pod file on the two pods', () => {
    const lines = netpathCluster({ name: 'views', nodes: 100, pods: 3000, services: 100 }).split('\n');
    const ips = lines.flatMap((l, i) => (/^ {4}ip: /.test(l) ? [i] : []));
    // The last pod takes the IP of the one before it.
    lines[ips[ips.length - 1]] = lines[ips[ips.length - 2]];
    const analysis = analyse([{ path: '/work/big.netpath.yaml', text: lines.join('\n') }]);
    const want = expected(analysis);
    const pods = [...want.keys()].filter((k) => k.startsWith('pod '));
    assert.ok(pods.length >= 1, `the duplicate is on a pod: ${[...want.keys()].join(', ')}`);
    assert.deepEqual(sorted(shown(analysis)), sorted(want));
  });
});
