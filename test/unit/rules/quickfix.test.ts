/**
 * Quick fixes: for every fix of every diagnostic in the golden fixtures, apply its edits to the text,
 * analyse again, and check that the diagnostic is gone and that nothing new appeared (per code, the count
 * may only drop; the fixed code must drop).
 */
import assert from 'node:assert/strict';
import type { Problem, TextEdit } from '../../../src/core';
import { analyseCase, cases, textsOf } from './fixtures';

/** Applies edits to the texts they touch, from the end of each file backwards so offsets stay valid. */
export function applyEdits(texts: ReadonlyMap<string, string>, edits: readonly TextEdit[]): Map<string, string> {
  const out = new Map(texts);
  const byFile = new Map<string, TextEdit[]>();
  for (const e of edits) byFile.set(e.span.file, [...(byFile.get(e.span.file) ?? []), e]);
  for (const [file, list] of byFile) {
    let text = out.get(file);
    assert.ok(text !== undefined, `edit in a file that was not read: ${file}`);
    for (const e of [...list].sort((a, b) => b.span.start - a.span.start))
      text = text.slice(0, e.span.start) + e.newText + text.slice(e.span.end);
    out.set(file, text);
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

  for (const c of cases()) {
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
