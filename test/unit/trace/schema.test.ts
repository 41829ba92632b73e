/**
 * The trace's JSON Schema (schemas/trace.schema.json): generated from src/core/trace/types.ts, it accepts every
 * golden trace (what `netpath trace --format json` prints) and refuses a step the union does not declare.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { traceSchema } from '../../../scripts/lib/trace-schema.mjs';
import { runCase } from './golden.test';

const ROOT = 'test/fixtures/traces';
const SCHEMA = 'schemas/trace.schema.json';
const shipped = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ strict: true, allErrors: true }).compile(shipped);
const errors = () => JSON.stringify(validate.errors?.slice(0, 5), null, 1);
const cases = readdirSync(ROOT)
  .filter((d) => existsSync(path.join(ROOT, d, 'expected.json')))
  .sort();

describe('trace/schema', () => {
  it('the shipped schema is generated from the trace types (run `npm run schema` when this fails)', function () {
    this.timeout(60000);
    assert.deepEqual(traceSchema(process.cwd()), shipped);
  });

  for (const name of cases)
    it(`accepts the golden trace ${name}, and the same trace with its reply`, () => {
      const expected: unknown = JSON.parse(readFileSync(path.join(ROOT, name, 'expected.json'), 'utf8'));
      assert.ok(validate(expected), errors());
      const withReply = runCase(path.join(ROOT, name), { reply: true }).outcome.result;
      assert.ok(withReply);
      assert.ok(validate(JSON.parse(JSON.stringify(withReply))), errors());
    });

  it('keeps every field of the first binding shape (issue 5): the JSON only grows', () => {
    type Def = { properties?: Record<string, unknown>; required?: string[] };
    const defs = shipped.definitions as Record<string, Def>;
    const has = (def: string, fields: string[]) =>
      assert.deepEqual(
        fields.filter((f) => !(f in (defs[def].properties ?? {}))),
        [],
        def,
      );
    has('TraceResult', ['flow', 'paths']);
    has('Flow', ['proto', 'src', 'sport', 'dst', 'dport']);
    has('TracePath', [
      'probability',
      'disposition',
      'reason',
      'delivered',
      'sourceSeen',
      'hops',
      'nat',
      'notes',
      'reply',
    ]);
    has('Hop', ['netns', 'device', 'dir', 'packet', 'steps']);
    has('HopPacket', ['src', 'sport', 'dst', 'dport', 'ttl']);
    has('NatEvent', ['type', 'reverse', 'netns', 'chain', 'rule', 'before', 'after']);
    has('Delivered', ['kind', 'name', 'container', 'ip', 'port']);
    const kinds = (defs.Step as { anyOf: { $ref: string }[] }).anyOf.map((r) => r.$ref.split('/').pop()!);
    assert.equal(kinds.length, 14);
    for (const k of kinds) {
      has(k, ['kind', 'detail']);
      assert.ok(defs[k].required?.includes('detail'), `${k}: detail is always there`);
    }
    has('RouteStep', ['route']);
    has('NetfilterStep', ['hook', 'table', 'chain', 'rule', 'file', 'start', 'end']);
    has('NatStep', ['chain', 'rule']);
    has('AffinityStep', ['chain', 'rule']);
  });

  it('refuses a step kind the union does not declare, and a declared kind without its typed fields', () => {
    const trace = JSON.parse(readFileSync(path.join(ROOT, 'pod-to-service', 'expected.json'), 'utf8')) as {
      paths: { hops: { steps: Record<string, unknown>[] }[] }[];
    };
    const steps = trace.paths[0].hops[0].steps;
    const original = steps[0];
    steps[0] = { kind: 'teleport', detail: 'beamed' };
    assert.equal(validate(trace), false);
    const { verdict: _v, ...noVerdict } = trace.paths[0].hops[1].steps.find((s) => s.kind === 'netfilter')!;
    steps[0] = noVerdict;
    assert.equal(validate(trace), false);
    steps[0] = { ...original, surprise: 1 };
    assert.equal(validate(trace), false, 'no undeclared field');
    steps[0] = original;
    assert.ok(validate(trace), errors());
  });
});
