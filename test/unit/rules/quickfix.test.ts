/**
 * Quick fixes: for every fix of every diagnostic in the golden fixtures, apply its edits to the text,
 * analyse again, and check that the diagnostic is gone and that nothing new appeared (per code, the count
 * may only drop; the fixed code must drop).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Problem, Span, TextEdit } from '../../../src/core';
import { analyseCase, applyEdits, cases, textsOf } from './fixtures';

const EXAMPLES = path.resolve(__dirname, '../../../examples');

/** Where the edits' new text lands in the edited files (offsets in the text after the edits). */
function writtenSpans(edits: readonly TextEdit[]): { file: string; start: number; end: number; edit: TextEdit }[] {
  const out: { file: string; start: number; end: number; edit: TextEdit }[] = [];
  const byFile = new Map<string, TextEdit[]>();
  for (const e of edits) byFile.set(e.span.file, [...(byFile.get(e.span.file) ?? []), e]);
  for (const [file, list] of byFile) {
    let delta = 0;
    for (const e of [...list].sort((a, b) => a.span.start - b.span.start)) {
      out.push({ file, start: e.span.start + delta, end: e.span.start + delta + e.newText.length, edit: e });
      delta += e.newText.length - (e.span.end - e.span.start);
    }
  }
  return out;
}

const counts = (ps: readonly Problem[]) => {
  const m = new Map<string, number>();
  for (const p of ps) m.set(p.code, (m.get(p.code) ?? 0) + 1);
  return m;
};

describe('rules: quick fixes', () => {
  const fixed = new Set<string>();

  // The bundled examples too: the walkthrough applies their quick fixes (examples/mistakes has five mistakes).
  const examples = fs
    .readdirSync(EXAMPLES)
    .filter((d) => fs.existsSync(path.join(EXAMPLES, d, 'cluster.netpath.yaml')))
    .map((d) => ({
      name: `examples/${d}`,
      dir: path.join(EXAMPLES, d),
      entries: [path.join(EXAMPLES, d, 'cluster.netpath.yaml')],
    }));
  for (const c of [...cases(), ...examples]) {
    it(`${c.name}: every fix removes its diagnostic and adds none`, async () => {
      const before = await analyseCase(c);
      const texts = textsOf(before);
      const beforeCounts = counts(before.diagnostics);
      for (const d of before.diagnostics) {
        for (const fix of d.fixes) {
          assert.ok(fix.edits.length > 0, `${d.code}: fix '${fix.title}' has no edits`);
          for (const e of fix.edits) assert.notEqual(e.span.file, '', `${d.code}: fix '${fix.title}' edits no file`);
          const after = await analyseCase(c, applyEdits(texts, fix.edits));
          const afterCounts = counts(after.diagnostics);
          const what = `${d.code} '${fix.title}' → ${after.diagnostics.map((x) => `${x.code}: ${x.message}`).join('\n')}`;
          assert.ok((afterCounts.get(d.code) ?? 0) < beforeCounts.get(d.code)!, `the diagnostic stays: ${what}`);
          for (const [code, n] of afterCounts)
            assert.ok(n <= (beforeCounts.get(code) ?? 0), `a new ${code} appeared: ${what}`);
          // A follow-on error: what the fix wrote is the subject of a diagnostic that was not there before, or
          // a range it wrote misses addresses that must be inside it (a Service range moved away from the cluster
          // IPs that belong in it leaves ip.outside-range pointing at the new range, even if they were outside
          // the old one too).
          const written = writtenSpans(fix.edits);
          const spansOf = (x: Problem) => [x.span, ...x.related.map((r) => r.span)];
          const meets = (a: Span, b: { file: string; start: number; end: number }) =>
            a.file === b.file && a.start < b.end && b.start < a.end;
          for (const x of after.diagnostics) {
            for (const w of written) {
              if (!spansOf(x).some((s) => meets(s, w))) continue;
              const already =
                x.code !== 'ip.outside-range' &&
                before.diagnostics.some((b) => b.code === x.code && spansOf(b).some((s) => meets(s, w.edit.span)));
              assert.ok(already, `${x.code} points at what the fix wrote: ${what}`);
            }
          }
          fixed.add(d.code);
        }
      }
    });
  }

  it('the fixtures exercise the fixes the issue asks for, and the obvious ones', () => {
    for (const code of [
      'cidr.host-bits',
      'cidr.overlap',
      'ip.outside-range',
      'ip.reserved',
      'service.nodeport-duplicate',
      'service.cluster-ip-duplicate',
      'nat.masquerade-all',
      'nat.pod-to-pod',
      'bridge.hairpin-off',
      'pod.host-network-ip',
      'service.target-port',
      'cidr.service-range-too-large',
    ]) {
      assert.ok(fixed.has(code), `no fixture exercises a quick fix of ${code}`);
    }
  });
});

describe('rules: a free address is free of every range that claims it', () => {
  it('ip.outside-range: a cluster IP moved into a Service range that overlaps the pods lands outside the pod CIDRs', async () => {
    const c = cases().find((x) => x.name === 'ip.outside-range/service-range-overlaps-pods');
    assert.ok(c, 'fixture missing');
    const before = await analyseCase(c);
    const d = before.diagnostics.find((x) => x.code === 'ip.outside-range');
    assert.ok(d && d.fixes.length === 1, before.diagnostics.map((x) => x.code).join(', '));
    const [edit] = d.fixes[0].edits;
    // 10.96.0.2 is the pod; the old fix took 10.96.0.3, an address of node1's pod CIDR 10.96.0.0/24 (and of the
    // cluster's 10.96.0.0/23): the first free one outside both is 10.96.2.0.
    assert.equal(edit.newText, '10.96.2.0');
    const after = await analyseCase(c, applyEdits(textsOf(before), d.fixes[0].edits));
    assert.deepEqual(
      after.diagnostics.map((x) => x.code),
      before.diagnostics.filter((x) => x !== d).map((x) => x.code),
      'linting again: only the overlap the fix does not touch remains',
    );
    assert.ok(after.topology.services[0].clusterIPs[0] === '10.96.2.0');
  });
});
