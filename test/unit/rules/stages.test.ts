/**
 * The analysis in two stages (AnalyseOptions.onModelStage): the editor publishes the model's problems and the rules
 * that read no data plane while the data plane's rules (the nat.* traces, most of an analysis) still run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, RULES, type Problem } from '../../../src/core';
import { takeWork, work } from '../../../src/core/work';

const file = path.join(__dirname, '../../../examples/mistakes/cluster.netpath.yaml');
const files = [{ path: file, text: fs.readFileSync(file, 'utf8') }];
const dataPlaneCodes = new Set(RULES.filter((r) => r.needs?.includes('dataplane')).map((r) => r.code));

describe('analysis stages', () => {
  it('hands over the model stage once, before the data plane is compiled, and it is part of the whole', () => {
    const stages: { diagnostics: readonly Problem[]; probes: number; routes: number }[] = [];
    takeWork();
    const analysis = analyse(files, {
      onModelStage: (diagnostics) => stages.push({ diagnostics, probes: work.probes, routes: work.routes }),
    });
    assert.equal(stages.length, 1);
    const [stage] = stages;
    assert.deepEqual({ probes: stage.probes, routes: stage.routes }, { probes: 0, routes: 0 }, 'nothing compiled yet');
    const early = stage.diagnostics.map((d) => d.code);
    // The example's mistakes of both kinds: a CIDR overlap and a hairpin-off bridge, a NAT violation.
    assert.ok(early.includes('cidr.overlap') && early.includes('ip.outside-range'), early.join());
    assert.deepEqual(
      early.filter((c) => dataPlaneCodes.has(c)),
      [],
      'no rule that reads the data plane is in the model stage',
    );
    const all = new Set(analysis.diagnostics);
    assert.ok(
      stage.diagnostics.every((d) => all.has(d)),
      'the model stage hands over the same objects the analysis lists',
    );
    const late = analysis.diagnostics.filter((d) => !stage.diagnostics.includes(d)).map((d) => d.code);
    assert.deepEqual([...new Set(late)].sort(), ['bridge.hairpin-off', 'nat.pod-to-pod']);
  });

  it('lists the same diagnostics, in the same order, with the stages as without', () => {
    const plain = analyse(files).diagnostics;
    const staged = analyse(files, { onModelStage: () => {} }).diagnostics;
    assert.deepEqual(staged, plain);
  });

  it('with every rule that reads the data plane off, the model stage is the whole analysis (this example)', () => {
    const severity = Object.fromEntries([...dataPlaneCodes].map((c) => [c, 'off' as const]));
    let early: readonly Problem[] = [];
    const analysis = analyse(files, { severity, onModelStage: (d) => (early = d) });
    assert.ok(analysis.diagnostics.length > 0);
    assert.deepEqual(new Set(analysis.diagnostics), new Set(early));
  });
});
