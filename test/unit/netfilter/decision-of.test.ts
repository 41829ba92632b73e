/**
 * A rule's decision is written as one literal per combination of its optional fields (src/core/netfilter/evaluate.ts,
 * `decisionOf`): it must be the object the conditional spreads made, with the same fields in the same order (a trace's
 * JSON shows them).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decisionOf } from '../../../src/core/netfilter/evaluate';
import type { Decision, DecisionEffect, TableName } from '../../../src/core/netfilter/types';
import type { Span } from '../../../src/core/problem';

describe("a rule's decision", () => {
  it('is the object the conditional spreads made, its fields in the same order', () => {
    fc.assert(
      fc.property(
        fc.record({
          table: fc.constantFrom<TableName>('raw', 'mangle', 'nat', 'filter'),
          chain: fc.constantFrom('KUBE-SERVICES', 'KUBE-SVC-ABC'),
          index: fc.integer({ min: 0, max: 40 }),
          text: fc.constantFrom('-A KUBE-SVC-ABC -j KUBE-SEP-XYZ', ''),
          span: fc.constantFrom<Span>(
            { file: 'netpath:rules', start: 3, end: 9 },
            { file: 'a.yaml', start: 0, end: 1 },
          ),
          matched: fc.boolean(),
          action: fc.constantFrom('jump KUBE-SEP-XYZ', 'statistic not chosen'),
          effect: fc.constantFrom<DecisionEffect>('jump', 'not-chosen', 'ACCEPT'),
          probability: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
          target: fc.option(fc.constantFrom('KUBE-SEP-XYZ'), { nil: undefined }),
        }),
        (x) => {
          const want: Decision = {
            table: x.table,
            chain: x.chain,
            ruleIndex: x.index,
            ruleText: x.text,
            span: x.span,
            matched: x.matched,
            action: x.action,
            effect: x.effect,
            ...(x.probability !== undefined ? { probability: x.probability } : {}),
            ...(x.target !== undefined ? { target: x.target } : {}),
          };
          const got = decisionOf(
            x.table,
            x.chain,
            x.index,
            { text: x.text, span: x.span },
            x.matched,
            x.action,
            x.effect,
            x.probability,
            x.target,
          );
          assert.deepStrictEqual(got, want);
          assert.deepEqual(Object.keys(got), Object.keys(want));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
