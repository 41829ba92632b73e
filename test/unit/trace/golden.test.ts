/**
 * Golden traces: each folder of test/fixtures/traces holds a topology, a request (with a hand-written
 * `expect` summary: dispositions, reasons, probabilities, source seen) and the full expected trace JSON.
 * UPDATE_GOLDEN=1 rewrites expected.json (review the diff); the hand-written summary is never rewritten.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTopology } from '../../../src/core/model/build';
import { compileDataPlane } from '../../../src/core/dataplane';
import { traceFlow, type TraceRequest } from '../../../src/core/trace';

const ROOT = 'test/fixtures/traces';

interface Expect {
  readonly dispositions: string[];
  readonly reasons?: string[];
  readonly probabilities?: number[];
  readonly sourceSeen?: string[];
  readonly note?: string;
}

export function runCase(dir: string) {
  const file = path.join(dir, 'topology.yaml');
  const text = readFileSync(file, 'utf8');
  const request = JSON.parse(readFileSync(path.join(dir, 'request.json'), 'utf8')) as TraceRequest & { expect: Expect };
  const built = buildTopology([{ path: 'topology.yaml', text }]);
  const dp = compileDataPlane(built.topology, { files: new Map([['topology.yaml', text]]) });
  const { expect: _e, ...req } = request;
  return { request, outcome: traceFlow(built.topology, req, dp) };
}

describe('trace/golden', () => {
  const cases = readdirSync(ROOT).filter((d) => existsSync(path.join(ROOT, d, 'request.json'))).sort();
  it('has the cases the issue asks for', () => assert.ok(cases.length >= 20, `only ${cases.length} cases`));
  for (const name of cases) {
    it(name, () => {
      const dir = path.join(ROOT, name);
      const { request, outcome } = runCase(dir);
      assert.deepEqual(outcome.problems.filter((p) => p.severity === 'error'), []);
      const r = outcome.result!;
      assert.ok(r, JSON.stringify(outcome.problems));
      const e = request.expect;
      assert.deepEqual(r.paths.map((p) => p.disposition), e.dispositions, 'dispositions');
      if (e.reasons) assert.deepEqual(r.paths.map((p) => p.reason), e.reasons, 'reasons');
      if (e.probabilities) assert.deepEqual(r.paths.map((p) => p.probability), e.probabilities, 'probabilities');
      if (e.sourceSeen) assert.deepEqual(r.paths.map((p) => p.sourceSeen), e.sourceSeen, 'sourceSeen');
      assert.ok(Math.abs(r.paths.reduce((a, p) => a + p.probability, 0) - 1) < 1e-9, 'probabilities sum to 1');
      for (const p of r.paths) if (p.reply) assert.equal(p.reply.disposition, 'delivered', 'the reply gets back');
      const expectedFile = path.join(dir, 'expected.json');
      const actual = JSON.parse(JSON.stringify(r));
      if (process.env.UPDATE_GOLDEN || !existsSync(expectedFile)) writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      assert.deepEqual(actual, JSON.parse(readFileSync(expectedFile, 'utf8')));
    });
  }
});
