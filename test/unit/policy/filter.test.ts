import assert from 'node:assert/strict';
import { parsePodFilter } from '../../../src/core/policy/filter';
import { lab } from './lab';

describe('reach filters (kubectl selector syntax)', () => {
  const { topology } = lab('');
  const pick = (text: string): string[] | string => {
    const f = parsePodFilter(text);
    return 'error' in f ? f.error : topology.pods.filter(f.filter).map((p) => p.name);
  };
  const ROWS: readonly [string, string[]][] = [
    ['pod/prod/web', ['web']],
    ['pod/web', []], // default namespace
    ['ns/dev', ['tester', 'runner']],
    ['app=client', ['client', 'tester']],
    ['app==client', ['client', 'tester']],
    ['dev:app=client', ['tester']],
    ['*:app=client', ['client', 'tester']],
    ['app!=client,app', ['web', 'db', 'runner', 'agent']],
    ['!app', ['dns']],
    ['tier in (front,back)', ['web', 'db']],
    ['prod:tier notin (front)', ['db', 'client']],
  ];
  for (const [text, pods] of ROWS)
    it(`${text} -> ${pods.join(' ') || 'nothing'}`, () => assert.deepEqual(pick(text), pods));
  it('explains a term it cannot read', () => assert.match(String(pick('app=(x')), /is not a label selector term/));
});
