/**
 * The candidate rules of an indexed chain are three sorted lists merged from a rule on (src/core/netfilter/evaluate.ts,
 * `mergedFrom`): the same values in the same order as the general merge it replaced, which picked, at each step, the
 * least head of the lists (the earliest list's on a tie).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergedFrom } from '../../../src/core/netfilter/evaluate';

/** The merge as it was written before: an array of lists and one of positions. */
function reference(lists: readonly (readonly number[])[], from: number): number[] {
  const at = lists.map((l) => {
    let k = 0;
    while (k < l.length && l[k] < from) k++;
    return k;
  });
  const out: number[] = [];
  for (;;) {
    let best = -1;
    for (let j = 0; j < lists.length; j++)
      if (at[j] < lists[j].length && (best < 0 || lists[j][at[j]] < lists[best][at[best]])) best = j;
    if (best < 0) return out;
    out.push(lists[best][at[best]++]);
  }
}

const sorted = fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 20 }).map((l) => l.sort((x, y) => x - y));

describe('the candidate rules of an indexed chain', () => {
  it('are the three lists merged from a rule on, as the general merge gives them', () => {
    fc.assert(
      fc.property(sorted, sorted, sorted, fc.integer({ min: 0, max: 64 }), (a, b, c, from) => {
        assert.deepEqual(mergedFrom(a, b, c, from), reference([a, b, c], from));
      }),
      { numRuns: 2000 },
    );
  });

  it('keep a rule in two lists twice, and give nothing past the lists', () => {
    assert.deepEqual(mergedFrom([1, 5], [5, 9], [0, 5], 0), [0, 1, 5, 5, 5, 9]);
    assert.deepEqual(mergedFrom([1, 5], [5, 9], [0, 5], 10), []);
    assert.deepEqual(mergedFrom([], [], [], 0), []);
  });
});
